package api

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// noNulls fails when a response carries null anywhere: the company, tag and
// note schemas declare none of the fields Parley renders nullable.
func noNulls(t *testing.T, where string, v any) {
	t.Helper()
	switch x := v.(type) {
	case nil:
		t.Fatalf("%s is null", where)
	case map[string]any:
		for k, e := range x {
			noNulls(t, where+"."+k, e)
		}
	case []any:
		for i, e := range x {
			noNulls(t, fmt.Sprintf("%s[%d]", where, i), e)
		}
	}
}

func idsOf(t *testing.T, list any) []string {
	t.Helper()
	items, ok := list.([]any)
	if !ok {
		t.Fatalf("not a list: %v", list)
	}
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = str(it.(map[string]any)["id"])
	}
	return out
}

func (e *env) countTopic(workspaceID, topic string) int {
	n := 0
	for _, tp := range e.eventTopics(workspaceID) {
		if tp == topic {
			n++
		}
	}
	return n
}

func TestCompanyLifecycle(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		e.do("POST", "/data_attributes", map[string]any{"name": "tier", "model": "company", "data_type": "string"}).ok(t)
		e.do("POST", "/data_attributes", map[string]any{"name": "seats", "model": "company", "data_type": "integer"}).ok(t)

		c := e.do("POST", "/companies", map[string]any{
			"company_id": "c-1", "name": "Acme", "plan": "pro", "size": 50, "website": "https://acme.test",
			"industry": "Anvils", "monthly_spend": 155.98, "remote_created_at": 1700000000,
			"custom_attributes": map[string]any{"tier": "gold", "seats": 3},
		}).ok(t)
		noNulls(t, "company", c)
		id := str(c["id"])
		if c["type"] != "company" || len(id) != 24 || c["company_id"] != "c-1" || c["app_id"] != e.ws.ID || c["name"] != "Acme" {
			t.Fatalf("created = %v", c)
		}
		if p := c["plan"].(map[string]any); p["type"] != "plan" || p["name"] != "pro" {
			t.Fatalf("plan = %v", p)
		}
		if c["monthly_spend"] != float64(155) || c["size"] != float64(50) || c["remote_created_at"] != float64(1700000000) || c["user_count"] != float64(0) {
			t.Fatalf("numbers = %v", c)
		}
		if ca := c["custom_attributes"].(map[string]any); ca["tier"] != "gold" || ca["seats"] != float64(3) {
			t.Fatalf("custom attributes = %v", ca)
		}
		if tags := c["tags"].(map[string]any); tags["type"] != "tag.list" || len(tags["tags"].([]any)) != 0 {
			t.Fatalf("tags = %v", tags)
		}
		if segs := c["segments"].(map[string]any); segs["type"] != "segment.list" || len(segs["segments"].([]any)) != 0 {
			t.Fatalf("segments = %v", segs)
		}

		// POST again with the same company_id updates that company.
		up := e.do("POST", "/companies", map[string]any{"company_id": "c-1", "name": "Acme Inc"}).ok(t)
		if up["id"] != id || up["name"] != "Acme Inc" || up["plan"].(map[string]any)["name"] != "pro" || up["industry"] != "Anvils" {
			t.Fatalf("upsert = %v", up)
		}
		// The same values again change nothing and announce nothing.
		before := len(e.eventTopics(e.ws.ID))
		e.do("POST", "/companies", map[string]any{"company_id": "c-1", "name": "Acme Inc"}).ok(t)
		if after := len(e.eventTopics(e.ws.ID)); after != before {
			t.Fatalf("a no-op upsert appended %d events", after-before)
		}

		// Lookups.
		for _, path := range []string{"/companies/" + id, "/companies?company_id=c-1", "/companies?name=Acme%20Inc"} {
			if got := e.do("GET", path, nil).ok(t); got["id"] != id || got["type"] != "company" {
				t.Fatalf("GET %s = %v", path, got)
			}
		}
		e.do("GET", "/companies?company_id=nope", nil).fails(t, 404, "company_not_found")
		e.do("GET", "/companies?name=nope", nil).fails(t, 404, "company_not_found")
		e.do("GET", "/companies/nope", nil).fails(t, 404, "company_not_found")

		// PUT changes only what it names.
		put := e.do("PUT", "/companies/"+id, map[string]any{"industry": "Retail", "custom_attributes": map[string]any{"seats": 5}}).ok(t)
		if ca := put["custom_attributes"].(map[string]any); put["industry"] != "Retail" || ca["seats"] != float64(5) || ca["tier"] != "gold" || put["name"] != "Acme Inc" {
			t.Fatalf("put = %v", put)
		}
		e.do("PUT", "/companies/nope", map[string]any{"name": "x"}).fails(t, 404, "company_not_found")

		// Refused input changes nothing.
		refused := []struct {
			method, path string
			body         any
			code         string
		}{
			{"PUT", "/companies/" + id, map[string]any{"name": "X", "company_id": "c-other"}, "parameter_invalid"},
			{"PUT", "/companies/" + id, map[string]any{"name": "X", "custom_attributes": map[string]any{"seats": "many"}}, "parameter_invalid"},
			{"PUT", "/companies/" + id, map[string]any{"name": "X", "custom_attributes": map[string]any{"nope": 1}}, "parameter_not_found"},
			{"PUT", "/companies/" + id, map[string]any{"name": "X", "size": "lots"}, "parameter_invalid"},
			{"PUT", "/companies/" + id, map[string]any{"name": "X", "monthly_spend": 1e12}, "parameter_invalid"},
			{"PUT", "/companies/" + id, map[string]any{"name": "X", "remote_created_at": "yesterday"}, "parameter_invalid"},
			{"PUT", "/companies/" + id, map[string]any{"name": strings.Repeat("x", 300)}, "parameter_invalid"},
			{"PUT", "/companies/" + id, `{"name": "X", "colour": "red"}`, "parameter_invalid"},
			{"POST", "/companies", map[string]any{"name": "No id"}, "parameter_not_found"},
			{"POST", "/companies", map[string]any{"company_id": "c-1", "name": "X", "custom_attributes": map[string]any{"nope": 1}}, "parameter_not_found"},
			{"POST", "/companies", map[string]any{"company_id": "c-9", "size": -1}, "parameter_invalid"},
			{"POST", "/companies", `{"company_id": "c-9", "name": 5}`, "parameter_invalid"},
		}
		before = len(e.eventTopics(e.ws.ID))
		for _, r := range refused {
			e.do(r.method, r.path, r.body).fails(t, 400, r.code)
		}
		if got := e.do("GET", "/companies/"+id, nil).ok(t); got["name"] != "Acme Inc" || got["size"] != float64(50) {
			t.Fatalf("refused writes changed the company: %v", got)
		}
		if list := e.do("GET", "/companies", nil).ok(t); list["total_count"] != float64(1) {
			t.Fatalf("refused writes created companies: %v", list["total_count"])
		}
		if after := len(e.eventTopics(e.ws.ID)); after != before {
			t.Fatalf("refused writes appended %d events", after-before)
		}

		// A company with only a company_id: absent fields are left out, never null.
		bare := e.do("POST", "/companies", map[string]any{"company_id": 42}).ok(t)
		noNulls(t, "bare company", bare)
		if bare["company_id"] != "42" || len(bare["plan"].(map[string]any)) != 0 || bare["monthly_spend"] != float64(0) {
			t.Fatalf("bare = %v", bare)
		}
		for _, k := range []string{"name", "size", "website", "industry", "remote_created_at", "last_request_at"} {
			if _, ok := bare[k]; ok {
				t.Fatalf("bare company has %s: %v", k, bare)
			}
		}
		// Clearing a field with null removes it.
		cleared := e.do("PUT", "/companies/"+id, map[string]any{"website": nil, "custom_attributes": map[string]any{"tier": nil}}).ok(t)
		if _, ok := cleared["website"]; ok {
			t.Fatalf("website not cleared: %v", cleared)
		}
		if _, ok := cleared["custom_attributes"].(map[string]any)["tier"]; ok {
			t.Fatalf("tier not cleared: %v", cleared)
		}

		// Delete.
		d := e.do("DELETE", "/companies/"+id, nil).ok(t)
		if d["id"] != id || d["object"] != "company" || d["deleted"] != true || len(d) != 3 {
			t.Fatalf("delete = %v", d)
		}
		e.do("GET", "/companies/"+id, nil).fails(t, 404, "company_not_found")
		e.do("DELETE", "/companies/"+id, nil).fails(t, 404, "company_not_found")

		want := []string{"data_attribute.created", "data_attribute.created", "company.created", "company.updated",
			"company.updated", "company.created", "company.updated", "company.deleted"}
		if got := e.eventTopics(e.ws.ID); !slices.Equal(got, want) {
			t.Fatalf("event log:\n got %v\nwant %v", got, want)
		}
	})
}

