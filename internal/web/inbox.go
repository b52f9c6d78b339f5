package web

// The inbox (docs/web.md "Inbox"): the conversation list with its views,
// counts, sorts and keyset pages, and the conversation page with its
// composer and actions. Lists go through the conversation search
// (store.Conversations.Search over the filter language); every action goes
// through store.Conversations.Change with the rules of package
// conversation, as the REST API does, so the same events are appended.

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"html"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/microcosm-cc/bluemonday"

	"github.com/parleyhq/parley/internal/conversation"
	"github.com/parleyhq/parley/internal/eventlog"
	"github.com/parleyhq/parley/internal/query"
	"github.com/parleyhq/parley/internal/store"
	"github.com/parleyhq/parley/internal/team"
)

const (
	inboxPerPage = 25
	maxReplyBody = 65536
)

// bodyPolicy keeps the formatting a message may carry (paragraphs, links,
// lists, images, code) and drops scripts, styles, event handlers and
// javascript: URLs; textPolicy keeps only the text, for list snippets.
var (
	bodyPolicy = bluemonday.UGCPolicy().RequireNoFollowOnLinks(true).AddTargetBlankToFullyQualifiedLinks(true)
	textPolicy = bluemonday.StrictPolicy()
)

func (s *Server) inboxRoutes(mux *http.ServeMux) {
	f := template.FuncMap{
		"date": funcs["date"],
		"when": func(unix int64) string { return time.Unix(unix, 0).UTC().Format("2 Jan 15:04") },
		"safe": func(body *string) template.HTML {
			if body == nil {
				return ""
			}
			return template.HTML(bodyPolicy.Sanitize(*body)) //nolint:gosec // sanitized just now
		},
	}
	for _, name := range []string{"inbox", "conversation"} {
		s.pages[name] = template.Must(template.New("layout.html").Funcs(f).ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html"))
	}
	s.convs = store.NewConversations(s.db)
	mux.Handle("GET /app/assets/inbox.css", asset("text/css; charset=utf-8", inboxCSS))
	mux.Handle("GET /app/assets/inbox.js", asset("text/javascript; charset=utf-8", inboxJS))
	mux.Handle("GET /app/realtime", s.page(nil, s.liveSocket))
	mux.Handle("GET /app/inbox", s.page(nil, s.inboxPage))
	mux.Handle("GET /app/conversations/{id}", s.page(nil, s.conversationPage))
	mux.Handle("POST /app/conversations/{id}/reply", s.page(nil, s.conversationReply))
	mux.Handle("POST /app/conversations/{id}/action", s.page(nil, s.conversationAction))
}

// inboxView is one entry of the inbox's view list.
type inboxView struct {
	Key    string // mine, unassigned, all, mentions, team:ID
	Name   string
	Count  int
	filter string // JSON filter beside the state; "" for the placeholder
	// match, when set, says which of the workspace's kept counts
	// (store.InboxCounts) the view sums, so counting reads no conversation.
	match func(c store.InboxCount) bool
}

type inboxRow struct {
	ID       int64
	Who      string
	Snippet  string
	State    string
	Priority string
	Updated  int64
	Waiting  *int64
	Assignee string
}

type inboxData struct {
	Views   []inboxView
	View    string
	ViewNm  string
	State   string
	Sort    string
	Rows    []inboxRow
	Total   int
	Next    template.URL // the next page ("" when last)
	Mention bool
	States  []string
	Sorts   [][2]string
	Seq     int64 // the event log's head before the page was read
}

var inboxSorts = [][2]string{{"newest", "Newest"}, {"oldest", "Oldest"}, {"waiting", "Waiting longest"}, {"priority", "Priority"}}

// priorityRank sorts by priority, urgent first; ties by id.
var priorityRank = query.Field{Name: "priority_rank", Kind: query.Integer, Expr: [2]string{
	query.SQLite:   "(CASE cv.priority WHEN 'urgent' THEN 4 WHEN 'high' THEN 3 WHEN 'medium' THEN 2 WHEN 'low' THEN 1 ELSE 0 END)",
	query.Postgres: "(CASE cv.priority WHEN 'urgent' THEN 4 WHEN 'high' THEN 3 WHEN 'medium' THEN 2 WHEN 'low' THEN 1 ELSE 0 END)",
}}

func (s *Server) inboxViews(r *http.Request, v *visit) ([]inboxView, []*team.Team, error) {
	teams, err := s.teams.List(r.Context(), v.ws.ID)
	if err != nil {
		return nil, nil, err
	}
	me := strconv.FormatInt(v.admin.ID, 10)
	views := []inboxView{
		{Key: "mine", Name: "Your inbox", filter: `{"field":"admin_assignee_id","operator":"=","value":` + me + `}`,
			match: func(c store.InboxCount) bool { return c.AdminID == v.admin.ID }},
		{Key: "mentions", Name: "Mentions"},
		{Key: "unassigned", Name: "Unassigned", filter: `{"operator":"AND","value":[{"field":"admin_assignee_id","operator":"=","value":null},{"field":"team_assignee_id","operator":"=","value":null}]}`,
			match: func(c store.InboxCount) bool { return c.AdminID == 0 && c.TeamID == 0 }},
		{Key: "all", Name: "All", filter: `{"field":"id","operator":"!=","value":"0"}`,
			match: func(store.InboxCount) bool { return true }},
	}
	for _, t := range teams {
		id := strconv.FormatInt(t.ID, 10)
		views = append(views, inboxView{Key: "team:" + id, Name: t.Name,
			filter: `{"operator":"AND","value":[{"field":"team_assignee_id","operator":"=","value":` + id + `},{"field":"admin_assignee_id","operator":"=","value":null}]}`,
			match:  func(c store.InboxCount) bool { return c.TeamID == t.ID && c.AdminID == 0 }})
	}
	return views, teams, nil
}

func viewFilter(vw inboxView, state string, schema *conversation.Schema) (*query.Filter, error) {
	return query.Parse([]byte(`{"operator":"AND","value":[{"field":"state","operator":"=","value":"`+state+`"},`+vw.filter+`]}`), schema)
}

func (s *Server) inboxPage(w http.ResponseWriter, r *http.Request, v *visit) error {
	q := r.URL.Query()
	var err error
	d := inboxData{View: q.Get("view"), State: q.Get("state"), Sort: q.Get("sort"), States: []string{"open", "snoozed", "closed"}, Sorts: inboxSorts}
	if d.View == "" {
		d.View = "mine"
	}
	if d.State != "snoozed" && d.State != "closed" {
		d.State = "open"
	}
	if d.Seq, err = eventlog.Head(r.Context(), s.db.Read(), v.ws.ID); err != nil {
		return err
	}
	views, _, err := s.inboxViews(r, v)
	if err != nil {
		return err
	}
	schema := conversation.NewSchema(v.ws.Location(), nil, true)
	counts, err := s.convs.InboxCounts(r.Context(), v.ws.ID)
	if err != nil {
		return err
	}
	var cur *inboxView
	for i := range views {
		if m := views[i].match; m != nil {
			for _, c := range counts {
				if c.State == d.State && m(c) {
					views[i].Count += c.N
				}
			}
		} else if views[i].filter != "" {
			f, err := viewFilter(views[i], d.State, schema)
			if err != nil {
				return err
			}
			if views[i].Count, err = s.convs.Count(r.Context(), v.ws.ID, f); err != nil {
				return err
			}
		}
		if views[i].Key == d.View {
			cur = &views[i]
		}
	}
	if cur == nil {
		return pageErr(http.StatusNotFound, "No such inbox", "There is no such inbox view in this workspace.")
	}
	d.Views, d.ViewNm = views, cur.Name
	if cur.filter == "" {
		d.Mention = true
		s.render(w, http.StatusOK, "inbox", v.view("Inbox", "inbox", d))
		return nil
	}
	var sort store.SearchSort
	switch d.Sort {
	case "oldest":
		sort.Field, _ = schema.Sortable("created_at")
	case "waiting":
		sort.Field, _ = schema.Sortable("waiting_since")
	case "priority":
		sort = store.SearchSort{Field: priorityRank, Desc: true}
	default:
		d.Sort = "newest"
		sort.Field, _ = schema.Sortable("created_at")
		sort.Desc = true
	}
	var after *store.Keyset
	if c := q.Get("after"); c != "" {
		if after = decodeCursor(c); after == nil {
			return pageErr(http.StatusBadRequest, "Bad page", "This page link is not valid. Go back to the first page.")
		}
	}
	f, err := viewFilter(*cur, d.State, schema)
	if err != nil {
		return err
	}
	// The view's count is the page's total: the list only reads its page.
	page, err := s.convs.Page(r.Context(), v.ws.ID, f, sort, after, inboxPerPage+1)
	var kve *store.KeyValueError
	if errors.As(err, &kve) {
		return pageErr(http.StatusBadRequest, "Bad page", "This page link is not valid. Go back to the first page.")
	} else if err != nil {
		return err
	}
	d.Total = cur.Count
	names, err := s.adminNames(r, v)
	if err != nil {
		return err
	}
	for i, c := range page.Conversations {
		if i == inboxPerPage {
			nq := url.Values{"view": {d.View}, "state": {d.State}, "sort": {d.Sort}, "after": {encodeCursor(page.Keys[i-1])}}
			d.Next = template.URL("/app/inbox?" + nq.Encode()) //nolint:gosec // built from url.Values
			break
		}
		d.Rows = append(d.Rows, inboxRow{ID: c.ID, Who: who(c.Source.Author), Snippet: snippet(c), State: c.State, Priority: c.Priority,
			Updated: c.UpdatedAt, Waiting: c.WaitingSince, Assignee: assigneeName(c, names)})
	}
	s.render(w, http.StatusOK, "inbox", v.view("Inbox", "inbox", d))
	return nil
}

// encodeCursor packs a keyset position in a URL-safe string.
func encodeCursor(k store.Keyset) string {
	b, _ := json.Marshal([]any{k.Value, k.ID})
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string) *store.Keyset {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil
	}
	var raw []json.RawMessage
	if json.Unmarshal(b, &raw) != nil || len(raw) != 2 {
		return nil
	}
	k := &store.Keyset{}
	if string(raw[0]) != "null" {
		n, err := strconv.ParseInt(string(raw[0]), 10, 64)
		if err != nil {
			return nil
		}
		k.Value = n
	}
	if json.Unmarshal(raw[1], &k.ID) != nil {
		return nil
	}
	if _, err := strconv.ParseInt(k.ID, 10, 64); err != nil {
		return nil
	}
	return k
}

