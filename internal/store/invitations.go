package store

import (
	"context"
	"errors"
	"strings"

	"github.com/parleyhq/parley/internal/eventlog"
	"github.com/parleyhq/parley/internal/team"
	"github.com/parleyhq/parley/internal/workspace"
)

// Invitation is a pending invite of a teammate (docs/web.md). Only the
// hash of the emailed token is stored.
type Invitation struct {
	TokenHash   string
	WorkspaceID string
	Name        string
	Email       string
	Role        string
	InvitedBy   int64
	CreatedAt   int64
	ExpiresAt   int64
	AcceptedAt  int64
}

// Errors of single-use tokens.
var (
	ErrTokenUsed    = errors.New("store: token already used")
	ErrTokenExpired = errors.New("store: token expired")
	ErrAdminExists  = errors.New("store: a teammate of the workspace has this email")
)

// Accounts stores invitations and password resets.
type Accounts struct{ db *DB }

// NewAccounts returns the invitation and password reset store.
func NewAccounts(db *DB) *Accounts { return &Accounts{db: db} }

func adminWithEmail(ctx context.Context, tx *Tx, workspaceID, email string) (bool, error) {
	var n int
	err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM admins WHERE workspace_id = ? AND LOWER(email) = ?`, workspaceID, strings.ToLower(email)).Scan(&n)
	return n > 0, mapErr(err)
}

// CreateInvitation stores an invitation; ErrAdminExists when the
// workspace already has a teammate with the email.
func (s *Accounts) CreateInvitation(ctx context.Context, inv *Invitation) error {
	return s.db.InTx(ctx, func(tx *Tx) error {
		if exists, err := adminWithEmail(ctx, tx, inv.WorkspaceID, inv.Email); err != nil {
			return err
		} else if exists {
			return ErrAdminExists
		}
		_, err := tx.Exec(ctx, `INSERT INTO invitations (token_hash, workspace_id, name, email, role, invited_by, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			inv.TokenHash, inv.WorkspaceID, inv.Name, inv.Email, inv.Role, inv.InvitedBy, inv.CreatedAt, inv.ExpiresAt)
		return mapErr(err)
	})
}

// Invitation returns the invitation with this token hash; ErrNotFound,
// ErrTokenUsed or ErrTokenExpired (with the invitation) when it cannot be
// accepted at now.
func (s *Accounts) Invitation(ctx context.Context, tokenHash string, now int64) (*Invitation, error) {
	inv, err := scanInvitation(s.db.Read().QueryRow(ctx, `SELECT `+invitationCols+` FROM invitations WHERE token_hash = ?`, tokenHash))
	if err != nil {
		return nil, err
	}
	return inv, inv.usable(now)
}

const invitationCols = `token_hash, workspace_id, name, email, role, invited_by, created_at, expires_at, COALESCE(accepted_at, 0)`

func scanInvitation(row interface{ Scan(...any) error }) (*Invitation, error) {
	i := &Invitation{}
	if err := row.Scan(&i.TokenHash, &i.WorkspaceID, &i.Name, &i.Email, &i.Role, &i.InvitedBy, &i.CreatedAt, &i.ExpiresAt, &i.AcceptedAt); err != nil {
		return nil, mapErr(err)
	}
	return i, nil
}

func (i *Invitation) usable(now int64) error {
	switch {
	case i.AcceptedAt != 0:
		return ErrTokenUsed
	case now >= i.ExpiresAt:
		return ErrTokenExpired
	}
	return nil
}

