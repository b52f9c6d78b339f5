package web_test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"golang.org/x/crypto/bcrypt"

	"github.com/parleyhq/parley/internal/app"
	"github.com/parleyhq/parley/internal/config"
	"github.com/parleyhq/parley/internal/store"
	"github.com/parleyhq/parley/internal/testdb"
	"github.com/parleyhq/parley/internal/testkit"
	"github.com/parleyhq/parley/internal/workspace"
)

// The web app in a real headless Chromium against a whole Parley (app.Serve,
// as `parley serve` runs it): the owner signs in through the form with the
// first-start password, sees the inbox shell and settings, signs out; an
// agent signs in, has no Settings link and is refused settings by URL.
func TestWebAppInBrowser(t *testing.T) {
	chromium := testkit.Chromium(t)
	t.Run("sqlite", func(t *testing.T) { browserScenario(t, chromium, "") })
	t.Run("postgres", func(t *testing.T) { browserScenario(t, chromium, testdb.FreshPostgres(t)) })
}

// serveParley starts a whole Parley whose owner has ownerPassword and adds
// an agent with the same password; each setup runs on the database before
// Parley serves. It returns the base URL.
func serveParley(t *testing.T, dbURL, ownerPassword string, setup ...func(context.Context, *store.DB, *workspace.Workspace) error) string {
	t.Helper()
	cfg := &config.Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(), DatabaseURL: dbURL, AdminEmail: "owner@parley.test",
		AdminPassword: ownerPassword, RateLimit: 10000, LogLevel: "warn"}
	ctx := context.Background()
	// First start's bootstrap, then the agent, before Parley serves.
	db, err := app.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	ws, err := app.Bootstrap(ctx, cfg, db, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	hash, _ := bcrypt.GenerateFromPassword([]byte(ownerPassword), bcrypt.MinCost)
	err = db.InTx(ctx, func(tx *store.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO admins (workspace_id, name, email, password_hash, role, created_at) VALUES (?, 'Alan Agent', 'agent@parley.test', ?, 'agent', ?)`,
			ws.ID, string(hash), time.Now().Unix())
		return err
	})
	for _, f := range setup {
		if err == nil {
			err = f(ctx, db, ws)
		}
	}
	db.Close()
	if err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithCancel(ctx)
	addr := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- app.Serve(ctx, cfg, io.Discard, func(a string) { addr <- a }) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("parley: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("parley did not stop")
		}
	})
	select {
	case a := <-addr:
		return "http://" + a
	case err := <-done:
		t.Fatalf("parley: %v", err)
	case <-time.After(60 * time.Second):
		t.Fatal("parley did not start")
	}
	return ""
}

func browserScenario(t *testing.T, chromium, dbURL string) {
	const pw = "Browser-Test-Password-1"
	base := serveParley(t, dbURL, pw)

	c := newChrome(t, chromium, dbURL)
	do, waitFor, eval, shot := c.do, c.waitFor, c.eval, c.shot
	signin := func(email, password string) {
		t.Helper()
		do(chromedp.Navigate(base+"/signin"), chromedp.WaitVisible(chromedp.CSS("#email")))
		do(chromedp.SendKeys(chromedp.CSS("#email"), email), chromedp.SendKeys(chromedp.CSS("#password"), password),
			chromedp.Click(chromedp.CSS("#signin")))
	}

	// A wrong password: the form says so and stays.
	signin("owner@parley.test", pw+"x")
	waitFor("the sign-in error", `document.querySelector('[role=alert]')?.textContent.includes('do not match') ?? false`)
	shot("signin-error")
	c.a11y("the sign-in page")

	// The owner, with the password of the first start.
	signin("owner@parley.test", pw)
	waitFor("the inbox", `location.pathname === '/app/inbox' && document.querySelector('h1')?.textContent === 'Your inbox'`)
	if nav := eval(`[...document.querySelectorAll('nav[aria-label=Main] a')].map(a => a.textContent).join(',')`); nav != "Inbox,Contacts,Settings" {
		t.Fatalf("owner's navigation: %q", nav)
	}
	shot("inbox")
	c.a11y("the inbox")
	do(chromedp.Click(chromedp.CSS(`nav a[href="/app/settings"]`)))
	waitFor("settings", `location.pathname === '/app/settings' && !!document.querySelector('nav[aria-label=Settings] a[href="/app/settings/teammates"]')`)
	shot("settings")
	c.a11y("settings")
	do(chromedp.Click(chromedp.CSS("#signout")))
	waitFor("the sign-in page after sign out", `location.pathname === '/signin' && !!document.querySelector('#email')`)
	do(chromedp.Navigate(base + "/app/inbox"))
	waitFor("signed out", `location.pathname === '/signin'`)

	// The agent signs in with the keyboard alone: Tab reaches the email
	// field, then the password, and Enter submits.
	do(chromedp.Navigate(base+"/signin"), chromedp.WaitVisible(chromedp.CSS("#email")))
	do(chromedp.KeyEvent(kb.Tab))
	waitFor("focus on email", `document.activeElement?.id === 'email'`)
	do(chromedp.KeyEvent("agent@parley.test"), chromedp.KeyEvent(kb.Tab))
	waitFor("focus on password", `document.activeElement?.id === 'password'`)
	do(chromedp.KeyEvent(pw), chromedp.KeyEvent(kb.Enter))
	// No Settings link, and the URL is refused.
	waitFor("the agent's inbox", `location.pathname === '/app/inbox' && document.querySelector('#me')?.textContent === 'Alan Agent'`)
	if nav := eval(`[...document.querySelectorAll('nav[aria-label=Main] a')].map(a => a.textContent).join(',')`); nav != "Inbox,Contacts" {
		t.Fatalf("agent's navigation: %q", nav)
	}
	do(chromedp.Navigate(base + "/app/settings"))
	waitFor("settings refused", `document.querySelector('h1')?.textContent === 'Not allowed' && !document.body.innerText.includes('agent@parley.test')`)
	shot("agent-refused")
	if strings.Contains(eval(`document.body.innerText`), "Access tokens") {
		t.Fatal("the agent sees the tokens section")
	}

	// A phone-sized window: the shell fits without sideways scrolling.
	do(chromedp.EmulateViewport(375, 740), chromedp.Navigate(base+"/app/profile"))
	waitFor("the profile at 375 px", `location.pathname === '/app/profile' && document.documentElement.scrollWidth <= 375`)
	shot("profile-375")
	c.a11y("the profile at 375 px")
}

// chrome is one headless Chromium tab of a browser test.
type chrome struct {
	t     *testing.T
	ctx   context.Context
	dbURL string
}

func newChrome(t *testing.T, chromium, dbURL string) *chrome {
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.WindowSize(1280, 800))...)
	t.Cleanup(cancelAlloc)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(cancel)
	ctx, cancelTimeout := context.WithTimeout(ctx, 2*time.Minute)
	t.Cleanup(cancelTimeout)
	return &chrome{t: t, ctx: ctx, dbURL: dbURL}
}

func (c *chrome) do(steps ...chromedp.Action[chromedp.Void]) {
	c.t.Helper()
	if err := chromedp.Do(c.ctx, steps...); err != nil {
		c.t.Fatal(err)
	}
}

// waitFor polls a JavaScript condition; a page being replaced by the
// next one in the meantime is not an error.
func (c *chrome) waitFor(what, expr string) {
	c.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		ok, err := chromedp.Run(c.ctx, chromedp.Evaluate[bool](`(() => { try { return !!(`+expr+`) } catch (e) { return false } })()`))
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			body, _ := chromedp.Run(c.ctx, chromedp.Evaluate[string](`location.href + "\n" + document.body.innerText`))
			c.t.Fatalf("waiting for %s: %v\npage: %s", what, err, body)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (c *chrome) eval(expr string) string {
	c.t.Helper()
	v, err := chromedp.Run(c.ctx, chromedp.Evaluate[string](expr))
	if err != nil {
		c.t.Fatal(err)
	}
	return v
}

// a11y fails the test with every accessibility problem of the open page
// (testkit.A11y: labels, Tab reaches every control, visible focus).
func (c *chrome) a11y(page string) {
	c.t.Helper()
	// A filter builder replaces its textarea once its fields arrive.
	c.waitFor("the filter builders of "+page, `!document.querySelector('[data-filter-builder]:not(.fb-on)')`)
	probs, err := testkit.A11y(c.ctx)
	if err != nil {
		c.t.Fatal(err)
	}
	if len(probs) > 0 {
		c.t.Errorf("accessibility of %s:\n  %s", page, strings.Join(probs, "\n  "))
	}
}

// shot saves a screenshot to test-artifacts/web-NAME-DB.png.
func (c *chrome) shot(name string) {
	c.t.Helper()
	// A page still being laid out can measure 0 wide for a moment.
	png, err := chromedp.Run(c.ctx, chromedp.FullScreenshot(100))
	for try := 0; err != nil && strings.Contains(err.Error(), "0 width") && try < 20; try++ {
		time.Sleep(50 * time.Millisecond)
		png, err = chromedp.Run(c.ctx, chromedp.FullScreenshot(100))
	}
	if err != nil {
		c.t.Fatal(err)
	}
	dir := filepath.Join("..", "..", "test-artifacts")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		c.t.Fatal(err)
	}
	db := "sqlite"
	if c.dbURL != "" {
		db = "postgres"
	}
	if err := os.WriteFile(filepath.Join(dir, "web-"+name+"-"+db+".png"), png, 0o644); err != nil {
		c.t.Fatal(err)
	}
}
