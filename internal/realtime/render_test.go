package realtime_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/parleyhq/parley/internal/bus"
	"github.com/parleyhq/parley/internal/eventlog"
	"github.com/parleyhq/parley/internal/realtime"
	"github.com/parleyhq/parley/internal/store"
	"github.com/parleyhq/parley/internal/testdb"
)

// A connection's Render replaces each frame with its own message or skips
// the event; skipped events still advance the cursor, live and on resume.
// Signals reach the connections of the workspace that take them, and no
// other, without touching the log.
func TestRenderAndSignals(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorkspace(t, db)
		other := newWorkspace(t, db)
		hub := realtime.New(realtime.DBLog{DB: db}, realtime.Options{})
		b := bus.NewLocal()
		b.Subscribe(hub)
		hub.UseBus(b)
		db.OnCommit(func(last map[string]int64) { b.Publish(bus.FromCommit(last)) })
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); _ = hub.Run(ctx) }()
		render := func(e *eventlog.Event) []byte {
			if strings.HasSuffix(e.Topic, ".secret") {
				return nil
			}
			return []byte(fmt.Sprintf(`{"type":"event","seq":%d,"topic":%q,"mine":true}`, e.Seq, e.Topic))
		}
		signal := func(s bus.Signal) []byte {
			if s.Kind != "typing" {
				return nil
			}
			return []byte(`{"type":"typing","data":` + string(s.Data) + `}`)
		}
		srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			var after int64
			fmt.Sscan(r.URL.Query().Get("after"), &after)
			c, err := websocket.Accept(rw, r, nil)
			if err != nil {
				return
			}
			sub := realtime.Subscription{Workspace: r.URL.Query().Get("ws"), After: after}
			if r.URL.Query().Get("messenger") == "1" {
				sub.Render, sub.Signal = render, signal
			}
			_ = hub.Serve(r.Context(), c, sub)
		}))
		t.Cleanup(func() { cancel(); <-done; srv.Close() })
		url := "ws" + strings.TrimPrefix(srv.URL, "http")

		type msg map[string]any
		dial := func(query string) <-chan msg {
			c, _, err := websocket.Dial(context.Background(), url+"/?"+query, nil)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { c.CloseNow() })
			out := make(chan msg, 100)
			go func() {
				defer close(out)
				for {
					_, data, err := c.Read(context.Background())
					if err != nil {
						return
					}
					var m msg
					_ = json.Unmarshal(data, &m)
					if m["type"] != "welcome" {
						out <- m
					}
				}
			}()
			return out
		}
		next := func(ch <-chan msg) msg {
			t.Helper()
			select {
			case m := <-ch:
				return m
			case <-time.After(10 * time.Second):
				t.Fatal("no message")
			}
			return nil
		}
		none := func(ch <-chan msg) {
			t.Helper()
			select {
			case m := <-ch:
				t.Fatalf("unexpected %v", m)
			case <-time.After(300 * time.Millisecond):
			}
		}

		visitor := dial("ws=" + w.ID + "&messenger=1")
		teammate := dial("ws=" + w.ID)
		stranger := dial("ws=" + other.ID + "&messenger=1")
		time.Sleep(100 * time.Millisecond) // registered
		appendEvents(t, db, w.ID, "conversation.user.replied", "conversation.admin.secret", "conversation.admin.replied")
		if m := next(visitor); m["seq"] != float64(1) || m["mine"] != true {
			t.Fatalf("first frame %v", m)
		}
		if m := next(visitor); m["seq"] != float64(3) {
			t.Fatalf("second frame %v (the secret one must be skipped)", m)
		}
		for i := 1; i <= 3; i++ {
			if m := next(teammate); m["seq"] != float64(i) || m["mine"] != nil {
				t.Fatalf("teammate frame %d: %v", i, m)
			}
		}
		// Resume after the skipped event replays exactly the rest.
		resumed := dial("ws=" + w.ID + "&messenger=1&after=1")
		if m := next(resumed); m["seq"] != float64(3) {
			t.Fatalf("resume got %v", m)
		}
		none(resumed)

		hub.PublishSignal(bus.Signal{Workspace: w.ID, Kind: "typing", Data: json.RawMessage(`{"conversation_id":"9"}`)})
		m := next(visitor)
		if m["type"] != "typing" || m["data"].(map[string]any)["conversation_id"] != "9" {
			t.Fatalf("signal frame %v", m)
		}
		next(resumed)
		none(teammate) // no Signal function: no signals
		none(stranger) // another workspace
		var n int
		if err := db.Read().QueryRow(context.Background(), `SELECT count(*) FROM event_log WHERE workspace_id = ?`, w.ID).Scan(&n); err != nil || n != 3 {
			t.Fatalf("event log has %d events (%v): a signal must not be logged", n, err)
		}
	})
}