// AcceptInvitation creates the invited teammate with the password hash,
// marks the invitation used and appends admin.created, in one transaction.
func (s *Accounts) AcceptInvitation(ctx context.Context, tokenHash, passwordHash string, now int64) (*workspace.Admin, error) {
	var a *workspace.Admin
	err := s.db.InTx(ctx, func(tx *Tx) error {
		inv, err := scanInvitation(tx.QueryRow(ctx, `SELECT `+invitationCols+` FROM invitations WHERE token_hash = ?`, tokenHash))
		if err != nil {
			return err
		}
		if err := inv.usable(now); err != nil {
			return err
		}
		res, err := tx.Exec(ctx, `UPDATE invitations SET accepted_at = ? WHERE token_hash = ? AND accepted_at IS NULL`, now, tokenHash)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrTokenUsed
		}
		if exists, err := adminWithEmail(ctx, tx, inv.WorkspaceID, inv.Email); err != nil {
			return err
		} else if exists {
			return ErrAdminExists
		}
		var id int64
		if err := tx.QueryRow(ctx, `INSERT INTO admins (workspace_id, name, email, password_hash, role, created_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
			inv.WorkspaceID, inv.Name, inv.Email, passwordHash, inv.Role, now).Scan(&id); err != nil {
			return mapErr(err)
		}
		a, err = scanAdmin(tx.QueryRow(ctx, `SELECT `+adminCols+` FROM admins WHERE workspace_id = ? AND id = ?`, inv.WorkspaceID, id))
		if err != nil {
			return err
		}
		_, err = eventlog.Append(ctx, tx, inv.WorkspaceID, "admin.created", team.Admin(a, nil))
		return err
	})
	return a, err
}

// CreateReset stores a password reset token for a teammate.
func (s *Accounts) CreateReset(ctx context.Context, workspaceID string, adminID int64, tokenHash string, now, expires int64) error {
	return s.db.InTx(ctx, func(tx *Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO password_resets (token_hash, workspace_id, admin_id, created_at, expires_at) VALUES (?, ?, ?, ?, ?)`,
			tokenHash, workspaceID, adminID, now, expires)
		return mapErr(err)
	})
}

// ResetAdmin returns the teammate a usable reset token is for; ErrNotFound,
// ErrTokenUsed or ErrTokenExpired otherwise.
func (s *Accounts) ResetAdmin(ctx context.Context, tokenHash string, now int64) (*workspace.Admin, error) {
	var ws string
	var admin, expires, used int64
	err := s.db.Read().QueryRow(ctx, `SELECT workspace_id, admin_id, expires_at, COALESCE(used_at, 0) FROM password_resets WHERE token_hash = ?`, tokenHash).
		Scan(&ws, &admin, &expires, &used)
	if err != nil {
		return nil, mapErr(err)
	}
	if used != 0 {
		return nil, ErrTokenUsed
	}
	if now >= expires {
		return nil, ErrTokenExpired
	}
	return scanAdmin(s.db.Read().QueryRow(ctx, `SELECT `+adminCols+` FROM admins WHERE workspace_id = ? AND id = ?`, ws, admin))
}

// ResetPassword sets the teammate's password from a usable reset token,
// marks it (and the teammate's other reset tokens) used and deletes every
// web session of the teammate, in one transaction.
func (s *Accounts) ResetPassword(ctx context.Context, tokenHash, passwordHash string, now int64) (*workspace.Admin, error) {
	var a *workspace.Admin
	err := s.db.InTx(ctx, func(tx *Tx) error {
		var ws string
		var admin, expires, used int64
		err := tx.QueryRow(ctx, `SELECT workspace_id, admin_id, expires_at, COALESCE(used_at, 0) FROM password_resets WHERE token_hash = ?`, tokenHash).
			Scan(&ws, &admin, &expires, &used)
		if err != nil {
			return mapErr(err)
		}
		if used != 0 {
			return ErrTokenUsed
		}
		if now >= expires {
			return ErrTokenExpired
		}
		res, err := tx.Exec(ctx, `UPDATE password_resets SET used_at = ? WHERE workspace_id = ? AND admin_id = ? AND used_at IS NULL`, now, ws, admin)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrTokenUsed
		}
		if _, err := tx.Exec(ctx, `UPDATE admins SET password_hash = ? WHERE workspace_id = ? AND id = ?`, passwordHash, ws, admin); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM web_sessions WHERE workspace_id = ? AND admin_id = ?`, ws, admin); err != nil {
			return err
		}
		a, err = scanAdmin(tx.QueryRow(ctx, `SELECT `+adminCols+` FROM admins WHERE workspace_id = ? AND id = ?`, ws, admin))
		return err
	})
	return a, err
}
