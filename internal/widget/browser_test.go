package widget_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/coder/websocket"

	"github.com/parleyhq/parley/internal/app"
	"github.com/parleyhq/parley/internal/config"
	"github.com/parleyhq/parley/internal/testdb"
	"github.com/parleyhq/parley/internal/testkit"
)

// The Messenger in a real headless Chromium, on a page of another origin
// than Parley, through a proxy the test can cut: the visitor writes, a
// teammate answers through the REST API, the network goes away and comes
// back while both sides keep writing, and the page reloads. Nothing may be
// lost or shown twice, in the browser or in the API.
func TestMessengerInBrowser(t *testing.T) {
	chromium := testkit.Chromium(t)
	t.Run("sqlite", func(t *testing.T) { messengerScenario(t, chromium, "") })
	t.Run("postgres", func(t *testing.T) { messengerScenario(t, chromium, testdb.FreshPostgres(t)) })
}

// parley runs a whole Parley (app.Serve, as `parley serve` does) and
// returns its address.
func parley(t *testing.T, dbURL, token string) string {
	t.Helper()
	cfg := &config.Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(), DatabaseURL: dbURL, BootstrapToken: token,
		RateLimit: 10000, LogLevel: "warn"}
	ctx, cancel := context.WithCancel(context.Background())
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
		return a
	case err := <-done:
		t.Fatalf("parley: %v", err)
	case <-time.After(60 * time.Second):
		t.Fatal("parley did not start")
	}
	return ""
}

// cutProxy forwards TCP to Parley. Cut closes every connection and refuses
// new ones (the network is gone); Swallow lets requests reach Parley but
// drops its answers (the worst case for a sender: did it arrive?).
type cutProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	mode   string // "pass", "cut", "swallow"
	conns  map[net.Conn]bool
}

func newProxy(t *testing.T, target string) *cutProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{ln: ln, target: target, mode: "pass", conns: map[net.Conn]bool{}}
	go p.serve()
	t.Cleanup(func() { ln.Close(); p.set("cut") })
	return p
}

func (p *cutProxy) url() string { return "http://" + p.ln.Addr().String() }

func (p *cutProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		go p.handle(c)
	}
}

func (p *cutProxy) track(cs ...net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range cs {
		p.conns[c] = true
	}
	return true
}

func (p *cutProxy) handle(c net.Conn) {
	p.mu.Lock()
	mode := p.mode
	p.mu.Unlock()
	if mode == "cut" {
		c.Close()
		return
	}
	up, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	p.track(c, up)
	go func() { _, _ = io.Copy(up, c); up.Close() }()
	if mode == "swallow" {
		// Answers are dropped; the connection ends after a while, as over
		// a lost network.
		time.AfterFunc(1500*time.Millisecond, func() { c.Close(); up.Close() })
		_, _ = io.Copy(io.Discard, up)
		c.Close()
		return
	}
	_, _ = io.Copy(c, up)
	c.Close()
}

func (p *cutProxy) set(mode string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mode = mode
	if mode != "pass" {
		for c := range p.conns {
			c.Close()
		}
		p.conns = map[net.Conn]bool{}
	}
}

// rest calls Parley's REST API as the teammate.
type rest struct {
	t     *testing.T
	base  string
	token string
}

