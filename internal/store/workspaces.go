package store

import (
	"context"
	"crypto/rand"
	"errors"
	"time"

	"github.com/parleyhq/parley/internal/workspace"
)

// Workspaces is the SQL implementation of workspace.Store.
type Workspaces struct{ db *DB }

// NewWorkspaces returns the workspace store.
func NewWorkspaces(db *DB) *Workspaces { return &Workspaces{db: db} }

var _ workspace.Store = (*Workspaces)(nil)

// newWorkspaceID returns an 8-character lowercase id like Intercom's app ids.
func newWorkspaceID() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	b[0] = alphabet[int(b[0])%26] // start with a letter
	return string(b)
}

const workspaceCols = `id, name, time_zone, created_at`

func scanWorkspace(row interface{ Scan(...any) error }) (*workspace.Workspace, error) {
	w := &workspace.Workspace{}
	if err := row.Scan(&w.ID, &w.Name, &w.TimeZone, &w.CreatedAt); err != nil {
		return nil, mapErr(err)
	}
	return w, nil
}

func (s *Workspaces) createIn(ctx context.Context, tx *Tx, name string, owner *workspace.Admin) (*workspace.Workspace, error) {
	w := &workspace.Workspace{ID: newWorkspaceID(), Name: name, TimeZone: "UTC", CreatedAt: time.Now().Unix()}
	if _, err := tx.Exec(ctx, `INSERT INTO workspaces (id, name, time_zone, created_at) VALUES (?, ?, ?, ?)`, w.ID, w.Name, w.TimeZone, w.CreatedAt); err != nil {
		return nil, err
	}
	if owner != nil {
		owner.WorkspaceID = w.ID
		owner.Role = workspace.RoleOwner
		owner.CreatedAt = w.CreatedAt
		err := tx.QueryRow(ctx, `INSERT INTO admins (workspace_id, name, email, password_hash, role, created_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
			w.ID, owner.Name, owner.Email, owner.PasswordHash, owner.Role, owner.CreatedAt).Scan(&owner.ID)
		if err != nil {
			return nil, mapErr(err)
		}
	}
	return w, nil
}

// Bootstrap implements workspace.Store.
func (s *Workspaces) Bootstrap(ctx context.Context, name string, owner *workspace.Admin) (*workspace.Workspace, bool, error) {
	var ws *workspace.Workspace
	created := false
	err := s.db.InTx(ctx, func(tx *Tx) error {
		w, err := scanWorkspace(tx.QueryRow(ctx, `SELECT `+workspaceCols+` FROM workspaces ORDER BY created_at, id LIMIT 1`))
		if err == nil {
			ws = w
			return nil
		}
		if !errors.Is(err, ErrNotFound) {
			return err
		}
		ws, err = s.createIn(ctx, tx, name, owner)
		created = err == nil
		return err
	})
	return ws, created, err
}

// CreateWorkspace implements workspace.Store.
func (s *Workspaces) CreateWorkspace(ctx context.Context, name string, owner *workspace.Admin) (*workspace.Workspace, error) {
	var ws *workspace.Workspace
	err := s.db.InTx(ctx, func(tx *Tx) (err error) {
		ws, err = s.createIn(ctx, tx, name, owner)
		return err
	})
	return ws, err
}

// Default implements workspace.Store: the oldest workspace.
func (s *Workspaces) Default(ctx context.Context) (*workspace.Workspace, error) {
	return scanWorkspace(s.db.Read().QueryRow(ctx, `SELECT `+workspaceCols+` FROM workspaces ORDER BY created_at, id LIMIT 1`))
}

// Workspace implements workspace.Store.
func (s *Workspaces) Workspace(ctx context.Context, id string) (*workspace.Workspace, error) {
	return scanWorkspace(s.db.Read().QueryRow(ctx, `SELECT `+workspaceCols+` FROM workspaces WHERE id = ?`, id))
}

const adminCols = `id, workspace_id, name, email, password_hash, role, COALESCE(job_title, ''), away_mode_enabled, away_mode_reassign, COALESCE(avatar, ''), created_at`

func scanAdmin(row interface{ Scan(...any) error }) (*workspace.Admin, error) {
	a := &workspace.Admin{}
	err := row.Scan(&a.ID, &a.WorkspaceID, &a.Name, &a.Email, &a.PasswordHash, &a.Role, &a.JobTitle, &a.AwayModeEnabled, &a.AwayModeReassign, &a.Avatar, &a.CreatedAt)
	if err != nil {
		return nil, mapErr(err)
	}
	return a, nil
}

// Admin implements workspace.Store.
func (s *Workspaces) Admin(ctx context.Context, workspaceID string, id int64) (*workspace.Admin, error) {
	return scanAdmin(s.db.Read().QueryRow(ctx, `SELECT `+adminCols+` FROM admins WHERE workspace_id = ? AND id = ?`, workspaceID, id))
}

// Owner implements workspace.Store.
func (s *Workspaces) Owner(ctx context.Context, workspaceID string) (*workspace.Admin, error) {
	return scanAdmin(s.db.Read().QueryRow(ctx, `SELECT `+adminCols+` FROM admins WHERE workspace_id = ? AND role = 'owner' ORDER BY id LIMIT 1`, workspaceID))
}

// Admins implements workspace.Store.
func (s *Workspaces) Admins(ctx context.Context, workspaceID string) ([]*workspace.Admin, error) {
	return queryAdmins(ctx, s.db.Read(), `WHERE workspace_id = ? AND removed_at IS NULL ORDER BY id`, workspaceID)
}

// queryAdmins lists the admins a WHERE … ORDER BY clause selects.
func queryAdmins(ctx context.Context, r *Reader, where string, args ...any) ([]*workspace.Admin, error) {
	rows, err := r.Query(ctx, `SELECT `+adminCols+` FROM admins `+where, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*workspace.Admin
	for rows.Next() {
		a, err := scanAdmin(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, mapErr(rows.Err())
}

// CreateToken implements workspace.Store.
func (s *Workspaces) CreateToken(ctx context.Context, workspaceID string, adminID int64, name, tokenHash string) (*workspace.Token, error) {
	t := &workspace.Token{WorkspaceID: workspaceID, AdminID: adminID, Name: name, CreatedAt: time.Now().Unix()}
	err := s.db.InTx(ctx, func(tx *Tx) error {
		return mapErr(tx.QueryRow(ctx, `INSERT INTO access_tokens (workspace_id, admin_id, name, token_hash, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id`,
			workspaceID, adminID, name, tokenHash, t.CreatedAt).Scan(&t.ID))
	})
	return t, err
}

// EnsureToken implements workspace.Store.
func (s *Workspaces) EnsureToken(ctx context.Context, workspaceID string, adminID int64, name, tokenHash string) error {
	return s.db.InTx(ctx, func(tx *Tx) error {
		var ws string
		err := tx.QueryRow(ctx, `SELECT workspace_id FROM access_tokens WHERE token_hash = ?`, tokenHash).Scan(&ws)
		switch {
		case err == nil && ws == workspaceID:
			_, err = tx.Exec(ctx, `UPDATE access_tokens SET revoked_at = NULL WHERE token_hash = ?`, tokenHash)
			return err
		case err == nil:
			return errors.New("bootstrap token already belongs to another workspace")
		case !errors.Is(mapErr(err), ErrNotFound):
			return mapErr(err)
		}
		_, err = tx.Exec(ctx, `INSERT INTO access_tokens (workspace_id, admin_id, name, token_hash, created_at) VALUES (?, ?, ?, ?, ?)`,
			workspaceID, adminID, name, tokenHash, time.Now().Unix())
		return err
	})
}

// TokenByHash implements workspace.Store.
func (s *Workspaces) TokenByHash(ctx context.Context, tokenHash string) (*workspace.Token, error) {
	t := &workspace.Token{}
	var adminID *int64
	err := s.db.Read().QueryRow(ctx, `SELECT id, workspace_id, admin_id, name, created_at FROM access_tokens WHERE token_hash = ? AND revoked_at IS NULL`, tokenHash).
		Scan(&t.ID, &t.WorkspaceID, &adminID, &t.Name, &t.CreatedAt)
	if err != nil {
		return nil, mapErr(err)
	}
	if adminID != nil {
		t.AdminID = *adminID
	}
	return t, nil
}
