package web

// The filter builder (docs/web.md "Filter builder"): the field metadata
// filter.js builds its menus from, and the helpers pages use to read a
// filter a form posted. Fields and operators come from the same schemas the
// REST API parses with (package query), so the builder offers nothing the
// server would refuse.

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/parleyhq/parley/internal/attribute"
	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/conversation"
	"github.com/parleyhq/parley/internal/query"
	"github.com/parleyhq/parley/internal/store"
	"github.com/parleyhq/parley/internal/team"
	"github.com/parleyhq/parley/internal/workspace"
)

//go:embed assets/filter.js
var filterJS []byte

//go:embed assets/filter.css
var filterCSS []byte

// Filter models: what a filter selects. "assignment_rules" is the
// condition language of assignment rules (package assign).
const (
	modelContacts      = "contacts"
	modelCompanies     = "companies"
	modelConversations = "conversations"
	modelRules         = "assignment_rules"
)

// filterRoutes registers the builder's assets and field metadata, then the
// pages that use it.
func (s *Server) filterRoutes(mux *http.ServeMux) {
	mux.Handle("GET /app/assets/filter.js", asset("text/javascript; charset=utf-8", filterJS))
	mux.Handle("GET /app/assets/filter.css", asset("text/css; charset=utf-8", filterCSS))
	mux.Handle("GET /app/filter/fields", s.page(nil, s.filterFieldsJSON))
	s.segmentRoutes(mux)
	s.ruleRoutes(mux)
}

// builderPage parses a page template that may use the filter builder:
// {{template "filterbuilder" (builder MODEL ID FILTER ERROR)}}.
func (s *Server) builderPage(name string) *template.Template {
	f := template.FuncMap{"date": funcs["date"], "inc": func(i int) int { return i + 1 }, "builder": func(model, id, value, msg string) filterBuilder {
		return filterBuilder{Model: model, ID: id, Value: value, Err: msg}
	}}
	return template.Must(template.New("layout.html").Funcs(f).ParseFS(templateFS, "templates/layout.html", "templates/filterbuilder.html", "templates/settingsnav.html", "templates/"+name+".html"))
}

// filterBuilder is what templates/filterbuilder.html renders: the
// textarea filter.js turns into the builder.
type filterBuilder struct {
	Model, ID, Value, Err string
}

// filterField is one field the builder offers.
type filterField struct {
	Field string `json:"field"`
	Label string `json:"label"`
	// Type picks the value input: string, integer, float, boolean, date
	// (a calendar day), datetime (an instant) or options.
	Type string `json:"type"`
	// Kind is the query kind, so that option values are sent as numbers
	// for integer fields.
	Kind string `json:"kind"`
	// Operators are the filter language's operators the field takes, plus
	// "=null" and "!=null": = and != with the value null.
	Operators []string       `json:"operators"`
	Options   []filterOption `json:"options,omitempty"`
	// Zone is the workspace time zone dates are read in (date and
	// datetime fields).
	Zone string `json:"zone,omitempty"`
}

type filterOption struct {
	Value string `json:"value"`
	Label string `json:"label"`
}

// storeFailure is a storage error met while loading a segment during a
// parse: the server's problem, not the filter's.
type storeFailure struct{ err error }

func (e *storeFailure) Error() string { return e.err.Error() }
func (e *storeFailure) Unwrap() error { return e.err }

// filterSchema is the schema of a model in the teammate's workspace, the
// one the REST API uses for it.
func (s *Server) filterSchema(ctx context.Context, v *visit, model string) (query.Schema, error) {
	wsID := v.ws.ID
	switch model {
	case modelContacts, modelCompanies:
		attrs, err := store.NewAttributes(s.db).Custom(ctx, wsID, "", false)
		if err != nil {
			return nil, err
		}
		segs := store.NewSegments(s.db)
		load := func(id string) ([]byte, error) {
			raw, err := segs.EffectiveFilter(ctx, wsID, id)
			var qe *query.Error
			if err != nil && !errors.Is(err, store.ErrNotFound) && !errors.As(err, &qe) {
				return nil, &storeFailure{err}
			}
			return raw, err
		}
		cs := contact.NewSchema(v.ws.Location(), attrs, load)
		if model == modelCompanies {
			return &companySchema{contacts: cs}, nil
		}
		return cs, nil
	case modelConversations:
		attrs, err := store.NewConversationAttributes(s.db).List(ctx, wsID, false)
		if err != nil {
			return nil, err
		}
		return conversation.NewSchema(v.ws.Location(), attrs, true), nil
	case modelRules:
		return store.NewAssignmentRules(s.db).Schema(ctx, wsID)
	}
	return nil, pageErr(http.StatusBadRequest, "Unknown filter model", "Filters are about contacts, companies, conversations or assignment_rules.")
}

