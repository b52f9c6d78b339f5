// Package realtime delivers a workspace's events to WebSocket clients, live
// and with resume: a client that reconnects with the last sequence it saw
// receives exactly what it missed, in order, without duplicates, then live
// events without a gap at the seam (DESIGN.md §1, §4).
//
// How: the event log is the only source. Per workspace a node keeps one
// cursor (the tailer's); when the bus says the log moved on, the tailer reads
// the new events once, renders each frame once, and hands the batch to the
// shards. A shard is one goroutine owning its connections' map; it appends
// to each connection's bounded queue items that cover a contiguous range of
// sequences ("(after, upto]"), so a connection's writer can tell a
// duplicate (already sent) from a gap (read it from the log) by arithmetic
// alone. Every connection therefore holds one invariant: it has been sent
// everything its filter lets through up to its cursor, and nothing else.
package realtime

import (
	"context"
	"encoding/json"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parleyhq/parley/internal/bus"
	"github.com/parleyhq/parley/internal/eventlog"
	"github.com/parleyhq/parley/internal/store"
)

// Log is the event log the hub reads.
type Log interface {
	Since(ctx context.Context, workspaceID string, after int64, limit int) ([]eventlog.Event, error)
	Head(ctx context.Context, workspaceID string) (int64, error)
}

// DBLog reads the event log from a database's read pool.
type DBLog struct{ DB *store.DB }

// Since implements Log.
func (l DBLog) Since(ctx context.Context, ws string, after int64, limit int) ([]eventlog.Event, error) {
	return eventlog.Since(ctx, l.DB.Read(), ws, after, limit)
}

// Head implements Log.
func (l DBLog) Head(ctx context.Context, ws string) (int64, error) {
	return eventlog.Head(ctx, l.DB.Read(), ws)
}

// Filter decides whether a connection sees an event (the Messenger limits a
// visitor to their own conversations). It runs on a hub goroutine for every
// event of the workspace: it must be fast and must not block.
type Filter func(e *eventlog.Event) bool

// Options tune the hub; zero values mean the defaults.
type Options struct {
	Shards       int           // hub goroutines (default: GOMAXPROCS, at least 2)
	QueueSize    int           // frames waiting per connection before it is dropped (default 256)
	PingInterval time.Duration // ping a connection silent for this long (default 25 s)
	PongTimeout  time.Duration // close it if the pong takes longer (default 15 s)
	WriteTimeout time.Duration // close a connection whose write blocks this long (default 10 s)
	PollInterval time.Duration // re-read watched workspaces' logs in case a notice was lost (default 5 s)
	ReplayBatch  int           // events read from the log at a time (default 500)
}

func (o *Options) defaults() {
	if o.Shards <= 0 {
		o.Shards = max(2, runtime.GOMAXPROCS(0))
	}
	if o.QueueSize <= 0 {
		o.QueueSize = 256
	}
	if o.PingInterval <= 0 {
		o.PingInterval = 25 * time.Second
	}
	if o.PongTimeout <= 0 {
		o.PongTimeout = 15 * time.Second
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = 10 * time.Second
	}
	if o.PollInterval <= 0 {
		o.PollInterval = 5 * time.Second
	}
	if o.ReplayBatch <= 0 {
		o.ReplayBatch = 500
	}
}

// Hub holds a node's realtime connections.
type Hub struct {
	log    Log
	opts   Options
	shards []*shard
	next   atomic.Uint64
	ctx    context.Context // ends when Run returns
	cancel context.CancelFunc

	mu    sync.Mutex
	feeds map[string]*feed // watched workspaces
	wake  chan struct{}

	signals atomic.Pointer[bus.Signaler] // carries signals to every node; nil: this node only
}

// UseBus makes PublishSignal go through b, so that signals reach the
// connections of every node (the hub must also be subscribed to b).
func (h *Hub) UseBus(b bus.Signaler) { h.signals.Store(&b) }

// PublishSignal sends an ephemeral signal (a typing indicator) to the
// workspace's connections on every node; it is never logged or replayed.
func (h *Hub) PublishSignal(s bus.Signal) {
	if b := h.signals.Load(); b != nil {
		(*b).PublishSignal(s)
		return
	}
	h.Signal(s)
}

// Signal implements bus.SignalHandler: hand s to the shards, which pass
// it to the workspace's connections that take signals. It never blocks:
// with a shard's queue full, the signal is dropped for that shard.
func (h *Hub) Signal(s bus.Signal) {
	h.mu.Lock()
	watched := h.feeds[s.Workspace] != nil
	h.mu.Unlock()
	if !watched {
		return
	}
	for _, sh := range h.shards {
		select {
		case sh.cmds <- s:
		default:
		}
	}
}

// feed is the tailer's cursor over one watched workspace.
type feed struct {
	listeners int
	cursor    int64 // last sequence handed to the shards
	dirty     bool  // the log may have moved past cursor
}

