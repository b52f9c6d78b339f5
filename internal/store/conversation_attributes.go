package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/parleyhq/parley/internal/conversation"
	"github.com/parleyhq/parley/internal/eventlog"
)

// ConversationAttributes stores the definitions of conversations' custom
// attributes. Changes append conversation_attribute.created|updated.
type ConversationAttributes struct{ db *DB }

// NewConversationAttributes returns the conversation attribute store.
func NewConversationAttributes(db *DB) *ConversationAttributes {
	return &ConversationAttributes{db: db}
}

const convAttrCols = `id, workspace_id, name, description, data_type, required, multiline, archived, visible_to_team_ids, options, admin_id, created_at, updated_at`

func scanConvAttr(row interface{ Scan(...any) error }) (*conversation.Attribute, error) {
	a := &conversation.Attribute{}
	var teams, options string
	var adminID *int64
	if err := row.Scan(&a.ID, &a.WorkspaceID, &a.Name, &a.Description, &a.DataType, &a.Required, &a.Multiline, &a.Archived,
		&teams, &options, &adminID, &a.CreatedAt, &a.UpdatedAt); err != nil {
		return nil, mapErr(err)
	}
	if err := json.Unmarshal([]byte(teams), &a.VisibleToTeamIDs); err != nil {
		return nil, fmt.Errorf("conversation attribute %d teams: %w", a.ID, err)
	}
	if err := json.Unmarshal([]byte(options), &a.Options); err != nil {
		return nil, fmt.Errorf("conversation attribute %d options: %w", a.ID, err)
	}
	if adminID != nil {
		a.AdminID = *adminID
	}
	return a, nil
}

// List returns a workspace's conversation attributes in id order.
func (s *ConversationAttributes) List(ctx context.Context, workspaceID string, includeArchived bool) ([]*conversation.Attribute, error) {
	return convAttrsIn(ctx, s.db.Read(), workspaceID, includeArchived)
}

func convAttrsIn(ctx context.Context, r Runner, workspaceID string, includeArchived bool) ([]*conversation.Attribute, error) {
	q, args := `SELECT `+convAttrCols+` FROM conversation_attributes WHERE workspace_id = ?`, []any{workspaceID}
	if !includeArchived {
		q += ` AND archived = ?`
		args = append(args, false)
	}
	rows, err := r.Query(ctx, q+` ORDER BY id`, args...)
	if err != nil {
		return nil, err
	}
	out := []*conversation.Attribute{}
	return out, eachRow(rows, func() error {
		a, err := scanConvAttr(rows)
		if err == nil {
			out = append(out, a)
		}
		return err
	})
}

// Get returns one attribute; ErrNotFound when the workspace has none with
// that id.
func (s *ConversationAttributes) Get(ctx context.Context, workspaceID string, id int64) (*conversation.Attribute, error) {
	return scanConvAttr(s.db.Read().QueryRow(ctx, `SELECT `+convAttrCols+` FROM conversation_attributes WHERE workspace_id = ? AND id = ?`, workspaceID, id))
}

// Create stores a new attribute (validated by the caller); a name the
// workspace already uses is ErrConflict.
func (s *ConversationAttributes) Create(ctx context.Context, a *conversation.Attribute) error {
	now := time.Now().Unix()
	a.CreatedAt, a.UpdatedAt = now, now
	return s.db.InTx(ctx, func(tx *Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO conversation_attributes (workspace_id, name, description, data_type, required, multiline, archived,
 visible_to_team_ids, options, admin_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			a.WorkspaceID, a.Name, a.Description, a.DataType, a.Required, a.Multiline, a.Archived,
			jsonText(nonNilStrings(a.VisibleToTeamIDs)), jsonText(nonNilOptions(a.Options)), nonZeroID(a.AdminID), now, now).Scan(&a.ID)
		if err != nil {
			return mapErr(err)
		}
		_, err = eventlog.Append(ctx, tx, a.WorkspaceID, "conversation_attribute.created", a)
		return err
	})
}

// Update applies change to an attribute in one transaction and appends
// conversation_attribute.updated. A renamed attribute whose new name is
// taken is ErrConflict.
func (s *ConversationAttributes) Update(ctx context.Context, workspaceID string, id int64, change func(a *conversation.Attribute) error) (*conversation.Attribute, error) {
	var a *conversation.Attribute
	err := s.db.InTx(ctx, func(tx *Tx) (err error) {
		a, err = scanConvAttr(tx.QueryRow(ctx, `SELECT `+convAttrCols+` FROM conversation_attributes WHERE workspace_id = ? AND id = ?`, workspaceID, id))
		if err != nil {
			return err
		}
		if err := change(a); err != nil {
			return err
		}
		a.UpdatedAt = time.Now().Unix()
		_, err = tx.Exec(ctx, `UPDATE conversation_attributes SET name = ?, description = ?, required = ?, multiline = ?, archived = ?,
 visible_to_team_ids = ?, options = ?, updated_at = ? WHERE workspace_id = ? AND id = ?`,
			a.Name, a.Description, a.Required, a.Multiline, a.Archived, jsonText(nonNilStrings(a.VisibleToTeamIDs)),
			jsonText(nonNilOptions(a.Options)), a.UpdatedAt, workspaceID, id)
		if err != nil {
			return mapErr(err)
		}
		_, err = eventlog.Append(ctx, tx, workspaceID, "conversation_attribute.updated", a)
		return err
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func nonNilOptions(o []conversation.AttrOption) []conversation.AttrOption {
	if o == nil {
		return []conversation.AttrOption{}
	}
	return o
}

func nonZeroID(id int64) *int64 {
	if id == 0 {
		return nil
	}
	return &id
}
