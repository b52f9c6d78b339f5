package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/conversation"
	"github.com/parleyhq/parley/internal/eventlog"
	"github.com/parleyhq/parley/internal/ids"
	"github.com/parleyhq/parley/internal/store"
	"github.com/parleyhq/parley/internal/team"
	"github.com/parleyhq/parley/internal/testdb"
	"github.com/parleyhq/parley/internal/web"
)

// startConversation has a new contact of workspace ws write body.
func (e *env) startConversation(ws, name, body string) *conversation.Conversation {
	e.t.Helper()
	ctx := context.Background()
	email := strings.ToLower(strings.ReplaceAll(name, " ", ".")) + "@customer.test"
	c := &contact.Contact{WorkspaceID: ws, ID: ids.New(), Role: contact.RoleUser, Name: &name, Email: &email}
	if err := store.NewContacts(e.db).Create(ctx, c); err != nil {
		e.t.Fatal(err)
	}
	conv, err := store.NewConversations(e.db).StartByContact(ctx, store.ContactStart{WorkspaceID: ws, ContactID: c.ID, Body: body})
	if err != nil {
		e.t.Fatal(err)
	}
	return conv
}

func (e *env) change(ws string, id int64, fn func(c *conversation.Conversation) (*conversation.Change, error)) {
	e.t.Helper()
	if _, err := store.NewConversations(e.db).Change(context.Background(), ws, id, fn); err != nil {
		e.t.Fatal(err)
	}
}

// topicsSince lists the topics the workspace's event log gained after seq.
func (e *env) topicsSince(ws string, seq int64) []string {
	e.t.Helper()
	evs, err := eventlog.Since(context.Background(), e.db.Read(), ws, seq, 100)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, ev := range evs {
		out = append(out, ev.Topic)
	}
	return out
}

func (e *env) head(ws string) int64 {
	e.t.Helper()
	h, err := eventlog.Head(context.Background(), e.db.Read(), ws)
	if err != nil {
		e.t.Fatal(err)
	}
	return h
}

var rowRe = regexp.MustCompile(`data-id="(\d+)"`)

func rowIDs(body string) []string {
	var ids []string
	for _, m := range rowRe.FindAllStringSubmatch(body, -1) {
		ids = append(ids, m[1])
	}
	return ids
}

