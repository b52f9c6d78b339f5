package main

// The web app's figures (issue 4): seeding conversations, page loads as a
// signed-in teammate, and the JavaScript a page ships.

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// cmdSeedConversations creates conversations from sampled contacts over
// the API (POST /conversations), assigns every --assign-every-th one to the
// token's teammate and closes every --close-every-th one, as a busy inbox.
func cmdSeedConversations(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("seed-conversations", flag.ContinueOnError)
	af := addAPIFlags(fs, 16)
	count := fs.Int("count", 100000, "conversations to create")
	sample := fs.Int("contacts", 5000, "contacts to start them from (sampled from the workspace)")
	assignEvery := fs.Int("assign-every", 3, "assign every n-th conversation to the token's teammate (0: none)")
	closeEvery := fs.Int("close-every", 4, "close every n-th conversation (0: none)")
	out := fs.String("out", "", "also write the result as JSON to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	c, err := af.client()
	if err != nil {
		return err
	}
	var me struct {
		ID string `json:"id"`
	}
	if err := c.do(ctx, http.MethodGet, "/me", nil, &me); err != nil {
		return fmt.Errorf("GET /me: %w", err)
	}
	var page listPage
	if err := c.do(ctx, http.MethodGet, "/contacts?per_page=1", nil, &page); err != nil {
		return err
	}
	if page.TotalCount == 0 {
		return errors.New("the workspace has no contacts: run parley-bench seed first")
	}
	ids, err := sampleIDs(ctx, c, page.TotalCount, *sample, rand.New(rand.NewPCG(3, 5)))
	if err != nil {
		return err
	}
	logf("seed-conversations: %d conversations from %d contacts, %d clients", *count, len(ids), *af.concurrency)
	start := time.Now()
	var next, failed atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	for w := 0; w < *af.concurrency; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= *count {
					return
				}
				if err := seedConversation(ctx, c, i, ids[i%len(ids)], me.ID, *assignEvery, *closeEvery); err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
				}
				if i > 0 && i%10000 == 0 {
					logf("seed-conversations: %d (%.0f/s)", i, float64(i)/time.Since(start).Seconds())
				}
			}
		}()
	}
	wg.Wait()
	secs := time.Since(start).Seconds()
	res := map[string]any{"conversations": *count, "failed": failed.Load(), "seconds": secs, "per_second": float64(*count) / secs}
	if e := firstErr.Load(); e != nil {
		res["first_error"] = e
	}
	fmt.Fprintf(stdout, "seed-conversations: %d in %.1f s (%.0f/s), %d failed\n", *count, secs, float64(*count)/secs, failed.Load())
	if err := writeResult(*out, res); err != nil {
		return err
	}
	if failed.Load() == int64(*count) {
		return fmt.Errorf("no conversation could be created: %v", firstErr.Load())
	}
	return nil
}

func seedConversation(ctx context.Context, c *client, i int, contactID, adminID string, assignEvery, closeEvery int) error {
	var msg struct {
		ConversationID string `json:"conversation_id"`
	}
	body := map[string]any{"from": map[string]any{"type": "user", "id": contactID},
		"body": fmt.Sprintf("Hello, this is question %d: how do I export my invoices for the last quarter?", i)}
	if err := c.do(ctx, http.MethodPost, "/conversations", body, &msg); err != nil {
		return err
	}
	if msg.ConversationID == "" {
		return errors.New("POST /conversations gave no conversation_id")
	}
	parts := "/conversations/" + msg.ConversationID + "/parts"
	if assignEvery > 0 && i%assignEvery == 0 {
		if err := c.do(ctx, http.MethodPost, parts, map[string]any{"message_type": "assignment", "type": "admin", "admin_id": adminID, "assignee_id": adminID}, nil); err != nil {
			return err
		}
	}
	if closeEvery > 0 && i%closeEvery == 1 {
		return c.do(ctx, http.MethodPost, parts, map[string]any{"message_type": "close", "type": "admin", "admin_id": adminID}, nil)
	}
	return nil
}

