package api

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

// eventNames lists the events of a GET /events answer, following
// pages.next, and checks they come newest first.
func (e *env) eventNames(token, query string) []string {
	e.t.Helper()
	var out []string
	var last float64 = 1 << 62
	path := "/events?type=user&" + query
	for range 100 {
		res := e.doAs(token, "GET", path, nil, nil).ok(e.t)
		if res["type"] != "event.list" {
			e.t.Fatalf("GET %s = %v", path, res)
		}
		for _, ev := range res["events"].([]any) {
			m := ev.(map[string]any)
			if m["type"] != "event" || m["created_at"].(float64) > last {
				e.t.Fatalf("event %v out of order or of the wrong type", m)
			}
			last = m["created_at"].(float64)
			out = append(out, str(m["event_name"]))
		}
		next, ok := res["pages"].(map[string]any)["next"].(string)
		if !ok {
			return out
		}
		u, err := url.Parse(next)
		if err != nil || u.Path != "/events" {
			e.t.Fatalf("pages.next = %q", next)
		}
		path = u.RequestURI()
	}
	e.t.Fatal("too many pages")
	return nil
}

func TestDataEvents(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		user := e.do("POST", "/contacts", map[string]any{"email": "ada@example.com", "external_id": "u-1"}).ok(t)
		id := str(user["id"])
		lead := str(e.do("POST", "/contacts", map[string]any{"role": "lead", "email": "lead@example.com"}).ok(t)["id"])
		before := len(e.eventTopics(e.ws.ID))
		t0 := time.Now().Unix() - 1000

		// 202 with an empty body, by id, user_id or email.
		r := e.do("POST", "/events", fmt.Sprintf(`{"event_name": "signed-in", "created_at": %d, "user_id": "u-1",
			"metadata": {"plan": "pro", "seats": 3, "ratio": 0.5, "trial": false,
				"article": {"url": "https://example.org/a", "value": "the dude abides"},
				"price": {"amount": 34999, "currency": "eur"}}}`, t0))
		if r.Status != 202 || len(r.Raw) != 0 {
			t.Fatalf("POST /events: %d %q", r.Status, r.Raw)
		}
		for _, body := range []map[string]any{
			{"event_name": "by-id", "created_at": t0 + 1, "id": id},
			{"event_name": "by-email", "created_at": fmt.Sprint(t0 + 2), "email": "ada@example.com"},
			{"event_name": "for-lead", "created_at": t0 + 3, "id": lead},
		} {
			if r := e.do("POST", "/events", body); r.Status != 202 {
				t.Fatalf("POST /events %v: %d %s", body, r.Status, r.Raw)
			}
		}
		// Duplicates (same contact, name and created_at) are accepted and
		// stored once, however the contact is named.
		for _, body := range []map[string]any{
			{"event_name": "by-id", "created_at": t0 + 1, "id": id},
			{"event_name": "by-id", "created_at": t0 + 1, "user_id": "u-1", "metadata": map[string]any{"other": 1}},
		} {
			if r := e.do("POST", "/events", body); r.Status != 202 {
				t.Fatalf("duplicate: %d %s", r.Status, r.Raw)
			}
		}
		// Exactly 10 metadata keys are fine, 11 are refused.
		meta := func(n int) map[string]any {
			m := map[string]any{}
			for i := range n {
				m[fmt.Sprintf("k%d", i)] = fmt.Sprintf("v%d", i)
			}
			return m
		}
		if r := e.do("POST", "/events", map[string]any{"event_name": "ten-keys", "created_at": t0 + 4, "id": id, "metadata": meta(10)}); r.Status != 202 {
			t.Fatalf("10 keys: %d %s", r.Status, r.Raw)
		}
		e.do("POST", "/events", map[string]any{"event_name": "eleven-keys", "created_at": t0 + 5, "id": id, "metadata": meta(11)}).fails(t, 400, "parameter_invalid")

		// Refused: nothing stored.
		for _, c := range []struct {
			body   any
			status int
			code   string
		}{
			{map[string]any{"created_at": t0, "id": id}, 400, "parameter_not_found"},
			{map[string]any{"event_name": "x", "id": id}, 400, "parameter_not_found"},
			{map[string]any{"event_name": "x", "created_at": t0}, 400, "parameter_not_found"},
			{map[string]any{"event_name": "", "created_at": t0, "id": id}, 400, "parameter_invalid"},
			{map[string]any{"event_name": strings.Repeat("é", 256), "created_at": t0, "id": id}, 400, "parameter_invalid"},
			{map[string]any{"event_name": "a\nb", "created_at": t0, "id": id}, 400, "parameter_invalid"},
			{map[string]any{"event_name": "x", "created_at": "yesterday", "id": id}, 400, "parameter_invalid"},
			{map[string]any{"event_name": "x", "created_at": t0, "id": id, "metadata": map[string]any{"nested": map[string]any{"a": 1}}}, 400, "parameter_invalid"},
			{map[string]any{"event_name": "x", "created_at": t0, "id": id, "metadata": map[string]any{"list": []any{1}}}, 400, "parameter_invalid"},
			{map[string]any{"event_name": "x", "created_at": t0, "id": id, "metadata": map[string]any{"price": map[string]any{"amount": 1.5, "currency": "eur"}}}, 400, "parameter_invalid"},
			{map[string]any{"event_name": "x", "created_at": t0, "id": id, "metadata": "text"}, 400, "parameter_invalid"},
			{`{"event_name":"x","created_at":1,"id":"` + id + `","metadata":{"a":1,"a":2}}`, 400, "parameter_invalid"},
			{map[string]any{"event_name": "x", "created_at": t0, "id": id, "unknown": 1}, 400, "parameter_invalid"},
			{map[string]any{"event_name": "x", "created_at": t0, "user_id": "nobody"}, 404, "not_found"},
			{map[string]any{"event_name": "x", "created_at": t0, "id": "0123456789abcdef01234567"}, 404, "not_found"},
			{map[string]any{"event_name": "x", "created_at": t0, "email": "nobody@example.com"}, 404, "not_found"},
		} {
			e.do("POST", "/events", c.body).fails(t, c.status, c.code)
		}

		// Listing: newest first, by any identifier, across pages.
		want := []string{"ten-keys", "by-email", "by-id", "signed-in"}
		for _, q := range []string{"intercom_user_id=" + id, "user_id=u-1", "email=ada%40example.com", "intercom_user_id=" + id + "&per_page=1", "user_id=u-1&per_page=3"} {
			if got := e.eventNames(e.token, q); !slices.Equal(got, want) {
				t.Fatalf("events by %s = %v, want %v", q, got, want)
			}
		}
		if got := e.eventNames(e.token, "intercom_user_id="+lead); !slices.Equal(got, []string{"for-lead"}) {
			t.Fatalf("lead's events = %v", got)
		}
		first := e.do("GET", "/events?type=user&user_id=u-1", nil).ok(t)["events"].([]any)
		signedIn := first[len(first)-1].(map[string]any)
		if signedIn["intercom_user_id"] != id || signedIn["user_id"] != "u-1" || signedIn["email"] != "ada@example.com" || signedIn["created_at"] != float64(t0) {
			t.Fatalf("event = %v", signedIn)
		}
		// Metadata comes back as given, rich values included, keys in order.
		if got := string(mustJSON(t, signedIn["metadata"])); got != `{"article":{"url":"https://example.org/a","value":"the dude abides"},"plan":"pro","price":{"amount":34999,"currency":"eur"},"ratio":0.5,"seats":3,"trial":false}` {
			t.Fatalf("metadata = %s", got)
		}
		raw := e.do("GET", "/events?type=user&user_id=u-1&per_page=150", nil).Raw
		if !strings.Contains(string(raw), `"metadata":{"plan":"pro","seats":3,"ratio":0.5,"trial":false,"article":{`) {
			t.Fatalf("metadata key order not kept: %s", raw)
		}
		e.do("GET", "/events?user_id=u-1", nil).fails(t, 400, "parameter_not_found")
		e.do("GET", "/events?type=company&user_id=u-1", nil).fails(t, 400, "parameter_invalid")
		e.do("GET", "/events?type=user", nil).fails(t, 400, "parameter_not_found")
		e.do("GET", "/events?type=user&user_id=nobody", nil).fails(t, 404, "not_found")
		e.do("GET", "/events?type=user&user_id=u-1&per_page=0", nil).fails(t, 400, "parameter_invalid")
		e.do("GET", "/events?type=user&user_id=u-1&before=junk", nil).fails(t, 400, "parameter_invalid")

		// Every stored event, and only those, was announced.
		wantTopics := []string{"event.created", "event.created", "event.created", "event.created", "event.created"}
		if got := e.eventTopics(e.ws.ID)[before:]; !slices.Equal(got, wantTopics) {
			t.Fatalf("event log: %v", got)
		}

		// Isolation: another workspace cannot record or read this
		// contact's events.
		_, _, other := e.newWorkspace("Globex")
		e.doAs(other, "POST", "/events", map[string]any{"event_name": "x", "created_at": t0, "id": id}, nil).fails(t, 404, "not_found")
		e.doAs(other, "POST", "/events", map[string]any{"event_name": "x", "created_at": t0, "user_id": "u-1"}, nil).fails(t, 404, "not_found")
		e.doAs(other, "GET", "/events?type=user&intercom_user_id="+id, nil, nil).fails(t, 404, "not_found")
		e.doAs(other, "GET", "/events?type=user&email=ada%40example.com", nil, nil).fails(t, 404, "not_found")
		if got := e.eventNames(e.token, "intercom_user_id="+id); !slices.Equal(got, want) {
			t.Fatalf("events after the other workspace's attempts = %v", got)
		}
	})
}

