package contact

import (
	"fmt"
	"strings"
	"time"

	"github.com/parleyhq/parley/internal/attribute"
	"github.com/parleyhq/parley/internal/query"
)

// The searchable fields of contacts, for the filter language (package
// query): contact search, segments and every other audience filter. SQL
// expressions are written over the contacts table aliased "c".
//
// Fields:
//   - every built-in contact attribute stored in a column (id, role, name,
//     email, external_id, owner_id, the dates, the email flags, browser and
//     OS, location.country|region|city);
//   - email_domain: the part of the email after its first '@', as the
//     contact's email_domain shows it;
//   - custom_attributes.<name> for the workspace's live (not archived)
//     custom contact attributes, typed by their data_type;
//   - tag_id (ids of the contact's tags; = and != only);
//   - company.<attribute> for the built-in company attributes stored in a
//     column and company.custom_attributes.<name>: multi-valued, over the
//     companies the contact belongs to;
//   - segment_id: whether the contact matches a stored segment;
//   - Intercom's mobile fields (ios_*, android_*), which Parley does not
//     record: always absent, accepted so that Intercom queries still run.
//
// Date fields match by calendar day in the workspace time zone and, like
// Intercom, accept only =, < and > (and = null).

// dateOps are the operators Intercom accepts on Date fields.
var dateOps = []string{"=", "<", ">"}

// builtinGetters read a built-in field from a contact, for Record.
var builtinGetters = map[string]func(c *Contact) any{
	"id":                       func(c *Contact) any { return c.ID },
	"role":                     func(c *Contact) any { return c.Role },
	"name":                     func(c *Contact) any { return ps(c.Name) },
	"email":                    func(c *Contact) any { return ps(c.Email) },
	"email_domain":             func(c *Contact) any { return emailDomain(c.Email) },
	"phone":                    func(c *Contact) any { return ps(c.Phone) },
	"external_id":              func(c *Contact) any { return ps(c.ExternalID) },
	"owner_id":                 func(c *Contact) any { return pi(c.OwnerID) },
	"avatar":                   func(c *Contact) any { return ps(c.Avatar) },
	"created_at":               func(c *Contact) any { return c.CreatedAt },
	"updated_at":               func(c *Contact) any { return c.UpdatedAt },
	"signed_up_at":             func(c *Contact) any { return pi(c.SignedUpAt) },
	"last_seen_at":             func(c *Contact) any { return pi(c.LastSeenAt) },
	"last_replied_at":          func(c *Contact) any { return pi(c.LastRepliedAt) },
	"last_contacted_at":        func(c *Contact) any { return pi(c.LastContactedAt) },
	"last_email_opened_at":     func(c *Contact) any { return pi(c.LastEmailOpenedAt) },
	"last_email_clicked_at":    func(c *Contact) any { return pi(c.LastEmailClickedAt) },
	"unsubscribed_from_emails": func(c *Contact) any { return c.UnsubscribedFromEmails },
	"has_hard_bounced":         func(c *Contact) any { return c.HasHardBounced },
	"marked_email_as_spam":     func(c *Contact) any { return c.MarkedEmailAsSpam },
	"language_override":        func(c *Contact) any { return ps(c.LanguageOverride) },
	"browser":                  func(c *Contact) any { return ps(c.Browser) },
	"browser_version":          func(c *Contact) any { return ps(c.BrowserVersion) },
	"browser_language":         func(c *Contact) any { return ps(c.BrowserLanguage) },
	"os":                       func(c *Contact) any { return ps(c.OS) },
	"location.country":         func(c *Contact) any { return ps(c.Country) },
	"location.region":          func(c *Contact) any { return ps(c.Region) },
	"location.city":            func(c *Contact) any { return ps(c.City) },
}

// absentFields are Intercom's mobile SDK fields; Parley stores none of them.
// andoid_sdk_version is Intercom's own spelling in its search documentation.
var absentFields = map[string]query.Kind{
	"ios_last_seen_at": query.Date, "ios_app_version": query.String, "ios_device": query.String,
	"ios_app_device": query.String, "ios_os_version": query.String, "ios_app_name": query.String,
	"ios_sdk_version": query.String, "android_last_seen_at": query.Date, "android_app_version": query.String,
	"android_device": query.String, "android_app_name": query.String, "android_sdk_version": query.String,
	"andoid_sdk_version": query.String, "android_os_version": query.String,
}

