package web_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/parleyhq/parley/internal/app"
	"github.com/parleyhq/parley/internal/config"
	"github.com/parleyhq/parley/internal/ids"
	"github.com/parleyhq/parley/internal/store"
	"github.com/parleyhq/parley/internal/testdb"
	"github.com/parleyhq/parley/internal/web"
	"github.com/parleyhq/parley/internal/workspace"
)

// env is the web app over a fresh database with one workspace: an owner and
// an agent with passwords, and one access token.
type env struct {
	t     *testing.T
	db    *store.DB
	url   string
	ws    *workspace.Workspace
	owner *workspace.Admin
	agent *workspace.Admin
	token *workspace.Token
	mu    sync.Mutex
	now   time.Time
}

const password = "correct horse battery"

func newEnv(t *testing.T, db *store.DB, opts web.Options) *env {
	t.Helper()
	e := &env{t: t, db: db, now: time.Now()}
	opts.Now = e.clock
	e.ws, e.owner, e.agent = e.workspace("Acme")
	tok, err := store.NewWorkspaces(db).CreateToken(context.Background(), e.ws.ID, e.owner.ID, "Zapier", ids.HashToken("tok_"+ids.Secret(16)))
	if err != nil {
		t.Fatal(err)
	}
	e.token = tok
	mux := http.NewServeMux()
	web.New(db, opts).Routes(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	e.url = srv.URL
	return e
}

func (e *env) clock() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.now
}

func (e *env) advance(d time.Duration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.now = e.now.Add(d)
}

// workspace creates a workspace with an owner and an agent, both with
// password.
func (e *env) workspace(name string) (*workspace.Workspace, *workspace.Admin, *workspace.Admin) {
	e.t.Helper()
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		e.t.Fatal(err)
	}
	domain := strings.ToLower(name) + ".test"
	owner := &workspace.Admin{Name: name + " Owner", Email: "owner@" + domain, PasswordHash: string(hash)}
	ws, err := store.NewWorkspaces(e.db).CreateWorkspace(context.Background(), name, owner)
	if err != nil {
		e.t.Fatal(err)
	}
	agent := &workspace.Admin{WorkspaceID: ws.ID, Name: name + " Agent", Email: "agent@" + domain, PasswordHash: string(hash), Role: workspace.RoleAgent}
	err = e.db.InTx(context.Background(), func(tx *store.Tx) error {
		return tx.QueryRow(context.Background(), `INSERT INTO admins (workspace_id, name, email, password_hash, role, created_at) VALUES (?, ?, ?, ?, 'agent', ?) RETURNING id`,
			ws.ID, agent.Name, agent.Email, agent.PasswordHash, time.Now().Unix()).Scan(&agent.ID)
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return ws, owner, agent
}

// browser is one visitor with its own cookies; redirects are not followed
// so tests see them.
type browser struct {
	e      *env
	client *http.Client
	ip     string
}

func (e *env) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{e: e, client: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

type page struct {
	status   int
	location string
	body     string
	header   http.Header
}

func (b *browser) do(method, path string, form url.Values) page {
	b.e.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.e.url+path, body)
	if err != nil {
		b.e.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	return b.roundTrip(req)
}

// roundTrip sends req with the browser's cookies and reads the answer.
func (b *browser) roundTrip(req *http.Request) page {
	b.e.t.Helper()
	resp, err := b.client.Do(req)
	if err != nil {
		b.e.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return page{status: resp.StatusCode, location: resp.Header.Get("Location"), body: string(raw), header: resp.Header}
}

func (b *browser) get(path string) page { return b.do(http.MethodGet, path, nil) }

var csrfRe = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf is the CSRF token of the form on the page at path.
func (b *browser) csrf(path string) string {
	b.e.t.Helper()
	p := b.get(path)
	m := csrfRe.FindStringSubmatch(p.body)
	if m == nil {
		b.e.t.Fatalf("no CSRF token on %s (%d): %s", path, p.status, p.body)
	}
	return m[1]
}

// signin fills in the sign-in form.
func (b *browser) signin(email, pw string) page {
	b.e.t.Helper()
	return b.do(http.MethodPost, "/signin", url.Values{"csrf": {b.csrf("/signin")}, "email": {email}, "password": {pw}})
}

func (b *browser) mustSignin(email string) {
	b.e.t.Helper()
	b.mustSigninWith(email, password)
}

func (b *browser) sessionCookie() *http.Cookie {
	u, _ := url.Parse(b.e.url)
	for _, c := range b.client.Jar.Cookies(u) {
		if c.Name == "parley_session" {
			return c
		}
	}
	return nil
}

func want(t *testing.T, p page, status int, texts ...string) {
	t.Helper()
	for _, text := range texts {
		if p.status != status || !strings.Contains(p.body, text) {
			t.Fatalf("want %d with %q, got %d (Location %q): %s", status, text, p.status, p.location, p.body)
		}
	}
}

func TestSignIn(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, web.Options{})
		b := e.browser()
		// Signed out, the app sends you to the sign-in page.
		if p := b.get("/app/inbox"); p.status != http.StatusSeeOther || p.location != "/signin" {
			t.Fatalf("signed-out inbox: %d %q", p.status, p.location)
		}
		want(t, b.signin(e.owner.Email, "wrong password"), http.StatusUnauthorized, "do not match")
		want(t, b.signin("nobody@acme.test", password), http.StatusUnauthorized, "do not match")
		want(t, b.signin("", ""), http.StatusBadRequest, "Enter your email and password")
		if b.sessionCookie() != nil {
			t.Fatal("a failed sign-in set a session cookie")
		}
		// The email is matched case-insensitively, as people type it.
		p := b.signin(strings.ToUpper(e.owner.Email), password)
		if p.status != http.StatusSeeOther || p.location != "/app/inbox" {
			t.Fatalf("sign in: %d %q %s", p.status, p.location, p.body)
		}
		set := strings.Join(p.header.Values("Set-Cookie"), "\n")
		if !strings.Contains(set, "parley_session=") || !strings.Contains(set, "HttpOnly") || !strings.Contains(set, "SameSite=Lax") || strings.Contains(set, "Secure") {
			t.Fatalf("session cookie attributes: %s", set)
		}
		want(t, b.get("/app/inbox"), http.StatusOK, "Your inbox")
		want(t, b.get("/app/contacts"), http.StatusOK, "Contacts")
		want(t, b.get("/signin"), http.StatusSeeOther, "") // already signed in
		// Only the hash of the cookie is stored.
		var n int
		c := b.sessionCookie()
		if err := db.Read().QueryRow(context.Background(), `SELECT COUNT(*) FROM web_sessions WHERE token_hash = ? AND admin_id = ?`, ids.HashToken(c.Value), e.owner.ID).Scan(&n); err != nil || n != 1 {
			t.Fatalf("stored session by hash: %d %v", n, err)
		}
		if err := db.Read().QueryRow(context.Background(), `SELECT COUNT(*) FROM web_sessions WHERE token_hash = ?`, c.Value).Scan(&n); err != nil || n != 0 {
			t.Fatalf("cookie value stored in clear: %d %v", n, err)
		}
	})
}

