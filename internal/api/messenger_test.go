package api

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/parleyhq/parley/internal/messenger"
	"github.com/parleyhq/parley/internal/store"
	"github.com/parleyhq/parley/internal/testdb"
)

// visitor is a Messenger session in tests.
type visitor struct {
	e            *env
	session      string
	visitorToken string
	visitorID    string
	contactID    string
	role         string
	boot         map[string]any
}

// bootM boots the Messenger of workspace ws with body (app_id added).
func (e *env) bootM(ws string, body map[string]any) *resp {
	e.t.Helper()
	if body == nil {
		body = map[string]any{}
	}
	if _, ok := body["app_id"]; !ok {
		body["app_id"] = ws
	}
	return e.doAs("", "POST", "/messenger/v1/boot", body, nil)
}

func (e *env) visitor(body map[string]any) *visitor {
	e.t.Helper()
	return e.visitorOf(e.ws.ID, body)
}

func (e *env) visitorOf(ws string, body map[string]any) *visitor {
	e.t.Helper()
	b := e.bootM(ws, body).ok(e.t)
	c := b["contact"].(map[string]any)
	return &visitor{e: e, session: str(b["session_token"]), visitorToken: str(b["visitor_token"]), visitorID: str(b["visitor_id"]),
		contactID: str(c["id"]), role: str(c["role"]), boot: b}
}

func (v *visitor) do(method, path string, body any) *resp {
	v.e.t.Helper()
	return v.e.doAs(v.session, method, "/messenger/v1"+path, body, nil)
}

func (e *env) countContacts() int {
	e.t.Helper()
	var n int
	if err := e.db.Read().QueryRow(context.Background(), `SELECT count(*) FROM contacts WHERE workspace_id = ?`, e.ws.ID).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

func TestMessengerAnonymousVisitorSurvivesReloadAndIsNoContact(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		v := e.visitor(nil)
		if v.role != "visitor" || v.session == "" || v.visitorToken == "" || v.visitorID == "" || v.contactID == "" {
			t.Fatalf("boot: %+v", v.boot)
		}
		settings := v.boot["settings"].(map[string]any)
		if settings["color"] == "" || settings["alignment"] != "right" || settings["online"] != true || settings["expected_reply"] == "" {
			t.Fatalf("settings %v", settings)
		}
		// A reload: same visitor.
		again := e.visitor(map[string]any{"visitor_token": v.visitorToken})
		if again.visitorID != v.visitorID || again.contactID != v.contactID || again.visitorToken != v.visitorToken {
			t.Fatalf("reload gave another visitor: %+v vs %+v", again.boot, v.boot)
		}
		// An unknown token: a new visitor, not an error.
		other := e.visitor(map[string]any{"visitor_token": "nope"})
		if other.visitorID == v.visitorID {
			t.Fatal("an unknown visitor token reused a visitor")
		}
		// Visitors are not contacts.
		if e.countContacts() != 0 {
			t.Fatal("a visitor was stored as a contact")
		}
		list := e.do("GET", "/contacts", nil).ok(t)
		if list["total_count"] != float64(0) {
			t.Fatalf("contacts list shows visitors: %v", list)
		}
		e.do("GET", "/contacts/"+v.contactID, nil).fails(t, 404, "not_found")
		found := e.do("POST", "/contacts/search", map[string]any{"query": map[string]any{"field": "role", "operator": "!=", "value": "nothing"}}).ok(t)
		if found["total_count"] != float64(0) {
			t.Fatalf("search finds visitors: %v", found)
		}
		// Wrong app, CORS.
		r := e.bootM("nope", nil)
		r.fails(t, 404, "app_not_found")
		if r.Header.Get("Access-Control-Allow-Origin") != "*" {
			t.Fatal("no CORS header on the Messenger")
		}
		pre := e.doAs("", "OPTIONS", "/messenger/v1/conversations", nil, map[string]string{"Origin": "https://shop.example", "Access-Control-Request-Method": "POST"})
		if pre.Status != 204 || !strings.Contains(pre.Header.Get("Access-Control-Allow-Headers"), "Authorization") {
			t.Fatalf("preflight %d %v", pre.Status, pre.Header)
		}
		// No or forged session.
		e.doAs("", "GET", "/messenger/v1/conversations", nil, nil).fails(t, 401, "unauthorized")
		forged := strings.Replace(v.session, "ms1.", "ms1.x", 1)
		e.doAs(forged, "GET", "/messenger/v1/conversations", nil, nil).fails(t, 401, "unauthorized")
		e.doAs(e.token, "GET", "/messenger/v1/conversations", nil, nil).fails(t, 401, "unauthorized")
	})
}

