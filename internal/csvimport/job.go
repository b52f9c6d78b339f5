package csvimport

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/parleyhq/parley/internal/jobs"
	"github.com/parleyhq/parley/internal/store"
)

// Kind is the job kind of a contact import.
const Kind = "contacts.import"

// Payload is what an import job carries; the uploaded file is found by the
// job's id (FileName) in the import directory. Mapping is the mapping the
// upload was checked with (see Check); Unmapped lists the ignored columns,
// for display while the job waits.
type Payload struct {
	Mapping  Mapping  `json:"mapping"`
	Unmapped []string `json:"unmapped_columns,omitempty"`
}

// FileName is the name of a job's uploaded file in the import directory.
func FileName(jobID int64) string { return fmt.Sprintf("contacts-%d.csv", jobID) }

// Handler runs import jobs over files waiting in dir. A re-run (after a
// crash or a lost lease) resumes after the last committed batch. The file
// is deleted once the job is over: completed, refused (a bad file or
// mapping completes with Result.Error set, since retrying cannot help), or
// failed for the last time.
func Handler(db *store.DB, dir string) jobs.Handler {
	return func(ctx context.Context, job *jobs.Job, progress func(any) error) (any, error) {
		var p Payload
		if err := json.Unmarshal(job.Payload, &p); err != nil {
			return refused(dir, job, &Result{}, "the job payload is not readable: "+err.Error())
		}
		var prev Result
		if len(job.Result) > 0 {
			if err := json.Unmarshal(job.Result, &prev); err != nil {
				return refused(dir, job, &Result{}, "the job checkpoint is not readable: "+err.Error())
			}
		}
		path := filepath.Join(dir, FileName(job.ID))
		f, err := os.Open(path)
		if errors.Is(err, fs.ErrNotExist) {
			if prev.Done { // finished before, the file already removed
				return &prev, nil
			}
			return refused(dir, job, &prev, "the uploaded file is gone; upload it again")
		}
		if err != nil {
			return nil, lastTry(dir, job, err)
		}
		res, err := Run(ctx, db, f, Options{
			WorkspaceID: job.WorkspaceID,
			Mapping:     p.Mapping,
			JobID:       job.ID,
			Resume:      &prev,
			Progress:    func(r *Result) error { return progress(r) },
		})
		f.Close()
		var ie *Error
		if errors.As(err, &ie) {
			if res == nil {
				res = &prev
			}
			return refused(dir, job, res, ie.Message)
		}
		if err != nil {
			return nil, lastTry(dir, job, err)
		}
		remove(path)
		return res, nil
	}
}

// Enqueue queues the import of the checked file at path (in dir) for the
// workspace: the job and, before it can be seen, the file renamed to the
// job's name, in one transaction. It returns the job.
func Enqueue(ctx context.Context, db *store.DB, dir, workspaceID, path string, check *Result) (*jobs.Job, error) {
	var job *jobs.Job
	err := db.InTx(ctx, func(tx *store.Tx) error {
		id, err := jobs.Enqueue(ctx, tx, workspaceID, Kind, Payload{Mapping: check.Resolved(), Unmapped: check.UnmappedColumns})
		if err != nil {
			return err
		}
		if err := os.Rename(path, filepath.Join(dir, FileName(id))); err != nil {
			return err
		}
		job, err = jobs.Get(ctx, tx, workspaceID, id)
		return err
	})
	return job, err
}

// Progress reads an import job's result (its progress while it runs) and
// the state to show: a completed job whose import was refused is failed,
// a pending job that already ran is running (waiting to retry).
func Progress(job *jobs.Job) (res *Result, state string) {
	res = &Result{}
	if len(job.Result) > 0 {
		if err := json.Unmarshal(job.Result, res); err != nil {
			slog.Warn("import job result unreadable", "job", job.ID, "err", err)
		}
	}
	if res.Mapping == nil { // not started yet: the mapping it was checked with
		var p Payload
		_ = json.Unmarshal(job.Payload, &p)
		res.Mapping, res.UnmappedColumns = Mapping{}, p.Unmapped
		for h, f := range p.Mapping {
			if f != "" {
				res.Mapping[h] = f
			}
		}
	}
	state = job.State
	switch {
	case state == jobs.Completed && res.Error != "":
		state = jobs.Failed
	case state == jobs.Failed && res.Error == "":
		res.Error = "The import stopped after repeated failures; rows committed before it stopped are kept"
	case state == jobs.Pending && job.Attempts > 0:
		state = jobs.Running
	}
	return res, state
}

// refused ends a job that cannot succeed: it completes with the reason in
// Result.Error.
func refused(dir string, job *jobs.Job, res *Result, msg string) (any, error) {
	remove(filepath.Join(dir, FileName(job.ID)))
	res.Error = msg
	if res.Errors == nil {
		res.Errors = []RowError{}
	}
	return res, nil
}

// lastTry removes the file when the queue will not run the job again.
func lastTry(dir string, job *jobs.Job, err error) error {
	if job.Attempts >= jobs.MaxAttempts {
		remove(filepath.Join(dir, FileName(job.ID)))
	}
	return err
}

func remove(path string) {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		slog.Warn("remove imported file", "path", path, "err", err)
	}
}