func TestSecureCookieOverHTTPS(t *testing.T) {
	e := newEnv(t, testdb.SQLite(t), web.Options{Secure: true})
	b := e.browser()
	p := b.get("/signin")
	if set := strings.Join(p.header.Values("Set-Cookie"), "\n"); !strings.Contains(set, "Secure") {
		t.Fatalf("sign-in form cookie not Secure: %s", set)
	}
	// Over plain http the test's cookie jar would not send Secure cookies
	// back, so post the form by hand with the token.
	tok := csrfRe.FindStringSubmatch(p.body)[1]
	req, _ := http.NewRequest(http.MethodPost, e.url+"/signin", strings.NewReader(url.Values{"csrf": {tok}, "email": {e.owner.Email}, "password": {password}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(&http.Cookie{Name: "parley_signin", Value: tok})
	resp, err := b.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	set := strings.Join(resp.Header.Values("Set-Cookie"), "\n")
	if resp.StatusCode != http.StatusSeeOther || !regexp.MustCompile(`parley_session=[^;]+;[^\n]*Secure`).MatchString(set) {
		t.Fatalf("https sign-in: %d %s", resp.StatusCode, set)
	}
}

func TestSignInThrottled(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, web.Options{})
		b := e.browser()
		for i := 0; i < 5; i++ {
			want(t, b.signin(e.owner.Email, "guess"), http.StatusUnauthorized, "do not match")
		}
		// Locked: even the right password is refused, with a readable reason.
		want(t, b.signin(e.owner.Email, password), http.StatusTooManyRequests, "Too many failed sign-ins")
		if b.sessionCookie() != nil {
			t.Fatal("signed in while locked")
		}
		e.advance(16 * time.Minute)
		b.mustSignin(e.owner.Email)
	})
}

func TestSignInThrottledPerAddress(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, web.Options{MaxFailures: 3, FailureWindow: time.Minute})
		b := e.browser()
		// Spraying different emails from one address locks the address.
		for _, email := range []string{"a@x.test", "b@x.test", "c@x.test"} {
			want(t, b.signin(email, "guess"), http.StatusUnauthorized, "do not match")
		}
		want(t, b.signin(e.agent.Email, password), http.StatusTooManyRequests, "Try again in a minute")
		e.advance(61 * time.Second)
		b.mustSignin(e.agent.Email)
	})
}

