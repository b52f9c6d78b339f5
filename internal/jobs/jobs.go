// Package jobs is Parley's durable job queue: a job is a row written in the
// same transaction as the change that asks for it, claimed by workers with a
// lease, retried with backoff, and dead-lettered after too many attempts. It
// survives restarts: a job whose worker died is claimed again when its lease
// runs out.
package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"time"

	"github.com/parleyhq/parley/internal/query"
	"github.com/parleyhq/parley/internal/store"
)

// States.
const (
	Pending   = "pending"
	Running   = "running"
	Completed = "completed"
	Failed    = "failed" // dead: gave up after MaxAttempts
)

// MaxAttempts before a job is dead-lettered.
const MaxAttempts = 5

// Job is one unit of durable work.
type Job struct {
	ID          int64
	WorkspaceID string
	Kind        string
	State       string
	Payload     json.RawMessage
	Result      json.RawMessage
	Attempts    int
	LastError   string
	CreatedAt   int64
	UpdatedAt   int64
}

// Handler runs a job. It may report progress with the Progress func (saved
// as the job's result). A returned error schedules a retry.
type Handler func(ctx context.Context, job *Job, progress func(result any) error) (result any, err error)

// Enqueue adds a job inside tx.
func Enqueue(ctx context.Context, tx *store.Tx, workspaceID, kind string, payload any) (int64, error) {
	return EnqueueAt(ctx, tx, workspaceID, kind, payload, time.Now().Unix())
}

// EnqueueAt adds a job inside tx that no worker runs before runAt (Unix
// seconds): timers such as a snoozed conversation's reopen.
func EnqueueAt(ctx context.Context, tx *store.Tx, workspaceID, kind string, payload any, runAt int64) (int64, error) {
	b, err := json.Marshal(payload)
	if err != nil {
		return 0, err
	}
	now := time.Now().Unix()
	var id int64
	err = tx.QueryRow(ctx, `INSERT INTO jobs (workspace_id, kind, state, payload, result, run_at, created_at, updated_at) VALUES (?, ?, ?, ?, '{}', ?, ?, ?) RETURNING id`,
		workspaceID, kind, Pending, string(b), runAt, now, now).Scan(&id)
	return id, store.MapErr(err)
}

// Get reads a job of a workspace.
func Get(ctx context.Context, r store.Runner, workspaceID string, id int64) (*Job, error) {
	j := &Job{}
	var payload, result string
	var lastErr *string
	err := r.QueryRow(ctx, `SELECT id, workspace_id, kind, state, payload, result, attempts, last_error, created_at, updated_at FROM jobs WHERE workspace_id = ? AND id = ?`, workspaceID, id).
		Scan(&j.ID, &j.WorkspaceID, &j.Kind, &j.State, &payload, &result, &j.Attempts, &lastErr, &j.CreatedAt, &j.UpdatedAt)
	if err != nil {
		return nil, store.MapErr(err)
	}
	j.Payload, j.Result = json.RawMessage(payload), json.RawMessage(result)
	if lastErr != nil {
		j.LastError = *lastErr
	}
	return j, nil
}

// Worker claims and runs jobs.
type Worker struct {
	db       *store.DB
	handlers map[string]Handler
	wake     chan struct{}
	lease    time.Duration
	poll     time.Duration
}

// NewWorker returns a worker over db.
func NewWorker(db *store.DB) *Worker {
	return &Worker{db: db, handlers: map[string]Handler{}, wake: make(chan struct{}, 1), lease: 5 * time.Minute, poll: 2 * time.Second}
}

// Handle registers the handler of a job kind.
func (w *Worker) Handle(kind string, h Handler) { w.handlers[kind] = h }

// Notify wakes the worker (after a job was enqueued).
func (w *Worker) Notify() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Run works until ctx is done.
func (w *Worker) Run(ctx context.Context) error {
	t := time.NewTicker(w.poll)
	defer t.Stop()
	for {
		for {
			ran, err := w.RunOne(ctx)
			if err != nil && ctx.Err() == nil {
				slog.Error("job worker", "err", err)
			}
			if !ran || ctx.Err() != nil {
				break
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-w.wake:
		case <-t.C:
		}
	}
}

// claim takes the oldest runnable job and leases it.
func (w *Worker) claim(ctx context.Context) (*Job, error) {
	var job *Job
	err := w.db.InTx(ctx, func(tx *store.Tx) error {
		now := time.Now().Unix()
		lock := ""
		if tx.Dialect() == query.Postgres {
			lock = " FOR UPDATE SKIP LOCKED"
		}
		var id int64
		var ws string
		err := tx.QueryRow(ctx, `SELECT id, workspace_id FROM jobs WHERE (state = ? AND run_at <= ?) OR (state = ? AND locked_until < ?) ORDER BY run_at, id LIMIT 1`+lock,
			Pending, now, Running, now).Scan(&id, &ws)
		if err != nil {
			return store.MapErr(err)
		}
		if _, err := tx.Exec(ctx, `UPDATE jobs SET state = ?, attempts = attempts + 1, locked_until = ?, updated_at = ? WHERE id = ?`,
			Running, now+int64(w.lease/time.Second), now, id); err != nil {
			return err
		}
		job, err = Get(ctx, tx, ws, id)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	return job, err
}

// RunOne claims and runs one job; it reports whether there was one.
func (w *Worker) RunOne(ctx context.Context) (bool, error) {
	job, err := w.claim(ctx)
	if err != nil || job == nil {
		return false, err
	}
	h := w.handlers[job.Kind]
	if h == nil {
		return true, w.finish(ctx, job, nil, fmt.Errorf("no handler for job kind %q", job.Kind), true)
	}
	progress := func(result any) error { return w.save(ctx, job, result) }
	result, runErr := func() (res any, err error) {
		defer func() {
			if p := recover(); p != nil {
				err = fmt.Errorf("job panicked: %v", p)
			}
		}()
		return h(ctx, job, progress)
	}()
	if ctx.Err() != nil && runErr != nil {
		// Shutting down: leave the lease to expire so the job is retried.
		return true, nil
	}
	return true, w.finish(ctx, job, result, runErr, job.Attempts >= MaxAttempts)
}

func (w *Worker) save(ctx context.Context, job *Job, result any) error {
	b, err := json.Marshal(result)
	if err != nil {
		return err
	}
	return w.db.InTx(ctx, func(tx *store.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE jobs SET result = ?, locked_until = ?, updated_at = ? WHERE id = ?`, string(b), time.Now().Add(w.lease).Unix(), time.Now().Unix(), job.ID)
		return err
	})
}

func (w *Worker) finish(ctx context.Context, job *Job, result any, runErr error, final bool) error {
	now := time.Now().Unix()
	return w.db.InTx(context.WithoutCancel(ctx), func(tx *store.Tx) error {
		if runErr == nil {
			b, err := json.Marshal(result)
			if err != nil {
				return err
			}
			_, err = tx.Exec(ctx, `UPDATE jobs SET state = ?, result = ?, locked_until = NULL, updated_at = ? WHERE id = ?`, Completed, string(b), now, job.ID)
			return err
		}
		state, runAt := Pending, now+int64(math.Pow(4, float64(job.Attempts)))
		if final {
			state = Failed
		}
		slog.Warn("job failed", "id", job.ID, "kind", job.Kind, "attempt", job.Attempts, "final", final, "err", runErr)
		_, err := tx.Exec(ctx, `UPDATE jobs SET state = ?, last_error = ?, run_at = ?, locked_until = NULL, updated_at = ? WHERE id = ?`, state, runErr.Error(), runAt, now, job.ID)
		return err
	})
}
