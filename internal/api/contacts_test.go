package api

import (
	"fmt"
	"slices"
	"testing"

	"github.com/parleyhq/parley/internal/testdb"
)

func TestContactLifecycle(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		attr := e.do("POST", "/data_attributes", map[string]any{"name": "plan", "model": "contact", "data_type": "string"}).ok(t)
		if attr["data_type"] != "string" || attr["custom"] != true {
			t.Fatalf("attribute = %v", attr)
		}
		e.do("POST", "/data_attributes", map[string]any{"name": "seats", "model": "contact", "data_type": "integer"}).ok(t)

		c := e.do("POST", "/contacts", map[string]any{
			"email": "ada@example.com", "external_id": "u-1", "name": "Ada",
			"signed_up_at": 1700000000, "custom_attributes": map[string]any{"plan": "pro", "seats": 3},
		}).ok(t)
		id := str(c["id"])
		if c["type"] != "contact" || c["role"] != "user" || c["email_domain"] != "example.com" || len(id) != 24 {
			t.Fatalf("created = %v", c)
		}
		ca := c["custom_attributes"].(map[string]any)
		if ca["plan"] != "pro" || ca["seats"] != float64(3) {
			t.Fatalf("custom attributes = %v", ca)
		}

		got := e.do("GET", "/contacts/"+id, nil).ok(t)
		if got["name"] != "Ada" || got["signed_up_at"] != float64(1700000000) || got["workspace_id"] != e.ws.ID {
			t.Fatalf("get = %v", got)
		}
		byExt := e.do("GET", "/contacts/find_by_external_id/u-1", nil).ok(t)
		if byExt["id"] != id {
			t.Fatalf("find_by_external_id = %v", byExt["id"])
		}

		// Uniqueness: same external_id or same user email → 409 naming the existing contact.
		msg := e.do("POST", "/contacts", map[string]any{"external_id": "u-1", "email": "other@example.com"}).fails(t, 409, "resource_conflict")
		if !containsStr(msg, id) {
			t.Fatalf("conflict message %q does not name %s", msg, id)
		}
		e.do("POST", "/contacts", map[string]any{"email": "ada@example.com"}).fails(t, 409, "resource_conflict")
		// A lead may share a user's email.
		lead := e.do("POST", "/contacts", map[string]any{"role": "lead", "email": "ada@example.com", "name": "Ada lead", "custom_attributes": map[string]any{"seats": 9}}).ok(t)
		if lead["role"] != "lead" {
			t.Fatalf("lead = %v", lead)
		}

		// Update: typed custom attributes validated; unknown and wrong type refused and nothing changes.
		up := e.do("PUT", "/contacts/"+id, map[string]any{"name": "Ada L.", "custom_attributes": map[string]any{"seats": 5}}).ok(t)
		if up["name"] != "Ada L." || up["custom_attributes"].(map[string]any)["seats"] != float64(5) || up["custom_attributes"].(map[string]any)["plan"] != "pro" {
			t.Fatalf("updated = %v", up)
		}
		e.do("PUT", "/contacts/"+id, map[string]any{"name": "X", "custom_attributes": map[string]any{"seats": "many"}}).fails(t, 400, "parameter_invalid")
		e.do("PUT", "/contacts/"+id, map[string]any{"name": "X", "custom_attributes": map[string]any{"nope": 1}}).fails(t, 400, "parameter_not_found")
		if n := e.do("GET", "/contacts/"+id, nil).ok(t)["name"]; n != "Ada L." {
			t.Fatalf("refused update changed name to %v", n)
		}
		// Archived attribute: refused.
		seatsID := fmt.Sprint(int(e.do("GET", "/data_attributes?model=contact", nil).ok(t)["data"].([]any)[len(e.do("GET", "/data_attributes?model=contact", nil).ok(t)["data"].([]any))-1].(map[string]any)["id"].(float64)))
		e.do("PUT", "/data_attributes/"+seatsID, map[string]any{"archived": true}).ok(t)
		e.do("PUT", "/contacts/"+id, map[string]any{"custom_attributes": map[string]any{"seats": 1}}).fails(t, 400, "parameter_invalid")
		e.do("PUT", "/data_attributes/"+seatsID, map[string]any{"archived": false}).ok(t)

		// Archive / unarchive / block.
		a := e.do("POST", "/contacts/"+id+"/archive", nil).ok(t)
		if a["archived"] != true || a["id"] != id {
			t.Fatalf("archive = %v", a)
		}
		if list := e.do("GET", "/contacts", nil).ok(t); list["total_count"] != float64(1) {
			t.Fatalf("archived contact still listed: %v", list["total_count"])
		}
		if u := e.do("POST", "/contacts/"+id+"/unarchive", nil).ok(t); u["archived"] != false {
			t.Fatalf("unarchive = %v", u)
		}
		if b := e.do("POST", "/contacts/"+id+"/block", nil).ok(t); b["blocked"] != true {
			t.Fatalf("block = %v", b)
		}

		// Merge the lead into the user: the lead disappears, its attributes fill gaps.
		m := e.do("POST", "/contacts/merge", map[string]any{"from": lead["id"], "into": id}).ok(t)
		if m["id"] != id {
			t.Fatalf("merge returned %v", m["id"])
		}
		e.do("GET", "/contacts/"+str(lead["id"]), nil).fails(t, 404, "not_found")
		e.do("POST", "/contacts/merge", map[string]any{"from": id, "into": id}).fails(t, 400, "parameter_invalid")

		// Delete.
		d := e.do("DELETE", "/contacts/"+id, nil).ok(t)
		if d["deleted"] != true || d["id"] != id || d["external_id"] != "u-1" {
			t.Fatalf("delete = %v", d)
		}
		e.do("GET", "/contacts/"+id, nil).fails(t, 404, "not_found")
		e.do("DELETE", "/contacts/"+id, nil).fails(t, 404, "not_found")

		want := []string{"data_attribute.created", "data_attribute.created", "contact.user.created", "contact.lead.created",
			"contact.user.updated", "data_attribute.updated", "data_attribute.updated", "contact.archived", "contact.unarchived",
			"contact.blocked", "contact.user.updated", "contact.merged", "contact.deleted"}
		if got := e.eventTopics(e.ws.ID); !slices.Equal(got, want) {
			t.Fatalf("event log:\n got %v\nwant %v", got, want)
		}
	})
}

