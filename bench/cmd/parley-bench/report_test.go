package main

import (
	"strings"
	"testing"
)

func findRow(t *testing.T, report, prefix string) string {
	t.Helper()
	for line := range strings.Lines(report) {
		if strings.HasPrefix(line, "| "+prefix) {
			return line
		}
	}
	t.Fatalf("no row %q in:\n%s", prefix, report)
	return ""
}

func TestReportMarksTargetsHonestly(t *testing.T) {
	d := &dbResults{name: "sqlite", version: "v", load: map[string]*loadResult{
		// Fast enough, but with errors: must not pass.
		"get-contact": {Concurrency: 32, RPS: 12000, P99MS: 4, Requests: 1000, Errors: 3},
		// Below target: fails.
		"create-contact": {Concurrency: 32, RPS: 2500, P99MS: 30, Requests: 1000},
		// Meets target.
		"update-contact":  {Concurrency: 32, RPS: 3100, P99MS: 30, Requests: 1000},
		"search-email":    {Concurrency: 4, P95MS: 2, Requests: 100},
		"search-compound": {Skipped: "POST /contacts/search: HTTP 404 not_found: …"},
	}, idle: &rssResult{RSSMiB: 20}, after: &rssResult{RSSMiB: 60, PeakMiB: 150}}

	var b strings.Builder
	renderReport(&b, meta{Contacts: 2000, Concurrency: 32, SearchConcurrency: 4}, "test machine", []*dbResults{d})
	out := b.String()

	if row := findRow(t, out, "GET /contacts/{id}"); !strings.Contains(row, "3 errors of 1000") || !strings.Contains(row, "❌") {
		t.Errorf("a figure with errors must be reported and not pass: %s", row)
	}
	if row := findRow(t, out, "Contact create"); !strings.Contains(row, "2,500 req/s") || !strings.Contains(row, "❌") {
		t.Errorf("create below target: %s", row)
	}
	if row := findRow(t, out, "Contact update"); !strings.Contains(row, "✅") {
		t.Errorf("update above target: %s", row)
	}
	// Search targets apply at 1M contacts: a 2,000-contact run is not judged.
	if row := findRow(t, out, "Search by email"); strings.ContainsAny(row, "✅❌") {
		t.Errorf("search at 2,000 contacts judged against the 1M target: %s", row)
	}
	if row := findRow(t, out, "Search plan = pro"); !strings.Contains(row, "not measured: POST /contacts/search") {
		t.Errorf("a skipped scenario must say why: %s", row)
	}
	if row := findRow(t, out, "CSV import"); !strings.Contains(row, "not run") {
		t.Errorf("missing seed: %s", row)
	}
	if row := findRow(t, out, "Server RSS idle after"); !strings.Contains(row, "60.0 MiB") || !strings.Contains(row, "❌") {
		t.Errorf("idle RSS after the run: %s", row)
	}

	// At 1M the same search figure is judged.
	b.Reset()
	renderReport(&b, meta{Contacts: 1000000, Concurrency: 32, SearchConcurrency: 4}, "test machine", []*dbResults{d})
	if row := findRow(t, b.String(), "Search by email"); !strings.Contains(row, "✅") {
		t.Errorf("search at 1M: %s", row)
	}
}

func TestOnlyLoopbackTargets(t *testing.T) {
	for _, u := range []string{"http://127.0.0.1:8080", "http://localhost:1", "http://[::1]:9"} {
		if err := checkLocal(u); err != nil {
			t.Errorf("%s refused: %v", u, err)
		}
	}
	for _, u := range []string{"http://10.0.0.1", "https://example.com", "http://0.0.0.0:80", "ftp://127.0.0.1", "127.0.0.1:8080"} {
		if checkLocal(u) == nil {
			t.Errorf("%s accepted", u)
		}
	}
}
