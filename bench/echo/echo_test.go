package echo

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

func dial(t *testing.T, ctx context.Context, url string, subscribe bool) *websocket.Conn {
	t.Helper()
	ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(url, "http")+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.CloseNow() })
	hello := `{"type":"hello","subscribe":false}`
	if subscribe {
		hello = `{"type":"hello","subscribe":true}`
	}
	if err := ws.Write(ctx, websocket.MessageText, []byte(hello)); err != nil {
		t.Fatal(err)
	}
	if _, msg, err := ws.Read(ctx); err != nil || string(msg) != `{"type":"welcome"}` {
		t.Fatalf("welcome = %q, %v", msg, err)
	}
	return ws
}

func TestPublishReachesSubscribersOnly(t *testing.T) {
	s := New()
	srv := httptest.NewServer(s)
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	a, b := dial(t, ctx, srv.URL, true), dial(t, ctx, srv.URL, true)
	quiet := dial(t, ctx, srv.URL, false)
	if n := s.Subscribers(); n != 2 {
		t.Fatalf("subscribers = %d, want 2", n)
	}
	resp, err := http.Post(srv.URL+"/publish", "application/json", strings.NewReader(`{"n":1}`))
	if err != nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("publish: %v %v", resp, err)
	}
	resp.Body.Close()
	for _, ws := range []*websocket.Conn{a, b} {
		if _, msg, err := ws.Read(ctx); err != nil || string(msg) != `{"n":1}` {
			t.Fatalf("subscriber got %q, %v", msg, err)
		}
	}
	// The non-subscriber gets nothing published, but its own messages echoed.
	if err := quiet.Write(ctx, websocket.MessageText, []byte("ping-1")); err != nil {
		t.Fatal(err)
	}
	if _, msg, err := quiet.Read(ctx); err != nil || string(msg) != "ping-1" {
		t.Fatalf("echo = %q, %v (a published message must not reach a non-subscriber)", msg, err)
	}
	// A closed subscriber is forgotten.
	a.Close(websocket.StatusNormalClosure, "")
	deadline := time.Now().Add(5 * time.Second)
	for s.Subscribers() != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("subscribers = %d after a close, want 1", s.Subscribers())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestBadHelloIsRefused(t *testing.T) {
	srv := httptest.NewServer(New())
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	if err := ws.Write(ctx, websocket.MessageText, []byte(`{"type":"nope"}`)); err != nil {
		t.Fatal(err)
	}
	_, _, err = ws.Read(ctx)
	if websocket.CloseStatus(err) != websocket.StatusPolicyViolation {
		t.Fatalf("read after a bad hello: %v, want close 1008", err)
	}
}