// parseFilterParam parses a filter a form posted for model, with the
// REST API's validation. An empty filter is no filter (nil, nil). A bad
// filter is a *query.Error whose message is safe to show beside the
// builder; other errors are the server's.
func (s *Server) parseFilterParam(ctx context.Context, v *visit, model, raw string) (*query.Filter, error) {
	if strings.TrimSpace(raw) == "" {
		return nil, nil
	}
	schema, err := s.filterSchema(ctx, v, model)
	if err != nil {
		return nil, err
	}
	f, err := query.Parse([]byte(raw), schema)
	var sf *storeFailure
	if errors.As(err, &sf) {
		return nil, sf.err
	}
	return f, err
}

// filterMessage is the message shown for a filter that does not parse,
// or "" when err is not the filter's fault.
func filterMessage(err error) string {
	var qe *query.Error
	if errors.As(err, &qe) {
		return "The filter is not valid: " + qe.Message
	}
	return ""
}

// compactFilter is a parsed filter's JSON, compacted as the API stores
// it.
func compactFilter(raw string) []byte {
	var b bytes.Buffer
	if err := json.Compact(&b, []byte(raw)); err != nil {
		return []byte(strings.TrimSpace(raw))
	}
	return b.Bytes()
}

func (s *Server) filterFieldsJSON(w http.ResponseWriter, r *http.Request, v *visit) error {
	fields, err := s.filterFields(r.Context(), v, r.URL.Query().Get("model"))
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	return json.NewEncoder(w).Encode(fields)
}

