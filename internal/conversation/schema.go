package conversation

import (
	"strconv"
	"strings"
	"time"

	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/query"
)

// The searchable fields of conversations (POST /conversations/search), for
// the filter language of package query. SQL expressions are written over
// the conversations table aliased "cv". Fields follow Intercom's list:
//
//   - id, source.id (the conversation id), state, open, read, priority,
//     admin_assignee_id, team_assignee_id;
//   - created_at, updated_at, waiting_since, snoozed_until and the
//     statistics' times: Unix seconds compared exactly (all of = != < > <=
//     >=), so that "updated since" polling works to the second;
//   - source.type, source.delivered_as, source.subject, source.url,
//     source.author.{id,type,name,email}; source.body matches its stored
//     text with ~ and !~ (contains, ignoring ASCII case) only;
//   - contact_ids, teammate_ids (admins who wrote a part), tag_ids:
//     multi-valued ids;
//   - statistics.* and conversation_rating.{score,remark,contact_id,
//     admin_id,replied_at} (requested_at is never recorded: absent);
//   - custom_attributes.<name> of live conversation attributes, typed by
//     their data type;
//   - channel_initiated and ai_agent.*: accepted, always absent;
//     ai_agent_participated: always false.
//
// priority compares in the vocabulary of the request's version:
// priority/not_priority up to 2.15, none/low/medium/high/urgent from 2.16.

func both(e string) [2]string { return [2]string{e, e} }

// jsonField is a value of a JSON object column; pgCol is the column as
// JSONB on PostgreSQL (a cast for TEXT columns).
func jsonField(name, liteCol, pgCol, key string, k query.Kind) query.Field {
	ek := k
	if k == query.DateTime || k == query.Date {
		ek = query.Integer
	}
	if k == query.ID {
		ek = query.String
	}
	lite, pg := contact.CustomExpr(liteCol, key, ek)[query.SQLite], contact.CustomExpr(pgCol, key, ek)[query.Postgres]
	if k == query.ID {
		lite = "CAST(" + lite + " AS TEXT)"
	}
	return query.Field{Name: name, Kind: k, Expr: [2]string{query.SQLite: lite, query.Postgres: pg}}
}

var strOps = []string{"=", "!=", "IN", "NIN"}

var fixedFields = func() map[string]query.Field {
	m := map[string]query.Field{}
	add := func(f query.Field) { m[f.Name] = f }
	add(query.Field{Name: "id", Kind: query.ID, Expr: both("CAST(cv.id AS TEXT)")})
	add(query.Field{Name: "source.id", Kind: query.ID, Expr: both("CAST(cv.id AS TEXT)")})
	for _, n := range []string{"created_at", "updated_at", "waiting_since", "snoozed_until"} {
		add(query.Field{Name: n, Kind: query.DateTime, Expr: both("cv." + n)})
	}
	add(query.Field{Name: "state", Kind: query.String, Ops: strOps, Expr: both("cv.state")})
	add(query.Field{Name: "open", Kind: query.Boolean, Expr: both("(cv.state = 'open')")})
	add(query.Field{Name: "read", Kind: query.Boolean, Expr: both("cv.read")})
	add(query.Field{Name: "admin_assignee_id", Kind: query.Integer, Expr: both("cv.admin_assignee_id")})
	add(query.Field{Name: "team_assignee_id", Kind: query.Integer, Expr: both("cv.team_assignee_id")})
	add(query.Field{Name: "source.type", Kind: query.String, Expr: both("cv.source_type")})
	add(query.Field{Name: "source.delivered_as", Kind: query.String, Expr: both("cv.source_delivered_as")})
	add(query.Field{Name: "source.subject", Kind: query.String, Expr: both("NULLIF(cv.source_subject, '')")})
	add(query.Field{Name: "source.body", Kind: query.String, Ops: []string{"~", "!~"}, Expr: both("cv.source_body")})
	add(query.Field{Name: "source.url", Kind: query.String, Expr: both("cv.source_url")})
	for _, k := range []string{"id", "type", "name"} {
		add(jsonField("source.author."+k, "cv.source_author", "(cv.source_author::jsonb)", k, query.String))
	}
	email := jsonField("source.author.email", "cv.source_author", "(cv.source_author::jsonb)", "email", query.String)
	email.Expr = [2]string{query.SQLite: "NULLIF(" + email.Expr[0] + ", '')", query.Postgres: "NULLIF(" + email.Expr[1] + ", '')"}
	add(email)
	add(query.Field{Name: "contact_ids", Kind: query.ID, Multi: &query.Multi{
		From: "conversation_contacts qcc", Join: "qcc.workspace_id = cv.workspace_id AND qcc.conversation_id = cv.id",
		Expr: both("qcc.contact_id")}})
	add(query.Field{Name: "teammate_ids", Kind: query.ID, Multi: &query.Multi{
		From: "conversation_parts qtp", Join: "qtp.workspace_id = cv.workspace_id AND qtp.conversation_id = cv.id AND qtp.author_type = 'admin'",
		Expr: both("qtp.author_id")}})
	add(query.Field{Name: "tag_ids", Kind: query.ID, Multi: &query.Multi{
		From: "conversation_tags qct", Join: "qct.workspace_id = cv.workspace_id AND qct.conversation_id = cv.id",
		Expr: both("CAST(qct.tag_id AS TEXT)")}})
	for _, n := range statInts {
		add(jsonField("statistics."+n, "cv.statistics", "cv.statistics", n, query.Integer))
	}
	for _, n := range statTimes {
		add(jsonField("statistics."+n, "cv.statistics", "cv.statistics", n, query.DateTime))
	}
	add(jsonField("statistics.last_closed_by_id", "cv.statistics", "cv.statistics", "last_closed_by_id", query.ID))
	add(jsonField("conversation_rating.score", "cv.rating", "(cv.rating::jsonb)", "rating", query.Integer))
	add(jsonField("conversation_rating.remark", "cv.rating", "(cv.rating::jsonb)", "remark", query.String))
	add(jsonField("conversation_rating.contact_id", "cv.rating", "(cv.rating::jsonb)", "contact_id", query.String))
	add(jsonField("conversation_rating.replied_at", "cv.rating", "(cv.rating::jsonb)", "created_at", query.DateTime))
	adminID := jsonField("conversation_rating.admin_id", "cv.rating", "(cv.rating::jsonb)", "admin_id", query.ID)
	add(adminID)
	adminID.Name = "conversation_rating.admin_d" // Intercom's documented spelling
	add(adminID)
	nullText := [2]string{query.SQLite: "CAST(NULL AS TEXT)", query.Postgres: "CAST(NULL AS TEXT)"}
	nullInt := [2]string{query.SQLite: "CAST(NULL AS INTEGER)", query.Postgres: "CAST(NULL AS BIGINT)"}
	add(query.Field{Name: "conversation_rating.requested_at", Kind: query.DateTime, Expr: nullInt})
	add(query.Field{Name: "channel_initiated", Kind: query.String, Expr: nullText})
	for _, n := range []string{"resolution_state", "last_answer_type", "rating_remark", "source_type", "source_title"} {
		add(query.Field{Name: "ai_agent." + n, Kind: query.String, Expr: nullText})
	}
	add(query.Field{Name: "ai_agent.rating", Kind: query.Integer, Expr: nullInt})
	add(query.Field{Name: "ai_agent_participated", Kind: query.Boolean, Expr: [2]string{query.SQLite: "0", query.Postgres: "false"}})
	return m
}()

