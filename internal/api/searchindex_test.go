package api

import (
	"fmt"
	"slices"
	"testing"
)

// TestSearchIndexFollowsWrites changes contacts in every way the API
// allows after the search index has loaded the workspace, and checks after
// each change that searches (answered by the index) return exactly what
// the same searches answered by SQL alone return: the same contacts, in
// the same order, with the same totals.
func TestSearchIndexFollowsWrites(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		sqlOnly := *e
		sqlOnly.srv = New(e.db, Options{ImportDir: t.TempDir(), SearchIndexIdle: -1}, e.worker)

		for _, a := range [][2]string{{"plan", "string"}, {"seats", "integer"}} {
			e.do("POST", "/data_attributes", map[string]any{"name": a[0], "model": "contact", "data_type": a[1]}).ok(t)
		}
		e.do("POST", "/data_attributes", map[string]any{"name": "tier", "model": "company", "data_type": "string"}).ok(t)
		var ids []string
		for i := range 8 {
			body := map[string]any{"email": fmt.Sprintf("p%d@ex.test", i), "custom_attributes": map[string]any{"plan": []string{"free", "pro"}[i%2], "seats": i * 20}}
			if i < 6 {
				body["external_id"] = fmt.Sprintf("u%d", i)
			} else {
				body["role"] = "lead"
			}
			ids = append(ids, str(e.do("POST", "/contacts", body).ok(t)["id"]))
		}
		tag := str(e.do("POST", "/tags", map[string]any{"name": "vip"}).ok(t)["id"])
		spare := str(e.do("POST", "/tags", map[string]any{"name": "spare"}).ok(t)["id"])
		co := str(e.do("POST", "/companies", map[string]any{"company_id": "acme", "name": "Acme", "custom_attributes": map[string]any{"tier": "gold"}}).ok(t)["id"])

		queries := []map[string]any{
			{"operator": "AND", "value": []any{
				map[string]any{"field": "custom_attributes.plan", "operator": "=", "value": "pro"},
				map[string]any{"operator": "OR", "value": []any{
					map[string]any{"field": "tag_id", "operator": "=", "value": tag},
					map[string]any{"field": "custom_attributes.seats", "operator": ">", "value": 50},
				}},
			}},
			{"field": "tag_id", "operator": "!=", "value": spare},
			{"field": "company.custom_attributes.tier", "operator": "=", "value": "gold"},
			{"field": "company.name", "operator": "~", "value": "acm"},
			{"field": "role", "operator": "=", "value": "lead"},
			{"field": "custom_attributes.seats", "operator": "<", "value": 1000},
			{"field": "last_replied_at", "operator": ">", "value": 86400},
		}
		sorts := []map[string]any{nil, {"field": "custom_attributes.seats", "order": "ascending"}, {"field": "id", "order": "descending"}}
		step := 0
		check := func(what string) {
			t.Helper()
			step++
			for qi, q := range queries {
				for _, sort := range sorts {
					got := contactIDs(e.searchAll(e.token, q, sort, 2))
					want := contactIDs(sqlOnly.searchAll(e.token, q, sort, 2))
					if !slices.Equal(got, want) {
						t.Fatalf("after %s: query %d sorted %v\nindex: %v\nSQL:   %v", what, qi, sort, got, want)
					}
				}
			}
			if !e.srv.search.Indexed(e.ws.ID) {
				t.Fatalf("after %s: the workspace is not in the search index", what)
			}
		}

		check("creating the contacts")
		e.do("PUT", "/contacts/"+ids[0], map[string]any{"custom_attributes": map[string]any{"plan": "pro", "seats": 99}}).ok(t)
		check("an update")
		e.do("POST", "/contacts/"+ids[2]+"/tags", map[string]any{"id": tag}).ok(t)
		e.do("POST", "/contacts/"+ids[3]+"/tags", map[string]any{"id": tag}).ok(t)
		e.do("POST", "/contacts/"+ids[3]+"/tags", map[string]any{"id": spare}).ok(t)
		check("tagging")
		e.do("DELETE", "/contacts/"+ids[3]+"/tags/"+tag, nil).ok(t)
		check("untagging")
		e.do("POST", "/contacts/"+ids[1]+"/archive", nil).ok(t)
		check("archiving")
		e.do("POST", "/contacts/"+ids[1]+"/unarchive", nil).ok(t)
		check("unarchiving")
		e.do("DELETE", "/contacts/"+ids[5], nil).ok(t)
		check("deleting")
		e.do("POST", "/contacts/merge", map[string]any{"from": ids[6], "into": ids[4]}).ok(t)
		check("merging a lead into a user")
		e.do("POST", "/contacts/"+ids[2]+"/companies", map[string]any{"id": co}).ok(t)
		e.do("POST", "/contacts/"+ids[7]+"/companies", map[string]any{"id": co}).ok(t)
		check("attaching a company")
		e.do("PUT", "/companies/"+co, map[string]any{"name": "Zeta", "custom_attributes": map[string]any{"tier": "silver"}}).ok(t)
		check("updating the company")
		e.do("DELETE", "/contacts/"+ids[7]+"/companies/"+co, nil).ok(t)
		check("detaching a company")
		fresh := str(e.do("POST", "/contacts", map[string]any{"external_id": "late", "custom_attributes": map[string]any{"plan": "pro", "seats": 500}}).ok(t)["id"])
		check("creating another contact")
		e.do("DELETE", "/contacts/"+ids[3]+"/tags/"+spare, nil).ok(t)
		e.do("DELETE", "/tags/"+spare, nil).ok(t)
		check("deleting a tag")
		e.do("DELETE", "/companies/"+co, nil).ok(t)
		check("deleting the company")
		// Contacts who write: last_replied_at moves (no contact event, the
		// conversation event is enough for the index).
		conv := str(e.do("POST", "/conversations", map[string]any{"from": map[string]any{"type": "user", "id": ids[0]}, "body": "hi"}).ok(t)["conversation_id"])
		check("a contact starting a conversation")
		e.do("POST", "/conversations/"+conv+"/customers", map[string]any{"admin_id": str(e.do("GET", "/me", nil).ok(t)["id"]),
			"customer": map[string]any{"intercom_user_id": ids[2]}}).ok(t)
		e.do("POST", "/conversations/"+conv+"/reply", map[string]any{"message_type": "comment", "type": "user", "intercom_user_id": ids[2], "body": "me too"}).ok(t)
		check("a contact replying")
		if got := contactIDs(e.searchAll(e.token, queries[len(queries)-1], nil, 0)); !slices.Equal(slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values([]string{ids[0], ids[2]}))) {
			t.Fatalf("contacts who replied: %v, want %v", got, []string{ids[0], ids[2]})
		}
		if c := e.do("GET", "/contacts/"+ids[2], nil).ok(t); c["last_replied_at"] == nil {
			t.Fatalf("last_replied_at of a contact who replied: %v", c["last_replied_at"])
		}
		if got := contactIDs(e.searchAll(e.token, queries[0], nil, 0)); !slices.Contains(got, fresh) || !slices.Contains(got, ids[0]) {
			t.Fatalf("the compound query misses contacts it should find: %v", got)
		}
	})
}

func contactIDs(cs []map[string]any) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = str(c["id"])
	}
	return out
}

// TestSearchIndexStepsAside: a workspace holding a contact id the index
// cannot encode (imported from elsewhere, say) is searched by SQL, with
// the same answers.
func TestSearchIndexStepsAside(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		e.do("POST", "/contacts", map[string]any{"external_id": "a", "name": "Ann"}).ok(t)
		e.exec(`INSERT INTO contacts (workspace_id, id, role, name, created_at, updated_at) VALUES (?, ?, 'user', 'Bob', 1700000000, 1700000000)`, e.ws.ID, "legacy-1")
		q := map[string]any{"field": "role", "operator": "=", "value": "user"}
		for range 2 {
			got := contactIDs(e.searchAll(e.token, q, nil, 1))
			if len(got) != 2 || got[1] != "legacy-1" {
				t.Fatalf("search found %v, want both contacts, the legacy one last (oldest)", got)
			}
		}
		if e.srv.search.Indexed(e.ws.ID) {
			t.Fatal("the index claims a workspace it cannot encode")
		}
	})
}
