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
		"deref":       func(n *int64) int64 { return *n },
		"teammateURL": teammateURL,
		"isImage": func(a conversation.Attachment) bool {
			return strings.HasPrefix(a.ContentType, "image/") && a.ContentType != "image/svg+xml"
		},
	}
	for _, name := range []string{"inbox", "conversation", "savedreplies"} {
		s.pages[name] = template.Must(template.New("layout.html").Funcs(f).ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html", "templates/inboxparts.html", "templates/settingsnav.html", "templates/contactpanel.html"))
	}
	s.convs = store.NewConversations(s.db)
	mux.Handle("GET /app/assets/inbox.css", asset("text/css; charset=utf-8", inboxCSS))
	mux.Handle("GET /app/assets/inbox.js", asset("text/javascript; charset=utf-8", inboxJS))
	mux.Handle("GET /app/realtime", s.page(nil, s.liveSocket))
	mux.Handle("GET /app/inbox", s.page(nil, s.inboxPage))
	mux.Handle("GET /app/conversations/{id}", s.page(nil, s.conversationPage))
	mux.Handle("POST /app/conversations/{id}/reply", s.page(nil, s.conversationReply))
	mux.Handle("POST /app/conversations/{id}/action", s.page(nil, s.conversationAction))
	mux.Handle("POST /app/conversations/{id}/tags", s.page(nil, s.conversationTag))
	mux.Handle("POST /app/conversations/{id}/attributes", s.page(nil, s.conversationAttributes))
	mux.Handle("GET /app/attachments/{id}/{name}", s.page(nil, s.attachmentFile))
	mux.Handle("POST /app/inbox/bulk", s.page(nil, s.inboxBulk))
	mux.Handle("POST /app/inbox/views", s.page(nil, s.saveInboxView))
	mux.Handle("POST /app/inbox/views/{id}/delete", s.page(nil, s.deleteInboxView))
	s.savedReplyRoutes(mux)
}

// inboxView is one entry of the inbox's view list.
type inboxView struct {
	Key    string // mine, unassigned, all, mentions, team:ID, custom:ID
	Name   string
	Count  int    // conversations in the view; for Mentions, those with unread mentions
	Custom int64  // the teammate's saved view's id
	Broken string // why a saved view's filter no longer parses
	filter string // JSON filter beside the state; "" for Mentions
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
	Unread   int // unread mentions (Mentions view)
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
	Custom  int64 // the open view is the teammate's saved view with this id

	// The bulk action and save-view forms.
	AdminList  [][2]string
	Teams      []*team.Team
	Snoozes    [][2]string
	Notice     string
	Error      string
	Failed     []string
	ViewName   string
	FilterJSON string
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
	custom, err := store.NewSavedReplies(s.db).InboxViews(r.Context(), v.ws.ID, v.admin.ID)
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
	for _, cv := range custom {
		views = append(views, inboxView{Key: "custom:" + strconv.FormatInt(cv.ID, 10), Name: cv.Name, filter: cv.Filter, Custom: cv.ID})
	}
	return views, teams, nil
}

func viewFilter(vw inboxView, state string, schema *conversation.Schema) (*query.Filter, error) {
	return query.Parse([]byte(`{"operator":"AND","value":[{"field":"state","operator":"=","value":"`+state+`"},`+vw.filter+`]}`), schema)
}

func (s *Server) inboxPage(w http.ResponseWriter, r *http.Request, v *visit) error {
	return s.showInbox(w, r, v, r.URL.Query(), http.StatusOK, inboxData{})
}

