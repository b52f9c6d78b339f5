package conversation

import (
	"encoding/json"
	"html"
	"regexp"
	"strconv"
	"strings"
)

// View renders a conversation as Intercom's API shows it.
type View struct {
	C *Conversation
	// V216 renders the shape of API 2.16 and later: priority as
	// none|low|medium|high|urgent, assignee ids as integers (0: nobody).
	V216 bool
	// Plaintext strips HTML from bodies (display_as=plaintext).
	Plaintext bool
	// Parts includes conversation_parts (single conversation, events);
	// lists leave them out.
	Parts bool
}

type ref struct {
	Type string `json:"type"`
	ID   string `json:"id"`
}

type contactRef struct {
	Type       string  `json:"type"`
	ID         string  `json:"id"`
	ExternalID *string `json:"external_id"`
}

type tagJSON struct {
	Type      string `json:"type"`
	ID        string `json:"id"`
	Name      string `json:"name"`
	AppliedAt int64  `json:"applied_at"`
	AppliedBy *ref   `json:"applied_by"`
}

type authorJSON struct {
	Type        string  `json:"type"`
	ID          string  `json:"id"`
	Name        *string `json:"name"`
	Email       string  `json:"email,omitempty"`
	FromAIAgent bool    `json:"from_ai_agent"`
	IsAIAnswer  bool    `json:"is_ai_answer"`
}

func authorOut(a Author) authorJSON {
	return authorJSON{Type: a.Type, ID: a.ID, Name: a.Name, Email: a.Email}
}

type partJSON struct {
	Type                 string       `json:"type"`
	ID                   string       `json:"id"`
	PartType             string       `json:"part_type"`
	Body                 *string      `json:"body"`
	CreatedAt            int64        `json:"created_at"`
	UpdatedAt            int64        `json:"updated_at"`
	NotifiedAt           int64        `json:"notified_at"`
	AssignedTo           *Ref         `json:"assigned_to"`
	Author               authorJSON   `json:"author"`
	Attachments          []Attachment `json:"attachments"`
	ExternalID           *string      `json:"external_id"`
	Redacted             bool         `json:"redacted"`
	EmailMessageMetadata any          `json:"email_message_metadata"`
	Metadata             *Metadata    `json:"metadata"`
	State                string       `json:"state"`
	AppPackageCode       *string      `json:"app_package_code"`
}

type sourceJSON struct {
	Type        string       `json:"type"`
	ID          string       `json:"id"`
	DeliveredAs string       `json:"delivered_as"`
	Subject     string       `json:"subject"`
	Body        string       `json:"body"`
	Author      authorJSON   `json:"author"`
	Attachments []Attachment `json:"attachments"`
	URL         *string      `json:"url"`
	Redacted    bool         `json:"redacted"`
}

type ratingJSON struct {
	Rating    int        `json:"rating"`
	Remark    string     `json:"remark"`
	CreatedAt int64      `json:"created_at"`
	UpdatedAt int64      `json:"updated_at"`
	Contact   contactRef `json:"contact"`
	Teammate  *ref       `json:"teammate,omitempty"`
}

type statsJSON struct {
	Type string `json:"type"`
	Statistics
	ReplyTimes   []int64 `json:"reply_times,omitempty"` // hides the embedded field
	LastClosedBy *string `json:"last_closed_by_id,omitempty"`
}

type firstReply struct {
	CreatedAt int64   `json:"created_at"`
	Type      string  `json:"type"`
	URL       *string `json:"url"`
}

// MarshalJSON implements json.Marshaler.
func (v View) MarshalJSON() ([]byte, error) {
	c := v.C
	out := map[string]any{
		"type":                  "conversation",
		"id":                    c.IDString(),
		"title":                 c.Title,
		"created_at":            c.CreatedAt,
		"updated_at":            c.UpdatedAt,
		"waiting_since":         c.WaitingSince,
		"snoozed_until":         c.SnoozedUntil,
		"open":                  c.State != StateClosed,
		"state":                 c.State,
		"read":                  c.Read,
		"priority":              v.priority(),
		"admin_assignee_id":     v.assignee(c.AdminAssigneeID),
		"team_assignee_id":      v.assignee(c.TeamAssigneeID),
		"tags":                  tagsOut(c.Tags),
		"conversation_rating":   ratingOut(c),
		"source":                v.sourceOut(),
		"contacts":              contactsOut(c.Contacts),
		"teammates":             teammatesOut(c.Teammates),
		"custom_attributes":     customOut(c.CustomAttributes),
		"first_contact_reply":   firstReplyOut(c),
		"sla_applied":           nil,
		"statistics":            statsOut(c.Stats),
		"linked_objects":        map[string]any{"type": "list", "data": []any{}, "total_count": 0, "has_more": false},
		"ai_agent_participated": false,
		"ai_agent":              nil,
	}
	if v.Parts {
		parts := make([]partJSON, len(c.Parts))
		for i, p := range c.Parts {
			parts[i] = v.partOut(p)
		}
		total := c.PartsTotal
		if total < len(parts) {
			total = len(parts)
		}
		out["conversation_parts"] = map[string]any{"type": "conversation_part.list", "conversation_parts": parts, "total_count": total}
	}
	return json.Marshal(out)
}

