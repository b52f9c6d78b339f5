package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/parleyhq/parley/internal/bus"
	"github.com/parleyhq/parley/internal/realtime"
	"github.com/parleyhq/parley/internal/store"
	"github.com/parleyhq/parley/internal/testdb"
	"github.com/parleyhq/parley/internal/web"
)

type liveFrame struct {
	Type           string `json:"type"`
	Seq            int64  `json:"seq"`
	Topic          string `json:"topic"`
	ConversationID string `json:"conversation_id"`
	Name           string `json:"name"`
}

// GET /app/realtime: the session cookie opens the socket, which carries
// only the workspace's conversation events, resumes from ?after= and is
// refused to other origins and to signed-out browsers.
func TestLiveSocket(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		hub := realtime.New(realtime.DBLog{DB: db}, realtime.Options{})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { _ = hub.Run(ctx); close(done) }()
		t.Cleanup(func() { cancel(); <-done })
		db.OnCommit(func(last map[string]int64) { hub.Notify(bus.FromCommit(last)) })
		e := newEnv(t, db, web.Options{Realtime: hub})
		b := e.browser()
		b.mustSignin(e.owner.Email)
		wsURL := "ws" + strings.TrimPrefix(e.url, "http") + "/app/realtime"
		dial := func(query, origin string, withCookie bool) (*websocket.Conn, *http.Response, error) {
			h := http.Header{"Origin": {origin}}
			if withCookie {
				h.Set("Cookie", "parley_session="+b.sessionCookie().Value)
			}
			dctx, dcancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer dcancel()
			return websocket.Dial(dctx, wsURL+query, &websocket.DialOptions{HTTPHeader: h})
		}
		read := func(c *websocket.Conn) liveFrame {
			t.Helper()
			rctx, rcancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer rcancel()
			_, raw, err := c.Read(rctx)
			if err != nil {
				t.Fatal(err)
			}
			var f liveFrame
			if err := json.Unmarshal(raw, &f); err != nil {
				t.Fatal(err)
			}
			return f
		}

		// Another origin, or no session: no socket.
		if _, resp, err := dial("", "https://evil.test", true); err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
			t.Fatalf("cross-origin socket: %v %v", err, resp)
		}
		// (the dialer follows the redirect to the sign-in page)
		if _, resp, err := dial("", e.url, false); err == nil || resp == nil || resp.Request.URL.Path != "/signin" {
			t.Fatalf("signed-out socket: %v %v", err, resp)
		}

		c, _, err := dial("", e.url, true)
		if err != nil {
			t.Fatal(err)
		}
		defer c.CloseNow()
		if f := read(c); f.Type != "welcome" {
			t.Fatalf("first frame %+v, want welcome", f)
		}
		before := e.head(e.ws.ID)
		other, _, _ := e.workspace("Other")
		e.startConversation(other.ID, "Zed", "<p>Not yours</p>")
		conv := e.startConversation(e.ws.ID, "Ann", "<p>Hello</p>") // also appends contact.user.created
		f := read(c)
		if f.Type != "event" || f.Topic != "conversation.user.created" || f.ConversationID != id(conv) {
			t.Fatalf("frame %+v, want conversation.user.created of %d (and no contact or other-workspace event)", f, conv.ID)
		}

		// A page read at `before` resumes from it: nothing is missed.
		c2, _, err := dial("?after="+strconv.FormatInt(before, 10), e.url, true)
		if err != nil {
			t.Fatal(err)
		}
		defer c2.CloseNow()
		read(c2) // welcome
		if f := read(c2); f.Topic != "conversation.user.created" || f.ConversationID != id(conv) {
			t.Fatalf("resumed frame %+v", f)
		}

		// The agent's note mentioning the owner: the owner's socket gets the
		// note's event, then a "mention" frame.
		agent := e.browser()
		agent.mustSignin(e.agent.Email)
		if p := agent.send("/app/conversations/"+id(conv)+"/reply", url.Values{"kind": {"note"}, "body": {"@Acme Owner look"}}); p.status != http.StatusSeeOther {
			t.Fatalf("note: %d", p.status)
		}
		if f := read(c); f.Type != "event" || f.Topic != "conversation.admin.noted" {
			t.Fatalf("frame %+v, want the note", f)
		}
		if f := read(c); f.Type != "mention" || f.Topic != "conversation.admin.mentioned" || f.ConversationID != id(conv) {
			t.Fatalf("frame %+v, want the owner's mention", f)
		}
		// A contact typing reaches teammates' pages; typing meant for
		// contacts (a teammate's) does not.
		hub.PublishSignal(bus.Signal{Workspace: e.ws.ID, Kind: "typing", Data: []byte(`{"conversation_id":"` + id(conv) + `","audience":"contacts","author":{"type":"admin","name":"Acme Agent"}}`)})
		hub.PublishSignal(bus.Signal{Workspace: e.ws.ID, Kind: "typing", Data: []byte(`{"conversation_id":"` + id(conv) + `","audience":"teammates","author":{"type":"user","id":"c1","name":"Ann"}}`)})
		if f := read(c); f.Type != "typing" || f.Name != "Ann" || f.ConversationID != id(conv) {
			t.Fatalf("frame %+v, want Ann typing", f)
		}
	})
}
