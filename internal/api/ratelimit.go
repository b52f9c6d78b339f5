package api

import (
	"sync"
	"time"
)

// limiter counts calls per token in fixed 10-second windows: a token may
// make perMinute/6 calls a window (Intercom spreads its per-minute limit the
// same way).
type limiter struct {
	perMinute int
	perWindow int
	shards    [16]limShard
}

type limShard struct {
	mu     sync.Mutex
	counts map[int64]*window
}

type window struct {
	start int64
	n     int
}

const windowSeconds = 10

func newLimiter(perMinute int) *limiter {
	l := &limiter{perMinute: perMinute, perWindow: max(1, perMinute*windowSeconds/60)}
	for i := range l.shards {
		l.shards[i].counts = map[int64]*window{}
	}
	return l
}

// take counts one call for key and reports the headers' values and whether
// the call is allowed.
func (l *limiter) take(key int64, now time.Time) (limit, remaining int, reset int64, ok bool) {
	start := now.Unix() / windowSeconds * windowSeconds
	sh := &l.shards[uint64(key)%uint64(len(l.shards))]
	sh.mu.Lock()
	w := sh.counts[key]
	if w == nil {
		w = &window{}
		sh.counts[key] = w
	}
	if w.start != start {
		w.start, w.n = start, 0
	}
	w.n++
	n := w.n
	sh.mu.Unlock()
	remaining = max(0, l.perWindow-n)
	return l.perMinute, remaining, start + windowSeconds, n <= l.perWindow
}
