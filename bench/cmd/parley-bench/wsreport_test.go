package main

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestWSReportMarksTargetsHonestly(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, v any) {
		if err := writeResult(filepath.Join(dir, name), v); err != nil {
			t.Fatal(err)
		}
	}
	write("meta.json", wsMeta{Date: "d", Commit: "c", CPUs: 2, LoadStart: "3.10 2.00 1.00", LoadEnd: "4.00 3.00 2.00"})
	// Held and small: passes.
	write("hold-teammate.json", wsHoldResult{Requested: 10000, Connected: 10000, AliveAtEnd: 10000, PingSample: 200, PingAnswered: 200,
		RSSBeforeKiB: 20000, RSSAfterKiB: 150000, BytesPerConn: 13312})
	// Small, but a socket dropped while held: the hold fails.
	write("hold-messenger.json", wsHoldResult{Requested: 10000, Connected: 10000, AliveAtEnd: 9999, PingSample: 200, PingAnswered: 200, Visitors: 100,
		RSSBeforeKiB: 20000, RSSAfterKiB: 400000, BytesPerConn: 38912})
	write("hold-echo.json", wsHoldResult{Requested: 10000, Connected: 10000, AliveAtEnd: 10000, PingSample: 200, PingAnswered: 200, BytesPerConn: 25000})
	// Fast, but deliveries missing: fails.
	write("latency-teammate-sqlite.json", wsLatencyResult{Rate: 1000, SentRate: 1000, Receivers: 1, Via: "v", Sent: 100, Expected: 100, Missing: 1, P99MS: 10})
	// Fast, complete, but the server could not take the rate: fails.
	write("latency-teammate-postgres.json", wsLatencyResult{Rate: 1000, SentRate: 400, Receivers: 1, Via: "v", P99MS: 10})
	write("latency-echo.json", wsLatencyResult{Rate: 1000, SentRate: 1000, Receivers: 1, P99MS: 2})

	var b strings.Builder
	if err := renderWSReport(dir, &b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if !strings.Contains(out, "3.10 2.00 1.00") {
		t.Errorf("the load average must head the report:\n%s", out)
	}
	if row := findRow(t, out, "Teammate sockets (`/realtime`) held"); !strings.Contains(row, "10,000 of 10,000") || !strings.HasSuffix(strings.TrimSpace(strings.Split(row, "|")[3]), "✅") {
		t.Errorf("teammate hold: %s", row)
	}
	if row := findRow(t, out, "Server RSS per socket, Teammate"); !strings.Contains(row, "13.0 KiB") || !strings.Contains(row, "✅") {
		t.Errorf("teammate memory: %s", row)
	}
	if row := findRow(t, out, "Messenger sockets"); !strings.Contains(strings.Split(row, "|")[3], "❌") || !strings.Contains(row, "100 booted visitors") {
		t.Errorf("a socket lost while held must fail the hold: %s", row)
	}
	if row := findRow(t, out, "Server RSS per socket, Messenger"); !strings.Contains(row, "38.0 KiB") || !strings.Contains(row, "❌") {
		t.Errorf("38 KiB per socket must fail < 30 KB: %s", row)
	}
	if row := findRow(t, out, "Visitor → teammate delivery at 1,000 msg/s, SQLite"); !strings.Contains(row, "1 of 100 deliveries missing") || !strings.Contains(strings.Split(row, "|")[3], "❌") {
		t.Errorf("missing deliveries must fail: %s", row)
	}
	if row := findRow(t, out, "Visitor → teammate delivery at 1,000 msg/s, PostgreSQL"); !strings.Contains(row, "400 msg/s sent") || !strings.Contains(strings.Split(row, "|")[3], "❌") {
		t.Errorf("a rate not sustained must fail: %s", row)
	}
}
