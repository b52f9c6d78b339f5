package api

import (
	"bufio"
	"context"
	"encoding/json"
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
		hctx, cancel := context.WithTimeout(ctx, helloTimeout)
		ws.SetReadLimit(4 << 10)
		_, data, err := ws.Read(hctx)
		cancel()
		if err != nil {
			ws.CloseNow()
			return nil
		}
		var hello helloMessage
		if json.Unmarshal(data, &hello) != nil || hello.Type != "hello" {
			ws.Close(websocket.StatusPolicyViolation, `the first message must be {"type":"hello","token":…,"after":…}`)
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
// request, and the hub watches it with pings instead.
type freshDeadlines struct{ http.ResponseWriter }

func (f freshDeadlines) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, brw, err := http.NewResponseController(f.ResponseWriter).Hijack()
	if err == nil {
		_ = c.SetDeadline(time.Time{})
	}
	return c, brw, err
}