func TestSessionExpiresAndSignOut(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, web.Options{SessionTTL: time.Hour})
		b := e.browser()
		b.mustSignin(e.owner.Email)
		e.advance(59 * time.Minute)
		want(t, b.get("/app/inbox"), http.StatusOK, "Inbox")
		e.advance(2 * time.Minute)
		if p := b.get("/app/inbox"); p.status != http.StatusSeeOther || p.location != "/signin" {
			t.Fatalf("expired session still works: %d %q", p.status, p.location)
		}

		// Sign out deletes the session: the old cookie no longer works.
		b = e.browser()
		b.mustSignin(e.owner.Email)
		old := b.sessionCookie()
		p := b.do(http.MethodPost, "/signout", url.Values{"csrf": {b.csrf("/app/inbox")}})
		if p.status != http.StatusSeeOther || p.location != "/signin" {
			t.Fatalf("sign out: %d %q %s", p.status, p.location, p.body)
		}
		var n int
		if err := db.Read().QueryRow(context.Background(), `SELECT COUNT(*) FROM web_sessions WHERE token_hash = ?`, ids.HashToken(old.Value)).Scan(&n); err != nil || n != 0 {
			t.Fatalf("session row after sign out: %d %v", n, err)
		}
		replay := e.browser()
		u, _ := url.Parse(e.url)
		replay.client.Jar.SetCookies(u, []*http.Cookie{{Name: old.Name, Value: old.Value, Path: "/"}})
		if p := replay.get("/app/inbox"); p.status != http.StatusSeeOther || p.location != "/signin" {
			t.Fatalf("signed-out cookie still works: %d %q", p.status, p.location)
		}
	})
}

func TestCSRFRefused(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, web.Options{})
		b := e.browser()
		b.mustSignin(e.owner.Email)
		other := e.browser()
		other.mustSignin(e.agent.Email)
		otherToken := other.csrf("/app/profile")

		for _, form := range []url.Values{
			{"name": {"Mallory"}},                                    // missing
			{"name": {"Mallory"}, "csrf": {otherToken}},              // another session's
			{"name": {"Mallory"}, "csrf": {strings.Repeat("0", 64)}}, // made up
		} {
			want(t, b.do(http.MethodPost, "/app/profile", form), http.StatusForbidden, "Form expired")
		}
		want(t, b.do(http.MethodPost, "/signout", url.Values{}), http.StatusForbidden, "Form expired")
		want(t, b.get("/app/profile"), http.StatusOK, `value="Acme Owner"`) // still signed in, name unchanged
		a, err := store.NewWorkspaces(db).Admin(context.Background(), e.ws.ID, e.owner.ID)
		if err != nil || a.Name != "Acme Owner" {
			t.Fatalf("forged post changed the name: %v %v", a, err)
		}

		// The sign-in form is protected too (login CSRF): a post without the
		// form's cookie is refused.
		fresh := e.browser()
		want(t, fresh.do(http.MethodPost, "/signin", url.Values{"csrf": {"x"}, "email": {e.owner.Email}, "password": {password}}), http.StatusForbidden, "did not come from this Parley page")
		if fresh.sessionCookie() != nil {
			t.Fatal("sign-in without CSRF token set a session")
		}
	})
}

func TestRolesEnforced(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, web.Options{})
		ws := store.NewWebSessions(db)

		agent := e.browser()
		agent.mustSignin(e.agent.Email)
		if p := agent.get("/app/inbox"); p.status != http.StatusOK || strings.Contains(p.body, "/app/settings") {
			t.Fatalf("agent's navigation links to settings: %d %s", p.status, p.body)
		}
		want(t, agent.get("/app/settings"), http.StatusForbidden, "Your role does not give access")
		// A forged post with the agent's own valid CSRF token: still refused,
		// and the token stays live.
		tok := agent.csrf("/app/profile")
		want(t, agent.do(http.MethodPost, "/app/settings/tokens/"+itoa(e.token.ID)+"/revoke", url.Values{"csrf": {tok}}), http.StatusForbidden, "Your role does not give access")
		if live, err := ws.Tokens(context.Background(), e.ws.ID); err != nil || len(live) != 1 {
			t.Fatalf("agent revoked a token: %v %v", live, err)
		}

		owner := e.browser()
		owner.mustSignin(e.owner.Email)
		want(t, owner.get("/app/settings/teammates"), http.StatusOK, "Acme Agent", "agent@acme.test")
		want(t, owner.get("/app/settings/tokens"), http.StatusOK, "Zapier", "Revoke")

		// Another workspace's owner cannot reach this workspace's token.
		_, e2owner, _ := e.workspace("Globex")
		stranger := e.browser()
		stranger.mustSignin(e2owner.Email)
		want(t, stranger.do(http.MethodPost, "/app/settings/tokens/"+itoa(e.token.ID)+"/revoke", url.Values{"csrf": {stranger.csrf("/app/settings")}}), http.StatusNotFound, "no such access token")
		for _, page := range []string{"/app/settings/teammates", "/app/settings/tokens"} {
			if p := stranger.get(page); strings.Contains(p.body, "Zapier") || strings.Contains(p.body, "Acme Agent") {
				t.Fatalf("another workspace's settings show Acme: %s", p.body)
			}
		}

		// The owner revokes it.
		if p := owner.do(http.MethodPost, "/app/settings/tokens/"+itoa(e.token.ID)+"/revoke", url.Values{"csrf": {owner.csrf("/app/settings")}}); p.status != http.StatusSeeOther {
			t.Fatalf("owner revoke: %d %s", p.status, p.body)
		}
		if live, err := ws.Tokens(context.Background(), e.ws.ID); err != nil || len(live) != 0 {
			t.Fatalf("token not revoked: %v %v", live, err)
		}
		want(t, owner.get("/app/settings/tokens"), http.StatusOK, "No access tokens")
	})
}

