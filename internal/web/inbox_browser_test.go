package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/parleyhq/parley/internal/ids"
	"github.com/parleyhq/parley/internal/store"
	"github.com/parleyhq/parley/internal/testdb"
	"github.com/parleyhq/parley/internal/testkit"
	"github.com/parleyhq/parley/internal/workspace"
)

// The inbox in Chromium against a whole Parley: the owner has the inbox
// open; a conversation created through the REST API appears in it without a
// reload (the page's socket); the owner opens it, replies through the
// composer, and the reply is in the API's conversation.
func TestInboxInBrowser(t *testing.T) {
	chromium := testkit.Chromium(t)
	t.Run("sqlite", func(t *testing.T) { inboxBrowserScenario(t, chromium, "") })
	t.Run("postgres", func(t *testing.T) { inboxBrowserScenario(t, chromium, testdb.FreshPostgres(t)) })
}

func inboxBrowserScenario(t *testing.T, chromium, dbURL string) {
	const pw = "Browser-Test-Password-1"
	token := "tok_" + ids.Secret(16)
	base := serveParley(t, dbURL, pw, func(ctx context.Context, db *store.DB, ws *workspace.Workspace) error {
		owner, err := store.NewWorkspaces(db).Owner(ctx, ws.ID)
		if err != nil {
			return err
		}
		_, err = store.NewWorkspaces(db).CreateToken(ctx, ws.ID, owner.ID, "test", ids.HashToken(token))
		return err
	})
	api := func(method, path string, body any) map[string]any {
		t.Helper()
		raw, _ := json.Marshal(body)
		req, _ := http.NewRequest(method, base+path, bytes.NewReader(raw))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s %s: %d %v", method, path, resp.StatusCode, out)
		}
		return out
	}

	c := newChrome(t, chromium, dbURL)
	do, waitFor, shot := c.do, c.waitFor, c.shot

	do(chromedp.Navigate(base+"/signin"), chromedp.WaitVisible(chromedp.CSS("#email")))
	do(chromedp.SendKeys(chromedp.CSS("#email"), "owner@parley.test"), chromedp.SendKeys(chromedp.CSS("#password"), pw),
		chromedp.Click(chromedp.CSS("#signin")))
	waitFor("the inbox", `location.pathname === '/app/inbox'`)
	do(chromedp.Navigate(base + "/app/inbox?view=unassigned"))
	waitFor("the live socket", `document.body.dataset.live === 'on' && document.querySelectorAll('.row').length === 0`)

	// A conversation arrives through the API; the open inbox shows it.
	contact := api(http.MethodPost, "/contacts", map[string]any{"role": "user", "email": "ann@customer.test", "name": "Ann Customer"})
	created := api(http.MethodPost, "/conversations", map[string]any{"from": map[string]any{"type": "user", "id": contact["id"]}, "body": "My parcel never arrived"})
	convID, _ := created["conversation_id"].(string)
	waitFor("the new conversation in the inbox", `document.querySelector('.row[data-id="`+convID+`"]')?.textContent.includes('My parcel never arrived') && document.querySelector('[data-count=unassigned]')?.textContent === '1'`)
	shot("inbox-live")

	// The owner opens it and replies through the composer.
	do(chromedp.Click(chromedp.CSS(`.row[data-id="` + convID + `"] a`)))
	waitFor("the conversation", `location.pathname === '/app/conversations/`+convID+`' && document.querySelector('#parts').textContent.includes('My parcel never arrived')`)
	do(chromedp.SendKeys(chromedp.CSS("#body"), "Sorry! A new one is on its way."), chromedp.Click(chromedp.CSS("#send-reply")))
	waitFor("the reply in the thread", `document.querySelector('#parts .part.admin')?.textContent.includes('A new one is on its way')`)

	// The customer answers through the API; the open conversation shows it live.
	api(http.MethodPost, "/conversations/"+convID+"/reply", map[string]any{"type": "user", "message_type": "comment", "email": "ann@customer.test", "body": "Thank you"})
	waitFor("the customer's answer without reload", `document.body.dataset.live === 'on' && document.querySelector('#parts').textContent.includes('Thank you')`)
	shot("conversation")

	conv := api(http.MethodGet, "/conversations/"+convID, nil)
	raw, _ := json.Marshal(conv["conversation_parts"])
	if !strings.Contains(string(raw), "A new one is on its way") || !strings.Contains(string(raw), `"type":"admin"`) {
		t.Fatalf("the API's conversation lacks the teammate's reply: %s", raw)
	}
}
