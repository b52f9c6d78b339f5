package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// meta is what bench/run.sh records about a run (RESULTS/meta.json).
type meta struct {
	Date              string `json:"date"`
	Commit            string `json:"commit"`
	Contacts          int    `json:"contacts"`
	Concurrency       int    `json:"concurrency"`
	SearchConcurrency int    `json:"search_concurrency"`
	Warmup            string `json:"warmup"`
	Duration          string `json:"duration"`
	GoVersion         string `json:"go_version"`
}

// dbResults are the files bench/run.sh writes for one database
// (RESULTS/sqlite, RESULTS/postgres).
type dbResults struct {
	name, version string
	idle, after   *rssResult
	seed          *seedResult
	load          map[string]*loadResult // by scenario, plus "ceiling"
}

func readJSON(path string, v any) bool {
	b, err := os.ReadFile(path)
	return err == nil && json.Unmarshal(b, v) == nil
}

func loadDB(dir, name string) *dbResults {
	d := &dbResults{name: name, load: map[string]*loadResult{}}
	if _, err := os.Stat(dir); err != nil {
		return nil
	}
	if b, err := os.ReadFile(filepath.Join(dir, "version.txt")); err == nil {
		d.version = strings.TrimSpace(string(b))
	}
	d.idle, d.after, d.seed = &rssResult{}, &rssResult{}, &seedResult{}
	if !readJSON(filepath.Join(dir, "idle.json"), d.idle) {
		d.idle = nil
	}
	if !readJSON(filepath.Join(dir, "idle-after.json"), d.after) {
		d.after = nil
	}
	if !readJSON(filepath.Join(dir, "seed.json"), d.seed) {
		d.seed = nil
	}
	for _, s := range append([]string{"ceiling"}, scenarios...) {
		r := &loadResult{}
		if readJSON(filepath.Join(dir, s+".json"), r) {
			d.load[s] = r
		}
	}
	return d
}

// machine describes this computer: cores, CPU model, memory, kernel.
func machine() string {
	cpu := "unknown CPU"
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				cpu = strings.TrimSpace(v)
				break
			}
		}
		f.Close()
	}
	mem := ""
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb int64
		if _, err := fmt.Sscanf(string(b), "MemTotal: %d kB", &kb); err == nil {
			mem = fmt.Sprintf(", %.1f GiB RAM", float64(kb)/(1<<20))
		}
	}
	kernel := ""
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		kernel = ", Linux " + strings.TrimSpace(string(b))
	}
	return fmt.Sprintf("%d cores (nproc), %s%s%s", runtime.NumCPU(), cpu, mem, kernel)
}

func cmdReport(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	dir := fs.String("dir", "", "results directory written by bench/run.sh")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dir == "" {
		return errors.New("report: --dir is required")
	}
	var m meta
	readJSON(filepath.Join(*dir, "meta.json"), &m)
	var dbs []*dbResults
	for _, name := range []string{"sqlite", "postgres"} {
		if d := loadDB(filepath.Join(*dir, name), name); d != nil {
			dbs = append(dbs, d)
		}
	}
	if len(dbs) == 0 {
		return fmt.Errorf("report: no sqlite/ or postgres/ results under %s", *dir)
	}
	renderReport(stdout, m, machine(), dbs)
	return nil
}

// A target a figure is checked against; nil check means "for information".
type row struct {
	label, target string
	cell          func(d *dbResults) (text string, pass *bool)
}

func yes(b bool) *bool { return &b }

func mark(text string, pass *bool) string {
	switch {
	case pass == nil:
		return text
	case *pass:
		return text + " ✅"
	}
	return text + " ❌"
}

func loadCell(d *dbResults, s string, ok func(r *loadResult) bool, show func(r *loadResult) string) (string, *bool) {
	r := d.load[s]
	switch {
	case r == nil:
		return "not run", nil
	case r.Skipped != "":
		return "not measured: " + truncate(r.Skipped, 120), nil
	}
	text := show(r)
	if r.Errors > 0 {
		text += fmt.Sprintf(" (%d errors of %d)", r.Errors, r.Requests)
	}
	if ok == nil {
		return text, nil
	}
	return text, yes(ok(r) && r.Errors == 0)
}

