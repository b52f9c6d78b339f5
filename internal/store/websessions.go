package store

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/parleyhq/parley/internal/eventlog"
	"github.com/parleyhq/parley/internal/team"
	"github.com/parleyhq/parley/internal/workspace"
)

// WebSession is a teammate's signed-in browser session (docs/web.md). The
// cookie value itself is never stored, only its hash.
type WebSession struct {
	TokenHash   string
	WorkspaceID string
	AdminID     int64
	CreatedAt   int64
	ExpiresAt   int64
}

// WebSessions stores the web app's sessions and the few admin changes the
// web app makes itself.
type WebSessions struct{ db *DB }

// NewWebSessions returns the web session store.
func NewWebSessions(db *DB) *WebSessions { return &WebSessions{db: db} }

// AdminsByEmail finds the teammates with this email (case-insensitive) in
// every workspace, oldest first.
func (s *WebSessions) AdminsByEmail(ctx context.Context, email string) ([]*workspace.Admin, error) {
	return queryAdmins(ctx, s.db.Read(), `WHERE LOWER(email) = ? ORDER BY id`, strings.ToLower(strings.TrimSpace(email)))
}

// Create stores a new session, removing expired ones on the way.
func (s *WebSessions) Create(ctx context.Context, sess *WebSession) error {
	return s.db.InTx(ctx, func(tx *Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM web_sessions WHERE expires_at < ?`, sess.CreatedAt); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO web_sessions (token_hash, workspace_id, admin_id, created_at, expires_at) VALUES (?, ?, ?, ?, ?)`,
			sess.TokenHash, sess.WorkspaceID, sess.AdminID, sess.CreatedAt, sess.ExpiresAt)
		return mapErr(err)
	})
}

// Get returns the session with this hash (expired or not: the caller
// decides); ErrNotFound when there is none.
func (s *WebSessions) Get(ctx context.Context, tokenHash string) (*WebSession, error) {
	sess := &WebSession{}
	err := s.db.Read().QueryRow(ctx, `SELECT token_hash, workspace_id, admin_id, created_at, expires_at FROM web_sessions WHERE token_hash = ?`, tokenHash).
		Scan(&sess.TokenHash, &sess.WorkspaceID, &sess.AdminID, &sess.CreatedAt, &sess.ExpiresAt)
	if err != nil {
		return nil, mapErr(err)
	}
	return sess, nil
}

// Delete removes a session (sign out).
func (s *WebSessions) Delete(ctx context.Context, tokenHash string) error {
	return s.db.InTx(ctx, func(tx *Tx) error {
		_, err := tx.Exec(ctx, `DELETE FROM web_sessions WHERE token_hash = ?`, tokenHash)
		return err
	})
}

// Tokens lists a workspace's live access tokens, oldest first.
func (s *WebSessions) Tokens(ctx context.Context, workspaceID string) ([]*workspace.Token, error) {
	rows, err := s.db.Read().Query(ctx, `SELECT id, workspace_id, COALESCE(admin_id, 0), name, created_at FROM access_tokens WHERE workspace_id = ? AND revoked_at IS NULL ORDER BY id`, workspaceID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*workspace.Token
	for rows.Next() {
		t := &workspace.Token{}
		if err := rows.Scan(&t.ID, &t.WorkspaceID, &t.AdminID, &t.Name, &t.CreatedAt); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, mapErr(rows.Err())
}

// RevokeToken revokes a workspace's access token; ErrNotFound when the
// workspace has no such live token.
func (s *WebSessions) RevokeToken(ctx context.Context, workspaceID string, id int64) error {
	return s.db.InTx(ctx, func(tx *Tx) error {
		res, err := tx.Exec(ctx, `UPDATE access_tokens SET revoked_at = ? WHERE workspace_id = ? AND id = ? AND revoked_at IS NULL`, time.Now().Unix(), workspaceID, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		return nil
	})
}

// SetAdminName renames a teammate and appends admin.updated with the admin
// object; ErrNotFound when the workspace has no such admin.
func (s *WebSessions) SetAdminName(ctx context.Context, workspaceID string, adminID int64, name string) (*workspace.Admin, error) {
	var a *workspace.Admin
	err := s.db.InTx(ctx, func(tx *Tx) (err error) {
		if _, err := tx.Exec(ctx, `UPDATE admins SET name = ? WHERE workspace_id = ? AND id = ?`, name, workspaceID, adminID); err != nil {
			return err
		}
		a, err = adminUpdatedIn(ctx, tx, workspaceID, adminID)
		return err
	})
	if errors.Is(err, ErrNotFound) {
		return nil, ErrNotFound
	}
	return a, err
}

// adminUpdatedIn reads a teammate changed in tx and appends admin.updated
// with it.
func adminUpdatedIn(ctx context.Context, tx *Tx, workspaceID string, adminID int64) (*workspace.Admin, error) {
	a, err := scanAdmin(tx.QueryRow(ctx, `SELECT `+adminCols+` FROM admins WHERE workspace_id = ? AND id = ?`, workspaceID, adminID))
	if err != nil {
		return nil, err
	}
	teams, err := adminTeamIDs(ctx, tx, workspaceID, adminID)
	if err != nil {
		return nil, err
	}
	_, err = eventlog.Append(ctx, tx, workspaceID, "admin.updated", team.Admin(a, teams[adminID]))
	return a, err
}