// adminReply answers a conversation through the REST API.
func (e *env) adminReply(id, kind, body string) {
	e.t.Helper()
	e.do("POST", "/conversations/"+id+"/reply", map[string]any{"message_type": kind, "type": "admin", "admin_id": fmt.Sprint(e.owner.ID), "body": body}).ok(e.t)
}

func TestMessengerConversationsAreTheVisitorsOnly(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		a := e.visitor(nil)
		conv := a.do("POST", "/conversations", map[string]any{"body": "Hello, I need help"}).ok(t)
		id := str(conv["id"])
		parts := conv["parts"].([]any)
		if len(parts) != 1 || !strings.Contains(str(parts[0].(map[string]any)["body"]), "Hello, I need help") {
			t.Fatalf("new conversation %v", conv)
		}
		// The visitor became a lead by writing.
		if e.countContacts() != 1 {
			t.Fatal("writing did not make the visitor a lead")
		}
		again := e.visitor(map[string]any{"visitor_token": a.visitorToken})
		if again.role != "lead" {
			t.Fatalf("after writing, boot says role %s", again.role)
		}
		e.adminReply(id, "note", "internal: VIP customer, check billing")
		e.adminReply(id, "comment", "Hi! How can we help?")
		got := a.do("GET", "/conversations/"+id, nil).ok(t)
		raw := fmt.Sprint(got)
		if strings.Contains(raw, "VIP") || strings.Contains(raw, e.owner.Email) {
			t.Fatalf("the visitor sees a note or a teammate's email: %s", raw)
		}
		parts = got["parts"].([]any)
		if len(parts) != 2 || parts[1].(map[string]any)["author"].(map[string]any)["type"] != "admin" {
			t.Fatalf("parts %v", parts)
		}
		list := a.do("GET", "/conversations", nil).ok(t)
		if list["unread_count"] != float64(1) || len(list["conversations"].([]any)) != 1 {
			t.Fatalf("list %v", list)
		}
		seen := a.do("POST", "/conversations/"+id+"/seen", nil).ok(t)
		if seen["contact_seen_at"] == nil {
			t.Fatalf("seen %v", seen)
		}
		if l := a.do("GET", "/conversations", nil).ok(t); l["unread_count"] != float64(0) {
			t.Fatalf("still unread after seen: %v", l)
		}
		a.do("POST", "/conversations/"+id+"/reply", map[string]any{"body": "Thanks"}).ok(t)

		// Another visitor, guessed ids, another workspace: 404, nothing changes.
		b := e.visitor(nil)
		ws2, _, _ := e.newWorkspace("Other")
		c := e.visitorOf(ws2.ID, nil)
		before := len(e.eventTopics(e.ws.ID))
		for _, who := range []*visitor{b, c} {
			who.do("GET", "/conversations/"+id, nil).fails(t, 404, "not_found")
			who.do("POST", "/conversations/"+id+"/reply", map[string]any{"body": "mine now"}).fails(t, 404, "not_found")
			who.do("POST", "/conversations/"+id+"/seen", nil).fails(t, 404, "not_found")
			who.do("POST", "/conversations/"+id+"/typing", nil).fails(t, 404, "not_found")
			who.do("POST", "/conversations/"+id+"/rating", map[string]any{"rating": 5}).fails(t, 404, "not_found")
			if l := who.do("GET", "/conversations", nil).ok(t); len(l["conversations"].([]any)) != 0 {
				t.Fatalf("another visitor lists %v", l)
			}
		}
		for _, guess := range []string{"0", "999999", "-1", "abc", id + "0"} {
			a.do("GET", "/conversations/"+guess, nil).fails(t, 404, "not_found")
		}
		if after := len(e.eventTopics(e.ws.ID)); after != before {
			t.Fatalf("refused requests appended %d events", after-before)
		}
		// A session of the other workspace replayed with this app's
		// conversation: the token's workspace is the only workspace.
		if x := e.visitorOf(ws2.ID, map[string]any{"visitor_token": a.visitorToken}); x.visitorID == a.visitorID || x.role != "visitor" {
			t.Fatalf("a visitor token worked in another workspace: %v", x.boot)
		}
		if l := c.do("GET", "/conversations", nil).ok(t); len(l["conversations"].([]any)) != 0 {
			t.Fatal("cross-workspace leak")
		}
	})
}

