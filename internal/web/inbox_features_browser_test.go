package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/parleyhq/parley/internal/store"
	"github.com/parleyhq/parley/internal/testdb"
	"github.com/parleyhq/parley/internal/testkit"
	"github.com/parleyhq/parley/internal/workspace"
)

// The inbox at work, in Chromium against a whole Parley: a visitor writes
// from the Messenger on a customer's page; the conversation appears in the
// open inbox live; the owner opens it, sees the visitor typing and
// reading, replies with the r shortcut and a saved reply, writes a note
// @mentioning the agent — whose open inbox hears of it live and lists it
// under Mentions — assigns, snoozes, reopens and closes with the c
// shortcut; another visitor's photo shows in its thread, and a bulk
// action closes it. Pages pass the accessibility checks and fit 375 px.
func TestInboxFeaturesInBrowser(t *testing.T) {
	chromium := testkit.Chromium(t)
	t.Run("sqlite", func(t *testing.T) { inboxFeaturesScenario(t, chromium, "") })
	t.Run("postgres", func(t *testing.T) { inboxFeaturesScenario(t, chromium, testdb.FreshPostgres(t)) })
}

// messengerVisitor is a visitor of the workspace's Messenger.
type messengerVisitor struct {
	t       *testing.T
	base    string
	session string
}

