package api

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/query"
	"github.com/parleyhq/parley/internal/query/querytest"
	"github.com/parleyhq/parley/internal/store"
)

// Helpers shared by the search, segment and event tests.

// setTimeZone sets a workspace's time zone directly (there is no endpoint).
func (e *env) setTimeZone(workspaceID, tz string) {
	e.t.Helper()
	e.exec(`UPDATE workspaces SET time_zone = ? WHERE id = ?`, tz, workspaceID)
}

// exec runs a statement directly, for data whose endpoints are not under
// test here (tags, companies, locations).
func (e *env) exec(q string, args ...any) {
	e.t.Helper()
	err := e.db.InTx(context.Background(), func(tx *store.Tx) error {
		_, err := tx.Exec(context.Background(), q, args...)
		return err
	})
	if err != nil {
		e.t.Fatalf("%s: %v", q, err)
	}
}

// addTag creates a tag row and applies it to contacts; returns its id.
func (e *env) addTag(workspaceID, name string, contactIDs ...string) string {
	e.t.Helper()
	var id int64
	err := e.db.InTx(context.Background(), func(tx *store.Tx) error {
		if err := tx.QueryRow(context.Background(), `INSERT INTO tags (workspace_id, name, created_at) VALUES (?, ?, ?) RETURNING id`,
			workspaceID, name, time.Now().Unix()).Scan(&id); err != nil {
			return err
		}
		for _, c := range contactIDs {
			if _, err := tx.Exec(context.Background(), `INSERT INTO contact_tags (workspace_id, contact_id, tag_id, created_at) VALUES (?, ?, ?, ?)`,
				workspaceID, c, id, time.Now().Unix()); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return fmt.Sprint(id)
}

// addCompany creates a company row and attaches contacts to it.
func (e *env) addCompany(workspaceID, id, name string, plan any, size any, contactIDs ...string) {
	e.t.Helper()
	now := time.Now().Unix()
	e.exec(`INSERT INTO companies (workspace_id, id, company_id, name, plan, size, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		workspaceID, id, "ext-"+id, name, plan, size, now, now)
	for _, c := range contactIDs {
		e.exec(`INSERT INTO company_contacts (workspace_id, contact_id, company_id, created_at) VALUES (?, ?, ?, ?)`, workspaceID, c, id, now)
	}
}

// search runs a search with token and walks all its pages (perPage 0:
// default), asserting that no contact appears twice and that every page
// reports the same total. It returns the contacts in order.
func (e *env) searchAll(token string, query any, sort map[string]any, perPage int) []map[string]any {
	e.t.Helper()
	var out []map[string]any
	seen := map[string]bool{}
	after := ""
	for page := 1; page < 1000; page++ {
		body := map[string]any{"query": query}
		pg := map[string]any{}
		if perPage > 0 {
			pg["per_page"] = perPage
		}
		if after != "" {
			pg["starting_after"] = after
		}
		if len(pg) > 0 {
			body["pagination"] = pg
		}
		if sort != nil {
			body["sort"] = sort
		}
		res := e.doAs(token, "POST", "/contacts/search", body, nil).ok(e.t)
		if res["type"] != "list" {
			e.t.Fatalf("search answered %v", res)
		}
		pages := res["pages"].(map[string]any)
		if pages["page"] != float64(page) {
			e.t.Fatalf("page %d reports page %v", page, pages["page"])
		}
		for _, d := range res["data"].([]any) {
			c := d.(map[string]any)
			if seen[str(c["id"])] {
				e.t.Fatalf("contact %s on two pages", c["id"])
			}
			seen[str(c["id"])] = true
			out = append(out, c)
		}
		next, ok := pages["next"].(map[string]any)
		if !ok {
			if total := int(res["total_count"].(float64)); total != len(out) {
				e.t.Fatalf("total_count %d but %d contacts over %d pages", total, len(out), page)
			}
			if tp := int(pages["total_pages"].(float64)); tp != page && !(tp == 0 && len(out) == 0) {
				e.t.Fatalf("total_pages %d but %d pages", tp, page)
			}
			return out
		}
		after = str(next["starting_after"])
	}
	e.t.Fatal("too many pages")
	return nil
}

// local returns the local parts of the contacts' emails, sorted unless
// ordered.
func local(list []map[string]any, ordered bool) []string {
	out := make([]string, len(list))
	for i, c := range list {
		out[i], _, _ = strings.Cut(str(c["email"]), "@")
	}
	if !ordered {
		slices.Sort(out)
	}
	return out
}

func list(s string) []string {
	if s == "" {
		return []string{}
	}
	return strings.Split(s, ",")
}

// searchFixture is a small population in a New York workspace.
type searchFixture struct {
	ids     map[string]string // local part → contact id
	tag     string
	day     func(dd, hh int) int64 // 2024-03-14 + dd days, hh:00 New York time
	renewal func(dd, hh int) int64 // 2025-01-10 + dd days
}

func newSearchFixture(t *testing.T, e *env) *searchFixture {
	t.Helper()
	e.setTimeZone(e.ws.ID, "America/New_York")
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	f := &searchFixture{ids: map[string]string{},
		day:     func(dd, hh int) int64 { return time.Date(2024, 3, 14+dd, hh, 0, 0, 0, ny).Unix() },
		renewal: func(dd, hh int) int64 { return time.Date(2025, 1, 10+dd, hh, 0, 0, 0, ny).Unix() },
	}
	for _, a := range []struct{ name, typ string }{{"plan", "string"}, {"seats", "integer"}, {"score", "float"}, {"vip", "boolean"}, {"renewal", "date"}, {"old", "string"}} {
		e.do("POST", "/data_attributes", map[string]any{"name": a.name, "model": "contact", "data_type": a.typ}).ok(t)
	}
	rows := []struct {
		local, name, role, plan string
		seats                   int
		score                   float64
		vip                     bool
		signed, renew           int64
	}{
		{"alice", "Alice Anderson", "user", "free", 1, 1.5, false, f.day(0, 1), f.renewal(0, 9)},
		{"bob", "Bob Brown", "user", "pro", 5, 2.5, true, f.day(0, 23), f.renewal(0, 20)},
		{"carol", "Carol Carter", "user", "pro", 10, 3.5, false, f.day(1, 12), f.renewal(1, 12)},
		{"dan", "Dan Dawson", "user", "team", 20, 4.5, true, f.day(-1, 12), f.renewal(-1, 12)},
		{"eve", "Eve Evans", "user", "free", 0, 0.5, false, f.day(3, 12), f.renewal(2, 12)},
		{"frank", "Frank Fischer", "lead", "free", 2, 2.0, false, f.day(-5, 12), f.renewal(5, 12)},
	}
	for _, r := range rows {
		body := map[string]any{"role": r.role, "email": r.local + "@ex.test", "name": r.name, "signed_up_at": r.signed,
			"custom_attributes": map[string]any{"plan": r.plan, "seats": r.seats, "score": r.score, "vip": r.vip, "renewal": r.renew, "old": "x"}}
		if r.role == "user" {
			body["external_id"] = "ext-" + r.local
		}
		f.ids[r.local] = str(e.do("POST", "/contacts", body).ok(t)["id"])
	}
	// Gina has nothing but an email, at another domain; Hank matches
	// much but is archived; Ivy is a lead merged into Gina (who keeps her
	// own email).
	f.ids["gina"] = str(e.do("POST", "/contacts", map[string]any{"email": "gina@other.test"}).ok(t)["id"])
	f.ids["hank"] = str(e.do("POST", "/contacts", map[string]any{"email": "hank@ex.test", "name": "Hank Archived",
		"custom_attributes": map[string]any{"plan": "pro", "seats": 5, "vip": true}}).ok(t)["id"])
	e.do("POST", "/contacts/"+f.ids["hank"]+"/archive", nil).ok(t)
	f.ids["ivy"] = str(e.do("POST", "/contacts", map[string]any{"role": "lead", "email": "ivy@ex.test"}).ok(t)["id"])
	e.do("POST", "/contacts/merge", map[string]any{"from": f.ids["ivy"], "into": f.ids["gina"]}).ok(t)

	f.tag = e.addTag(e.ws.ID, "VIP", f.ids["bob"], f.ids["dan"], f.ids["hank"])
	e.addTag(e.ws.ID, "Other", f.ids["carol"])
	e.addCompany(e.ws.ID, "co1", "Acme Inc", "gold", 50, f.ids["carol"], f.ids["hank"])
	e.addCompany(e.ws.ID, "co2", "Globex", nil, 7, f.ids["dan"], f.ids["carol"])
	e.exec(`UPDATE contacts SET location_country = ?, location_city = ? WHERE workspace_id = ? AND id = ?`, "Germany", "Berlin", e.ws.ID, f.ids["alice"])
	e.exec(`UPDATE contacts SET location_country = ?, location_city = ? WHERE workspace_id = ? AND id = ?`, "France", "Paris", e.ws.ID, f.ids["eve"])
	return f
}

func TestSearchOperatorsAndKinds(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		f := newSearchFixture(t, e)
		check := func(want string, q any) {
			t.Helper()
			if got := local(e.searchAll(e.token, q, nil, 0), false); !slices.Equal(got, list(want)) {
				t.Errorf("query %v:\n got %v\nwant %v", q, got, list(want))
			}
		}
		leaf := func(field, op string, v any) map[string]any {
			return map[string]any{"field": field, "operator": op, "value": v}
		}
		and := func(fs ...any) map[string]any { return map[string]any{"operator": "AND", "value": fs} }
		or := func(fs ...any) map[string]any { return map[string]any{"operator": "OR", "value": fs} }

		// Strings: exact, case-sensitive equality; case-insensitive LIKE operators.
		check("alice", leaf("name", "=", "Alice Anderson"))
		check("", leaf("name", "=", "alice anderson"))
		check("alice,bob,carol,dan,eve,gina", leaf("name", "!=", "Frank Fischer"))
		check("bob,carol,dan,gina", leaf("custom_attributes.plan", "!=", "free"))
		check("bob,carol,dan", leaf("custom_attributes.plan", "IN", []any{"pro", "team"}))
		check("alice,eve,frank,gina", leaf("custom_attributes.plan", "NIN", []any{"pro", "team"}))
		check("carol", leaf("name", "~", "AR"))
		check("eve,frank", and(leaf("name", "!~", "o"), leaf("email", "$", "@ex.test")))
		check("dan", leaf("name", "^", "da"))
		check("alice,dan", leaf("name", "$", "SON"))
		check("gina", leaf("name", "=", nil))
		check("alice,bob,carol,dan,eve,frank", leaf("name", "!=", nil))
		check("alice,bob,carol,dan,eve,frank", leaf("email_domain", "=", "ex.test"))
		check("gina", leaf("email_domain", "^", "oth"))
		check("frank", leaf("role", "=", "lead"))
		check("bob", leaf("external_id", "=", "ext-bob"))
		check("eve", leaf("id", "=", f.ids["eve"]))
		check("alice,eve", leaf("id", "IN", []any{f.ids["eve"], f.ids["alice"], f.ids["hank"]}))
		check("", leaf("id", "=", f.ids["hank"]))    // archived
		check("", leaf("email", "=", "ivy@ex.test")) // merged

		// Integers and floats.
		check("alice,eve,frank", leaf("custom_attributes.seats", "<", 5))
		check("carol,dan", leaf("custom_attributes.seats", ">", 5))
		check("alice,bob,eve,frank", leaf("custom_attributes.seats", "<=", 5))
		check("carol,dan", leaf("custom_attributes.seats", ">=", 10))
		check("eve", leaf("custom_attributes.seats", "=", 0))
		check("alice,bob,carol,frank,gina", leaf("custom_attributes.seats", "NIN", []any{0, 20}))
		check("dan,eve", leaf("custom_attributes.seats", "IN", []any{0, 20}))
		check("bob", leaf("custom_attributes.score", "=", 2.5))
		check("bob,carol,dan", leaf("custom_attributes.score", ">", 2))
		check("frank", leaf("custom_attributes.score", "=", 2))
		check("alice,bob,carol,dan,eve,frank,gina", leaf("custom_attributes.score", "!=", 9.75))
		// Booleans.
		check("bob,dan", leaf("custom_attributes.vip", "=", true))
		check("alice,carol,eve,frank,gina", leaf("custom_attributes.vip", "!=", true))
		check("alice,carol,eve,frank", leaf("custom_attributes.vip", "=", false))
		check("", leaf("unsubscribed_from_emails", "=", true))
		check("alice,bob,carol,dan,eve,frank,gina", leaf("has_hard_bounced", "=", false))

		// Dates by calendar day in New York: Bob signed up at 23:00 on the
		// 14th (the 15th in UTC), Alice at 01:00.
		noon := f.day(0, 12)
		check("alice,bob", leaf("signed_up_at", "=", noon))
		check("alice,bob", leaf("signed_up_at", "=", f.day(0, 0)))
		check("carol,eve", leaf("signed_up_at", ">", noon))
		check("dan,frank", leaf("signed_up_at", "<", noon))
		check("alice,bob", leaf("signed_up_at", "=", fmt.Sprint(noon))) // as a string
		check("gina", leaf("signed_up_at", "=", nil))
		check("alice,bob", leaf("custom_attributes.renewal", "=", f.renewal(0, 15)))
		check("carol,eve,frank", leaf("custom_attributes.renewal", ">", f.renewal(0, 15)))
		check("dan", leaf("custom_attributes.renewal", "<", f.renewal(0, 15)))
		// In UTC the same instant falls on other days.
		e.setTimeZone(e.ws.ID, "UTC")
		check("alice", leaf("signed_up_at", "=", noon))
		e.setTimeZone(e.ws.ID, "America/New_York")

		// Multi-valued: tags and companies.
		check("bob,dan", leaf("tag_id", "=", f.tag))
		check("bob,dan", leaf("tag_id", "=", mustNumber(f.tag))) // ids may be sent as numbers
		check("alice,carol,eve,frank,gina", leaf("tag_id", "!=", f.tag))
		check("alice,eve,frank,gina", leaf("tag_id", "=", nil))
		check("carol", leaf("company.name", "=", "Acme Inc"))
		check("carol,dan", leaf("company.name", "~", "e"))
		check("carol,dan", leaf("company.id", "IN", []any{"co1", "co2"}))
		check("carol", leaf("company.plan", "=", "gold"))
		check("carol,dan", leaf("company.size", "<", 10))
		check("alice,bob,eve,frank,gina", leaf("company.name", "!=", "Globex"))
		check("alice", leaf("location.country", "=", "Germany"))
		check("alice,eve", leaf("location.city", "IN", []any{"Paris", "Berlin"}))
		check("eve", leaf("location.city", "^", "par"))
		check("alice,bob,carol,dan,eve,frank,gina", leaf("ios_device", "=", nil)) // recorded by no contact

		// Nesting: two levels.
		check("bob,eve", or(
			and(leaf("custom_attributes.plan", "=", "pro"), leaf("custom_attributes.vip", "=", true)),
			and(leaf("custom_attributes.plan", "=", "free"), leaf("custom_attributes.seats", "<", 1)),
		))
		check("bob,carol,dan", and(
			or(leaf("custom_attributes.plan", "=", "pro"), leaf("custom_attributes.plan", "=", "team")),
			or(leaf("custom_attributes.vip", "=", true), leaf("custom_attributes.seats", ">", 8)),
		))
		fifteen := make([]any, 15)
		for i := range fifteen {
			fifteen[i] = leaf("email", "$", "@ex.test")
		}
		check("alice,bob,carol,dan,eve,frank", and(fifteen...))

		// Segments.
		seg := e.do("POST", "/segments", map[string]any{"name": "Team", "filter": leaf("custom_attributes.plan", "IN", []any{"team", "free"})}).ok(t)
		check("alice,dan,eve", leaf("segment_id", "=", seg["id"])) // users only: Frank is a lead
		check("bob,carol,frank,gina", leaf("segment_id", "!=", seg["id"]))
		check("dan", and(leaf("segment_id", "=", seg["id"]), leaf("tag_id", "=", f.tag)))

		// Refused queries: 400 parameter_invalid, whatever the problem.
		for _, q := range []any{
			and(leaf("email", "$", "x"), or(and(leaf("role", "=", "user")), leaf("role", "=", "lead"))), // 3 levels
			and(append(fifteen, leaf("role", "=", "user"))...),                                          // 16 filters
			or(append(fifteen, leaf("role", "=", "user"))...),
			leaf("signed_up_at", "!=", noon), leaf("signed_up_at", ">=", noon), leaf("signed_up_at", "<=", noon),
			leaf("custom_attributes.renewal", "!=", noon),
			leaf("created_at", ">", "foobar"),
			leaf("tag_id", "IN", []any{f.tag}),
			leaf("tag_id", "~", f.tag),
			leaf("no_such_field", "=", "x"),
			leaf("custom_attributes.nope", "=", "x"),
			leaf("name", "LIKE", "x"),
			leaf("name", "IN", "not-an-array"),
			leaf("name", "<", "x"),
			leaf("custom_attributes.seats", "=", "5"),
			leaf("custom_attributes.vip", "=", "true"),
			leaf("custom_attributes.seats", "=", 1.5),
			leaf("segment_id", "=", "0123456789abcdef01234567"),
			map[string]any{"field": "name", "operator": "=", "value": "x", "extra": 1},
			map[string]any{"operator": "AND", "value": []any{}},
			"not an object",
		} {
			e.do("POST", "/contacts/search", map[string]any{"query": q}).fails(t, 400, "parameter_invalid")
		}
		// An archived attribute is no longer searchable.
		var oldID string
		for _, a := range e.do("GET", "/data_attributes?model=contact", nil).ok(t)["data"].([]any) {
			if m := a.(map[string]any); m["name"] == "old" {
				oldID = fmt.Sprint(m["id"])
			}
		}
		check("alice,bob,carol,dan,eve,frank", leaf("custom_attributes.old", "=", "x"))
		e.do("PUT", "/data_attributes/"+oldID, map[string]any{"archived": true}).ok(t)
		e.do("POST", "/contacts/search", map[string]any{"query": leaf("custom_attributes.old", "=", "x")}).fails(t, 400, "parameter_invalid")
	})
}

func mustNumber(s string) any {
	var n float64
	if _, err := fmt.Sscan(s, &n); err != nil {
		panic(err)
	}
	return n
}

func TestSearchSortAndPagination(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		f := newSearchFixture(t, e)
		all := map[string]any{"field": "email", "operator": "!=", "value": nil}
		sorted := func(field, order string, perPage int) []string {
			t.Helper()
			return local(e.searchAll(e.token, all, map[string]any{"field": field, "order": order}, perPage), true)
		}
		want := func(got []string, w string) {
			t.Helper()
			if !slices.Equal(got, list(w)) {
				t.Errorf("got %v, want %v", got, list(w))
			}
		}
		want(sorted("name", "ascending", 0), "alice,bob,carol,dan,eve,frank,gina") // no name: last
		want(sorted("name", "descending", 2), "frank,eve,dan,carol,bob,alice,gina")
		want(sorted("signed_up_at", "ascending", 3), "frank,dan,alice,bob,carol,eve,gina") // full timestamps
		want(sorted("signed_up_at", "descending", 1), "eve,carol,bob,alice,dan,frank,gina")
		want(sorted("custom_attributes.score", "descending", 4), "dan,carol,bob,frank,alice,eve,gina")
		want(sorted("custom_attributes.seats", "ascending", 5), "eve,alice,frank,bob,carol,dan,gina")
		want(sorted("location.country", "ascending", 1), "eve,alice"+","+strings.Join(tieByID(f, "bob,carol,dan,frank,gina", false), ","))

		// Many ties: the order is total (ties broken by id) and every page
		// size walks the same sequence without gaps or repeats.
		for _, field := range []string{"custom_attributes.vip", "custom_attributes.plan", "role", "email_domain", "id"} {
			for _, order := range []string{"ascending", "descending"} {
				ref := sorted(field, order, 150)
				if len(ref) != 7 {
					t.Fatalf("%s %s: %v", field, order, ref)
				}
				for _, n := range []int{1, 2, 3} {
					if got := sorted(field, order, n); !slices.Equal(got, ref) {
						t.Errorf("%s %s per_page %d: %v, want %v", field, order, n, got, ref)
					}
				}
			}
		}
		want(sorted("custom_attributes.vip", "descending", 2)[:2], strings.Join(tieByID(f, "bob,dan", true), ","))

		// Default order: newest first (created_at, then id, descending).
		byDefault := e.searchAll(e.token, map[string]any{"field": "email", "operator": "$", "value": "@ex.test"}, nil, 2)
		want(local(byDefault, false), "alice,bob,carol,dan,eve,frank")
		for i := 1; i < len(byDefault); i++ {
			a, b := byDefault[i-1], byDefault[i]
			if a["created_at"].(float64) < b["created_at"].(float64) ||
				a["created_at"] == b["created_at"] && str(a["id"]) < str(b["id"]) {
				t.Fatalf("default order: %v before %v", a["id"], b["id"])
			}
		}

		// The first page's shape.
		body := map[string]any{"query": all, "pagination": map[string]any{"per_page": 3}, "sort": map[string]any{"field": "name", "order": "ascending"}}
		res := e.do("POST", "/contacts/search", body).ok(t)
		pages := res["pages"].(map[string]any)
		if res["total_count"] != float64(7) || pages["per_page"] != float64(3) || pages["total_pages"] != float64(3) || pages["page"] != float64(1) ||
			len(res["data"].([]any)) != 3 || res["data"].([]any)[0].(map[string]any)["type"] != "contact" {
			t.Fatalf("first page = %v", res)
		}
		cur := str(pages["next"].(map[string]any)["starting_after"])

		// Bad requests.
		bad := func(code string, body any) {
			t.Helper()
			e.do("POST", "/contacts/search", body).fails(t, 400, code)
		}
		bad("parameter_not_found", map[string]any{})
		bad("parameter_not_found", map[string]any{"query": nil})
		bad("parameter_invalid", map[string]any{"query": all, "unknown": 1})
		bad("parameter_invalid", map[string]any{"query": all, "pagination": map[string]any{"per_page": 151}})
		bad("parameter_invalid", map[string]any{"query": all, "pagination": map[string]any{"per_page": 0}})
		bad("parameter_invalid", map[string]any{"query": all, "pagination": map[string]any{"page": 2}})
		bad("parameter_invalid", map[string]any{"query": all, "pagination": map[string]any{"starting_after": "garbage"}})
		bad("parameter_invalid", map[string]any{"query": all, "pagination": map[string]any{"starting_after": cursor{After: "x", Page: 2}.encode()}})
		bad("parameter_invalid", map[string]any{"query": all, "pagination": map[string]any{"starting_after": cursor{After: `{"f":"name","v":12,"i":"x"}`, Page: 2}.encode()},
			"sort": map[string]any{"field": "name", "order": "ascending"}})
		bad("parameter_invalid", map[string]any{"query": all, "pagination": map[string]any{"starting_after": cur}}) // another sort
		bad("parameter_invalid", map[string]any{"query": all, "pagination": map[string]any{"starting_after": cur},
			"sort": map[string]any{"field": "name", "order": "descending"}})
		bad("invalid_sort_order", map[string]any{"query": all, "sort": map[string]any{"field": "name", "order": "desc"}})
		bad("parameter_invalid", map[string]any{"query": all, "sort": map[string]any{"field": "tag_id"}})
		bad("parameter_invalid", map[string]any{"query": all, "sort": map[string]any{"field": "nope"}})
		bad("parameter_invalid", map[string]any{"query": all, "sort": map[string]any{"order": "ascending"}})
		// The cursor goes on with the same sort, and an empty result is a
		// proper empty page.
		body["pagination"] = map[string]any{"per_page": 3, "starting_after": cur}
		second := e.do("POST", "/contacts/search", body).ok(t)
		var names []string
		for _, c := range second["data"].([]any) {
			names = append(names, str(c.(map[string]any)["name"]))
		}
		if !slices.Equal(names, []string{"Dan Dawson", "Eve Evans", "Frank Fischer"}) || second["pages"].(map[string]any)["page"] != float64(2) {
			t.Fatalf("second page = %v", second)
		}
		empty := e.do("POST", "/contacts/search", map[string]any{"query": map[string]any{"field": "name", "operator": "=", "value": "nobody"}}).ok(t)
		if empty["total_count"] != float64(0) || len(empty["data"].([]any)) != 0 || empty["pages"].(map[string]any)["total_pages"] != float64(0) {
			t.Fatalf("empty search = %v", empty)
		}
	})
}

// tieByID orders the named fixture contacts by id (descending when desc),
// the tie-break of every sort.
func tieByID(f *searchFixture, names string, desc bool) []string {
	out := list(names)
	slices.SortFunc(out, func(a, b string) int {
		if desc {
			return strings.Compare(f.ids[b], f.ids[a])
		}
		return strings.Compare(f.ids[a], f.ids[b])
	})
	return out
}

// TestSearchIsolation: another workspace's contacts never appear, and its
// segments cannot be used.
func TestSearchIsolation(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		newSearchFixture(t, e)
		otherWS, _, other := e.newWorkspace("Globex")
		e.doAs(other, "POST", "/data_attributes", map[string]any{"name": "plan", "model": "contact", "data_type": "integer"}, nil).ok(t)
		e.doAs(other, "POST", "/contacts", map[string]any{"email": "zed@ex.test", "name": "Zed", "custom_attributes": map[string]any{"plan": 7}}, nil).ok(t)
		e.addTag(otherWS.ID, "VIP", str(e.doAs(other, "POST", "/contacts", map[string]any{"email": "yan@ex.test"}, nil).ok(t)["id"]))
		seg := e.doAs(other, "POST", "/segments", map[string]any{"name": "All", "filter": map[string]any{"field": "email", "operator": "!=", "value": nil}}, nil).ok(t)

		mine := local(e.searchAll(e.token, map[string]any{"field": "email", "operator": "$", "value": "@ex.test"}, nil, 0), false)
		if !slices.Equal(mine, list("alice,bob,carol,dan,eve,frank")) {
			t.Fatalf("my search sees %v", mine)
		}
		theirs := local(e.searchAll(other, map[string]any{"field": "email", "operator": "$", "value": "@ex.test"}, nil, 0), false)
		if !slices.Equal(theirs, list("yan,zed")) {
			t.Fatalf("other workspace's search sees %v", theirs)
		}
		// The same attribute name has another type there: each workspace
		// searches its own (PostgreSQL never casts the other's values).
		if got := local(e.searchAll(other, map[string]any{"field": "custom_attributes.plan", "operator": ">", "value": 5}, nil, 0), false); !slices.Equal(got, list("zed")) {
			t.Fatalf("integer plan > 5 = %v", got)
		}
		if got := local(e.searchAll(e.token, map[string]any{"field": "custom_attributes.plan", "operator": "=", "value": "pro"}, nil, 0), false); !slices.Equal(got, list("bob,carol")) {
			t.Fatalf("string plan = pro: %v", got)
		}
		e.do("POST", "/contacts/search", map[string]any{"query": map[string]any{"field": "segment_id", "operator": "=", "value": seg["id"]}}).fails(t, 400, "parameter_invalid")
		e.do("GET", "/segments/"+str(seg["id"]), nil).fails(t, 404, "not_found")
		e.do("PUT", "/segments/"+str(seg["id"]), map[string]any{"name": "mine now"}).fails(t, 404, "not_found")
		e.do("DELETE", "/segments/"+str(seg["id"]), nil).fails(t, 404, "not_found")
		if got := e.doAs(other, "GET", "/segments/"+str(seg["id"]), nil, nil).ok(t); got["name"] != "All" {
			t.Fatalf("segment changed by another workspace: %v", got)
		}
	})
}

// TestSearchDifferential creates random contacts (custom attributes, tags,
// companies, locations, archived ones) and random segments, then checks
// that for random queries POST /contacts/search returns exactly the live
// contacts query.Filter.Match accepts on their contact.Record, that
// GET /contacts/{id}/segments and the segment counts agree with Match too.
// PARLEY_QUERYTEST_SEED replays a logged seed.
func TestSearchDifferential(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		seed := querytest.Seed()
		t.Logf("seed %d (replay with PARLEY_QUERYTEST_SEED=%d)", seed, seed)
		g := &diffGen{r: rand.New(rand.NewPCG(seed, seed^0x5bd1e995))}
		ctx := context.Background()
		e.setTimeZone(e.ws.ID, "America/New_York")
		ny, _ := time.LoadLocation("America/New_York")
		for _, d := range [][3]int{{2024, 3, 9}, {2024, 3, 10}, {2024, 3, 11}, {2024, 11, 3}, {2024, 7, 4}} {
			g.days = append(g.days, time.Date(d[0], time.Month(d[1]), d[2], 0, 0, 0, 0, ny).Unix())
		}
		for _, a := range [][2]string{{"plan", "string"}, {"seats", "integer"}, {"ratio", "float"}, {"vip", "boolean"}, {"renewal", "date"}} {
			e.do("POST", "/data_attributes", map[string]any{"name": a[0], "model": "contact", "data_type": a[1]}).ok(t)
		}

		const n = 50
		var ids []string
		for i := range n {
			body := map[string]any{"email": fmt.Sprintf("%s%d@%s", g.pick("a", "b.c", "x_y", "p%q", "Ab"), i, g.pick("ex.test", "EX.test", "sub.ex.test"))}
			if g.chance(0.3) {
				body["role"] = "lead"
			} else if g.chance(0.5) {
				body["external_id"] = fmt.Sprintf("u%d", i)
			}
			if g.chance(0.8) {
				body["name"] = g.str()
			}
			if g.chance(0.8) {
				body["signed_up_at"] = g.timestamp()
			}
			if g.chance(0.5) {
				body["last_seen_at"] = g.timestamp()
			}
			if g.chance(0.3) {
				body["unsubscribed_from_emails"] = true
			}
			custom := map[string]any{}
			for name, v := range map[string]func() any{
				"plan":    func() any { return g.str() },
				"seats":   func() any { return g.int() },
				"ratio":   func() any { return g.float() },
				"vip":     func() any { return g.chance(0.5) },
				"renewal": func() any { return g.timestamp() },
			} {
				if g.chance(0.75) {
					custom[name] = v()
				}
			}
			body["custom_attributes"] = custom
			id := str(e.do("POST", "/contacts", body).ok(t)["id"])
			ids = append(ids, id)
			if g.chance(0.5) {
				e.exec(`UPDATE contacts SET location_country = ? WHERE workspace_id = ? AND id = ?`, g.pick("Germany", "France", "germany"), e.ws.ID, id)
			}
			if g.chance(0.1) {
				e.do("POST", "/contacts/"+id+"/archive", nil).ok(t)
			}
		}
		for i := range 4 {
			var tagged []string
			for _, id := range ids {
				if g.chance(0.3) {
					tagged = append(tagged, id)
				}
			}
			e.addTag(e.ws.ID, fmt.Sprintf("tag%d", i), tagged...)
		}
		for i := range 4 {
			var members []string
			for _, id := range ids {
				if g.chance(0.25) {
					members = append(members, id)
				}
			}
			var plan, size any
			if g.chance(0.7) {
				plan = g.str()
			}
			if g.chance(0.7) {
				size = g.int()
			}
			e.addCompany(e.ws.ID, fmt.Sprintf("co%d", i), g.str(), plan, size, members...)
		}

		// Records of the live contacts, as the store loads them.
		search := store.NewSearch(e.db, 0)
		var records []*contact.Record
		for _, id := range ids {
			rec, err := search.Record(ctx, e.db.Read(), e.ws.ID, id)
			if err != nil {
				t.Fatal(err)
			}
			if !rec.Contact.Archived {
				records = append(records, rec)
			}
		}
		g.records = records

		attrs, err := store.NewAttributes(e.db).Custom(ctx, e.ws.ID, "", false)
		if err != nil {
			t.Fatal(err)
		}
		segs := store.NewSegments(e.db)
		schema := contact.NewSchema(ny, attrs, func(id string) ([]byte, error) { return segs.EffectiveFilter(ctx, e.ws.ID, id) })
		g.schema = schema

		// Segments with random filters (no segment references).
		for i := range 4 {
			body := map[string]any{"name": fmt.Sprintf("seg%d", i), "filter": g.filter(0, false), "person_type": g.pick("user", "contact")}
			g.segments = append(g.segments, str(e.do("POST", "/segments", body).ok(t)["id"]))
		}

		indexed, sqlOnly := store.NewSearch(e.db, time.Minute), store.NewSearch(e.db, 0)
		sortable := []string{"name", "email", "email_domain", "signed_up_at", "last_seen_at", "created_at", "id", "role",
			"custom_attributes.plan", "custom_attributes.seats", "custom_attributes.ratio", "custom_attributes.vip", "custom_attributes.renewal", "location.country"}
		var some int
		for i := range 120 {
			q := g.filter(0, true)
			raw, _ := json.Marshal(q)
			f, err := query.Parse(raw, schema)
			if err != nil {
				t.Fatalf("query %d does not parse: %v\n%s", i, err, raw)
			}
			want := map[string]bool{}
			for _, rec := range records {
				if f.Match(rec) {
					want[rec.Contact.ID] = true
				}
			}
			var sort map[string]any
			if g.chance(0.5) {
				sort = map[string]any{"field": g.pick(sortable...), "order": g.pick("ascending", "descending")}
			}
			got := e.searchAll(e.token, q, sort, []int{3, 10, 50}[g.r.IntN(3)])
			gotIDs := map[string]bool{}
			for _, c := range got {
				gotIDs[str(c["id"])] = true
			}
			if !maps.Equal(gotIDs, want) {
				t.Fatalf("query %d (seed %d): search and Match disagree\nquery: %s\nsearch: %v\nMatch:  %v", i, seed, raw, keys(gotIDs), keys(want))
			}
			if len(want) > 0 && len(want) < len(records) {
				some++
			}
			// The index and SQL page through the same contacts in the
			// same order, with the same totals.
			by := store.SearchSort{Desc: true}
			if by.Field, err = schema.Sortable("created_at"); err != nil {
				t.Fatal(err)
			}
			if sort != nil {
				if by.Field, err = schema.Sortable(sort["field"].(string)); err != nil {
					t.Fatal(err)
				}
				by.Desc = sort["order"] == "descending"
			}
			per := []int{1, 4, 25}[g.r.IntN(3)]
			viaIndex, indexTotal := searchPages(t, indexed, e.ws.ID, f, by, per)
			viaSQL, sqlTotal := searchPages(t, sqlOnly, e.ws.ID, f, by, per)
			if !slices.Equal(viaIndex, viaSQL) || indexTotal != sqlTotal {
				t.Fatalf("query %d (seed %d), sorted by %s desc=%v, %d a page: index and SQL disagree\nquery: %s\nindex: %v (total %d)\nSQL:   %v (total %d)",
					i, seed, by.Field.Name, by.Desc, per, raw, viaIndex, indexTotal, viaSQL, sqlTotal)
			}
		}
		if some < 40 {
			t.Errorf("only %d of 120 queries selected a proper subset: the generator degenerated", some)
		}

		// Segment membership and counts agree with Match.
		var filters []*query.Filter
		for _, id := range g.segments {
			raw, err := segs.EffectiveFilter(ctx, e.ws.ID, id)
			if err != nil {
				t.Fatal(err)
			}
			f, err := query.Parse(raw, schema)
			if err != nil {
				t.Fatal(err)
			}
			filters = append(filters, f)
		}
		counts := map[string]int{}
		for _, rec := range records {
			var want []string
			for i, f := range filters {
				if f.Match(rec) {
					want = append(want, g.segments[i])
					counts[g.segments[i]]++
				}
			}
			var got []string
			for _, s := range e.contactSegments(e.token, rec.Contact.ID).ok(t)["data"].([]any) {
				got = append(got, str(s.(map[string]any)["id"]))
			}
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Fatalf("contact %s: segments %v, Match says %v", rec.Contact.ID, got, want)
			}
		}
		for _, s := range e.do("GET", "/segments?include_count=true", nil).ok(t)["segments"].([]any) {
			sg := s.(map[string]any)
			if sg["count"] != float64(counts[str(sg["id"])]) {
				t.Fatalf("segment %s: count %v, Match says %d", sg["id"], sg["count"], counts[str(sg["id"])])
			}
		}
	})
}

// searchPages pages through a search with the store, as the API would,
// and returns the ids in order and the total each page reported (which
// must not change).
func searchPages(t *testing.T, s *store.Search, workspaceID string, f *query.Filter, by store.SearchSort, per int) ([]string, int) {
	t.Helper()
	var ids []string
	var after *store.Keyset
	total := -1
	for range 1000 {
		res, err := s.Contacts(context.Background(), workspaceID, f, by, after, per)
		if err != nil {
			t.Fatal(err)
		}
		if total >= 0 && res.Total != total {
			t.Fatalf("total changed from %d to %d while paging", total, res.Total)
		}
		total = res.Total
		for _, c := range res.Contacts {
			ids = append(ids, c.ID)
		}
		if len(res.Contacts) < per {
			return ids, total
		}
		k := res.Keys[len(res.Keys)-1]
		after = &k
	}
	t.Fatal("more than 1000 pages")
	return nil, 0
}

func keys(m map[string]bool) []string {
	out := slices.Collect(maps.Keys(m))
	slices.Sort(out)
	return out
}

// diffGen generates random contact data and filters over the contacts
// schema.
type diffGen struct {
	r        *rand.Rand
	days     []int64
	records  []*contact.Record
	schema   *contact.Schema
	segments []string
}

func (g *diffGen) chance(p float64) bool { return g.r.Float64() < p }

func (g *diffGen) pick(s ...string) string { return s[g.r.IntN(len(s))] }

// str is a short string over an alphabet with LIKE metacharacters and both
// ASCII cases (non-ASCII folding differs between databases by design).
func (g *diffGen) str() string {
	alphabet := []string{"a", "b", "A", "B", "%", "_", `\`, " ", "x"}
	var b strings.Builder
	for range 1 + g.r.IntN(4) {
		b.WriteString(alphabet[g.r.IntN(len(alphabet))])
	}
	return b.String()
}

func (g *diffGen) int() int64 { return g.r.Int64N(12) - 3 }

func (g *diffGen) float() float64 { return float64(g.r.IntN(21)-10) / 4 }

// timestamp is near a day of g.days (DST transitions among them): at
// midnight, just before it, or anywhere around.
func (g *diffGen) timestamp() int64 {
	d := g.days[g.r.IntN(len(g.days))]
	switch g.r.IntN(4) {
	case 0:
		return d
	case 1:
		return d - 1
	}
	return d + g.r.Int64N(26*3600) - 3600
}

var diffFields = []string{"id", "role", "name", "email", "email_domain", "external_id", "signed_up_at", "last_seen_at",
	"unsubscribed_from_emails", "custom_attributes.plan", "custom_attributes.seats", "custom_attributes.ratio",
	"custom_attributes.vip", "custom_attributes.renewal", "tag_id", "company.name", "company.size", "company.plan",
	"company.id", "location.country", "segment_id"}

func (g *diffGen) filter(depth int, segments bool) any {
	if depth < query.MaxNesting && g.chance([]float64{0.6, 0.3}[depth]) {
		kids := make([]any, 1+g.r.IntN(4))
		for i := range kids {
			kids[i] = g.filter(depth+1, segments)
		}
		return map[string]any{"operator": g.pick("AND", "OR"), "value": kids}
	}
	for {
		name := g.pick(diffFields...)
		f, err := g.schema.Field(name)
		if err != nil {
			panic(err)
		}
		if f.Segment {
			if !segments || len(g.segments) == 0 {
				continue
			}
			return map[string]any{"field": name, "operator": g.pick("=", "!="), "value": g.pick(g.segments...)}
		}
		ops := f.Ops
		if ops == nil {
			ops = query.KindOps(f.Kind)
		}
		op := g.pick(ops...)
		var v any
		switch {
		case (op == "=" || op == "!=") && g.chance(0.1):
			v = nil
		case op == "IN" || op == "NIN":
			l := make([]any, 1+g.r.IntN(3))
			for i := range l {
				l[i] = g.value(f, op)
			}
			v = l
		default:
			v = g.value(f, op)
		}
		return map[string]any{"field": name, "operator": op, "value": v}
	}
}

// value is usually a value some contact has (cut and case-flipped for the
// LIKE operators), otherwise a fresh one.
func (g *diffGen) value(f query.Field, op string) any {
	var v any
	if len(g.records) > 0 && g.chance(0.75) {
		if vs := g.records[g.r.IntN(len(g.records))].Values(f.Name); len(vs) > 0 {
			v = vs[g.r.IntN(len(vs))]
		}
	}
	switch f.Kind {
	case query.String:
		s, ok := v.(string)
		if !ok {
			s = g.str()
		}
		if op == "~" || op == "!~" || op == "^" || op == "$" {
			if len(s) > 0 {
				i := g.r.IntN(len(s) + 1)
				s = s[i : i+g.r.IntN(len(s)-i+1)]
			}
			b := []byte(s)
			for i, c := range b {
				if ('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') && g.chance(0.5) {
					b[i] ^= 0x20
				}
			}
			s = string(b)
		}
		return s
	case query.ID:
		if s, ok := v.(string); ok {
			return s
		}
		return fmt.Sprint(g.r.IntN(9))
	case query.Integer:
		if i, ok := v.(int64); ok && g.chance(0.8) {
			return i
		}
		return g.int()
	case query.Float:
		if x, ok := v.(float64); ok && g.chance(0.8) {
			return x
		}
		return g.float()
	case query.Boolean:
		return g.chance(0.5)
	case query.Date:
		t, ok := v.(int64)
		if !ok || g.chance(0.2) {
			t = g.timestamp()
		}
		return t + g.r.Int64N(7200) - 3600
	}
	panic("unknown kind")
}

// TestSearchScale measures searches by email and external_id over a
// million contacts and prints the query plans. It takes minutes, so it
// runs only with PARLEY_SEARCH_SCALE set (to the number of contacts, e.g.
// 1000000); it fails when the p95 latency exceeds 5 ms.
func TestSearchScale(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("PARLEY_SEARCH_SCALE"))
	if n <= 0 {
		t.Skip("PARLEY_SEARCH_SCALE not set")
	}
	eachDB(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		start := time.Now()
		// Loaded and analyzed before the first request opens read
		// connections: SQLite connections keep the statistics they loaded
		// (without statistics its planner prefers the primary key to the
		// email index). A second workspace of the same size shares the
		// tables.
		otherWS, _, _ := e.newWorkspace("Globex")
		for _, ws := range []string{e.ws.ID, otherWS.ID} {
			q := `INSERT INTO contacts (workspace_id, id, role, external_id, email, name, created_at, updated_at, custom_attributes)
 WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
 SELECT ?, printf('%024x', i), CASE WHEN i % 5 = 0 THEN 'lead' ELSE 'user' END, 'ext-' || i, 'user' || i || '@example' || (i % 100) || '.com',
  'Name ' || i, 1700000000 + i, 1700000000 + i, '{"plan":"p' || (i % 7) || '"}' FROM n`
			args := []any{n, ws}
			if e.db.Dialect == query.Postgres {
				q = `INSERT INTO contacts (workspace_id, id, role, external_id, email, name, created_at, updated_at, custom_attributes)
 SELECT ?, lpad(to_hex(i), 24, '0'), CASE WHEN i % 5 = 0 THEN 'lead' ELSE 'user' END, 'ext-' || i, 'user' || i || '@example' || (i % 100) || '.com',
  'Name ' || i, 1700000000 + i, 1700000000 + i, jsonb_build_object('plan', 'p' || (i % 7)) FROM generate_series(1, ?) AS i`
				args = []any{ws, n}
			}
			e.exec(q, args...)
		}
		e.exec(`ANALYZE`)
		t.Logf("loaded %d contacts ×2 in %s", n, time.Since(start))
		e.do("POST", "/data_attributes", map[string]any{"name": "plan", "model": "contact", "data_type": "string"}).ok(t)

		for _, field := range []string{"email", "external_id"} {
			f, err := query.Parse([]byte(`{"field":"`+field+`","operator":"=","value":"x"}`), contact.NewSchema(time.UTC, nil, nil))
			if err != nil {
				t.Fatal(err)
			}
			where, args := f.SQL(e.db.Dialect)
			for _, q := range []string{
				`SELECT count(*) FROM contacts c WHERE ` + liveContactsSQL + ` AND ` + where,
				`SELECT c.id FROM contacts c WHERE ` + liveContactsSQL + ` AND ` + where + ` ORDER BY c.created_at DESC NULLS LAST, c.id DESC LIMIT 51`,
			} {
				explain := "EXPLAIN QUERY PLAN "
				if e.db.Dialect == query.Postgres {
					explain = "EXPLAIN "
				}
				rows, err := e.db.Read().Query(ctx, explain+q, append([]any{e.ws.ID, false}, args...)...)
				if err != nil {
					t.Fatal(err)
				}
				var plan []string
				for rows.Next() {
					cols, _ := rows.Columns()
					vals := make([]any, len(cols))
					ptrs := make([]any, len(cols))
					for i := range vals {
						ptrs[i] = &vals[i]
					}
					if err := rows.Scan(ptrs...); err != nil {
						t.Fatal(err)
					}
					plan = append(plan, fmt.Sprint(vals[len(vals)-1]))
				}
				rows.Close()
				t.Logf("%s plan:\n  %s", field, strings.Join(plan, "\n  "))
				if p := strings.Join(plan, " "); !strings.Contains(p, "contacts_"+field) {
					t.Errorf("%s search does not use the contacts_%s index", field, field)
				}
			}

			var lat []time.Duration
			for i := range 300 {
				v := fmt.Sprintf("user%d@example%d.com", 1+i*3331%n, (1+i*3331%n)%100)
				if field == "external_id" {
					v = fmt.Sprintf("ext-%d", 1+i*3331%n)
				}
				t0 := time.Now()
				res := e.do("POST", "/contacts/search", map[string]any{"query": map[string]any{"field": field, "operator": "=", "value": v}}).ok(t)
				lat = append(lat, time.Since(t0))
				if res["total_count"] != float64(1) {
					t.Fatalf("%s = %s: %v contacts", field, v, res["total_count"])
				}
			}
			slices.Sort(lat)
			p50, p95 := lat[len(lat)/2], lat[len(lat)*95/100]
			t.Logf("%s equality over %d contacts: p50 %s, p95 %s", field, n, p50, p95)
			if p95 > 5*time.Millisecond {
				t.Errorf("%s search p95 %s > 5ms", field, p95)
			}
		}
	})
}

// liveContactsSQL mirrors store.liveContacts for the plans above.
const liveContactsSQL = `c.workspace_id = ? AND c.archived = ? AND c.merged_into IS NULL`