func TestMessengerIdentifyMergesTheVisitorsConversations(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		a := e.visitor(nil)
		id := str(a.do("POST", "/conversations", map[string]any{"body": "before signing in"}).ok(t)["id"])
		u := e.visitor(map[string]any{"visitor_token": a.visitorToken, "user_id": "u-42", "email": "ann@example.com", "name": "Ann"})
		if u.role != "user" || u.visitorID != a.visitorID {
			t.Fatalf("identify: %+v", u.boot)
		}
		l := u.do("GET", "/conversations", nil).ok(t)
		if cs := l["conversations"].([]any); len(cs) != 1 || cs[0].(map[string]any)["id"] != id {
			t.Fatalf("the user does not have the visitor's conversation: %v", l)
		}
		rest := e.do("GET", "/conversations/"+id, nil).ok(t)
		contacts := rest["contacts"].(map[string]any)["contacts"].([]any)
		if len(contacts) != 1 || contacts[0].(map[string]any)["id"] != u.contactID {
			t.Fatalf("conversation contacts %v, want the user %s", contacts, u.contactID)
		}
		user := e.do("GET", "/contacts/"+u.contactID, nil).ok(t)
		if user["external_id"] != "u-42" || user["email"] != "ann@example.com" || user["name"] != "Ann" || user["role"] != "user" {
			t.Fatalf("user %v", user)
		}
		// The same user on another device finds it too.
		other := e.visitor(map[string]any{"user_id": "u-42"})
		if other.contactID != u.contactID {
			t.Fatal("the same user_id gave another contact")
		}
		other.do("GET", "/conversations/"+id, nil).ok(t)
		// The visitor token alone (logged out, no shutdown) is not the user.
		anon := e.visitor(map[string]any{"visitor_token": a.visitorToken})
		if anon.role != "visitor" || anon.visitorToken == a.visitorToken {
			t.Fatalf("anonymous boot with a user's visitor token: %+v", anon.boot)
		}
		anon.do("GET", "/conversations/"+id, nil).fails(t, 404, "not_found")
		// The earlier anonymous session no longer acts at all.
		a.do("GET", "/conversations", nil).fails(t, 401, "unauthorized")
	})
}

func TestMessengerIdentityVerification(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		early := e.visitor(map[string]any{"user_id": "early"}) // not enforced yet
		set := e.do("PUT", "/messenger/settings", map[string]any{"identity_verification": map[string]any{"enforced": true}}).ok(t)
		secret := str(set["identity_verification"].(map[string]any)["secret"])
		if len(secret) < 32 {
			t.Fatalf("secret %q", secret)
		}
		early.do("GET", "/conversations", nil).fails(t, 401, "unauthorized") // enforcing ends sessions
		contacts, events := e.countContacts(), len(e.eventTopics(e.ws.ID))
		sign := func(claims jwt.MapClaims, key string) string {
			s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(key))
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
		refused := []map[string]any{
			{"user_id": "u1"},
			{"email": "u1@example.com"},
			{"user_id": "u1", "user_hash": messenger.UserHash("wrong-secret-wrong-secret-wrong!", "u1")},
			{"user_id": "u1", "user_hash": messenger.UserHash(secret, "u2")},
			{"intercom_user_jwt": sign(jwt.MapClaims{"user_id": "u1"}, "another-secret-another-secret-xx")},
			{"intercom_user_jwt": sign(jwt.MapClaims{"user_id": "u1", "exp": time.Now().Add(-time.Minute).Unix()}, secret)},
			{"intercom_user_jwt": sign(jwt.MapClaims{"email": "u1@example.com"}, secret)},
			{"user_id": "u2", "intercom_user_jwt": sign(jwt.MapClaims{"user_id": "u1"}, secret)},
			{"intercom_user_jwt": "not.a.jwt"},
		}
		for i, body := range refused {
			e.bootM(e.ws.ID, body).fails(t, 401, "unauthorized")
			if e.countContacts() != contacts || len(e.eventTopics(e.ws.ID)) != events {
				t.Fatalf("refused boot %d created something", i)
			}
		}
		// Anonymous visitors are still welcome.
		if v := e.visitor(nil); v.role != "visitor" {
			t.Fatal(v.boot)
		}
		byHash := e.visitor(map[string]any{"user_id": "u1", "user_hash": messenger.UserHash(secret, "u1")})
		byEmailHash := e.visitor(map[string]any{"email": "e@example.com", "user_hash": messenger.UserHash(secret, "e@example.com")})
		byJWT := e.visitor(map[string]any{"intercom_user_jwt": sign(jwt.MapClaims{"user_id": "u1", "exp": time.Now().Add(time.Hour).Unix()}, secret)})
		if byHash.role != "user" || byEmailHash.role != "user" || byJWT.contactID != byHash.contactID {
			t.Fatalf("verified boots: %v / %v / %v", byHash.boot, byEmailHash.boot, byJWT.boot)
		}
		// A wrong signature is refused even when not enforced.
		e.do("PUT", "/messenger/settings", map[string]any{"identity_verification": map[string]any{"enforced": false}}).ok(t)
		e.bootM(e.ws.ID, map[string]any{"user_id": "u1", "user_hash": "00"}).fails(t, 401, "unauthorized")
	})
}

