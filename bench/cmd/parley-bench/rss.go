package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// memInfo is what /proc/PID/status says about a process's memory.
type memInfo struct {
	RSSKiB int64 // VmRSS: resident now
	HWMKiB int64 // VmHWM: peak resident since start
}

func readMem(pid int) (memInfo, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return memInfo{}, err
	}
	var m memInfo
	for line := range bytes.Lines(b) {
		key, val, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		var dst *int64
		switch string(key) {
		case "VmRSS":
			dst = &m.RSSKiB
		case "VmHWM":
			dst = &m.HWMKiB
		default:
			continue
		}
		f := strings.Fields(string(val)) // "12345 kB"
		if len(f) > 0 {
			*dst, _ = strconv.ParseInt(f[0], 10, 64)
		}
	}
	if m.RSSKiB == 0 {
		return m, fmt.Errorf("/proc/%d/status has no VmRSS (a kernel thread or a zombie?)", pid)
	}
	return m, nil
}

// findProcess returns the pid of the only process whose command name
// (/proc/PID/comm) is name.
func findProcess(name string) (int, error) {
	dirs, _ := filepath.Glob("/proc/[0-9]*/comm")
	var found []int
	for _, d := range dirs {
		b, err := os.ReadFile(d)
		if err != nil || strings.TrimSpace(string(b)) != name {
			continue
		}
		pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(d)))
		if pid != os.Getpid() {
			found = append(found, pid)
		}
	}
	switch len(found) {
	case 0:
		return 0, fmt.Errorf("no process named %q", name)
	case 1:
		return found[0], nil
	}
	return 0, fmt.Errorf("%d processes named %q (%v): pass --pid", len(found), name, found)
}

// rssSampler records the largest VmRSS of a process while it runs.
type rssSampler struct {
	pid    int
	mu     sync.Mutex
	maxKiB int64
	stop   chan struct{}
	done   chan struct{}
}

// sampleRSS starts sampling pid every interval; pid 0 samples nothing.
func sampleRSS(pid int, interval time.Duration) *rssSampler {
	s := &rssSampler{pid: pid, stop: make(chan struct{}), done: make(chan struct{})}
	if pid == 0 {
		close(s.done)
		return s
	}
	go func() {
		defer close(s.done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			if m, err := readMem(pid); err == nil {
				s.mu.Lock()
				s.maxKiB = max(s.maxKiB, m.RSSKiB)
				s.mu.Unlock()
			}
			select {
			case <-s.stop:
				return
			case <-t.C:
			}
		}
	}()
	return s
}

// Stop ends sampling and returns the largest RSS seen, in KiB (0 if none).
func (s *rssSampler) Stop() int64 {
	select {
	case <-s.stop:
	default:
		if s.pid != 0 {
			close(s.stop)
		}
	}
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.maxKiB
}

func mib(kib int64) float64 { return float64(kib) / 1024 }

// rssResult is the JSON that `rss --out` writes.
type rssResult struct {
	PID       int     `json:"pid"`
	RSSMiB    float64 `json:"rss_mib"`
	PeakMiB   float64 `json:"peak_mib"`        // VmHWM, since the process started
	MaxMiB    float64 `json:"max_sampled_mib"` // largest VmRSS while --watch ran
	WatchSecs float64 `json:"watch_seconds,omitempty"`
}

func cmdRSS(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("rss", flag.ContinueOnError)
	pid := fs.Int("pid", 0, "process id")
	name := fs.String("process-name", "", "find the process by its command name instead (e.g. parley)")
	watch := fs.Duration("watch", 0, "sample for this long (or until SIGINT/SIGTERM or the process exits) and report the largest RSS; 0 reads once")
	interval := fs.Duration("interval", 100*time.Millisecond, "sampling interval with --watch")
	settle := fs.Duration("settle", 0, "wait this long before reading (lets an idle server finish starting up)")
	out := fs.String("out", "", "also write the result as JSON to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *pid == 0 && *name == "" {
		return errors.New("rss: pass --pid or --process-name")
	}
	if *pid == 0 {
		p, err := findProcess(*name)
		if err != nil {
			return err
		}
		*pid = p
	}
	if *settle > 0 {
		time.Sleep(*settle)
	}
	res := rssResult{PID: *pid}
	if *watch > 0 {
		ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
		defer stop()
		ctx, cancel := context.WithTimeout(ctx, *watch)
		defer cancel()
		start := time.Now()
		s := sampleRSS(*pid, *interval)
		for ctx.Err() == nil {
			if _, err := os.Stat(fmt.Sprintf("/proc/%d", *pid)); err != nil {
				break // the process ended
			}
			select {
			case <-ctx.Done():
			case <-time.After(*interval):
			}
		}
		res.MaxMiB = mib(s.Stop())
		res.WatchSecs = time.Since(start).Seconds()
	}
	m, err := readMem(*pid)
	if err != nil && res.MaxMiB == 0 {
		return err
	}
	res.RSSMiB, res.PeakMiB = mib(m.RSSKiB), mib(m.HWMKiB)
	if res.WatchSecs > 0 {
		fmt.Fprintf(stdout, "pid %d: RSS %.1f MiB, max sampled %.1f MiB over %.1fs, peak since start %.1f MiB\n", res.PID, res.RSSMiB, res.MaxMiB, res.WatchSecs, res.PeakMiB)
	} else {
		fmt.Fprintf(stdout, "pid %d: RSS %.1f MiB (peak since start %.1f MiB)\n", res.PID, res.RSSMiB, res.PeakMiB)
	}
	return writeResult(*out, res)
}