// signIn signs a teammate into the web app (the sign-in form with its
// double-submit token) and returns the Cookie header of the session.
func signIn(ctx context.Context, base, email, password string) (string, error) {
	hc := &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/signin", nil)
	resp, err := hc.Do(req)
	if err != nil {
		return "", err
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(page)
	if m == nil {
		return "", errors.New("GET /signin: no csrf field in the form")
	}
	form := url.Values{"email": {email}, "password": {password}, "csrf": {string(m[1])}}
	req, _ = http.NewRequestWithContext(ctx, http.MethodPost, base+"/signin", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for _, ck := range resp.Cookies() {
		req.AddCookie(ck)
	}
	resp, err = hc.Do(req)
	if err != nil {
		return "", err
	}
	resp.Body.Close()
	for _, ck := range resp.Cookies() {
		if ck.Name == "parley_session" && ck.Value != "" {
			return ck.Name + "=" + ck.Value, nil
		}
	}
	return "", fmt.Errorf("POST /signin: status %d and no session cookie (wrong email or password?)", resp.StatusCode)
}

// getPage fetches path with the session cookie and fails unless it is 200.
func getPage(ctx context.Context, base, cookie, path string) ([]byte, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
	req.Header.Set("Cookie", cookie)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("GET %s: status %d: %.200s", path, resp.StatusCode, b)
	}
	return b, err
}

type webLoadResult struct {
	loadResult
	Paths     []string `json:"paths"`
	PageBytes int      `json:"page_bytes"` // size of the first path's page
	// The same clients against a bare net/http handler serving the first
	// path's bytes: what this machine can do with no application behind.
	Ceiling *loadResult `json:"ceiling,omitempty"`
}

// cmdWebLoad signs in and loads the given pages with closed-loop clients,
// reporting latency percentiles (the page's server time plus loopback).
func cmdWebLoad(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("web-load", flag.ContinueOnError)
	base, email, password, paths := webFlags(fs, "page to load (repeat: each request picks one at random)")
	name := fs.String("name", "web", "name of the figure")
	conc := fs.Int("concurrency", 4, "clients")
	duration := fs.Duration("duration", 20*time.Second, "measured duration")
	warmup := fs.Duration("warmup", 3*time.Second, "unmeasured warm-up before it")
	ceiling := fs.Bool("ceiling", true, "also measure a bare handler serving the first page's bytes")
	out := fs.String("out", "", "also write the result as JSON to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if len(*paths) == 0 || *email == "" {
		return errors.New("--email, --password and at least one --path are needed")
	}
	c, err := newClient(*base, "", *conc)
	if err != nil {
		return err
	}
	cookie, err := signIn(ctx, c.base, *email, *password)
	if err != nil {
		return err
	}
	first, err := getPage(ctx, c.base, cookie, (*paths)[0])
	if err != nil {
		return err
	}
	for _, p := range (*paths)[1:] {
		if _, err := getPage(ctx, c.base, cookie, p); err != nil {
			return err
		}
	}
	scen := func(w *worker) call {
		return call{method: http.MethodGet, path: (*paths)[w.rng.IntN(len(*paths))], cookie: cookie}
	}
	res := &webLoadResult{loadResult: loadResult{Scenario: *name, URL: c.base, Concurrency: *conc, Warmup: warmup.Seconds()}, Paths: *paths, PageBytes: len(first)}
	logf("web-load: %s, %d pages, %d clients, %v warm-up + %v", *name, len(*paths), *conc, *warmup, *duration)
	ws, warmEnd := runLoad(ctx, c, scen, *conc, *warmup, *duration, 1)
	summarize(&res.loadResult, ws, warmEnd)
	fmt.Fprintf(stdout, "%-28s %7.0f req/s  p50 %6.2fms  p95 %6.2fms  p99 %6.2fms  max %7.2fms  errors %d/%d  page %d B\n",
		res.Scenario, res.RPS, res.P50MS, res.P95MS, res.P99MS, res.MaxMS, res.Errors, res.Requests, res.PageBytes)
	if res.FirstError != "" {
		fmt.Fprintf(stdout, "  first error: %s\n", res.FirstError)
	}
	if *ceiling {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Header().Set("Cache-Control", "no-store")
			_, _ = w.Write(first)
		})}
		go func() { _ = srv.Serve(ln) }()
		cc, _ := newClient("http://"+ln.Addr().String(), "", *conc)
		cres := &loadResult{Scenario: *name + " ceiling", URL: cc.base, Concurrency: *conc, Warmup: warmup.Seconds()}
		ws, warmEnd := runLoad(ctx, cc, func(w *worker) call { return call{method: http.MethodGet, path: "/", cookie: cookie} }, *conc, *warmup, min(*duration, 10*time.Second), 1)
		summarize(cres, ws, warmEnd)
		_ = srv.Close()
		res.Ceiling = cres
		fmt.Fprintf(stdout, "%-28s %7.0f req/s  p50 %6.2fms  p95 %6.2fms  p99 %6.2fms\n", cres.Scenario, cres.RPS, cres.P50MS, cres.P95MS, cres.P99MS)
	}
	return writeResult(*out, res)
}