func TestMessengerWritableAttributesAndEvents(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		e.do("POST", "/data_attributes", map[string]any{"name": "plan", "model": "contact", "data_type": "string"}).ok(t)
		e.do("POST", "/data_attributes", map[string]any{"name": "shoe_size", "model": "contact", "data_type": "integer", "messenger_writable": true}).ok(t)
		contacts := e.countContacts()
		e.bootM(e.ws.ID, map[string]any{"user_id": "u1", "custom_attributes": map[string]any{"plan": "pro"}}).fails(t, 400, "parameter_invalid")
		e.bootM(e.ws.ID, map[string]any{"user_id": "u1", "custom_attributes": map[string]any{"nope": 1}}).fails(t, 400, "parameter_not_found")
		e.bootM(e.ws.ID, map[string]any{"user_id": "u1", "custom_attributes": map[string]any{"shoe_size": "big"}}).fails(t, 400, "parameter_invalid")
		if e.countContacts() != contacts {
			t.Fatal("a refused boot created a contact")
		}
		u := e.visitor(map[string]any{"user_id": "u1", "custom_attributes": map[string]any{"shoe_size": 42}})
		u.do("POST", "/update", map[string]any{"custom_attributes": map[string]any{"plan": "free"}}).fails(t, 400, "parameter_invalid")
		u.do("POST", "/update", map[string]any{"user_id": "other"}).fails(t, 400, "parameter_invalid")
		u.do("POST", "/update", map[string]any{"name": "Zoe", "custom_attributes": map[string]any{"shoe_size": 43}}).ok(t)
		c := e.do("GET", "/contacts/"+u.contactID, nil).ok(t)
		if c["name"] != "Zoe" || c["custom_attributes"].(map[string]any)["shoe_size"] != float64(43) || c["custom_attributes"].(map[string]any)["plan"] != nil {
			t.Fatalf("contact %v", c)
		}
		// An anonymous visitor who leaves an email becomes a lead.
		v := e.visitor(map[string]any{"name": "Anon"})
		lead := v.do("POST", "/update", map[string]any{"email": "anon@example.com"}).ok(t)["contact"].(map[string]any)
		if lead["role"] != "lead" || lead["email"] != "anon@example.com" {
			t.Fatalf("after leaving an email: %v", lead)
		}
		l := e.do("GET", "/contacts/"+str(lead["id"]), nil).ok(t)
		if l["role"] != "lead" || l["name"] != "Anon" {
			t.Fatalf("lead %v", l)
		}
		// trackEvent.
		u.do("POST", "/events", map[string]any{"event_name": "viewed-pricing", "metadata": map[string]any{"plan": "pro"}}).ok(t)
		u.do("POST", "/events", map[string]any{"metadata": map[string]any{}}).fails(t, 400, "parameter_not_found")
		u.do("POST", "/events", map[string]any{"event_name": "bad", "metadata": map[string]any{"a": 1, "b": 2, "c": 3, "d": 4, "e": 5, "f": 6, "g": 7, "h": 8, "i": 9, "j": 10, "k": 11}}).fails(t, 400, "parameter_invalid")
		if r := v.do("POST", "/events", map[string]any{"event_name": "as-a-lead"}); r.Status != 202 {
			t.Fatalf("lead event: %d %s", r.Status, r.Raw)
		}
		anon := e.visitor(nil)
		if r := anon.do("POST", "/events", map[string]any{"event_name": "anonymous"}); r.Status != 202 {
			t.Fatalf("anonymous event: %d %s", r.Status, r.Raw)
		}
		var stored int
		if err := e.db.Read().QueryRow(context.Background(), `SELECT count(*) FROM data_events WHERE workspace_id = ? AND event_name = 'anonymous'`, e.ws.ID).Scan(&stored); err != nil || stored != 0 {
			t.Fatalf("an anonymous visitor's event was stored (%d, %v)", stored, err)
		}
		evs := e.do("GET", "/events?type=user&intercom_user_id="+u.contactID, nil).ok(t)
		if list := evs["events"].([]any); len(list) != 1 || list[0].(map[string]any)["event_name"] != "viewed-pricing" {
			t.Fatalf("events %v", evs)
		}
		evs = e.do("GET", "/events?type=user&intercom_user_id="+str(lead["id"]), nil).ok(t)
		if list := evs["events"].([]any); len(list) != 1 || list[0].(map[string]any)["event_name"] != "as-a-lead" {
			t.Fatalf("lead events %v", evs)
		}
	})
}

