package bus

import (
	"encoding/json"
	"log/slog"

	"github.com/nats-io/nats.go"
)

// Signal is an ephemeral message for the realtime connections of a
// workspace on every node — a typing indicator. Unlike notices it is
// never written to the event log: it is delivered at most once, to the
// connections open when it arrives, and lost if a node is unreachable.
type Signal struct {
	Workspace string          `json:"w"`
	Kind      string          `json:"k"` // e.g. "typing"
	Data      json.RawMessage `json:"d"`
}

// SignalHandler is a Handler that also receives signals.
type SignalHandler interface {
	Signal(s Signal)
}

// Signaler is a bus that carries signals (Local and NATS).
type Signaler interface {
	PublishSignal(s Signal)
}

// PublishSignal calls every handler that receives signals.
func (l *Local) PublishSignal(s Signal) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	for h := range l.handlers {
		if sh, ok := (*h).(SignalHandler); ok {
			sh.Signal(s)
		}
	}
}

// signalSubject is where signals travel beside the notices' subject.
func (b *NATS) signalSubject() string { return b.subject + ".signal" }

// PublishSignal delivers s to this node's handlers and to the other nodes.
func (b *NATS) PublishSignal(s Signal) {
	b.local.PublishSignal(s)
	data, err := json.Marshal(s)
	if err != nil {
		return
	}
	if err := b.nc.Publish(b.signalSubject(), data); err != nil {
		slog.Warn("nats publish signal", "err", err)
	}
}

func (b *NATS) receiveSignal(m *nats.Msg) {
	var s Signal
	if err := json.Unmarshal(m.Data, &s); err != nil {
		slog.Warn("nats: malformed signal", "subject", m.Subject, "err", err)
		return
	}
	b.local.PublishSignal(s)
}
