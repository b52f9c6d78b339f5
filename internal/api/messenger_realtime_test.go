package api

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/parleyhq/parley/internal/realtime"
	"github.com/parleyhq/parley/internal/store"
	"github.com/parleyhq/parley/internal/testdb"
)

// mFrame is a frame of the Messenger socket.
type mFrame struct {
	Type           string         `json:"type"`
	Seq            int64          `json:"seq"`
	Topic          string         `json:"topic"`
	ConversationID string         `json:"conversation_id"`
	After          int64          `json:"after"`
	State          string         `json:"state"`
	Part           map[string]any `json:"part"`
	Author         map[string]any `json:"author"`
	raw            string
}

type mClient struct {
	t      *testing.T
	ws     *websocket.Conn
	frames chan mFrame
}

// dialMessenger connects to the Messenger socket from another origin and
// says hello.
func (e *rtEnv) dialMessenger(t *testing.T, hello map[string]any) *mClient {
	t.Helper()
	u := strings.TrimSuffix(e.url, "/realtime") + "/messenger/v1/realtime"
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, u, &websocket.DialOptions{HTTPHeader: http.Header{"Origin": {"https://shop.example"}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.CloseNow() })
	hello["type"] = "hello"
	data, _ := json.Marshal(hello)
	if err := ws.Write(ctx, websocket.MessageText, data); err != nil {
		t.Fatal(err)
	}
	c := &mClient{t: t, ws: ws, frames: make(chan mFrame, 100)}
	go func() {
		defer close(c.frames)
		for {
			_, data, err := ws.Read(context.Background())
			if err != nil {
				return
			}
			var f mFrame
			_ = json.Unmarshal(data, &f)
			f.raw = string(data)
			c.frames <- f
		}
	}()
	return c
}

func (c *mClient) next(what string) mFrame {
	c.t.Helper()
	select {
	case f, ok := <-c.frames:
		if !ok {
			c.t.Fatalf("%s: connection closed", what)
		}
		return f
	case <-time.After(10 * time.Second):
		c.t.Fatalf("%s: no frame", what)
	}
	return mFrame{}
}

func (c *mClient) quiet(d time.Duration) {
	c.t.Helper()
	select {
	case f, ok := <-c.frames:
		if ok {
			c.t.Fatalf("unexpected frame %s", f.raw)
		}
	case <-time.After(d):
	}
}

// The visitor's socket: live admin replies in visitor-safe form, never
// notes or other visitors' conversations; resume replays exactly what was
// missed; typing both ways without touching the log.
func TestMessengerSocket(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		e := newRealtimeEnv(t, db, realtime.Options{})
		v := e.visitor(nil)
		after := int64(v.boot["after"].(float64))
		sock := e.dialMessenger(t, map[string]any{"session_token": v.session, "after": after})
		if w := sock.next("welcome"); w.Type != "welcome" || w.After != after {
			t.Fatalf("welcome %s", w.raw)
		}
		other := e.visitor(nil)
		otherSock := e.dialMessenger(t, map[string]any{"session_token": other.session})
		otherSock.next("welcome")
		teammate, _, err := e.dial(t, e.token, -1)
		if err != nil {
			t.Fatal(err)
		}
		teammate.start()

		// The anonymous visitor writes (becoming a lead): its own event arrives.
		id := str(v.do("POST", "/conversations", map[string]any{"body": "Is anyone there?"}).ok(t)["id"])
		f := sock.next("created")
		if f.Topic != "conversation.user.created" || f.ConversationID != id || !strings.Contains(str(f.Part["body"]), "anyone there") {
			t.Fatalf("created frame %s", f.raw)
		}
		e.adminReply(id, "note", "SECRET internal note")
		e.adminReply(id, "comment", "Yes, hello!")
		f = sock.next("reply")
		if f.Topic != "conversation.admin.replied" || !strings.Contains(str(f.Part["body"]), "Yes, hello!") {
			t.Fatalf("reply frame %s", f.raw)
		}
		if strings.Contains(f.raw, e.owner.Email) || strings.Contains(f.raw, "SECRET") || strings.Contains(f.raw, `"item"`) {
			t.Fatalf("frame shows internal data: %s", f.raw)
		}
		lastSeq := f.Seq
		otherSock.quiet(300 * time.Millisecond)

		// Typing both ways.
		e.do("POST", "/conversations/"+id+"/typing", nil).ok(t)
		f = sock.next("typing")
		if f.Type != "typing" || f.ConversationID != id || f.Author["type"] != "admin" || f.Author["name"] != e.owner.Name || f.Seq != 0 {
			t.Fatalf("typing frame %s", f.raw)
		}
		otherSock.quiet(200 * time.Millisecond)
		lead := e.visitor(map[string]any{"visitor_token": v.visitorToken}) // the lead's session
		lead.do("POST", "/conversations/"+id+"/typing", nil).ok(t)
		for {
			select {
			case tf := <-teammate.frames:
				if tf.Type != "typing" {
					continue // the events so far
				}
				if tf.ConversationID != id || tf.Author["type"] != "lead" || tf.Author["id"] != lead.contactID || tf.Seq != 0 {
					t.Fatalf("teammate's typing frame %+v", tf)
				}
				goto typed
			case <-time.After(10 * time.Second):
				t.Fatal("the teammate did not see the visitor typing")
			}
		}
	typed:
		var typingEvents int
		_ = db.Read().QueryRow(context.Background(), `SELECT count(*) FROM event_log WHERE topic LIKE '%typing%'`).Scan(&typingEvents)
		if typingEvents != 0 {
			t.Fatal("typing was logged")
		}

		// Disconnect; three things happen; reconnect with the last seq.
		sock.ws.CloseNow()
		e.adminReply(id, "comment", "Are you still there?")
		e.adminReply(id, "note", "another SECRET note")
		e.do("POST", "/conversations/"+id+"/parts", map[string]any{"message_type": "close", "type": "admin", "admin_id": e.owner.ID, "body": "Closing, bye"}).ok(t)
		back := e.dialMessenger(t, map[string]any{"session_token": lead.session, "after": lastSeq})
		back.next("welcome")
		f1, f2 := back.next("missed reply"), back.next("missed close")
		if f1.Topic != "conversation.admin.replied" || !strings.Contains(str(f1.Part["body"]), "still there") {
			t.Fatalf("first replayed frame %s", f1.raw)
		}
		if f2.Topic != "conversation.admin.closed" || f2.State != "closed" || !strings.Contains(str(f2.Part["body"]), "Closing") {
			t.Fatalf("second replayed frame %s", f2.raw)
		}
		back.quiet(300 * time.Millisecond)
		// Live after the replay: a read receipt from the team.
		e.do("POST", "/conversations/"+id+"/seen", nil).ok(t)
		if f := back.next("admin seen"); f.Topic != "conversation.admin.seen" || f.ConversationID != id {
			t.Fatalf("admin seen frame %s", f.raw)
		}

		// Refusals: a bad session, a future after.
		bad := e.dialMessenger(t, map[string]any{"session_token": "ms1.nope"})
		if _, ok := <-bad.frames; ok {
			t.Fatal("a bad session got a frame")
		}
		future := e.dialMessenger(t, map[string]any{"session_token": lead.session, "after": 1 << 40})
		if _, ok := <-future.frames; ok {
			t.Fatal("a future after got a frame")
		}
	})
}
