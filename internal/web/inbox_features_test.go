package web_test

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/conversation"
	"github.com/parleyhq/parley/internal/store"
	"github.com/parleyhq/parley/internal/testdb"
	"github.com/parleyhq/parley/internal/web"
)

// A note naming a teammate records a mention in the note's transaction:
// the teammate's Mentions view lists the conversation with an unread
// mention until they open it, where the note is highlighted for them.
func TestMentions(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, web.Options{})
		c := e.startConversation(e.ws.ID, "Ann", "<p>Broken parcel</p>")
		path := "/app/conversations/" + id(c)
		owner, agent := e.browser(), e.browser()
		owner.mustSignin(e.owner.Email)
		agent.mustSignin(e.agent.Email)

		before := e.head(e.ws.ID)
		p := owner.send(path+"/reply", url.Values{"kind": {"note"}, "body": {"@acme agent can you check? cc @owner@acme.test"}})
		if p.status != http.StatusSeeOther {
			t.Fatalf("note: %d %s", p.status, p.body)
		}
		// The writer is not notified of their own name; the agent is, once.
		if got := e.topicsSince(e.ws.ID, before); !slices.Equal(got, []string{"conversation.admin.noted", "conversation.admin.mentioned"}) {
			t.Fatalf("a note with a mention appended %v", got)
		}
		// A longer word is not a mention; a reply (not a note) mentions nobody.
		before = e.head(e.ws.ID)
		owner.send(path+"/reply", url.Values{"kind": {"note"}, "body": {"@Acme Agents is not a teammate"}})
		owner.send(path+"/reply", url.Values{"kind": {"comment"}, "body": {"Hi @Acme Agent"}})
		if got := e.topicsSince(e.ws.ID, before); slices.Contains(got, "conversation.admin.mentioned") {
			t.Fatalf("no mention expected, appended %v", got)
		}

		p = agent.get("/app/inbox?view=mentions")
		want(t, p, http.StatusOK, "1 unread mention")
		if got := rowIDs(p.body); !slices.Equal(got, []string{id(c)}) {
			t.Fatalf("the agent's Mentions view lists %v", got)
		}
		if n := countOf(t, p.body, "mentions"); n != 1 {
			t.Fatalf("unread mention count %d, want 1", n)
		}
		if n := countOf(t, owner.get("/app/inbox").body, "mentions"); n != 0 {
			t.Fatalf("the owner has %d unread mentions, want 0", n)
		}
		p = agent.get(path)
		want(t, p, http.StatusOK, "mentions you")
		if strings.Count(p.body, "mentions-me") != 1 {
			t.Fatal("the mentioning note is not highlighted once for the agent")
		}
		if strings.Contains(owner.get(path).body, "mentions-me") {
			t.Fatal("the note is highlighted for the owner, who is not mentioned")
		}
		p = agent.get("/app/inbox?view=mentions")
		if n := countOf(t, p.body, "mentions"); n != 0 || !slices.Equal(rowIDs(p.body), []string{id(c)}) {
			t.Fatalf("after reading: count %d, rows %v", n, rowIDs(p.body))
		}
		// Another workspace's teammates cannot be mentioned, nor see it.
		_, otherOwner, _ := e.workspace("Other")
		before = e.head(e.ws.ID)
		owner.send(path+"/reply", url.Values{"kind": {"note"}, "body": {"@" + otherOwner.Email}})
		if got := e.topicsSince(e.ws.ID, before); slices.Contains(got, "conversation.admin.mentioned") {
			t.Fatalf("a teammate of another workspace was mentioned: %v", got)
		}
	})
}

var savedIDRe = regexp.MustCompile(`href="/app/settings/saved-replies/(\d+)"`)

