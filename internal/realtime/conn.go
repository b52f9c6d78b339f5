package realtime

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/parleyhq/parley/internal/bus"
	"github.com/parleyhq/parley/internal/eventlog"
)

// Subscription is what a connection asks for.
type Subscription struct {
	Workspace string
	// After is the last sequence the client has; it receives every event
	// after it (that Filter lets through), in order, then live events.
	After  int64
	Filter Filter // nil: every event of the workspace
	// Render, when set, replaces the frame of each event the filter lets
	// through: it returns the message this connection is sent, or nil to
	// skip the event (which still advances the connection's cursor). The
	// Messenger uses it to send visitors a visitor-safe form. Like Filter
	// it runs on hub goroutines and must be fast and not block; it may be
	// called concurrently for one connection.
	Render func(e *eventlog.Event) []byte
	// Signal, when set, receives the workspace's ephemeral signals
	// (typing indicators) and returns the message to send, or nil. Without
	// it the connection receives none.
	Signal func(s bus.Signal) []byte
}

// welcomeFrame is the first message on a connection.
type welcomeFrame struct {
	Type        string `json:"type"`
	WorkspaceID string `json:"workspace_id"`
	After       int64  `json:"after"`
}

// Serve starts delivering sub's events on ws and returns; the connection
// then lives on its own: a goroutine reads (and discards) what the client
// sends, so that pings, pongs and close frames are answered, until the
// connection ends. The hub owns ws from here on and closes it; the caller's
// goroutine (an HTTP handler whose stack grew while authenticating) is
// released, which keeps an idle connection small.
func (h *Hub) Serve(ctx context.Context, ws *websocket.Conn, sub Subscription) error {
	ws.SetReadLimit(4 << 10)
	c := &conn{hub: h, ws: ws, workspace: sub.Workspace, filter: sub.Filter, render: sub.Render, signal: sub.Signal, sent: sub.After}
	c.alive.Store(time.Now().UnixNano())
	welcome, _ := json.Marshal(welcomeFrame{Type: "welcome", WorkspaceID: sub.Workspace, After: sub.After})
	if err := c.write(welcome); err != nil {
		ws.CloseNow()
		return err
	}
	if err := h.watch(ctx, sub.Workspace); err != nil {
		ws.Close(websocket.StatusInternalError, "event log unavailable")
		return err
	}
	c.shard = h.shards[h.next.Add(1)%uint64(len(h.shards))]
	select {
	case c.shard.cmds <- register{c}:
	case <-h.ctx.Done():
		h.unwatch(sub.Workspace)
		ws.CloseNow()
		return h.ctx.Err()
	}
	go c.readLoop()
	return nil
}

// readLoop reads until the connection ends, then lets the hub forget it.
func (c *conn) readLoop() {
	defer func() {
		c.close(websocket.StatusNormalClosure, "")
		select {
		case c.shard.cmds <- unregister{c}:
		case <-c.hub.ctx.Done():
		}
		c.hub.unwatch(c.workspace)
	}()
	for {
		_, r, err := c.ws.Reader(c.hub.ctx)
		if err != nil {
			return
		}
		c.alive.Store(time.Now().UnixNano())
		// Clients have nothing to say yet: discard what they send.
		if _, err := io.Copy(io.Discard, r); err != nil {
			return
		}
	}
}

// conn is one client. The shard owns its place in the maps; mu guards the
// queue and flags shared with the writer goroutine, which runs only while
// there is something to write and owns sent while it runs.
type conn struct {
	hub       *Hub
	shard     *shard
	ws        *websocket.Conn
	workspace string
	filter    Filter
	render    func(e *eventlog.Event) []byte
	signal    func(s bus.Signal) []byte
	signaling atomic.Bool // a signal is being written

	alive   atomic.Int64 // last sign of life (a read or a pong), unix ns
	pinging atomic.Bool

	mu      sync.Mutex
	queue   []item
	spare   []item
	writing bool  // a writer goroutine runs
	started bool  // the first catch-up from the log is done
	behind  int64 // items up to here were discarded while catching up: read them from the log
	closed  bool
	sent    int64 // everything up to this sequence has been delivered (or filtered out)
}

// item covers the sequences (after, upto]: f is the event at upto, or nil
// when none of them passes the connection's filter.
type item struct {
	after, upto int64
	f           *frame
}

// enqueue adds b's events that c may see.
func (c *conn) enqueue(b *batch) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	prev := b.after
	for _, f := range b.frames {
		f = c.frameFor(f)
		if f == nil {
			continue
		}
		c.push(item{after: prev, upto: f.ev.Seq, f: f})
		prev = f.ev.Seq
	}
	if prev < b.upto {
		c.push(item{after: prev, upto: b.upto})
	}
}

// push appends it (with c.mu held), merging adjacent ranges that carry no
// frame, and starts the writer.
func (c *conn) push(it item) {
	if !c.writing && len(c.queue) == 0 && it.f == nil && it.after <= c.sent {
		// Nothing to write and no gap: just move the cursor.
		c.sent = max(c.sent, it.upto)
		return
	}
	if n := len(c.queue); n > 0 && c.queue[n-1].f == nil && c.queue[n-1].upto == it.after {
		it.after = c.queue[n-1].after
		c.queue = c.queue[:n-1]
	}
	if len(c.queue) >= c.hub.opts.QueueSize {
		// The log is the buffer: forget the queue, and the writer reads
		// these events from the log at the client's pace. A client that
		// does not read at all is dropped by the write timeout.
		c.behind = max(c.behind, it.upto)
		clear(c.queue)
		c.queue = c.queue[:0]
		c.kick()
		return
	}
	c.queue = append(c.queue, it)
	c.kick()
}

