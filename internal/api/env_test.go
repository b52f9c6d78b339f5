package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/ids"
	"github.com/parleyhq/parley/internal/jobs"
	"github.com/parleyhq/parley/internal/store"
	"github.com/parleyhq/parley/internal/testdb"
	"github.com/parleyhq/parley/internal/workspace"
)

// env is one API server over a fresh database with one workspace and token.
type env struct {
	t      *testing.T
	db     *store.DB
	srv    *Server
	worker *jobs.Worker
	ws     *workspace.Workspace
	owner  *workspace.Admin
	token  string
}

// eachDB runs fn against a fresh server on SQLite and on PostgreSQL.
func eachDB(t *testing.T, fn func(t *testing.T, e *env)) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		fn(t, newEnv(t, db, Options{}))
	})
}

func newEnv(t *testing.T, db *store.DB, opts Options) *env {
	t.Helper()
	if opts.ImportDir == "" {
		opts.ImportDir = t.TempDir()
	}
	if opts.AttachmentDir == "" {
		opts.AttachmentDir = t.TempDir()
	}
	if opts.SearchIndexIdle == 0 {
		opts.SearchIndexIdle = time.Minute // searches use the index, as in production
	}
	w := jobs.NewWorker(db)
	e := &env{t: t, db: db, worker: w, srv: New(db, opts, w)}
	e.ws, e.owner, e.token = e.newWorkspace("Acme")
	return e
}

// newWorkspace creates another workspace with its owner and a token.
func (e *env) newWorkspace(name string) (*workspace.Workspace, *workspace.Admin, string) {
	e.t.Helper()
	st := store.NewWorkspaces(e.db)
	owner := &workspace.Admin{Name: name + " Owner", Email: "owner@" + strings.ToLower(name) + ".test"}
	ws, err := st.CreateWorkspace(context.Background(), name, owner)
	if err != nil {
		e.t.Fatal(err)
	}
	token := "tok_" + ids.Secret(16)
	if _, err := st.CreateToken(context.Background(), ws.ID, owner.ID, "test", ids.HashToken(token)); err != nil {
		e.t.Fatal(err)
	}
	return ws, owner, token
}

type resp struct {
	Status int
	Header http.Header
	Raw    []byte
	Body   map[string]any
}

// do sends a request with the env's token; body may be nil, a string (sent
// as is) or anything JSON-marshalable.
func (e *env) do(method, path string, body any) *resp {
	e.t.Helper()
	return e.doAs(e.token, method, path, body, nil)
}

func (e *env) doAs(token, method, path string, body any, headers map[string]string) *resp {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req := httptest.NewRequest(method, path, rd)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	e.srv.ServeHTTP(rec, req)
	r := &resp{Status: rec.Code, Header: rec.Header(), Raw: rec.Body.Bytes()}
	if len(r.Raw) > 0 && r.Raw[0] == '{' {
		if err := json.Unmarshal(r.Raw, &r.Body); err != nil {
			e.t.Fatalf("%s %s: response is not JSON: %v\n%s", method, path, err, r.Raw)
		}
	}
	return r
}

// ok asserts a 2xx status and returns the body.
func (r *resp) ok(t *testing.T) map[string]any {
	t.Helper()
	if r.Status < 200 || r.Status > 299 {
		t.Fatalf("status %d, want 2xx: %s", r.Status, r.Raw)
	}
	return r.Body
}

// fails asserts an error.list with the status and code.
func (r *resp) fails(t *testing.T, status int, code string) string {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d: %s", r.Status, status, r.Raw)
	}
	if r.Body["type"] != "error.list" {
		t.Fatalf("not an error.list: %s", r.Raw)
	}
	if rid, _ := r.Body["request_id"].(string); rid == "" {
		t.Fatalf("error without request_id: %s", r.Raw)
	}
	errs, _ := r.Body["errors"].([]any)
	if len(errs) == 0 {
		t.Fatalf("error.list without errors: %s", r.Raw)
	}
	first := errs[0].(map[string]any)
	if first["code"] != code {
		t.Fatalf("error code %v, want %s: %s", first["code"], code, r.Raw)
	}
	msg, _ := first["message"].(string)
	if msg == "" {
		t.Fatalf("error without message: %s", r.Raw)
	}
	return msg
}

// eventTopics returns the topics in the workspace's event log, in order.
func (e *env) eventTopics(workspaceID string) []string {
	e.t.Helper()
	rows, err := e.db.Read().Query(context.Background(), `SELECT topic FROM event_log WHERE workspace_id = ? ORDER BY seq`, workspaceID)
	if err != nil {
		e.t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			e.t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

func str(v any) string { s, _ := v.(string); return s }