// Saved replies: owners and admins manage them; agents use them in the
// composer (placeholders filled in) but are refused the settings by URL
// and by forged POST; another workspace's replies are 404.
func TestSavedReplies(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, web.Options{})
		owner, agent := e.browser(), e.browser()
		owner.mustSignin(e.owner.Email)
		agent.mustSignin(e.agent.Email)

		p := owner.send("/app/settings/saved-replies", url.Values{"name": {"Greeting"}, "body": {"Hi {{first_name}}, {{teammate_name}} here."}})
		if p.status != http.StatusSeeOther {
			t.Fatalf("create: %d %s", p.status, p.body)
		}
		p = owner.get("/app/settings/saved-replies")
		want(t, p, http.StatusOK, "Greeting")
		m := savedIDRe.FindStringSubmatch(p.body)
		if m == nil {
			t.Fatal("no edit link")
		}
		rid := m[1]
		want(t, owner.send("/app/settings/saved-replies", url.Values{"name": {"Greeting"}, "body": {"again"}}), http.StatusConflict, "Another saved reply is called Greeting")
		want(t, owner.send("/app/settings/saved-replies", url.Values{"name": {""}, "body": {"x"}}), http.StatusBadRequest, "Enter a name")
		want(t, owner.send("/app/settings/saved-replies", url.Values{"name": {"Empty"}, "body": {"  "}}), http.StatusBadRequest, "Write the reply")
		if p := owner.send("/app/settings/saved-replies/"+rid, url.Values{"name": {"Greeting"}, "body": {"Hello {{first_name}}, {{teammate_name}} here."}}); p.status != http.StatusSeeOther {
			t.Fatalf("update: %d %s", p.status, p.body)
		}

		// The agent uses it: the picker offers it with the placeholders filled,
		// and without JS ?saved= puts it in the composer.
		c := e.startConversation(e.ws.ID, "Ann Lee", "<p>Hello?</p>")
		path := "/app/conversations/" + id(c)
		p = agent.get(path)
		want(t, p, http.StatusOK, `data-text="Hello Ann, Acme Agent here."`)
		p = agent.get(path + "?saved=" + rid)
		want(t, p, http.StatusOK, `>Hello Ann, Acme Agent here.</textarea>`)
		want(t, agent.get(path+"?saved=999999"), http.StatusOK, "That saved reply does not exist")

		// The agent is refused the settings, by URL and by forged POST.
		before := e.head(e.ws.ID)
		want(t, agent.get("/app/settings/saved-replies"), http.StatusForbidden, "Not allowed")
		want(t, agent.get("/app/settings/saved-replies/"+rid), http.StatusForbidden, "Not allowed")
		want(t, agent.send("/app/settings/saved-replies", url.Values{"name": {"Mine"}, "body": {"x"}}), http.StatusForbidden, "Not allowed")
		want(t, agent.send("/app/settings/saved-replies/"+rid, url.Values{"name": {"Hacked"}, "body": {"x"}}), http.StatusForbidden, "Not allowed")
		want(t, agent.send("/app/settings/saved-replies/"+rid+"/delete", url.Values{}), http.StatusForbidden, "Not allowed")
		if got := e.topicsSince(e.ws.ID, before); len(got) != 0 {
			t.Fatalf("the agent's forged forms appended %v", got)
		}

		// Another workspace's owner sees none of it and cannot change it.
		_, otherOwner, _ := e.workspace("Other")
		ob := e.browser()
		ob.mustSignin(otherOwner.Email)
		if strings.Contains(ob.get("/app/settings/saved-replies").body, "Greeting") {
			t.Fatal("another workspace lists the reply")
		}
		want(t, ob.get("/app/settings/saved-replies/"+rid), http.StatusNotFound, "Saved reply not found")
		want(t, ob.send("/app/settings/saved-replies/"+rid, url.Values{"name": {"X"}, "body": {"x"}}), http.StatusNotFound, "Saved reply not found")
		want(t, ob.send("/app/settings/saved-replies/"+rid+"/delete", url.Values{}), http.StatusNotFound, "Saved reply not found")

		// The owner deletes it.
		before = e.head(e.ws.ID)
		if p := owner.send("/app/settings/saved-replies/"+rid+"/delete", url.Values{}); p.status != http.StatusSeeOther {
			t.Fatalf("delete: %d", p.status)
		}
		if got := e.topicsSince(e.ws.ID, before); !slices.Equal(got, []string{"saved_reply.deleted"}) {
			t.Fatalf("delete appended %v", got)
		}
	})
}