func TestMessengerRating(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		v := e.visitor(nil)
		id := str(v.do("POST", "/conversations", map[string]any{"body": "help"}).ok(t)["id"])
		v.do("POST", "/conversations/"+id+"/rating", map[string]any{"rating": 5}).fails(t, 400, "parameter_invalid")
		e.do("POST", "/conversations/"+id+"/parts", map[string]any{"message_type": "close", "type": "admin", "admin_id": fmt.Sprint(e.owner.ID)}).ok(t)
		v.do("POST", "/conversations/"+id+"/rating", map[string]any{"rating": 6}).fails(t, 400, "parameter_invalid")
		v.do("POST", "/conversations/"+id+"/rating", map[string]any{"remark": "x"}).fails(t, 400, "parameter_not_found")
		got := v.do("POST", "/conversations/"+id+"/rating", map[string]any{"rating": 4, "remark": "Quick and kind"}).ok(t)
		if r := got["rating"].(map[string]any); r["rating"] != float64(4) || r["remark"] != "Quick and kind" {
			t.Fatalf("rating %v", got)
		}
		rest := e.do("GET", "/conversations/"+id, nil).ok(t)
		r := rest["conversation_rating"].(map[string]any)
		if r["rating"] != float64(4) || r["contact"].(map[string]any)["id"] != v.e.mustLead(v) || r["teammate"].(map[string]any)["id"] != fmt.Sprint(e.owner.ID) {
			t.Fatalf("conversation_rating %v", r)
		}
		topics := e.eventTopics(e.ws.ID)
		if topics[len(topics)-1] != "conversation.rating.added" {
			t.Fatalf("topics %v", topics)
		}
	})
}

// mustLead returns the lead an anonymous visitor became.
func (e *env) mustLead(v *visitor) string {
	e.t.Helper()
	b := e.visitor(map[string]any{"visitor_token": v.visitorToken})
	if b.role != "lead" {
		e.t.Fatalf("visitor is a %s", b.role)
	}
	return b.contactID
}

