package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parleyhq/parley/bench/internal/dataset"
)

// apiFlags are the flags every command that talks to Parley takes.
type apiFlags struct {
	url, token  *string
	concurrency *int
}

func addAPIFlags(fs *flag.FlagSet, conc int) apiFlags {
	return apiFlags{
		url:         fs.String("url", "http://127.0.0.1:8080", "Parley's base URL (loopback only)"),
		token:       fs.String("token", os.Getenv("PARLEY_BENCH_TOKEN"), "access token (env PARLEY_BENCH_TOKEN)"),
		concurrency: fs.Int("concurrency", conc, "concurrent requests"),
	}
}

func (f apiFlags) client() (*client, error) {
	if *f.token == "" {
		return nil, errors.New("an access token is needed: --token or PARLEY_BENCH_TOKEN")
	}
	if *f.concurrency < 1 {
		return nil, errors.New("--concurrency must be at least 1")
	}
	return newClient(*f.url, *f.token, *f.concurrency)
}

// parallel runs fn(i) for i in [0, n) on conc goroutines, logging progress
// every few seconds under label. It returns the number of failed calls and
// the first error; a failure of fatal stops everything.
func parallel(ctx context.Context, label string, n, conc int, fn func(ctx context.Context, i int) error) (failed int64, first error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var next, done, fails atomic.Int64
	var once sync.Once
	var wg sync.WaitGroup
	start := time.Now()
	stopProgress := make(chan struct{})
	go func() {
		t := time.NewTicker(5 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-stopProgress:
				return
			case <-t.C:
				d := done.Load()
				logf("  %s: %d/%d (%.0f/s, %d failed)", label, d, n, float64(d)/time.Since(start).Seconds(), fails.Load())
			}
		}
	}()
	for range min(conc, max(n, 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := fn(ctx, i); err != nil {
					fails.Add(1)
					once.Do(func() { first = err })
					var fe fatalError
					if errors.As(err, &fe) {
						cancel()
					}
				}
				done.Add(1)
			}
		}()
	}
	wg.Wait()
	close(stopProgress)
	if ctx.Err() != nil && first == nil {
		first = ctx.Err()
	}
	return fails.Load(), first
}

// fatalError stops a parallel run.
type fatalError struct{ error }

func (e fatalError) Unwrap() error { return e.error }

// ensureAttributes creates the custom contact attributes of the dataset,
// accepting those that already exist.
func ensureAttributes(ctx context.Context, c *client) error {
	for _, a := range dataset.Attributes {
		body := map[string]any{"name": a.Name, "model": "contact", "data_type": a.DataType, "description": "parley-bench"}
		if a.Options != nil {
			body["options"] = a.Options
		}
		err := c.do(ctx, http.MethodPost, "/data_attributes", body, nil)
		var ae *apiError
		if errors.As(err, &ae) && ae.Status == http.StatusBadRequest && strings.Contains(ae.Msg, "already have") {
			continue
		}
		if err != nil {
			return fmt.Errorf("creating data attribute %s: %w", a.Name, err)
		}
	}
	return nil
}

// importResult is the outcome of one CSV import.
type importResult struct {
	Contacts   int             `json:"contacts"`
	From       int             `json:"from"`
	WallSecs   float64         `json:"wall_seconds"`
	UploadSecs float64         `json:"upload_seconds"`
	RowsPerSec float64         `json:"rows_per_second"`
	MaxRSSMiB  float64         `json:"server_max_rss_mib,omitempty"`
	State      string          `json:"state"`
	Created    int             `json:"created"`
	Updated    int             `json:"updated"`
	Unchanged  int             `json:"unchanged"`
	FailedRows int             `json:"failed_rows"`
	Job        json.RawMessage `json:"job,omitempty"`
}

// importMap maps every CSV header to the field of the same name.
func importMap() string {
	pairs := make([]string, len(dataset.CSVHeader))
	for i, h := range dataset.CSVHeader {
		pairs[i] = h + "=" + h
	}
	return strings.Join(pairs, ",")
}

