package api

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/parleyhq/parley/internal/testdb"
)

func TestAuthentication(t *testing.T) {
	e := newEnv(t, testdb.SQLite(t), Options{})
	e.doAs("", "GET", "/me", nil, nil).fails(t, 401, "unauthorized")
	e.doAs("nope-not-a-token", "GET", "/me", nil, nil).fails(t, 401, "unauthorized")
	r := e.doAs("", "GET", "/contacts", nil, map[string]string{"Authorization": "Basic abc"})
	r.fails(t, 401, "unauthorized")
	me := e.do("GET", "/me", nil).ok(t)
	if me["email"] != e.owner.Email || me["type"] != "admin" {
		t.Fatalf("GET /me = %v", me)
	}
	app := me["app"].(map[string]any)
	if app["id_code"] != e.ws.ID {
		t.Fatalf("me.app.id_code = %v, want %s", app["id_code"], e.ws.ID)
	}
}

func TestVersions(t *testing.T) {
	e := newEnv(t, testdb.SQLite(t), Options{})
	for _, v := range []string{"1.0", "1.4", "2.0", "2.9", "2.14", "2.16", "Unstable", "Preview", ""} {
		r := e.doAs(e.token, "GET", "/me", nil, map[string]string{"Intercom-Version": v})
		if r.Status != 200 {
			t.Errorf("version %q: status %d %s", v, r.Status, r.Raw)
		}
	}
	for _, v := range []string{"2.17", "3.0", "1.5", "latest", "2.14x"} {
		e.doAs(e.token, "GET", "/me", nil, map[string]string{"Intercom-Version": v}).fails(t, 400, "intercom_version_invalid")
	}
}

func TestRateLimit(t *testing.T) {
	e := newEnv(t, testdb.SQLite(t), Options{RateLimit: 60}) // 10 calls per 10-second window
	var last *resp
	allowed := 0
	for i := 0; i < 15; i++ {
		last = e.do("GET", "/admins", nil)
		if last.Status == 200 {
			allowed++
		}
		for _, h := range []string{"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"} {
			if last.Header.Get(h) == "" {
				t.Fatalf("missing %s", h)
			}
		}
	}
	// The window may roll over during the loop, so allow one extra window.
	if allowed < 10 || allowed > 20 {
		t.Fatalf("allowed %d calls, want 10 per window", allowed)
	}
	if last.Status != http.StatusTooManyRequests {
		// Try once more in the same window.
		last = e.do("GET", "/admins", nil)
	}
	last.fails(t, 429, "rate_limit_exceeded")
	if last.Header.Get("X-RateLimit-Remaining") != "0" {
		t.Fatalf("remaining = %s on a throttled call", last.Header.Get("X-RateLimit-Remaining"))
	}
	reset, _ := strconv.ParseInt(last.Header.Get("X-RateLimit-Reset"), 10, 64)
	if reset%10 != 0 {
		t.Fatalf("reset %d is not a 10-second window boundary", reset)
	}
	// Another token has its own budget.
	_, _, other := e.newWorkspace("Other")
	if r := e.doAs(other, "GET", "/admins", nil, nil); r.Status != 200 {
		t.Fatalf("other token throttled: %d", r.Status)
	}
}

// TestBadInput: no input yields a 500, and a refused write changes nothing.
func TestBadInput(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		cases := []struct {
			name   string
			method string
			path   string
			body   string
			status int
		}{
			{"malformed", "POST", "/contacts", `{"email": "a@b.c"`, 400},
			{"not an object", "POST", "/contacts", `["a"]`, 400},
			{"wrong type", "POST", "/contacts", `{"email": 5}`, 400},
			{"wrong nested type", "POST", "/contacts", `{"email":"a@b.co","custom_attributes":"x"}`, 400},
			{"unknown field", "POST", "/contacts", `{"email":"a@b.co","favourite_colour":"red"}`, 400},
			{"bad utf8", "POST", "/contacts", "{\"email\":\"a@b.co\",\"name\":\"\xff\xfe\"}", 400},
			{"huge string", "POST", "/contacts", `{"email":"a@b.co","name":"` + strings.Repeat("x", 5000) + `"}`, 400},
			{"huge number", "POST", "/contacts", `{"email":"a@b.co","signed_up_at":1e400}`, 400},
			{"bad email", "POST", "/contacts", `{"email":"not an email"}`, 400},
			{"trailing data", "POST", "/contacts", `{"email":"a@b.co"} {}`, 400},
			{"too large", "POST", "/contacts", `{"email":"a@b.co","name":"` + strings.Repeat("x", 2<<20) + `"}`, 413},
			{"bad role", "POST", "/contacts", `{"role":"admin","email":"a@b.co"}`, 400},
			{"bad owner", "POST", "/contacts", `{"email":"a@b.co","owner_id":999999}`, 400},
			{"bad per_page", "GET", "/contacts?per_page=abc", ``, 400},
			{"bad cursor", "GET", "/contacts?starting_after=not-a-cursor", ``, 400},
			{"unknown path", "GET", "/nothing/here", ``, 404},
		}
		for _, c := range cases {
			r := e.do(c.method, c.path, c.body)
			if r.Status != c.status || r.Body["type"] != "error.list" {
				t.Errorf("%s: status %d, want %d error.list: %.300s", c.name, r.Status, c.status, r.Raw)
			}
		}
		// Nothing was written by any of them.
		list := e.do("GET", "/contacts", nil).ok(t)
		if list["total_count"].(float64) != 0 {
			t.Fatalf("a refused write created contacts: %s", e.do("GET", "/contacts", nil).Raw)
		}
		if topics := e.eventTopics(e.ws.ID); len(topics) != 0 {
			t.Fatalf("refused writes appended events: %v", topics)
		}
	})
}

// TestOverlappingRoutes: external ids that look like sub-resources still
// reach find_by_external_id, and sub-resources of a contact still work.
func TestOverlappingRoutes(t *testing.T) {
	e := newEnv(t, testdb.SQLite(t), Options{})
	c := e.do("POST", "/contacts", map[string]any{"external_id": "tags"}).ok(t)
	if got := e.do("GET", "/contacts/find_by_external_id/tags", nil).ok(t); got["id"] != c["id"] {
		t.Fatalf("find_by_external_id/tags = %v", got)
	}
	if got := e.do("GET", "/contacts/"+str(c["id"])+"/tags", nil).ok(t); got["type"] != "list" {
		t.Fatalf("contact tags = %v", got)
	}
	e.do("GET", "/contacts/find_by_external_id/nobody", nil).fails(t, 404, "not_found")
}
