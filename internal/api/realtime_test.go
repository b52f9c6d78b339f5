package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/parleyhq/parley/internal/bus"
	"github.com/parleyhq/parley/internal/eventlog"
	"github.com/parleyhq/parley/internal/realtime"
	"github.com/parleyhq/parley/internal/store"
	"github.com/parleyhq/parley/internal/testdb"
)

// rtEnv is an API server with a running hub behind a real HTTP listener,
// wired like app.Serve: commits → in-process bus → hub.
type rtEnv struct {
	*env
	hub *realtime.Hub
	url string // ws://…/realtime
}

func newRealtimeEnv(t *testing.T, db *store.DB, opts realtime.Options) *rtEnv {
	t.Helper()
	if opts.PollInterval == 0 {
		opts.PollInterval = time.Hour // the bus, not the poll, must deliver
	}
	hub := realtime.New(realtime.DBLog{DB: db}, opts)
	b := bus.NewLocal()
	b.Subscribe(hub)
	db.OnCommit(func(last map[string]int64) { b.Publish(bus.FromCommit(last)) })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = hub.Run(ctx) }()
	e := newEnv(t, db, Options{Realtime: hub})
	srv := httptest.NewServer(e.srv)
	t.Cleanup(func() { cancel(); <-done; srv.Close() })
	return &rtEnv{env: e, hub: hub, url: "ws" + strings.TrimPrefix(srv.URL, "http") + "/realtime"}
}

type rtFrame struct {
	Type        string          `json:"type"`
	Seq         int64           `json:"seq"`
	Topic       string          `json:"topic"`
	Item        json.RawMessage `json:"item"`
	After       int64           `json:"after"`
	WorkspaceID string          `json:"workspace_id"`
	// Typing frames (Messenger visitors).
	ConversationID string         `json:"conversation_id"`
	Author         map[string]any `json:"author"`
}

// rtClient reads frames on its own goroutine once started (a read that
// times out would close the WebSocket); until then it reads nothing, like
// a stalled client.
type rtClient struct {
	t      *testing.T
	ws     *websocket.Conn
	once   sync.Once
	frames chan rtFrame
	err    error // why frames was closed
}

func (c *rtClient) start() {
	c.once.Do(func() {
		c.frames = make(chan rtFrame, 4096)
		go func() {
			defer close(c.frames)
			for {
				_, data, err := c.ws.Read(context.Background())
				if err != nil {
					c.err = err
					return
				}
				var f rtFrame
				if err := json.Unmarshal(data, &f); err != nil {
					c.err = fmt.Errorf("frame is not JSON: %s", data)
					return
				}
				c.frames <- f
			}
		}()
	})
}