// runImport streams contacts [from, from+n) as CSV to POST /contacts/import
// and polls the job until it ends. The wall time runs from the first byte
// sent to the job's completion.
func runImport(ctx context.Context, c *client, from, n int, timeout time.Duration) (*importResult, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	pr, pw := io.Pipe()
	defer pr.Close() // unblocks the writer if the server answers before reading everything
	go func() { pw.CloseWithError(dataset.WriteCSV(pw, from, from+n)) }()
	req, err := c.newRequest(ctx, http.MethodPost, "/contacts/import?map="+url.QueryEscape(importMap()), pr)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "text/csv")
	start := time.Now()
	var job struct {
		ID    json.Number `json:"id"`
		State string      `json:"state"`
	}
	if err := c.send(req, &job); err != nil {
		return nil, err
	}
	res := &importResult{Contacts: n, From: from, UploadSecs: time.Since(start).Seconds()}
	logf("  import job %s accepted after %.1fs of upload; polling", job.ID, res.UploadSecs)
	lastLog := time.Now()
	for {
		var raw json.RawMessage
		if err := c.do(ctx, http.MethodGet, "/contacts/import/"+job.ID.String(), nil, &raw); err != nil {
			return nil, fmt.Errorf("polling import job %s: %w", job.ID, err)
		}
		var st struct {
			State                               string
			Created, Updated, Unchanged, Failed int
		}
		_ = json.Unmarshal(raw, &st)
		switch st.State {
		case "completed", "failed":
			res.WallSecs = time.Since(start).Seconds()
			res.RowsPerSec = float64(n) / res.WallSecs
			res.State, res.Job = st.State, raw
			res.Created, res.Updated, res.Unchanged, res.FailedRows = st.Created, st.Updated, st.Unchanged, st.Failed
			if st.State == "failed" {
				return res, fmt.Errorf("import job %s failed: %s", job.ID, truncate(string(raw), 400))
			}
			return res, nil
		}
		if time.Since(lastLog) > 5*time.Second {
			logf("  import job %s after %.0fs: %s", job.ID, time.Since(start).Seconds(), truncate(string(raw), 300))
			lastLog = time.Now()
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("import job %s did not finish within %v", job.ID, timeout)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// createContactsAPI creates contacts [from, from+n) with POST /contacts; a
// contact that already exists (409) counts as done.
func createContactsAPI(ctx context.Context, c *client, from, n, conc int) (failed int64, first error) {
	return parallel(ctx, "contacts", n, conc, func(ctx context.Context, i int) error {
		g := dataset.Gen(from + i)
		err := c.do(ctx, http.MethodPost, "/contacts", map[string]any{
			"role": "user", "email": g.Email, "external_id": g.ExternalID, "name": g.Name,
			"custom_attributes": g.CustomAttributes(),
		}, nil)
		var ae *apiError
		if errors.As(err, &ae) && ae.Status == http.StatusConflict {
			return nil
		}
		if missingRoute(err) {
			return fatalError{err}
		}
		return err
	})
}

// seedResult is what `seed --out` writes.
type seedResult struct {
	Contacts        int           `json:"contacts"`
	Via             string        `json:"via"`
	Import          *importResult `json:"import,omitempty"`
	ContactsSecs    float64       `json:"contacts_seconds"`
	ContactsPerSec  float64       `json:"contacts_per_second"`
	ContactsFailed  int64         `json:"contacts_failed"`
	MaxRSSMiB       float64       `json:"server_max_rss_mib,omitempty"`
	Companies       int           `json:"companies"`
	CompaniesSecs   float64       `json:"companies_seconds"`
	Tags            int           `json:"tags"`
	TagsSecs        float64       `json:"tags_seconds"`
	Tagged          int           `json:"contacts_tagged"`
	AttachedCompany int           `json:"contacts_attached_to_companies"`
	AttachSecs      float64       `json:"attach_seconds"`
	AttachFailed    int64         `json:"attach_failed"`
	TotalSecs       float64       `json:"total_seconds"`
	Warnings        []string      `json:"warnings,omitempty"`
}

func (r *seedResult) warn(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	logf("WARNING: %s", msg)
	r.Warnings = append(r.Warnings, msg)
}

func stride(fraction float64) int {
	if fraction <= 0 {
		return 0
	}
	return max(1, int(math.Round(1/fraction)))
}

func cmdSeed(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("seed", flag.ContinueOnError)
	af := addAPIFlags(fs, 32)
	contacts := fs.Int("contacts", 1000000, "number of contacts")
	from := fs.Int("from", 0, "number of the first contact (to add more to an existing workspace)")
	companies := fs.Int("companies", 10000, "number of companies")
	tags := fs.Int("tags", 50, "number of tags")
	tagFraction := fs.Float64("tag-fraction", 0.1, "fraction of contacts to tag (every 1/f-th contact)")
	companyFraction := fs.Float64("company-fraction", 0.1, "fraction of contacts to attach to a company")
	via := fs.String("via", "auto", "how to create contacts: import (CSV import API), api (POST /contacts), auto (import, else api)")
	pid := fs.Int("pid", 0, "Parley's pid: report its largest RSS while contacts are created")
	timeout := fs.Duration("timeout", time.Hour, "give up on the contact import after this long")
	out := fs.String("out", "", "also write the result as JSON to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *via != "auto" && *via != "import" && *via != "api" {
		return errors.New("--via must be import, api or auto")
	}
	c, err := af.client()
	if err != nil {
		return err
	}
	conc := *af.concurrency
	res := &seedResult{Contacts: *contacts}
	start := time.Now()

	logf("seed: data attributes")
	if err := ensureAttributes(ctx, c); err != nil {
		return err
	}

	logf("seed: %d contacts (via %s)", *contacts, *via)
	t := time.Now()
	rss := sampleRSS(*pid, 100*time.Millisecond)
	if *via != "api" {
		imp, err := runImport(ctx, c, *from, *contacts, *timeout)
		switch {
		case err == nil:
			res.Via, res.Import = "import", imp
		case *via == "auto" && missingRoute(err):
			res.warn("POST /contacts/import is not available (%v): creating contacts with POST /contacts instead", err)
		default:
			rss.Stop()
			return fmt.Errorf("import: %w", err)
		}
	}
	if res.Via == "" {
		res.Via = "api"
		t = time.Now()
		res.ContactsFailed, err = createContactsAPI(ctx, c, *from, *contacts, conc)
		if res.ContactsFailed > 0 {
			res.warn("%d contacts failed; first error: %v", res.ContactsFailed, err)
		}
		if res.ContactsFailed == int64(*contacts) {
			rss.Stop()
			return fmt.Errorf("no contact could be created: %w", err)
		}
	}
	res.ContactsSecs = time.Since(t).Seconds()
	res.ContactsPerSec = float64(*contacts) / res.ContactsSecs
	res.MaxRSSMiB = mib(rss.Stop())
	if res.Import != nil {
		res.Import.MaxRSSMiB = res.MaxRSSMiB
	}
	logf("seed: %d contacts in %.1fs (%.0f/s) via %s", *contacts, res.ContactsSecs, res.ContactsPerSec, res.Via)

	companyIDs := seedCompanies(ctx, c, *companies, conc, res)
	tagIDs := seedTags(ctx, c, *tags, conc, res)
	attach(ctx, c, *from, *contacts, tagIDs, companyIDs, stride(*tagFraction), stride(*companyFraction), conc, res)

	res.TotalSecs = time.Since(start).Seconds()
	fmt.Fprintf(stdout, "seeded %d contacts via %s in %.1fs (%.0f/s", res.Contacts, res.Via, res.ContactsSecs, res.ContactsPerSec)
	if res.MaxRSSMiB > 0 {
		fmt.Fprintf(stdout, ", server max RSS %.1f MiB", res.MaxRSSMiB)
	}
	fmt.Fprintf(stdout, "); %d companies in %.1fs; %d tags in %.1fs; tagged %d and attached %d contacts to companies in %.1fs; total %.1fs\n",
		res.Companies, res.CompaniesSecs, res.Tags, res.TagsSecs, res.Tagged, res.AttachedCompany, res.AttachSecs, res.TotalSecs)
	for _, w := range res.Warnings {
		fmt.Fprintln(stdout, "warning:", w)
	}
	return writeResult(*out, res)
}

// seedCompanies creates companies bench-co-0… and returns their ids (nil if
// the endpoint is missing).
func seedCompanies(ctx context.Context, c *client, n, conc int, res *seedResult) []string {
	if n <= 0 {
		return nil
	}
	logf("seed: %d companies", n)
	t := time.Now()
	ids := make([]string, n)
	failed, err := parallel(ctx, "companies", n, conc, func(ctx context.Context, i int) error {
		var co struct {
			ID string `json:"id"`
		}
		err := c.do(ctx, http.MethodPost, "/companies", map[string]any{
			"company_id": fmt.Sprintf("bench-co-%d", i), "name": fmt.Sprintf("Bench Company %d", i),
			"plan": dataset.Plans[i%len(dataset.Plans)], "size": 1 + i%500, "website": fmt.Sprintf("https://co%d.example.com", i),
		}, &co)
		if missingRoute(err) {
			return fatalError{err}
		}
		ids[i] = co.ID
		return err
	})
	res.CompaniesSecs = time.Since(t).Seconds()
	return collectIDs(ids, failed, err, "companies", res, &res.Companies)
}

// seedTags creates tags bench-tag-0… and returns their ids.
func seedTags(ctx context.Context, c *client, n, conc int, res *seedResult) []string {
	if n <= 0 {
		return nil
	}
	logf("seed: %d tags", n)
	t := time.Now()
	ids := make([]string, n)
	failed, err := parallel(ctx, "tags", n, conc, func(ctx context.Context, i int) error {
		var tag struct {
			ID string `json:"id"`
		}
		err := c.do(ctx, http.MethodPost, "/tags", map[string]any{"name": fmt.Sprintf("bench-tag-%d", i)}, &tag)
		if missingRoute(err) {
			return fatalError{err}
		}
		ids[i] = tag.ID
		return err
	})
	res.TagsSecs = time.Since(t).Seconds()
	return collectIDs(ids, failed, err, "tags", res, &res.Tags)
}

func collectIDs(ids []string, failed int64, err error, what string, res *seedResult, count *int) []string {
	if missingRoute(err) {
		res.warn("%s skipped: the endpoint is not available (%v)", what, err)
		return nil
	}
	if failed > 0 {
		res.warn("%d %s failed; first error: %v", failed, what, err)
	}
	var ok []string
	for _, id := range ids {
		if id != "" {
			ok = append(ok, id)
		}
	}
	*count = len(ok)
	return ok
}

// attach tags every tagStride-th contact and attaches every
// companyStride-th contact to a company, looking contacts up by external_id.
func attach(ctx context.Context, c *client, from, n int, tagIDs, companyIDs []string, tagStride, companyStride, conc int, res *seedResult) {
	if len(tagIDs) == 0 {
		tagStride = 0
	}
	if len(companyIDs) == 0 {
		companyStride = 0
	}
	var picked []int
	for k := from; k < from+n; k++ {
		if (tagStride > 0 && k%tagStride == 0) || (companyStride > 0 && k%companyStride == 0) {
			picked = append(picked, k)
		}
	}
	if len(picked) == 0 {
		return
	}
	logf("seed: attaching tags and companies to %d contacts", len(picked))
	t := time.Now()
	var tagged, attached atomic.Int64
	var tagMissing, companyMissing atomic.Bool
	failed, err := parallel(ctx, "attach", len(picked), conc, func(ctx context.Context, i int) error {
		k := picked[i]
		var ct struct {
			ID string `json:"id"`
		}
		if err := c.do(ctx, http.MethodGet, "/contacts/find_by_external_id/"+url.PathEscape(dataset.ExternalID(k)), nil, &ct); err != nil {
			return fmt.Errorf("looking up %s: %w", dataset.ExternalID(k), err)
		}
		if tagStride > 0 && k%tagStride == 0 && !tagMissing.Load() {
			err := c.do(ctx, http.MethodPost, "/contacts/"+ct.ID+"/tags", map[string]any{"id": tagIDs[(k/tagStride)%len(tagIDs)]}, nil)
			if missingRoute(err) {
				tagMissing.Store(true)
			} else if err != nil {
				return fmt.Errorf("tagging: %w", err)
			} else {
				tagged.Add(1)
			}
		}
		if companyStride > 0 && k%companyStride == 0 && !companyMissing.Load() {
			err := c.do(ctx, http.MethodPost, "/contacts/"+ct.ID+"/companies", map[string]any{"id": companyIDs[(k/companyStride)%len(companyIDs)]}, nil)
			if missingRoute(err) {
				companyMissing.Store(true)
			} else if err != nil {
				return fmt.Errorf("attaching to a company: %w", err)
			} else {
				attached.Add(1)
			}
		}
		if tagMissing.Load() && companyMissing.Load() {
			return fatalError{errors.New("neither POST /contacts/{id}/tags nor POST /contacts/{id}/companies is available")}
		}
		return nil
	})
	res.AttachSecs = time.Since(t).Seconds()
	res.Tagged, res.AttachedCompany, res.AttachFailed = int(tagged.Load()), int(attached.Load()), failed
	if tagMissing.Load() {
		res.warn("tagging skipped: POST /contacts/{id}/tags is not available")
	}
	if companyMissing.Load() {
		res.warn("company attachment skipped: POST /contacts/{id}/companies is not available")
	}
	if failed > 0 && !errors.As(err, new(fatalError)) {
		res.warn("%d attachments failed; first error: %v", failed, err)
	}
}

func cmdImport(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	af := addAPIFlags(fs, 1)
	contacts := fs.Int("contacts", 100000, "number of contacts to import")
	from := fs.Int("from", 0, "number of the first contact (use a fresh range to time creation rather than update)")
	pid := fs.Int("pid", 0, "Parley's pid: report its largest RSS during the import")
	timeout := fs.Duration("timeout", time.Hour, "give up after this long")
	out := fs.String("out", "", "also write the result as JSON to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	c, err := af.client()
	if err != nil {
		return err
	}
	if err := ensureAttributes(ctx, c); err != nil {
		return err
	}
	rss := sampleRSS(*pid, 100*time.Millisecond)
	res, err := runImport(ctx, c, *from, *contacts, *timeout)
	maxRSS := rss.Stop()
	if err != nil {
		return err
	}
	res.MaxRSSMiB = mib(maxRSS)
	fmt.Fprintf(stdout, "imported %d contacts in %.1fs (%.0f rows/s; upload %.1fs)", res.Contacts, res.WallSecs, res.RowsPerSec, res.UploadSecs)
	if maxRSS > 0 {
		fmt.Fprintf(stdout, ", server max RSS %.1f MiB", res.MaxRSSMiB)
	}
	fmt.Fprintf(stdout, "\njob: %s\n", truncate(string(res.Job), 600))
	return writeResult(*out, res)
}

func cmdCSV(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("csv", flag.ContinueOnError)
	contacts := fs.Int("contacts", 1000, "number of contacts")
	from := fs.Int("from", 0, "number of the first contact")
	if err := fs.Parse(args); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "map for parley import: --map %q\n", importMap())
	return dataset.WriteCSV(stdout, *from, *from+*contacts)
}