func (v View) priority() string {
	if v.V216 {
		return v.C.Priority
	}
	if v.C.Priority == "none" || v.C.Priority == "" {
		return "not_priority"
	}
	return "priority"
}

func (v View) assignee(id *int64) any {
	if id == nil {
		if v.V216 {
			return 0 // 2.16 declares the ids non-nullable; 0 is Intercom's "nobody"
		}
		return nil
	}
	return *id
}

func (v View) body(s string) string {
	if v.Plaintext {
		return Plaintext(s)
	}
	return s
}

func (v View) sourceOut() sourceJSON {
	s := v.C.Source
	att := s.Attachments
	if att == nil {
		att = []Attachment{}
	}
	return sourceJSON{Type: s.Type, ID: v.C.IDString(), DeliveredAs: s.DeliveredAs, Subject: s.Subject,
		Body: v.body(s.Body), Author: authorOut(s.Author), Attachments: att, URL: s.URL}
}

func (v View) partOut(p *Part) partJSON {
	body := p.Body
	if body != nil && v.Plaintext {
		b := Plaintext(*body)
		body = &b
	}
	att := p.Attachments
	if att == nil {
		att = []Attachment{}
	}
	md := p.Metadata
	if md == nil {
		md = &Metadata{}
	}
	return partJSON{Type: "conversation_part", ID: strconv.FormatInt(p.ID, 10), PartType: p.Type, Body: body,
		CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt, NotifiedAt: p.CreatedAt, AssignedTo: p.AssignedTo,
		Author: authorOut(p.Author), Attachments: att, Metadata: md, State: p.State}
}

func tagsOut(tags []Tag) map[string]any {
	list := make([]tagJSON, len(tags))
	for i, t := range tags {
		list[i] = tagJSON{Type: "tag", ID: strconv.FormatInt(t.ID, 10), Name: t.Name, AppliedAt: t.AppliedAt}
		if t.AppliedBy != nil {
			list[i].AppliedBy = &ref{Type: "admin", ID: strconv.FormatInt(*t.AppliedBy, 10)}
		}
	}
	return map[string]any{"type": "tag.list", "tags": list}
}

func contactsOut(cs []ContactRef) map[string]any {
	list := make([]contactRef, len(cs))
	for i, r := range cs {
		list[i] = contactRef{Type: "contact", ID: r.ID, ExternalID: r.ExternalID}
	}
	return map[string]any{"type": "contact.list", "contacts": list}
}

func teammatesOut(ids []int64) map[string]any {
	list := make([]ref, len(ids))
	for i, id := range ids {
		list[i] = ref{Type: "admin", ID: strconv.FormatInt(id, 10)}
	}
	return map[string]any{"type": "admin.list", "teammates": list}
}

func customOut(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

func ratingOut(c *Conversation) any {
	r := c.Rating
	if r == nil {
		return nil
	}
	out := ratingJSON{Rating: r.Rating, Remark: r.Remark, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
		Contact: contactRef{Type: "contact", ID: r.ContactID}}
	for _, cr := range c.Contacts {
		if cr.ID == r.ContactID {
			out.Contact.ExternalID = cr.ExternalID
		}
	}
	if r.AdminID != nil {
		out.Teammate = &ref{Type: "admin", ID: strconv.FormatInt(*r.AdminID, 10)}
	}
	return out
}

func firstReplyOut(c *Conversation) any {
	if c.Stats.FirstContactReplyAt == nil {
		return nil
	}
	return firstReply{CreatedAt: *c.Stats.FirstContactReplyAt, Type: "conversation"}
}

func statsOut(s Statistics) statsJSON {
	out := statsJSON{Type: "conversation_statistics", Statistics: s}
	if s.LastClosedByID != nil {
		id := strconv.FormatInt(*s.LastClosedByID, 10)
		out.LastClosedBy = &id // the spec shows it as a string
	}
	return out
}

var (
	breakRe = regexp.MustCompile(`(?i)<br\s*/?>|</p>\s*<p[^>]*>|</(?:div|li|h[1-6])>`)
	tagRe   = regexp.MustCompile(`<[^>]*>`)
)

// Plaintext strips HTML from a body: paragraphs and line breaks become new
// lines, tags are dropped and entities decoded.
func Plaintext(s string) string {
	s = breakRe.ReplaceAllString(s, "\n")
	s = tagRe.ReplaceAllString(s, "")
	return strings.TrimSpace(html.UnescapeString(s))
}
