package contact

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"strconv"
	"testing"
)

// referenceJSON is the encoding/json rendering the hand-written encoder
// must match byte for byte.
func referenceJSON(c *Contact, ownerIDString bool) ([]byte, error) {
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

// TestMarshalMatchesEncodingJSON: the hand-written contact JSON equals
// encoding/json's, byte for byte, for random contacts with awkward text
// (HTML characters, control characters, invalid UTF-8, line separators),
// every kind of custom attribute value and related lists of every size.
func TestMarshalMatchesEncodingJSON(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	texts := []string{"", "plain", `quo"te\back`, "<b>&amp;</b>", "tab\tnl\ncr\r\b\f\x00\x1f\x7f", "caf\u00e9 \u65e5\u672c",
		"bad \xff\xfe utf8", "sep \u2028 \u2029", "emoji \U0001F600", "\xed\xa0\x80 surrogate"}
	text := func() string { return texts[rng.IntN(len(texts))] + texts[rng.IntN(len(texts))] }
	strp := func() *string {
		if rng.IntN(3) == 0 {
			return nil
		}
		s := text()
		return &s
	}
	intp := func() *int64 {
		if rng.IntN(3) == 0 {
			return nil
		}
		n := rng.Int64() - rng.Int64()
		return &n
	}
	floats := []float64{0, 1, -1.5, 1e-7, 1e21, 123456789.125, 1e20, 3.14159e-300, -2.5e25, 0.000001}
	for i := 0; i < 3000; i++ {
		c := &Contact{WorkspaceID: text(), ID: text(), Role: text(), ExternalID: strp(), Email: strp(), Phone: strp(),
			Name: strp(), Avatar: strp(), OwnerID: intp(), HasHardBounced: rng.IntN(2) == 0, MarkedEmailAsSpam: rng.IntN(2) == 0,
			UnsubscribedFromEmails: rng.IntN(2) == 0, CreatedAt: rng.Int64(), UpdatedAt: -rng.Int64(), SignedUpAt: intp(),
			LastSeenAt: intp(), LastRepliedAt: intp(), LastContactedAt: intp(), LastEmailOpenedAt: intp(), LastEmailClickedAt: intp(),
			LanguageOverride: strp(), Browser: strp(), BrowserVersion: strp(), BrowserLanguage: strp(), OS: strp(),
			Country: strp(), Region: strp(), City: strp(), TagCount: rng.IntN(15), CompanyCount: rng.IntN(15), NoteCount: rng.IntN(15)}
		if rng.IntN(4) > 0 {
			c.CustomAttributes = map[string]any{}
			for range rng.IntN(20) {
				var v any
				switch rng.IntN(7) {
				case 0:
					v = text()
				case 1:
					v = rng.Int64() - rng.Int64()
				case 2:
					v = floats[rng.IntN(len(floats))] * float64(rng.IntN(1000)+1)
				case 3:
					v = rng.IntN(2) == 0
				case 4:
					v = nil
				case 5:
					v = []any{"a", 1.0} // not a scalar: the fallback path
				case 6:
					v = rng.Float64()
				}
				c.CustomAttributes[text()] = v
			}
		}
		for range min(c.TagCount, 10) {
			c.TagIDs = append(c.TagIDs, rng.Int64N(1e12))
		}
		for range min(c.NoteCount, 10) {
			c.NoteIDs = append(c.NoteIDs, rng.Int64N(1e12))
		}
		for range min(c.CompanyCount, 10) {
			c.CompanyIDs = append(c.CompanyIDs, text())
		}
		for _, ownerString := range []bool{false, true} {
			got, err := c.marshal(ownerString)
			want, werr := referenceJSON(c, ownerString)
			if err != nil || werr != nil {
				t.Fatalf("errors: %v / %v", err, werr)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("contact %d (owner as string %v):\n got %s\nwant %s", i, ownerString, got, want)
			}
		}
	}
}
