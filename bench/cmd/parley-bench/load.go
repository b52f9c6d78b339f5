package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/parleyhq/parley/bench/internal/hist"
)

// scenarios, in the order bench/run.sh runs them.
var scenarios = []string{"get-contact", "create-contact", "update-contact", "search-email", "search-external-id", "search-compound"}

// call is one request a scenario makes.
type call struct {
	method, path string
	body         []byte
	cookie       string // a web app session instead of the API token
}

// scenario builds the request a worker sends next.
type scenario func(w *worker) call

// worker is one closed-loop client: it sends a request, waits for the whole
// answer, and sends the next.
type worker struct {
	id     int
	seq    int
	rng    *rand.Rand
	h      hist.H
	ok     int64
	status map[string]int64 // failures by status code or "transport"
	first  string           // first failure
	last   time.Time        // completion of the last recorded request
}

// loadResult is what `load --out` writes.
type loadResult struct {
	Scenario    string           `json:"scenario"`
	URL         string           `json:"url"`
	Concurrency int              `json:"concurrency"`
	Warmup      float64          `json:"warmup_seconds"`
	Duration    float64          `json:"duration_seconds"` // measured window
	Requests    int64            `json:"requests"`
	Errors      int64            `json:"errors"`
	ErrorsBy    map[string]int64 `json:"errors_by_status,omitempty"`
	FirstError  string           `json:"first_error,omitempty"`
	RPS         float64          `json:"requests_per_second"` // successful requests per second
	MeanMS      float64          `json:"mean_ms"`
	P50MS       float64          `json:"p50_ms"`
	P90MS       float64          `json:"p90_ms"`
	P95MS       float64          `json:"p95_ms"`
	P99MS       float64          `json:"p99_ms"`
	P999MS      float64          `json:"p999_ms"`
	MaxMS       float64          `json:"max_ms"`
	MaxRSSMiB   float64          `json:"server_max_rss_mib,omitempty"`
	Note        string           `json:"note,omitempty"`
	// FirstMatches is the total_count of the first search, to show the
	// query finds something.
	FirstMatches *int   `json:"first_query_matches,omitempty"`
	Skipped      string `json:"skipped,omitempty"`
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func cmdLoad(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	af := addAPIFlags(fs, 32)
	name := fs.String("scenario", "get-contact", "one of "+strings.Join(scenarios, ", "))
	duration := fs.Duration("duration", 20*time.Second, "measured duration")
	warmup := fs.Duration("warmup", 3*time.Second, "unmeasured warm-up before it")
	contacts := fs.Int("contacts", 0, "contacts the seed made (0: GET /contacts total_count); searches pick among them")
	sample := fs.Int("sample", 2000, "contacts to sample for get-contact and update-contact")
	sampleURL := fs.String("sample-url", "", "Parley to sample ids, tags and attributes from (default --url; set it when --url is the ceiling)")
	pid := fs.Int("pid", 0, "server pid: report its largest RSS during the run")
	seed := fs.Uint64("seed", 1, "random seed for the choice of contacts")
	out := fs.String("out", "", "also write the result as JSON to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *duration <= 0 || *duration > time.Hour || *warmup < 0 || *warmup > 10*time.Minute {
		return errors.New("--duration must be in (0, 1h] and --warmup in [0, 10m]")
	}
	c, err := af.client()
	if err != nil {
		return err
	}
	sc := c
	if *sampleURL != "" {
		if sc, err = newClient(*sampleURL, *af.token, 16); err != nil {
			return err
		}
	}
	res := &loadResult{Scenario: *name, URL: c.base, Concurrency: *af.concurrency, Warmup: warmup.Seconds()}
	scen, err := prepare(ctx, sc, *name, *contacts, *sample, *seed, res)
	if err != nil {
		return err
	}
	// One request first: a missing endpoint is reported, not measured.
	pre := scen(&worker{id: -1, rng: rand.New(rand.NewPCG(*seed, 99))})
	var preOut struct {
		TotalCount *int `json:"total_count"`
	}
	if err := c.do(ctx, pre.method, pre.path, jsonBody(pre.body), &preOut); err != nil {
		res.Skipped = fmt.Sprintf("%s %s: %v", pre.method, pre.path, err)
		fmt.Fprintf(stdout, "%-20s skipped: %s\n", res.Scenario, res.Skipped)
		if werr := writeResult(*out, res); werr != nil {
			return werr
		}
		return fmt.Errorf("scenario %s: the first request failed: %w", *name, err)
	}

	if preOut.TotalCount != nil && strings.HasPrefix(*name, "search-") {
		res.FirstMatches = preOut.TotalCount
		logf("load: the first %s query matched %d contacts", *name, *preOut.TotalCount)
	}
	logf("load: %s against %s, %d clients, %v warm-up + %v", *name, c.base, *af.concurrency, *warmup, *duration)
	rss := sampleRSS(*pid, 100*time.Millisecond)
	ws, warmEnd := runLoad(ctx, c, scen, *af.concurrency, *warmup, *duration, *seed)
	res.MaxRSSMiB = mib(rss.Stop())
	summarize(res, ws, warmEnd)

	fmt.Fprintf(stdout, "%-20s %8.0f req/s  p50 %6.2fms  p95 %6.2fms  p99 %6.2fms  max %7.2fms  errors %d/%d",
		res.Scenario, res.RPS, res.P50MS, res.P95MS, res.P99MS, res.MaxMS, res.Errors, res.Requests)
	if res.MaxRSSMiB > 0 {
		fmt.Fprintf(stdout, "  server RSS max %.1f MiB", res.MaxRSSMiB)
	}
	fmt.Fprintln(stdout)
	if res.FirstError != "" {
		fmt.Fprintf(stdout, "  first error: %s\n", res.FirstError)
	}
	if res.Note != "" {
		fmt.Fprintf(stdout, "  note: %s\n", res.Note)
	}
	return writeResult(*out, res)
}

func jsonBody(b []byte) any {
	if b == nil {
		return nil
	}
	return json.RawMessage(b)
}

// runLoad runs conc workers for warmup+duration; requests that start after
// the warm-up are recorded.
func runLoad(ctx context.Context, c *client, scen scenario, conc int, warmup, duration time.Duration, seed uint64) ([]*worker, time.Time) {
	base, err := url.Parse(c.base)
	if err != nil {
		panic(err) // checked by newClient
	}
	auth := []string{"Bearer " + c.token}
	version := []string{"2.14"}
	accept := []string{"application/json"}
	ctype := []string{"application/json"}

	start := time.Now()
	warmEnd, end := start.Add(warmup), start.Add(warmup+duration)
	ws := make([]*worker, conc)
	var wg sync.WaitGroup
	for i := range ws {
		w := &worker{id: i, rng: rand.New(rand.NewPCG(seed, uint64(i))), status: map[string]int64{}}
		ws[i] = w
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				t0 := time.Now()
				if !t0.Before(end) {
					return
				}
				cl := scen(w)
				w.seq++
				u := *base
				u.Path, u.RawQuery, _ = strings.Cut(base.Path+cl.path, "?")
				req := &http.Request{Method: cl.method, URL: &u, Host: u.Host, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
					Header: http.Header{"Authorization": auth, "Intercom-Version": version, "Accept": accept}}
				if cl.cookie != "" {
					req.Header = http.Header{"Cookie": {cl.cookie}}
				}
				if cl.body != nil {
					req.Header["Content-Type"] = ctype
					req.Body = io.NopCloser(bytes.NewReader(cl.body))
					req.ContentLength = int64(len(cl.body))
					req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(cl.body)), nil }
				}
				req = req.WithContext(ctx)
				failure := ""
				resp, err := c.http.Do(req)
				if err != nil {
					failure = "transport: " + err.Error()
				} else {
					if resp.StatusCode/100 != 2 {
						b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
						failure = decodeAPIError(resp.StatusCode, b).Error()
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				done := time.Now()
				if t0.Before(warmEnd) || ctx.Err() != nil {
					continue
				}
				w.h.Record(done.Sub(t0))
				w.last = done
				if failure == "" {
					w.ok++
					continue
				}
				key := "transport"
				if resp != nil {
					key = strconv.Itoa(resp.StatusCode)
				}
				w.status[key]++
				if w.first == "" {
					w.first = failure
				}
			}
		}()
	}
	wg.Wait()
	return ws, warmEnd
}

// summarize merges the workers' figures into res. The measured window runs
// from the end of the warm-up to the last recorded completion.
func summarize(res *loadResult, ws []*worker, warmEnd time.Time) {
	var h hist.H
	var ok int64
	var last time.Time
	res.ErrorsBy = map[string]int64{}
	for _, w := range ws {
		h.Merge(&w.h)
		ok += w.ok
		if w.last.After(last) {
			last = w.last
		}
		for k, v := range w.status {
			res.ErrorsBy[k] += v
			res.Errors += v
		}
		if res.FirstError == "" {
			res.FirstError = w.first
		}
	}
	if len(res.ErrorsBy) == 0 {
		res.ErrorsBy = nil
	}
	res.Requests = int64(h.Count())
	if last.After(warmEnd) {
		res.Duration = last.Sub(warmEnd).Seconds()
		res.RPS = float64(ok) / res.Duration
	}
	res.MeanMS, res.MaxMS = ms(h.Mean()), ms(h.Max())
	res.P50MS, res.P90MS, res.P95MS = ms(h.Quantile(0.5)), ms(h.Quantile(0.9)), ms(h.Quantile(0.95))
	res.P99MS, res.P999MS = ms(h.Quantile(0.99)), ms(h.Quantile(0.999))
}
