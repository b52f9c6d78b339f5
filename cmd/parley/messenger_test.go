package main

import (
	"bytes"
	"context"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/parleyhq/parley/internal/testkit"
)

// The Messenger across two nodes (one PostgreSQL, one NATS): a visitor
// booted on node A holds its socket on node B; a teammate's typing and
// reply on A reach it live, the visitor's typing on B reaches a teammate
// on A — typing only over the bus, never the log — and an upload made
// through A is served by the node that stored it.
func TestMessengerAcrossTwoNodes(t *testing.T) {
	token := "bootstrap-token-messenger-0123"
	a, b := twoNodes(t, token)

	call := func(p *proc, method, path, bearer string, body any) map[string]any {
		t.Helper()
		data, _ := json.Marshal(body)
		req, _ := http.NewRequest(method, "http://"+p.addr+path, bytes.NewReader(data))
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Origin", "https://shop.example")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		if resp.StatusCode/100 != 2 {
			t.Fatalf("%s %s on %s: %d %v", method, path, p.addr, resp.StatusCode, out)
		}
		if resp.Header.Get("Access-Control-Allow-Origin") != "*" && strings.HasPrefix(path, "/messenger/v1/") {
			t.Fatalf("%s: no CORS header", path)
		}
		return out
	}
	socket := func(p *proc, path string, hello map[string]any) <-chan map[string]any {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		header := http.Header{}
		if strings.HasPrefix(path, "/messenger/") {
			header.Set("Origin", "https://shop.example") // any site may embed the Messenger
		}
		ws, _, err := websocket.Dial(ctx, "ws://"+p.addr+path, &websocket.DialOptions{HTTPHeader: header})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ws.CloseNow() })
		data, _ := json.Marshal(hello)
		if err := ws.Write(ctx, websocket.MessageText, data); err != nil {
			t.Fatal(err)
		}
		frames := testkit.Frames(ws, 100)
		return frames
	}
	// next returns the next frame of the type (skipping others), well
	// within the nodes' 5-second log poll.
	next := func(frames <-chan map[string]any, kind, what string) map[string]any {
		t.Helper()
		deadline := time.After(3 * time.Second)
		for {
			select {
			case f, ok := <-frames:
				if !ok {
					t.Fatalf("%s: socket closed", what)
				}
				if f["type"] == kind {
					return f
				}
			case <-deadline:
				t.Fatalf("%s: nothing within 3 s", what)
			}
		}
	}

	app := call(a, "GET", "/me", token, nil)["app"].(map[string]any)["id_code"].(string)
	boot := call(a, "POST", "/messenger/v1/boot", "", map[string]any{"app_id": app})
	session := boot["session_token"].(string)
	conv := call(a, "POST", "/messenger/v1/conversations", session, map[string]any{"body": "hello from node A"})
	id := conv["id"].(string)

	visitor := socket(b, "/messenger/v1/realtime", map[string]any{"type": "hello", "session_token": session})
	next(visitor, "welcome", "visitor welcome")
	teammate := socket(a, "/realtime", map[string]any{"type": "hello", "token": token})
	next(teammate, "welcome", "teammate welcome")

	call(a, "POST", "/conversations/"+id+"/typing", token, nil)
	if f := next(visitor, "typing", "teammate typing on A → visitor on B"); f["conversation_id"] != id {
		t.Fatalf("typing frame %v", f)
	}
	call(a, "POST", "/conversations/"+id+"/reply", token, map[string]any{"message_type": "comment", "type": "admin", "body": "Hi from A"})
	f := next(visitor, "event", "reply on A → visitor on B")
	if f["topic"] != "conversation.admin.replied" || !strings.Contains(f["part"].(map[string]any)["body"].(string), "Hi from A") {
		t.Fatalf("reply frame %v", f)
	}
	call(b, "POST", "/messenger/v1/conversations/"+id+"/typing", session, nil)
	if f := next(teammate, "typing", "visitor typing on B → teammate on A"); f["conversation_id"] != id {
		t.Fatalf("teammate typing frame %v", f)
	}

	// An upload lands in node A's data directory.
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("file", "note.txt")
	fw.Write([]byte("hello"))
	mw.Close()
	req, _ := http.NewRequest("POST", "http://"+a.addr+"/messenger/v1/attachments", &body)
	req.Header.Set("Authorization", "Bearer "+session)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var up map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&up)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("upload: %d %v", resp.StatusCode, up)
	}
	if code, got := get(t, a.addr, up["url"].(string), session); code != 200 || got != "hello" {
		t.Fatalf("download from A: %d %q", code, got)
	}
}
