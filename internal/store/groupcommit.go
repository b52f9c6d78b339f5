package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// Group commit (SQLite). SQLite has one writer, and a commit's cost is
// writing the changed pages to the WAL: a contact write touches the row,
// four index pages, the event log and the workspace's sequence, most of
// them shared with the next write. Concurrent InTx calls are therefore
// queued to one committer goroutine that runs whatever is waiting as one
// transaction, each function inside its own savepoint: a function that
// fails is rolled back alone, and the others commit together. Callers see
// exactly the semantics of a transaction of their own: all of their
// changes (and events) or none, gap-free sequences, and their own error.

// maxBatch bounds how many functions share one commit.
const maxBatch = 64

var errClosed = errors.New("store: database closed")

type txReq struct {
	ctx  context.Context
	fn   func(tx *Tx) error
	done chan txResult
}

type txResult struct {
	err      error
	panicked any
}

type committer struct {
	reqs   chan *txReq
	closed chan struct{}
	wg     sync.WaitGroup
}

func (db *DB) startCommitter() {
	db.commit = &committer{reqs: make(chan *txReq), closed: make(chan struct{})}
	db.commit.wg.Add(1)
	go db.runCommitter()
}

func (db *DB) stopCommitter() {
	if db.commit == nil {
		return
	}
	close(db.commit.closed)
	db.commit.wg.Wait()
}

// submit hands fn to the committer and waits for its result.
func (db *DB) submit(ctx context.Context, fn func(tx *Tx) error) error {
	req := &txReq{ctx: ctx, fn: fn, done: make(chan txResult, 1)}
	select {
	case db.commit.reqs <- req:
	case <-ctx.Done():
		return ctx.Err()
	case <-db.commit.closed:
		return errClosed
	}
	// Once accepted, fn runs (or is skipped because ctx ended) and always
	// answers: wait for it even if ctx ends meanwhile.
	res := <-req.done
	if res.panicked != nil {
		panic(res.panicked)
	}
	return res.err
}

func (db *DB) runCommitter() {
	defer db.commit.wg.Done()
	for {
		var first *txReq
		select {
		case first = <-db.commit.reqs:
		case <-db.commit.closed:
			return
		}
		batch := []*txReq{first}
	drain:
		for len(batch) < maxBatch {
			select {
			case r := <-db.commit.reqs:
				batch = append(batch, r)
			default:
				break drain
			}
		}
		if len(batch) == 1 {
			r := batch[0]
			r.done <- capture(func() error { return db.inTx(r.ctx, r.fn) })
			continue
		}
		db.runBatch(batch)
	}
}

// capture runs f, turning a panic into a result the caller re-panics with.
func capture(f func() error) (res txResult) {
	defer func() {
		if p := recover(); p != nil {
			res = txResult{panicked: p}
		}
	}()
	return txResult{err: f()}
}

func (db *DB) runBatch(batch []*txReq) {
	results := make([]txResult, len(batch))
	answer := func() {
		for i, r := range batch {
			r.done <- results[i]
		}
	}
	bg := context.Background()
	sqlTx, err := db.write.BeginTx(bg, nil)
	if err != nil {
		for i := range results {
			results[i].err = mapErr(err)
		}
		answer()
		return
	}
	tx := &Tx{tx: sqlTx, dialect: db.Dialect, cache: db.writeStmts}
	// One savepoint, renewed between callers: a caller that fails is
	// rolled back to it (the savepoint stays, and the next caller runs
	// inside it); one that succeeds is released and the savepoint taken
	// again in the same round trip. COMMIT releases the last one.
	if err := tx.Savepoint(bg, "parley_group"); err != nil {
		db.abortBatch(sqlTx, results, fmt.Errorf("group commit savepoint: %w", err))
		answer()
		return
	}
	ok, dirty := 0, false
	for i, r := range batch {
		if err := r.ctx.Err(); err != nil {
			results[i].err = err
			continue
		}
		if dirty {
			if err := tx.renew(bg, "parley_group"); err != nil {
				db.abortBatch(sqlTx, results, fmt.Errorf("group commit savepoint: %w", err))
				answer()
				return
			}
		}
		results[i] = capture(func() error { return r.fn(tx) })
		dirty = false
		if results[i].err != nil || results[i].panicked != nil {
			if err := tx.RollbackTo(bg, "parley_group"); err != nil {
				db.abortBatch(sqlTx, results, fmt.Errorf("group commit rollback: %w", err))
				answer()
				return
			}
		} else {
			ok++
			dirty = true
		}
	}
	if ok == 0 {
		_ = sqlTx.Rollback()
	} else if err := tx.flush(bg); err != nil {
		db.abortBatch(sqlTx, results, mapErr(err))
	} else if err := sqlTx.Commit(); err != nil {
		for i := range results {
			if results[i].err == nil && results[i].panicked == nil {
				results[i].err = mapErr(err)
			}
		}
	} else {
		db.committed(tx.appended)
	}
	if len(tx.missed) > 0 {
		db.writeStmts.prepareAll(bg, tx.missed)
	}
	answer()
}

// abortBatch rolls the whole batch back: every function that had not
// failed on its own fails with err, since none of its changes remain.
func (db *DB) abortBatch(sqlTx interface{ Rollback() error }, results []txResult, err error) {
	_ = sqlTx.Rollback()
	for i := range results {
		if results[i].err == nil && results[i].panicked == nil {
			results[i].err = err
		}
	}
}
