// Package widget serves the Messenger widget: one dependency-free script,
// embedded in the binary, that a website loads with a script tag to show a
// launcher and a chat window talking to Parley's /messenger/v1 endpoints.
package widget

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"time"
)

//go:embed assets/widget.js
var script []byte

// Script is the widget's source, as served.
func Script() []byte { return script }

// Handler serves the widget script with an ETag, a short cache lifetime
// and a gzip-compressed variant. It answers GET (and HEAD) only.
func Handler() http.Handler {
	sum := sha256.Sum256(script)
	etag := `"` + hex.EncodeToString(sum[:8]) + `"`
	var gz bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	_, _ = zw.Write(script)
	_ = zw.Close()
	compressed := gz.Bytes()
	modified := time.Now()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "text/javascript; charset=utf-8")
		// Sites embed it on every page: cache it briefly and revalidate by
		// ETag, so an upgrade of Parley reaches visitors within minutes.
		h.Set("Cache-Control", "public, max-age=300")
		h.Set("Access-Control-Allow-Origin", "*")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Vary", "Accept-Encoding")
		body := script
		if acceptsGzip(r.Header.Get("Accept-Encoding")) {
			h.Set("Content-Encoding", "gzip")
			h.Set("ETag", strings.TrimSuffix(etag, `"`)+`-gz"`)
			body = compressed
		} else {
			h.Set("ETag", etag)
		}
		http.ServeContent(w, r, "widget.js", modified, bytes.NewReader(body))
	})
}

// Routes registers GET /widget.js and GET /widget/{app_id} (the path of
// Intercom's snippet, so a site switches by changing only the host).
func Routes(mux *http.ServeMux) {
	h := Handler()
	mux.Handle("GET /widget.js", h)
	mux.Handle("GET /widget/{app_id}", h)
}

func acceptsGzip(header string) bool {
	for _, part := range strings.Split(header, ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(coding), "gzip") {
			continue
		}
		if k, v, ok := strings.Cut(strings.TrimSpace(params), "="); ok && strings.TrimSpace(k) == "q" {
			q, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return err == nil && q > 0
		}
		return true
	}
	return false
}
