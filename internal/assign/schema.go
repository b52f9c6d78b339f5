package assign

import (
	"strings"
	"time"

	"github.com/parleyhq/parley/internal/attribute"
	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/query"
)

// The fields a rule condition may use, in the filter language of package
// query:
//   - source.type, source.subject, source.body, source.url: the
//     conversation's first message (its channel, email subject, plain text
//     and the page it was written on);
//   - contact.<field>: every field of the contact search (contact.role,
//     contact.email, contact.custom_attributes.plan, contact.tag_id,
//     contact.company.name, …) except segment_id.
//
// Conditions are evaluated in memory against one conversation
// (query.Filter.Match) when it arrives; nothing compiles them to SQL, so
// the conversation fields carry a NULL placeholder expression.

// conversationFields are the fields of the conversation itself.
var conversationFields = map[string]query.Field{
	"source.type":    {Name: "source.type", Kind: query.String, Ops: []string{"=", "!=", "IN", "NIN"}},
	"source.subject": {Name: "source.subject", Kind: query.String},
	"source.body":    {Name: "source.body", Kind: query.String},
	"source.url":     {Name: "source.url", Kind: query.String},
}

func init() {
	for name, f := range conversationFields {
		f.Expr = [2]string{query.SQLite: "CAST(NULL AS TEXT)", query.Postgres: "CAST(NULL AS TEXT)"}
		conversationFields[name] = f
	}
}

// Schema is the filter-language schema of assignment rule conditions in one
// workspace.
type Schema struct{ contacts *contact.Schema }

var _ query.Schema = (*Schema)(nil)

// NewSchema returns the schema of a workspace: loc is its time zone, attrs
// its custom attributes (archived ones are ignored).
func NewSchema(loc *time.Location, attrs []*attribute.Attribute) *Schema {
	return &Schema{contacts: contact.NewSchema(loc, attrs, nil)}
}

// Field implements query.Schema.
func (s *Schema) Field(name string) (query.Field, error) {
	if f, ok := conversationFields[name]; ok {
		return f, nil
	}
	rest, ok := strings.CutPrefix(name, "contact.")
	if !ok || rest == "segment_id" {
		return query.Field{}, query.UnknownField(name)
	}
	f, err := s.contacts.Field(rest)
	if err != nil {
		return query.Field{}, query.UnknownField(name)
	}
	f.Name = name
	return f, nil
}

// Segment implements query.Schema: conditions cannot reference segments.
func (s *Schema) Segment(id string) ([]byte, error) {
	return nil, &query.Error{Field: "contact.segment_id", Message: "assignment rules cannot reference segments"}
}

// Location implements query.Schema.
func (s *Schema) Location() *time.Location { return s.contacts.Location() }

// Conversation is what a rule condition is evaluated against: a
// conversation's first message and its contact.
type Conversation struct {
	SourceType    string // "conversation", "email", …
	SourceSubject string
	// SourceBody is the plain text of the first message.
	SourceBody string
	SourceURL  string
	// Contact is the contact who started the conversation (nil: none).
	Contact *contact.Record
}

var _ query.Record = (*Conversation)(nil)

// Values implements query.Record. Empty subject and URL are absent.
func (c *Conversation) Values(field string) []any {
	switch field {
	case "source.type":
		return present(c.SourceType)
	case "source.subject":
		return present(c.SourceSubject)
	case "source.body":
		return []any{c.SourceBody}
	case "source.url":
		return present(c.SourceURL)
	}
	if rest, ok := strings.CutPrefix(field, "contact."); ok && c.Contact != nil {
		return c.Contact.Values(rest)
	}
	return nil
}

func present(s string) []any {
	if s == "" {
		return nil
	}
	return []any{s}
}