var statInts = []string{"time_to_assignment", "time_to_admin_reply", "time_to_first_close", "time_to_last_close",
	"median_time_to_reply", "count_reopens", "count_assignments", "count_conversation_parts"}

var statTimes = []string{"first_contact_reply_at", "first_assignment_at", "first_admin_reply_at", "first_close_at",
	"last_assignment_at", "last_assignment_admin_reply_at", "last_contact_reply_at", "last_admin_reply_at", "last_close_at"}

// Schema is the conversations filter-language schema of one workspace
// and API version.
type Schema struct {
	loc    *time.Location
	v216   bool
	custom map[string]*Attribute
}

var _ query.Schema = (*Schema)(nil)

// NewSchema returns the schema of a workspace: loc is its time zone, attrs
// its conversation attributes (archived ones are ignored), v216 whether
// priority uses the vocabulary of 2.16.
func NewSchema(loc *time.Location, attrs []*Attribute, v216 bool) *Schema {
	if loc == nil {
		loc = time.UTC
	}
	s := &Schema{loc: loc, v216: v216, custom: map[string]*Attribute{}}
	for _, a := range attrs {
		if !a.Archived && ValidAttrName(a.Name) {
			s.custom[a.Name] = a
		}
	}
	return s
}

// Field implements query.Schema.
func (s *Schema) Field(name string) (query.Field, error) {
	if f, ok := fixedFields[name]; ok {
		return f, nil
	}
	if name == "priority" {
		f := query.Field{Name: name, Kind: query.String, Ops: strOps, Expr: both("cv.priority")}
		if !s.v216 {
			f.Expr = both("(CASE WHEN cv.priority = 'none' THEN 'not_priority' ELSE 'priority' END)")
		}
		return f, nil
	}
	if attr, ok := strings.CutPrefix(name, "custom_attributes."); ok {
		if a, ok := s.custom[attr]; ok {
			f := jsonField(name, "cv.custom_attributes", "cv.custom_attributes", attr, a.Kind())
			return f, nil
		}
	}
	return query.Field{}, query.UnknownField(name)
}

// Sortable resolves a field results can be sorted by: any single-valued
// field; ids sort as numbers, not as their decimal strings.
func (s *Schema) Sortable(name string) (query.Field, error) {
	f, err := query.Sortable(s, name)
	if err == nil && (name == "id" || name == "source.id") {
		f = query.Field{Name: name, Kind: query.Integer, Expr: both("cv.id")}
	}
	return f, err
}

// Segment implements query.Schema: conversations have no segments.
func (s *Schema) Segment(id string) ([]byte, error) {
	return nil, &query.Error{Field: "segment_id", Message: "conversation searches cannot reference segments"}
}

