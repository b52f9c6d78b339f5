package api

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parleyhq/parley/internal/csvimport"
)

var csvContentType = map[string]string{"Content-Type": "text/csv"}

// runJobs works the queue until it is empty.
func (e *env) runImportJobs(t *testing.T) {
	t.Helper()
	for {
		ran, err := e.worker.RunOne(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if !ran {
			return
		}
	}
}

func importDirFiles(t *testing.T, e *env) []string {
	t.Helper()
	entries, err := os.ReadDir(e.srv.opts.ImportDir)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var names []string
	for _, d := range entries {
		names = append(names, d.Name())
	}
	return names
}

func TestContactImportJob(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		e.worker.Handle(csvimport.Kind, csvimport.Handler(e.db, e.srv.opts.ImportDir))
		e.do("POST", "/data_attributes", map[string]any{"name": "seats", "model": "contact", "data_type": "integer"}).ok(t)
		e.do("POST", "/contacts", map[string]any{"external_id": "u-1", "email": "ada@example.com", "name": "Ada"}).ok(t)

		body := "Intercom ID,Email,Name,Seats,Comment\n" +
			"u-1,ada@example.com,Ada Lovelace,3,\n" + // updates the existing contact
			"u-2,bob@example.com,\"Bob\nBuilder\",x,\n" + // lines 3-4: seats not an integer
			"u-3,carol@example.com,Carol,5,hello\n" // line 5
		r := e.doAs(e.token, "POST", "/contacts/import?map=Intercom+ID%3Dexternal_id", body, csvContentType)
		if r.Status != 202 {
			t.Fatalf("status %d: %s", r.Status, r.Raw)
		}
		job := r.Body
		id := str(job["id"])
		if job["type"] != "import_job" || job["state"] != "pending" || id == "" {
			t.Fatalf("job = %v", job)
		}
		if m := job["mapping"].(map[string]any); m["Intercom ID"] != "external_id" || m["Seats"] != "custom_attributes.seats" {
			t.Fatalf("mapping = %v", m)
		}
		if u := job["unmapped_columns"].([]any); len(u) != 1 || u[0] != "Comment" {
			t.Fatalf("unmapped = %v", u)
		}
		if files := importDirFiles(t, e); len(files) != 1 || files[0] != csvimport.FileName(int64(importJobID(t, id))) {
			t.Fatalf("import dir = %v", files)
		}
		if got := e.do("GET", "/contacts/import/"+id, nil).ok(t); got["state"] != "pending" || got["rows"] != float64(0) {
			t.Fatalf("before the worker ran: %v", got)
		}

		e.runImportJobs(t)
		got := e.do("GET", "/contacts/import/"+id, nil).ok(t)
		if got["state"] != "completed" || got["rows"] != float64(3) || got["created"] != float64(1) || got["updated"] != float64(1) || got["failed"] != float64(1) {
			t.Fatalf("completed job = %v", got)
		}
		errs := got["errors"].([]any)
		if len(errs) != 1 || errs[0].(map[string]any)["line"] != float64(3) || !strings.Contains(str(errs[0].(map[string]any)["message"]), "seats") {
			t.Fatalf("errors = %v", errs)
		}
		if files := importDirFiles(t, e); len(files) != 0 {
			t.Fatalf("uploaded file kept after the job: %v", files)
		}
		ada := e.do("GET", "/contacts/find_by_external_id/u-1", nil).ok(t)
		if ada["name"] != "Ada Lovelace" || ada["custom_attributes"].(map[string]any)["seats"] != float64(3) {
			t.Fatalf("ada = %v", ada)
		}
		if c := e.do("GET", "/contacts/find_by_external_id/u-3", nil).ok(t); c["email"] != "carol@example.com" {
			t.Fatalf("carol = %v", c)
		}
		e.do("GET", "/contacts/find_by_external_id/u-2", nil).fails(t, 404, "not_found")
		topics := e.eventTopics(e.ws.ID)
		if n := importTopicCount(topics, "contact.user.created"); n != 2 {
			t.Fatalf("topics = %v", topics)
		}
		if n := importTopicCount(topics, "contact.user.updated"); n != 1 {
			t.Fatalf("topics = %v", topics)
		}

		// Another workspace cannot see the job.
		_, _, other := e.newWorkspace("Other")
		e.doAs(other, "GET", "/contacts/import/"+id, nil, nil).fails(t, 404, "not_found")
		e.do("GET", "/contacts/import/999999", nil).fails(t, 404, "not_found")
		e.do("GET", "/contacts/import/abc", nil).fails(t, 404, "not_found")
	})
}

func TestContactImportRefusals(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		before := len(e.eventTopics(e.ws.ID))
		// Unknown target field, mapping of a missing column, nothing mapped,
		// empty body: 400 before any job exists.
		msg := e.doAs(e.token, "POST", "/contacts/import?map=Email%3Dfavourite_colour", "Email\nada@example.com\n", csvContentType).fails(t, 400, "parameter_invalid")
		if !strings.Contains(msg, "favourite_colour") {
			t.Fatalf("message = %q", msg)
		}
		e.doAs(e.token, "POST", "/contacts/import?map=Mail%3Demail", "Email\nada@example.com\n", csvContentType).fails(t, 400, "parameter_invalid")
		e.doAs(e.token, "POST", "/contacts/import?map=nonsense", "Email\nada@example.com\n", csvContentType).fails(t, 400, "parameter_invalid")
		e.doAs(e.token, "POST", "/contacts/import", "Colour,Size\nred,9\n", csvContentType).fails(t, 400, "parameter_invalid")
		e.doAs(e.token, "POST", "/contacts/import", "", csvContentType).fails(t, 400, "parameter_invalid")
		// JSON is not a CSV upload.
		e.do("POST", "/contacts/import", map[string]any{"email": "ada@example.com"}).fails(t, 415, "unsupported_media_type")
		if files := importDirFiles(t, e); len(files) != 0 {
			t.Fatalf("refused uploads left files: %v", files)
		}
		if ran, err := e.worker.RunOne(context.Background()); ran || err != nil {
			t.Fatalf("a refused upload enqueued a job (%v, %v)", ran, err)
		}
		if n := len(e.eventTopics(e.ws.ID)); n != before {
			t.Fatalf("refused uploads appended %d events", n-before)
		}
	})
}

func TestContactImportSizeLimit(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		e2 := newEnv(t, e.db, Options{MaxImportBytes: 64, ImportDir: filepath.Join(t.TempDir(), "imports")})
		big := "Email\n" + strings.Repeat("someone@example.com\n", 10)
		e2.doAs(e2.token, "POST", "/contacts/import", big, csvContentType).fails(t, 413, "request_too_large")
		if files := importDirFiles(t, e2); len(files) != 0 {
			t.Fatalf("oversized upload left files: %v", files)
		}
		r := e2.doAs(e2.token, "POST", "/contacts/import", "Email\na@example.com\n", csvContentType)
		if r.Status != 202 {
			t.Fatalf("small upload: %d %s", r.Status, r.Raw)
		}
	})
}

func importTopicCount(list []string, s string) int {
	n := 0
	for _, v := range list {
		if v == s {
			n++
		}
	}
	return n
}

func importJobID(t *testing.T, s string) int {
	t.Helper()
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' {
			t.Fatalf("%q is not a number", s)
		}
		n = n*10 + int(c-'0')
	}
	return n
}