func countOf(t *testing.T, body, view string) int {
	t.Helper()
	m := regexp.MustCompile(`data-count="` + regexp.QuoteMeta(view) + `">(\d+)<`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no count for view %s", view)
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

func id(c *conversation.Conversation) string { return strconv.FormatInt(c.ID, 10) }

func TestInboxViews(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, web.Options{})
		ctx := context.Background()
		billing := &team.Team{WorkspaceID: e.ws.ID, Name: "Billing", Distribution: team.Manual}
		if err := store.NewTeams(db).Create(ctx, billing); err != nil {
			t.Fatal(err)
		}
		owner := conversation.Author{Type: conversation.AuthorAdmin, ID: strconv.FormatInt(e.owner.ID, 10)}
		free := e.startConversation(e.ws.ID, "Ann", "<p>Where is my order?</p>")
		mine := e.startConversation(e.ws.ID, "Bob", "<p>Refund please</p>")
		e.change(e.ws.ID, mine.ID, func(c *conversation.Conversation) (*conversation.Change, error) {
			return c.Assign(owner, "admin", e.owner.ID, "", 1)
		})
		teamConv := e.startConversation(e.ws.ID, "Cid", "<p>Invoice wrong</p>")
		e.change(e.ws.ID, teamConv.ID, func(c *conversation.Conversation) (*conversation.Change, error) {
			return c.Assign(owner, "team", billing.ID, "", 1)
		})
		closed := e.startConversation(e.ws.ID, "Dee", "<p>Thanks, solved</p>")
		e.change(e.ws.ID, closed.ID, func(c *conversation.Conversation) (*conversation.Change, error) {
			return c.Close(owner, "", 1)
		})
		urgent := e.startConversation(e.ws.ID, "Eve", "<p>Site is down</p>")
		e.change(e.ws.ID, urgent.ID, func(c *conversation.Conversation) (*conversation.Change, error) {
			p := "urgent"
			return c.Apply(conversation.Update{Priority: &p}, 1)
		})
		// Another workspace's conversations never show.
		other, _, _ := e.workspace("Other")
		e.startConversation(other.ID, "Zed", "<p>Not yours</p>")

		b := e.browser()
		b.mustSignin(e.owner.Email)
		p := b.get("/app/inbox")
		want(t, p, http.StatusOK, "Your inbox")
		if got := rowIDs(p.body); !slices.Equal(got, []string{id(mine)}) {
			t.Fatalf("your inbox lists %v, want only %s", got, id(mine))
		}
		for view, n := range map[string]int{"mine": 1, "unassigned": 2, "all": 4, "team:" + strconv.FormatInt(billing.ID, 10): 1} {
			if got := countOf(t, p.body, view); got != n {
				t.Errorf("count of %s is %d, want %d", view, got, n)
			}
		}
		// Newest first by default; oldest reverses.
		p = b.get("/app/inbox?view=unassigned")
		if got := rowIDs(p.body); !slices.Equal(got, []string{id(urgent), id(free)}) {
			t.Fatalf("unassigned lists %v", got)
		}
		p = b.get("/app/inbox?view=unassigned&sort=oldest")
		if got := rowIDs(p.body); !slices.Equal(got, []string{id(free), id(urgent)}) {
			t.Fatalf("unassigned oldest first lists %v", got)
		}
		p = b.get("/app/inbox?view=all&sort=priority")
		if got := rowIDs(p.body); len(got) != 4 || got[0] != id(urgent) {
			t.Fatalf("all by priority lists %v, want %s first", got, id(urgent))
		}
		p = b.get("/app/inbox?view=team:" + strconv.FormatInt(billing.ID, 10))
		want(t, p, http.StatusOK, "Billing")
		if got := rowIDs(p.body); !slices.Equal(got, []string{id(teamConv)}) {
			t.Fatalf("team inbox lists %v", got)
		}
		p = b.get("/app/inbox?view=all&state=closed")
		if got := rowIDs(p.body); !slices.Equal(got, []string{id(closed)}) {
			t.Fatalf("closed lists %v", got)
		}
		want(t, b.get("/app/inbox?view=mentions"), http.StatusOK, "Nobody has mentioned you yet")
		want(t, b.get("/app/inbox?view=team:999999"), http.StatusNotFound, "No such inbox")
		want(t, b.get("/app/inbox?view=all&after=garbage"), http.StatusBadRequest, "not valid")
		if strings.Contains(b.get("/app/inbox?view=all").body, "Zed") {
			t.Fatal("another workspace's conversation is listed")
		}

		// Keyset pages: 30 more conversations, 25 a page, no repeats, no gaps.
		for i := range 30 {
			e.startConversation(e.ws.ID, "Many "+strconv.Itoa(i), "<p>Batch</p>")
		}
		seen := map[string]bool{}
		next := "/app/inbox?view=all&sort=oldest"
		pages := 0
		for next != "" {
			p = b.get(next)
			if p.status != http.StatusOK {
				t.Fatalf("page %s: %d", next, p.status)
			}
			for _, r := range rowIDs(p.body) {
				if seen[r] {
					t.Fatalf("conversation %s on two pages", r)
				}
				seen[r] = true
			}
			pages++
			next = ""
			if m := regexp.MustCompile(`href="(/app/inbox\?[^"]+)" id="next"`).FindStringSubmatch(p.body); m != nil {
				next = strings.ReplaceAll(m[1], "&amp;", "&")
			}
		}
		if len(seen) != 34 || pages != 2 {
			t.Fatalf("paged through %d conversations in %d pages, want 34 in 2", len(seen), pages)
		}
	})
}

