package api

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"os"
	"strconv"
	"strings"

	"github.com/parleyhq/parley/internal/csvimport"
	"github.com/parleyhq/parley/internal/jobs"
)

// CSV import of contacts (a Parley extension, not in Intercom's API): the
// upload is streamed to a file and imported by a job the client polls.
func (s *Server) importRoutes() {
	s.handle("POST /contacts/import", s.importContacts)
	s.handle("GET /contacts/import/{id}", s.getImport)
}

var csvTypes = map[string]bool{"text/csv": true, "application/csv": true, "text/plain": true,
	"application/octet-stream": true, "application/vnd.ms-excel": true}

func (s *Server) importContacts(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	wsID := authOf(ctx).WorkspaceID
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || !csvTypes[mt] {
			return errf(http.StatusUnsupportedMediaType, "unsupported_media_type", "Send the CSV file as the request body with Content-Type: text/csv")
		}
	}
	mapping := csvimport.Mapping{}
	for _, m := range r.URL.Query()["map"] {
		mm, err := csvimport.ParseMap(m)
		if err != nil {
			return fieldErr("map", "map: %s", err.Error())
		}
		mapping = mapping.Merge(mm)
	}
	if s.opts.ImportDir == "" {
		return errors.New("import: no import directory configured")
	}
	if err := os.MkdirAll(s.opts.ImportDir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(s.opts.ImportDir, "upload-*.csv")
	if err != nil {
		return err
	}
	tmp := f.Name()
	keep := false
	defer func() {
		f.Close()
		if !keep {
			_ = os.Remove(tmp)
		}
	}()
	n, err := io.Copy(f, http.MaxBytesReader(w, r.Body, s.opts.MaxImportBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return errf(http.StatusRequestEntityTooLarge, "request_too_large", "The CSV file is larger than %d bytes", mbe.Limit)
		}
		if ctx.Err() != nil || errors.Is(err, io.ErrUnexpectedEOF) {
			return errf(http.StatusBadRequest, "bad_request", "Could not read the request body")
		}
		return err
	}
	if n == 0 {
		return badRequest("The request body is empty: send the CSV file, header row first")
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	// Refuse a bad header or mapping now rather than in the job.
	check, err := csvimport.Check(ctx, s.db, wsID, f, mapping)
	if err != nil {
		var ie *csvimport.Error
		if errors.As(err, &ie) {
			return fieldErr("map", "%s", ie.Message)
		}
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	job, err := csvimport.Enqueue(ctx, s.db, s.opts.ImportDir, wsID, tmp, check)
	if err != nil {
		return err
	}
	keep = true
	if s.jobs != nil {
		s.jobs.Notify()
	}
	writeJSON(w, http.StatusAccepted, importView(job))
	return nil
}

func (s *Server) getImport(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return notFound("not_found", "Import job Not Found")
	}
	job, err := jobs.Get(ctx, s.db.Read(), authOf(ctx).WorkspaceID, id)
	if isNotFound(err) || (err == nil && job.Kind != csvimport.Kind) {
		return notFound("not_found", "Import job Not Found")
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, importView(job))
	return nil
}

// importView is the import_job object.
func importView(job *jobs.Job) map[string]any {
	res, state := csvimport.Progress(job)
	errMsg := res.Error
	errs := res.Errors
	if errs == nil {
		errs = []csvimport.RowError{}
	}
	unmapped := res.UnmappedColumns
	if unmapped == nil {
		unmapped = []string{}
	}
	mapping := res.Mapping
	if mapping == nil {
		mapping = csvimport.Mapping{}
	}
	v := map[string]any{
		"type":             "import_job",
		"id":               strconv.FormatInt(job.ID, 10),
		"state":            state,
		"rows":             res.Rows,
		"created":          res.Created,
		"updated":          res.Updated,
		"unchanged":        res.Unchanged,
		"failed":           res.Failed,
		"errors":           errs,
		"unmapped_columns": unmapped,
		"mapping":          mapping,
		"created_at":       job.CreatedAt,
		"updated_at":       job.UpdatedAt,
	}
	if errMsg != "" {
		v["error"] = strings.TrimSpace(errMsg)
	}
	return v
}