// dial connects with token in the Authorization header; after < 0 omits it.
func (e *rtEnv) dial(t *testing.T, token string, after int64) (*rtClient, *http.Response, error) {
	t.Helper()
	u := e.url
	if after >= 0 {
		u += fmt.Sprintf("?after=%d", after)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ws, resp, err := websocket.Dial(ctx, u, &websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer " + token}}})
	if err != nil {
		return nil, resp, err
	}
	ws.SetReadLimit(1 << 20)
	t.Cleanup(func() { ws.CloseNow() })
	return &rtClient{t: t, ws: ws}, resp, nil
}

func (e *rtEnv) connect(t *testing.T, token string, after int64) (*rtClient, rtFrame) {
	t.Helper()
	c, resp, err := e.dial(t, token, after)
	if err != nil {
		t.Fatalf("dial: %v (%v)", err, resp)
	}
	w, err := c.next(5 * time.Second)
	if err != nil || w.Type != "welcome" {
		t.Fatalf("first frame %+v, %v; want welcome", w, err)
	}
	return c, w
}

var errNoFrame = errors.New("no frame in time")

func (c *rtClient) next(timeout time.Duration) (rtFrame, error) {
	c.start()
	select {
	case f, ok := <-c.frames:
		if !ok {
			return rtFrame{}, c.err
		}
		return f, nil
	case <-time.After(timeout):
		return rtFrame{}, errNoFrame
	}
}

// events reads n event frames.
func (c *rtClient) events(n int) []rtFrame {
	c.t.Helper()
	var out []rtFrame
	for len(out) < n {
		f, err := c.next(10 * time.Second)
		if err != nil {
			c.t.Fatalf("after %d of %d events: %v", len(out), n, err)
		}
		if f.Type != "event" {
			c.t.Fatalf("frame %+v, want an event", f)
		}
		out = append(out, f)
	}
	return out
}

// quiet asserts no frame arrives for d.
func (c *rtClient) quiet(d time.Duration) {
	c.t.Helper()
	if f, err := c.next(d); err == nil {
		c.t.Fatalf("unexpected frame %+v", f)
	}
}

func (e *rtEnv) head(t *testing.T, ws string) int64 {
	t.Helper()
	h, err := eventlog.Head(context.Background(), e.db.Read(), ws)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// createContacts creates n contacts through the API from `writers`
// goroutines at once.
func (e *rtEnv) createContacts(t *testing.T, token string, n, writers int) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += writers {
				body := fmt.Sprintf(`{"email":"p%d-%d@example.com","name":"Person %d"}`, i, rand.IntN(1e9), i)
				req := httptest.NewRequest("POST", "/contacts", strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+token)
				req.Header.Set("Content-Type", "application/json")
				rec := httptest.NewRecorder()
				e.srv.ServeHTTP(rec, req)
				if rec.Code != 200 {
					errs <- fmt.Errorf("create contact: %d %s", rec.Code, rec.Body)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func TestRealtimeDeliversLiveEvents(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		e := newRealtimeEnv(t, db, realtime.Options{})
		head := e.head(t, e.ws.ID)
		c, welcome := e.connect(t, e.token, -1)
		if welcome.After != head || welcome.WorkspaceID != e.ws.ID {
			t.Fatalf("welcome %+v, want after=%d in %s", welcome, head, e.ws.ID)
		}
		created := e.do("POST", "/contacts", map[string]any{"email": "live@example.com"}).ok(t)
		f := c.events(1)[0]
		var item map[string]any
		_ = json.Unmarshal(f.Item, &item)
		if f.Seq != head+1 || f.Topic != "contact.user.created" || item["id"] != created["id"] || item["email"] != "live@example.com" {
			t.Fatalf("event %+v (item %v), want seq %d contact.user.created of %v", f, item, head+1, created["id"])
		}
		// An update is the next frame, with the next sequence.
		e.do("PUT", "/contacts/"+str(created["id"]), map[string]any{"name": "Live"}).ok(t)
		if f := c.events(1)[0]; f.Seq != head+2 || f.Topic != "contact.user.updated" {
			t.Fatalf("update event %+v", f)
		}
	})
}

// Clients that disconnect at random points and resume with the last
// sequence they saw, while writers keep writing, end up with exactly the
// log: every sequence once, in order.
func TestRealtimeResumeIsExactUnderConcurrentWrites(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		e := newRealtimeEnv(t, db, realtime.Options{ReplayBatch: 7}) // small batches cross many seams
		start := e.head(t, e.ws.ID)
		const total = 300
		writing := make(chan struct{})
		go func() { defer close(writing); e.createContacts(t, e.token, total, 6) }()

		const clients = 3
		var wg sync.WaitGroup
		got := make([][]int64, clients)
		topics := make([]map[int64]string, clients)
		for i := range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				last, reconnects := start, 0
				topics[i] = map[int64]string{}
				for last < start+total {
					c, resp, err := e.dial(t, e.token, last)
					if err != nil {
						t.Errorf("client %d dial after %d: %v %v", i, last, err, resp)
						return
					}
					if w, err := c.next(5 * time.Second); err != nil || w.Type != "welcome" || w.After != last {
						t.Errorf("client %d welcome %+v %v, want after=%d", i, w, err, last)
						return
					}
					// Read a random number of frames, then drop the connection.
					for n := rand.IntN(40); n > 0 && last < start+total; n-- {
						f, err := c.next(10 * time.Second)
						if err != nil {
							t.Errorf("client %d after seq %d: %v", i, last, err)
							return
						}
						got[i] = append(got[i], f.Seq)
						topics[i][f.Seq] = f.Topic
						last = f.Seq
					}
					c.ws.CloseNow()
					reconnects++
				}
				if reconnects < 3 {
					t.Errorf("client %d reconnected only %d times", i, reconnects)
				}
			}()
		}
		wg.Wait()
		<-writing
		if t.Failed() {
			return
		}
		logged, err := eventlog.Since(context.Background(), db.Read(), e.ws.ID, start, total+10)
		if err != nil || len(logged) != total {
			t.Fatalf("log has %d events after %d (%v), want %d", len(logged), start, err, total)
		}
		for i := range clients {
			if len(got[i]) != total {
				t.Fatalf("client %d received %d events, want %d", i, len(got[i]), total)
			}
			for k, seq := range got[i] {
				if seq != start+int64(k)+1 {
					t.Fatalf("client %d: event %d has seq %d, want %d (sequence %v…)", i, k, seq, start+int64(k)+1, got[i][max(0, k-3):k+1])
				}
				if topics[i][seq] != logged[k].Topic {
					t.Fatalf("client %d: seq %d topic %q, log says %q", i, seq, topics[i][seq], logged[k].Topic)
				}
			}
		}
	})
}