func who(a conversation.Author) string {
	switch {
	case a.Name != nil && *a.Name != "":
		return *a.Name
	case a.Email != "":
		return a.Email
	}
	return "Visitor"
}

func plain(h string) string {
	return strings.Join(strings.Fields(html.UnescapeString(textPolicy.Sanitize(h))), " ")
}

func snippet(c *conversation.Conversation) string {
	t := c.Source.Subject
	if c.Title != nil && *c.Title != "" {
		t = *c.Title
	}
	if t == "" {
		t = plain(c.Source.Body)
	}
	if utf8.RuneCountInString(t) > 120 {
		t = string([]rune(t)[:119]) + "…"
	}
	return t
}

func (s *Server) adminNames(r *http.Request, v *visit) (map[int64]string, error) {
	admins, err := s.ws.Admins(r.Context(), v.ws.ID)
	if err != nil {
		return nil, err
	}
	names := map[int64]string{}
	for _, a := range admins {
		names[a.ID] = a.Name
	}
	return names, nil
}

func assigneeName(c *conversation.Conversation, names map[int64]string) string {
	if c.AdminAssigneeID != nil {
		return names[*c.AdminAssigneeID]
	}
	return "Unassigned"
}

// The conversation page.

type threadPart struct {
	ID     int64
	Kind   string // message, note, event
	Type   string
	Author string
	Admin  bool
	Body   *string
	Event  string
	At     int64
}

