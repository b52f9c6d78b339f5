package store

import (
	"context"
	"errors"

	"github.com/parleyhq/parley/internal/workspace"
)

// Avatar is a teammate's uploaded picture.
type Avatar struct {
	Version     int64
	ContentType string
	Data        []byte
}

// SetAdminAvatar stores a teammate's picture (version: a number that
// changes with each upload) and sets the admin's avatar to url(version);
// url nil removes the picture. It appends admin.updated.
func (s *WebSessions) SetAdminAvatar(ctx context.Context, workspaceID string, adminID int64, av *Avatar, url func(version int64) string) (*workspace.Admin, error) {
	var a *workspace.Admin
	err := s.db.InTx(ctx, func(tx *Tx) (err error) {
		var link any
		if av == nil {
			_, err = tx.Exec(ctx, `DELETE FROM admin_avatars WHERE workspace_id = ? AND admin_id = ?`, workspaceID, adminID)
		} else {
			link = url(av.Version)
			_, err = tx.Exec(ctx, `INSERT INTO admin_avatars (workspace_id, admin_id, version, content_type, data) VALUES (?, ?, ?, ?, ?)
 ON CONFLICT (workspace_id, admin_id) DO UPDATE SET version = excluded.version, content_type = excluded.content_type, data = excluded.data`,
				workspaceID, adminID, av.Version, av.ContentType, av.Data)
		}
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE admins SET avatar = ? WHERE workspace_id = ? AND id = ?`, link, workspaceID, adminID); err != nil {
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

// AdminAvatar returns a teammate's stored picture.
func (s *WebSessions) AdminAvatar(ctx context.Context, workspaceID string, adminID int64) (*Avatar, error) {
	av := &Avatar{}
	err := s.db.Read().QueryRow(ctx, `SELECT version, content_type, data FROM admin_avatars WHERE workspace_id = ? AND admin_id = ?`,
		workspaceID, adminID).Scan(&av.Version, &av.ContentType, &av.Data)
	if err != nil {
		return nil, mapErr(err)
	}
	return av, nil
}
