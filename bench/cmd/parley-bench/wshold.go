package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// wsHoldResult is what `ws-hold --out` writes.
type wsHoldResult struct {
	Target       string  `json:"target"`
	URL          string  `json:"url"`
	Requested    int     `json:"requested"`
	Connected    int     `json:"connected"`
	Failed       int     `json:"failed"`
	FirstError   string  `json:"first_error,omitempty"`
	Sources      int     `json:"source_addresses"`
	Visitors     int     `json:"visitors,omitempty"` // messenger: sessions the sockets share
	DialSeconds  float64 `json:"dial_seconds"`
	HeldSeconds  float64 `json:"held_seconds"`
	AliveAtEnd   int     `json:"alive_at_end"`   // sockets still open when the hold ended
	PingSample   int     `json:"ping_sample"`    // sockets pinged at the end
	PingAnswered int     `json:"ping_answered"`  // of which answered
	RSSBeforeKiB int64   `json:"rss_before_kib"` // server, before the first socket
	RSSAfterKiB  int64   `json:"rss_after_kib"`  // server, median of the samples while holding
	RSSMaxKiB    int64   `json:"rss_max_kib"`    // server, largest sample during the whole run
	BytesPerConn float64 `json:"bytes_per_conn"`
	FDLimit      uint64  `json:"client_fd_limit"`
}