// showInbox renders the inbox for the query q with status; d carries a
// message of the page's forms (bulk results, a refused view filter).
func (s *Server) showInbox(w http.ResponseWriter, r *http.Request, v *visit, q url.Values, status int, d inboxData) error {
	var err error
	d.View, d.State, d.Sort, d.States, d.Sorts, d.Snoozes = q.Get("view"), q.Get("state"), q.Get("sort"), []string{"open", "snoozed", "closed"}, inboxSorts, snoozePresets
	if d.View == "" {
		d.View = "mine"
	}
	if d.State != "snoozed" && d.State != "closed" {
		d.State = "open"
	}
	if d.Seq, err = eventlog.Head(r.Context(), s.db.Read(), v.ws.ID); err != nil {
		return err
	}
	views, teams, err := s.inboxViews(r, v)
	if err != nil {
		return err
	}
	d.Teams = teams
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
			if err != nil && views[i].Custom != 0 {
				// A saved filter the workspace's fields no longer allow
				// (an attribute archived since): the view says so.
				views[i].Broken = err.Error()
				if views[i].Key == d.View {
					cur = &views[i]
				}
				continue
			}
			if err != nil {
				return err
			}
			if views[i].Count, err = s.convs.Count(r.Context(), v.ws.ID, f); err != nil {
				return err
			}
		} else if views[i].Key == "mentions" {
			if views[i].Count, err = s.convs.UnreadMentions(r.Context(), v.ws.ID, v.admin.ID); err != nil {
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
	d.Views, d.ViewNm, d.Custom = views, cur.Name, cur.Custom
	if cur.Broken != "" {
		d.Error = "This view's filter is no longer valid (" + cur.Broken + "). Delete the view and save it again."
		s.render(w, http.StatusBadRequest, "inbox", v.view("Inbox", "inbox", d))
		return nil
	}
	names, err := s.adminNames(r, v)
	if err != nil {
		return err
	}
	d.AdminList = adminList(names)
	if cur.filter == "" {
		d.Mention = true
		if err := s.mentionRows(r, v, &d, names); err != nil {
			return err
		}
		s.render(w, status, "inbox", v.view("Inbox", "inbox", d))
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
	for i, c := range page.Conversations {
		if i == inboxPerPage {
			nq := url.Values{"view": {d.View}, "state": {d.State}, "sort": {d.Sort}, "after": {encodeCursor(page.Keys[i-1])}}
			d.Next = template.URL("/app/inbox?" + nq.Encode()) //nolint:gosec // built from url.Values
			break
		}
		d.Rows = append(d.Rows, rowOf(c, names))
	}
	s.render(w, status, "inbox", v.view("Inbox", "inbox", d))
	return nil
}

func rowOf(c *conversation.Conversation, names map[int64]string) inboxRow {
	return inboxRow{ID: c.ID, Who: who(c.Source.Author), Snippet: snippet(c), State: c.State, Priority: c.Priority,
		Updated: c.UpdatedAt, Waiting: c.WaitingSince, Assignee: assigneeName(c, names)}
}

// adminList is the teammates as (id, name) pairs by name, for menus.
func adminList(names map[int64]string) [][2]string {
	var out [][2]string
	for id, n := range names {
		out = append(out, [2]string{strconv.FormatInt(id, 10), n})
	}
	slices.SortFunc(out, func(a, b [2]string) int { return strings.Compare(a[1], b[1]) })
	return out
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
	// MentionsMe marks a note that @mentions the teammate viewing it.
	MentionsMe  bool
	Attachments []conversation.Attachment
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

	SeenAt   *int64 // when the contact last saw the conversation
	Contact  contactBrief
	Panel    *contactPanel // the contact's panel in the sidebar (nil: the contact is gone)
	AllTags  []*store.Tag
	Attrs    []attrField
	Replies  []savedReplyOption
	Draft    string // the composer's text (a saved reply inserted without JS)
	Mentions [][2]string
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
	if err := s.conversationDetails(r, v, c, &d); err != nil {
		return err
	}
	if c.Title != nil && *c.Title != "" {
		d.Subject = *c.Title
	}
	d.AdminList, d.Mentions = adminList(names), mentionOptions(names)
	d.Assignee = assigneeName(c, names)
	if c.TeamAssigneeID != nil {
		for _, t := range teams {
			if t.ID == *c.TeamAssigneeID {
				d.Team = t.Name
			}
		}
	}
	// The notes that mention the teammate; opening the page reads them.
	mine, err := s.convs.MentionedParts(r.Context(), v.ws.ID, c.ID, v.admin.ID)
	if err != nil {
		return err
	}
	for _, seen := range mine {
		if !seen {
			if err := s.convs.MarkMentionsSeen(r.Context(), v.ws.ID, c.ID, v.admin.ID, time.Now().Unix()); err != nil {
				return err
			}
			break
		}
	}
	src := c.Source.Body
	d.Parts = append(d.Parts, threadPart{Kind: "message", Author: who(c.Source.Author), Admin: c.Source.Author.Type == conversation.AuthorAdmin, Body: &src, At: c.CreatedAt, Attachments: c.Source.Attachments})
	for _, p := range c.Parts {
		tp := partOf(p, names, teams)
		_, tp.MentionsMe = mine[p.ID]
		d.Parts = append(d.Parts, tp)
	}
	s.render(w, status, "conversation", v.view(d.Who, "inbox", d))
	return nil
}

func partOf(p *conversation.Part, names map[int64]string, teams []*team.Team) threadPart {
	tp := threadPart{ID: p.ID, Type: p.Type, Author: who(p.Author), Admin: p.Author.Type == conversation.AuthorAdmin, Body: p.Body, At: p.CreatedAt, Attachments: p.Attachments}
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
	return s.changeTx(w, r, v, func(_ *store.Tx, c *conversation.Conversation) (*conversation.Change, error) { return fn(c) })
}

// changeTx is change for a rule that writes rows of its own in the
// change's transaction (the mentions of a note).
func (s *Server) changeTx(w http.ResponseWriter, r *http.Request, v *visit, fn func(tx *store.Tx, c *conversation.Conversation) (*conversation.Change, error)) error {
	c, err := s.conversationOf(r, v)
	if err != nil {
		return err
	}
	_, err = s.convs.ChangeTx(r.Context(), v.ws.ID, c.ID, fn)
	if msg, ok := refusal(err); ok {
		return s.reshow(w, r, v, http.StatusBadRequest, msg)
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

// refusal is the message of an error the teammate can act on: a refusal
// of the conversation rules, or a tag or teammate that is gone.
func refusal(err error) (string, bool) {
	var re *conversation.RuleError
	switch {
	case errors.As(err, &re):
		return re.Message, true
	case store.IsMissing(err, "tag"):
		return "That tag does not exist (any more).", true
	}
	return "", false
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
	var mentions []int64
	if kind == conversation.PartNote {
		admins, err := s.ws.Admins(r.Context(), v.ws.ID)
		if err != nil {
			return err
		}
		mentions = mentioned(body, admins, v.admin.ID)
	}
	return s.changeTx(w, r, v, func(tx *store.Tx, c *conversation.Conversation) (*conversation.Change, error) {
		now := time.Now().Unix()
		ch, err := c.AdminReply(admin, kind, html, nil, nil, now)
		if err != nil || len(mentions) == 0 {
			return ch, err
		}
		i := slices.IndexFunc(ch.Parts, func(p *conversation.Part) bool { return p.Type == conversation.PartNote })
		if i < 0 {
			return ch, nil
		}
		note, then := ch.Parts[i], ch.Then
		ch.Then = func() error {
			if then != nil {
				if err := then(); err != nil {
					return err
				}
			}
			return store.RecordMentionsIn(r.Context(), tx, v.ws.ID, c.ID, note.ID, v.admin.ID, mentions, now)
		}
		return ch, nil
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
	fn, msg, err := s.actionRule(r, v)
	if err != nil {
		return err
	}
	if msg != "" {
		return s.reshow(w, r, v, http.StatusBadRequest, msg)
	}
	return s.change(w, r, v, fn)
}

// actionRule reads the form's action (close, open, snooze, assign,
// priority) and returns the rule that applies it; msg says what is wrong
// with the form. The conversation page and bulk actions share it.
func (s *Server) actionRule(r *http.Request, v *visit) (fn func(c *conversation.Conversation) (*conversation.Change, error), msg string, err error) {
	admin := v.author()
	now := time.Now()
	switch r.PostFormValue("action") {
	case "close":
		fn = func(c *conversation.Conversation) (*conversation.Change, error) {
			return c.Close(admin, "", now.Unix())
		}
	case "open":
		fn = func(c *conversation.Conversation) (*conversation.Change, error) { return c.Open(admin, now.Unix()) }
	case "snooze":
		until, ok := snoozeUntil(r.PostFormValue("until"), now, v.ws.Location())
		if r.PostFormValue("until") == "date" {
			// A date of the teammate's choosing: 9:00 that day in the
			// workspace's zone, which must be in the future.
			d, err := time.ParseInLocation("2006-01-02", r.PostFormValue("until_date"), v.ws.Location())
			if until = d.Add(9 * time.Hour).Unix(); err != nil || until <= now.Unix() {
				return nil, "Choose a date after today to snooze until.", nil
			}
			ok = true
		}
		if !ok {
			return nil, "Choose how long to snooze.", nil
		}
		fn = func(c *conversation.Conversation) (*conversation.Change, error) {
			return c.Snooze(admin, until, now.Unix())
		}
	case "assign":
		kind, id, err := s.assignee(r, v)
		if err != nil {
			return nil, "", err
		}
		if kind == "" {
			return nil, "Choose a teammate or a team of this workspace.", nil
		}
		fn = func(c *conversation.Conversation) (*conversation.Change, error) {
			return c.Assign(admin, kind, id, "", now.Unix())
		}
	case "priority":
		p, ok := conversation.ParsePriority(r.PostFormValue("priority"))
		if !ok {
			return nil, "Choose a priority.", nil
		}
		fn = func(c *conversation.Conversation) (*conversation.Change, error) {
			return c.Apply(conversation.Update{Priority: &p}, now.Unix())
		}
	default:
		return nil, "Unknown action.", nil
	}
	return fn, "", nil
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