func (r rest) do(method, path string, body any) (int, map[string]any) {
	r.t.Helper()
	var rd io.Reader
	if body != nil {
		j, _ := json.Marshal(body)
		rd = bytes.NewReader(j)
	}
	req, _ := http.NewRequest(method, r.base+path, rd)
	req.Header.Set("Authorization", "Bearer "+r.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	return resp.StatusCode, out
}

func (r rest) ok(method, path string, body any) map[string]any {
	r.t.Helper()
	status, out := r.do(method, path, body)
	if status/100 != 2 {
		r.t.Fatalf("%s %s: %d %v", method, path, status, out)
	}
	return out
}

// partsOf lists the bodies (as text) of a conversation's comments, in order, from the REST API.
func (r rest) partsOf(id string) []string {
	r.t.Helper()
	c := r.ok("GET", "/conversations/"+id, nil)
	var out []string
	if src, ok := c["source"].(map[string]any); ok {
		out = append(out, textOf(src["body"]))
	}
	parts, _ := c["conversation_parts"].(map[string]any)
	list, _ := parts["conversation_parts"].([]any)
	for _, p := range list {
		p := p.(map[string]any)
		if p["part_type"] == "comment" {
			out = append(out, textOf(p["body"]))
		}
	}
	return out
}

func textOf(v any) string {
	s, _ := v.(string)
	for strings.Contains(s, "<") {
		i := strings.Index(s, "<")
		j := strings.Index(s[i:], ">")
		if j < 0 {
			break
		}
		s = s[:i] + s[i+j+1:]
	}
	return strings.TrimSpace(s)
}

// The page of a customer's site: hostile CSS, and Intercom's own snippet
// with the calls a site makes before the script has loaded.
const sitePage = `<!doctype html><html><head><title>Shop</title>
<style>
* { font-size: 40px !important; color: red !important; }
div { display: none; }
button { background: rgb(255, 0, 0) !important; border: 9px solid lime !important; }
</style></head><body><h1>Welcome to the shop</h1>
<script>
window.unreadCounts = []; window.shown = 0; window.hidden = 0;
window.intercomSettings = {app_id: "APP_ID", api_base: "API_BASE"};
(function(){var w=window;var ic=w.Intercom;if(typeof ic==="function"){ic('reattach_activator');ic('update',w.intercomSettings);}else{var d=document;var i=function(){i.c(arguments);};i.q=[];i.c=function(args){i.q.push(args);};w.Intercom=i;var l=function(){var s=d.createElement('script');s.type='text/javascript';s.async=true;s.src='SCRIPT_URL';var x=d.getElementsByTagName('script')[0];x.parentNode.insertBefore(s,x);};if(document.readyState==='complete'){l();}else if(w.attachEvent){w.attachEvent('onload',l);}else{w.addEventListener('load',l,false);}}})();
Intercom('boot', window.intercomSettings);
Intercom('update', {name: 'Ada Lovelace'});
Intercom('onUnreadCountChange', function (n) { window.unreadCounts.push(n); });
Intercom('onShow', function () { window.shown++; });
Intercom('onHide', function () { window.hidden++; });
</script></body></html>`

// root is the Messenger's shadow root, for expressions run in the page.
const root = `document.querySelector('#parley-messenger').shadowRoot`

type domPart struct {
	ID   string `json:"id"`
	Text string `json:"text"`
}

func messengerScenario(t *testing.T, chromium, dbURL string) {
	token := "bootstrap-token-widget-0123456789"
	addr := parley(t, dbURL, token)
	api := rest{t: t, base: "http://" + addr, token: token}
	me := api.ok("GET", "/me", nil)
	appID := me["app"].(map[string]any)["id_code"].(string)
	adminID := me["id"].(string)
	proxy := newProxy(t, addr)
	// The workspace's look: the Messenger must follow it.
	api.ok("PUT", "/messenger/settings", map[string]any{"app_name": "Acme Shop", "color": "#112233", "secondary_color": "#fafafa",
		"alignment": "left", "horizontal_padding": 30, "greeting": "Hello from Acme", "reply_time": "a few hours"})

	// The site is on another origin (another host name and port).
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		page := strings.NewReplacer("APP_ID", appID, "API_BASE", proxy.url(), "SCRIPT_URL", proxy.url()+"/widget/"+appID).Replace(sitePage)
		if r.URL.Query().Has("from_script_url") {
			// Neither app_id nor api_base: the widget takes both from the
			// URL it was loaded from (…/widget/{app_id}).
			page = strings.Replace(page, `{app_id: "`+appID+`", api_base: "`+proxy.url()+`"}`, "{}", 1)
		}
		io.WriteString(w, page)
	}))
	defer site.Close()
	siteURL := strings.Replace(site.URL, "127.0.0.1", "localhost", 1)

	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.WindowSize(1200, 900))...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(allocCtx)
	defer cancel()
	ctx, cancelTimeout := context.WithTimeout(ctx, 4*time.Minute)
	defer cancelTimeout()
	// Start the browser and its tab first: the console listener and the
	// first action must not both start them.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatal(err)
	}
	consoleDone := make(chan struct{})
	go func() {
		defer close(consoleDone)
		for m, err := range chromedp.Console(ctx) {
			if err != nil {
				return
			}
			t.Logf("browser console: %s", m)
		}
	}()
	defer func() { cancelTimeout(); <-consoleDone }()
	if err := chromedp.Do(ctx, chromedp.Navigate(siteURL)); err != nil {
		t.Fatal(err)
	}

	tab1 := &tab{t: t, ctx: ctx}
	eval, evalInto, waitFor, keys := tab1.eval, tab1.evalInto, tab1.waitFor, tab1.keys
	hasPart := func(text string) string {
		return `[...` + root + `.querySelectorAll('.m[data-part-id] .tx')].some(e => e.textContent.trim() === ` + jsString(text) + `)`
	}

	// The teammate's live view: typing and read receipts of the visitor arrive here.
	teammate := teammateSocket(t, addr, token)

	// The snippet's queued calls ran: booted, and the visitor has an id the
	// Visitors API knows.
	waitFor("boot", `window.Intercom.booted === true && window.Parley === window.Intercom`, 20*time.Second)
	var visitorID string
	evalInto(`Intercom('getVisitorId')`, &visitorID)
	if visitorID == "" {
		t.Fatal("getVisitorId is empty after boot")
	}
	if status, v := api.do("GET", "/visitors?user_id="+visitorID, nil); status != 200 || v["user_id"] != visitorID {
		t.Fatalf("GET /visitors?user_id=%s: %d %v", visitorID, status, v)
	}

	// The host page's CSS does not reach into the Messenger.
	var look struct {
		Launcher string `json:"launcher"`
		Display  string `json:"display"`
		Font     string `json:"font"`
	}
	evalInto(`(() => { const r = `+root+`, l = r.querySelector('.l'); return {launcher: getComputedStyle(l).backgroundColor, display: getComputedStyle(l).display, font: getComputedStyle(r.querySelector('.r')).fontSize} })()`, &look)
	if look.Launcher != "rgb(17, 34, 51)" || look.Display == "none" || look.Font != "14px" {
		t.Fatalf("the Messenger does not have the workspace's colour, or the host page's CSS reached it: %+v", look)
	}
	var place struct {
		Left  float64 `json:"left"`
		Width float64 `json:"width"`
	}
	evalInto(`(() => { const b = `+root+`.querySelector('.l').getBoundingClientRect(); return {left: b.left, width: innerWidth} })()`, &place)
	if place.Left != 30 {
		t.Fatalf("launcher at x=%v of %v, want on the left with 30px padding", place.Left, place.Width)
	}
	var header string
	evalInto(root+`.querySelector('.hd').textContent`, &header)
	if !strings.Contains(header, "Acme Shop") || !strings.Contains(header, "Hello from Acme") || !strings.Contains(header, "We usually reply in a few hours") {
		t.Fatalf("header %q lacks the app name, greeting or expected reply time", header)
	}

	// Keyboard only: focus the launcher, Enter opens; focus goes into the
	// window; Enter on "Send us a message" opens the composer.
	eval(root + `.querySelector('.l').focus()`)
	keys(kb.Enter)
	waitFor("the window to open", `!`+root+`.querySelector('.p').hidden && `+root+`.activeElement && `+root+`.activeElement.classList.contains('new') && window.shown === 1`, 5*time.Second)
	keys(kb.Enter)
	waitFor("the composer to have focus", root+`.activeElement && `+root+`.activeElement.tagName === 'TEXTAREA'`, 5*time.Second)
	keys("Hello, is anyone there?")
	keys(kb.Enter)
	waitFor("the first message", hasPart("Hello, is anyone there?")+` && !`+root+`.querySelector('[data-pending]')`, 15*time.Second)

	// The teammate sees it: one conversation, the visitor (now a lead, with
	// the name given by the queued update) wrote it.
	list := api.ok("GET", "/conversations", nil)
	convs, _ := list["conversations"].([]any)
	if len(convs) != 1 {
		t.Fatalf("teammate sees %d conversations: %v", len(convs), list)
	}
	convID := convs[0].(map[string]any)["id"].(string)
	conv := api.ok("GET", "/conversations/"+convID, nil)
	contactRef := conv["contacts"].(map[string]any)["contacts"].([]any)[0].(map[string]any)
	contact := api.ok("GET", "/contacts/"+contactRef["id"].(string), nil)
	if contact["role"] != "lead" || contact["name"] != "Ada Lovelace" {
		t.Fatalf("the visitor's contact: role %v name %v", contact["role"], contact["name"])
	}
	waitForEvent := func(what string, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for !ok() {
			if time.Now().After(deadline) {
				t.Fatalf("waiting for %s", what)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	// The teammate reads it: the visitor sees "Seen" under their message.
	api.ok("POST", "/conversations/"+convID+"/seen", nil)
	waitFor("the teammate's read receipt", root+`.querySelector('.st.seen') !== null`, 10*time.Second)

	// trackEvent records an event of the person (now a lead).
	eval(`Intercom('trackEvent', 'visited-shop', {plan: 'pro'})`)
	waitForEvent("the tracked event to be stored", func() bool {
		ev := api.ok("GET", "/events?type=user&intercom_user_id="+contactRef["id"].(string), nil)
		evs, _ := ev["events"].([]any)
		return len(evs) == 1 && evs[0].(map[string]any)["event_name"] == "visited-shop"
	})

	// The visitor types: the teammate's socket shows it.
	keys("I have a question")
	teammate.expect(t, "the visitor's typing", func(f map[string]any) bool { return f["type"] == "typing" && f["conversation_id"] == convID })
	eval(root + `.querySelector('textarea').value = ''`)

	// A teammate replies through the REST API; the visitor sees it without
	// reloading, and markup that could run script is not kept.
	api.ok("POST", "/conversations/"+convID+"/typing", nil)
	waitFor("the teammate's typing indicator", root+`.querySelector('.ty').textContent.includes('is typing')`, 5*time.Second)
	api.ok("POST", "/conversations/"+convID+"/reply", map[string]any{"message_type": "comment", "type": "admin", "admin_id": adminID,
		"body": `<p>Hi! How can we help?</p><img src="x" onerror="window.pwned=1"><a href="javascript:window.pwned=2">link</a>` +
			`<svg><a href=" JAVASCRIPT:window.pwned=3">x</a></svg><iframe src="javascript:window.pwned=4"></iframe>` +
			`<math><mtext><table><mglyph><style><img src=x onerror="window.pwned=5">`})
	waitFor("the teammate's reply", hasPart("Hi! How can we help?linkx"), 10*time.Second)
	// Messages already shown stay the same elements when more arrive (a live
	// region that only grows: screen readers announce only what is new).
	eval(root + `.querySelector('.m[data-part-id]').kept = true`)
	var pwned bool
	time.Sleep(500 * time.Millisecond) // an onerror would have run by now
	evalInto(`window.pwned !== undefined || !!`+root+`.querySelector('.m [onerror], .m iframe, .m svg, .m math, .m style') || [...`+root+`.querySelectorAll('.m a')].some(a => !/^https?:|^mailto:/.test(a.getAttribute('href') || 'https:'))`, &pwned)
	if pwned {
		t.Fatal("a teammate's HTML ran script in the visitor's page")
	}
	// The visitor was looking: a read receipt reached the teammate.
	teammate.expect(t, "the visitor's read receipt", func(f map[string]any) bool {
		return f["type"] == "event" && f["topic"] == "conversation.contact.seen"
	})

	// Escape closes and gives the focus back to the launcher; a reply now
	// is unread: badge and onUnreadCountChange.
	keys(kb.Escape)
	waitFor("the window to close", root+`.querySelector('.p').hidden && `+root+`.activeElement === `+root+`.querySelector('.l') && window.hidden === 1`, 5*time.Second)
	api.ok("POST", "/conversations/"+convID+"/reply", map[string]any{"message_type": "comment", "type": "admin", "admin_id": adminID, "body": "Are you still there?"})
	waitFor("the unread badge", root+`.querySelector('.b').textContent === '1' && !`+root+`.querySelector('.b').hidden && window.unreadCounts[window.unreadCounts.length-1] === 1`, 10*time.Second)
	keys(kb.Enter) // the launcher has the focus; the window reopens on the conversation
	waitFor("the unread count back to 0", hasPart("Are you still there?")+` && window.unreadCounts[window.unreadCounts.length-1] === 0 && `+root+`.querySelector('.b').hidden`, 10*time.Second)
	var kept bool
	evalInto(root+`.querySelector('.m[data-part-id]').kept === true`, &kept)
	if !kept {
		t.Fatal("the conversation was redrawn when a message arrived")
	}
	// Back to the list, and into the conversation again.
	eval(root + `.querySelector('.back').click()`)
	waitFor("the conversation in the list", root+`.querySelector('[data-conversation-id="`+convID+`"]') !== null`, 5*time.Second)
	eval(root + `.querySelector('[data-conversation-id="` + convID + `"]').click()`)
	waitFor("the conversation again", hasPart("Are you still there?")+` && `+root+`.activeElement.tagName === 'TEXTAREA'`, 10*time.Second)

	// The network goes away: the proxy refuses everything and the browser
	// believes it is offline. Meanwhile the teammate writes twice and the
	// visitor once.
	proxy.set("cut")
	offline(t, ctx, true)
	waitFor("the offline notice", `!`+root+`.querySelector('.net').hidden`, 10*time.Second)
	api.ok("POST", "/conversations/"+convID+"/reply", map[string]any{"message_type": "comment", "type": "admin", "admin_id": adminID, "body": "First reply while you were away"})
	eval(root + `.querySelector('textarea').focus()`)
	keys("Written while offline")
	keys(kb.Enter)
	waitFor("the message to wait in the outbox", root+`.querySelector('[data-pending]') !== null`, 5*time.Second)
	api.ok("POST", "/conversations/"+convID+"/reply", map[string]any{"message_type": "comment", "type": "admin", "admin_id": adminID, "body": "Second reply while you were away"})
	time.Sleep(2 * time.Second)
	proxy.set("pass")
	offline(t, ctx, false)
	waitFor("the offline notice gone", root+`.querySelector('.net').hidden`, 30*time.Second)
	waitFor("everything after the network came back", hasPart("First reply while you were away")+` && `+hasPart("Second reply while you were away")+` && `+hasPart("Written while offline")+` && !`+root+`.querySelector('[data-pending]')`, 30*time.Second)

	// Worse: the visitor's message reaches Parley but the answer is lost.
	proxy.set("swallow")
	keys("Did this arrive?")
	keys(kb.Enter)
	waitForEvent("the message to reach Parley", func() bool { return slices.Contains(api.partsOf(convID), "Did this arrive?") })
	api.ok("POST", "/conversations/"+convID+"/reply", map[string]any{"message_type": "comment", "type": "admin", "admin_id": adminID, "body": "Yes it did"})
	time.Sleep(3 * time.Second)
	proxy.set("pass")
	waitFor("the lost answer's message and the reply", hasPart("Did this arrive?")+` && `+hasPart("Yes it did")+` && !`+root+`.querySelector('[data-pending]')`, 45*time.Second)

	want := []string{"Hello, is anyone there?", "Hi! How can we help?linkx", "Are you still there?", "First reply while you were away",
		"Written while offline", "Second reply while you were away", "Did this arrive?", "Yes it did"}
	checkOnce := func(when string) {
		t.Helper()
		got := tab1.parts()
		texts := make([]string, len(got))
		ids := map[string]bool{}
		for i, p := range got {
			texts[i] = p.Text
			if ids[p.ID] {
				t.Fatalf("%s: part %s shown twice: %v", when, p.ID, got)
			}
			ids[p.ID] = true
		}
		for _, w := range want {
			if n := count(texts, w); n != 1 {
				t.Fatalf("%s: the Messenger shows %q %d times: %q", when, w, n, texts)
			}
		}
		if len(texts) != len(want) {
			t.Fatalf("%s: the Messenger shows %q, want the %d messages %q", when, texts, len(want), want)
		}
		server := api.partsOf(convID)
		for _, w := range want {
			if n := count(server, w); n != 1 {
				t.Fatalf("%s: the API has %q %d times: %q", when, w, n, server)
			}
		}
		if len(server) != len(want) {
			t.Fatalf("%s: the API has %q, want %q", when, server, want)
		}
	}
	time.Sleep(time.Second) // anything late would show now
	checkOnce("after the network came back")

	// An image, from the visitor: uploaded, sent, shown (from Parley's origin).
	img := filepath.Join(t.TempDir(), "dot.png")
	writePNG(t, img)
	if err := chromedp.Do(ctx, chromedp.SetUploadFiles(chromedp.JSPath(root+`.querySelector('input[type=file]')`), []string{img})); err != nil {
		t.Fatal(err)
	}
	waitFor("the upload", root+`.querySelector('.fl span') && !`+root+`.querySelector('.fl span').textContent.startsWith('Uploading')`, 10*time.Second)
	eval(root + `.querySelector('textarea').focus()`)
	keys(kb.Enter)
	waitFor("the image in the conversation", `[...`+root+`.querySelectorAll('.m[data-part-id] img')].some(i => i.complete && i.naturalWidth === 3)`, 15*time.Second)
	att := api.ok("GET", "/conversations/"+convID, nil)
	if !strings.Contains(fmt.Sprint(att["conversation_parts"]), "dot.png") {
		t.Fatalf("the teammate does not see the attachment: %v", att["conversation_parts"])
	}

	// A message the server refuses for good (too long) is not retried: the
	// visitor is told and gets the text back in the composer.
	long := strings.Repeat("x", 70000)
	eval(root + `.querySelector('textarea').value = ` + jsString(long))
	eval(root + `.querySelector('textarea').focus()`)
	keys(kb.Enter)
	waitFor("the refusal", root+`.querySelector('[role=status].sr').textContent.startsWith('Not sent') && `+root+`.querySelector('textarea').value.length === 70000 && !`+root+`.querySelector('[data-pending]')`, 10*time.Second)
	eval(root + `.querySelector('textarea').value = ''`)

	// A reload keeps the visitor and the conversation.
	if err := chromedp.Do(ctx, chromedp.Reload()); err != nil {
		t.Fatal(err)
	}
	waitFor("boot after reload", `window.Intercom.booted === true`, 20*time.Second)
	var again string
	evalInto(`Intercom('getVisitorId')`, &again)
	if again != visitorID {
		t.Fatalf("visitor id %q after reload, was %q", again, visitorID)
	}
	eval(`Intercom('showConversation', ` + jsString(convID) + `)`)
	waitFor("the conversation after reload", hasPart("Yes it did")+` && `+root+`.querySelectorAll('.m[data-part-id] img').length === 1`, 10*time.Second)
	want = append(want, "") // the image, without text
	checkOnce("after a reload")

	// Two tabs of the same visitor, both offline; one queues a message, both
	// come back at the same moment: it is sent once.
	ctx2, cancel2 := chromedp.NewContext(ctx)
	defer cancel2()
	tab2 := &tab{t: t, ctx: ctx2}
	if err := chromedp.Do(ctx2, chromedp.Navigate(siteURL+"?from_script_url")); err != nil {
		t.Fatal(err)
	}
	tab2.waitFor("boot in the second tab", `window.Intercom.booted === true && Intercom('getVisitorId') === `+jsString(visitorID)+` && Object.keys(window.intercomSettings).length === 0`, 20*time.Second)
	tab2.eval(`Intercom('showConversation', ` + jsString(convID) + `)`)
	tab2.waitFor("the conversation in the second tab", hasPart("Yes it did"), 10*time.Second)
	proxy.set("cut")
	offline(t, ctx, true)
	offline(t, ctx2, true)
	eval(root + `.querySelector('textarea').focus()`)
	keys("Sent from one of two tabs")
	keys(kb.Enter)
	tab2.waitFor("the other tab's queued message", root+`.querySelector('[data-pending]') !== null && JSON.parse(localStorage.getItem('parley:`+appID+`:outbox') || '[]').length === 1`, 5*time.Second)
	proxy.set("pass")
	offline(t, ctx2, false)
	offline(t, ctx, false)
	for i, b := range []*tab{tab1, tab2} {
		b.waitFor(fmt.Sprintf("the message in tab %d", i+1), hasPart("Sent from one of two tabs")+` && !`+root+`.querySelector('[data-pending]')`, 30*time.Second)
	}
	time.Sleep(time.Second)
	want = append(want, "Sent from one of two tabs")
	checkOnce("after two tabs came back")
	if inTab2 := tab2.parts(); len(inTab2) != len(want) {
		t.Fatalf("the second tab shows %d messages, want %d: %v", len(inTab2), len(want), inTab2)
	}

	// The rest of the JavaScript API.
	eval(`Intercom('showNewMessage', 'Prefilled by the page')`)
	waitFor("showNewMessage", `!`+root+`.querySelector('.p').hidden && `+root+`.querySelector('textarea').value === 'Prefilled by the page' && !`+root+`.querySelector('.m[data-part-id]')`, 5*time.Second)
	eval(`Intercom('hide')`)
	waitFor("hide", root+`.querySelector('.p').hidden`, 5*time.Second)
	eval(`Intercom('showMessages')`)
	waitFor("showMessages", `!`+root+`.querySelector('.p').hidden && `+root+`.querySelector('[data-conversation-id="`+convID+`"]') !== null`, 5*time.Second)
	eval(`Intercom('update', {hide_default_launcher: true})`)
	waitFor("the launcher hidden", `getComputedStyle(`+root+`.querySelector('.l')).display === 'none'`, 5*time.Second)
	eval(`Intercom('update', {hide_default_launcher: false})`)
	waitFor("the launcher back", `getComputedStyle(`+root+`.querySelector('.l')).display !== 'none'`, 5*time.Second)
	eval(`Intercom('ready', () => { window.readyRan = true })`)
	waitFor("ready when already booted", `window.readyRan === true`, 5*time.Second)

	// The site logs the visitor in: update with a user_id boots again as that
	// user, and the conversation the visitor started is the user's.
	eval(`Intercom('update', {user_id: 42, email: 'ada@example.com'})`)
	waitFor("the log-in", `window.Intercom.booted === true`, 20*time.Second)
	eval(`Intercom('showMessages')`)
	waitFor("the visitor's conversation in the user's list", root+`.querySelector('[data-conversation-id="`+convID+`"]') !== null`, 10*time.Second)
	owner := api.ok("GET", "/conversations/"+convID, nil)["contacts"].(map[string]any)["contacts"].([]any)[0].(map[string]any)
	if user := api.ok("GET", "/contacts/"+owner["id"].(string), nil); user["role"] != "user" || user["external_id"] != "42" || user["email"] != "ada@example.com" {
		t.Fatalf("after the log-in the conversation belongs to %v (%v, %v, %v)", owner["id"], user["role"], user["external_id"], user["email"])
	}

	// The teammate closes the conversation: the visitor is told, live.
	eval(`Intercom('showConversation', ` + jsString(convID) + `)`)
	api.ok("POST", "/conversations/"+convID+"/parts", map[string]any{"message_type": "close", "type": "admin", "admin_id": adminID})
	waitFor("the closed notice", root+`.querySelector('.st.closed') !== null`, 10*time.Second)

	// shutdown forgets the visitor: the next boot is somebody else.
	eval(`Intercom('shutdown')`)
	if n := eval(`document.querySelectorAll('#parley-messenger').length`); string(n) != "0" {
		t.Fatalf("the Messenger is still on the page after shutdown")
	}
	eval(`Intercom('boot', window.intercomSettings)`)
	waitFor("boot after shutdown", `window.Intercom.booted === true && Intercom('getVisitorId') !== `+jsString(visitorID), 20*time.Second)
}

// tab runs JavaScript and keys in one browser tab.
type tab struct {
	t   *testing.T
	ctx context.Context
}

func (b *tab) eval(expr string) json.RawMessage {
	b.t.Helper()
	raw, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]byte](`(() => { const v = (`+expr+`); return v === undefined ? null : v })()`))
	if err != nil {
		b.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return raw
}

