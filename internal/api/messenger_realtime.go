package api

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/coder/websocket"

	"github.com/parleyhq/parley/internal/bus"
	"github.com/parleyhq/parley/internal/eventlog"
	"github.com/parleyhq/parley/internal/messenger"
	"github.com/parleyhq/parley/internal/realtime"
)

// GET /messenger/v1/realtime: the visitor's socket (docs/messenger.md).
// Any origin may connect; the only credential is the session token in the
// first message (no cookies, no query string).
func (m *messengerAPI) realtime(w http.ResponseWriter, r *http.Request) error {
	hub := m.s.opts.Realtime
	if hub == nil {
		return notFound("not_found", "Realtime delivery is not enabled on this server")
	}
	if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		return errf(http.StatusBadRequest, "bad_request", "GET /messenger/v1/realtime is a WebSocket endpoint: send an Upgrade: websocket request")
	}
	ws, err := websocket.Accept(freshDeadlines{w}, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
	if err != nil {
		return nil // Accept answered the handshake
	}
	ctx := context.WithoutCancel(r.Context())
	var hello struct {
		Type         string `json:"type"`
		SessionToken string `json:"session_token"`
		After        *int64 `json:"after"`
	}
	if !readHello(ctx, ws, &hello, `the first message must be {"type":"hello","session_token":…,"after":…}`) {
		return nil
	}
	vs, err := m.resolve(ctx, hello.SessionToken)
	if err != nil {
		ws.Close(websocket.StatusPolicyViolation, "Messenger session invalid or expired; boot again")
		return nil
	}
	from, err := m.s.resumePoint(ctx, vs.ws, hello.After)
	if err != nil {
		ws.Close(websocket.StatusPolicyViolation, err.Error())
		return nil
	}
	feed := &visitorFeed{cache: &m.parsed, contacts: map[string]bool{}, convs: map[string]bool{}}
	if vs.visitor != nil {
		feed.visitorID = vs.visitor.ID
	}
	if vs.contact != nil {
		feed.contacts[vs.contact.ID] = true
		list, err := m.st.ConversationIDs(ctx, vs.ws, vs.contact.ID, 10000)
		if err != nil {
			ws.Close(websocket.StatusInternalError, "could not load conversations")
			return nil
		}
		for _, id := range list {
			feed.convs[strconv.FormatInt(id, 10)] = true
		}
	}
	_ = hub.Serve(ctx, ws, realtime.Subscription{Workspace: vs.ws, After: from, Render: feed.render, Signal: feed.signal})
	return nil
}

// readHello reads a socket's first message, {"type":"hello",…}, into
// hello within helloTimeout. Anything else closes the socket (1008, with
// usage as the reason) and reports false.
func readHello(ctx context.Context, ws *websocket.Conn, hello any, usage string) bool {
	hctx, cancel := context.WithTimeout(ctx, helloTimeout)
	defer cancel()
	ws.SetReadLimit(4 << 10)
	_, data, err := ws.Read(hctx)
	if err != nil {
		ws.CloseNow()
		return false
	}
	var kind struct {
		Type string `json:"type"`
	}
	if json.Unmarshal(data, &kind) != nil || kind.Type != "hello" || json.Unmarshal(data, hello) != nil {
		ws.Close(websocket.StatusPolicyViolation, usage)
		return false
	}
	return true
}

// visitorFeed decides, per connection, which events are the visitor's and
// renders them visitor-safe. It learns in log order: a visitor.converted
// event names the lead an anonymous visitor became; a conversation event
// listing one of the visitor's contacts makes the conversation theirs.
type visitorFeed struct {
	cache     *parsedEvents
	mu        sync.Mutex
	visitorID string
	contacts  map[string]bool
	convs     map[string]bool
}

