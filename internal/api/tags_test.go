package api

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/parleyhq/parley/internal/store"
)

func TestTagLifecycle(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		vip := e.do("POST", "/tags", map[string]any{"name": "VIP"}).ok(t)
		noNulls(t, "tag", vip)
		id := str(vip["id"])
		if _, err := strconv.ParseInt(id, 10, 64); err != nil || vip["type"] != "tag" || vip["name"] != "VIP" || len(vip) != 3 {
			t.Fatalf("created = %v", vip)
		}
		// Names are case insensitive: the same tag comes back, nothing is created.
		if again := e.do("POST", "/tags", map[string]any{"name": "vip"}).ok(t); again["id"] != id || again["name"] != "VIP" {
			t.Fatalf("create again = %v", again)
		}
		if got := e.do("GET", "/tags/"+id, nil).ok(t); got["name"] != "VIP" {
			t.Fatalf("get = %v", got)
		}

		// Rename; a name taken by another tag is a conflict and changes nothing.
		if r := e.do("POST", "/tags", map[string]any{"name": "Very Important", "id": id}).ok(t); r["id"] != id || r["name"] != "Very Important" {
			t.Fatalf("rename = %v", r)
		}
		beta := str(e.do("POST", "/tags", map[string]any{"name": "Beta"}).ok(t)["id"])
		e.do("POST", "/tags", map[string]any{"name": "beta", "id": id}).fails(t, 409, "resource_conflict")
		e.do("POST", "/tags", map[string]any{"name": "Other", "id": "999999"}).fails(t, 404, "not_found")
		if got := e.do("GET", "/tags/"+id, nil).ok(t); got["name"] != "Very Important" {
			t.Fatalf("refused rename changed the tag: %v", got)
		}
		list := e.do("GET", "/tags", nil).ok(t)
		if list["type"] != "list" || !slices.Equal(idsOf(t, list["data"]), []string{id, beta}) {
			t.Fatalf("list = %v", list)
		}

		// Tag a user and a lead.
		user := str(e.do("POST", "/contacts", map[string]any{"email": "ada@example.com", "external_id": "u-1"}).ok(t)["id"])
		lead := str(e.do("POST", "/contacts", map[string]any{"role": "lead", "email": "lead@example.com"}).ok(t)["id"])
		applied := e.do("POST", "/contacts/"+user+"/tags", map[string]any{"id": id}).ok(t)
		by, _ := applied["applied_by"].(map[string]any)
		if applied["id"] != id || applied["applied_at"] == nil || by["type"] != "admin" || by["id"] != strconv.FormatInt(e.owner.ID, 10) {
			t.Fatalf("tag contact = %v", applied)
		}
		e.do("POST", "/contacts/"+user+"/tags", map[string]any{"id": id}).ok(t) // again: no change
		e.do("POST", "/contacts/"+lead+"/tags", map[string]any{"id": mustInt(t, id)}).ok(t)
		tags := e.do("GET", "/contacts/"+user, nil).ok(t)["tags"].(map[string]any)
		if tags["total_count"] != float64(1) || !slices.Equal(idsOf(t, tags["data"]), []string{id}) {
			t.Fatalf("contact tags summary = %v", tags)
		}
		ct := e.do("GET", "/contacts/"+user+"/tags", nil).ok(t)
		if ct["type"] != "list" || len(ct["data"].([]any)) != 1 || ct["data"].([]any)[0].(map[string]any)["applied_at"] == nil {
			t.Fatalf("GET contact tags = %v", ct)
		}

		// Bulk: users by id or user_id (external id), companies by id or company_id.
		co1 := str(e.do("POST", "/companies", map[string]any{"company_id": "c-1"}).ok(t)["id"])
		e.do("POST", "/companies", map[string]any{"company_id": "c-2"}).ok(t)
		e.do("POST", "/tags", map[string]any{"name": "Beta", "users": []any{map[string]any{"id": lead}, map[string]any{"user_id": "u-1"}}}).ok(t)
		if n := e.do("GET", "/contacts/"+user, nil).ok(t)["tags"].(map[string]any)["total_count"]; n != float64(2) {
			t.Fatalf("after bulk tagging the user has %v tags", n)
		}
		ent := e.do("POST", "/tags", map[string]any{"name": "Enterprise", "companies": []any{map[string]any{"id": co1}, map[string]any{"company_id": "c-2"}}}).ok(t)
		entID := str(ent["id"])
		c1 := e.do("GET", "/companies/"+co1, nil).ok(t)
		if ctags := c1["tags"].(map[string]any)["tags"].([]any); len(ctags) != 1 || ctags[0].(map[string]any)["name"] != "Enterprise" {
			t.Fatalf("company tags = %v", c1["tags"])
		}
		e.do("POST", "/tags", map[string]any{"name": "Enterprise", "companies": []any{map[string]any{"id": co1, "untag": true}}}).ok(t)
		if ctags := e.do("GET", "/companies/"+co1, nil).ok(t)["tags"].(map[string]any)["tags"].([]any); len(ctags) != 0 {
			t.Fatalf("untagged company still has %v", ctags)
		}
		if r := e.do("GET", "/companies?tag_id="+entID, nil).ok(t); r["total_count"] != float64(1) {
			t.Fatalf("companies tagged Enterprise: %v", r["total_count"])
		}

		// Refused requests change nothing: no tag is created, no contact or company tagged.
		before := len(e.eventTopics(e.ws.ID))
		e.do("POST", "/tags", map[string]any{"name": "Gamma", "users": []any{map[string]any{"id": user}, map[string]any{"id": "nope"}}}).fails(t, 404, "not_found")
		e.do("POST", "/tags", map[string]any{"name": "Gamma", "companies": []any{map[string]any{"id": co1}, map[string]any{"company_id": "nope"}}}).fails(t, 404, "company_not_found")
		e.do("POST", "/tags", map[string]any{"name": "Gamma", "companies": []any{map[string]any{"id": co1, "untag": true}}}).fails(t, 404, "not_found")
		e.do("POST", "/tags", map[string]any{"name": "Gamma", "companies": []any{map[string]any{}}}).fails(t, 400, "parameter_invalid")
		e.do("POST", "/tags", map[string]any{}).fails(t, 400, "parameter_not_found")
		e.do("POST", "/tags", map[string]any{"name": "  "}).fails(t, 400, "parameter_invalid")
		e.do("POST", "/tags", `{"name": "Gamma", "colour": "red"}`).fails(t, 400, "parameter_invalid")
		e.do("POST", "/tags", map[string]any{"name": "Gamma", "id": id, "users": []any{map[string]any{"id": user}}}).fails(t, 400, "parameter_invalid")
		e.do("POST", "/contacts/"+user+"/tags", map[string]any{}).fails(t, 400, "parameter_not_found")
		e.do("POST", "/contacts/"+user+"/tags", map[string]any{"id": "999999"}).fails(t, 404, "not_found")
		e.do("POST", "/contacts/"+user+"/tags", map[string]any{"id": "abc"}).fails(t, 404, "not_found")
		if msg := e.do("POST", "/contacts/nope/tags", map[string]any{"id": id}).fails(t, 404, "not_found"); msg != "User Not Found" {
			t.Fatalf("unknown contact message = %q", msg)
		}
		e.do("GET", "/contacts/nope/tags", nil).fails(t, 404, "not_found")
		e.do("GET", "/tags/999999", nil).fails(t, 404, "not_found")
		e.do("GET", "/tags/abc", nil).fails(t, 404, "not_found")
		if after := len(e.eventTopics(e.ws.ID)); after != before {
			t.Fatalf("refused requests appended %d events", after-before)
		}
		if n := len(e.do("GET", "/tags", nil).ok(t)["data"].([]any)); n != 3 {
			t.Fatalf("refused requests left %d tags, want 3", n)
		}

		// Untag a contact.
		un := e.do("DELETE", "/contacts/"+user+"/tags/"+id, nil).ok(t)
		if un["id"] != id || un["type"] != "tag" {
			t.Fatalf("untag = %v", un)
		}
		if n := e.do("GET", "/contacts/"+user, nil).ok(t)["tags"].(map[string]any)["total_count"]; n != float64(1) {
			t.Fatalf("after untagging the user has %v tags", n)
		}

		// Deleting a tag takes it off every contact and company.
		del := e.do("DELETE", "/tags/"+beta, nil)
		if del.Status != 200 || len(del.Raw) != 0 {
			t.Fatalf("delete tag: %d %s", del.Status, del.Raw)
		}
		e.do("GET", "/tags/"+beta, nil).fails(t, 404, "not_found")
		e.do("DELETE", "/tags/"+beta, nil).fails(t, 404, "not_found")
		if n := e.do("GET", "/contacts/"+user, nil).ok(t)["tags"].(map[string]any)["total_count"]; n != float64(0) {
			t.Fatalf("deleted tag still on the user (%v tags)", n)
		}
		e.do("DELETE", "/tags/"+entID, nil).ok(t)
		if ctags := e.do("GET", "/companies?company_id=c-2", nil).ok(t)["tags"].(map[string]any)["tags"].([]any); len(ctags) != 0 {
			t.Fatalf("deleted tag still on the company: %v", ctags)
		}

		want := []string{
			"tag.created", "tag.updated", "tag.created",
			"contact.user.created", "contact.lead.created",
			"contact.user.tag.created", "contact.lead.tag.created",
			"company.created", "company.created",
			"contact.lead.tag.created", "contact.user.tag.created",
			"tag.created", "company.tag.created", "company.tag.created",
			"company.tag.deleted",
			"contact.user.tag.deleted",
			"tag.deleted", "tag.deleted",
		}
		if got := e.eventTopics(e.ws.ID); !slices.Equal(got, want) {
			t.Fatalf("event log:\n got %v\nwant %v", got, want)
		}
	})
}