// New returns a hub reading log. Run must be running for it to deliver.
func New(log Log, opts Options) *Hub {
	opts.defaults()
	ctx, cancel := context.WithCancel(context.Background())
	h := &Hub{log: log, opts: opts, ctx: ctx, cancel: cancel, feeds: map[string]*feed{}, wake: make(chan struct{}, 1)}
	for range opts.Shards {
		h.shards = append(h.shards, newShard(h))
	}
	return h
}

// Notify implements bus.Handler: the logs of these workspaces moved on.
func (h *Hub) Notify(ns []bus.Notice) {
	h.mu.Lock()
	woken := false
	for _, n := range ns {
		if f := h.feeds[n.Workspace]; f != nil && n.Seq > f.cursor {
			f.dirty, woken = true, true
		}
	}
	h.mu.Unlock()
	if woken {
		h.signal()
	}
}

// Lost implements bus.Handler: re-read every watched workspace's log.
func (h *Hub) Lost() {
	h.mu.Lock()
	for _, f := range h.feeds {
		f.dirty = true
	}
	h.mu.Unlock()
	h.signal()
}

func (h *Hub) signal() {
	select {
	case h.wake <- struct{}{}:
	default:
	}
}

// Run runs the shards and the tailer until ctx ends, then closes every
// connection (clients resume on another node or after the restart).
func (h *Hub) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for _, s := range h.shards {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.run(h.ctx)
		}()
	}
	poll := time.NewTicker(h.opts.PollInterval)
	defer poll.Stop()
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case <-poll.C:
			h.Lost()
		case <-h.wake:
			h.tail(ctx)
		}
	}
	h.cancel()
	wg.Wait()
	return nil
}

// watch registers a listener of ws; the first one sets the workspace's
// cursor to the log's head *before* its connection reads the log, so every
// event after what the connection reads is handed to the shards after the
// connection joined them.
func (h *Hub) watch(ctx context.Context, ws string) error {
	h.mu.Lock()
	if f := h.feeds[ws]; f != nil {
		f.listeners++
		h.mu.Unlock()
		return nil
	}
	h.mu.Unlock()
	head, err := h.log.Head(ctx, ws)
	if err != nil {
		return err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if f := h.feeds[ws]; f != nil {
		f.listeners++
		return nil
	}
	h.feeds[ws] = &feed{listeners: 1, cursor: head}
	return nil
}

func (h *Hub) unwatch(ws string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if f := h.feeds[ws]; f != nil {
		if f.listeners--; f.listeners <= 0 {
			delete(h.feeds, ws)
		}
	}
}

// tail reads the new events of every dirty workspace and hands them to the
// shards, each frame rendered once.
func (h *Hub) tail(ctx context.Context) {
	for {
		h.mu.Lock()
		var ws string
		var from int64
		for id, f := range h.feeds {
			if f.dirty {
				ws, from = id, f.cursor
				f.dirty = false
				break
			}
		}
		h.mu.Unlock()
		if ws == "" {
			return
		}
		for {
			evs, err := h.log.Since(ctx, ws, from, h.opts.ReplayBatch)
			if err != nil {
				if ctx.Err() == nil {
					slog.Warn("realtime: read event log", "workspace", ws, "err", err)
				}
				break // the next poll retries
			}
			if len(evs) == 0 {
				break
			}
			b := &batch{workspace: ws, after: from, frames: make([]*frame, len(evs))}
			for i := range evs {
				b.frames[i] = newFrame(&evs[i])
			}
			from = evs[len(evs)-1].Seq
			b.upto = from
			for _, s := range h.shards {
				select {
				case s.cmds <- b:
				case <-h.ctx.Done():
					return
				}
			}
			h.mu.Lock()
			if f := h.feeds[ws]; f != nil && f.cursor < from {
				f.cursor = from
			}
			h.mu.Unlock()
			if len(evs) < h.opts.ReplayBatch {
				break
			}
		}
	}
}

// batch is a contiguous range (after, upto] of a workspace's events.
type batch struct {
	workspace   string
	after, upto int64
	frames      []*frame
}

// frame is an event and its WebSocket message.
type frame struct {
	ev   *eventlog.Event
	data []byte
}

// eventFrame is the message a client receives for each event.
type eventFrame struct {
	Type      string          `json:"type"`
	Seq       int64           `json:"seq"`
	Topic     string          `json:"topic"`
	CreatedAt int64           `json:"created_at"`
	Item      json.RawMessage `json:"item"`
}

func newFrame(e *eventlog.Event) *frame {
	data, err := json.Marshal(eventFrame{Type: "event", Seq: e.Seq, Topic: e.Topic, CreatedAt: e.CreatedAt, Item: e.Item})
	if err != nil { // the item came from the log as JSON; cannot fail
		data, _ = json.Marshal(eventFrame{Type: "event", Seq: e.Seq, Topic: e.Topic, CreatedAt: e.CreatedAt, Item: json.RawMessage("null")})
	}
	return &frame{ev: e, data: data}
}
