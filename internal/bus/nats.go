package bus

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go"
)

// DefaultSubject is the NATS subject Parley nodes share.
const DefaultSubject = "parley.events"

// NATS carries notices between nodes over a NATS server (core NATS,
// at-most-once: a lost message is caught up from the log). Notices published
// on this node reach this node's handlers directly; the connection does not
// echo its own messages back.
type NATS struct {
	local   *Local
	nc      *nats.Conn
	subject string
}

// NewNATS connects to url and subscribes to subject (DefaultSubject when
// empty). It reconnects forever; after a reconnection the handlers are told
// notices may have been lost.
func NewNATS(url, subject string) (*NATS, error) {
	if subject == "" {
		subject = DefaultSubject
	}
	b := &NATS{local: NewLocal(), subject: subject}
	nc, err := nats.Connect(url,
		nats.Name("parley"),
		nats.NoEcho(),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(500*time.Millisecond),
		nats.Timeout(5*time.Second),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				slog.Warn("nats disconnected", "err", err)
			}
		}),
		nats.ReconnectHandler(func(*nats.Conn) {
			slog.Info("nats reconnected")
			b.local.lost()
		}),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			slog.Warn("nats", "err", err)
			if errors.Is(err, nats.ErrSlowConsumer) {
				b.local.lost()
			}
		}),
	)
	if err != nil {
		return nil, fmt.Errorf("connect to NATS at %s: %w", url, err)
	}
	b.nc = nc
	if _, err := nc.Subscribe(subject, b.receive); err != nil {
		nc.Close()
		return nil, fmt.Errorf("subscribe to NATS subject %s: %w", subject, err)
	}
	if _, err := nc.Subscribe(b.signalSubject(), b.receiveSignal); err != nil {
		nc.Close()
		return nil, fmt.Errorf("subscribe to NATS subject %s: %w", b.signalSubject(), err)
	}
	// Make sure the subscription is registered with the server before the
	// node serves: otherwise the first notices from peers could be missed.
	if err := nc.Flush(); err != nil {
		nc.Close()
		return nil, fmt.Errorf("NATS flush: %w", err)
	}
	return b, nil
}

func (b *NATS) receive(m *nats.Msg) {
	var ns []Notice
	if err := json.Unmarshal(m.Data, &ns); err != nil {
		slog.Warn("nats: malformed notice", "subject", m.Subject, "err", err)
		return
	}
	b.local.Publish(ns)
}

// Publish delivers ns to this node's handlers and to the other nodes.
func (b *NATS) Publish(ns []Notice) {
	if len(ns) == 0 {
		return
	}
	b.local.Publish(ns)
	data, err := json.Marshal(ns)
	if err != nil {
		return
	}
	// While disconnected the client buffers publishes for the reconnect;
	// an error here means the notice is lost, which peers repair by polling.
	if err := b.nc.Publish(b.subject, data); err != nil {
		slog.Warn("nats publish", "err", err)
	}
}

// Subscribe adds h.
func (b *NATS) Subscribe(h Handler) func() { return b.local.Subscribe(h) }

// Close drains the connection.
func (b *NATS) Close() error {
	b.nc.Close()
	return nil
}