func TestProfile(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, web.Options{})
		b := e.browser()
		b.mustSignin(e.agent.Email)
		want(t, b.do(http.MethodPost, "/app/profile", url.Values{"csrf": {b.csrf("/app/profile")}, "name": {"  "}}), http.StatusBadRequest, "Enter a name")
		p := b.do(http.MethodPost, "/app/profile", url.Values{"csrf": {b.csrf("/app/profile")}, "name": {"Ada <b>"}, "away": {"on"}, "reassign": {"on"}})
		if p.status != http.StatusSeeOther {
			t.Fatalf("save profile: %d %s", p.status, p.body)
		}
		page := b.get("/app/profile?saved=1")
		want(t, page, http.StatusOK, "Ada &lt;b&gt; (away)")
		a, err := store.NewWorkspaces(db).Admin(context.Background(), e.ws.ID, e.agent.ID)
		if err != nil || a.Name != "Ada <b>" || !a.AwayModeEnabled || !a.AwayModeReassign {
			t.Fatalf("admin after save: %+v %v", a, err)
		}
		var topics []string
		rows, err := db.Read().Query(context.Background(), `SELECT topic FROM event_log WHERE workspace_id = ? ORDER BY seq`, e.ws.ID)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var s string
			_ = rows.Scan(&s)
			topics = append(topics, s)
		}
		rows.Close()
		if got := strings.Join(topics, ","); !strings.Contains(got, "admin.updated") || !strings.Contains(got, "admin.away_mode_updated") {
			t.Fatalf("events: %s", got)
		}
		// Back from away.
		if p := b.do(http.MethodPost, "/app/profile", url.Values{"csrf": {b.csrf("/app/profile")}, "name": {"Ada"}}); p.status != http.StatusSeeOther {
			t.Fatalf("save profile: %d %s", p.status, p.body)
		}
		if a, _ := store.NewWorkspaces(db).Admin(context.Background(), e.ws.ID, e.agent.ID); a.AwayModeEnabled || a.Name != "Ada" {
			t.Fatalf("admin after coming back: %+v", a)
		}
	})
}

// The sign-in details the first start prints work on the sign-in page.
func TestBootstrapPasswordSignsIn(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		var out bytes.Buffer
		cfg := &config.Config{Addr: "127.0.0.1:8080"}
		if _, err := app.Bootstrap(context.Background(), cfg, db, &out); err != nil {
			t.Fatal(err)
		}
		m := regexp.MustCompile(`Sign in at (\S+)\n\s+email:\s+(\S+)\n\s+password:\s+(\S+)`).FindStringSubmatch(out.String())
		if m == nil {
			t.Fatalf("bootstrap output: %s", out.String())
		}
		if !strings.HasSuffix(m[1], "/signin") {
			t.Fatalf("printed sign-in URL %q", m[1])
		}
		mux := http.NewServeMux()
		web.New(db, web.Options{}).Routes(mux)
		srv := httptest.NewServer(mux)
		defer srv.Close()
		e := &env{t: t, db: db, url: srv.URL}
		b := e.browser()
		want(t, b.signin(m[2], m[3]+"x"), http.StatusUnauthorized, "do not match")
		b.mustSigninWith(m[2], m[3])
		want(t, b.get("/app/settings"), http.StatusOK, "Owner")
	})
}

func (b *browser) mustSigninWith(email, pw string) {
	b.e.t.Helper()
	if p := b.signin(email, pw); p.status != http.StatusSeeOther || p.location != "/app/inbox" {
		b.e.t.Fatalf("sign in as %s: %d %s %s", email, p.status, p.location, p.body)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