func cmdWSHold(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("ws-hold", flag.ContinueOnError)
	base, token, target := addWSFlags(fs, "teammate (GET /realtime), messenger (GET /messenger/v1/realtime) or echo (bench/echo)")
	n := fs.Int("conns", 10000, "sockets to open and hold")
	visitors := fs.Int("visitors", 0, "messenger: visitors to boot, the sockets spread over their sessions (0: one visitor per socket)")
	dialConc := fs.Int("dial-concurrency", 32, "sockets being opened at once")
	sources := fs.Int("sources", 0, "loopback source addresses 127.0.0.1… to dial from (0: one per 20,000 sockets)")
	pid := fs.Int("pid", 0, "server pid whose RSS (VmRSS) is measured")
	settle := fs.Duration("settle", 5*time.Second, "wait before the first and after the last socket before measuring")
	hold := fs.Duration("hold", 10*time.Second, "hold the sockets this long, sampling the server's RSS every second")
	out := fs.String("out", "", "also write the result as JSON to this file")
	pprofURL := fs.String("pprof", "", "server's pprof base (http://127.0.0.1:P/debug/pprof): save its heap profile and goroutines while the sockets are held")
	profDir := fs.String("profile-dir", ".", "where --pprof saves heap-TARGET.pb.gz, heap-TARGET.txt (with the runtime's MemStats) and goroutine-TARGET.txt")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *pprofURL != "" {
		if err := checkLocal(*pprofURL); err != nil {
			return err
		}
	}
	if *n <= 0 || *pid <= 0 {
		return errors.New("ws-hold: --conns must be positive and --pid given (the server measured)")
	}
	if *sources <= 0 {
		*sources = (*n + 19999) / 20000
	}
	limit := fdLimit()
	if limit > 0 && uint64(*n)+64 > limit {
		return fmt.Errorf("ws-hold: %d sockets need more open files than RLIMIT_NOFILE allows here (%d): raise `ulimit -n` (hard limit) for this shell", *n, limit)
	}
	d, err := newWSDialer(*target, *base, *token, *sources)
	if err != nil {
		return err
	}
	res := &wsHoldResult{Target: *target, URL: d.wsURL(), Requested: *n, Sources: len(d.sources), FDLimit: limit}
	if *target == targetMessenger {
		c, err := newClient(*base, *token, 8)
		if err != nil {
			return err
		}
		start := time.Now()
		if *visitors <= 0 || *visitors > *n {
			*visitors = *n
		}
		if err := d.prepareMessenger(ctx, c, *visitors); err != nil {
			return err
		}
		res.Visitors = len(d.sessions)
		logf("ws-hold: booted %d visitors in %v", res.Visitors, time.Since(start).Round(time.Millisecond))
	}

	rss := sampleRSS(*pid, 100*time.Millisecond)
	sleepCtx(ctx, *settle)
	before, err := readMem(*pid)
	if err != nil {
		return err
	}
	res.RSSBeforeKiB = before.RSSKiB

	// Open the sockets, dialConc at a time; each has a reader (answering
	// pings, noticing the close).
	logf("ws-hold: opening %d %s sockets on %s from %d source address(es)", *n, *target, d.wsURL(), len(d.sources))
	conns := make([]*websocket.Conn, *n)
	var alive atomic.Int64
	var mu sync.Mutex
	var wg sync.WaitGroup
	holdCtx, stopHold := context.WithCancel(context.Background())
	defer stopHold()
	sem := make(chan struct{}, max(*dialConc, 1))
	start := time.Now()
	for i := range *n {
		if ctx.Err() != nil {
			break
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			ws, err := d.dial(ctx, i, false)
			<-sem
			if err != nil {
				mu.Lock()
				res.Failed++
				if res.FirstError == "" {
					res.FirstError = err.Error()
				}
				mu.Unlock()
				return
			}
			conns[i] = ws
			alive.Add(1)
			go func() {
				defer alive.Add(-1)
				for {
					if _, _, err := ws.Read(holdCtx); err != nil {
						return
					}
				}
			}()
		}()
		if (i+1)%2000 == 0 {
			logf("ws-hold: %d opened", i+1)
		}
	}
	wg.Wait()
	res.DialSeconds = time.Since(start).Seconds()
	res.Connected = int(alive.Load())
	logf("ws-hold: %d open, %d failed, in %.1fs", res.Connected, res.Failed, res.DialSeconds)
	if res.FirstError != "" {
		logf("ws-hold: first failure: %s", res.FirstError)
	}

	sleepCtx(ctx, *settle)
	holdStart := time.Now()
	var samples []int64
	for {
		if m, err := readMem(*pid); err == nil {
			samples = append(samples, m.RSSKiB)
		}
		if time.Since(holdStart) >= *hold || ctx.Err() != nil {
			break
		}
		sleepCtx(ctx, time.Second)
	}
	res.HeldSeconds = time.Since(start).Seconds()
	slices.Sort(samples)
	if len(samples) > 0 {
		res.RSSAfterKiB = samples[len(samples)/2]
	}

	if *pprofURL != "" {
		for _, p := range []struct{ path, file string }{
			{"/heap", "heap-" + *target + ".pb.gz"},
			{"/heap?debug=1", "heap-" + *target + ".txt"}, // ends with runtime.MemStats (StackInuse, HeapInuse…)
			{"/goroutine?debug=1", "goroutine-" + *target + ".txt"},
		} {
			if err := fetchTo(ctx, *pprofURL+p.path, filepath.Join(*profDir, p.file)); err != nil {
				logf("ws-hold: %v", err)
			}
		}
	}

	// Prove the sockets are served, not just open: ping a sample.
	open := conns[:0:0]
	for _, c := range conns {
		if c != nil {
			open = append(open, c)
		}
	}
	rand.Shuffle(len(open), func(i, j int) { open[i], open[j] = open[j], open[i] })
	sample := open[:min(len(open), 200)]
	var answered atomic.Int64
	var pwg sync.WaitGroup
	for _, c := range sample {
		pwg.Add(1)
		go func() {
			defer pwg.Done()
			pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			if c.Ping(pctx) == nil {
				answered.Add(1)
			}
		}()
	}
	pwg.Wait()
	res.PingSample, res.PingAnswered = len(sample), int(answered.Load())
	res.AliveAtEnd = int(alive.Load())
	res.RSSMaxKiB = rss.Stop()
	if res.Connected > 0 {
		res.BytesPerConn = float64(res.RSSAfterKiB-res.RSSBeforeKiB) * 1024 / float64(res.Connected)
	}

	for _, c := range open {
		c.CloseNow()
	}
	stopHold()

	fmt.Fprintf(stdout, "%-9s sockets %d/%d open (%d alive at the end, %d/%d pings answered)  server RSS %.1f → %.1f MiB  = %.1f KiB per socket\n",
		res.Target, res.Connected, res.Requested, res.AliveAtEnd, res.PingAnswered, res.PingSample,
		mib(res.RSSBeforeKiB), mib(res.RSSAfterKiB), res.BytesPerConn/1024)
	return writeResult(*out, res)
}

// sleepCtx sleeps for d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// fetchTo saves the body of GET url in path.
func fetchTo(ctx context.Context, url, path string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}