func TestCompanyContacts(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		cid := str(e.do("POST", "/contacts", map[string]any{"email": "ada@example.com"}).ok(t)["id"])
		co1 := str(e.do("POST", "/companies", map[string]any{"company_id": "c-1", "name": "One"}).ok(t)["id"])
		co2 := str(e.do("POST", "/companies", map[string]any{"company_id": "c-2", "name": "Two"}).ok(t)["id"])

		got := e.do("POST", "/contacts/"+cid+"/companies", map[string]any{"id": co1}).ok(t)
		if got["id"] != co1 || got["user_count"] != float64(1) || got["type"] != "company" {
			t.Fatalf("attach = %v", got)
		}
		// Attaching again changes nothing.
		if again := e.do("POST", "/contacts/"+cid+"/companies", map[string]any{"id": co1}).ok(t); again["user_count"] != float64(1) {
			t.Fatalf("attach twice = %v", again)
		}
		e.do("POST", "/contacts/"+cid+"/companies", map[string]any{"id": co2}).ok(t)

		// The contact shows its companies.
		contact := e.do("GET", "/contacts/"+cid, nil).ok(t)
		cs := contact["companies"].(map[string]any)
		if cs["total_count"] != float64(2) || !slices.Contains(idsOf(t, cs["data"]), co1) || !slices.Contains(idsOf(t, cs["data"]), co2) {
			t.Fatalf("contact companies = %v", cs)
		}

		// Page-number list of the contact's companies; a page past the end is empty.
		all := e.do("GET", "/contacts/"+cid+"/companies", nil).ok(t)
		if all["type"] != "list" || all["total_count"] != float64(2) || len(all["companies"].([]any)) != 2 {
			t.Fatalf("contact companies list = %v", all)
		}
		var seen []string
		for page := 1; ; page++ {
			body := e.do("GET", fmt.Sprintf("/contacts/%s/companies?per_page=1&page=%d", cid, page), nil).ok(t)
			items := body["companies"].([]any)
			pages := body["pages"].(map[string]any)
			if pages["total_pages"] != float64(2) || pages["page"] != float64(page) {
				t.Fatalf("page %d pages = %v", page, pages)
			}
			if _, hasNext := pages["next"]; hasNext != (page < 2) {
				t.Fatalf("page %d next = %v", page, pages["next"])
			}
			if len(items) == 0 {
				if page != 3 {
					t.Fatalf("empty page %d", page)
				}
				break
			}
			seen = append(seen, idsOf(t, items)...)
		}
		want := []string{co1, co2}
		slices.Sort(seen)
		slices.Sort(want)
		if !slices.Equal(seen, want) {
			t.Fatalf("paged companies = %v", seen)
		}

		// The company lists its contacts and (no) segments.
		members := e.do("GET", "/companies/"+co1+"/contacts", nil).ok(t)
		if members["total_count"] != float64(1) || !slices.Equal(idsOf(t, members["data"]), []string{cid}) {
			t.Fatalf("company contacts = %v", members)
		}
		segs := e.do("GET", "/companies/"+co1+"/segments", nil).ok(t)
		if segs["type"] != "list" || len(segs["data"].([]any)) != 0 {
			t.Fatalf("company segments = %v", segs)
		}
		e.do("GET", "/companies/nope/contacts", nil).fails(t, 404, "company_not_found")
		e.do("GET", "/companies/nope/segments", nil).fails(t, 404, "company_not_found")

		// Refused attachments change nothing.
		e.do("POST", "/contacts/"+cid+"/companies", map[string]any{}).fails(t, 400, "parameter_not_found")
		e.do("POST", "/contacts/"+cid+"/companies", map[string]any{"id": "nope"}).fails(t, 404, "company_not_found")
		e.do("POST", "/contacts/nope/companies", map[string]any{"id": co1}).fails(t, 404, "not_found")
		e.do("DELETE", "/contacts/nope/companies/"+co1, nil).fails(t, 404, "not_found")
		e.do("DELETE", "/contacts/"+cid+"/companies/nope", nil).fails(t, 404, "company_not_found")
		e.do("GET", "/contacts/nope/companies", nil).fails(t, 404, "not_found")

		// Detach.
		det := e.do("DELETE", "/contacts/"+cid+"/companies/"+co1, nil).ok(t)
		if det["id"] != co1 || det["user_count"] != float64(0) {
			t.Fatalf("detach = %v", det)
		}
		if cs := e.do("GET", "/contacts/"+cid, nil).ok(t)["companies"].(map[string]any); cs["total_count"] != float64(1) {
			t.Fatalf("after detach the contact has %v companies", cs["total_count"])
		}
		// Deleting a company takes it off its contacts.
		e.do("DELETE", "/companies/"+co2, nil).ok(t)
		if cs := e.do("GET", "/contacts/"+cid, nil).ok(t)["companies"].(map[string]any); cs["total_count"] != float64(0) {
			t.Fatalf("after delete the contact has %v companies", cs["total_count"])
		}

		if n := e.countTopic(e.ws.ID, "company.contact.attached"); n != 2 {
			t.Fatalf("%d company.contact.attached events, want 2", n)
		}
		if n := e.countTopic(e.ws.ID, "company.contact.detached"); n != 1 {
			t.Fatalf("%d company.contact.detached events, want 1", n)
		}
	})
}