// Tags and custom attributes on the conversation page go through the
// API's store code and checks; bad values are a 400 that changes nothing.
func TestConversationTagsAndAttributes(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, web.Options{})
		ctx := context.Background()
		attrs := store.NewConversationAttributes(db)
		for _, a := range []*conversation.Attribute{
			{WorkspaceID: e.ws.ID, Name: "order_count", DataType: conversation.AttrInteger},
			{WorkspaceID: e.ws.ID, Name: "plan", DataType: conversation.AttrList, Options: []conversation.AttrOption{{ID: "1", Label: "Pro"}, {ID: "2", Label: "Free"}}},
		} {
			if err := attrs.Create(ctx, a); err != nil {
				t.Fatal(err)
			}
		}
		c := e.startConversation(e.ws.ID, "Ann", "<p>Hi</p>")
		path := "/app/conversations/" + id(c)
		b := e.browser()
		b.mustSignin(e.agent.Email)

		before := e.head(e.ws.ID)
		if p := b.send(path+"/tags", url.Values{"tag": {"VIP"}}); p.status != http.StatusSeeOther {
			t.Fatalf("tag: %d %s", p.status, p.body)
		}
		if got := e.topicsSince(e.ws.ID, before); !slices.Equal(got, []string{"tag.created", "conversation.tag.created"}) {
			t.Fatalf("tagging appended %v", got)
		}
		p := b.get(path)
		want(t, p, http.StatusOK, `aria-label="Remove tag VIP"`)
		want(t, b.send(path+"/tags", url.Values{"tag": {"  "}}), http.StatusBadRequest, "Enter a tag name")

		before = e.head(e.ws.ID)
		want(t, b.send(path+"/attributes", url.Values{"attr.order_count": {"many"}}), http.StatusBadRequest, "order_count must be a whole number")
		want(t, b.send(path+"/attributes", url.Values{"attr.plan": {"Gold"}}), http.StatusBadRequest, "custom_attributes.plan must be one of the attribute")
		if got := e.topicsSince(e.ws.ID, before); len(got) != 0 {
			t.Fatalf("refused attributes appended %v", got)
		}
		if p := b.send(path+"/attributes", url.Values{"attr.order_count": {"3"}, "attr.plan": {"Pro"}}); p.status != http.StatusSeeOther {
			t.Fatalf("attributes: %d %s", p.status, p.body)
		}
		got, err := store.NewConversations(db).Get(ctx, e.ws.ID, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.CustomAttributes["plan"] != "Pro" || len(got.Tags) != 1 || got.Tags[0].Name != "VIP" {
			t.Fatalf("stored: attributes %v tags %v", got.CustomAttributes, got.Tags)
		}
		if n, ok := got.CustomAttributes["order_count"].(int64); !ok || n != 3 {
			if f, ok := got.CustomAttributes["order_count"].(float64); !ok || f != 3 {
				t.Fatalf("order_count stored as %#v", got.CustomAttributes["order_count"])
			}
		}
		if p := b.send(path+"/tags", url.Values{"remove": {itoa(got.Tags[0].ID)}}); p.status != http.StatusSeeOther {
			t.Fatalf("untag: %d %s", p.status, p.body)
		}
		want(t, b.send(path+"/tags", url.Values{"remove": {itoa(got.Tags[0].ID)}}), http.StatusBadRequest, "not on this conversation")

		// Another workspace's conversation: 404.
		other, _, _ := e.workspace("Other")
		theirs := e.startConversation(other.ID, "Zed", "<p>Private</p>")
		want(t, b.send("/app/conversations/"+id(theirs)+"/tags", url.Values{"tag": {"x"}}), http.StatusNotFound, "Conversation not found")
		want(t, b.send("/app/conversations/"+id(theirs)+"/attributes", url.Values{"attr.plan": {"Pro"}}), http.StatusNotFound, "Conversation not found")
	})
}

