package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strings"
)

// wsMeta is bench/ws.sh's meta.json.
type wsMeta struct {
	Date      string `json:"date"`
	Commit    string `json:"commit"`
	GoVersion string `json:"go_version"`
	CPUs      int    `json:"cpus"`
	LoadStart string `json:"loadavg_start"`
	LoadEnd   string `json:"loadavg_end"`
	FDLimit   string `json:"ulimit_n"`
}

// Targets of the issue (issue 3 §6).
const (
	targetConns        = 10000
	targetBytesPerConn = 30000 // "30 KB"; also below 30 KiB
	targetP99MS        = 50
)

func cmdWSReport(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("ws-report", flag.ContinueOnError)
	dir := fs.String("dir", "", "results directory of bench/ws.sh")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dir == "" {
		return errors.New("ws-report: --dir is required")
	}
	return renderWSReport(*dir, stdout)
}

func renderWSReport(dir string, w io.Writer) error {
	var meta wsMeta
	readJSON(filepath.Join(dir, "meta.json"), &meta)
	fmt.Fprintf(w, "Date %s, Parley commit %s, %s, %d CPUs, `ulimit -n` %s.\n", meta.Date, meta.Commit, meta.GoVersion, meta.CPUs, meta.FDLimit)
	fmt.Fprintf(w, "Load average (1, 5, 15 min) before the run: %s; after: %s.\n\n", meta.LoadStart, meta.LoadEnd)
	fmt.Fprintln(w, "| Figure | Target | Parley | Echo server, same library (ceiling) |")
	fmt.Fprintln(w, "|---|---|---|---|")
	var echoHold wsHoldResult
	haveEchoHold := readJSON(filepath.Join(dir, "hold-echo.json"), &echoHold)
	rows := 0
	for _, t := range []struct{ file, label string }{
		{"hold-messenger.json", "Messenger sockets (`/messenger/v1/realtime`)"},
		{"hold-teammate.json", "Teammate sockets (`/realtime`)"},
	} {
		var h wsHoldResult
		if !readJSON(filepath.Join(dir, t.file), &h) {
			continue
		}
		rows++
		echoCell := "—"
		echoMem := "—"
		if haveEchoHold {
			echoCell, echoMem = holdCell(&echoHold), memCell(&echoHold, false)
		}
		label := t.label
		switch {
		case h.Visitors >= h.Requested:
			label += ", a booted visitor each"
		case h.Visitors > 0:
			label += fmt.Sprintf(", over %s booted visitors", thousands(float64(h.Visitors)))
		}
		fmt.Fprintf(w, "| %s held | ≥ %s | %s | %s |\n", label, thousands(targetConns), holdCell(&h), echoCell)
		fmt.Fprintf(w, "| Server RSS per socket, %s | < 30 KB | %s | %s |\n", strings.SplitN(t.label, " (", 2)[0], memCell(&h, true), echoMem)
	}
	if rows == 0 && haveEchoHold {
		fmt.Fprintf(w, "| Sockets held | ≥ %s | not measured | %s |\n", thousands(targetConns), holdCell(&echoHold))
		fmt.Fprintf(w, "| Server RSS per socket | < 30 KB | not measured | %s |\n", memCell(&echoHold, false))
	}
	var echoLat wsLatencyResult
	haveEchoLat := readJSON(filepath.Join(dir, "latency-echo.json"), &echoLat)
	for _, db := range []string{"sqlite", "postgres"} {
		var l wsLatencyResult
		if !readJSON(filepath.Join(dir, "latency-teammate-"+db+".json"), &l) {
			continue
		}
		echoCell := "—"
		if haveEchoLat {
			echoCell = latencyCell(&echoLat, false)
		}
		name := map[string]string{"sqlite": "SQLite", "postgres": "PostgreSQL"}[db]
		fmt.Fprintf(w, "| Visitor → teammate delivery at %s msg/s, %s (%s → %d teammate socket(s)) | p99 < %d ms | %s | %s |\n",
			thousands(l.Rate), name, l.Via, l.Receivers, targetP99MS, latencyCell(&l, true), echoCell)
	}
	return nil
}

func holdCell(h *wsHoldResult) string {
	s := fmt.Sprintf("%s of %s", thousands(float64(h.Connected)), thousands(float64(h.Requested)))
	if h.Failed > 0 {
		s += fmt.Sprintf(" (%s failed: %s)", thousands(float64(h.Failed)), truncate(h.FirstError, 80))
	}
	s += fmt.Sprintf(", %d/%d pinged answered", h.PingAnswered, h.PingSample)
	if h.Requested >= targetConns && h.Connected == h.Requested && h.AliveAtEnd == h.Connected && h.PingAnswered == h.PingSample {
		s += " ✅"
	} else if h.Requested >= targetConns {
		s += " ❌"
	}
	return s
}

func memCell(h *wsHoldResult, judge bool) string {
	if h.Connected == 0 {
		return "—"
	}
	s := fmt.Sprintf("**%.1f KiB** (%s B; RSS %.1f → %.1f MiB)", h.BytesPerConn/1024, thousands(h.BytesPerConn), mib(h.RSSBeforeKiB), mib(h.RSSAfterKiB))
	if judge && h.Connected >= targetConns {
		if h.BytesPerConn < targetBytesPerConn {
			s += " ✅"
		} else {
			s += " ❌"
		}
	}
	return s
}

func latencyCell(l *wsLatencyResult, judge bool) string {
	s := fmt.Sprintf("p50 %.2f ms, p95 %.2f ms, **p99 %.2f ms**, max %.2f ms; %.0f msg/s sent", l.P50MS, l.P95MS, l.P99MS, l.MaxMS, l.SentRate)
	if l.Errors > 0 {
		s += fmt.Sprintf(", %d errors (%s)", l.Errors, truncate(l.FirstError, 80))
	}
	if l.Missing > 0 {
		s += fmt.Sprintf(", **%d of %d deliveries missing**", l.Missing, l.Expected)
	}
	s += fmt.Sprintf(" (the send's answer: p50 %.2f ms, p99 %.2f ms; delivery after it: p50 %.2f ms, p99 %.2f ms)", l.SendP50MS, l.SendP99MS, l.AfterAnswerP50MS, l.AfterAnswerP99MS)
	if l.Late > 0 {
		s += fmt.Sprintf(", %d sent > 10 ms late (all %d requests in flight, or the generator short of CPU)", l.Late, l.Workers)
	}
	if judge {
		if l.P99MS < targetP99MS && l.Errors == 0 && l.Missing == 0 && l.SentRate >= 0.99*l.Rate {
			s += " ✅"
		} else {
			s += " ❌"
		}
	}
	return s
}
