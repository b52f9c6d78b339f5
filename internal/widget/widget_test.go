package widget

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

func TestServesScriptWithCachingAndGzip(t *testing.T) {
	mux := http.NewServeMux()
	Routes(mux)
	for _, path := range []string{"/widget.js", "/widget/ws_123"} {
		req := httptest.NewRequest("GET", path, nil)
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		if rec.Code != 200 || !bytes.Equal(rec.Body.Bytes(), Script()) {
			t.Fatalf("%s: %d, %d bytes", path, rec.Code, rec.Body.Len())
		}
		if ct := rec.Header().Get("Content-Type"); ct != "text/javascript; charset=utf-8" {
			t.Fatalf("%s: content type %q", path, ct)
		}
		etag := rec.Header().Get("ETag")
		req = httptest.NewRequest("GET", path, nil)
		req.Header.Set("If-None-Match", etag)
		rec = httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		if etag == "" || rec.Code != http.StatusNotModified {
			t.Fatalf("%s: revalidation with ETag %q answered %d", path, etag, rec.Code)
		}
	}
	req := httptest.NewRequest("GET", "/widget.js", nil)
	req.Header.Set("Accept-Encoding", "br, gzip;q=0.8")
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, req)
	if rec.Header().Get("Content-Encoding") != "gzip" {
		t.Fatalf("not compressed: %v", rec.Header())
	}
	zipped := rec.Body.Len()
	zr, err := gzip.NewReader(rec.Body)
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := io.ReadAll(zr)
	if !bytes.Equal(plain, Script()) {
		t.Fatal("gzip body differs from the script")
	}
	t.Logf("widget.js: %d bytes, %d gzipped", len(Script()), zipped)

	req = httptest.NewRequest("GET", "/widget.js", nil)
	req.Header.Set("Accept-Encoding", "gzip;q=0")
	rec = httptest.NewRecorder()
	mux.ServeHTTP(rec, req)
	if rec.Header().Get("Content-Encoding") != "" {
		t.Fatal("gzip sent although refused with q=0")
	}
	req = httptest.NewRequest("POST", "/widget.js", nil)
	rec = httptest.NewRecorder()
	mux.ServeHTTP(rec, req)
	if rec.Code != http.StatusMethodNotAllowed {
		t.Fatalf("POST answered %d", rec.Code)
	}
}

// The script is plain JavaScript that parses on its own: a syntax error
// fails here even where no browser is installed (the browser test runs it).
func TestScriptParses(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("node not found but CI=true (.ci/run installs it)")
		}
		t.Skip("node not installed")
	}
	path := filepath.Join(t.TempDir(), "widget.js")
	if err := os.WriteFile(path, Script(), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(node, "--check", path).CombinedOutput(); err != nil {
		t.Fatalf("widget.js does not parse: %v\n%s", err, out)
	}
}
