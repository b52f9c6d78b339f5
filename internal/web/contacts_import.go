package web

// CSV import (docs/import.md): upload a file, map each column to a field
// or nothing, then the REST API's job path (csvimport.Check, then
// csvimport.Enqueue: a job on the durable queue run by the worker), and a
// job page with its progress and per-row error report.

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/parleyhq/parley/internal/attribute"
	"github.com/parleyhq/parley/internal/csvimport"
	"github.com/parleyhq/parley/internal/jobs"
	"github.com/parleyhq/parley/internal/store"
)

// maxUpload is the largest CSV file the web form takes (larger files go
// through the API or the command line, which stream up to 1 GiB).
const maxUpload = 64 << 20

func (s *Server) importRoutes(mux *http.ServeMux) {
	mux.Handle("GET /app/contacts/import", s.page(nil, s.importPage))
	mux.Handle("POST /app/contacts/import", s.pageMax(nil, maxUpload+1<<20, s.importUpload))
	mux.Handle("POST /app/contacts/import/run", s.page(nil, s.importRun))
	mux.Handle("GET /app/contacts/import/{id}", s.page(nil, s.importJobPage))
}

type importCol struct {
	Index  int
	Header string
	Field  string
}

type importData struct {
	Upload  string // the uploaded file's token
	Columns []importCol
	Fields  []string
}

func (s *Server) importPage(w http.ResponseWriter, r *http.Request, v *visit) error {
	s.render(w, http.StatusOK, "contacts_import", v.view("Import contacts", "contacts", &importData{}))
	return nil
}

// uploadPath is where an uploaded file waits for its mapping: named by the
// workspace and a random token, so no other workspace can run it.
func (s *Server) uploadPath(wsID, token string) (string, bool) {
	if b, err := hex.DecodeString(token); err != nil || len(b) != 16 || s.opts.ImportDir == "" {
		return "", false
	}
	return filepath.Join(s.opts.ImportDir, "web-"+wsID+"-"+token+".csv"), true
}

// importUpload stores the file and shows the mapping form, each column
// preset to the default mapping.
func (s *Server) importUpload(w http.ResponseWriter, r *http.Request, v *visit) error {
	refuse := func(msg string) error {
		vw := v.view("Import contacts", "contacts", &importData{})
		vw.Error = msg
		s.render(w, http.StatusBadRequest, "contacts_import", vw)
		return nil
	}
	if s.opts.ImportDir == "" {
		return errors.New("import: no import directory configured")
	}
	file, _, err := r.FormFile("file")
	if err != nil {
		return refuse("Choose a CSV file to import.")
	}
	defer file.Close()
	if err := os.MkdirAll(s.opts.ImportDir, 0o700); err != nil {
		return err
	}
	s.sweepUploads()
	var raw [16]byte
	_, _ = rand.Read(raw[:])
	token := hex.EncodeToString(raw[:])
	path, ok := s.uploadPath(v.ws.ID, token)
	if !ok {
		return errors.New("import: bad upload token")
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	n, err := io.Copy(f, file)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return err
	}
	if n == 0 {
		os.Remove(path)
		return refuse("The file is empty: the first line must be a header row naming the columns.")
	}
	d, msg, err := s.importMapping(r, v, path, csvimport.Mapping{})
	if err != nil || msg != "" {
		os.Remove(path)
		if err != nil {
			return err
		}
		return refuse("This file cannot be imported: " + msg + ".")
	}
	d.Upload = token
	s.render(w, http.StatusOK, "contacts_import", v.view("Map columns", "contacts", d))
	return nil
}

// sweepUploads removes uploads never mapped within a day.
func (s *Server) sweepUploads() {
	old, _ := filepath.Glob(filepath.Join(s.opts.ImportDir, "web-*.csv"))
	for _, p := range old {
		if st, err := os.Stat(p); err == nil && time.Since(st.ModTime()) > 24*time.Hour {
			os.Remove(p)
		}
	}
}

