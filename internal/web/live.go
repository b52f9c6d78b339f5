package web

import (
	"context"
	_ "embed"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/coder/websocket"

	"github.com/parleyhq/parley/internal/bus"
	"github.com/parleyhq/parley/internal/eventlog"
	"github.com/parleyhq/parley/internal/realtime"
)

//go:embed assets/inbox.css
var inboxCSS []byte

//go:embed assets/inbox.js
var inboxJS []byte

func asset(kind string, body []byte) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", kind)
		w.Header().Set("Cache-Control", "public, max-age=300")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		_, _ = w.Write(body)
	})
}

// liveFrame is what the web app's socket sends for each conversation
// event: enough for the page to know what to refresh.
type liveFrame struct {
	Type           string `json:"type"` // event; mention (the teammate was @mentioned); typing (a contact types)
	Seq            int64  `json:"seq,omitempty"`
	Topic          string `json:"topic,omitempty"`
	ConversationID string `json:"conversation_id"`
	Name           string `json:"name,omitempty"` // who types
}

// liveSocket is GET /app/realtime: the teammate socket for the signed-in
// browser, authenticated by the session cookie instead of an access token
// (the page's JavaScript never sees a token). It is the realtime hub's
// delivery (docs/realtime.md) from ?after= (the page's sequence) limited to the workspace's conversation
// events, each as a small frame naming the conversation; the page
// re-renders from the server. Only same-origin pages may open it (the
// WebSocket library's origin check), and the session cookie is SameSite=Lax.
func (s *Server) liveSocket(w http.ResponseWriter, r *http.Request, v *visit) error {
	hub := s.opts.Realtime
	if hub == nil {
		return pageErr(http.StatusNotFound, "Live updates off", "Live updates are not enabled on this server.")
	}
	if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		return pageErr(http.StatusBadRequest, "Not a WebSocket", "This address is the web app's WebSocket.")
	}
	me := strconv.FormatInt(v.admin.ID, 10)
	head, err := eventlog.Head(r.Context(), s.db.Read(), v.ws.ID)
	if err != nil {
		return err
	}
	// after: the page's sequence (or the last frame's), so nothing between
	// rendering and connecting is missed; a bad or future one starts now.
	from := head
	if n, err := strconv.ParseInt(r.URL.Query().Get("after"), 10, 64); err == nil && n >= 0 && n <= head {
		from = n
	}
	// The socket outlives any request deadline the server set.
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Time{})
	_ = rc.SetWriteDeadline(time.Time{})
	ws, err := websocket.Accept(w, r, nil)
	if err != nil {
		return nil // Accept answered the handshake
	}
	_ = hub.Serve(context.WithoutCancel(r.Context()), ws, realtime.Subscription{
		Workspace: v.ws.ID,
		After:     from,
		Filter:    func(e *eventlog.Event) bool { return strings.HasPrefix(e.Topic, "conversation.") },
		Render: func(e *eventlog.Event) []byte {
			var item struct {
				ID             string `json:"id"`
				ConversationID string `json:"conversation_id"` // conversation.contact.seen
				AdminID        string `json:"admin_id"`        // conversation.admin.mentioned
			}
			_ = json.Unmarshal(e.Item, &item)
			f := liveFrame{Type: "event", Seq: e.Seq, Topic: e.Topic, ConversationID: item.ID}
			if f.ConversationID == "" {
				f.ConversationID = item.ConversationID
			}
			if e.Topic == "conversation.admin.mentioned" && item.AdminID == me {
				f.Type = "mention"
			}
			b, _ := json.Marshal(f)
			return b
		},
		Signal: typingFrame,
	})
	return nil
}

// typingFrame passes a contact's typing (the Messenger's typing signal
// for teammates) to the page.
func typingFrame(sig bus.Signal) []byte {
	if sig.Kind != "typing" {
		return nil
	}
	var t struct {
		ConversationID string `json:"conversation_id"`
		Audience       string `json:"audience"`
		Author         struct {
			Name *string `json:"name"`
		} `json:"author"`
	}
	if json.Unmarshal(sig.Data, &t) != nil || t.Audience != "teammates" {
		return nil
	}
	name := "The contact"
	if t.Author.Name != nil && *t.Author.Name != "" {
		name = *t.Author.Name
	}
	b, _ := json.Marshal(liveFrame{Type: "typing", ConversationID: t.ConversationID, Name: name})
	return b
}