func TestConversationPageActions(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, web.Options{})
		ctx := context.Background()
		support := &team.Team{WorkspaceID: e.ws.ID, Name: "Support", Distribution: team.Manual}
		if err := store.NewTeams(db).Create(ctx, support); err != nil {
			t.Fatal(err)
		}
		c := e.startConversation(e.ws.ID, "Ann", `<p>Hello<img src="x" onerror="alert(1)"><script>alert(2)</script><a href="javascript:alert(3)">link</a></p>`)
		path := "/app/conversations/" + id(c)
		b := e.browser()
		b.mustSignin(e.agent.Email)
		p := b.get(path)
		want(t, p, http.StatusOK, "Hello")
		for _, bad := range []string{"onerror", "<script>alert", "javascript:"} {
			if strings.Contains(p.body, bad) {
				t.Fatalf("the contact's HTML was not sanitized: %q on the page", bad)
			}
		}
		token := b.csrf(path)
		post := func(to string, form url.Values) page {
			form.Set("csrf", token)
			return b.do(http.MethodPost, path+to, form)
		}
		step := func(name string, to string, form url.Values, topic string) {
			t.Helper()
			before := e.head(e.ws.ID)
			p := post(to, form)
			if p.status != http.StatusSeeOther || p.location != path {
				t.Fatalf("%s: %d %q %s", name, p.status, p.location, p.body)
			}
			if got := e.topicsSince(e.ws.ID, before); !slices.Equal(got, []string{topic}) {
				t.Fatalf("%s appended %v, want [%s]", name, got, topic)
			}
		}
		step("reply", "/reply", url.Values{"body": {"We are on it <b>now</b>"}, "kind": {"comment"}}, "conversation.admin.replied")
		step("note", "/reply", url.Values{"body": {"Checking the warehouse"}, "kind": {"note"}}, "conversation.admin.noted")
		step("assign to me", "/action", url.Values{"action": {"assign"}, "to": {"me"}}, "conversation.admin.assigned")
		step("assign to team", "/action", url.Values{"action": {"assign"}, "to": {"team:" + strconv.FormatInt(support.ID, 10)}}, "conversation.admin.assigned")
		step("priority", "/action", url.Values{"action": {"priority"}, "priority": {"high"}}, "conversation.priority.updated")
		step("snooze", "/action", url.Values{"action": {"snooze"}, "until": {"tomorrow"}}, "conversation.admin.snoozed")
		step("reopen", "/action", url.Values{"action": {"open"}}, "conversation.admin.opened")
		step("close", "/action", url.Values{"action": {"close"}}, "conversation.admin.closed")

		got, err := store.NewConversations(db).Get(ctx, e.ws.ID, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.State != "closed" || got.Priority != "high" || got.AdminAssigneeID == nil || *got.AdminAssigneeID != e.agent.ID || got.TeamAssigneeID == nil || *got.TeamAssigneeID != support.ID {
			t.Fatalf("after the actions: state %s priority %s admin %v team %v", got.State, got.Priority, got.AdminAssigneeID, got.TeamAssigneeID)
		}
		p = b.get(path)
		want(t, p, http.StatusOK, "We are on it &lt;b&gt;now&lt;/b&gt;") // a teammate's text is text
		want(t, p, http.StatusOK, `class="part note admin"`)
		want(t, p, http.StatusOK, "assigned the conversation to Support")
		want(t, p, http.StatusOK, "closed the conversation")

		// Bad input is a 400 on the page and changes nothing.
		before := e.head(e.ws.ID)
		want(t, post("/reply", url.Values{"body": {"   "}}), http.StatusBadRequest, "Write a message")
		want(t, post("/action", url.Values{"action": {"assign"}, "to": {"admin:999999"}}), http.StatusBadRequest, "Choose a teammate")
		want(t, post("/action", url.Values{"action": {"priority"}, "priority": {"huge"}}), http.StatusBadRequest, "Choose a priority")
		want(t, post("/action", url.Values{"action": {"snooze"}, "until": {"never"}}), http.StatusBadRequest, "Choose how long")
		want(t, post("/action", url.Values{"action": {"explode"}}), http.StatusBadRequest, "Unknown action")
		// CSRF: without the token (or with another's) nothing happens.
		want(t, b.do(http.MethodPost, path+"/reply", url.Values{"body": {"forged"}}), http.StatusForbidden, "Form expired")
		want(t, b.do(http.MethodPost, path+"/action", url.Values{"action": {"open"}, "csrf": {"0123"}}), http.StatusForbidden, "Form expired")
		if got := e.topicsSince(e.ws.ID, before); len(got) != 0 {
			t.Fatalf("refused forms appended %v", got)
		}

		// Another workspace's conversation is a 404, to read and to act on.
		other, _, _ := e.workspace("Other")
		theirs := e.startConversation(other.ID, "Zed", "<p>Private</p>")
		otherBefore := e.head(other.ID)
		want(t, b.get("/app/conversations/"+id(theirs)), http.StatusNotFound, "Conversation not found")
		want(t, b.do(http.MethodPost, "/app/conversations/"+id(theirs)+"/reply", url.Values{"csrf": {token}, "body": {"hi"}}), http.StatusNotFound, "Conversation not found")
		want(t, b.do(http.MethodPost, "/app/conversations/"+id(theirs)+"/action", url.Values{"csrf": {token}, "action": {"close"}}), http.StatusNotFound, "Conversation not found")
		if got := e.topicsSince(other.ID, otherBefore); len(got) != 0 {
			t.Fatalf("acting on another workspace's conversation appended %v", got)
		}
		want(t, b.get("/app/conversations/abc"), http.StatusNotFound, "Conversation not found")

		// The live socket is for signed-in browsers only, and only a WebSocket.
		if p := e.browser().get("/app/realtime"); p.status != http.StatusSeeOther || p.location != "/signin" {
			t.Fatalf("signed-out socket: %d %q", p.status, p.location)
		}
		want(t, b.get("/app/realtime"), http.StatusNotFound, "Live updates are not enabled")
	})
}