// builtinFields are the single-valued built-in fields, by name.
var builtinFields = func() map[string]query.Field {
	m := map[string]query.Field{}
	for _, b := range attribute.ContactBuiltins {
		if _, ok := builtinGetters[b.Name]; !ok {
			panic("contact: no Record getter for built-in " + b.Name)
		}
		f := query.Field{Name: b.Name, Kind: kindOf(b.DataType)}
		switch {
		case b.Name == "id":
			f.Kind = query.ID
			f.Expr = both("c.id")
		case b.Name == "email_domain":
			// What the contact shows as email_domain: the part after
			// the first '@', empty when there is none.
			f.Expr = [2]string{
				query.SQLite:   "(CASE WHEN instr(c.email, '@') > 0 THEN substr(c.email, instr(c.email, '@') + 1) ELSE '' END)",
				query.Postgres: "(CASE WHEN strpos(c.email, '@') > 0 THEN substr(c.email, strpos(c.email, '@') + 1) ELSE '' END)",
			}
		case b.Column != "":
			f.Expr = both("c." + b.Column)
		default:
			panic("contact: built-in " + b.Name + " has no column and no expression")
		}
		if f.Kind == query.Date {
			f.Ops = dateOps
		}
		m[b.Name] = f
	}
	for name, k := range absentFields {
		f := query.Field{Name: name, Kind: k, Expr: [2]string{query.SQLite: "CAST(NULL AS TEXT)", query.Postgres: "CAST(NULL AS TEXT)"}}
		if k == query.Date {
			f.Ops = dateOps
			f.Expr = [2]string{query.SQLite: "CAST(NULL AS INTEGER)", query.Postgres: "CAST(NULL AS BIGINT)"}
		}
		m[name] = f
	}
	return m
}()

// companyFrom joins a contact (c) to its companies (co).
var companyMulti = query.Multi{
	From: "company_contacts cc JOIN companies co ON co.workspace_id = cc.workspace_id AND co.id = cc.company_id",
	Join: "cc.workspace_id = c.workspace_id AND cc.contact_id = c.id",
}

var tagField = query.Field{Name: "tag_id", Kind: query.ID, Ops: []string{"=", "!="}, Multi: &query.Multi{
	From: "contact_tags t",
	Join: "t.workspace_id = c.workspace_id AND t.contact_id = c.id",
	// Compared as text: tag ids are numeric strings in the API, and a text
	// comparison is exactly what Match does.
	Expr: both("CAST(t.tag_id AS TEXT)"),
}}

func both(e string) [2]string { return [2]string{e, e} }

func kindOf(dataType string) query.Kind {
	switch dataType {
	case attribute.TypeInteger:
		return query.Integer
	case attribute.TypeFloat:
		return query.Float
	case attribute.TypeBoolean:
		return query.Boolean
	case attribute.TypeDate:
		return query.Date
	}
	return query.String
}

// safeAttrName reports whether a custom attribute name can be embedded in a
// SQL literal and a JSON path. attribute.ValidateDefinition only allows
// letters, digits, spaces, '-' and '_'; this is a second line of defence.
func safeAttrName(name string) bool {
	return name != "" && !strings.ContainsAny(name, `'"?\$.`) && !strings.ContainsFunc(name, func(r rune) bool { return r < ' ' })
}

// CustomExpr is the SQL of a value in a JSON object column (alias.col),
// typed for a field of kind k, as custom attributes are read (below); other
// schemas with JSON columns use it too.
func CustomExpr(col, name string, k query.Kind) [2]string { return customExpr(col, name, k) }

// customExpr is the SQL of a JSON custom attribute in column alias.col.
// On PostgreSQL the value is cast to the field's SQL type; the cast is
// guarded by the JSON type so that rows of other workspaces (where an
// attribute of the same name may have another type) can never make the
// query fail, whatever order the planner evaluates conditions in.
func customExpr(col, name string, k query.Kind) [2]string {
	lite := `json_extract(` + col + `, '$."` + name + `"')`
	get := `(` + col + `->>'` + name + `')`
	typ := `jsonb_typeof(` + col + `->'` + name + `')`
	var pg string
	switch k {
	case query.Integer, query.Date:
		pg = `(CASE WHEN ` + typ + ` = 'number' AND ` + get + `::numeric BETWEEN -9223372036854775808 AND 9223372036854775807 AND scale(` + get + `::numeric) = 0 THEN ` + get + `::numeric::bigint END)`
	case query.Float:
		pg = `(CASE WHEN ` + typ + ` = 'number' THEN ` + get + `::double precision END)`
	case query.Boolean:
		pg = `(CASE WHEN ` + typ + ` = 'boolean' THEN ` + get + `::boolean END)`
	default:
		pg = get
	}
	return [2]string{query.SQLite: lite, query.Postgres: pg}
}

// Schema is the contacts filter-language schema of one workspace. It is
// built per request (custom attributes and the time zone may change) and is
// safe for concurrent use once built.
type Schema struct {
	loc            *time.Location
	custom         map[string]*attribute.Attribute
	companyCustom  map[string]*attribute.Attribute
	loadSegment    func(id string) ([]byte, error)
	companyBuiltin map[string]attribute.Builtin
}