func TestMessengerSettings(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		got := e.do("GET", "/messenger/settings", nil).ok(t)
		if got["type"] != "messenger_settings" || got["app_name"] != "Acme" || got["alignment"] != "right" {
			t.Fatalf("defaults %v", got)
		}
		for field, bad := range map[string]any{"color": "blue", "alignment": "center", "reply_time": "soon", "upload_max_bytes": 0,
			"office_hours": map[string]any{"funday": []any{}}, "nope": 1} {
			e.do("PUT", "/messenger/settings", map[string]any{field: bad}).fails(t, 400, map[bool]string{true: "bad_request", false: "parameter_invalid"}[field == "office_hours"])
		}
		e.do("PUT", "/messenger/settings", map[string]any{"office_hours": map[string]any{"monday": []any{map[string]any{"start": "18:00", "end": "09:00"}}}}).fails(t, 400, "parameter_invalid")
		e.do("PUT", "/messenger/settings", map[string]any{"color": "#112233", "alignment": "left", "greeting": "Hello!"}).ok(t)
		// Closed every day but one interval far from now: offline.
		now := time.Now().UTC()
		day := strings.ToLower(now.Add(12 * time.Hour).Weekday().String())
		at := now.Add(12*time.Hour).Format("15") + ":00"
		end := "23:59"
		if at == "23:00" {
			at, end = "22:00", "23:00"
		}
		e.do("PUT", "/messenger/settings", map[string]any{"office_hours": map[string]any{"time_zone": "UTC", day: []any{map[string]any{"start": at, "end": end}}}}).ok(t)
		s := e.visitor(nil).boot["settings"].(map[string]any)
		if s["color"] != "#112233" || s["alignment"] != "left" || s["greeting"] != "Hello!" {
			t.Fatalf("boot settings %v", s)
		}
		if s["online"] != false || !strings.HasPrefix(str(s["expected_reply"]), "We'll be back") {
			t.Fatalf("outside office hours: %v", s)
		}
		var n int
		if err := e.db.Read().QueryRow(context.Background(), `SELECT count(*) FROM event_log WHERE workspace_id = ? AND topic = 'messenger.settings.updated'`, e.ws.ID).Scan(&n); err != nil || n != 2 {
			t.Fatalf("settings events %d %v", n, err)
		}
		ws2, _, tok2 := e.newWorkspace("Other")
		if other := e.doAs(tok2, "GET", "/messenger/settings", nil, nil).ok(t); other["color"] == "#112233" {
			t.Fatalf("settings leak across workspaces (%s)", ws2.ID)
		}
	})
}

// Messenger calls are rate limited per session (boots per client IP),
// with the API's headers; one visitor over the limit does not stop another.
func TestMessengerRateLimit(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, Options{RateLimit: 30}) // 5 calls per 10-second window
		a := e.visitor(nil)
		b := e.visitor(nil)
		limited := false
		for range 12 {
			r := a.do("GET", "/conversations", nil)
			if r.Header.Get("X-RateLimit-Limit") != "30" {
				t.Fatalf("headers %v", r.Header)
			}
			if r.Status == 429 {
				r.fails(t, 429, "rate_limit_exceeded")
				limited = true
				break
			}
			r.ok(t)
		}
		if !limited {
			t.Fatal("a session was never limited")
		}
		b.do("GET", "/conversations", nil).ok(t)
		boots := 0
		for range 12 {
			if r := e.bootM(e.ws.ID, nil); r.Status == 429 {
				r.fails(t, 429, "rate_limit_exceeded")
				boots = -1
				break
			}
			boots++
		}
		if boots != -1 {
			t.Fatal("boots from one address were never limited")
		}
	})
}

// Merging a lead into a user (POST /contacts/merge) moves its
// conversations: the user takes the lead's place, once, even where both
// took part.
func TestMergeMovesConversations(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		lead := e.do("POST", "/contacts", map[string]any{"role": "lead", "name": "L"}).ok(t)
		user := e.do("POST", "/contacts", map[string]any{"role": "user", "email": "u@example.com"}).ok(t)
		only := e.do("POST", "/conversations", map[string]any{"from": map[string]any{"type": "lead", "id": lead["id"]}, "body": "one"}).ok(t)
		both := e.do("POST", "/conversations", map[string]any{"from": map[string]any{"type": "lead", "id": lead["id"]}, "body": "two"}).ok(t)
		e.do("POST", "/conversations/"+str(both["conversation_id"])+"/customers", map[string]any{"admin_id": fmt.Sprint(e.owner.ID), "customer": map[string]any{"intercom_user_id": user["id"]}}).ok(t)
		e.do("POST", "/contacts/merge", map[string]any{"from": lead["id"], "into": user["id"]}).ok(t)
		for _, c := range []map[string]any{only, both} {
			got := e.do("GET", "/conversations/"+str(c["conversation_id"]), nil).ok(t)
			list := got["contacts"].(map[string]any)["contacts"].([]any)
			if len(list) != 1 || list[0].(map[string]any)["id"] != user["id"] {
				t.Fatalf("conversation %v contacts %v, want only the user", c["conversation_id"], list)
			}
		}
	})
}

