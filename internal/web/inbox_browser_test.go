package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/parleyhq/parley/internal/ids"
	"github.com/parleyhq/parley/internal/store"
	"github.com/parleyhq/parley/internal/testdb"
	"github.com/parleyhq/parley/internal/workspace"
)

// The inbox in Chromium against a whole Parley: the owner has the inbox
// open; a conversation created through the REST API appears in it without a
// reload (the page's socket); the owner opens it, replies through the
// composer, and the reply is in the API's conversation.
func TestInboxInBrowser(t *testing.T) {
	chromium := chromiumPath(t)
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

	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.WindowSize(1280, 800))...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(allocCtx)
	defer cancel()
	ctx, cancelTimeout := context.WithTimeout(ctx, 2*time.Minute)
	defer cancelTimeout()
	do := func(steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatal(err)
		}
	}
	waitFor := func(what, expr string) {
		t.Helper()
		deadline := time.Now().Add(15 * time.Second)
		for {
			ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => { try { return !!(`+expr+`) } catch (e) { return false } })()`))
			if err == nil && ok {
				return
			}
			if time.Now().After(deadline) {
				body, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href + "\n" + document.body.innerText`))
				t.Fatalf("waiting for %s: %v\npage: %s", what, err, body)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	shot := func(name string) {
		t.Helper()
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		dir := filepath.Join("..", "..", "test-artifacts")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		db := "sqlite"
		if dbURL != "" {
			db = "postgres"
		}
		if err := os.WriteFile(filepath.Join(dir, "web-"+name+"-"+db+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}

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