// kick starts the writer if it is not running (c.mu held).
func (c *conn) kick() {
	if !c.writing && !c.closed {
		c.writing = true
		go c.writeLoop()
	}
}

// writeLoop delivers: first the backlog from the log, then queued items,
// reading any gap from the log. It exits when there is nothing left.
func (c *conn) writeLoop() {
	ctx := c.hub.ctx
	for {
		c.mu.Lock()
		if c.closed {
			c.writing = false
			c.mu.Unlock()
			return
		}
		if !c.started || c.behind > c.sent {
			c.mu.Unlock()
			if err := c.catchUp(ctx); err != nil {
				c.fail(err)
				return
			}
			c.mu.Lock()
			c.started = true
			c.mu.Unlock()
			continue
		}
		if len(c.queue) == 0 {
			c.writing = false
			if cap(c.spare) > 64 {
				c.spare = nil // give a burst's memory back
			}
			c.mu.Unlock()
			return
		}
		q := c.queue
		c.queue, c.spare = c.spare[:0], nil
		c.mu.Unlock()
		for _, it := range q {
			if err := c.deliver(ctx, it); err != nil {
				c.fail(err)
				return
			}
		}
		clear(q)
		c.mu.Lock()
		c.spare = q[:0]
		c.mu.Unlock()
	}
}

// deliver sends it unless it was already sent, reading a gap before it
// from the log.
func (c *conn) deliver(ctx context.Context, it item) error {
	if it.upto <= c.sent {
		return nil // a duplicate: the log read covered it
	}
	if it.after > c.sent {
		if err := c.catchUp(ctx); err != nil {
			return err
		}
		if it.upto <= c.sent {
			return nil
		}
		if it.after > c.sent {
			return fmt.Errorf("event log of %s ends at %d, before %d", c.workspace, c.sent, it.upto)
		}
	}
	if it.f != nil {
		if err := c.write(it.f.data); err != nil {
			return err
		}
	}
	c.sent = it.upto
	return nil
}

// catchUp sends every event after c.sent up to the end of the log.
func (c *conn) catchUp(ctx context.Context) error {
	n := c.hub.opts.ReplayBatch
	for {
		evs, err := c.hub.log.Since(ctx, c.workspace, c.sent, n)
		if err != nil {
			return fmt.Errorf("read event log: %w", err)
		}
		for i := range evs {
			e := &evs[i]
			if e.Seq != c.sent+1 {
				return fmt.Errorf("event log of %s has %d after %d", c.workspace, e.Seq, c.sent)
			}
			if f := c.replayFrame(e); f != nil {
				if err := c.write(f.data); err != nil {
					return err
				}
			}
			c.sent = e.Seq
		}
		if len(evs) < n {
			return nil
		}
	}
}

// frameFor returns the frame c is sent for f's event, or nil when the
// connection skips it.
func (c *conn) frameFor(f *frame) *frame {
	if c.filter != nil && !c.filter(f.ev) {
		return nil
	}
	if c.render == nil {
		return f
	}
	data := c.render(f.ev)
	if data == nil {
		return nil
	}
	return &frame{ev: f.ev, data: data}
}

// replayFrame is frameFor for an event read from the log: the workspace's
// frame is only rendered when this connection is sent it (a visitor
// catching up skips most of the workspace's events).
func (c *conn) replayFrame(e *eventlog.Event) *frame {
	if c.render != nil || (c.filter != nil && !c.filter(e)) {
		return c.frameFor(&frame{ev: e})
	}
	return newFrame(e)
}

// sendSignal writes an ephemeral message outside the ordered queue. One
// at a time: while one is being written, others are dropped (a typing
// indicator is worth nothing late).
func (c *conn) sendSignal(s bus.Signal) {
	if c.signal == nil {
		return
	}
	data := c.signal(s)
	if data == nil || !c.signaling.CompareAndSwap(false, true) {
		return
	}
	c.mu.Lock()
	closed := c.closed
	c.mu.Unlock()
	if closed {
		c.signaling.Store(false)
		return
	}
	go func() {
		defer c.signaling.Store(false)
		_ = c.write(data)
	}()
}

func (c *conn) write(data []byte) error {
	ctx, cancel := context.WithTimeout(c.hub.ctx, c.hub.opts.WriteTimeout)
	defer cancel()
	return c.ws.Write(ctx, websocket.MessageText, data)
}

// fail ends the connection after a write or log error; the client resumes.
func (c *conn) fail(err error) {
	c.mu.Lock()
	c.writing = false
	c.mu.Unlock()
	if c.hub.ctx.Err() == nil {
		slog.Debug("realtime: connection dropped", "workspace", c.workspace, "err", err)
		c.close(websocket.StatusTryAgainLater, "delivery failed; resume from the last sequence")
	}
}

// close ends the connection once; the reader then returns and the shard
// forgets it. It never blocks.
func (c *conn) close(code websocket.StatusCode, reason string) {
	c.mu.Lock()
	already := c.closed
	c.closed = true
	c.mu.Unlock()
	if !already {
		go c.ws.Close(code, reason)
	}
}

// ping checks a silent client is still there.
func (c *conn) ping() {
	if !c.pinging.CompareAndSwap(false, true) {
		return
	}
	go func() {
		defer c.pinging.Store(false)
		ctx, cancel := context.WithTimeout(c.hub.ctx, c.hub.opts.PongTimeout)
		defer cancel()
		if err := c.ws.Ping(ctx); err != nil {
			c.close(websocket.StatusPolicyViolation, "no pong")
			return
		}
		c.alive.Store(time.Now().UnixNano())
	}()
}
