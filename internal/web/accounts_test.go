package web_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/parleyhq/parley/internal/api"
	"github.com/parleyhq/parley/internal/store"
	"github.com/parleyhq/parley/internal/testdb"
	"github.com/parleyhq/parley/internal/web"
)

// mailbox is a real SMTP server in-process keeping what it receives.
type mailbox struct {
	mu  sync.Mutex
	got []*mail.Message
	url string
}

func newMailbox(t *testing.T) *mailbox {
	t.Helper()
	m := &mailbox{}
	srv := smtp.NewServer(m)
	srv.Domain = "mx.test"
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close() })
	m.url = "smtp://" + ln.Addr().String()
	return m
}

func (m *mailbox) NewSession(*smtp.Conn) (smtp.Session, error) { return &mailSession{m: m}, nil }

type mailSession struct{ m *mailbox }

func (s *mailSession) Reset()                               {}
func (s *mailSession) Logout() error                        { return nil }
func (s *mailSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s *mailSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (s *mailSession) Data(r io.Reader) error {
	msg, err := mail.ReadMessage(r)
	if err != nil {
		return err
	}
	body, _ := io.ReadAll(msg.Body)
	msg.Body = strings.NewReader(string(body))
	s.m.mu.Lock()
	defer s.m.mu.Unlock()
	s.m.got = append(s.m.got, msg)
	return nil
}

// messages returns the messages received so far for to.
func (m *mailbox) messages(to string) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for _, msg := range m.got {
		if strings.Contains(msg.Header.Get("To"), to) {
			b, _ := io.ReadAll(msg.Body)
			msg.Body = strings.NewReader(string(b))
			out = append(out, msg.Header.Get("Subject")+"\n"+string(b))
		}
	}
	return out
}

var linkRe = regexp.MustCompile(`http://\S+/(invite|reset)/\S+`)

// link returns the path of the only link emailed to to.
func (m *mailbox) link(t *testing.T, to string) string {
	t.Helper()
	msgs := m.messages(to)
	if len(msgs) != 1 {
		t.Fatalf("want 1 email to %s, got %d: %q", to, len(msgs), msgs)
	}
	l := linkRe.FindString(msgs[0])
	if l == "" {
		t.Fatalf("no link in the email: %s", msgs[0])
	}
	u, err := url.Parse(l)
	if err != nil {
		t.Fatal(err)
	}
	return u.Path
}

// post fills in the form on the page at path and posts it there.
func (b *browser) post(path string, form url.Values) page {
	b.e.t.Helper()
	form.Set("csrf", b.csrf(path))
	return b.do(http.MethodPost, path, form)
}

const newPassword = "a brand new password"

