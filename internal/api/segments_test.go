package api

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// contactSegments calls GET /contacts/{id}/segments.
func (e *env) contactSegments(token, id string) *resp {
	e.t.Helper()
	return e.doAs(token, "GET", "/contacts/"+id+"/segments", nil, nil)
}

func segmentNames(list []any) []string {
	var out []string
	for _, s := range list {
		out = append(out, str(s.(map[string]any)["name"]))
	}
	slices.Sort(out)
	return out
}

func TestSegmentLifecycle(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		f := newSearchFixture(t, e)
		leaf := func(field, op string, v any) map[string]any {
			return map[string]any{"field": field, "operator": op, "value": v}
		}
		before := len(e.eventTopics(e.ws.ID))

		// Users on a paid plan; leads on the free plan; an OR of ANDs two
		// levels deep, which the person type restriction must not push
		// past the nesting limit.
		paid := e.do("POST", "/segments", map[string]any{"name": " Paid ", "filter": leaf("custom_attributes.plan", "IN", []any{"pro", "team"})}).ok(t)
		if paid["type"] != "segment" || paid["name"] != "Paid" || paid["person_type"] != "user" || len(str(paid["id"])) != 24 ||
			paid["created_at"] == nil || paid["updated_at"] == nil || paid["filter"] == nil {
			t.Fatalf("created = %v", paid)
		}
		if _, ok := paid["count"]; ok {
			t.Fatalf("count without include_count: %v", paid)
		}
		leads := e.do("POST", "/segments", map[string]any{"name": "Free leads", "person_type": "contact",
			"filter": leaf("custom_attributes.plan", "=", "free")}).ok(t)
		mixed := e.do("POST", "/segments", map[string]any{"name": "Mixed", "filter": map[string]any{"operator": "OR", "value": []any{
			map[string]any{"operator": "AND", "value": []any{leaf("custom_attributes.vip", "=", true), leaf("tag_id", "=", f.tag)}},
			map[string]any{"operator": "OR", "value": []any{leaf("name", "^", "car"), leaf("name", "^", "fr")}},
			leaf("company.name", "=", "Acme Inc"),
		}}}).ok(t)

		counts := func() map[string]any {
			t.Helper()
			out := map[string]any{}
			l := e.do("GET", "/segments?include_count=true", nil).ok(t)
			if l["type"] != "segment.list" {
				t.Fatalf("list = %v", l)
			}
			for _, s := range l["segments"].([]any) {
				sg := s.(map[string]any)
				out[str(sg["name"])] = sg["count"]
			}
			return out
		}
		// Paid: Bob, Carol, Dan (Hank is archived); free leads: Frank; Mixed:
		// Bob, Dan (vip and tagged), Carol (name; and Acme) — Frank is a
		// lead, so not in a user segment.
		if got := counts(); got["Paid"] != float64(3) || got["Free leads"] != float64(1) || got["Mixed"] != float64(3) {
			t.Fatalf("counts = %v", got)
		}
		if l := e.do("GET", "/segments", nil).ok(t)["segments"].([]any); len(l) != 3 || l[0].(map[string]any)["count"] != nil {
			t.Fatalf("list without counts = %v", l)
		}
		if one := e.do("GET", "/segments/"+str(paid["id"])+"?include_count=true", nil).ok(t); one["count"] != float64(3) || one["name"] != "Paid" {
			t.Fatalf("get with count = %v", one)
		}
		e.do("GET", "/segments?include_count=maybe", nil).fails(t, 400, "parameter_invalid")

		// The segments of contacts.
		for who, want := range map[string][]string{
			"bob": {"Mixed", "Paid"}, "carol": {"Mixed", "Paid"}, "frank": {"Free leads"}, "gina": nil, "alice": nil,
			"hank": nil, // archived
		} {
			r := e.contactSegments(e.token, f.ids[who]).ok(t)
			if r["type"] != "list" {
				t.Fatalf("contact segments = %v", r)
			}
			if got := segmentNames(r["data"].([]any)); !slices.Equal(got, want) {
				t.Errorf("%s is in %v, want %v", who, got, want)
			}
		}
		e.contactSegments(e.token, "0123456789abcdef01234567").fails(t, 404, "not_found")
		e.contactSegments(e.token, f.ids["ivy"]).fails(t, 404, "not_found") // merged

		// Update: rename, refilter, change the person type.
		up := e.do("PUT", "/segments/"+str(paid["id"]), map[string]any{"name": "Pro", "filter": leaf("custom_attributes.plan", "=", "pro")}).ok(t)
		if up["name"] != "Pro" || up["id"] != paid["id"] || up["created_at"] != paid["created_at"] {
			t.Fatalf("updated = %v", up)
		}
		if got := counts(); got["Pro"] != float64(2) {
			t.Fatalf("after update: %v", got)
		}
		e.do("PUT", "/segments/"+str(leads["id"]), map[string]any{"person_type": "user"}).ok(t)
		if got := counts(); got["Free leads"] != float64(2) { // Alice, Eve
			t.Fatalf("after person_type change: %v", got)
		}
		if got := e.do("GET", "/segments/"+str(paid["id"]), nil).ok(t); got["name"] != "Pro" {
			t.Fatalf("get after update = %v", got)
		}

		// Refused writes change nothing.
		for _, body := range []map[string]any{
			{"filter": leaf("role", "=", "user")},                                        // no name
			{"name": "x"},                                                                // no filter
			{"name": "", "filter": leaf("role", "=", "user")},                            // empty name
			{"name": "x", "filter": leaf("nope", "=", "user")},                           // unknown field
			{"name": "x", "filter": leaf("segment_id", "=", paid["id"])},                 // segment in a segment
			{"name": "x", "filter": leaf("role", "=", "user"), "person_type": "visitor"}, // bad person type
			{"name": "x", "filter": leaf("role", "=", "user"), "extra": true},            // unknown field
			{"name": "x", "filter": "role = user"},                                       // not a query
			{"name": "x", "filter": map[string]any{"operator": "AND", "value": []any{leaf("role", "=", "user"), map[string]any{"operator": "OR", "value": []any{
				map[string]any{"operator": "AND", "value": []any{leaf("role", "=", "user")}}}}}}}, // 3 levels
		} {
			r := e.do("POST", "/segments", body)
			if r.Status != 400 {
				t.Fatalf("POST /segments %v: %d %s", body, r.Status, r.Raw)
			}
		}
		e.do("PUT", "/segments/"+str(paid["id"]), map[string]any{"filter": leaf("segment_id", "=", mixed["id"])}).fails(t, 400, "parameter_invalid")
		e.do("PUT", "/segments/"+str(paid["id"]), map[string]any{"name": ""}).fails(t, 400, "parameter_invalid")
		e.do("PUT", "/segments/0123456789abcdef01234567", map[string]any{"name": "x"}).fails(t, 404, "not_found")
		if got := e.do("GET", "/segments/"+str(paid["id"]), nil).ok(t); got["name"] != "Pro" {
			t.Fatalf("refused update changed the segment: %v", got)
		}

		// An attribute the filter uses is archived: the segment stays
		// listed, without a count, and has no members.
		e.do("POST", "/data_attributes", map[string]any{"name": "tier", "model": "contact", "data_type": "string"}).ok(t)
		e.do("PUT", "/contacts/"+f.ids["bob"], map[string]any{"custom_attributes": map[string]any{"tier": "a"}}).ok(t)
		tier := e.do("POST", "/segments", map[string]any{"name": "Tier A", "filter": leaf("custom_attributes.tier", "=", "a")}).ok(t)
		if got := counts(); got["Tier A"] != float64(1) {
			t.Fatalf("tier count = %v", got)
		}
		for _, a := range e.do("GET", "/data_attributes?model=contact", nil).ok(t)["data"].([]any) {
			if m := a.(map[string]any); m["name"] == "tier" {
				e.do("PUT", "/data_attributes/"+jsonID(m["id"]), map[string]any{"archived": true}).ok(t)
			}
		}
		if got, ok := counts()["Tier A"]; !ok || got != nil {
			t.Fatalf("count of a broken segment = %v (present %v)", got, ok)
		}
		if got := segmentNames(e.contactSegments(e.token, f.ids["bob"]).ok(t)["data"].([]any)); !slices.Equal(got, []string{"Mixed", "Pro"}) {
			t.Fatalf("bob's segments with a broken one: %v", got)
		}

		// Delete.
		d := e.do("DELETE", "/segments/"+str(tier["id"]), nil).ok(t)
		if d["id"] != tier["id"] || d["object"] != "segment" || d["deleted"] != true {
			t.Fatalf("delete = %v", d)
		}
		e.do("GET", "/segments/"+str(tier["id"]), nil).fails(t, 404, "not_found")
		e.do("DELETE", "/segments/"+str(tier["id"]), nil).fails(t, 404, "not_found")
		e.do("POST", "/contacts/search", map[string]any{"query": leaf("segment_id", "=", tier["id"])}).fails(t, 400, "parameter_invalid")

		want := []string{"segment.created", "segment.created", "segment.created", "segment.updated", "segment.updated",
			"data_attribute.created", "contact.user.updated", "segment.created", "data_attribute.updated", "segment.deleted"}
		if got := e.eventTopics(e.ws.ID)[before:]; !slices.Equal(got, want) {
			t.Fatalf("event log:\n got %v\nwant %v", got, want)
		}
	})
}