// NewSchema returns the schema of a workspace: loc is its time zone,
// attrs its custom attributes (contact and company; archived ones are
// ignored), and segment loads a segment's stored filter (already
// restricted to the segment's person type) by id — it should return an
// error wrapping a not-found sentinel for unknown ids.
func NewSchema(loc *time.Location, attrs []*attribute.Attribute, segment func(id string) ([]byte, error)) *Schema {
	if loc == nil {
		loc = time.UTC
	}
	s := &Schema{loc: loc, custom: map[string]*attribute.Attribute{}, companyCustom: map[string]*attribute.Attribute{},
		loadSegment: segment, companyBuiltin: map[string]attribute.Builtin{}}
	for _, a := range attrs {
		if a.Archived || !safeAttrName(a.Name) {
			continue
		}
		switch a.Model {
		case attribute.ModelContact:
			s.custom[a.Name] = a
		case attribute.ModelCompany:
			s.companyCustom[a.Name] = a
		}
	}
	for _, b := range attribute.CompanyBuiltins {
		if b.Column != "" {
			s.companyBuiltin[b.Name] = b
		}
	}
	return s
}

var _ query.Schema = (*Schema)(nil)

// Field implements query.Schema.
func (s *Schema) Field(name string) (query.Field, error) {
	if f, ok := builtinFields[name]; ok {
		return f, nil
	}
	switch name {
	case "tag_id":
		return tagField, nil
	case "segment_id":
		return query.Field{Name: name, Kind: query.ID, Segment: true}, nil
	}
	if attr, ok := strings.CutPrefix(name, "custom_attributes."); ok {
		if a, ok := s.custom[attr]; ok {
			k := kindOf(a.DataType)
			f := query.Field{Name: name, Kind: k, Expr: customExpr("c.custom_attributes", attr, k)}
			if k == query.Date {
				f.Ops = dateOps
			}
			return f, nil
		}
		return query.Field{}, query.UnknownField(name)
	}
	if attr, ok := strings.CutPrefix(name, "company."); ok {
		m := companyMulti
		var f query.Field
		if custom, ok := strings.CutPrefix(attr, "custom_attributes."); ok {
			a, ok := s.companyCustom[custom]
			if !ok {
				return query.Field{}, query.UnknownField(name)
			}
			f.Kind = kindOf(a.DataType)
			m.Expr = customExpr("co.custom_attributes", custom, f.Kind)
		} else {
			b, ok := s.companyBuiltin[attr]
			if !ok {
				return query.Field{}, query.UnknownField(name)
			}
			f.Kind = kindOf(b.DataType)
			if attr == "id" {
				f.Kind = query.ID
			}
			m.Expr = both("co." + b.Column)
		}
		f.Name, f.Multi = name, &m
		if f.Kind == query.Date {
			f.Ops = dateOps
		}
		return f, nil
	}
	return query.Field{}, query.UnknownField(name)
}

// Sortable resolves a field search results can be sorted by: any
// single-valued field.
func (s *Schema) Sortable(name string) (query.Field, error) { return query.Sortable(s, name) }

// Segment implements query.Schema.
func (s *Schema) Segment(id string) ([]byte, error) {
	if s.loadSegment == nil {
		return nil, fmt.Errorf("segment %q: no segments", id)
	}
	return s.loadSegment(id)
}

// Location implements query.Schema: the workspace time zone.
func (s *Schema) Location() *time.Location { return s.loc }

// Record is a contact with its related rows, evaluated in memory by
// query.Filter.Match with exactly the semantics of the SQL the Schema
// compiles to.
type Record struct {
	Contact *Contact
	// TagIDs are all the contact's tag ids (Contact.TagIDs holds only the
	// first ten).
	TagIDs []string
	// Companies hold, for each company of the contact, its searchable
	// values keyed by the field name after "company." ("id", "name",
	// "size", "custom_attributes.tier", …); values are string, int64,
	// float64 or bool, nil or missing when absent.
	Companies []map[string]any
}

var _ query.Record = (*Record)(nil)

// Values implements query.Record.
func (r *Record) Values(field string) []any {
	if get, ok := builtinGetters[field]; ok {
		return one(get(r.Contact))
	}
	switch field {
	case "tag_id":
		vs := make([]any, len(r.TagIDs))
		for i, t := range r.TagIDs {
			vs[i] = t
		}
		return vs
	}
	if attr, ok := strings.CutPrefix(field, "custom_attributes."); ok {
		if v, ok := r.Contact.CustomAttributes[attr]; ok {
			return one(v)
		}
		return nil
	}
	if attr, ok := strings.CutPrefix(field, "company."); ok {
		vs := make([]any, 0, len(r.Companies))
		for _, co := range r.Companies {
			vs = append(vs, co[attr])
		}
		return vs
	}
	return nil // absent fields (ios_*, android_*) and unknown names
}

func one(v any) []any {
	if v == nil {
		return nil
	}
	return []any{v}
}

func ps(p *string) any {
	if p == nil {
		return nil
	}
	return *p
}

func pi(p *int64) any {
	if p == nil {
		return nil
	}
	return *p
}

// emailDomain is the searchable email_domain, absent without an email and
// otherwise what EmailDomain shows.
func emailDomain(email *string) any {
	if email == nil {
		return nil
	}
	_, d, _ := strings.Cut(*email, "@")
	return d
}
