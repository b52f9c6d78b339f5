package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/parleyhq/parley/internal/store"
	"github.com/parleyhq/parley/internal/testdb"
	"github.com/parleyhq/parley/internal/web"
)

// The conversation page's sidebar is the contact's panel: its attributes,
// tags and notes, editable there; a change goes through the contact's
// rules and comes back to the conversation. Its element ids do not clash
// with the conversation's own (tags, add-tag).
func TestConversationSidebar(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, web.Options{})
		conv := e.startConversation(e.ws.ID, "Ann Lee", "<p>Where is my parcel?</p>")
		contactID := conv.Contacts[0].ID
		path := "/app/conversations/" + strconv.FormatInt(conv.ID, 10)
		if _, _, err := store.NewTags(db).Ensure(context.Background(), e.ws.ID, "vip"); err != nil {
			t.Fatal(err)
		}
		b := e.browser()
		b.mustSignin(e.agent.Email)
		p := b.get(path)
		want(t, p, http.StatusOK, `id="side-edit-contact"`)
		for _, s := range []string{`value="ann.lee@customer.test"`, `id="side-tags"`, `id="side-add-tag"`, `name="return_to" value="` + path + `"`} {
			if !strings.Contains(p.body, s) {
				t.Fatalf("the sidebar lacks %s", s)
			}
		}
		for _, id := range []string{`id="tags"`, `id="add-tag"`} {
			if strings.Count(p.body, id) > 1 {
				t.Fatalf("%s appears twice on the conversation page", id)
			}
		}
		csrf := b.csrf(path)
		// A refused edit changes nothing.
		p = b.do(http.MethodPost, "/app/contacts/"+contactID+"/edit", url.Values{"csrf": {csrf}, "return_to": {path}, "email": {"not an email"}, "name": {"Ann Lee"}})
		if p.status != http.StatusBadRequest {
			t.Fatalf("a bad email from the sidebar: %d", p.status)
		}
		// A good one comes back to the conversation, which shows it.
		p = b.do(http.MethodPost, "/app/contacts/"+contactID+"/edit", url.Values{"csrf": {csrf}, "return_to": {path}, "email": {"ann@example.com"}, "name": {"Ann Lee-Smith"}})
		if p.status != http.StatusSeeOther || !strings.HasPrefix(p.location, path) {
			t.Fatalf("edit from the sidebar: %d → %q", p.status, p.location)
		}
		want(t, b.get(path), http.StatusOK, `value="ann@example.com"`)
		c, err := store.NewContacts(db).Get(context.Background(), e.ws.ID, contactID)
		if err != nil || c.Email == nil || *c.Email != "ann@example.com" {
			t.Fatalf("stored email: %v %v", c, err)
		}
	})
}
