package api

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/coder/websocket"

	"github.com/parleyhq/parley/internal/eventlog"
	"github.com/parleyhq/parley/internal/realtime"
	"github.com/parleyhq/parley/internal/workspace"
)

// GET /realtime: the teammates' WebSocket (docs/realtime.md). The token
// comes in the Authorization header or, for browsers, which cannot set
// headers on a WebSocket, in the first message:
// {"type":"hello","token":"…","after":12}. `after` (query or message) is
// the last sequence the client has; without it delivery starts now.
func (s *Server) realtimeRoutes() {
	s.mux.Handle("GET /realtime", s.wrap(s.realtimeConnect, false))
}

// helloTimeout bounds how long an unauthenticated socket may stay silent.
const helloTimeout = 10 * time.Second

type helloMessage struct {
	Type  string `json:"type"`
	Token string `json:"token"`
	After *int64 `json:"after"`
}

func (s *Server) realtimeConnect(w http.ResponseWriter, r *http.Request) error {
	hub := s.opts.Realtime
	if hub == nil {
		return notFound("not_found", "Realtime delivery is not enabled on this server")
	}
	var after *int64
	if v := r.URL.Query().Get("after"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return fieldErr("after", "after must be a sequence number (a non-negative integer), not %q", v)
		}
		after = &n
	}
	var tok *workspace.Token
	if r.Header.Get("Authorization") != "" {
		t, err := s.authenticate(r)
		if err != nil {
			return err
		}
		tok = t
		if _, err := s.resumePoint(r.Context(), tok.WorkspaceID, after); err != nil {
			return err
		}
	}
	if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		return errf(http.StatusBadRequest, "bad_request", "GET /realtime is a WebSocket endpoint: send an Upgrade: websocket request")
	}
	// Same-origin browsers and non-browser clients only (the default
	// origin check): the Messenger's endpoint is the cross-origin one.
	ws, err := websocket.Accept(freshDeadlines{w}, r, nil)
	if err != nil {
		return nil // Accept answered the handshake
	}
	ctx := context.WithoutCancel(r.Context())
	if tok == nil {
		var hello helloMessage
		if !readHello(ctx, ws, &hello, `the first message must be {"type":"hello","token":…,"after":…}`) {
			return nil
		}
		if tok, err = s.tokenFor(ctx, hello.Token); err != nil {
			ws.Close(websocket.StatusPolicyViolation, "Access Token Invalid")
			return nil
		}
		if hello.After != nil {
			after = hello.After
		}
	}
	from, err := s.resumePoint(ctx, tok.WorkspaceID, after)
	if err != nil {
		ws.Close(websocket.StatusPolicyViolation, err.Error())
		return nil
	}
	_ = hub.Serve(ctx, ws, realtime.Subscription{Workspace: tok.WorkspaceID, After: from, Signal: teammateSignal})
	return nil
}

// resumePoint is the sequence delivery starts after: the client's, which
// cannot be beyond the log (a client ahead of the server holds state this
// server never had), or the log's head.
func (s *Server) resumePoint(ctx context.Context, workspaceID string, after *int64) (int64, error) {
	head, err := eventlog.Head(ctx, s.db.Read(), workspaceID)
	if err != nil {
		return 0, err
	}
	if after == nil {
		return head, nil
	}
	if *after < 0 || *after > head {
		return 0, fieldErr("after", "after %d is beyond this workspace's last event (%d); reload and connect without after", *after, head)
	}
	return *after, nil
}

// freshDeadlines clears the deadlines the HTTP server set on the
// connection for reading the request: a WebSocket lives longer than any
// request, and the hub watches it with pings instead. It also swaps the
// HTTP server's 4 KiB read and write buffers, which the socket would keep
// for its whole life, for small ones (see socketBuffers).
type freshDeadlines struct{ http.ResponseWriter }

func (f freshDeadlines) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, brw, err := http.NewResponseController(f.ResponseWriter).Hijack()
	if err == nil {
		_ = c.SetDeadline(time.Time{})
		brw = socketBuffers(c, brw)
	}
	return c, brw, err
}

// Buffer sizes of a hijacked socket. Most sockets are idle most of the
// time, and clients send only small messages (hello, pongs; reads are
// limited to 4 KiB), so a small read buffer costs nothing. Written frames
// larger than the write buffer go out in two writes instead of one. With
// thousands of connections this is 6.5 KiB less per connection
// (docs/benchmarks.md, WebSockets).
const (
	socketReadBuffer  = 512
	socketWriteBuffer = 1024
)

// socketBuffers returns brw with small buffers over c, keeping any bytes
// the HTTP server had already read past the request (a client may send
// its first frame without waiting for the 101): they are moved into the
// new reader's buffer, where the WebSocket library looks for them. A reader
// holding more than fits, or a writer holding unflushed bytes, is kept.
func socketBuffers(c net.Conn, brw *bufio.ReadWriter) *bufio.ReadWriter {
	r, w := brw.Reader, brw.Writer
	if n := r.Buffered(); n <= socketReadBuffer {
		pending, _ := r.Peek(n)
		small := bufio.NewReaderSize(io.MultiReader(bytes.NewReader(bytes.Clone(pending)), c), socketReadBuffer)
		if _, err := small.Peek(n); err == nil {
			r = small
		}
	}
	if w.Buffered() == 0 {
		w = bufio.NewWriterSize(c, socketWriteBuffer)
	}
	return bufio.NewReadWriter(r, w)
}