// A bulk action changes each selected conversation through the rules and
// reports what changed and what failed; another workspace's conversation
// in the selection fails and stays as it was.
func TestInboxBulk(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, web.Options{})
		a := e.startConversation(e.ws.ID, "Ann", "<p>One</p>")
		c := e.startConversation(e.ws.ID, "Bob", "<p>Two</p>")
		other, _, _ := e.workspace("Other")
		theirs := e.startConversation(other.ID, "Zed", "<p>Private</p>")
		b := e.browser()
		b.mustSignin(e.agent.Email)
		otherBefore := e.head(other.ID)

		p := b.send("/app/inbox/bulk", url.Values{"ids": {id(a), id(c), id(theirs)}, "action": {"close"}, "return": {"view=all&state=open"}})
		want(t, p, http.StatusOK, "2 conversations changed. 1 could not be changed:")
		want(t, p, http.StatusOK, "#"+id(theirs)+": no such conversation in this workspace")
		if got := rowIDs(p.body); len(got) != 0 {
			t.Fatalf("open conversations after closing all: %v", got)
		}
		if got := e.topicsSince(other.ID, otherBefore); len(got) != 0 {
			t.Fatalf("the bulk action changed another workspace: %v", got)
		}
		// Closing closed ones again: the rules refuse or change nothing; the page says so.
		p = b.send("/app/inbox/bulk", url.Values{"ids": {id(a)}, "action": {"open"}, "return": {"view=all&state=closed"}})
		want(t, p, http.StatusOK, "1 conversation changed.")
		p = b.send("/app/inbox/bulk", url.Values{"ids": {id(a), id(c)}, "action": {"assign"}, "to": {"me"}, "return": {"view=mine"}})
		want(t, p, http.StatusOK, "2 conversations changed.")
		p = b.send("/app/inbox/bulk", url.Values{"ids": {id(a), id(c)}, "action": {"tag"}, "tag": {"Refund"}, "return": {"view=all"}})
		want(t, p, http.StatusOK, "2 conversations changed.")
		for _, x := range []int64{a.ID, c.ID} {
			got, err := store.NewConversations(db).Get(context.Background(), e.ws.ID, x)
			if err != nil {
				t.Fatal(err)
			}
			if got.AdminAssigneeID == nil || *got.AdminAssigneeID != e.agent.ID || len(got.Tags) != 1 {
				t.Fatalf("conversation %d: assignee %v tags %v", x, got.AdminAssigneeID, got.Tags)
			}
		}
		// Snooze until a date: 9:00 that day in the workspace's zone; a past date is refused.
		p = b.send("/app/inbox/bulk", url.Values{"ids": {id(a)}, "action": {"snooze"}, "until": {"date"}, "until_date": {"2999-01-02"}, "return": {"view=all"}})
		want(t, p, http.StatusOK, "1 conversation changed.")
		if got, _ := store.NewConversations(db).Get(context.Background(), e.ws.ID, a.ID); got.SnoozedUntil == nil || *got.SnoozedUntil != time.Date(2999, 1, 2, 9, 0, 0, 0, e.ws.Location()).Unix() {
			t.Fatalf("snoozed until %v", got.SnoozedUntil)
		}
		want(t, b.send("/app/inbox/bulk", url.Values{"ids": {id(a)}, "action": {"snooze"}, "until": {"date"}, "until_date": {"2001-01-02"}}), http.StatusBadRequest, "Choose a date after today")
		want(t, b.send("/app/inbox/bulk", url.Values{"action": {"close"}}), http.StatusBadRequest, "Select at least one conversation")
		want(t, b.send("/app/inbox/bulk", url.Values{"ids": {id(a)}, "action": {"explode"}}), http.StatusBadRequest, "Choose an action")
		want(t, b.send("/app/inbox/bulk", url.Values{"ids": {"x"}, "action": {"close"}}), http.StatusBadRequest, "does not exist")
		want(t, b.send("/app/inbox/bulk", url.Values{"ids": {id(a)}, "action": {"assign"}, "to": {"admin:999999"}}), http.StatusBadRequest, "Choose a teammate")
		want(t, b.do(http.MethodPost, "/app/inbox/bulk", url.Values{"ids": {id(a)}, "action": {"close"}}), http.StatusForbidden, "Form expired")
	})
}

var customRe = regexp.MustCompile(`view=custom:(\d+)`)