func (b *tab) evalInto(expr string, v any) {
	b.t.Helper()
	if err := json.Unmarshal(b.eval(expr), v); err != nil {
		b.t.Fatalf("evaluate %s: %v", expr, err)
	}
}

func (b *tab) waitFor(what, expr string, timeout time.Duration) {
	b.t.Helper()
	if _, err := chromedp.Run(b.ctx, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(timeout), chromedp.WithPollingInterval(100*time.Millisecond))); err != nil {
		dump := b.eval(`(() => { const h = document.querySelector('#parley-messenger'); return h ? h.shadowRoot.querySelector('.r').innerText : 'no messenger' })()`)
		b.t.Fatalf("waiting for %s (%s): %v\nMessenger shows: %s", what, expr, err, dump)
	}
}

// parts lists the messages the Messenger shows (not the queued ones).
func (b *tab) parts() []domPart {
	b.t.Helper()
	var ps []domPart
	b.evalInto(`[...`+root+`.querySelectorAll('.m[data-part-id]')].map(e => ({id: e.dataset.partId, text: e.querySelector('.tx').textContent.trim()}))`, &ps)
	return ps
}

func (b *tab) keys(s string) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, chromedp.KeyEvent(s)); err != nil {
		b.t.Fatal(err)
	}
}

func count(list []string, s string) int {
	n := 0
	for _, x := range list {
		if x == s {
			n++
		}
	}
	return n
}