// filterFields lists the fields the builder offers for model, each
// resolved through the model's schema (its kind and operators are the
// schema's), with options for tags, segments, teammates and teams.
func (s *Server) filterFields(ctx context.Context, v *visit, model string) ([]filterField, error) {
	schema, err := s.filterSchema(ctx, v, model)
	if err != nil {
		return nil, err
	}
	wsID := v.ws.ID
	tags, err := store.NewTags(s.db).List(ctx, wsID)
	if err != nil {
		return nil, err
	}
	tagOpts := idOptions(tags, func(t *store.Tag) (int64, string) { return t.ID, t.Name })
	admins, err := s.ws.Admins(ctx, wsID)
	if err != nil {
		return nil, err
	}
	adminOpts := idOptions(admins, func(a *workspace.Admin) (int64, string) { return a.ID, a.Name })
	sort.SliceStable(adminOpts, func(i, j int) bool { return adminOpts[i].Label < adminOpts[j].Label })
	var list []filterField
	zone := v.ws.Location().String()
	add := func(name, label string, opts []filterOption) {
		f, err := schema.Field(name)
		if err != nil {
			return // not in this schema (or version): not offered
		}
		ops := f.Ops
		if ops == nil {
			ops = query.KindOps(f.Kind)
		}
		ff := filterField{Field: name, Label: label, Type: f.Kind.String(), Kind: f.Kind.String(), Operators: ops, Options: opts}
		switch {
		case f.Segment:
			ff.Type, ff.Kind, ff.Operators = "options", "id", []string{"=", "!="}
		case opts != nil:
			ff.Type = "options"
		case f.Kind == query.ID:
			ff.Type = "string"
		case f.Kind == query.Date || f.Kind == query.DateTime:
			ff.Zone = zone
		}
		if !f.Segment {
			ff.Operators = withNull(ff.Operators)
		}
		list = append(list, ff)
	}
	attrs, err := store.NewAttributes(s.db).Custom(ctx, wsID, "", false)
	if err != nil {
		return nil, err
	}
	contactFields := func(prefix, labelPrefix string, withSegments bool) error {
		for _, b := range attribute.ContactBuiltins {
			var opts []filterOption
			switch b.Name {
			case "role":
				opts = []filterOption{{"user", "User"}, {"lead", "Lead"}}
			case "owner_id":
				opts = adminOpts
			}
			add(prefix+b.Name, labelPrefix+b.Label, opts)
		}
		for _, a := range attrs {
			if a.Model == attribute.ModelContact {
				add(prefix+"custom_attributes."+a.Name, labelPrefix+attrLabel(a), stringOptions(a.Options))
			}
		}
		add(prefix+"tag_id", labelPrefix+"Tag", tagOpts)
		if withSegments {
			segs, err := store.NewSegments(s.db).List(ctx, wsID)
			if err != nil {
				return err
			}
			opts := make([]filterOption, len(segs))
			for i, sg := range segs {
				opts[i] = filterOption{sg.ID, sg.Name}
			}
			add(prefix+"segment_id", labelPrefix+"Segment", opts)
		}
		for _, b := range attribute.CompanyBuiltins {
			add(prefix+"company."+b.Name, labelPrefix+"Company: "+strings.TrimPrefix(b.Label, "Company "), nil)
		}
		for _, a := range attrs {
			if a.Model == attribute.ModelCompany {
				add(prefix+"company.custom_attributes."+a.Name, labelPrefix+"Company: "+attrLabel(a), stringOptions(a.Options))
			}
		}
		return nil
	}
	switch model {
	case modelContacts:
		if err := contactFields("", "", true); err != nil {
			return nil, err
		}
	case modelRules:
		add("source.body", "Message text", nil)
		add("source.subject", "Email subject", nil)
		add("source.type", "Channel", []filterOption{{"conversation", "Messenger"}, {"email", "Email"}})
		add("source.url", "Page URL", nil)
		if err := contactFields("contact.", "Contact: ", false); err != nil {
			return nil, err
		}
	case modelCompanies:
		for _, b := range attribute.CompanyBuiltins {
			add(b.Name, b.Label, nil)
		}
		for _, a := range attrs {
			if a.Model == attribute.ModelCompany {
				add("custom_attributes."+a.Name, attrLabel(a), stringOptions(a.Options))
			}
		}
		add("tag_id", "Tag", tagOpts)
	case modelConversations:
		teams, err := s.teams.List(ctx, wsID)
		if err != nil {
			return nil, err
		}
		teamOpts := idOptions(teams, func(t *team.Team) (int64, string) { return t.ID, t.Name })
		add("state", "State", []filterOption{{"open", "Open"}, {"snoozed", "Snoozed"}, {"closed", "Closed"}})
		add("priority", "Priority", []filterOption{{"none", "None"}, {"low", "Low"}, {"medium", "Medium"}, {"high", "High"}, {"urgent", "Urgent"}})
		add("admin_assignee_id", "Assigned teammate", adminOpts)
		add("team_assignee_id", "Assigned team", teamOpts)
		add("tag_ids", "Tag", tagOpts)
		add("teammate_ids", "Teammate who replied", adminOpts)
		add("read", "Read", nil)
		add("source.body", "Message text", nil)
		add("source.subject", "Email subject", nil)
		add("source.type", "Channel", nil)
		add("source.url", "Page URL", nil)
		add("source.author.email", "Author email", nil)
		add("source.author.name", "Author name", nil)
		add("contact_ids", "Contact id", nil)
		add("created_at", "Created at", nil)
		add("updated_at", "Updated at", nil)
		add("waiting_since", "Waiting since", nil)
		add("snoozed_until", "Snoozed until", nil)
		add("conversation_rating.score", "Rating", nil)
		add("statistics.count_reopens", "Times reopened", nil)
		convAttrs, err := store.NewConversationAttributes(s.db).List(ctx, wsID, false)
		if err != nil {
			return nil, err
		}
		for _, a := range convAttrs {
			add("custom_attributes."+a.Name, a.Name, nil)
		}
	}
	return list, nil
}

// withNull adds the builder's "is unknown" (=null: = with value null) and
// "has any value" (!=null) where the field takes = and !=.
func withNull(ops []string) []string {
	out := append([]string(nil), ops...)
	for _, op := range ops {
		if op == "=" || op == "!=" {
			out = append(out, op+"null")
		}
	}
	return out
}

// idOptions are menu options of numeric ids and names.
func idOptions[T any](list []T, of func(T) (int64, string)) []filterOption {
	out := make([]filterOption, len(list))
	for i, x := range list {
		id, name := of(x)
		out[i] = filterOption{strconv.FormatInt(id, 10), name}
	}
	return out
}

func attrLabel(a *attribute.Attribute) string {
	if a.Label != "" {
		return a.Label
	}
	return a.Name
}

func stringOptions(opts []string) []filterOption {
	if len(opts) == 0 {
		return nil
	}
	out := make([]filterOption, len(opts))
	for i, o := range opts {
		out[i] = filterOption{o, o}
	}
	return out
}

