package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"net/http"
)

type ctxKey int

const (
	keyRequestID ctxKey = iota
	keyAuth
)

func newRequestID() string {
	b := make([]byte, 10)
	_, _ = rand.Read(b)
	return "req_" + hex.EncodeToString(b)
}

func requestID(ctx context.Context) string {
	id, _ := ctx.Value(keyRequestID).(string)
	return id
}

// writeJSON writes v with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	var b []byte
	var err error
	if m, ok := v.(json.Marshaler); ok {
		// Our own renderers write valid, HTML-escaped JSON: json.Marshal
		// would only scan it again.
		b, err = m.MarshalJSON()
	} else {
		b, err = json.Marshal(v)
	}
	if err != nil {
		slog.Error("encode response", "err", err)
		status, b = http.StatusInternalServerError, []byte(`{"type":"error.list","errors":[{"code":"server_error","message":"Internal server error"}]}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// writeError renders err as Intercom's error.list.
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	ae := toAPIError(err)
	if ae.Status >= 500 {
		slog.Error("request failed", "method", r.Method, "path", r.URL.Path, "request_id", requestID(r.Context()), "err", err)
	}
	item := map[string]any{"code": ae.Code, "message": ae.Message}
	if ae.Field != "" {
		item["field"] = ae.Field
	}
	writeJSON(w, ae.Status, map[string]any{
		"type":       "error.list",
		"request_id": requestID(r.Context()),
		"errors":     []any{item},
	})
}
