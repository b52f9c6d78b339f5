// Package echo is a minimal WebSocket hold/broadcast server on the same
// library as Parley's realtime hub (github.com/coder/websocket). It is the
// ceiling Parley's socket figures are read against (bench/README.md,
// docs/benchmarks.md): what this machine and this library can do with no
// application behind the socket.
//
//	GET  /ws       WebSocket. The first message is {"type":"hello","subscribe":bool};
//	               the server answers {"type":"welcome"}, then echoes every message
//	               back. A subscriber also receives every published message.
//	POST /publish  the body (up to 64 KiB) is written as a text message to every
//	               subscriber; 202 when it has been handed to each of them.
//	GET  /healthz  200 "ok".
//
// Like Parley's hub it holds, per connection, one goroutine reading (here the
// HTTP handler's own) and the library's state; unlike it, no queue, no
// event log, no database, no authentication: the minimum.
package echo

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// WriteTimeout drops a subscriber whose write blocks this long.
const WriteTimeout = 10 * time.Second

// Server is the echo/broadcast server. The zero value is not usable: call New.
type Server struct {
	mu   sync.Mutex
	subs map[*websocket.Conn]struct{} // subscribers
	mux  *http.ServeMux
}

// New returns a server; it is an http.Handler.
func New() *Server {
	s := &Server{subs: map[*websocket.Conn]struct{}{}, mux: http.NewServeMux()}
	s.mux.HandleFunc("GET /ws", s.serveWS)
	s.mux.HandleFunc("POST /publish", s.publish)
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") })
	return s
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Subscribers is the number of connections receiving published messages.
func (s *Server) Subscribers() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.subs)
}

func (s *Server) serveWS(w http.ResponseWriter, r *http.Request) {
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
	if err != nil {
		return // Accept answered
	}
	ws.SetReadLimit(4 << 10)
	ctx := context.WithoutCancel(r.Context())
	hctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	_, data, err := ws.Read(hctx)
	cancel()
	if err != nil {
		ws.CloseNow()
		return
	}
	var hello struct {
		Type      string `json:"type"`
		Subscribe bool   `json:"subscribe"`
	}
	if json.Unmarshal(data, &hello) != nil || hello.Type != "hello" {
		ws.Close(websocket.StatusPolicyViolation, `the first message must be {"type":"hello"}`)
		return
	}
	if hello.Subscribe {
		s.mu.Lock()
		s.subs[ws] = struct{}{}
		s.mu.Unlock()
		defer func() {
			s.mu.Lock()
			delete(s.subs, ws)
			s.mu.Unlock()
		}()
	}
	// Subscribed before the welcome: a client that has it receives every
	// message published from then on.
	if err := write(ctx, ws, websocket.MessageText, []byte(`{"type":"welcome"}`)); err != nil {
		ws.CloseNow()
		return
	}
	for {
		typ, msg, err := ws.Read(ctx)
		if err != nil {
			ws.CloseNow()
			return
		}
		if err := write(ctx, ws, typ, msg); err != nil {
			ws.CloseNow()
			return
		}
	}
}

func (s *Server) publish(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 64<<10))
	if err != nil {
		http.Error(w, "body too large or unreadable", http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	subs := make([]*websocket.Conn, 0, len(s.subs))
	for c := range s.subs {
		subs = append(subs, c)
	}
	s.mu.Unlock()
	for _, c := range subs {
		if err := write(r.Context(), c, websocket.MessageText, body); err != nil {
			c.CloseNow() // its reader returns and unsubscribes it
		}
	}
	w.WriteHeader(http.StatusAccepted)
}

// write sends one message (coder/websocket serialises concurrent writers).
func write(ctx context.Context, ws *websocket.Conn, typ websocket.MessageType, data []byte) error {
	ctx, cancel := context.WithTimeout(ctx, WriteTimeout)
	defer cancel()
	return ws.Write(ctx, typ, data)
}
