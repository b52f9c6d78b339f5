// Package workspace holds workspaces, their teammates (admins) and the access
// tokens that authenticate API calls.
package workspace

import (
	"context"
	"time"
)

// Workspace is one isolated Parley installation tenant.
type Workspace struct {
	ID        string
	Name      string
	TimeZone  string
	CreatedAt int64
}

// Location is the workspace time zone (UTC when unknown).
func (w *Workspace) Location() *time.Location {
	if loc, err := time.LoadLocation(w.TimeZone); err == nil {
		return loc
	}
	return time.UTC
}

// Admin is a teammate. JSON follows Intercom's admin object.
type Admin struct {
	WorkspaceID      string `json:"-"`
	ID               int64  `json:"-"`
	Name             string `json:"name"`
	Email            string `json:"email"`
	PasswordHash     string `json:"-"`
	Role             string `json:"-"` // owner, admin, agent
	JobTitle         string `json:"-"`
	AwayModeEnabled  bool   `json:"-"`
	AwayModeReassign bool   `json:"-"`
	Avatar           string `json:"-"`
	CreatedAt        int64  `json:"-"`
}

// Roles.
const (
	RoleOwner = "owner"
	RoleAdmin = "admin"
	RoleAgent = "agent"
)

// Token is an access token as stored (the secret itself is never stored).
type Token struct {
	ID          int64
	WorkspaceID string
	AdminID     int64
	Name        string
	CreatedAt   int64
}

// Store persists workspaces, admins and tokens.
type Store interface {
	// Bootstrap creates the default workspace and its owner when the database
	// has no workspace yet; created reports whether it did.
	Bootstrap(ctx context.Context, name string, owner *Admin) (ws *Workspace, created bool, err error)
	Default(ctx context.Context) (*Workspace, error)
	Workspace(ctx context.Context, id string) (*Workspace, error)
	CreateWorkspace(ctx context.Context, name string, owner *Admin) (*Workspace, error)
	Admin(ctx context.Context, workspaceID string, id int64) (*Admin, error)
	Admins(ctx context.Context, workspaceID string) ([]*Admin, error)
	Owner(ctx context.Context, workspaceID string) (*Admin, error)
	// CreateToken stores the hash of a new token for the workspace.
	CreateToken(ctx context.Context, workspaceID string, adminID int64, name, tokenHash string) (*Token, error)
	// EnsureToken makes sure a token with this hash exists for the workspace.
	EnsureToken(ctx context.Context, workspaceID string, adminID int64, name, tokenHash string) error
	// TokenByHash finds a live token.
	TokenByHash(ctx context.Context, tokenHash string) (*Token, error)
}