func (f *visitorFeed) render(e *eventlog.Event) []byte {
	if e.Topic == "visitor.converted" || e.Topic == "visitor.signed_up" {
		if f.visitorID == "" || e.Topic == "visitor.signed_up" {
			return nil // a visitor who became a user must boot as that user
		}
		var it struct {
			Visitor struct {
				ID string `json:"id"`
			} `json:"visitor"`
			Contact struct {
				ID string `json:"id"`
			} `json:"contact"`
		}
		if json.Unmarshal(e.Item, &it) == nil && it.Visitor.ID == f.visitorID {
			f.mu.Lock()
			f.contacts[it.Contact.ID] = true
			f.mu.Unlock()
		}
		return nil
	}
	if !strings.HasPrefix(e.Topic, "conversation.") {
		return nil
	}
	ev, ok := f.cache.parse(e)
	if !ok {
		return nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if ev.Contacts != nil {
		mine := false
		for _, c := range ev.Contacts {
			mine = mine || f.contacts[c]
		}
		if !mine {
			delete(f.convs, ev.ConversationID)
			return nil
		}
		f.convs[ev.ConversationID] = true
	} else if !f.convs[ev.ConversationID] {
		return nil
	}
	return ev.Frame
}

// typingSignal is the data of a typing signal.
type typingSignal struct {
	ConversationID string       `json:"conversation_id"`
	Audience       string       `json:"audience"` // "contacts" or "teammates"
	Author         typingAuthor `json:"author"`
}

type typingAuthor struct {
	Type string  `json:"type"`
	ID   string  `json:"id,omitempty"`
	Name *string `json:"name"`
}

type typingFrame struct {
	Type           string       `json:"type"`
	ConversationID string       `json:"conversation_id"`
	Author         typingAuthor `json:"author"`
}

// signal passes teammates' typing in the visitor's conversations.
func (f *visitorFeed) signal(s bus.Signal) []byte {
	if s.Kind != "typing" {
		return nil
	}
	var t typingSignal
	if json.Unmarshal(s.Data, &t) != nil || t.Audience != "contacts" {
		return nil
	}
	f.mu.Lock()
	mine := f.convs[t.ConversationID]
	f.mu.Unlock()
	if !mine {
		return nil
	}
	b, _ := json.Marshal(typingFrame{Type: "typing", ConversationID: t.ConversationID, Author: typingAuthor{Type: t.Author.Type, Name: t.Author.Name}})
	return b
}

// teammateSignal passes contacts' typing to teammates' sockets.
func teammateSignal(s bus.Signal) []byte {
	if s.Kind != "typing" {
		return nil
	}
	var t typingSignal
	if json.Unmarshal(s.Data, &t) != nil || t.Audience != "teammates" {
		return nil
	}
	b, _ := json.Marshal(typingFrame{Type: "typing", ConversationID: t.ConversationID, Author: t.Author})
	return b
}

func (m *messengerAPI) publishTyping(ws string, t typingSignal) {
	if hub := m.s.opts.Realtime; hub != nil {
		data, _ := json.Marshal(t)
		hub.PublishSignal(bus.Signal{Workspace: ws, Kind: "typing", Data: data})
	}
}

// typingNotice is POST /messenger/v1/conversations/{id}/typing: the
// visitor is typing; teammates' sockets are told. Not logged.
func (m *messengerAPI) typingNotice(w http.ResponseWriter, r *http.Request) error {
	vs := sessionOf(r)
	id, err := m.ownConversation(r)
	if err != nil {
		return err
	}
	m.publishTyping(vs.ws, typingSignal{ConversationID: strconv.FormatInt(id, 10), Audience: "teammates",
		Author: typingAuthor{Type: vs.contact.Role, ID: vs.contact.ID, Name: vs.contact.Name}})
	w.WriteHeader(http.StatusAccepted)
	return nil
}

// adminTyping is POST /conversations/{id}/typing (API token, Parley
// extension): a teammate is typing; the conversation's contacts are told.
func (m *messengerAPI) adminTyping(w http.ResponseWriter, r *http.Request) error {
	auth := authOf(r.Context())
	id, ok := parseConversationID(r.PathValue("id"))
	if !ok {
		return errNoSuchConversation
	}
	if _, err := m.st.Seen(r.Context(), auth.WorkspaceID, id); err != nil {
		return conversationErr(err)
	}
	var name *string
	if auth.AdminID != 0 {
		if a, err := m.s.workspaces.Admin(r.Context(), auth.WorkspaceID, auth.AdminID); err == nil {
			name = &a.Name
		}
	}
	m.publishTyping(auth.WorkspaceID, typingSignal{ConversationID: strconv.FormatInt(id, 10), Audience: "contacts",
		Author: typingAuthor{Type: "admin", ID: strconv.FormatInt(auth.AdminID, 10), Name: name}})
	w.WriteHeader(http.StatusAccepted)
	return nil
}

// parsedEvents caches messenger.ParseEvent per event: every visitor
// connection of a workspace looks at the same events.
type parsedEvents struct {
	mu    sync.Mutex
	m     map[parsedKey]parsed
	order []parsedKey
}

type parsedKey struct {
	ws  string
	seq int64
}

type parsed struct {
	ev messenger.Event
	ok bool
}

const parsedCacheSize = 4096

func (p *parsedEvents) parse(e *eventlog.Event) (messenger.Event, bool) {
	k := parsedKey{e.WorkspaceID, e.Seq}
	p.mu.Lock()
	if v, hit := p.m[k]; hit {
		p.mu.Unlock()
		return v.ev, v.ok
	}
	p.mu.Unlock()
	ev, ok := messenger.ParseEvent(e)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.m == nil {
		p.m = map[parsedKey]parsed{}
	}
	if _, hit := p.m[k]; !hit {
		p.m[k] = parsed{ev, ok}
		p.order = append(p.order, k)
		if len(p.order) > parsedCacheSize {
			delete(p.m, p.order[0])
			p.order = p.order[1:]
		}
	}
	return ev, ok
}