// A client that stops reading is dropped once a write to it blocks; a
// client that reads keeps receiving meanwhile, even though single commits
// bring more events than its queue holds (it reads the overflow from the
// log); the dropped client resumes and gets exactly the rest.
func TestRealtimeDropsSlowConsumers(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		e := newRealtimeEnv(t, db, realtime.Options{QueueSize: 4, WriteTimeout: 500 * time.Millisecond})
		start := e.head(t, e.ws.ID)
		slow, _, err := e.dial(t, e.token, start) // reads nothing until the end
		if err != nil {
			t.Fatal(err)
		}
		fast, _ := e.connect(t, e.token, start)

		// Large events fill the slow client's socket buffers quickly.
		const total = 3000
		big := strings.Repeat("x", 4000)
		entries := make([]eventlog.Entry, 100)
		for i := range entries {
			entries[i] = eventlog.Entry{Topic: "test.big", Item: map[string]string{"pad": big}}
		}
		for range total / len(entries) {
			if err := db.InTx(context.Background(), func(tx *store.Tx) error {
				return eventlog.AppendMany(context.Background(), tx, e.ws.ID, entries)
			}); err != nil {
				t.Fatal(err)
			}
		}
		for k, f := range fast.events(total) {
			if f.Seq != start+int64(k)+1 {
				t.Fatalf("fast client: event %d has seq %d", k, f.Seq)
			}
		}
		// The slow client's connection ends before the last event.
		time.Sleep(time.Second)
		if w, err := slow.next(time.Second); err != nil || w.Type != "welcome" {
			t.Fatalf("slow client's first frame %+v %v", w, err)
		}
		last := start
		for {
			f, err := slow.next(10 * time.Second)
			if err != nil {
				if status := websocket.CloseStatus(err); status != -1 && status != websocket.StatusTryAgainLater {
					t.Fatalf("slow client closed with %v", err)
				}
				break
			}
			if f.Seq != last+1 {
				t.Fatalf("slow client: seq %d after %d", f.Seq, last)
			}
			last = f.Seq
		}
		if last >= start+total {
			t.Fatalf("the slow client received all %d events: it was never dropped", total)
		}
		again, w := e.connect(t, e.token, last)
		if w.After != last {
			t.Fatalf("resume welcome %+v", w)
		}
		for k, f := range again.events(int(start + total - last)) {
			if f.Seq != last+int64(k)+1 {
				t.Fatalf("resumed: event %d has seq %d, want %d", k, f.Seq, last+int64(k)+1)
			}
		}
		again.quiet(200 * time.Millisecond)
	})
}

// A workspace's connections see only its own events; another workspace's
// token cannot ask for them.
func TestRealtimeIsolatesWorkspaces(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		e := newRealtimeEnv(t, db, realtime.Options{})
		wsB, _, tokenB := e.newWorkspace("Other")
		b, wb := e.connect(t, tokenB, 0)
		if wb.WorkspaceID != wsB.ID {
			t.Fatalf("welcome %+v, want workspace %s", wb, wsB.ID)
		}
		// B replays its own history from 0: only its own workspace's events.
		own := b.events(int(e.head(t, wsB.ID)))
		_ = own
		a, _ := e.connect(t, e.token, -1)
		e.createContacts(t, e.token, 5, 1)
		a.events(5)
		b.quiet(300 * time.Millisecond)
		e.createContacts(t, tokenB, 1, 1)
		var item map[string]any
		f := b.events(1)[0]
		_ = json.Unmarshal(f.Item, &item)
		if item["workspace_id"] != wsB.ID {
			t.Fatalf("B received %+v", f)
		}
		a.quiet(200 * time.Millisecond)
	})
}

