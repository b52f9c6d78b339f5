package bus_test

import (
	"crypto/rand"
	"encoding/hex"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/bus"
	"github.com/parleyhq/parley/internal/bus/bustest"
)

type signalRecorder struct {
	*recorder
	smu     sync.Mutex
	signals []bus.Signal
	got     chan struct{}
}

func (r *signalRecorder) Signal(s bus.Signal) {
	r.smu.Lock()
	r.signals = append(r.signals, s)
	r.smu.Unlock()
	r.got <- struct{}{}
}

func (r *signalRecorder) list() []bus.Signal {
	r.smu.Lock()
	defer r.smu.Unlock()
	return append([]bus.Signal(nil), r.signals...)
}

// Signals (typing indicators) reach handlers that take them on both nodes,
// once each, and never as notices.
func TestNATSCarriesSignalsBetweenNodes(t *testing.T) {
	url := bustest.NATSURL(t)
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	subject := "parley.test." + hex.EncodeToString(b)
	a, err := bus.NewNATS(url, subject)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	c, err := bus.NewNATS(url, subject)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ra := &signalRecorder{recorder: newRecorder(), got: make(chan struct{}, 10)}
	rc := &signalRecorder{recorder: newRecorder(), got: make(chan struct{}, 10)}
	a.Subscribe(ra)
	c.Subscribe(rc)
	plain := newRecorder() // a handler without Signal is left alone
	c.Subscribe(plain)

	a.PublishSignal(bus.Signal{Workspace: "w1", Kind: "typing", Data: []byte(`{"x":1}`)})
	for _, r := range []*signalRecorder{ra, rc} {
		select {
		case <-r.got:
		case <-time.After(5 * time.Second):
			t.Fatal("signal not delivered")
		}
	}
	time.Sleep(100 * time.Millisecond) // an echo would arrive by now
	for name, r := range map[string]*signalRecorder{"A": ra, "C": rc} {
		got := r.list()
		if len(got) != 1 || got[0].Workspace != "w1" || got[0].Kind != "typing" || string(got[0].Data) != `{"x":1}` {
			t.Fatalf("node %s got %+v", name, got)
		}
		if len(r.notices()) != 0 {
			t.Fatalf("node %s got notices %v", name, r.notices())
		}
	}
	if len(plain.notices()) != 0 {
		t.Fatal("a signal reached a handler as a notice")
	}
}