func (m *messengerVisitor) call(method, path, contentType string, body io.Reader) map[string]any {
	m.t.Helper()
	req, _ := http.NewRequest(method, m.base+"/messenger/v1"+path, body)
	req.Header.Set("Content-Type", contentType)
	if m.session != "" {
		req.Header.Set("Authorization", "Bearer "+m.session)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		m.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	if resp.StatusCode/100 != 2 {
		m.t.Fatalf("%s %s: %d %v", method, path, resp.StatusCode, out)
	}
	return out
}

func (m *messengerVisitor) json(method, path string, body any) map[string]any {
	m.t.Helper()
	raw, _ := json.Marshal(body)
	return m.call(method, path, "application/json", bytes.NewReader(raw))
}

// upload sends a small PNG as the widget does and returns its id.
func (m *messengerVisitor) upload(name string) string {
	m.t.Helper()
	var img, form bytes.Buffer
	pic := image.NewRGBA(image.Rect(0, 0, 40, 40))
	draw.Draw(pic, pic.Bounds(), &image.Uniform{C: color.RGBA{R: 36, G: 80, B: 201, A: 255}}, image.Point{}, draw.Src)
	_ = png.Encode(&img, pic)
	w := multipart.NewWriter(&form)
	fw, _ := w.CreateFormFile("file", name)
	_, _ = fw.Write(img.Bytes())
	_ = w.Close()
	out := m.call(http.MethodPost, "/attachments", w.FormDataContentType(), &form)
	id, _ := out["id"].(string)
	return id
}

// messengerTestPage is a customer's page with Intercom's snippet booting
// the workspace's Messenger.
const messengerTestPage = `<!doctype html><html><head><title>Shop</title></head><body><h1>Shop</h1>
<script>
window.intercomSettings = {app_id: "APP_ID", api_base: "BASE", name: "Ada Visitor"};
(function(){var w=window;var ic=w.Intercom;if(typeof ic==="function"){ic('update',w.intercomSettings);}else{var d=document;var i=function(){i.c(arguments);};i.q=[];i.c=function(args){i.q.push(args);};w.Intercom=i;var l=function(){var s=d.createElement('script');s.async=true;s.src='BASE/widget/APP_ID';d.body.appendChild(s);};if(document.readyState==='complete'){l();}else{w.addEventListener('load',l,false);}}})();
Intercom('boot', window.intercomSettings);
</script></body></html>`

func inboxFeaturesScenario(t *testing.T, chromium, dbURL string) {
	const pw = "Browser-Test-Password-1"
	var wsID string
	base := serveParley(t, dbURL, pw, func(_ context.Context, _ *store.DB, ws *workspace.Workspace) error {
		wsID = ws.ID
		return nil
	})
	c := newChrome(t, chromium, dbURL)
	do, waitFor, eval, shot := c.do, c.waitFor, c.eval, c.shot
	signin := func(c *chrome, email string) {
		t.Helper()
		c.do(chromedp.Navigate(base+"/signin"), chromedp.WaitVisible(chromedp.CSS("#email")))
		c.do(chromedp.SendKeys(chromedp.CSS("#email"), email), chromedp.SendKeys(chromedp.CSS("#password"), pw), chromedp.Click(chromedp.CSS("#signin")))
		c.waitFor("the inbox", `location.pathname === '/app/inbox'`)
	}
	signin(c, "owner@parley.test")

	// The owner writes a saved reply in settings.
	do(chromedp.Navigate(base + "/app/settings/saved-replies"))
	do(chromedp.SendKeys(chromedp.CSS("#reply-name"), "Parcel lost"), chromedp.SendKeys(chromedp.CSS("#reply-body"), "Hi {{first_name}}, a new one is on its way."),
		chromedp.Click(chromedp.CSS("#save-reply")))
	waitFor("the saved reply", `document.querySelector('[role=status]')?.textContent === 'Saved.' && document.querySelector('#saved-replies').textContent.includes('Parcel lost')`)
	shot("saved-replies")
	c.a11y("the saved replies settings")

	do(chromedp.Navigate(base + "/app/inbox?view=unassigned"))
	waitFor("the live socket", `document.body.dataset.live === 'on' && document.querySelectorAll('.row').length === 0`)

	// The agent, in a browser context of their own, has their inbox open.
	actx, cancel := chromedp.NewContext(c.ctx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	agent := &chrome{t: t, ctx: actx, dbURL: dbURL}
	signin(agent, "agent@parley.test")
	agent.waitFor("the agent's live socket", `document.body.dataset.live === 'on'`)

	// A visitor writes from the Messenger on a site's page (another
	// origin), in a browser context of their own, with the keyboard.
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = io.WriteString(w, strings.NewReplacer("APP_ID", wsID, "BASE", base).Replace(messengerTestPage))
	}))
	t.Cleanup(site.Close)
	vctx, vcancel := chromedp.NewContext(c.ctx, chromedp.WithNewBrowserContext())
	t.Cleanup(vcancel)
	visitor := &chrome{t: t, ctx: vctx, dbURL: dbURL}
	const mroot = `document.querySelector('#parley-messenger').shadowRoot`
	visitor.do(chromedp.Navigate(strings.Replace(site.URL, "127.0.0.1", "localhost", 1)))
	visitor.waitFor("the Messenger", `window.Intercom.booted === true && !!`+mroot+`.querySelector('.l')`)
	visitor.do(chromedp.Evaluate[chromedp.Void](mroot + `.querySelector('.l').focus()`))
	visitor.do(chromedp.KeyEvent(kb.Enter))
	visitor.waitFor("the Messenger's window", `!`+mroot+`.querySelector('.p').hidden && `+mroot+`.activeElement?.classList.contains('new')`)
	visitor.do(chromedp.KeyEvent(kb.Enter))
	visitor.waitFor("the Messenger's composer", mroot+`.activeElement?.tagName === 'TEXTAREA'`)
	visitor.do(chromedp.KeyEvent("My parcel never arrived"), chromedp.KeyEvent(kb.Enter))
	waitFor("the visitor's conversation in the inbox, live", `[...document.querySelectorAll('.row')].some(r => r.textContent.includes('My parcel never arrived')) && document.querySelector('[data-count=unassigned]')?.textContent === '1'`)
	convID := eval(`document.querySelector('.row').dataset.id`)
	shot("inbox")
	c.a11y("the inbox")

	// The conversation; the visitor types and the owner sees it.
	do(chromedp.Click(chromedp.CSS(`.row[data-id="` + convID + `"] a`)))
	waitFor("the conversation", `location.pathname === '/app/conversations/`+convID+`' && document.querySelector('#parts').textContent.includes('My parcel never arrived') && document.body.dataset.live === 'on'`)
	visitor.do(chromedp.KeyEvent("Hel"))
	waitFor("the visitor typing", `document.querySelector('#typing').textContent.includes('is typing')`)

	// r: the composer; the saved reply goes in with the contact's first
	// name, then Ctrl+Enter sends it.
	do(chromedp.KeyEvent("r"))
	waitFor("r focuses the composer", `document.activeElement?.id === 'body'`)
	do(chromedp.Click(chromedp.CSS("#insert-saved")))
	waitFor("the saved reply in the composer", `location.search === '' && document.activeElement?.id === 'body' && document.querySelector('#body').value === 'Hi Ada, a new one is on its way.'`)
	do(chromedp.KeyEvent(kb.Enter, chromedp.KeyModifiers(chromedp.ModifierCtrl)))
	waitFor("the reply in the thread", `document.querySelector('#parts .part.admin:not(.note)')?.textContent.includes('Hi Ada, a new one is on its way.')`)
	visitor.waitFor("the reply in the Messenger", mroot+`.querySelector('.p').innerText.includes('Hi Ada, a new one is on its way.')`)
	waitFor("seen by the contact (the Messenger is open), live", `document.querySelector('#seen')?.textContent.includes('Seen by the contact')`)

	// A note mentioning the agent, picked from the names the composer
	// offers after "@".
	do(chromedp.Evaluate[chromedp.Void](`document.activeElement.blur()`))
	do(chromedp.KeyEvent("n"))
	waitFor("n: note mode", `document.activeElement?.id === 'body' && document.querySelector('#composer').classList.contains('note-mode')`)
	do(chromedp.KeyEvent("@ala"))
	waitFor("the composer offers the agent", `document.querySelector('#mention-suggest:not([hidden]) [aria-selected=true]')?.textContent === 'Alan Agent'`)
	do(chromedp.KeyEvent(kb.Enter))
	waitFor("the mention inserted", `document.querySelector('#body').value === '@Alan Agent ' && document.querySelector('#mention-suggest').hidden`)
	do(chromedp.KeyEvent("please check the warehouse"), chromedp.Click(chromedp.CSS("#send-note")))
	waitFor("the note in the thread", `document.querySelector('#parts .part.note')?.textContent.includes('@Alan Agent please check the warehouse')`)
	agent.waitFor("the mention reaches the agent's open inbox", `document.querySelector('#live-note a')?.textContent.includes('mentioned') && document.querySelector('[data-count=mentions]')?.textContent === '1'`)
	agent.do(chromedp.Navigate(base + "/app/inbox?view=mentions"))
	agent.waitFor("the Mentions view", `document.querySelector('.row[data-id="`+convID+`"]')?.textContent.includes('1 unread mention')`)
	agent.shot("mentions")
	agent.a11y("the Mentions view")
	agent.do(chromedp.Click(chromedp.CSS(`.row[data-id="` + convID + `"] a`)))
	agent.waitFor("the note highlighted for the agent", `document.querySelector('.part.note.mentions-me')?.textContent.includes('mentions you')`)

	// Assign to the agent, snooze, then c reopens and c closes.
	agentOpt := eval(`[...document.querySelectorAll('#to option')].find(o => o.textContent === 'Alan Agent').value`)
	do(chromedp.Evaluate[chromedp.Void](`document.querySelector('#to').value = '`+agentOpt+`'`), chromedp.Click(chromedp.CSS("#assign")))
	waitFor("assigned", `document.querySelector('#assignee')?.textContent === 'Alan Agent'`)
	do(chromedp.Click(chromedp.CSS("#snooze")))
	waitFor("snoozed", `document.querySelector('#state')?.textContent === 'snoozed' && !!document.querySelector('#reopen')`)
	do(chromedp.KeyEvent("c"))
	waitFor("c reopens", `document.querySelector('#state')?.textContent === 'open' && !!document.querySelector('#close')`)
	do(chromedp.KeyEvent("?"))
	waitFor("? shows the shortcuts", `document.querySelector('#shortcuts').open`)
	shot("conversation")
	c.a11y("the conversation")
	do(chromedp.KeyEvent(kb.Escape), chromedp.KeyEvent("c"))
	waitFor("c closes", `document.querySelector('#state')?.textContent === 'closed'`)

	// Another visitor writes with a photo (through the Messenger's API, as
	// the widget uploads): the thread shows it; then a bulk action closes
	// the whole open list.
	api := &messengerVisitor{t: t, base: base}
	boot := api.json(http.MethodPost, "/boot", map[string]any{"app_id": wsID, "name": "Bea Visitor"})
	api.session, _ = boot["session_token"].(string)
	photo := api.upload("parcel.png")
	api.json(http.MethodPost, "/conversations", map[string]any{"body": "And my invoice?", "attachments": []string{photo}})
	do(chromedp.Navigate(base + "/app/inbox?view=all"))
	waitFor("the second conversation", `document.querySelector('.row')?.textContent.includes('And my invoice?')`)
	do(chromedp.Click(chromedp.CSS(`.row a`)))
	waitFor("the photo in the thread", `document.querySelector('#parts img[alt="parcel.png"]')?.naturalWidth === 40`)
	do(chromedp.Navigate(base + "/app/inbox?view=all"))
	waitFor("the second conversation", `document.querySelectorAll('.row').length === 1 && document.querySelector('.row').textContent.includes('And my invoice?') && !document.querySelector('.select-all').hidden`)
	do(chromedp.Click(chromedp.CSS("#select-all")), chromedp.Evaluate[chromedp.Void](`document.querySelector('#bulk-action').value = 'close'`), chromedp.Click(chromedp.CSS("#bulk-apply")))
	waitFor("the bulk result", `document.querySelector('#bulk-result')?.textContent.includes('1 conversation changed') && document.querySelectorAll('.row').length === 0`)

	// A phone-sized window: the inbox and the conversation fit.
	do(chromedp.EmulateViewport(375, 740), chromedp.Navigate(base+"/app/inbox?view=all&state=closed"))
	waitFor("the inbox at 375 px", `document.querySelectorAll('.row').length === 2 && document.documentElement.scrollWidth <= 375`)
	shot("inbox-375")
	do(chromedp.Navigate(base + "/app/conversations/" + convID))
	waitFor("the conversation at 375 px", `!!document.querySelector('#parts') && document.documentElement.scrollWidth <= 375`)
	shot("conversation-375")
	// The inbox's JavaScript stays under 100 KB.
	js, _ := strconv.Atoi(eval(`String([...document.scripts].length && performance.getEntriesByType('resource').filter(e => e.name.endsWith('.js')).reduce((n, e) => n + (e.decodedBodySize || 0), 0))`))
	if js == 0 || js >= 100_000 {
		t.Fatalf("the conversation page loads %d bytes of JavaScript, want some and < 100 KB", js)
	}
	do(chromedp.Navigate(base + "/app/settings/saved-replies"))
	waitFor("the saved replies at 375 px", `!!document.querySelector('#saved-replies') && document.documentElement.scrollWidth <= 375`)
}