func TestInviteAcceptSignIn(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		box := newMailbox(t)
		e := newEnv(t, db, web.Options{SMTPURL: box.url, SMTPFrom: "parley@acme.test"})
		owner := e.browser()
		owner.mustSignin(e.owner.Email)
		want(t, owner.get("/app/settings/teammates"), http.StatusOK, `href="/app/settings/invite"`)
		// Bad input is a readable 400 and invites no one.
		want(t, owner.post("/app/settings/invite", url.Values{"name": {"Sam"}, "email": {"not an email"}, "role": {"agent"}}), http.StatusBadRequest, "valid email")
		want(t, owner.post("/app/settings/invite", url.Values{"name": {"Sam"}, "email": {"sam@acme.test"}, "role": {"owner"}}), http.StatusBadRequest, "admin or agent")
		want(t, owner.post("/app/settings/invite", url.Values{"name": {"Sam"}, "email": {e.agent.Email}, "role": {"agent"}}), http.StatusBadRequest, "already has this email")
		// Without the session's CSRF token nothing is sent.
		want(t, owner.do(http.MethodPost, "/app/settings/invite", url.Values{"name": {"Sam"}, "email": {"sam@acme.test"}, "role": {"agent"}}), http.StatusForbidden, "Form expired")
		if n := len(box.messages("sam@acme.test")); n != 0 {
			t.Fatalf("%d emails before a valid invite", n)
		}
		want(t, owner.post("/app/settings/invite", url.Values{"name": {"Sam Agent"}, "email": {"Sam@Acme.test"}, "role": {"agent"}}), http.StatusOK, "was emailed an invitation")
		msgs := box.messages("sam@acme.test")
		if len(msgs) != 1 || !strings.Contains(msgs[0], "Join Acme on Parley") || !strings.Contains(msgs[0], "Acme Owner invited you") {
			t.Fatalf("invitation email: %q", msgs)
		}
		path := box.link(t, "sam@acme.test")

		// The invited teammate opens the link in a fresh browser.
		sam := e.browser()
		want(t, sam.get(path), http.StatusOK, "Join Acme on Parley")
		want(t, sam.do(http.MethodPost, path, url.Values{"password": {newPassword}, "confirm": {newPassword}}), http.StatusForbidden, "Form expired")
		want(t, sam.post(path, url.Values{"password": {"short"}, "confirm": {"short"}}), http.StatusBadRequest, "at least 10 characters")
		want(t, sam.post(path, url.Values{"password": {newPassword}, "confirm": {newPassword + "x"}}), http.StatusBadRequest, "differ")
		want(t, sam.post(path, url.Values{"password": {newPassword}, "confirm": {newPassword}}), http.StatusOK, "Your account is ready")
		// The link works once.
		want(t, sam.get(path), http.StatusGone, "already been used")
		want(t, sam.get("/invite/nonsense"), http.StatusNotFound, "not valid")

		// admin.created was appended with the new teammate.
		var n int
		if err := db.Read().QueryRow(context.Background(), `SELECT COUNT(*) FROM event_log WHERE workspace_id = ? AND topic = 'admin.created' AND item LIKE '%sam@acme.test%'`, e.ws.ID).Scan(&n); err != nil || n != 1 {
			t.Fatalf("admin.created events: %d %v", n, err)
		}
		// Sam signs in as an agent and is refused settings, by URL and by a
		// forged post with a valid CSRF token.
		p := sam.signin("sam@acme.test", newPassword)
		if p.status != http.StatusSeeOther || p.location != "/app/inbox" {
			t.Fatalf("sign in as invited agent: %d %s", p.status, p.body)
		}
		want(t, sam.get("/app/inbox"), http.StatusOK, "Sam Agent")
		want(t, sam.get("/app/settings"), http.StatusForbidden, "Not allowed")
		want(t, sam.get("/app/settings/invite"), http.StatusForbidden, "Not allowed")
		csrf := sam.csrf("/app/profile")
		want(t, sam.do(http.MethodPost, "/app/settings/invite", url.Values{"csrf": {csrf}, "name": {"X"}, "email": {"x@acme.test"}, "role": {"admin"}}), http.StatusForbidden, "Not allowed")
		if n := len(box.messages("x@acme.test")); n != 0 {
			t.Fatal("an agent's forged invite was sent")
		}
	})
}

func TestInviteExpiresAndWithoutSMTP(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, web.Options{})
		owner := e.browser()
		owner.mustSignin(e.owner.Email)
		p := owner.post("/app/settings/invite", url.Values{"name": {"Kim"}, "email": {"kim@acme.test"}, "role": {"admin"}})
		want(t, p, http.StatusOK, "No outgoing mail server is configured (PARLEY_SMTP_URL)")
		m := regexp.MustCompile(`value="http://[^"]+(/invite/[^"]+)"`).FindStringSubmatch(p.body)
		if m == nil {
			t.Fatalf("no link to copy: %s", p.body)
		}
		kim := e.browser()
		want(t, kim.get(m[1]), http.StatusOK, "Join Acme")
		e.advance(8 * 24 * time.Hour)
		want(t, kim.get(m[1]), http.StatusGone, "expired")
		// No teammate was created from the expired link.
		var n int
		if err := db.Read().QueryRow(context.Background(), `SELECT COUNT(*) FROM admins WHERE email = 'kim@acme.test'`).Scan(&n); err != nil || n != 0 {
			t.Fatalf("expired invitation created an admin: %d %v", n, err)
		}
	})
}

func TestPasswordReset(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		box := newMailbox(t)
		e := newEnv(t, db, web.Options{SMTPURL: box.url})
		// The agent is signed in elsewhere.
		other := e.browser()
		other.mustSignin(e.agent.Email)
		want(t, other.get("/app/inbox"), http.StatusOK, "Acme Agent")

		b := e.browser()
		want(t, b.get("/signin"), http.StatusOK, `href="/reset"`)
		want(t, b.do(http.MethodPost, "/reset", url.Values{"email": {e.agent.Email}}), http.StatusForbidden, "Form expired")
		// Same answer for an unknown email; nothing is sent.
		unknown := b.post("/reset", url.Values{"email": {"nobody@acme.test"}})
		known := b.post("/reset", url.Values{"email": {strings.ToUpper(e.agent.Email)}})
		want(t, unknown, http.StatusOK, "If a teammate has this email")
		want(t, known, http.StatusOK, "If a teammate has this email")
		if unknown.body != known.body {
			t.Fatal("the answer tells whether the email exists")
		}
		if n := len(box.messages("nobody@acme.test")); n != 0 {
			t.Fatal("emailed an unknown address")
		}
		path := box.link(t, e.agent.Email)
		want(t, b.get(path), http.StatusOK, "Choose a new password")
		want(t, b.post(path, url.Values{"password": {newPassword}, "confirm": {"different one"}}), http.StatusBadRequest, "differ")
		want(t, b.post(path, url.Values{"password": {newPassword}, "confirm": {newPassword}}), http.StatusOK, "Password changed")
		want(t, b.get(path), http.StatusGone, "already been used")
		// The other session is signed out; the old password no longer works.
		if p := other.get("/app/inbox"); p.status != http.StatusSeeOther || p.location != "/signin" {
			t.Fatalf("old session still signed in: %d", p.status)
		}
		want(t, b.signin(e.agent.Email, password), http.StatusUnauthorized, "do not match")
		if p := b.signin(e.agent.Email, newPassword); p.status != http.StatusSeeOther {
			t.Fatalf("sign in with new password: %d %s", p.status, p.body)
		}

		// Links expire after an hour.
		c := e.browser()
		c.post("/reset", url.Values{"email": {e.owner.Email}})
		path = box.link(t, e.owner.Email)
		e.advance(61 * time.Minute)
		want(t, c.get(path), http.StatusGone, "expired")
		want(t, c.get("/reset/nonsense"), http.StatusNotFound, "not valid")
	})
}

