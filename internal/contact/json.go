package contact

import (
	"strconv"

	"github.com/parleyhq/parley/internal/jsonx"
)

// marshal renders Intercom's contact object by hand (package jsonx): it is
// the body of every contact response, search page and contact event, and
// encoding/json's reflection was most of its cost. json_test.go holds the
// encoding/json rendering it must equal byte for byte.
func (c *Contact) marshal(ownerIDString bool) ([]byte, error) {
	b := make([]byte, 0, 1536)
	b = append(b, `{"type":"contact","id":`...)
	b = jsonx.String(b, c.ID)
	b = append(b, `,"workspace_id":`...)
	b = jsonx.String(b, c.WorkspaceID)
	b = append(b, `,"external_id":`...)
	b = jsonx.StringPtr(b, c.ExternalID)
	b = append(b, `,"role":`...)
	b = jsonx.String(b, c.Role)
	b = append(b, `,"email":`...)
	b = jsonx.String(b, str(c.Email))
	b = append(b, `,"email_domain":`...)
	b = jsonx.String(b, c.EmailDomain())
	b = append(b, `,"phone":`...)
	b = jsonx.StringPtr(b, c.Phone)
	b = append(b, `,"name":`...)
	b = jsonx.StringPtr(b, c.Name)
	b = append(b, `,"owner_id":`...)
	switch {
	case c.OwnerID == nil:
		b = append(b, "null"...)
	case ownerIDString:
		b = jsonx.String(b, strconv.FormatInt(*c.OwnerID, 10))
	default:
		b = strconv.AppendInt(b, *c.OwnerID, 10)
	}
	b = append(b, `,"has_hard_bounced":`...)
	b = jsonx.Bool(b, c.HasHardBounced)
	b = append(b, `,"marked_email_as_spam":`...)
	b = jsonx.Bool(b, c.MarkedEmailAsSpam)
	b = append(b, `,"unsubscribed_from_emails":`...)
	b = jsonx.Bool(b, c.UnsubscribedFromEmails)
	b = append(b, `,"created_at":`...)
	b = strconv.AppendInt(b, c.CreatedAt, 10)
	b = append(b, `,"updated_at":`...)
	b = strconv.AppendInt(b, c.UpdatedAt, 10)
	for _, f := range []struct {
		name string
		v    *int64
	}{{"signed_up_at", c.SignedUpAt}, {"last_seen_at", c.LastSeenAt}, {"last_replied_at", c.LastRepliedAt},
		{"last_contacted_at", c.LastContactedAt}, {"last_email_opened_at", c.LastEmailOpenedAt}, {"last_email_clicked_at", c.LastEmailClickedAt}} {
		b = append(append(append(b, `,"`...), f.name...), `":`...)
		b = jsonx.IntPtr(b, f.v)
	}
	for _, f := range []struct {
		name string
		v    *string
	}{{"language_override", c.LanguageOverride}, {"browser", c.Browser}, {"browser_version", c.BrowserVersion},
		{"browser_language", c.BrowserLanguage}, {"os", c.OS}} {
		b = append(append(append(b, `,"`...), f.name...), `":`...)
		b = jsonx.StringPtr(b, f.v)
	}
	b = append(b, `,"android_app_name":null,"android_app_version":null,"android_device":null,"android_os_version":null,"android_sdk_version":null,"android_last_seen_at":null`...)
	b = append(b, `,"ios_app_name":null,"ios_app_version":null,"ios_device":null,"ios_os_version":null,"ios_sdk_version":null,"ios_last_seen_at":null`...)
	b = append(b, `,"custom_attributes":`...)
	b, err := jsonx.Map(b, c.CustomAttributes)
	if err != nil {
		return nil, err
	}
	b = append(b, `,"avatar":`...)
	if c.Avatar == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, `{"image_url":`...)
		b = append(jsonx.String(b, *c.Avatar), `,"type":"avatar"}`...)
	}
	b = append(b, `,"tags":`...)
	b = refs(b, "tag", "/contacts/"+c.ID+"/tags", "/tags/", len(c.TagIDs), func(i int) string { return strconv.FormatInt(c.TagIDs[i], 10) }, c.TagCount)
	b = append(b, `,"notes":`...)
	b = refs(b, "note", "/contacts/"+c.ID+"/notes", "/notes/", len(c.NoteIDs), func(i int) string { return strconv.FormatInt(c.NoteIDs[i], 10) }, c.NoteCount)
	b = append(b, `,"companies":`...)
	b = refs(b, "company", "/contacts/"+c.ID+"/companies", "/companies/", len(c.CompanyIDs), func(i int) string { return c.CompanyIDs[i] }, c.CompanyCount)
	b = append(b, `,"location":{"city":`...)
	b = jsonx.StringPtr(b, c.City)
	b = append(b, `,"country":`...)
	b = jsonx.StringPtr(b, c.Country)
	b = append(b, `,"region":`...)
	b = jsonx.StringPtr(b, c.Region)
	b = append(b, `,"type":"location"},"social_profiles":{"data":[],"type":"list"}}`...)
	return b, nil
}

// refs appends one of the contact's related lists (tags, notes, companies).
func refs(b []byte, typ, url, itemURL string, n int, id func(int) string, total int) []byte {
	b = append(b, `{"type":"list","data":[`...)
	for i := range n {
		if i > 0 {
			b = append(b, ',')
		}
		s := id(i)
		b = append(b, `{"type":`...)
		b = jsonx.String(b, typ)
		b = append(b, `,"id":`...)
		b = jsonx.String(b, s)
		b = append(b, `,"url":`...)
		b = jsonx.String(b, itemURL+s)
		b = append(b, '}')
	}
	b = append(b, `],"url":`...)
	b = jsonx.String(b, url)
	b = append(b, `,"total_count":`...)
	b = strconv.AppendInt(b, int64(total), 10)
	b = append(b, `,"has_more":`...)
	return append(jsonx.Bool(b, total > n), '}')
}