func jsString(s string) string {
	j, _ := json.Marshal(s)
	return string(j)
}

// offline makes the browser believe the network is gone (navigator.onLine,
// the offline event) and fail every request, or undoes it.
func offline(t *testing.T, ctx context.Context, off bool) {
	t.Helper()
	if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, network.OverrideNetworkState, network.OverrideNetworkStateParams{Offline: off, DownloadThroughput: -1, UploadThroughput: -1}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{
		MatchedNetworkConditions: []*network.Conditions{{Offline: off, DownloadThroughput: -1, UploadThroughput: -1}},
	}); err != nil {
		t.Fatal(err)
	}
}

func writePNG(t *testing.T, path string) {
	t.Helper()
	m := image.NewRGBA(image.Rect(0, 0, 3, 3))
	for x := range 3 {
		for y := range 3 {
			m.Set(x, y, color.RGBA{0, 87, 255, 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, m); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}

// frames is a teammate's GET /realtime socket.
type frames chan map[string]any

func teammateSocket(t *testing.T, addr, token string) frames {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, "ws://"+addr+"/realtime", &websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer " + token}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.CloseNow() })
	out := make(frames, 1000)
	go func() {
		for {
			_, data, err := ws.Read(context.Background())
			if err != nil {
				return
			}
			var f map[string]any
			_ = json.Unmarshal(data, &f)
			select {
			case out <- f:
			default:
			}
		}
	}()
	return out
}

func (fs frames) expect(t *testing.T, what string, match func(map[string]any) bool) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case f := <-fs:
			if match(f) {
				return
			}
		case <-timeout:
			t.Fatalf("the teammate's socket did not show %s", what)
		}
	}
}