func mustInt(t *testing.T, s string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestTagIsolation(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		id := str(e.do("POST", "/tags", map[string]any{"name": "VIP"}).ok(t)["id"])
		co := str(e.do("POST", "/companies", map[string]any{"company_id": "c-1"}).ok(t)["id"])
		cid := str(e.do("POST", "/contacts", map[string]any{"email": "a@example.com"}).ok(t)["id"])
		e.do("POST", "/contacts/"+cid+"/tags", map[string]any{"id": id}).ok(t)

		_, _, tok := e.newWorkspace("Other")
		as := func(method, path string, body any) *resp { return e.doAs(tok, method, path, body, nil) }
		if l := as("GET", "/tags", nil).ok(t); len(l["data"].([]any)) != 0 {
			t.Fatalf("other workspace lists tags %v", l["data"])
		}
		as("GET", "/tags/"+id, nil).fails(t, 404, "not_found")
		as("DELETE", "/tags/"+id, nil).fails(t, 404, "not_found")
		as("POST", "/tags", map[string]any{"name": "Renamed", "id": id}).fails(t, 404, "not_found")
		theirContact := str(as("POST", "/contacts", map[string]any{"email": "b@example.com"}).ok(t)["id"])
		as("POST", "/contacts/"+theirContact+"/tags", map[string]any{"id": id}).fails(t, 404, "not_found")
		as("POST", "/contacts/"+cid+"/tags", map[string]any{"id": id}).fails(t, 404, "not_found")
		as("DELETE", "/contacts/"+cid+"/tags/"+id, nil).fails(t, 404, "not_found")
		as("GET", "/contacts/"+cid+"/tags", nil).fails(t, 404, "not_found")
		as("POST", "/tags", map[string]any{"name": "VIP", "companies": []any{map[string]any{"id": co}}}).fails(t, 404, "company_not_found")
		as("POST", "/tags", map[string]any{"name": "VIP", "users": []any{map[string]any{"id": cid}}}).fails(t, 404, "not_found")
		// The same name is another tag there.
		theirs := as("POST", "/tags", map[string]any{"name": "VIP"}).ok(t)
		if theirs["id"] == id {
			t.Fatalf("other workspace got my tag %v", theirs)
		}

		if got := e.do("GET", "/tags/"+id, nil).ok(t); got["name"] != "VIP" {
			t.Fatalf("my tag changed: %v", got)
		}
		if n := e.do("GET", "/contacts/"+cid, nil).ok(t)["tags"].(map[string]any)["total_count"]; n != float64(1) {
			t.Fatalf("my contact has %v tags", n)
		}
	})
}

