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

type recorder struct {
	mu    sync.Mutex
	got   []bus.Notice
	lost  int
	event chan struct{}
}

func newRecorder() *recorder { return &recorder{event: make(chan struct{}, 100)} }

func (r *recorder) Notify(ns []bus.Notice) {
	r.mu.Lock()
	r.got = append(r.got, ns...)
	r.mu.Unlock()
	r.event <- struct{}{}
}

func (r *recorder) Lost() {
	r.mu.Lock()
	r.lost++
	r.mu.Unlock()
}

func (r *recorder) notices() []bus.Notice {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]bus.Notice(nil), r.got...)
}

func (r *recorder) wait(t *testing.T, n int) []bus.Notice {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for len(r.notices()) < n {
		select {
		case <-r.event:
		case <-deadline:
			t.Fatalf("got %v, want %d notices", r.notices(), n)
		}
	}
	return r.notices()
}

func TestLocalDeliversToEverySubscriberUntilUnsubscribed(t *testing.T) {
	b := bus.NewLocal()
	r1, r2 := newRecorder(), newRecorder()
	unsub := b.Subscribe(r1)
	b.Subscribe(r2)
	b.Publish(bus.FromCommit(map[string]int64{"w1": 7}))
	unsub()
	b.Publish([]bus.Notice{{Workspace: "w1", Seq: 8}})
	if got := r1.notices(); len(got) != 1 || got[0] != (bus.Notice{Workspace: "w1", Seq: 7}) {
		t.Fatalf("first subscriber got %v", got)
	}
	if got := r2.notices(); len(got) != 2 || got[1].Seq != 8 {
		t.Fatalf("second subscriber got %v", got)
	}
}

// Two nodes on one NATS server: a notice published on one reaches the
// other's handlers once, and its own handlers once (no echo through NATS).
func TestNATSCarriesNoticesBetweenNodes(t *testing.T) {
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
	ra, rc := newRecorder(), newRecorder()
	a.Subscribe(ra)
	c.Subscribe(rc)

	a.Publish([]bus.Notice{{Workspace: "w1", Seq: 1}, {Workspace: "w2", Seq: 4}})
	c.Publish([]bus.Notice{{Workspace: "w1", Seq: 2}})
	rc.wait(t, 3)
	ra.wait(t, 3)
	time.Sleep(100 * time.Millisecond) // an echo would arrive by now
	for name, r := range map[string]*recorder{"A": ra, "C": rc} {
		got := r.notices()
		seen := map[bus.Notice]int{}
		for _, n := range got {
			seen[n]++
		}
		for _, want := range []bus.Notice{{"w1", 1}, {"w2", 4}, {"w1", 2}} {
			if seen[want] != 1 {
				t.Fatalf("node %s got %v: want %v exactly once", name, got, want)
			}
		}
		if len(got) != 3 {
			t.Fatalf("node %s got %v", name, got)
		}
	}
}
