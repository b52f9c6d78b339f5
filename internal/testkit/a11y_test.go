package testkit_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/parleyhq/parley/internal/testkit"
)

// The checker finds what a keyboard or screen-reader user would meet on a
// page with mistakes, and nothing on the same page without them.
func TestA11y(t *testing.T) {
	chromium := testkit.Chromium(t)
	page := func(bad bool) string {
		style, extra := ":focus-visible { outline: 2px solid blue; }", ""
		if bad {
			style = "#go:focus { outline: none; } :focus-visible { outline: 2px solid blue; } #go:focus-visible { outline: none; }"
			extra = `<input id="nolabel"><a href="/x" tabindex="-1">Skipped</a><button aria-label=""></button>`
		}
		return `<!doctype html><html lang="en"><head><style>` + style + `</style></head><body>
<label for="q">Search</label><input id="q"><button id="go">Go</button><a href="/y">Help</a>
<select aria-label="Sort"><option>New</option></select>` + extra + `
<div hidden><input id="invisible"></div></body></html>`
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte(page(r.URL.Query().Get("bad") == "1")))
	}))
	defer srv.Close()
	alloc, cancel := chromedp.NewExecAllocator(context.Background(), append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium), chromedp.NoSandbox, chromedp.DisableGPU)...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(alloc)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, time.Minute)
	defer cancel()

	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/")); err != nil {
		t.Fatal(err)
	}
	if probs, err := testkit.A11y(ctx); err != nil || len(probs) != 0 {
		t.Fatalf("a good page: %v %q", err, probs)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/?bad=1")); err != nil {
		t.Fatal(err)
	}
	probs, err := testkit.A11y(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(probs, "\n")
	for _, want := range []string{`input#nolabel "": no accessible name`, `a "Skipped": taken out of the tab order`, `button "": no accessible name`, `button#go "Go": no visible focus indicator`} {
		if !strings.Contains(got, want) {
			t.Errorf("missing problem %q in:\n%s", want, got)
		}
	}
	if len(probs) != 4 {
		t.Errorf("want 4 problems, got %d:\n%s", len(probs), got)
	}
}