func TestContactListPagination(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		created := map[string]bool{}
		for i := 0; i < 23; i++ {
			c := e.do("POST", "/contacts", map[string]any{"email": fmt.Sprintf("p%d@example.com", i)}).ok(t)
			created[str(c["id"])] = true
		}
		seen := map[string]bool{}
		path := "/contacts?per_page=10"
		for page := 1; ; page++ {
			body := e.do("GET", path, nil).ok(t)
			pages := body["pages"].(map[string]any)
			if pages["page"] != float64(page) || pages["total_pages"] != float64(3) || body["total_count"] != float64(23) {
				t.Fatalf("page %d: pages=%v total=%v", page, pages, body["total_count"])
			}
			for _, d := range body["data"].([]any) {
				id := str(d.(map[string]any)["id"])
				if seen[id] {
					t.Fatalf("contact %s seen twice", id)
				}
				seen[id] = true
			}
			next, ok := pages["next"].(map[string]any)
			if !ok {
				if page != 3 {
					t.Fatalf("no next on page %d", page)
				}
				break
			}
			path = "/contacts?per_page=10&starting_after=" + str(next["starting_after"])
		}
		if len(seen) != len(created) {
			t.Fatalf("saw %d of %d contacts", len(seen), len(created))
		}
	})
}

// TestWorkspaceIsolation: one workspace's token never sees or changes another's data.
func TestWorkspaceIsolation(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		_, _, other := e.newWorkspace("Globex")
		mine := e.do("POST", "/contacts", map[string]any{"email": "secret@acme.test", "external_id": "x1"}).ok(t)
		id := str(mine["id"])
		e.doAs(other, "GET", "/contacts/"+id, nil, nil).fails(t, 404, "not_found")
		e.doAs(other, "PUT", "/contacts/"+id, map[string]any{"name": "pwned"}, nil).fails(t, 404, "not_found")
		e.doAs(other, "DELETE", "/contacts/"+id, nil, nil).fails(t, 404, "not_found")
		e.doAs(other, "POST", "/contacts/"+id+"/archive", nil, nil).fails(t, 404, "not_found")
		e.doAs(other, "GET", "/contacts/find_by_external_id/x1", nil, nil).fails(t, 404, "not_found")
		if l := e.doAs(other, "GET", "/contacts", nil, nil).ok(t); l["total_count"] != float64(0) {
			t.Fatalf("other workspace lists %v contacts", l["total_count"])
		}
		// The same external_id and email are free in the other workspace.
		e.doAs(other, "POST", "/contacts", map[string]any{"email": "secret@acme.test", "external_id": "x1"}, nil).ok(t)
		if got := e.do("GET", "/contacts/"+id, nil).ok(t); got["name"] != nil {
			t.Fatalf("contact changed by another workspace: %v", got)
		}
		admins := e.doAs(other, "GET", "/admins", nil, nil).ok(t)["admins"].([]any)
		if len(admins) != 1 || admins[0].(map[string]any)["email"] == e.owner.Email {
			t.Fatalf("other workspace sees admins %v", admins)
		}
		e.doAs(other, "GET", fmt.Sprintf("/admins/%d", e.owner.ID), nil, nil).fails(t, 404, "admin_not_found")
	})
}

func containsStr(s, sub string) bool {
	return len(sub) > 0 && len(s) >= len(sub) && (s == sub || indexOf(s, sub) >= 0)
}

func indexOf(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}

// TestContactShapeByVersion: owner_id is an integer up to 2.15 and a string from 2.16.
func TestContactShapeByVersion(t *testing.T) {
	e := newEnv(t, testdb.SQLite(t), Options{})
	c := e.do("POST", "/contacts", map[string]any{"email": "o@x.io", "owner_id": e.owner.ID}).ok(t)
	if c["owner_id"] != float64(e.owner.ID) {
		t.Fatalf("2.14 owner_id = %#v", c["owner_id"])
	}
	for v, want := range map[string]any{"2.16": fmt.Sprint(e.owner.ID), "Unstable": fmt.Sprint(e.owner.ID), "2.15": float64(e.owner.ID), "1.4": float64(e.owner.ID)} {
		r := e.doAs(e.token, "GET", "/contacts/"+str(c["id"]), nil, map[string]string{"Intercom-Version": v}).ok(t)
		if r["owner_id"] != want {
			t.Errorf("version %s: owner_id = %#v, want %#v", v, r["owner_id"], want)
		}
	}
}
