package messenger

import "encoding/json"

// Visitor is an anonymous Messenger visitor. Visitors are not contacts:
// they live in a table of their own, so the contacts API and search never
// see them (as in Intercom). A visitor that writes or leaves an email
// becomes a lead (ContactID); one identified at boot or converted into a
// user points at that user.
type Visitor struct {
	WorkspaceID      string
	ID               string // 24 hex, like contact ids
	UserID           string // a UUID: what Intercom('getVisitorId') returns
	Name             *string
	Email            *string
	Phone            *string
	CustomAttributes map[string]any
	ContactID        *string
	CreatedAt        int64
	UpdatedAt        int64
	LastRequestAt    *int64
}

// MarshalJSON renders Intercom's visitor object (API 2.14).
func (v *Visitor) MarshalJSON() ([]byte, error) {
	email := ""
	if v.Email != nil {
		email = *v.Email
	}
	custom := v.CustomAttributes
	if custom == nil {
		custom = map[string]any{}
	}
	return json.Marshal(map[string]any{
		"type": "visitor", "id": v.ID, "user_id": v.UserID, "anonymous": v.Email == nil && v.Name == nil,
		"email": email, "phone": v.Phone, "name": v.Name, "pseudonym": nil,
		"avatar": map[string]any{"type": "avatar", "image_url": nil}, "app_id": v.WorkspaceID,
		"companies":      map[string]any{"type": "company.list", "companies": []any{}},
		"location_data":  map[string]any{"type": "location_data"},
		"las_request_at": v.LastRequestAt, "created_at": v.CreatedAt, "remote_created_at": v.CreatedAt,
		"signed_up_at": v.CreatedAt, "updated_at": v.UpdatedAt, "session_count": 0,
		"social_profiles": map[string]any{"type": "social_profile.list", "social_profiles": []any{}},
		"owner_id":        nil, "unsubscribed_from_emails": false, "marked_email_as_spam": false, "has_hard_bounced": false,
		"tags":              map[string]any{"type": "tag.list", "tags": []any{}},
		"segments":          map[string]any{"type": "segment.list", "segments": []any{}},
		"custom_attributes": custom, "referrer": nil, "utm_campaign": nil, "utm_content": nil, "utm_medium": nil,
		"utm_source": nil, "utm_term": nil, "do_not_track": nil,
	})
}
