package realtime_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/parleyhq/parley/internal/bus"
	"github.com/parleyhq/parley/internal/eventlog"
	"github.com/parleyhq/parley/internal/realtime"
	"github.com/parleyhq/parley/internal/store"
	"github.com/parleyhq/parley/internal/testdb"
	"github.com/parleyhq/parley/internal/workspace"
)

// server serves the hub at /?ws=…&after=… with the filter given; wired is
// whether commits reach the hub through a bus (otherwise only the poll
// finds new events).
func server(t *testing.T, db *store.DB, opts realtime.Options, wired bool, filter realtime.Filter) (string, *realtime.Hub) {
	t.Helper()
	hub := realtime.New(realtime.DBLog{DB: db}, opts)
	if wired {
		b := bus.NewLocal()
		b.Subscribe(hub)
		db.OnCommit(func(last map[string]int64) { b.Publish(bus.FromCommit(last)) })
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = hub.Run(ctx) }()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		after, _ := strconv.ParseInt(r.URL.Query().Get("after"), 10, 64)
		ws, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		_ = hub.Serve(r.Context(), ws, realtime.Subscription{Workspace: r.URL.Query().Get("ws"), After: after, Filter: filter})
	}))
	t.Cleanup(func() { cancel(); <-done; srv.Close() })
	return "ws" + strings.TrimPrefix(srv.URL, "http"), hub
}

type frame struct {
	Type  string          `json:"type"`
	Seq   int64           `json:"seq"`
	Topic string          `json:"topic"`
	Item  json.RawMessage `json:"item"`
}

// client collects frames on its own goroutine.
func client(t *testing.T, url, ws string, after int64) <-chan frame {
	t.Helper()
	c, _, err := websocket.Dial(context.Background(), fmt.Sprintf("%s/?ws=%s&after=%d", url, ws, after), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.CloseNow() })
	out := make(chan frame, 1000)
	go func() {
		defer close(out)
		for {
			_, data, err := c.Read(context.Background())
			if err != nil {
				return
			}
			var f frame
			_ = json.Unmarshal(data, &f)
			if f.Type == "event" {
				out <- f
			}
		}
	}()
	return out
}

func receive(t *testing.T, frames <-chan frame, n int) []frame {
	t.Helper()
	var got []frame
	for len(got) < n {
		select {
		case f, ok := <-frames:
			if !ok {
				t.Fatalf("connection closed after %d of %d frames", len(got), n)
			}
			got = append(got, f)
		case <-time.After(10 * time.Second):
			t.Fatalf("received %d of %d frames: %+v", len(got), n, got)
		}
	}
	return got
}

func quiet(t *testing.T, frames <-chan frame, d time.Duration) {
	t.Helper()
	select {
	case f := <-frames:
		t.Fatalf("unexpected frame %+v", f)
	case <-time.After(d):
	}
}

func newWorkspace(t *testing.T, db *store.DB) *workspace.Workspace {
	t.Helper()
	ws, err := store.NewWorkspaces(db).CreateWorkspace(context.Background(), "acme", &workspace.Admin{Name: "O", Email: "o@acme.test"})
	if err != nil {
		t.Fatal(err)
	}
	return ws
}

func appendEvents(t *testing.T, db *store.DB, ws string, topics ...string) {
	t.Helper()
	if err := db.InTx(context.Background(), func(tx *store.Tx) error {
		for i, topic := range topics {
			if _, err := eventlog.Append(context.Background(), tx, ws, topic, map[string]int{"n": i}); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

func head(t *testing.T, db *store.DB, ws string) int64 {
	t.Helper()
	h, err := eventlog.Head(context.Background(), db.Read(), ws)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// The filter hook: a connection sees only what its filter lets through,
// live and on resume, and the events it does not see do not disturb it.
func TestFilterLimitsWhatAConnectionSees(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		mine := func(e *eventlog.Event) bool { return e.Topic == "mine" }
		url, _ := server(t, db, realtime.Options{ReplayBatch: 3}, true, mine)
		ws := newWorkspace(t, db)
		start := head(t, db, ws.ID)
		live := client(t, url, ws.ID, start)
		time.Sleep(100 * time.Millisecond) // registered before the writes
		appendEvents(t, db, ws.ID, "other", "mine", "other", "other")
		appendEvents(t, db, ws.ID, "other", "other")
		appendEvents(t, db, ws.ID, "mine", "other", "mine")
		got := receive(t, live, 3)
		want := []int64{start + 2, start + 7, start + 9}
		for i, f := range got {
			if f.Topic != "mine" || f.Seq != want[i] {
				t.Fatalf("live frames %+v, want seqs %v", got, want)
			}
		}
		quiet(t, live, 200*time.Millisecond)
		// Resuming mid-way replays only the visible events after the point.
		resumed := receive(t, client(t, url, ws.ID, start+2), 2)
		if resumed[0].Seq != start+7 || resumed[1].Seq != start+9 {
			t.Fatalf("resumed %+v", resumed)
		}
	})
}

// With no bus notice at all (a lost message), the poll finds the events.
func TestLostNoticesAreCaughtUpFromTheLog(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		url, _ := server(t, db, realtime.Options{PollInterval: 200 * time.Millisecond}, false, nil)
		ws := newWorkspace(t, db)
		start := head(t, db, ws.ID)
		frames := client(t, url, ws.ID, start)
		time.Sleep(100 * time.Millisecond)
		appendEvents(t, db, ws.ID, "a", "b")
		got := receive(t, frames, 2)
		if got[0].Seq != start+1 || got[1].Seq != start+2 {
			t.Fatalf("got %+v", got)
		}
	})
}

// Lost (a NATS reconnection) makes the hub re-read every watched log at
// once, without waiting for the poll.
func TestLostCatchesUpAtOnce(t *testing.T) {
	db := testdb.SQLite(t)
	url, hub := server(t, db, realtime.Options{PollInterval: time.Hour}, false, nil)
	ws := newWorkspace(t, db)
	start := head(t, db, ws.ID)
	frames := client(t, url, ws.ID, start)
	time.Sleep(100 * time.Millisecond)
	appendEvents(t, db, ws.ID, "c")
	quiet(t, frames, 300*time.Millisecond) // no notice, no poll: nothing yet
	hub.Lost()
	if f := receive(t, frames, 1)[0]; f.Seq != start+1 || f.Topic != "c" {
		t.Fatalf("after Lost: %+v", f)
	}
}
