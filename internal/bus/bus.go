// Package bus carries "workspace W's event log reached sequence S" from the
// node that committed to every node's realtime hub (DESIGN.md §4).
//
// The event log is the source of truth; the bus only says where to look. A
// notice that is lost, late or duplicated costs latency, never an event: a
// hub reads the events themselves from the log after its own cursor, and
// catches up on its own when told notices may have been lost (Lost) or when
// its poll comes round.
package bus

import (
	"sync"
)

// Notice says that a workspace's event log reached Seq.
type Notice struct {
	Workspace string `json:"w"`
	Seq       int64  `json:"s"`
}

// Handler receives notices. Its methods run on the bus's goroutines and
// must not block.
type Handler interface {
	Notify(ns []Notice)
	// Lost is called when notices may have been missed (a reconnection to
	// NATS, a slow subscriber): the handler must catch up from the log.
	Lost()
}

// Bus carries notices to every subscribed handler of every node.
type Bus interface {
	// Publish announces notices; it never blocks on a slow peer and never
	// fails the caller (a lost notice is caught up from the log).
	Publish(ns []Notice)
	// Subscribe adds h; the returned function removes it.
	Subscribe(h Handler) (unsubscribe func())
	Close() error
}

// FromCommit turns the store's commit announcement (workspace → last
// sequence) into notices.
func FromCommit(last map[string]int64) []Notice {
	ns := make([]Notice, 0, len(last))
	for ws, seq := range last {
		ns = append(ns, Notice{Workspace: ws, Seq: seq})
	}
	return ns
}

// Local is the in-process bus: one node, handlers called synchronously.
type Local struct {
	mu       sync.RWMutex
	handlers map[*Handler]struct{}
}

// NewLocal returns an in-process bus.
func NewLocal() *Local { return &Local{handlers: map[*Handler]struct{}{}} }

// Publish calls every handler with ns.
func (l *Local) Publish(ns []Notice) {
	if len(ns) == 0 {
		return
	}
	l.mu.RLock()
	defer l.mu.RUnlock()
	for h := range l.handlers {
		(*h).Notify(ns)
	}
}

// lost tells every handler to catch up from the log.
func (l *Local) lost() {
	l.mu.RLock()
	defer l.mu.RUnlock()
	for h := range l.handlers {
		(*h).Lost()
	}
}

// Subscribe adds h.
func (l *Local) Subscribe(h Handler) func() {
	p := &h
	l.mu.Lock()
	l.handlers[p] = struct{}{}
	l.mu.Unlock()
	return func() {
		l.mu.Lock()
		delete(l.handlers, p)
		l.mu.Unlock()
	}
}

// Close does nothing: the in-process bus holds no resources.
func (l *Local) Close() error { return nil }