func rpsP99(r *loadResult) string {
	return fmt.Sprintf("%s req/s, p50 %.2f ms, p99 %.2f ms", thousands(r.RPS), r.P50MS, r.P99MS)
}

func thousands(f float64) string {
	s := fmt.Sprintf("%.0f", f)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

const mb = 1e6 / (1 << 20) // MiB per MB

func renderReport(w io.Writer, m meta, mach string, dbs []*dbResults) {
	full := m.Contacts >= 1000000
	atScale := func(pass *bool) *bool {
		if full {
			return pass
		}
		return nil // targets at 1M contacts do not apply to a smaller run
	}
	conc, sconc := m.Concurrency, m.SearchConcurrency
	rows := []row{
		{fmt.Sprintf("Ceiling: bare net/http returning the same contact JSON, %d clients", conc), "—", func(d *dbResults) (string, *bool) {
			return loadCell(d, "ceiling", nil, rpsP99)
		}},
		{fmt.Sprintf("GET /contacts/{id}, %d clients", conc), "≥ 10,000 req/s, p99 < 10 ms", func(d *dbResults) (string, *bool) {
			return loadCell(d, "get-contact", func(r *loadResult) bool { return r.RPS >= 10000 && r.P99MS < 10 }, rpsP99)
		}},
		{fmt.Sprintf("Contact create (POST /contacts), %d clients", conc), "≥ 3,000/s", func(d *dbResults) (string, *bool) {
			return loadCell(d, "create-contact", func(r *loadResult) bool { return r.RPS >= 3000 }, rpsP99)
		}},
		{fmt.Sprintf("Contact update (PUT /contacts/{id}), %d clients", conc), "≥ 3,000/s", func(d *dbResults) (string, *bool) {
			return loadCell(d, "update-contact", func(r *loadResult) bool { return r.RPS >= 3000 }, rpsP99)
		}},
		{fmt.Sprintf("CSV import of %s contacts", thousands(float64(m.Contacts))), "< 60 s, RSS < 200 MB (1M)", func(d *dbResults) (string, *bool) {
			s := d.seed
			switch {
			case s == nil:
				return "not run", nil
			case s.Import == nil:
				return fmt.Sprintf("not measured: import unavailable; %s contacts by POST /contacts in %.1f s (%s/s)", thousands(float64(s.Contacts)), s.ContactsSecs, thousands(s.ContactsPerSec)), nil
			}
			text := fmt.Sprintf("%.1f s (%s rows/s), server max RSS %.0f MiB", s.Import.WallSecs, thousands(s.Import.RowsPerSec), s.MaxRSSMiB)
			if s.Import.FailedRows > 0 {
				text += fmt.Sprintf(" (%d rows failed)", s.Import.FailedRows)
			}
			return text, atScale(yes(s.Import.WallSecs < 60 && s.MaxRSSMiB > 0 && s.MaxRSSMiB < 200*mb && s.Import.FailedRows == 0))
		}},
		{fmt.Sprintf("Search by email, %d clients", sconc), "p95 < 5 ms (1M)", func(d *dbResults) (string, *bool) {
			t, p := loadCell(d, "search-email", func(r *loadResult) bool { return r.P95MS < 5 }, searchCell)
			return t, atScale(p)
		}},
		{fmt.Sprintf("Search by external_id, %d clients", sconc), "p95 < 5 ms (1M)", func(d *dbResults) (string, *bool) {
			t, p := loadCell(d, "search-external-id", func(r *loadResult) bool { return r.P95MS < 5 }, searchCell)
			return t, atScale(p)
		}},
		{fmt.Sprintf("Search plan = pro AND (tag OR seats > 50), per_page 50, %d clients", sconc), "p95 < 100 ms (1M)", func(d *dbResults) (string, *bool) {
			t, p := loadCell(d, "search-compound", func(r *loadResult) bool { return r.P95MS < 100 }, searchCell)
			if r := d.load["search-compound"]; r != nil && r.Note != "" {
				t += " — " + r.Note
			}
			return t, atScale(p)
		}},
		{"Server RSS idle, fresh start", "< 50 MB", func(d *dbResults) (string, *bool) {
			if d.idle == nil {
				return "not run", nil
			}
			return fmt.Sprintf("%.1f MiB", d.idle.RSSMiB), yes(d.idle.RSSMiB < 50*mb)
		}},
		{fmt.Sprintf("Server RSS idle after the run (%s contacts)", thousands(float64(m.Contacts))), "< 50 MB", func(d *dbResults) (string, *bool) {
			if d.after == nil {
				return "not run", nil
			}
			return fmt.Sprintf("%.1f MiB (peak during the run %.0f MiB)", d.after.RSSMiB, d.after.PeakMiB), yes(d.after.RSSMiB < 50*mb)
		}},
		{"Seeding: companies, tags, attachments", "—", func(d *dbResults) (string, *bool) {
			s := d.seed
			if s == nil {
				return "not run", nil
			}
			text := fmt.Sprintf("%d companies in %.1f s; %d tags in %.1f s; %d contacts tagged and %d attached to companies in %.1f s",
				s.Companies, s.CompaniesSecs, s.Tags, s.TagsSecs, s.Tagged, s.AttachedCompany, s.AttachSecs)
			if len(s.Warnings) > 0 {
				text += " (warnings: " + truncate(strings.Join(s.Warnings, "; "), 300) + ")"
			}
			return text, nil
		}},
	}

	date := m.Date
	fmt.Fprintf(w, "### %s — %s contacts\n\n", date, thousands(float64(m.Contacts)))
	fmt.Fprintf(w, "- Machine: %s\n", mach)
	fmt.Fprintf(w, "- Parley: commit %s, %s; load generator `parley-bench` on the same machine\n", orDash(m.Commit), orDash(m.GoVersion))
	for _, d := range dbs {
		fmt.Fprintf(w, "- %s: %s\n", dbTitle(d.name), orDash(d.version))
	}
	fmt.Fprintf(w, "- Load: closed loop, %s warm-up then %s measured per figure; %d clients for reads and writes, %d for searches\n\n",
		orDash(m.Warmup), orDash(m.Duration), conc, sconc)

	fmt.Fprint(w, "| Figure | Target |")
	for _, d := range dbs {
		fmt.Fprintf(w, " %s |", dbTitle(d.name))
	}
	fmt.Fprint(w, "\n|---|---|")
	for range dbs {
		fmt.Fprint(w, "---|")
	}
	fmt.Fprintln(w)
	for _, r := range rows {
		fmt.Fprintf(w, "| %s | %s |", r.label, r.target)
		for _, d := range dbs {
			fmt.Fprintf(w, " %s |", cellEscape(mark(r.cell(d))))
		}
		fmt.Fprintln(w)
	}
	if !full {
		fmt.Fprintf(w, "\nTargets marked (1M) apply at 1,000,000 contacts; this run had %s, so they are not checked.\n", thousands(float64(m.Contacts)))
	}

	fmt.Fprint(w, "\nLatency detail (ms):\n\n| Database | Scenario | Clients | req/s | mean | p50 | p90 | p95 | p99 | p99.9 | max | errors | server max RSS (MiB) |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, d := range dbs {
		for _, s := range append([]string{"ceiling"}, scenarios...) {
			r := d.load[s]
			if r == nil || r.Skipped != "" {
				continue
			}
			rss := "—"
			if r.MaxRSSMiB > 0 {
				rss = fmt.Sprintf("%.0f", r.MaxRSSMiB)
			}
			fmt.Fprintf(w, "| %s | %s | %d | %s | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %d/%d | %s |\n",
				dbTitle(d.name), s, r.Concurrency, thousands(r.RPS), r.MeanMS, r.P50MS, r.P90MS, r.P95MS, r.P99MS, r.P999MS, r.MaxMS, r.Errors, r.Requests, rss)
		}
	}
}

func searchCell(r *loadResult) string {
	text := fmt.Sprintf("p95 %.2f ms, p50 %.2f ms (%s req/s)", r.P95MS, r.P50MS, thousands(r.RPS))
	if r.FirstMatches != nil {
		text += fmt.Sprintf("; first query matched %s", thousands(float64(*r.FirstMatches)))
	}
	return text
}

func dbTitle(name string) string {
	if name == "postgres" {
		return "PostgreSQL"
	}
	return "SQLite"
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

func cellEscape(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ").Replace(s)
}