func jsonID(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestSegmentManyCounts: counts and memberships of more segments (and
// more bound values) than one statement evaluates.
func TestSegmentManyCounts(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		f := newSearchFixture(t, e)
		// 9000 values: 9 IN lists of the maximum 1000, "pro" in the last.
		var lists []any
		for l := range 9 {
			vals := make([]any, 1000)
			for i := range vals {
				vals[i] = fmt.Sprintf("plan-%d-%d", l, i)
			}
			if l == 8 {
				vals[999] = "pro"
			}
			lists = append(lists, map[string]any{"field": "custom_attributes.plan", "operator": "IN", "value": vals})
		}
		big := map[string]any{"operator": "OR", "value": lists}
		want := map[string]float64{}
		for i := range 70 {
			name := fmt.Sprintf("seats>=%d", i%12)
			filter := map[string]any{"field": "custom_attributes.seats", "operator": ">=", "value": i % 12}
			if i%17 == 0 {
				name = fmt.Sprintf("big%d", i)
				filter = big
			}
			e.do("POST", "/segments", map[string]any{"name": name, "filter": filter}).ok(t)
		}
		// Users' seats: alice 1, bob 5, carol 10, dan 20, eve 0 (gina none);
		// plan pro: bob, carol.
		for i := range 12 {
			n := 0
			for _, seats := range []int{1, 5, 10, 20, 0} {
				if seats >= i {
					n++
				}
			}
			want[fmt.Sprintf("seats>=%d", i)] = float64(n)
		}
		l := e.do("GET", "/segments?include_count=true", nil).ok(t)["segments"].([]any)
		if len(l) != 70 {
			t.Fatalf("%d segments", len(l))
		}
		for _, s := range l {
			sg := s.(map[string]any)
			w, ok := want[str(sg["name"])]
			if !ok {
				w = 2
			}
			if sg["count"] != w {
				t.Fatalf("%s: count %v, want %v", sg["name"], sg["count"], w)
			}
		}
		// Carol (10 seats, pro) is in seats>=0…10 and the big ones.
		in := e.contactSegments(e.token, f.ids["carol"]).ok(t)["data"].([]any)
		bigs := 0
		for _, s := range in {
			name := str(s.(map[string]any)["name"])
			if strings.HasPrefix(name, "big") {
				bigs++
			} else if n, _ := strconv.Atoi(strings.TrimPrefix(name, "seats>=")); n > 10 {
				t.Fatalf("carol is in %s", name)
			}
		}
		if bigs != 5 || len(in) != 70-countFor(70, 11) {
			t.Fatalf("carol is in %d segments (%d big)", len(in), bigs)
		}
	})
}

// countFor counts i in [0, n) with i%12 == r and i%17 != 0.
func countFor(n, r int) int {
	c := 0
	for i := range n {
		if i%12 == r && i%17 != 0 {
			c++
		}
	}
	return c
}