func TestPasswordResetThrottled(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		box := newMailbox(t)
		e := newEnv(t, db, web.Options{SMTPURL: box.url, MaxFailures: 3})
		b := e.browser()
		for i := 0; i < 3; i++ {
			want(t, b.post("/reset", url.Values{"email": {e.owner.Email}}), http.StatusOK, "If a teammate has this email")
		}
		want(t, b.post("/reset", url.Values{"email": {e.owner.Email}}), http.StatusTooManyRequests, "Too many reset requests")
		if n := len(box.messages(e.owner.Email)); n != 3 {
			t.Fatalf("want 3 emails, got %d", n)
		}
		e.advance(16 * time.Minute)
		want(t, b.post("/reset", url.Values{"email": {e.owner.Email}}), http.StatusOK, "If a teammate has this email")
	})
}

func TestTokenCreateShowOnceRevoke(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, web.Options{})
		apiSrv := httptest.NewServer(api.New(db, api.Options{}, nil))
		t.Cleanup(apiSrv.Close)
		call := func(token string) int {
			req, _ := http.NewRequest(http.MethodGet, apiSrv.URL+"/me", nil)
			req.Header.Set("Authorization", "Bearer "+token)
			req.Header.Set("Accept", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp.StatusCode
		}
		owner := e.browser()
		owner.mustSignin(e.owner.Email)
		want(t, owner.do(http.MethodPost, "/app/settings/tokens", url.Values{"name": {"CI"}}), http.StatusForbidden, "Form expired")
		p := owner.do(http.MethodPost, "/app/settings/tokens", url.Values{"csrf": {owner.csrf("/app/settings")}, "name": {"  "}})
		want(t, p, http.StatusBadRequest, "Give the token a name")
		p = owner.do(http.MethodPost, "/app/settings/tokens", url.Values{"csrf": {owner.csrf("/app/settings")}, "name": {"Deploy bot"}})
		want(t, p, http.StatusOK, "shown only this once")
		m := regexp.MustCompile(`id="token" readonly value="(prl_[^"]+)"`).FindStringSubmatch(p.body)
		if m == nil {
			t.Fatalf("token not shown: %s", p.body)
		}
		token := m[1]
		if code := call(token); code != http.StatusOK {
			t.Fatalf("new token against the API: %d", code)
		}
		// Listed by name, never shown again.
		s := owner.get("/app/settings/tokens")
		want(t, s, http.StatusOK, "Deploy bot")
		if strings.Contains(s.body, token) {
			t.Fatal("settings show the token again")
		}
		var id int64
		if err := db.Read().QueryRow(context.Background(), `SELECT id FROM access_tokens WHERE workspace_id = ? AND name = 'Deploy bot'`, e.ws.ID).Scan(&id); err != nil {
			t.Fatal(err)
		}
		// An agent can neither create nor revoke, even with a valid CSRF token.
		agent := e.browser()
		agent.mustSignin(e.agent.Email)
		csrf := agent.csrf("/app/profile")
		want(t, agent.do(http.MethodPost, "/app/settings/tokens", url.Values{"csrf": {csrf}, "name": {"Mine"}}), http.StatusForbidden, "Not allowed")
		want(t, agent.do(http.MethodPost, "/app/settings/tokens/"+itoa(id)+"/revoke", url.Values{"csrf": {csrf}}), http.StatusForbidden, "Not allowed")
		if err := db.Read().QueryRow(context.Background(), `SELECT COUNT(*) FROM access_tokens WHERE name = 'Mine'`).Scan(&id); err != nil || id != 0 {
			t.Fatalf("agent created a token: %d %v", id, err)
		}
		_ = db.Read().QueryRow(context.Background(), `SELECT id FROM access_tokens WHERE workspace_id = ? AND name = 'Deploy bot'`, e.ws.ID).Scan(&id)
		p = owner.do(http.MethodPost, "/app/settings/tokens/"+itoa(id)+"/revoke", url.Values{"csrf": {owner.csrf("/app/settings")}})
		if p.status != http.StatusSeeOther {
			t.Fatalf("revoke: %d %s", p.status, p.body)
		}
		// The API caches a token's check for up to 10 seconds.
		deadline := time.Now().Add(15 * time.Second)
		for call(token) != http.StatusUnauthorized {
			if time.Now().After(deadline) {
				t.Fatal("revoked token still accepted by the API")
			}
			time.Sleep(500 * time.Millisecond)
		}
	})
}