// importMapping checks the file at path with mapping m and returns the
// mapping form's data; msg is the csvimport refusal, if any.
func (s *Server) importMapping(r *http.Request, v *visit, path string, m csvimport.Mapping) (*importData, string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, "", err
	}
	defer f.Close()
	check, err := csvimport.Check(r.Context(), s.db, v.ws.ID, f, m)
	var ie *csvimport.Error
	if errors.As(err, &ie) {
		return nil, ie.Message, nil
	} else if err != nil {
		return nil, "", err
	}
	d := &importData{Fields: append([]string{}, csvimport.Fields...)}
	attrs, err := s.cs.attrs.Custom(r.Context(), v.ws.ID, attribute.ModelContact, false)
	if err != nil {
		return nil, "", err
	}
	for _, a := range attrs {
		d.Fields = append(d.Fields, "custom_attributes."+a.Name)
	}
	for i, h := range check.Header {
		d.Columns = append(d.Columns, importCol{Index: i, Header: h, Field: check.Mapping[h]})
	}
	return d, "", nil
}

// importRun checks the chosen mapping and queues the import job.
func (s *Server) importRun(w http.ResponseWriter, r *http.Request, v *visit) error {
	token := r.PostFormValue("upload")
	path, ok := s.uploadPath(v.ws.ID, token)
	if ok {
		_, err := os.Stat(path)
		ok = err == nil
	}
	if !ok {
		return pageErr(http.StatusNotFound, "Upload not found", "This upload is gone (it is kept for a day). Upload the file again.")
	}
	d, msg, err := s.importMapping(r, v, path, csvimport.Mapping{})
	if err != nil {
		return err
	}
	if msg != "" {
		return pageErr(http.StatusBadRequest, "File not valid", msg)
	}
	m := csvimport.Mapping{}
	for _, c := range d.Columns {
		m[c.Header] = strings.TrimSpace(r.PostFormValue("map" + strconv.Itoa(c.Index)))
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	check, err := csvimport.Check(r.Context(), s.db, v.ws.ID, f, m)
	f.Close()
	var ie *csvimport.Error
	if errors.As(err, &ie) {
		for i := range d.Columns {
			d.Columns[i].Field = m[d.Columns[i].Header]
		}
		d.Upload = token
		vw := v.view("Map columns", "contacts", d)
		vw.Error = "This mapping cannot be used: " + ie.Message + "."
		s.render(w, http.StatusBadRequest, "contacts_import", vw)
		return nil
	} else if err != nil {
		return err
	}
	job, err := csvimport.Enqueue(r.Context(), s.db, s.opts.ImportDir, v.ws.ID, path, check)
	if err != nil {
		return err
	}
	if s.opts.NotifyJobs != nil {
		s.opts.NotifyJobs()
	}
	http.Redirect(w, r, "/app/contacts/import/"+strconv.FormatInt(job.ID, 10), http.StatusSeeOther)
	return nil
}

type importJobData struct {
	ID     int64
	State  string
	Result *csvimport.Result
	Done   bool
}

func (s *Server) importJobPage(w http.ResponseWriter, r *http.Request, v *visit) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	notFound := pageErr(http.StatusNotFound, "Import not found", "There is no such import in this workspace.")
	if err != nil || id <= 0 {
		return notFound
	}
	job, err := jobs.Get(r.Context(), s.db.Read(), v.ws.ID, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && job.Kind != csvimport.Kind) {
		return notFound
	} else if err != nil {
		return err
	}
	res, state := csvimport.Progress(job)
	d := &importJobData{ID: job.ID, State: state, Result: res, Done: state == jobs.Completed || state == jobs.Failed}
	s.render(w, http.StatusOK, "contacts_import_job", v.view("Import "+strconv.FormatInt(job.ID, 10), "contacts", d))
	return nil
}