func TestCompanyListPagination(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		created := map[string]bool{}
		for i := 0; i < 23; i++ {
			c := e.do("POST", "/companies", map[string]any{"company_id": fmt.Sprintf("c-%02d", i), "name": fmt.Sprintf("Co %d", i)}).ok(t)
			created[str(c["id"])] = true
		}
		walk := func(path string) []string {
			var out []string
			for page := 1; ; page++ {
				sep := "?"
				if strings.Contains(path, "?") {
					sep = "&"
				}
				r := e.do(strings.Fields(path)[0], strings.Fields(path)[1]+fmt.Sprintf("%spage=%d", sep, page), nil).ok(t)
				data := r["data"].([]any)
				pages := r["pages"].(map[string]any)
				if r["type"] != "list" || r["total_count"] != float64(23) || pages["total_pages"] != float64(3) || pages["page"] != float64(page) || pages["per_page"] != float64(10) {
					t.Fatalf("%s page %d: %v / %v", path, page, r["total_count"], pages)
				}
				if _, hasNext := pages["next"]; hasNext != (page < 3) {
					t.Fatalf("%s page %d: next = %v", path, page, pages["next"])
				}
				if len(data) == 0 {
					if page != 4 {
						t.Fatalf("%s: empty page %d", path, page)
					}
					return out
				}
				if want := min(10, 23-(page-1)*10); len(data) != want {
					t.Fatalf("%s page %d has %d companies, want %d", path, page, len(data), want)
				}
				out = append(out, idsOf(t, data)...)
			}
		}
		desc := walk("GET /companies?per_page=10")
		asc := walk("POST /companies/list?per_page=10&order=asc")
		if len(desc) != 23 || len(asc) != 23 {
			t.Fatalf("walked %d and %d companies", len(desc), len(asc))
		}
		seen := map[string]bool{}
		for _, id := range desc {
			if seen[id] || !created[id] {
				t.Fatalf("company %s duplicated or unknown", id)
			}
			seen[id] = true
		}
		slices.Reverse(asc)
		if !slices.Equal(asc, desc) {
			t.Fatalf("asc is not the reverse of desc:\n%v\n%v", asc, desc)
		}
		if d := walk("POST /companies/list?per_page=10"); !slices.Equal(d, desc) {
			t.Fatalf("POST /companies/list differs from GET /companies")
		}
		// Default page size is 15.
		if r := e.do("GET", "/companies", nil).ok(t); len(r["data"].([]any)) != 15 || r["pages"].(map[string]any)["per_page"] != float64(15) {
			t.Fatalf("default page = %v", r["pages"])
		}

		// Filters: by tag, and by segment (companies are in none).
		first := desc[:2]
		e.do("POST", "/tags", map[string]any{"name": "Key", "companies": []any{map[string]any{"id": first[0]}, map[string]any{"id": first[1]}}}).ok(t)
		tagID := str(e.do("GET", "/tags", nil).ok(t)["data"].([]any)[0].(map[string]any)["id"])
		tagged := e.do("GET", "/companies?tag_id="+tagID, nil).ok(t)
		if tagged["total_count"] != float64(2) || !slices.Equal(idsOf(t, tagged["data"]), first) {
			t.Fatalf("tag filter = %v", tagged)
		}
		if r := e.do("GET", "/companies?segment_id=abc", nil).ok(t); len(r["data"].([]any)) != 0 {
			t.Fatalf("segment filter = %v", r)
		}

		for _, bad := range []string{"GET /companies?per_page=61", "GET /companies?page=0", "GET /companies?page=x", "POST /companies/list?order=sideways"} {
			f := strings.Fields(bad)
			e.do(f[0], f[1], nil).fails(t, 400, "parameter_invalid")
		}
	})
}

