package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/parleyhq/parley/internal/bus/bustest"
	"github.com/parleyhq/parley/internal/testdb"
	"github.com/parleyhq/parley/internal/testkit"
)

// twoNodes starts two Parley processes on one fresh PostgreSQL database
// and one NATS server, each with its own data directory, sharing the
// bootstrap token.
func twoNodes(t *testing.T, token string) (a, b *proc) {
	t.Helper()
	natsURL := bustest.NATSURL(t)
	dbURL := testdb.FreshPostgres(t)
	bin := buildBinary(t)
	env := []string{"PARLEY_DATABASE_URL=" + dbURL, "PARLEY_NATS_URL=" + natsURL, "PARLEY_BOOTSTRAP_TOKEN=" + token}
	a = start(t, bin, append(env, "PARLEY_DATA_DIR="+t.TempDir()))
	b = start(t, bin, append(env, "PARLEY_DATA_DIR="+t.TempDir()))
	return a, b
}

// Two Parley processes on one PostgreSQL database and one NATS server
// behave as one installation: a teammate connected to one node receives,
// live, the events caused by API calls made on the other.
func TestTwoNodesShareRealtimeOverNATS(t *testing.T) {
	token := "bootstrap-token-two-nodes-0123"
	a, b := twoNodes(t, token)

	listen := func(p *proc) (*websocket.Conn, <-chan map[string]any) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		ws, _, err := websocket.Dial(ctx, "ws://"+p.addr+"/realtime", &websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer " + token}}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ws.CloseNow() })
		frames := testkit.Frames(ws, 100)
		select {
		case f := <-frames:
			if f["type"] != "welcome" {
				t.Fatalf("first frame %v", f)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("no welcome frame")
		}
		return ws, frames
	}
	_, onA := listen(a)
	_, onB := listen(b)

	create := func(p *proc, email string) {
		req, _ := http.NewRequest("POST", "http://"+p.addr+"/contacts", strings.NewReader(`{"email":"`+email+`"}`))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("create contact on %s: %d", p.addr, resp.StatusCode)
		}
	}
	expect := func(frames <-chan map[string]any, email string, where string) float64 {
		t.Helper()
		// Well within the nodes' 5-second log poll: the notice came over NATS.
		select {
		case f, ok := <-frames:
			item, _ := f["item"].(map[string]any)
			if !ok || f["type"] != "event" || f["topic"] != "contact.user.created" || item["email"] != email {
				t.Fatalf("%s received %v, want contact.user.created of %s", where, f, email)
			}
			return f["seq"].(float64)
		case <-time.After(time.Second):
			t.Fatalf("%s did not receive the event of %s within a second", where, email)
		}
		return 0
	}
	var last float64
	for i := range 5 {
		writer, other := b, "A"
		if i%2 == 1 {
			writer, other = a, "B"
		}
		email := fmt.Sprintf("n%d@example.com", i)
		create(writer, email)
		seqA := expect(onA, email, "node A")
		seqB := expect(onB, email, "node B")
		if seqA != seqB || seqA <= last {
			t.Fatalf("write %d (read on node %s): sequences A=%v B=%v after %v", i, other, seqA, seqB, last)
		}
		last = seqA
	}
	a.stop(t)
	b.stop(t)
}
