package store

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/parleyhq/parley/internal/eventlog"
	"github.com/parleyhq/parley/internal/team"
	"github.com/parleyhq/parley/internal/workspace"
)

// Store functions of the web app's settings pages (docs/web.md,
// "Settings"): the workspace's name and time zone, teammates' roles and
// removal, pending invitations.

// WorkspaceEvent is the item of workspace.updated.
type WorkspaceEvent struct {
	Type     string `json:"type"`
	ID       string `json:"id_code"`
	Name     string `json:"name"`
	TimeZone string `json:"timezone"`
}

// UpdateWorkspace sets a workspace's name and time zone (validated by the
// caller) and appends workspace.updated, the app object's fields as GET /me
// shows them.
func (s *Workspaces) UpdateWorkspace(ctx context.Context, id, name, timeZone string) (*workspace.Workspace, error) {
	var w *workspace.Workspace
	err := s.db.InTx(ctx, func(tx *Tx) (err error) {
		res, err := tx.Exec(ctx, `UPDATE workspaces SET name = ?, time_zone = ? WHERE id = ?`, name, timeZone, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		if w, err = scanWorkspace(tx.QueryRow(ctx, `SELECT `+workspaceCols+` FROM workspaces WHERE id = ?`, id)); err != nil {
			return err
		}
		_, err = eventlog.Append(ctx, tx, id, "workspace.updated", WorkspaceEvent{Type: "app", ID: w.ID, Name: w.Name, TimeZone: w.TimeZone})
		return err
	})
	return w, err
}

// ErrLastOwner refuses to demote or remove a workspace's only owner.
var ErrLastOwner = errors.New("store: the workspace's last owner")

// adminIn reads one admin of the workspace in tx; *MissingError "admin"
// when there is none.
func adminIn(ctx context.Context, tx *Tx, workspaceID string, id int64) (*workspace.Admin, error) {
	a, err := scanAdmin(tx.QueryRow(ctx, `SELECT `+adminCols+` FROM admins WHERE workspace_id = ? AND id = ?`, workspaceID, id))
	if errors.Is(err, ErrNotFound) {
		return nil, &MissingError{Kind: "admin"}
	}
	return a, err
}

// keepOwner is ErrLastOwner when a is the workspace's only owner.
func keepOwner(ctx context.Context, tx *Tx, a *workspace.Admin) error {
	if a.Role != workspace.RoleOwner {
		return nil
	}
	var n int
	err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM admins WHERE workspace_id = ? AND role = 'owner' AND id <> ? AND removed_at IS NULL`, a.WorkspaceID, a.ID).Scan(&n)
	if err == nil && n == 0 {
		return ErrLastOwner
	}
	return mapErr(err)
}

// SetRole changes a teammate's role and appends admin.updated. Demoting
// the last owner is ErrLastOwner; the caller checks who may grant what.
func (s *Teams) SetRole(ctx context.Context, workspaceID string, adminID int64, role string) (*workspace.Admin, error) {
	var a *workspace.Admin
	err := s.db.InTx(ctx, func(tx *Tx) (err error) {
		if a, err = adminIn(ctx, tx, workspaceID, adminID); err != nil {
			return err
		}
		if a.Role == role {
			return nil
		}
		if err := keepOwner(ctx, tx, a); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE admins SET role = ? WHERE workspace_id = ? AND id = ?`, role, workspaceID, adminID); err != nil {
			return err
		}
		a.Role = role
		teams, err := adminTeamIDs(ctx, tx, workspaceID, adminID)
		if err != nil {
			return err
		}
		_, err = eventlog.Append(ctx, tx, workspaceID, "admin.updated", team.Admin(a, teams[adminID]))
		return err
	})
	return a, err
}

// AdminInUseError refuses to remove a teammate whom assignment rules
// assign conversations to.
type AdminInUseError struct{ Rules []string }

func (e *AdminInUseError) Error() string {
	return "assignment rules assign to this teammate: " + strings.Join(e.Rules, ", ")
}