func TestCompanyScroll(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		const n = companyScrollSize*2 + 5
		created := map[string]bool{}
		for i := 0; i < n; i++ {
			c := e.do("POST", "/companies", map[string]any{"company_id": fmt.Sprintf("s-%03d", i)}).ok(t)
			created[str(c["id"])] = true
		}
		seen := map[string]bool{}
		path := "/companies/scroll"
		calls := 0
		for {
			calls++
			if calls > 10 {
				t.Fatal("scroll does not end")
			}
			r := e.do("GET", path, nil).ok(t)
			if r["type"] != "list" || r["total_count"] != float64(n) {
				t.Fatalf("scroll page = %v %v", r["type"], r["total_count"])
			}
			data := r["data"].([]any)
			param, has := r["scroll_param"]
			if len(data) == 0 {
				if has {
					t.Fatalf("the empty last page still has scroll_param %v", param)
				}
				break
			}
			if !has || str(param) == "" {
				t.Fatalf("a page with data has no scroll_param")
			}
			for _, id := range idsOf(t, data) {
				if seen[id] || !created[id] {
					t.Fatalf("company %s duplicated or unknown", id)
				}
				seen[id] = true
			}
			path = "/companies/scroll?scroll_param=" + str(param)
		}
		if len(seen) != n || calls != 4 {
			t.Fatalf("scrolled %d companies in %d calls, want %d in 4", len(seen), calls, n)
		}
		e.do("GET", "/companies/scroll?scroll_param=garbage", nil).fails(t, 400, "parameter_invalid")
	})
}