// TestAccountsIsolatedByWorkspace: an invitation joins only its own
// workspace; a teammate of two workspaces with one email gets one reset
// link per workspace, each changing only that workspace's password.
func TestAccountsIsolatedByWorkspace(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		box := newMailbox(t)
		e := newEnv(t, db, web.Options{SMTPURL: box.url})
		beta, betaOwner, _ := e.workspace("Beta")
		bo := e.browser()
		bo.mustSignin(betaOwner.Email)
		want(t, bo.post("/app/settings/invite", url.Values{"name": {"Lee"}, "email": {"lee@shared.test"}, "role": {"agent"}}), http.StatusOK, "was emailed")
		lee := e.browser()
		want(t, lee.post(box.link(t, "lee@shared.test"), url.Values{"password": {newPassword}, "confirm": {newPassword}}), http.StatusOK, "Your account is ready")
		acme := e.browser()
		acme.mustSignin(e.owner.Email)
		if p := acme.get("/app/settings/teammates"); strings.Contains(p.body, "lee@shared.test") {
			t.Fatal("Acme's settings list Beta's new teammate")
		}
		want(t, bo.get("/app/settings/teammates"), http.StatusOK, "lee@shared.test")

		// Acme invites the same email: a second, separate teammate.
		want(t, acme.post("/app/settings/invite", url.Values{"name": {"Lee at Acme"}, "email": {"lee@shared.test"}, "role": {"admin"}}), http.StatusOK, "was emailed")
		msgs := box.messages("lee@shared.test")
		l := linkRe.FindString(msgs[1])
		u, _ := url.Parse(l)
		want(t, e.browser().post(u.Path, url.Values{"password": {"acme password 1"}, "confirm": {"acme password 1"}}), http.StatusOK, "Your account is ready")

		// Beta's owner cannot revoke Acme's token.
		p := bo.do(http.MethodPost, "/app/settings/tokens/"+itoa(e.token.ID)+"/revoke", url.Values{"csrf": {bo.csrf("/app/settings")}})
		want(t, p, http.StatusNotFound, "no such access token")

		// A reset for the shared email sends one link per workspace.
		r := e.browser()
		r.post("/reset", url.Values{"email": {"lee@shared.test"}})
		msgs = box.messages("lee@shared.test")
		if len(msgs) != 4 || !strings.Contains(msgs[2]+msgs[3], "for Beta") || !strings.Contains(msgs[2]+msgs[3], "for Acme") {
			t.Fatalf("reset emails: %q", msgs)
		}
		var betaLink string
		for _, m := range msgs[2:] {
			if strings.Contains(m, "for Beta") {
				u, _ := url.Parse(linkRe.FindString(m))
				betaLink = u.Path
			}
		}
		want(t, r.post(betaLink, url.Values{"password": {"beta password 2"}, "confirm": {"beta password 2"}}), http.StatusOK, "Password changed")
		var hashes []string
		rows, err := db.Read().Query(context.Background(), `SELECT workspace_id, password_hash FROM admins WHERE email = 'lee@shared.test' ORDER BY id`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var ws, h string
			if err := rows.Scan(&ws, &h); err != nil {
				t.Fatal(err)
			}
			hashes = append(hashes, ws+" "+h)
		}
		rows.Close()
		if len(hashes) != 2 || !strings.HasPrefix(hashes[0], beta.ID) {
			t.Fatalf("admins: %q", hashes)
		}
		// Acme's Lee keeps the Acme password (sign-in tries each workspace:
		// the Acme password signs into Acme, the new one into Beta).
		a := e.browser()
		a.mustSigninWith("lee@shared.test", "acme password 1")
		want(t, a.get("/app/settings"), http.StatusOK, "Lee at Acme")
		b := e.browser()
		b.mustSigninWith("lee@shared.test", "beta password 2")
		want(t, b.get("/app/inbox"), http.StatusOK, "Lee")
		want(t, b.get("/app/settings"), http.StatusForbidden, "Not allowed") // agent in Beta
	})
}