// RemoveAdmin removes a teammate from the workspace in one transaction:
// their web sessions and password reset links are deleted and their access
// tokens revoked (so they are signed out at once), they leave every team,
// their open conversations go back through their teams' distribution (or
// are unassigned) as away-with-reassign does, and admin.deleted is
// appended. The row stays, marked removed, because conversation parts and
// notes keep naming their author. The last owner is ErrLastOwner; a
// teammate assignment rules name is *AdminInUseError.
func (s *Teams) RemoveAdmin(ctx context.Context, workspaceID string, adminID int64) (*workspace.Admin, error) {
	var a *workspace.Admin
	err := s.db.InTx(ctx, func(tx *Tx) (err error) {
		if a, err = adminIn(ctx, tx, workspaceID, adminID); err != nil {
			return err
		}
		if err := keepOwner(ctx, tx, a); err != nil {
			return err
		}
		if rules, err := rulesUsing(ctx, tx, workspaceID, "admin_id", adminID); err != nil {
			return err
		} else if len(rules) > 0 {
			return &AdminInUseError{Rules: rules}
		}
		teams, err := adminTeamIDs(ctx, tx, workspaceID, adminID)
		if err != nil {
			return err
		}
		// Leave the teams and go away first, so the distribution that takes
		// the open conversations back never picks this teammate again.
		if _, err := tx.Exec(ctx, `DELETE FROM team_members WHERE workspace_id = ? AND admin_id = ?`, workspaceID, adminID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE admins SET away_mode_enabled = ? WHERE workspace_id = ? AND id = ?`, true, workspaceID, adminID); err != nil {
			return err
		}
		if _, err := s.Engine(tx).Release(ctx, workspaceID, adminID); err != nil {
			return err
		}
		now := time.Now().Unix()
		for _, q := range []string{
			`DELETE FROM web_sessions WHERE workspace_id = ? AND admin_id = ?`,
			`DELETE FROM password_resets WHERE workspace_id = ? AND admin_id = ?`,
		} {
			if _, err := tx.Exec(ctx, q, workspaceID, adminID); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `UPDATE access_tokens SET revoked_at = ? WHERE workspace_id = ? AND admin_id = ? AND revoked_at IS NULL`, now, workspaceID, adminID); err != nil {
			return err
		}
		// The email is freed (a removed teammate can be invited again):
		// the row keeps a unique placeholder.
		if _, err := tx.Exec(ctx, `UPDATE admins SET removed_at = ?, password_hash = '', email = ? WHERE workspace_id = ? AND id = ?`,
			now, "removed-"+strconv.FormatInt(adminID, 10)+removedDomain, workspaceID, adminID); err != nil {
			return err
		}
		_, err = eventlog.Append(ctx, tx, workspaceID, "admin.deleted", team.Admin(a, teams[adminID]))
		return err
	})
	return a, err
}

// removedDomain ends the placeholder email of a removed teammate.
const removedDomain = "@removed.invalid"

// Removed reports whether a was removed from the workspace (RemoveAdmin).
func Removed(a *workspace.Admin) bool { return strings.HasSuffix(a.Email, removedDomain) }

// PendingInvitations lists the workspace's invitations not yet accepted,
// newest first (expired ones too, to resend or withdraw).
func (s *Accounts) PendingInvitations(ctx context.Context, workspaceID string) ([]*Invitation, error) {
	rows, err := s.db.Read().Query(ctx, `SELECT `+invitationCols+` FROM invitations WHERE workspace_id = ? AND accepted_at IS NULL ORDER BY created_at DESC, email`, workspaceID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*Invitation
	for rows.Next() {
		inv, err := scanInvitation(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, inv)
	}
	return out, mapErr(rows.Err())
}

// WithdrawInvitation deletes a pending invitation: its link stops working.
// ErrNotFound when the workspace has no such pending invitation.
func (s *Accounts) WithdrawInvitation(ctx context.Context, workspaceID, tokenHash string) error {
	return s.db.InTx(ctx, func(tx *Tx) error {
		res, err := tx.Exec(ctx, `DELETE FROM invitations WHERE workspace_id = ? AND token_hash = ? AND accepted_at IS NULL`, workspaceID, tokenHash)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		return nil
	})
}

// RenewInvitation gives a pending invitation a new token (the old link
// stops working) and a new expiry, and returns it. ErrNotFound when the
// workspace has no such pending invitation.
func (s *Accounts) RenewInvitation(ctx context.Context, workspaceID, oldHash, newHash string, now, expires int64) (*Invitation, error) {
	var inv *Invitation
	err := s.db.InTx(ctx, func(tx *Tx) (err error) {
		res, err := tx.Exec(ctx, `UPDATE invitations SET token_hash = ?, created_at = ?, expires_at = ? WHERE workspace_id = ? AND token_hash = ? AND accepted_at IS NULL`,
			newHash, now, expires, workspaceID, oldHash)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		inv, err = scanInvitation(tx.QueryRow(ctx, `SELECT `+invitationCols+` FROM invitations WHERE token_hash = ?`, newHash))
		return err
	})
	return inv, err
}

// TagUsage counts, per tag of the workspace, the contacts, companies and
// conversations it is applied to (tags never used are absent).
func (s *Tags) TagUsage(ctx context.Context, workspaceID string) (map[int64]int, error) {
	rows, err := s.db.Read().Query(ctx, `SELECT tag_id, COUNT(*) FROM (
 SELECT tag_id FROM contact_tags WHERE workspace_id = ?
 UNION ALL SELECT tag_id FROM company_tags WHERE workspace_id = ?
 UNION ALL SELECT tag_id FROM conversation_tags WHERE workspace_id = ?) used GROUP BY tag_id`, workspaceID, workspaceID, workspaceID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int64]int{}
	for rows.Next() {
		var id int64
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			return nil, mapErr(err)
		}
		out[id] = n
	}
	return out, mapErr(rows.Err())
}
