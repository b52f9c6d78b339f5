package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/parleyhq/parley/internal/store"
	"github.com/parleyhq/parley/internal/testdb"
	"github.com/parleyhq/parley/internal/testkit"
	"github.com/parleyhq/parley/internal/workspace"
)

// Settings in Chromium against a whole Parley: the owner sets the
// workspace's time zone, the Messenger's colour and greeting (and the
// Messenger's boot then returns them), creates a team with a member and a
// distribution method, creates a data attribute and archives it, renames a
// tag, makes the agent an admin and withdraws an invitation. Every page
// passes the accessibility check and fits 375 px.
func TestSettingsInBrowser(t *testing.T) {
	chromium := testkit.Chromium(t)
	t.Run("sqlite", func(t *testing.T) { settingsBrowserScenario(t, chromium, "") })
	t.Run("postgres", func(t *testing.T) { settingsBrowserScenario(t, chromium, testdb.FreshPostgres(t)) })
}

func settingsBrowserScenario(t *testing.T, chromium, dbURL string) {
	const pw = "Browser-Test-Password-1"
	var wsID string
	base := serveParley(t, dbURL, pw, func(ctx context.Context, db *store.DB, ws *workspace.Workspace) error {
		wsID = ws.ID
		if _, _, err := store.NewTags(db).Ensure(ctx, ws.ID, "vip"); err != nil {
			return err
		}
		owner, err := store.NewWorkspaces(db).Owner(ctx, ws.ID)
		if err != nil {
			return err
		}
		now := time.Now()
		return store.NewAccounts(db).CreateInvitation(ctx, &store.Invitation{TokenHash: strings.Repeat("ab", 32), WorkspaceID: ws.ID, Name: "Ivy",
			Email: "ivy@parley.test", Role: workspace.RoleAgent, InvitedBy: owner.ID, CreatedAt: now.Unix(), ExpiresAt: now.Add(time.Hour).Unix()})
	})
	c := newChrome(t, chromium, dbURL)
	do, waitFor := c.do, c.waitFor
	do(chromedp.Navigate(base+"/signin"), chromedp.WaitVisible(chromedp.CSS("#email")))
	do(chromedp.SendKeys(chromedp.CSS("#email"), "owner@parley.test"), chromedp.SendKeys(chromedp.CSS("#password"), pw), chromedp.Click(chromedp.CSS("#signin")))
	waitFor("the inbox", `location.pathname === '/app/inbox'`)
	// open loads a settings page through its link in the side navigation.
	open := func(path string) {
		t.Helper()
		do(chromedp.Navigate(base + "/app/settings"))
		waitFor("the hub", `!!document.querySelector('nav[aria-label=Settings]')`)
		do(chromedp.Click(chromedp.CSS(`nav[aria-label=Settings] a[href="` + path + `"]`)))
		waitFor(path, `location.pathname === '`+path+`' && document.querySelector('nav[aria-label=Settings] [aria-current=page]')?.getAttribute('href') === '`+path+`'`)
	}
	saved := func(what string) {
		t.Helper()
		waitFor(what+" saved", `document.querySelector('[role=status]')?.textContent.startsWith('Saved') ?? false`)
	}

	do(chromedp.Navigate(base + "/app/settings"))
	waitFor("the hub", `document.querySelector('h1')?.textContent === 'Settings'`)
	c.a11y("the settings hub")
	c.shot("settings-hub")

	// Workspace: a wrong time zone is refused with a message, a right one saved.
	open("/app/settings/workspace")
	do(chromedp.SetValue(chromedp.CSS("#ws-tz"), "Mars/Olympus"), chromedp.Click(chromedp.CSS("#save-workspace")))
	waitFor("the time zone refusal", `document.querySelector('[role=alert]')?.textContent.includes('is not a time zone') ?? false`)
	do(chromedp.SetValue(chromedp.CSS("#ws-tz"), "America/New_York"), chromedp.Click(chromedp.CSS("#save-workspace")))
	saved("the workspace")
	waitFor("the new time zone", `document.querySelector('#ws-tz').value === 'America/New_York'`)
	c.a11y("workspace settings")
	c.shot("settings-workspace")

	// Messenger: colour and greeting.
	open("/app/settings/messenger")
	do(chromedp.SetValue(chromedp.CSS("#m-color"), "#ff5500"), chromedp.SetValue(chromedp.CSS("#m-greeting"), "Hello from the settings test"),
		chromedp.Click(chromedp.CSS("#save-messenger")))
	saved("the Messenger")
	c.a11y("Messenger settings")
	c.shot("settings-messenger")
	if snippet := c.eval(`document.querySelector('#m-snippet').value`); !strings.Contains(snippet, `app_id: "`+wsID+`"`) || !strings.Contains(snippet, base+"/widget.js") {
		t.Fatalf("install snippet: %q", snippet)
	}
	// The Messenger's boot (what widget.js asks) returns the new settings.
	resp, err := http.Post(base+"/messenger/v1/boot", "application/json", strings.NewReader(`{"app_id":"`+wsID+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	var boot struct {
		Settings struct{ Color, Greeting string } `json:"settings"`
	}
	err = json.NewDecoder(resp.Body).Decode(&boot)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK || boot.Settings.Color != "#ff5500" || boot.Settings.Greeting != "Hello from the settings test" {
		t.Fatalf("boot after saving: %d %+v %v", resp.StatusCode, boot, err)
	}

	// Teams: one with the agent as member, balanced.
	open("/app/settings/teams")
	do(chromedp.SendKeys(chromedp.CSS("#team-name"), "Billing"), chromedp.SetValue(chromedp.CSS("#team-dist"), "balanced"))
	c.eval(`[...document.querySelectorAll('fieldset label')].find(l => l.textContent.includes('Alan Agent')).querySelector('input').click() || ''`)
	do(chromedp.Click(chromedp.CSS("#save-team")))
	saved("the team")
	waitFor("the team listed", `[...document.querySelectorAll('tbody tr')].some(tr => tr.innerText.includes('Billing') && tr.innerText.includes('balanced') && tr.innerText.includes('Alan Agent'))`)
	c.a11y("teams")
	c.shot("settings-teams")
	do(chromedp.Click(chromedp.CSS(`tbody a`)))
	waitFor("the team page", `document.querySelector('h1')?.textContent === 'Team Billing'`)
	c.a11y("a team")
	c.shot("settings-team")

	// Data attributes: create one, archive it.
	open("/app/settings/data-attributes")
	do(chromedp.SendKeys(chromedp.CSS("#attr-name"), "plan"), chromedp.SendKeys(chromedp.CSS("#attr-desc"), "Billing plan"),
		chromedp.Click(chromedp.CSS("#create-attribute")))
	saved("the attribute")
	do(chromedp.Click(chromedp.CSS(`button[aria-label="Archive plan"]`)))
	waitFor("the archived attribute", `!!document.querySelector('button[aria-label="Unarchive plan"]') && document.querySelector('tr.archived')?.innerText.includes('Archived')`)
	c.a11y("data attributes")
	c.shot("settings-data-attributes")

	// Tags: rename vip to gold.
	open("/app/settings/tags")
	do(chromedp.SetValue(chromedp.CSS(`form[action$="/rename"] input[name=name]`), "gold"), chromedp.Click(chromedp.CSS(`button[aria-label="Rename tag vip"]`)))
	saved("the tag")
	waitFor("the renamed tag", `!!document.querySelector('button[aria-label="Rename tag gold"]') && !document.querySelector('button[aria-label="Rename tag vip"]')`)
	c.a11y("tags")
	c.shot("settings-tags")

	// Teammates: the agent becomes an admin; the invitation is withdrawn.
	open("/app/settings/teammates")
	do(chromedp.SetValue(chromedp.CSS(`td select[name=role]`), "admin"), chromedp.Click(chromedp.CSS(`button[aria-label="Change role of Alan Agent"]`)))
	saved("the role")
	waitFor("the new role", `document.querySelector('td select[name=role]').value === 'admin'`)
	waitFor("the pending invitation", `document.body.innerText.includes('ivy@parley.test')`)
	do(chromedp.Click(chromedp.CSS(`button[aria-label="Withdraw the invitation of ivy@parley.test"]`)))
	saved("the withdrawal")
	waitFor("no invitation", `document.body.innerText.includes('No pending invitations') && !document.body.innerText.includes('ivy@parley.test')`)
	c.a11y("teammates")
	c.shot("settings-teammates")

	open("/app/settings/tokens")
	c.a11y("access tokens")
	c.shot("settings-tokens")
	do(chromedp.Navigate(base + "/app/settings/invite"))
	waitFor("the invitation form", `document.querySelector('h1')?.textContent === 'Invite a teammate' && document.querySelector('nav[aria-label=Settings] [aria-current=page]')?.textContent === 'Teammates'`)
	c.a11y("the invitation form")
	c.shot("settings-invite")

	// A phone-sized window: every settings page fits without sideways
	// scrolling.
	do(chromedp.EmulateViewport(375, 740))
	for _, p := range []string{"/app/settings", "/app/settings/workspace", "/app/settings/messenger", "/app/settings/teammates", "/app/settings/teams",
		"/app/settings/data-attributes", "/app/settings/tags", "/app/settings/tokens"} {
		do(chromedp.Navigate(base + p))
		waitFor(p+" at 375 px", `location.pathname === '`+p+`' && !!document.querySelector('nav[aria-label=Settings]') && document.documentElement.scrollWidth <= 375`)
	}
	do(chromedp.Navigate(base + "/app/settings/teammates"))
	waitFor("teammates at 375 px", `document.documentElement.scrollWidth <= 375`)
	c.shot("settings-teammates-375")
}