// Location implements query.Schema.
func (s *Schema) Location() *time.Location { return s.loc }

// Record is a conversation (loaded with its contacts, tags and teammates)
// evaluated in memory by query.Filter.Match, with the semantics of the SQL
// the Schema compiles to.
type Record struct {
	C    *Conversation
	V216 bool
}

var _ query.Record = Record{}

func str(s string) []any {
	if s == "" {
		return nil
	}
	return []any{s}
}

func opt(p *int64) []any {
	if p == nil {
		return nil
	}
	return []any{*p}
}

// Values implements query.Record.
func (r Record) Values(field string) []any {
	c := r.C
	switch field {
	case "id", "source.id":
		return []any{c.IDString()}
	case "created_at":
		return []any{c.CreatedAt}
	case "updated_at":
		return []any{c.UpdatedAt}
	case "waiting_since":
		return opt(c.WaitingSince)
	case "snoozed_until":
		return opt(c.SnoozedUntil)
	case "state":
		return []any{c.State}
	case "open":
		return []any{c.State == StateOpen}
	case "read":
		return []any{c.Read}
	case "priority":
		if r.V216 {
			return []any{c.Priority}
		}
		if c.Priority == "none" {
			return []any{"not_priority"}
		}
		return []any{"priority"}
	case "admin_assignee_id":
		return opt(c.AdminAssigneeID)
	case "team_assignee_id":
		return opt(c.TeamAssigneeID)
	case "source.type":
		return []any{c.Source.Type}
	case "source.delivered_as":
		return []any{c.Source.DeliveredAs}
	case "source.subject":
		return str(c.Source.Subject)
	case "source.body":
		return []any{c.Source.Body}
	case "source.url":
		if c.Source.URL == nil {
			return nil
		}
		return []any{*c.Source.URL}
	case "source.author.id":
		return []any{c.Source.Author.ID}
	case "source.author.type":
		return []any{c.Source.Author.Type}
	case "source.author.name":
		if c.Source.Author.Name == nil {
			return nil
		}
		return []any{*c.Source.Author.Name}
	case "source.author.email":
		return str(c.Source.Author.Email)
	case "contact_ids":
		out := make([]any, len(c.Contacts))
		for i, ref := range c.Contacts {
			out[i] = ref.ID
		}
		return out
	case "teammate_ids":
		out := make([]any, len(c.Teammates))
		for i, id := range c.Teammates {
			out[i] = strconv.FormatInt(id, 10)
		}
		return out
	case "tag_ids":
		out := make([]any, len(c.Tags))
		for i, t := range c.Tags {
			out[i] = strconv.FormatInt(t.ID, 10)
		}
		return out
	case "statistics.last_closed_by_id":
		if c.Stats.LastClosedByID == nil {
			return nil
		}
		return []any{strconv.FormatInt(*c.Stats.LastClosedByID, 10)}
	case "ai_agent_participated":
		return []any{false}
	}
	if n, ok := strings.CutPrefix(field, "statistics."); ok {
		return r.stat(n)
	}
	if n, ok := strings.CutPrefix(field, "conversation_rating."); ok {
		if c.Rating == nil {
			return nil
		}
		switch n {
		case "score":
			return []any{int64(c.Rating.Rating)}
		case "remark":
			return []any{c.Rating.Remark}
		case "contact_id":
			return []any{c.Rating.ContactID}
		case "replied_at":
			return []any{c.Rating.CreatedAt}
		case "admin_id", "admin_d":
			if c.Rating.AdminID == nil {
				return nil
			}
			return []any{strconv.FormatInt(*c.Rating.AdminID, 10)}
		}
		return nil
	}
	if n, ok := strings.CutPrefix(field, "custom_attributes."); ok {
		if v, ok := c.CustomAttributes[n]; ok && v != nil {
			return []any{v}
		}
	}
	return nil
}

func (r Record) stat(name string) []any {
	s := &r.C.Stats
	switch name {
	case "count_reopens":
		return []any{int64(s.CountReopens)}
	case "count_assignments":
		return []any{int64(s.CountAssignments)}
	case "count_conversation_parts":
		return []any{int64(s.CountConversationParts)}
	}
	p := map[string]*int64{
		"time_to_assignment": s.TimeToAssignment, "time_to_admin_reply": s.TimeToAdminReply,
		"time_to_first_close": s.TimeToFirstClose, "time_to_last_close": s.TimeToLastClose,
		"median_time_to_reply": s.MedianTimeToReply, "first_contact_reply_at": s.FirstContactReplyAt,
		"first_assignment_at": s.FirstAssignmentAt, "first_admin_reply_at": s.FirstAdminReplyAt,
		"first_close_at": s.FirstCloseAt, "last_assignment_at": s.LastAssignmentAt,
		"last_assignment_admin_reply_at": s.LastAssignmentAdminReplyAt, "last_contact_reply_at": s.LastContactReplyAt,
		"last_admin_reply_at": s.LastAdminReplyAt, "last_close_at": s.LastCloseAt,
	}[name]
	return opt(p)
}
