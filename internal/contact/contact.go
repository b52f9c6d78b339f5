// Package contact holds contacts (users and leads): their fields, the
// Intercom-compatible shape they are shown in, and the store interface.
package contact

import (
	"context"
	"encoding/json"
	"strconv"
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

func (c *Contact) marshal(ownerIDString bool) ([]byte, error) {
	tags := refList{Type: "list", Data: []ref{}, URL: "/contacts/" + c.ID + "/tags", TotalCount: c.TagCount, HasMore: c.TagCount > len(c.TagIDs)}
	for _, id := range c.TagIDs {
		s := strconv.FormatInt(id, 10)
		tags.Data = append(tags.Data, ref{Type: "tag", ID: s, URL: "/tags/" + s})
	}
	notes := refList{Type: "list", Data: []ref{}, URL: "/contacts/" + c.ID + "/notes", TotalCount: c.NoteCount, HasMore: c.NoteCount > len(c.NoteIDs)}
	for _, id := range c.NoteIDs {
		s := strconv.FormatInt(id, 10)
		notes.Data = append(notes.Data, ref{Type: "note", ID: s, URL: "/notes/" + s})
	}
	companies := refList{Type: "list", Data: []ref{}, URL: "/contacts/" + c.ID + "/companies", TotalCount: c.CompanyCount, HasMore: c.CompanyCount > len(c.CompanyIDs)}
	for _, id := range c.CompanyIDs {
		companies.Data = append(companies.Data, ref{Type: "company", ID: id, URL: "/companies/" + id})
	}
	var avatar any
	if c.Avatar != nil {
		avatar = map[string]any{"type": "avatar", "image_url": *c.Avatar}
	}
	custom := c.CustomAttributes
	if custom == nil {
		custom = map[string]any{}
	}
	var owner any
	if c.OwnerID != nil {
		owner = *c.OwnerID
		if ownerIDString {
			owner = strconv.FormatInt(*c.OwnerID, 10)
		}
	}
	return json.Marshal(struct {
		Type                   string         `json:"type"`
		ID                     string         `json:"id"`
		WorkspaceID            string         `json:"workspace_id"`
		ExternalID             *string        `json:"external_id"`
		Role                   string         `json:"role"`
		Email                  string         `json:"email"`
		EmailDomain            string         `json:"email_domain"`
		Phone                  *string        `json:"phone"`
		Name                   *string        `json:"name"`
		OwnerID                any            `json:"owner_id"`
		HasHardBounced         bool           `json:"has_hard_bounced"`
		MarkedEmailAsSpam      bool           `json:"marked_email_as_spam"`
		UnsubscribedFromEmails bool           `json:"unsubscribed_from_emails"`
		CreatedAt              int64          `json:"created_at"`
		UpdatedAt              int64          `json:"updated_at"`
		SignedUpAt             *int64         `json:"signed_up_at"`
		LastSeenAt             *int64         `json:"last_seen_at"`
		LastRepliedAt          *int64         `json:"last_replied_at"`
		LastContactedAt        *int64         `json:"last_contacted_at"`
		LastEmailOpenedAt      *int64         `json:"last_email_opened_at"`
		LastEmailClickedAt     *int64         `json:"last_email_clicked_at"`
		LanguageOverride       *string        `json:"language_override"`
		Browser                *string        `json:"browser"`
		BrowserVersion         *string        `json:"browser_version"`
		BrowserLanguage        *string        `json:"browser_language"`
		OS                     *string        `json:"os"`
		AndroidAppName         *string        `json:"android_app_name"`
		AndroidAppVersion      *string        `json:"android_app_version"`
		AndroidDevice          *string        `json:"android_device"`
		AndroidOSVersion       *string        `json:"android_os_version"`
		AndroidSDKVersion      *string        `json:"android_sdk_version"`
		AndroidLastSeenAt      *int64         `json:"android_last_seen_at"`
		IOSAppName             *string        `json:"ios_app_name"`
		IOSAppVersion          *string        `json:"ios_app_version"`
		IOSDevice              *string        `json:"ios_device"`
		IOSOSVersion           *string        `json:"ios_os_version"`
		IOSSDKVersion          *string        `json:"ios_sdk_version"`
		IOSLastSeenAt          *int64         `json:"ios_last_seen_at"`
		CustomAttributes       map[string]any `json:"custom_attributes"`
		Avatar                 any            `json:"avatar"`
		Tags                   refList        `json:"tags"`
		Notes                  refList        `json:"notes"`
		Companies              refList        `json:"companies"`
		Location               map[string]any `json:"location"`
		SocialProfiles         map[string]any `json:"social_profiles"`
	}{
		Type: "contact", ID: c.ID, WorkspaceID: c.WorkspaceID, ExternalID: c.ExternalID, Role: c.Role,
		Email: str(c.Email), EmailDomain: c.EmailDomain(), Phone: c.Phone, Name: c.Name, OwnerID: owner,
		HasHardBounced: c.HasHardBounced, MarkedEmailAsSpam: c.MarkedEmailAsSpam, UnsubscribedFromEmails: c.UnsubscribedFromEmails,
		CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt, SignedUpAt: c.SignedUpAt, LastSeenAt: c.LastSeenAt,
		LastRepliedAt: c.LastRepliedAt, LastContactedAt: c.LastContactedAt, LastEmailOpenedAt: c.LastEmailOpenedAt,
		LastEmailClickedAt: c.LastEmailClickedAt, LanguageOverride: c.LanguageOverride, Browser: c.Browser,
		BrowserVersion: c.BrowserVersion, BrowserLanguage: c.BrowserLanguage, OS: c.OS,
		CustomAttributes: custom, Avatar: avatar, Tags: tags, Notes: notes, Companies: companies,
		Location:       map[string]any{"type": "location", "country": c.Country, "region": c.Region, "city": c.City},
		SocialProfiles: map[string]any{"type": "list", "data": []any{}},
	})
}

// Reference is the short form used by delete/archive/block answers.
func (c *Contact) Reference(flag string) map[string]any {
	m := map[string]any{"type": "contact", "id": c.ID, "external_id": c.ExternalID}
	if flag != "" {
		m[flag] = true
	}
	return m
}