// A Messenger conversation starts through the shared "contact starts a
// conversation": assignment rules route it in the creating transaction,
// and the visitor never sees the assignment.
func TestMessengerConversationsAreRouted(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		e.do("POST", "/assignment_rules", map[string]any{"name": "Pricing", "admin_id": e.owner.ID,
			"condition": map[string]any{"field": "source.body", "operator": "~", "value": "pricing"}}).ok(t)
		v := e.visitor(nil)
		id := str(v.do("POST", "/conversations", map[string]any{"body": "A question about pricing"}).ok(t)["id"])
		rest := e.do("GET", "/conversations/"+id, nil).ok(t)
		if rest["admin_assignee_id"] != float64(e.owner.ID) {
			t.Fatalf("not routed: admin_assignee_id %v", rest["admin_assignee_id"])
		}
		parts := v.do("GET", "/conversations/"+id, nil).ok(t)["parts"].([]any)
		if len(parts) != 1 {
			t.Fatalf("the visitor sees the assignment: %v", parts)
		}
	})
}

// TestMessengerIdempotencyKey: a message sent again with the same
// Idempotency-Key (the client lost the first answer) gets the first
// write's result and adds nothing; another visitor's use of the same key is
// its own; a key from another conversation is refused.
func TestMessengerIdempotencyKey(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		a, b := e.visitor(nil), e.visitor(nil)
		send := func(v *visitor, path, body, key string) *resp {
			return e.doAs(v.session, "POST", "/messenger/v1"+path, map[string]any{"body": body}, map[string]string{"Idempotency-Key": key})
		}
		first := send(a, "/conversations", "Hello", "k-start").ok(t)
		id := str(first["id"])
		if again := send(a, "/conversations", "Hello", "k-start").ok(t); str(again["id"]) != id {
			t.Fatalf("a repeated start made conversation %s, first was %s", str(again["id"]), id)
		}
		part := send(a, "/conversations/"+id+"/reply", "Are you there?", "k-reply").ok(t)
		if again := send(a, "/conversations/"+id+"/reply", "Are you there?", "k-reply").ok(t); str(again["id"]) != str(part["id"]) {
			t.Fatalf("a repeated reply answered part %v, first was %v", again["id"], part["id"])
		}
		// The start's key retried as a reply (the client learnt the
		// conversation meanwhile): the opening message, nothing new.
		if again := send(a, "/conversations/"+id+"/reply", "Hello", "k-start").ok(t); !strings.Contains(str(again["body"]), "Hello") {
			t.Fatalf("the start's key as a reply answered %v", again)
		}
		got := a.do("GET", "/conversations/"+id, nil).ok(t)
		if n := len(got["parts"].([]any)); n != 2 {
			t.Fatalf("%d parts after repeats, want 2 (the opening message and one reply)", n)
		}
		// Keys are per contact: b's "k-start" is b's own conversation.
		other := send(b, "/conversations", "Hi from b", "k-start").ok(t)
		if str(other["id"]) == id {
			t.Fatal("another visitor's key answered with a's conversation")
		}
		second := str(send(a, "/conversations", "A new topic", "k-2").ok(t)["id"])
		send(a, "/conversations/"+second+"/reply", "x", "k-reply").fails(t, 409, "conflict")
		send(a, "/conversations/"+id+"/reply", "x", strings.Repeat("k", 101)).fails(t, 400, "parameter_invalid")
		send(a, "/conversations/"+id+"/reply", "x", "has space").fails(t, 400, "parameter_invalid")
		var n int
		if err := e.db.Read().QueryRow(context.Background(), `SELECT count(*) FROM conversation_parts WHERE workspace_id = ? AND conversation_id = ?`, e.ws.ID, id).Scan(&n); err != nil || n != 1 {
			t.Fatalf("%d stored replies in the first conversation (%v), want 1", n, err)
		}
	})
}