func TestDataEventSummaries(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		user := e.do("POST", "/contacts", map[string]any{"email": "ada@example.com", "external_id": "u-1"}).ok(t)
		id := str(user["id"])
		t0 := int64(1700000000)
		for _, dt := range []int64{0, 10, 20} {
			e.do("POST", "/events", map[string]any{"event_name": "opened-app", "created_at": t0 + dt, "id": id})
		}
		e.do("POST", "/events", map[string]any{"event_name": "paid", "created_at": t0 + 5, "id": id})

		summary := func() map[string]map[string]any {
			t.Helper()
			res := e.do("GET", "/events?type=user&intercom_user_id="+id+"&summary=true", nil).ok(t)
			if res["type"] != "event.summary" || res["intercom_user_id"] != id || res["user_id"] != "u-1" || res["email"] != "ada@example.com" {
				t.Fatalf("summary = %v", res)
			}
			out := map[string]map[string]any{}
			for _, ev := range res["events"].([]any) {
				m := ev.(map[string]any)
				out[str(m["name"])] = m
			}
			return out
		}
		iso := func(t int64) string { return time.Unix(t, 0).UTC().Format("2006-01-02T15:04:05.000+00:00") }
		s := summary()
		if len(s) != 2 || s["opened-app"]["count"] != float64(3) || s["opened-app"]["first"] != iso(t0) || s["opened-app"]["last"] != iso(t0+20) ||
			s["paid"]["count"] != float64(1) {
			t.Fatalf("summary = %v", s)
		}

		// Imported summaries add to the tracked events; importing the same
		// name again replaces the earlier import (a retry counts once).
		post := func(body any) *resp { return e.do("POST", "/events/summaries", body) }
		r := post(map[string]any{"user_id": "u-1", "event_summaries": map[string]any{"event_name": "opened-app", "count": 5, "first": t0 - 1000, "last": t0 + 10}})
		if r.Status != 200 || len(r.Raw) != 0 {
			t.Fatalf("POST /events/summaries: %d %s", r.Status, r.Raw)
		}
		post(map[string]any{"user_id": "u-1", "event_summaries": map[string]any{"event_name": "opened-app", "count": 5, "first": t0 - 1000, "last": t0 + 10}}).ok(t)
		post(map[string]any{"user_id": "u-1", "event_summaries": []any{
			map[string]any{"event_name": "imported-logins", "count": 7, "first": t0 - 86400, "last": t0 - 60},
			map[string]any{"event_name": "single", "count": 1, "last": t0},
		}}).ok(t)
		s = summary()
		if s["opened-app"]["count"] != float64(8) || s["opened-app"]["first"] != iso(t0-1000) || s["opened-app"]["last"] != iso(t0+20) {
			t.Fatalf("opened-app = %v", s["opened-app"])
		}
		if s["imported-logins"]["count"] != float64(7) || s["imported-logins"]["first"] != iso(t0-86400) || s["imported-logins"]["last"] != iso(t0-60) {
			t.Fatalf("imported-logins = %v", s["imported-logins"])
		}
		if s["single"]["first"] != iso(t0) || s["single"]["last"] != iso(t0) {
			t.Fatalf("single = %v", s["single"])
		}
		// Summaries are not events: the listing does not show them.
		if got := e.eventNames(e.token, "intercom_user_id="+id); !slices.Equal(got, []string{"opened-app", "opened-app", "paid", "opened-app"}) {
			t.Fatalf("events = %v", got)
		}

		for _, c := range []struct {
			body   any
			status int
			code   string
		}{
			{map[string]any{"event_summaries": map[string]any{"event_name": "x", "count": 1, "last": t0}}, 400, "parameter_not_found"},
			{map[string]any{"user_id": "u-1"}, 400, "parameter_not_found"},
			{map[string]any{"user_id": "u-1", "event_summaries": map[string]any{"count": 1, "last": t0}}, 400, "parameter_not_found"},
			{map[string]any{"user_id": "u-1", "event_summaries": map[string]any{"event_name": "x", "count": 0, "last": t0}}, 400, "parameter_invalid"},
			{map[string]any{"user_id": "u-1", "event_summaries": map[string]any{"event_name": "x", "count": 1}}, 400, "parameter_not_found"},
			{map[string]any{"user_id": "u-1", "event_summaries": map[string]any{"event_name": "x", "count": 1, "first": t0, "last": t0 - 1}}, 400, "parameter_invalid"},
			{map[string]any{"user_id": "u-1", "event_summaries": map[string]any{"event_name": "x", "count": 1, "last": t0, "extra": 1}}, 400, "parameter_invalid"},
			{map[string]any{"user_id": "u-1", "event_summaries": []any{}}, 400, "parameter_invalid"},
			{map[string]any{"user_id": "nobody", "event_summaries": map[string]any{"event_name": "x", "count": 1, "last": t0}}, 404, "not_found"},
		} {
			post(c.body).fails(t, c.status, c.code)
		}
		if len(summary()) != 4 {
			t.Fatalf("refused summaries were stored: %v", summary())
		}
		topics := e.eventTopics(e.ws.ID)
		if n := strings.Count(strings.Join(topics, " "), "event.summaries.created"); n != 3 {
			t.Fatalf("event log %v: %d event.summaries.created, want 3", topics, n)
		}
	})
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