func TestCompanyIsolation(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		co := e.do("POST", "/companies", map[string]any{"company_id": "shared", "name": "Mine"}).ok(t)
		id := str(co["id"])
		cid := str(e.do("POST", "/contacts", map[string]any{"email": "a@example.com"}).ok(t)["id"])
		e.do("POST", "/contacts/"+cid+"/companies", map[string]any{"id": id}).ok(t)

		other, _, tok := e.newWorkspace("Other")
		as := func(method, path string, body any) *resp { return e.doAs(tok, method, path, body, nil) }
		as("GET", "/companies/"+id, nil).fails(t, 404, "company_not_found")
		as("PUT", "/companies/"+id, map[string]any{"name": "Theirs"}).fails(t, 404, "company_not_found")
		as("DELETE", "/companies/"+id, nil).fails(t, 404, "company_not_found")
		as("GET", "/companies?company_id=shared", nil).fails(t, 404, "company_not_found")
		as("GET", "/companies/"+id+"/contacts", nil).fails(t, 404, "company_not_found")
		if l := as("GET", "/companies", nil).ok(t); l["total_count"] != float64(0) {
			t.Fatalf("other workspace lists %v companies", l["total_count"])
		}
		if s := as("GET", "/companies/scroll", nil).ok(t); len(s["data"].([]any)) != 0 {
			t.Fatalf("other workspace scrolls %v", s["data"])
		}
		// The same company_id is free in the other workspace and names another company.
		theirs := as("POST", "/companies", map[string]any{"company_id": "shared", "name": "Theirs"}).ok(t)
		if theirs["id"] == id || theirs["app_id"] != other.ID {
			t.Fatalf("other workspace upsert = %v", theirs)
		}
		theirContact := str(as("POST", "/contacts", map[string]any{"email": "b@example.com"}).ok(t)["id"])
		as("POST", "/contacts/"+theirContact+"/companies", map[string]any{"id": id}).fails(t, 404, "company_not_found")
		as("POST", "/contacts/"+cid+"/companies", map[string]any{"id": str(theirs["id"])}).fails(t, 404, "not_found")
		as("DELETE", "/contacts/"+cid+"/companies/"+id, nil).fails(t, 404, "not_found")
		as("GET", "/contacts/"+cid+"/companies", nil).fails(t, 404, "not_found")

		mine := e.do("GET", "/companies/"+id, nil).ok(t)
		if mine["name"] != "Mine" || mine["user_count"] != float64(1) {
			t.Fatalf("other workspace changed my company: %v", mine)
		}
	})
}