// webFlags adds the flags of a signed-in page load: Parley's URL, the
// teammate's email and password, and the pages (--path, repeated).
func webFlags(fs *flag.FlagSet, pathHelp string) (base, email, password *string, paths *multiFlag) {
	base = fs.String("url", "http://127.0.0.1:8080", "Parley's base URL (loopback only)")
	email = fs.String("email", "", "teammate's email")
	password = fs.String("password", "", "teammate's password")
	paths = &multiFlag{}
	fs.Var(paths, "path", pathHelp)
	return
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// cmdWebJS reports the JavaScript a page ships: every <script src> of the
// page, fetched, in bytes and gzipped bytes.
func cmdWebJS(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("web-js", flag.ContinueOnError)
	base, email, password, paths := webFlags(fs, "page (repeat)")
	out := fs.String("out", "", "also write the result as JSON to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := checkLocal(*base); err != nil {
		return err
	}
	cookie, err := signIn(ctx, strings.TrimSuffix(*base, "/"), *email, *password)
	if err != nil {
		return err
	}
	type pageJS struct {
		Path    string         `json:"path"`
		Scripts map[string]int `json:"scripts"` // src → bytes
		Inline  int            `json:"inline_bytes"`
		Total   int            `json:"total_bytes"`
		Gzipped int            `json:"total_gzipped_bytes"`
	}
	var res []pageJS
	srcRe := regexp.MustCompile(`<script[^>]*\ssrc="([^"]+)"`)
	inlineRe := regexp.MustCompile(`(?s)<script(?:\s[^>]*)?>(.*?)</script>`)
	for _, p := range *paths {
		page, err := getPage(ctx, *base, cookie, p)
		if err != nil {
			return err
		}
		pj := pageJS{Path: p, Scripts: map[string]int{}}
		var all bytes.Buffer
		for _, m := range inlineRe.FindAllSubmatch(page, -1) {
			pj.Inline += len(m[1])
			all.Write(m[1])
		}
		for _, m := range srcRe.FindAllSubmatch(page, -1) {
			src := string(m[1])
			js, err := getPage(ctx, *base, cookie, src)
			if err != nil {
				return err
			}
			pj.Scripts[src] = len(js)
			all.Write(js)
		}
		pj.Total = all.Len()
		var gz bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
		_, _ = zw.Write(all.Bytes())
		_ = zw.Close()
		pj.Gzipped = gz.Len()
		fmt.Fprintf(stdout, "JS on %s: %d B (%d B gzipped) from %d files %v + %d B inline\n", p, pj.Total, pj.Gzipped, len(pj.Scripts), pj.Scripts, pj.Inline)
		res = append(res, pj)
	}
	return writeResult(*out, res)
}