type conversationData struct {
	C         *conversation.Conversation
	Who       string
	Subject   string
	Parts     []threadPart
	Assignee  string
	Team      string
	Admins    map[int64]string
	AdminList [][2]string
	Teams     []*team.Team
	Snoozes   [][2]string
	Prios     []string
	Error     string
	Seq       int64 // the event log's head before the page was read
}

var snoozePresets = [][2]string{{"1h", "1 hour"}, {"tomorrow", "Tomorrow 9:00"}, {"monday", "Monday 9:00"}, {"week", "1 week"}}

func (s *Server) conversationOf(r *http.Request, v *visit) (*conversation.Conversation, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return nil, errNoConversation
	}
	c, err := s.convs.Get(r.Context(), v.ws.ID, id)
	if errors.Is(err, store.ErrNotFound) || store.IsMissing(err, "conversation") {
		return nil, errNoConversation
	}
	return c, err
}

var errNoConversation = pageErr(http.StatusNotFound, "Conversation not found", "There is no such conversation in this workspace.")

func (s *Server) conversationPage(w http.ResponseWriter, r *http.Request, v *visit) error {
	return s.reshow(w, r, v, http.StatusOK, "")
}

// reshow renders the conversation as it is now with status and msg. The
// event log's head is read first, so live updates resume from before the
// conversation was read and miss nothing.
func (s *Server) reshow(w http.ResponseWriter, r *http.Request, v *visit, status int, msg string) error {
	seq, err := eventlog.Head(r.Context(), s.db.Read(), v.ws.ID)
	if err != nil {
		return err
	}
	c, err := s.conversationOf(r, v)
	if err != nil {
		return err
	}
	return s.showConversation(w, r, v, c, seq, status, msg)
}