// A teammate saves a conversation filter as a view: it is listed with its
// count, only for them; a bad filter is a 400 naming the problem.
func TestInboxCustomViews(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, web.Options{})
		urgent := e.startConversation(e.ws.ID, "Eve", "<p>Down</p>")
		e.change(e.ws.ID, urgent.ID, func(c *conversation.Conversation) (*conversation.Change, error) {
			p := "urgent"
			return c.Apply(conversation.Update{Priority: &p}, 1)
		})
		e.startConversation(e.ws.ID, "Ann", "<p>Calm</p>")
		b := e.browser()
		b.mustSignin(e.agent.Email)

		want(t, b.send("/app/inbox/views", url.Values{"name": {"Urgent"}, "filter": {"{nope"}}), http.StatusBadRequest, "not valid JSON")
		want(t, b.send("/app/inbox/views", url.Values{"name": {"Urgent"}, "filter": {`{"field":"shoe_size","operator":"=","value":"1"}`}}), http.StatusBadRequest, "The filter is not valid")
		want(t, b.send("/app/inbox/views", url.Values{"name": {""}, "filter": {`{"field":"priority","operator":"=","value":"urgent"}`}}), http.StatusBadRequest, "Name the view")
		p := b.send("/app/inbox/views", url.Values{"name": {"Urgent"}, "filter": {`{"field":"priority","operator":"=","value":"urgent"}`}})
		if p.status != http.StatusSeeOther {
			t.Fatalf("save view: %d %s", p.status, p.body)
		}
		m := customRe.FindStringSubmatch(p.location)
		if m == nil {
			t.Fatalf("redirect to %q", p.location)
		}
		p = b.get(p.location)
		want(t, p, http.StatusOK, "Urgent")
		if got := rowIDs(p.body); !slices.Equal(got, []string{id(urgent)}) {
			t.Fatalf("the view lists %v", got)
		}
		if n := countOf(t, p.body, "custom:"+m[1]); n != 1 {
			t.Fatalf("the view's count is %d", n)
		}
		// The owner has no such view and cannot delete the agent's.
		o := e.browser()
		o.mustSignin(e.owner.Email)
		want(t, o.get("/app/inbox?view=custom:"+m[1]), http.StatusNotFound, "No such inbox")
		want(t, o.send("/app/inbox/views/"+m[1]+"/delete", url.Values{}), http.StatusNotFound, "No such view")
		if p := b.send("/app/inbox/views/"+m[1]+"/delete", url.Values{}); p.status != http.StatusSeeOther {
			t.Fatalf("delete view: %d", p.status)
		}
		want(t, b.get("/app/inbox?view=custom:"+m[1]), http.StatusNotFound, "No such inbox")

		// A saved filter that no longer parses breaks only its own view.
		broken := &store.InboxView{WorkspaceID: e.ws.ID, AdminID: e.agent.ID, Name: "Old", Filter: `{"field":"shoe_size","operator":"=","value":"1"}`}
		if err := store.NewSavedReplies(db).CreateInboxView(context.Background(), broken); err != nil {
			t.Fatal(err)
		}
		want(t, b.get("/app/inbox"), http.StatusOK, "Old")
		want(t, b.get("/app/inbox?view=custom:"+itoa(broken.ID)), http.StatusBadRequest, "no longer valid")
	})
}

// Messenger uploads are served to the workspace's teammates with the
// session cookie, never to another workspace's, and can run no script.
func TestAttachmentFile(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		dir := t.TempDir()
		e := newEnv(t, db, web.Options{AttachmentDir: dir})
		a := &store.Attachment{WorkspaceID: e.ws.ID, ID: "att0123456789", Name: "parcel.png", ContentType: "image/png", Size: 4, Uploader: "v:x", CreatedAt: time.Now().Unix()}
		if err := store.NewMessenger(db).CreateAttachment(context.Background(), a); err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(dir, e.ws.ID), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, e.ws.ID, a.ID), []byte("\x89PNG"), 0o644); err != nil {
			t.Fatal(err)
		}
		b := e.browser()
		b.mustSignin(e.agent.Email)
		p := b.get("/app/attachments/" + a.ID + "/parcel.png")
		if p.status != http.StatusOK || p.body != "\x89PNG" || p.header.Get("Content-Type") != "image/png" || !strings.HasPrefix(p.header.Get("Content-Security-Policy"), "sandbox") {
			t.Fatalf("the file: %d %q %v", p.status, p.body, p.header)
		}
		want(t, b.get("/app/attachments/nope/x.png"), http.StatusNotFound, "File not found")
		if p := e.browser().get("/app/attachments/" + a.ID + "/parcel.png"); p.status != http.StatusSeeOther {
			t.Fatalf("signed out: %d", p.status)
		}
		_, otherOwner, _ := e.workspace("Other")
		o := e.browser()
		o.mustSignin(otherOwner.Email)
		want(t, o.get("/app/attachments/"+a.ID+"/parcel.png"), http.StatusNotFound, "File not found")
	})
}