// A tag that a segment filters on cannot be deleted (Intercom:
// tag_has_dependent_objects); once the segment no longer uses it, it can.
func TestTagInUseBySegment(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		id := str(e.do("POST", "/tags", map[string]any{"name": "VIP"}).ok(t)["id"])
		other := str(e.do("POST", "/tags", map[string]any{"name": "Other"}).ok(t)["id"])
		filter := `{"operator":"AND","value":[{"field":"email","operator":"~","value":"@"},{"field":"tag_id","operator":"=","value":"` + id + `"}]}`
		err := e.db.InTx(context.Background(), func(tx *store.Tx) error {
			_, err := tx.Exec(context.Background(), `INSERT INTO segments (workspace_id, id, name, person_type, filter, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
				e.ws.ID, "seg1", "Big spenders", "user", filter, 1, 1)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		msg := e.do("DELETE", "/tags/"+id, nil).fails(t, 400, "tag_has_dependent_objects")
		if !strings.Contains(msg, "Big spenders") {
			t.Fatalf("message %q does not name the segment", msg)
		}
		e.do("GET", "/tags/"+id, nil).ok(t)
		e.do("DELETE", "/tags/"+other, nil).ok(t)
		err = e.db.InTx(context.Background(), func(tx *store.Tx) error {
			_, err := tx.Exec(context.Background(), `DELETE FROM segments WHERE workspace_id = ?`, e.ws.ID)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		e.do("DELETE", "/tags/"+id, nil).ok(t)
	})
}

// TestDeletedTagLeavesConversations: a deleted tag disappears from the
// conversations it was applied to, as from contacts and companies.
func TestDeletedTagLeavesConversations(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		uid := str(e.do("POST", "/contacts", map[string]any{"email": "tagged@example.com"}).ok(t)["id"])
		conv := str(e.do("POST", "/conversations", map[string]any{"from": map[string]any{"type": "user", "id": uid}, "body": "hello"}).ok(t)["conversation_id"])
		tag := str(e.do("POST", "/tags", map[string]any{"name": "Urgent"}).ok(t)["id"])
		admin := str(e.do("GET", "/me", nil).ok(t)["id"])
		e.do("POST", "/conversations/"+conv+"/tags", map[string]any{"id": tag, "admin_id": admin}).ok(t)
		tagsOf := func() []string {
			got := e.do("GET", "/conversations/"+conv, nil).ok(t)
			return idsOf(t, got["tags"].(map[string]any)["tags"])
		}
		if got := tagsOf(); !slices.Equal(got, []string{tag}) {
			t.Fatalf("tags before delete = %v", got)
		}
		e.do("DELETE", "/tags/"+tag, nil).ok(t)
		if got := tagsOf(); len(got) != 0 {
			t.Fatalf("tags after delete = %v", got)
		}
		var n int
		if err := e.db.Read().QueryRow(context.Background(), `SELECT count(*) FROM conversation_tags WHERE tag_id = ?`, tag).Scan(&n); err != nil || n != 0 {
			t.Fatalf("%d conversation_tags rows left (%v)", n, err)
		}
	})
}