func (s *Server) showConversation(w http.ResponseWriter, r *http.Request, v *visit, c *conversation.Conversation, seq int64, status int, msg string) error {
	names, err := s.adminNames(r, v)
	if err != nil {
		return err
	}
	teams, err := s.teams.List(r.Context(), v.ws.ID)
	if err != nil {
		return err
	}
	d := conversationData{C: c, Who: who(c.Source.Author), Subject: c.Source.Subject, Admins: names, Teams: teams, Snoozes: snoozePresets, Prios: conversation.Priorities, Error: msg, Seq: seq}
	if c.Title != nil && *c.Title != "" {
		d.Subject = *c.Title
	}
	for id, n := range names {
		d.AdminList = append(d.AdminList, [2]string{strconv.FormatInt(id, 10), n})
	}
	slices.SortFunc(d.AdminList, func(a, b [2]string) int { return strings.Compare(a[1], b[1]) })
	d.Assignee = assigneeName(c, names)
	if c.TeamAssigneeID != nil {
		for _, t := range teams {
			if t.ID == *c.TeamAssigneeID {
				d.Team = t.Name
			}
		}
	}
	src := c.Source.Body
	d.Parts = append(d.Parts, threadPart{Kind: "message", Author: who(c.Source.Author), Admin: c.Source.Author.Type == conversation.AuthorAdmin, Body: &src, At: c.CreatedAt})
	for _, p := range c.Parts {
		d.Parts = append(d.Parts, partOf(p, names, teams))
	}
	s.render(w, status, "conversation", v.view(d.Who, "inbox", d))
	return nil
}

func partOf(p *conversation.Part, names map[int64]string, teams []*team.Team) threadPart {
	tp := threadPart{ID: p.ID, Type: p.Type, Author: who(p.Author), Admin: p.Author.Type == conversation.AuthorAdmin, Body: p.Body, At: p.CreatedAt}
	switch p.Type {
	case conversation.PartComment, conversation.PartQuickReply:
		tp.Kind = "message"
	case conversation.PartNote:
		tp.Kind = "note"
	default:
		tp.Kind = "event"
		switch p.Type {
		case conversation.PartClose:
			tp.Event = "closed the conversation"
		case conversation.PartOpen:
			tp.Event = "reopened the conversation"
		case conversation.PartSnoozed:
			tp.Event = "snoozed the conversation"
		case conversation.PartTimerUnsnooze:
			tp.Event = "The snooze ended"
		case conversation.PartAssignment:
			tp.Event = "unassigned the conversation"
			if a := p.AssignedTo; a != nil {
				id, _ := strconv.ParseInt(a.ID, 10, 64)
				name := names[id]
				if a.Type == "team" {
					for _, t := range teams {
						if t.ID == id {
							name = t.Name
						}
					}
				}
				tp.Event = "assigned the conversation to " + name
			}
		default:
			tp.Event = strings.ReplaceAll(p.Type, "_", " ")
		}
	}
	return tp
}

func (v *visit) author() conversation.Author {
	name := v.admin.Name
	return conversation.Author{Type: conversation.AuthorAdmin, ID: strconv.FormatInt(v.admin.ID, 10), Name: &name, Email: v.admin.Email}
}

