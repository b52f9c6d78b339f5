// Package contact holds contacts (users and leads): their fields, the
// Intercom-compatible shape they are shown in, and the store interface.
package contact

import (
	"context"
	"strings"
)

// Roles.
const (
	RoleUser = "user"
	RoleLead = "lead"
)

// Contact is a user or a lead.
type Contact struct {
	WorkspaceID            string
	ID                     string
	Role                   string
	ExternalID             *string
	Email                  *string
	Phone                  *string
	Name                   *string
	Avatar                 *string
	OwnerID                *int64
	HasHardBounced         bool
	MarkedEmailAsSpam      bool
	UnsubscribedFromEmails bool
	CreatedAt              int64
	UpdatedAt              int64
	SignedUpAt             *int64
	LastSeenAt             *int64
	LastRepliedAt          *int64
	LastContactedAt        *int64
	LastEmailOpenedAt      *int64
	LastEmailClickedAt     *int64
	LanguageOverride       *string
	Browser                *string
	BrowserVersion         *string
	BrowserLanguage        *string
	OS                     *string
	Country                *string
	Region                 *string
	City                   *string
	CustomAttributes       map[string]any
	Archived               bool
	Blocked                bool
	MergedInto             *string

	// Related items, loaded with the contact (first 10 of each) with totals.
	TagIDs       []int64
	TagCount     int
	CompanyIDs   []string
	CompanyCount int
	NoteIDs      []int64
	NoteCount    int
}

// Store persists contacts. Every write appends its event in the same
// transaction.
type Store interface {
	Get(ctx context.Context, workspaceID, id string) (*Contact, error)
	ByExternalID(ctx context.Context, workspaceID, externalID string) (*Contact, error)
	ByEmail(ctx context.Context, workspaceID, email string) (*Contact, error)
	Create(ctx context.Context, c *Contact) error
	// Update saves c (already changed by the caller).
	Update(ctx context.Context, c *Contact) error
	Delete(ctx context.Context, workspaceID, id string) (*Contact, error)
	SetArchived(ctx context.Context, workspaceID, id string, archived bool) (*Contact, error)
	Block(ctx context.Context, workspaceID, id string) (*Contact, error)
	// Merge merges the lead from into the user into and returns the user.
	Merge(ctx context.Context, workspaceID, from, into string) (*Contact, error)
	// List returns contacts with id > after in id order, and the total.
	List(ctx context.Context, workspaceID string, after string, limit int) ([]*Contact, int, error)
}

// EmailDomain is the part after '@'.
func (c *Contact) EmailDomain() string {
	if c.Email == nil {
		return ""
	}
	_, d, _ := strings.Cut(*c.Email, "@")
	return d
}

// Topic returns the event topic for an action on a contact of this role,
// e.g. contact.user.created or contact.lead.updated.
func (c *Contact) Topic(action string) string {
	return "contact." + c.Role + "." + action
}

type ref struct {
	Type string `json:"type"`
	ID   string `json:"id"`
	URL  string `json:"url"`
}

type refList struct {
	Type       string `json:"type"`
	Data       []ref  `json:"data"`
	URL        string `json:"url"`
	TotalCount int    `json:"total_count"`
	HasMore    bool   `json:"has_more"`
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// MarshalJSON renders Intercom's contact object (API 2.14).
func (c *Contact) MarshalJSON() ([]byte, error) { return c.marshal(false) }

// V216 renders a contact in the shape of API 2.16 and later, where
// owner_id is a string.
type V216 struct{ *Contact }

// MarshalJSON implements json.Marshaler.
func (v V216) MarshalJSON() ([]byte, error) { return v.marshal(true) }

// Reference is the short form used by delete/archive/block answers.
func (c *Contact) Reference(flag string) map[string]any {
	m := map[string]any{"type": "contact", "id": c.ID, "external_id": c.ExternalID}
	if flag != "" {
		m[flag] = true
	}
	return m
}