func TestRealtimeRefusesBadRequests(t *testing.T) {
	e := newRealtimeEnv(t, testdb.SQLite(t), realtime.Options{})
	// Wrong token, bad or future `after`: refused before the upgrade, as error.list.
	for _, tc := range []struct {
		token  string
		after  string
		status int
		code   string
	}{
		{"nope-0000000000000000", "", 401, "unauthorized"},
		{e.token, "?after=abc", 400, "parameter_invalid"},
		{e.token, "?after=-1", 400, "parameter_invalid"},
		{e.token, "?after=999999", 400, "parameter_invalid"},
	} {
		r := e.doAs(tc.token, "GET", "/realtime"+tc.after, nil, map[string]string{"Upgrade": "websocket", "Connection": "Upgrade"})
		r.fails(t, tc.status, tc.code)
	}
	// A plain GET is not a WebSocket.
	e.do("GET", "/realtime", nil).fails(t, 400, "bad_request")
	// Without a server hub the endpoint does not exist.
	off := newEnv(t, testdb.SQLite(t), Options{})
	off.do("GET", "/realtime", nil).fails(t, 404, "not_found")
}

// Browsers cannot set headers on a WebSocket: the token and the resume
// point come in a first message instead.
func TestRealtimeHelloMessage(t *testing.T) {
	e := newRealtimeEnv(t, testdb.SQLite(t), realtime.Options{})
	dial := func() *websocket.Conn {
		ws, _, err := websocket.Dial(context.Background(), e.url, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ws.CloseNow() })
		return ws
	}
	head := e.head(t, e.ws.ID)
	e.createContacts(t, e.token, 2, 1)

	ws := dial()
	hello, _ := json.Marshal(map[string]any{"type": "hello", "token": e.token, "after": head})
	if err := ws.Write(context.Background(), websocket.MessageText, hello); err != nil {
		t.Fatal(err)
	}
	c := &rtClient{t: t, ws: ws}
	if w, err := c.next(5 * time.Second); err != nil || w.Type != "welcome" || w.After != head {
		t.Fatalf("welcome %+v %v", w, err)
	}
	if fs := c.events(2); fs[0].Seq != head+1 || fs[1].Seq != head+2 {
		t.Fatalf("replayed %+v", fs)
	}

	for _, msg := range []string{`{"type":"hello","token":"wrong-token-123456"}`, `not json`, `{"type":"hello","token":"` + e.token + `","after":99999}`} {
		ws := dial()
		if err := ws.Write(context.Background(), websocket.MessageText, []byte(msg)); err != nil {
			t.Fatal(err)
		}
		c := &rtClient{t: t, ws: ws}
		if f, err := c.next(5 * time.Second); websocket.CloseStatus(err) != websocket.StatusPolicyViolation {
			t.Fatalf("hello %s: got %+v, %v; want close 1008", msg, f, err)
		}
	}
}

// A client that does not answer pings is closed; one that does stays.
func TestRealtimeHeartbeat(t *testing.T) {
	e := newRealtimeEnv(t, testdb.SQLite(t), realtime.Options{PingInterval: 300 * time.Millisecond, PongTimeout: 300 * time.Millisecond})
	silent, _, err := e.dial(t, e.token, -1) // reads nothing: its pongs never go out
	if err != nil {
		t.Fatal(err)
	}
	alive, _ := e.connect(t, e.token, -1)
	// alive reads (and so answers pings) the whole time.
	frames := make(chan rtFrame, 10)
	go func() {
		for {
			f, err := alive.next(time.Minute)
			if err != nil {
				close(frames)
				return
			}
			frames <- f
		}
	}()
	time.Sleep(2 * time.Second)
	if f, err := silent.next(time.Second); err != nil || f.Type != "welcome" {
		t.Fatalf("silent client's first frame %+v %v", f, err)
	}
	if f, err := silent.next(time.Second); err == nil || err == errNoFrame {
		t.Fatalf("silent client still connected: %+v %v", f, err)
	}
	e.createContacts(t, e.token, 1, 1)
	select {
	case f, ok := <-frames:
		if !ok || f.Type != "event" {
			t.Fatalf("live client: %+v %v", f, ok)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the client answering pings received nothing")
	}
}