// change applies fn to the conversation through the store (the rules, the
// events) and sends the browser back to the conversation; a refusal of
// the rules is shown on the page with a 400.
func (s *Server) change(w http.ResponseWriter, r *http.Request, v *visit, fn func(c *conversation.Conversation) (*conversation.Change, error)) error {
	c, err := s.conversationOf(r, v)
	if err != nil {
		return err
	}
	_, err = s.convs.Change(r.Context(), v.ws.ID, c.ID, fn)
	var re *conversation.RuleError
	if errors.As(err, &re) {
		return s.reshow(w, r, v, http.StatusBadRequest, re.Message)
	}
	if errors.Is(err, store.ErrNotFound) {
		return errNoConversation
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/app/conversations/"+strconv.FormatInt(c.ID, 10), http.StatusSeeOther)
	return nil
}

func (s *Server) conversationReply(w http.ResponseWriter, r *http.Request, v *visit) error {
	body := strings.TrimSpace(r.PostFormValue("body"))
	kind := r.PostFormValue("kind")
	if kind != conversation.PartNote {
		kind = conversation.PartComment
	}
	if body == "" || len(body) > maxReplyBody || strings.ContainsRune(body, 0) || !utf8.ValidString(body) {
		return s.reshow(w, r, v, http.StatusBadRequest, "Write a message of at most 64 KB.")
	}
	html := conversation.TextHTML(body)
	admin := v.author()
	return s.change(w, r, v, func(c *conversation.Conversation) (*conversation.Change, error) {
		return c.AdminReply(admin, kind, html, nil, nil, time.Now().Unix())
	})
}

// snoozeUntil turns a preset into a time in the workspace's zone.
func snoozeUntil(preset string, now time.Time, loc *time.Location) (int64, bool) {
	now = now.In(loc)
	nine := func(t time.Time) int64 {
		return time.Date(t.Year(), t.Month(), t.Day(), 9, 0, 0, 0, loc).Unix()
	}
	switch preset {
	case "1h":
		return now.Add(time.Hour).Unix(), true
	case "tomorrow":
		return nine(now.AddDate(0, 0, 1)), true
	case "monday":
		days := (8 - int(now.Weekday())) % 7
		if days == 0 {
			days = 7
		}
		return nine(now.AddDate(0, 0, days)), true
	case "week":
		return now.AddDate(0, 0, 7).Unix(), true
	}
	return 0, false
}

func (s *Server) conversationAction(w http.ResponseWriter, r *http.Request, v *visit) error {
	admin := v.author()
	now := time.Now()
	bad := func(msg string) error { return s.reshow(w, r, v, http.StatusBadRequest, msg) }
	var fn func(c *conversation.Conversation) (*conversation.Change, error)
	switch r.PostFormValue("action") {
	case "close":
		fn = func(c *conversation.Conversation) (*conversation.Change, error) {
			return c.Close(admin, "", now.Unix())
		}
	case "open":
		fn = func(c *conversation.Conversation) (*conversation.Change, error) { return c.Open(admin, now.Unix()) }
	case "snooze":
		until, ok := snoozeUntil(r.PostFormValue("until"), now, v.ws.Location())
		if !ok {
			return bad("Choose how long to snooze.")
		}
		fn = func(c *conversation.Conversation) (*conversation.Change, error) {
			return c.Snooze(admin, until, now.Unix())
		}
	case "assign":
		kind, id, err := s.assignee(r, v)
		if err != nil {
			return err
		}
		if kind == "" {
			return bad("Choose a teammate or a team of this workspace.")
		}
		fn = func(c *conversation.Conversation) (*conversation.Change, error) {
			return c.Assign(admin, kind, id, "", now.Unix())
		}
	case "priority":
		p, ok := conversation.ParsePriority(r.PostFormValue("priority"))
		if !ok {
			return bad("Choose a priority.")
		}
		fn = func(c *conversation.Conversation) (*conversation.Change, error) {
			return c.Apply(conversation.Update{Priority: &p}, now.Unix())
		}
	default:
		return bad("Unknown action.")
	}
	return s.change(w, r, v, fn)
}

// assignee reads the form's "to": "me", "admin:ID", "team:ID" or "none"
// (unassign the teammate); kind is "" when it names nobody of the
// workspace.
func (s *Server) assignee(r *http.Request, v *visit) (string, int64, error) {
	to := r.PostFormValue("to")
	switch to {
	case "me":
		return "admin", v.admin.ID, nil
	case "none":
		return "admin", 0, nil
	}
	kind, raw, _ := strings.Cut(to, ":")
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id <= 0 {
		return "", 0, nil
	}
	switch kind {
	case "admin":
		_, err = s.ws.Admin(r.Context(), v.ws.ID, id)
	case "team":
		_, err = s.teams.Get(r.Context(), v.ws.ID, id)
	default:
		return "", 0, nil
	}
	if errors.Is(err, store.ErrNotFound) || store.IsMissing(err, "team") {
		return "", 0, nil
	}
	if err != nil {
		return "", 0, err
	}
	return kind, id, nil
}
