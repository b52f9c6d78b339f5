package store

import (
	"context"
	"time"

	"github.com/parleyhq/parley/internal/eventlog"
)

// SavedReply is a workspace's canned answer that teammates insert in the
// composer (docs/web.md "Saved replies"). Changes append
// saved_reply.created|updated|deleted.
type SavedReply struct {
	ID          int64  `json:"id"`
	WorkspaceID string `json:"-"`
	Name        string `json:"name"`
	Body        string `json:"body"`
	CreatedBy   int64  `json:"created_by"`
	CreatedAt   int64  `json:"created_at"`
	UpdatedAt   int64  `json:"updated_at"`
}

// SavedReplies stores saved replies.
type SavedReplies struct{ db *DB }

// NewSavedReplies returns the saved reply store.
func NewSavedReplies(db *DB) *SavedReplies { return &SavedReplies{db: db} }

const savedReplyCols = `id, workspace_id, name, body, created_by, created_at, updated_at`

func scanSavedReply(row interface{ Scan(...any) error }) (*SavedReply, error) {
	r := &SavedReply{}
	err := row.Scan(&r.ID, &r.WorkspaceID, &r.Name, &r.Body, &r.CreatedBy, &r.CreatedAt, &r.UpdatedAt)
	return r, mapErr(err)
}

// List returns the workspace's saved replies by name.
func (s *SavedReplies) List(ctx context.Context, workspaceID string) ([]*SavedReply, error) {
	rows, err := s.db.Read().Query(ctx, `SELECT `+savedReplyCols+` FROM saved_replies WHERE workspace_id = ? ORDER BY name, id`, workspaceID)
	if err != nil {
		return nil, err
	}
	var out []*SavedReply
	return out, eachRow(rows, func() error {
		r, err := scanSavedReply(rows)
		out = append(out, r)
		return err
	})
}

// Get returns one saved reply; ErrNotFound when the workspace has none
// with that id.
func (s *SavedReplies) Get(ctx context.Context, workspaceID string, id int64) (*SavedReply, error) {
	return scanSavedReply(s.db.Read().QueryRow(ctx, `SELECT `+savedReplyCols+` FROM saved_replies WHERE workspace_id = ? AND id = ?`, workspaceID, id))
}

// Save creates r (ID 0) or updates its name and body; a name the
// workspace already uses is ErrConflict, an unknown id ErrNotFound.
func (s *SavedReplies) Save(ctx context.Context, r *SavedReply) error {
	now := time.Now().Unix()
	return s.db.InTx(ctx, func(tx *Tx) error {
		topic := "saved_reply.updated"
		if r.ID == 0 {
			topic = "saved_reply.created"
			r.CreatedAt = now
			if err := tx.QueryRow(ctx, `INSERT INTO saved_replies (workspace_id, name, body, created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
				r.WorkspaceID, r.Name, r.Body, r.CreatedBy, now, now).Scan(&r.ID); err != nil {
				return mapErr(err)
			}
		} else {
			res, err := tx.Exec(ctx, `UPDATE saved_replies SET name = ?, body = ?, updated_at = ? WHERE workspace_id = ? AND id = ?`, r.Name, r.Body, now, r.WorkspaceID, r.ID)
			if err != nil {
				return mapErr(err)
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return ErrNotFound
			}
		}
		r.UpdatedAt = now
		_, err := eventlog.Append(ctx, tx, r.WorkspaceID, topic, r)
		return err
	})
}

// Delete removes a saved reply and appends saved_reply.deleted.
func (s *SavedReplies) Delete(ctx context.Context, workspaceID string, id int64) error {
	return s.db.InTx(ctx, func(tx *Tx) error {
		r, err := scanSavedReply(tx.QueryRow(ctx, `SELECT `+savedReplyCols+` FROM saved_replies WHERE workspace_id = ? AND id = ?`, workspaceID, id))
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM saved_replies WHERE workspace_id = ? AND id = ?`, workspaceID, id); err != nil {
			return err
		}
		_, err = eventlog.Append(ctx, tx, workspaceID, "saved_reply.deleted", r)
		return err
	})
}

// InboxView is a teammate's custom inbox view: a named conversation
// filter (the filter language's JSON). Changes append
// inbox_view.created|deleted.
type InboxView struct {
	ID          int64  `json:"id"`
	WorkspaceID string `json:"-"`
	AdminID     int64  `json:"admin_id"`
	Name        string `json:"name"`
	Filter      string `json:"filter"`
	CreatedAt   int64  `json:"created_at"`
}

// InboxViews lists a teammate's custom views in the order they were made.
func (s *SavedReplies) InboxViews(ctx context.Context, workspaceID string, adminID int64) ([]*InboxView, error) {
	rows, err := s.db.Read().Query(ctx, `SELECT id, workspace_id, admin_id, name, filter, created_at FROM inbox_views WHERE workspace_id = ? AND admin_id = ? ORDER BY id`,
		workspaceID, adminID)
	if err != nil {
		return nil, err
	}
	var out []*InboxView
	return out, eachRow(rows, func() error {
		v := &InboxView{}
		err := rows.Scan(&v.ID, &v.WorkspaceID, &v.AdminID, &v.Name, &v.Filter, &v.CreatedAt)
		out = append(out, v)
		return err
	})
}

// CreateInboxView stores a teammate's view (filter validated by the caller).
func (s *SavedReplies) CreateInboxView(ctx context.Context, v *InboxView) error {
	v.CreatedAt = time.Now().Unix()
	return s.db.InTx(ctx, func(tx *Tx) error {
		if err := tx.QueryRow(ctx, `INSERT INTO inbox_views (workspace_id, admin_id, name, filter, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id`,
			v.WorkspaceID, v.AdminID, v.Name, v.Filter, v.CreatedAt).Scan(&v.ID); err != nil {
			return mapErr(err)
		}
		_, err := eventlog.Append(ctx, tx, v.WorkspaceID, "inbox_view.created", v)
		return err
	})
}

// DeleteInboxView removes one of the teammate's views.
func (s *SavedReplies) DeleteInboxView(ctx context.Context, workspaceID string, adminID, id int64) error {
	return s.db.InTx(ctx, func(tx *Tx) error {
		res, err := tx.Exec(ctx, `DELETE FROM inbox_views WHERE workspace_id = ? AND admin_id = ? AND id = ?`, workspaceID, adminID, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		_, err = eventlog.Append(ctx, tx, workspaceID, "inbox_view.deleted", map[string]any{"id": id, "admin_id": adminID})
		return err
	})
}