// companySchema is the filter language over companies (aliased "co"):
// the built-in company attributes stored in a column, the workspace's
// custom company attributes and tag_id — the fields contacts reach as
// company.<field>, each typed exactly as there.
type companySchema struct{ contacts *contact.Schema }

var _ query.Schema = (*companySchema)(nil)

var companyTagField = query.Field{Name: "tag_id", Kind: query.ID, Ops: []string{"=", "!="}, Multi: &query.Multi{
	From: "company_tags ct",
	Join: "ct.workspace_id = co.workspace_id AND ct.company_id = co.id",
	Expr: [2]string{"CAST(ct.tag_id AS TEXT)", "CAST(ct.tag_id AS TEXT)"},
}}

// Field implements query.Schema.
func (s *companySchema) Field(name string) (query.Field, error) {
	if name == "tag_id" {
		return companyTagField, nil
	}
	f, err := s.contacts.Field("company." + name)
	if err != nil || f.Multi == nil {
		return query.Field{}, query.UnknownField(name)
	}
	f.Name, f.Expr, f.Multi = name, f.Multi.Expr, nil
	return f, nil
}

// Segment implements query.Schema: company filters have no segments.
func (s *companySchema) Segment(string) ([]byte, error) {
	return nil, &query.Error{Field: "segment_id", Message: "company filters cannot reference segments"}
}

// Location implements query.Schema.
func (s *companySchema) Location() *time.Location { return s.contacts.Location() }

// opWords are the builder's words for the operators (filter.js has the
// same).
var opWords = map[string]string{
	"=": "is", "!=": "is not", "IN": "is any of", "NIN": "is none of", "<": "less than", ">": "greater than",
	"<=": "at most", ">=": "at least", "~": "contains", "!~": "does not contain", "^": "starts with", "$": "ends with",
	"=null": "is unknown", "!=null": "has any value",
}

var dateWords = map[string]string{"=": "is on", "!=": "is not on", "<": "is before", ">": "is after", "<=": "is on or before", ">=": "is on or after"}

// describeFilter renders a stored filter as the builder shows it, in one
// line: `plan is "pro" and (Tag is vip or Tag is beta)`. Fields the
// builder does not know show their name; a filter that is not JSON shows
// as it is.
func describeFilter(raw []byte, fields []filterField) string {
	byName := map[string]filterField{}
	for _, f := range fields {
		byName[f.Field] = f
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil {
		return string(raw)
	}
	var walk func(v any, nested bool) string
	walk = func(v any, nested bool) string {
		obj, _ := v.(map[string]any)
		op, _ := obj["operator"].(string)
		if list, ok := obj["value"].([]any); ok && (op == "AND" || op == "OR") {
			parts := make([]string, len(list))
			for i, kid := range list {
				parts[i] = walk(kid, true)
			}
			s := strings.Join(parts, " "+strings.ToLower(op)+" ")
			if nested && len(list) > 1 {
				s = "(" + s + ")"
			}
			return s
		}
		name, _ := obj["field"].(string)
		f, ok := byName[name]
		if !ok {
			f = filterField{Field: name, Label: name}
		}
		val := obj["value"]
		if val == nil {
			return f.Label + " " + opWords[op+"null"]
		}
		words := opWords[op]
		if w, ok := dateWords[op]; ok && (f.Type == "date" || f.Type == "datetime") {
			words = w
		}
		vals, ok := val.([]any)
		if !ok {
			vals = []any{val}
		}
		shown := make([]string, len(vals))
		for i, x := range vals {
			shown[i] = describeValue(f, x)
		}
		return f.Label + " " + words + " " + strings.Join(shown, ", ")
	}
	return walk(v, false)
}

func describeValue(f filterField, v any) string {
	text := fmt.Sprint(v)
	for _, o := range f.Options {
		if o.Value == text {
			return o.Label
		}
	}
	if n, ok := v.(json.Number); ok && (f.Type == "date" || f.Type == "datetime") {
		if sec, err := n.Int64(); err == nil {
			loc, err := time.LoadLocation(f.Zone)
			if err != nil {
				loc = time.UTC
			}
			if f.Type == "date" {
				return time.Unix(sec, 0).In(loc).Format("2 Jan 2006")
			}
			return time.Unix(sec, 0).In(loc).Format("2 Jan 2006 15:04")
		}
	}
	if s, ok := v.(string); ok {
		return strconv.Quote(s)
	}
	return text
}
