// Package company holds companies: the organisations contacts belong to,
// their fields and the Intercom-compatible shape they are shown in.
package company

import (
	"encoding/json"
	"math"
	"strconv"
)

// MaxMonthlySpend is the largest monthly_spend Intercom accepts (2**31-1).
const MaxMonthlySpend = math.MaxInt32

// Company is one company of a workspace.
type Company struct {
	WorkspaceID      string
	ID               string // Parley's id (24 hex digits, like Intercom's)
	CompanyID        string // the id the workspace gave the company
	Name             *string
	Plan             *string
	Size             *int64
	Website          *string
	Industry         *string
	MonthlySpend     *float64
	SessionCount     int64
	RemoteCreatedAt  *int64
	LastRequestAt    *int64
	CreatedAt        int64
	UpdatedAt        int64
	CustomAttributes map[string]any

	// Loaded with the company.
	UserCount int
	Tags      []Tag
}

// Tag is a tag as a company lists it (Intercom's tag_basic).
type Tag struct {
	ID   int64
	Name string
}

// MarshalJSON renders {type:"tag", id, name}.
func (t Tag) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Type string `json:"type"`
		ID   string `json:"id"`
		Name string `json:"name"`
	}{"tag", strconv.FormatInt(t.ID, 10), t.Name})
}

type plan struct {
	Type string `json:"type,omitempty"`
	Name string `json:"name,omitempty"`
}

// MarshalJSON renders Intercom's company object (API 2.14). The schema
// declares no field nullable, so absent values are left out rather than
// rendered as null; monthly_spend is an integer (Intercom truncates it).
func (c *Company) MarshalJSON() ([]byte, error) {
	custom := c.CustomAttributes
	if custom == nil {
		custom = map[string]any{}
	}
	tags := c.Tags
	if tags == nil {
		tags = []Tag{}
	}
	p := plan{}
	if c.Plan != nil {
		p = plan{Type: "plan", Name: *c.Plan}
	}
	var spend int64
	if c.MonthlySpend != nil {
		spend = int64(*c.MonthlySpend)
	}
	return json.Marshal(struct {
		Type             string         `json:"type"`
		ID               string         `json:"id"`
		CompanyID        string         `json:"company_id"`
		AppID            string         `json:"app_id"`
		Name             *string        `json:"name,omitempty"`
		RemoteCreatedAt  *int64         `json:"remote_created_at,omitempty"`
		CreatedAt        int64          `json:"created_at"`
		UpdatedAt        int64          `json:"updated_at"`
		LastRequestAt    *int64         `json:"last_request_at,omitempty"`
		Size             *int64         `json:"size,omitempty"`
		Website          *string        `json:"website,omitempty"`
		Industry         *string        `json:"industry,omitempty"`
		MonthlySpend     int64          `json:"monthly_spend"`
		SessionCount     int64          `json:"session_count"`
		UserCount        int            `json:"user_count"`
		Tags             any            `json:"tags"`
		Segments         any            `json:"segments"`
		Plan             plan           `json:"plan"`
		CustomAttributes map[string]any `json:"custom_attributes"`
	}{
		Type: "company", ID: c.ID, CompanyID: c.CompanyID, AppID: c.WorkspaceID, Name: c.Name,
		RemoteCreatedAt: c.RemoteCreatedAt, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt,
		LastRequestAt: c.LastRequestAt, Size: c.Size, Website: c.Website, Industry: c.Industry,
		MonthlySpend: spend, SessionCount: c.SessionCount, UserCount: c.UserCount,
		Tags:             map[string]any{"type": "tag.list", "tags": tags},
		Segments:         map[string]any{"type": "segment.list", "segments": []any{}},
		Plan:             p,
		CustomAttributes: custom,
	})
}

// Deleted is the answer to (and the event item of) a deletion.
func (c *Company) Deleted() map[string]any {
	return map[string]any{"id": c.ID, "object": "company", "deleted": true}
}

// Same reports whether a and b show the same values (ignoring updated_at),
// so that an upsert that changes nothing neither bumps updated_at nor
// announces an update.
func Same(a, b *Company) bool {
	x, y := *a, *b
	x.UpdatedAt, y.UpdatedAt = 0, 0
	ja, err1 := json.Marshal(&x)
	jb, err2 := json.Marshal(&y)
	return err1 == nil && err2 == nil && string(ja) == string(jb)
}

// Clone returns a deep-enough copy for Same: the custom attributes map is
// copied; pointer fields are replaced, never mutated, by callers.
func (c *Company) Clone() *Company {
	x := *c
	if c.CustomAttributes != nil {
		x.CustomAttributes = make(map[string]any, len(c.CustomAttributes))
		for k, v := range c.CustomAttributes {
			x.CustomAttributes[k] = v
		}
	}
	x.Tags = append([]Tag(nil), c.Tags...)
	return &x
}
