// Package store is Parley's database plumbing: opening SQLite or PostgreSQL,
// embedded migrations, transactions, placeholder rebinding and the mapping of
// driver errors to a few sentinels. SQL implementations of the aggregate
// stores live in this package too (one file per aggregate).
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // PostgreSQL driver "pgx"
	_ "modernc.org/sqlite"             // pure-Go SQLite driver "sqlite"

	"github.com/parleyhq/parley/internal/eventlog"
	"github.com/parleyhq/parley/internal/query"
)

// Sentinel errors every store maps driver errors to.
var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("conflict")
	ErrInvalid  = errors.New("invalid")
)

// DB is an opened Parley database: a write pool (one connection on SQLite)
// beside a read pool.
type DB struct {
	Dialect    query.Dialect
	write      *sql.DB
	read       *sql.DB
	writeStmts *stmtCache // SQLite only: statements prepared once, reused
	readStmts  *stmtCache
	commit     *committer // SQLite only: group commit of concurrent writes
	onCommit   atomic.Pointer[func(last map[string]int64)]
}

// OnCommit sets fn to be called after every commit that appended events,
// with the last sequence each workspace reached in it (the realtime bus).
// fn runs on the committing goroutine and must not block.
func (db *DB) OnCommit(fn func(last map[string]int64)) { db.onCommit.Store(&fn) }

// committed reports a commit's appended events to the OnCommit hook.
func (db *DB) committed(last map[string]int64) {
	if fn := db.onCommit.Load(); fn != nil && len(last) > 0 {
		(*fn)(last)
	}
}

// Open opens the database named by url: a postgres:// (or postgresql://) URL
// selects PostgreSQL; anything else is a SQLite file path (empty: dataDir/parley.db).
func Open(ctx context.Context, dbURL, dataDir string) (*DB, error) {
	if strings.HasPrefix(dbURL, "postgres://") || strings.HasPrefix(dbURL, "postgresql://") {
		return openPostgres(ctx, dbURL)
	}
	path := strings.TrimPrefix(strings.TrimPrefix(dbURL, "sqlite://"), "sqlite:")
	if path == "" {
		if err := os.MkdirAll(dataDir, 0o700); err != nil {
			return nil, fmt.Errorf("create data dir: %w", err)
		}
		path = filepath.Join(dataDir, "parley.db")
	}
	return openSQLite(ctx, path)
}

func sqliteDSN(path string, readOnly bool) string {
	// busy_timeout first so that it applies to the pragmas that follow.
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "foreign_keys(ON)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", "cache_size(-32000)")
	// Savepoint sub-journals and temporary b-trees in memory, not in files.
	q.Add("_pragma", "temp_store(MEMORY)")
	q.Add("_txlock", "immediate")
	if readOnly {
		q.Add("_pragma", "query_only(ON)")
	}
	return "file:" + path + "?" + q.Encode()
}

func openSQLite(ctx context.Context, path string) (*DB, error) {
	w, err := sql.Open("sqlite", sqliteDSN(path, false))
	if err != nil {
		return nil, err
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	r, err := sql.Open("sqlite", sqliteDSN(path, true))
	if err != nil {
		w.Close()
		return nil, err
	}
	n := max(4, runtime.NumCPU()*2)
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	// Read connections load the planner statistics when they open; recycle
	// them so statistics gathered by Optimize reach every connection.
	r.SetConnMaxLifetime(10 * time.Minute)
	// Each connection keeps its own page cache (cache_size); closing read
	// connections that sat idle gives that memory back after a burst.
	r.SetConnMaxIdleTime(5 * time.Second)
	db := &DB{Dialect: query.SQLite, write: w, read: r, writeStmts: newStmtCache(w), readStmts: newStmtCache(r)}
	// Without statistics SQLite may scan the primary key instead of using a
	// partial index (search by email at 1M contacts: ~1 s instead of ~1 ms).
	// 0x10002 analyses every table that lacks statistics, bounded in cost.
	if _, err := w.ExecContext(ctx, `PRAGMA optimize=0x10002`); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite optimize: %w", err)
	}
	db.startCommitter()
	return db, nil
}

// Optimize refreshes the query planner's statistics after bulk changes
// (imports) and periodically. On PostgreSQL autovacuum does this; large
// imports still benefit from an explicit ANALYZE of the contacts tables.
func (db *DB) Optimize(ctx context.Context) error {
	if db.Dialect == query.Postgres {
		_, err := db.write.ExecContext(ctx, `ANALYZE contacts, contact_tags, company_contacts, companies`)
		return err
	}
	_, err := db.write.ExecContext(ctx, `PRAGMA optimize`)
	return err
}

func openPostgres(ctx context.Context, dbURL string) (*DB, error) {
	d, err := sql.Open("pgx", dbURL)
	if err != nil {
		return nil, err
	}
	d.SetMaxOpenConns(32)
	d.SetMaxIdleConns(32)
	d.SetConnMaxIdleTime(5 * time.Minute)
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := d.PingContext(pctx); err != nil {
		d.Close()
		return nil, fmt.Errorf("connect to postgres: %w", err)
	}
	db := &DB{Dialect: query.Postgres, write: d, read: d}
	// Every write appends to the workspace's event sequence, whose row lock
	// is held until the commit's WAL flush: concurrent writers of a
	// workspace queue behind one fsync each. Group commit takes the lock and
	// the flush once for a whole batch.
	db.startCommitter()
	return db, nil
}

// Close closes both pools.
func (db *DB) Close() error {
	db.stopCommitter()
	db.writeStmts.close()
	db.readStmts.close()
	err := db.write.Close()
	if db.read != db.write {
		err = errors.Join(err, db.read.Close())
	}
	return err
}

// Ping checks the database answers.
func (db *DB) Ping(ctx context.Context) error { return db.read.PingContext(ctx) }

// Q is what both a transaction and the read pool offer.
type Q interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Tx is a write transaction. Its methods take SQL with `?` placeholders.
type Tx struct {
	tx      *sql.Tx
	dialect query.Dialect
	cache   *stmtCache           // the write pool's statement cache (SQLite)
	stmts   map[string]*sql.Stmt // statements bound to this transaction
	missed  []string             // texts to add to the cache once the transaction ends
	// Events staged by eventlog (written by flush before the commit).
	heads  map[string]int64 // each locked workspace's last reserved sequence
	locked map[string]int64 // … and its sequence when it was locked
	events []eventlog.Event
	// appended is, once flushed, the last sequence written per workspace,
	// for the OnCommit hook.
	appended map[string]int64
	marks    []txMark
}

// Reserve implements eventlog.Tx: the workspace's sequence is locked and
// read on its first use in the transaction and counted here afterwards.
func (t *Tx) Reserve(ctx context.Context, workspaceID string, n int) (int64, error) {
	head, ok := t.heads[workspaceID]
	if !ok {
		var err error
		if head, err = eventlog.LockHead(ctx, t, workspaceID); err != nil {
			return 0, err
		}
		if t.heads == nil {
			t.heads, t.locked = map[string]int64{}, map[string]int64{}
		}
		t.locked[workspaceID] = head
	}
	head += int64(n)
	t.heads[workspaceID] = head
	return head, nil
}

// Stage implements eventlog.Tx.
func (t *Tx) Stage(e eventlog.Event) { t.events = append(t.events, e) }

// flush writes the staged events and the moved sequences; the committers
// call it just before COMMIT.
func (t *Tx) flush(ctx context.Context) error {
	if len(t.events) == 0 {
		return nil
	}
	moved := map[string]int64{}
	for ws, seq := range t.heads {
		if seq > t.locked[ws] {
			moved[ws] = seq
		}
	}
	if err := eventlog.Write(ctx, t, t.events, moved); err != nil {
		return err
	}
	t.appended, t.events = moved, nil
	return nil
}

// txMark is the staged state at a savepoint.
type txMark struct {
	name   string
	events int
	heads  map[string]int64
}

// Savepoint starts a savepoint: RollbackTo undoes the changes and the
// events after it. Use these rather than SAVEPOINT statements, which would
// not take back staged events.
func (t *Tx) Savepoint(ctx context.Context, name string) error {
	if _, err := t.tx.ExecContext(ctx, `SAVEPOINT `+name); err != nil {
		return mapErr(err)
	}
	t.marks = append(t.marks, txMark{name: name, events: len(t.events), heads: maps.Clone(t.heads)})
	return nil
}

// RollbackTo undoes everything since the savepoint, which stays open
// (as SQL's ROLLBACK TO: Release it, or go on inside it).
func (t *Tx) RollbackTo(ctx context.Context, name string) error {
	i := t.mark(name)
	if _, err := t.tx.ExecContext(ctx, `ROLLBACK TO `+name); err != nil {
		return mapErr(err)
	}
	m := t.marks[i]
	t.marks = t.marks[:i+1]
	t.events = t.events[:m.events]
	for ws := range t.heads {
		if seq, ok := m.heads[ws]; ok {
			t.heads[ws] = seq
		} else {
			// Locked after the savepoint: the rollback released that
			// lock, and the next Reserve takes it again.
			delete(t.heads, ws)
			delete(t.locked, ws)
		}
	}
	return nil
}

// renew releases the innermost savepoint, keeping its changes, and starts
// it again, in one round trip (the group committer, between callers).
func (t *Tx) renew(ctx context.Context, name string) error {
	i := t.mark(name)
	t.marks = t.marks[:i+1] // RELEASE releases the savepoints inside it too
	if _, err := t.tx.ExecContext(ctx, `RELEASE `+name+`; SAVEPOINT `+name); err != nil {
		return mapErr(err)
	}
	t.marks[i] = txMark{name: name, events: len(t.events), heads: maps.Clone(t.heads)}
	return nil
}

// Release ends the savepoint, keeping its changes.
func (t *Tx) Release(ctx context.Context, name string) error { return t.release(ctx, t.mark(name)) }

func (t *Tx) release(ctx context.Context, i int) error {
	name := t.marks[i].name
	t.marks = t.marks[:i]
	if _, err := t.tx.ExecContext(ctx, `RELEASE `+name); err != nil {
		return mapErr(err)
	}
	return nil
}

func (t *Tx) mark(name string) int {
	for i := len(t.marks) - 1; i >= 0; i-- {
		if t.marks[i].name == name {
			return i
		}
	}
	panic("store: no savepoint " + name)
}

// prepared returns q as a statement bound to this transaction, prepared
// once for the write connection's lifetime. SQLite otherwise parses and
// plans the statement text on every call — half the CPU of a contact GET
// and a third of a bulk import. pgx caches prepared statements itself: nil
// there, and nil when q cannot be prepared (the caller runs it directly).
func (t *Tx) prepared(ctx context.Context, q string) *sql.Stmt {
	if t.cache == nil || strings.Contains(q, ";") {
		return nil
	}
	if s, ok := t.stmts[q]; ok {
		return s
	}
	var s *sql.Stmt
	if base := t.cache.lookup(q); base != nil {
		s = t.tx.StmtContext(ctx, base)
	} else {
		// The write pool's only connection is this transaction's: prepare
		// for this transaction now and for the pool once it is free.
		st, err := t.tx.PrepareContext(ctx, q)
		if err != nil {
			return nil
		}
		s = st
		if t.cache.wants(q) {
			t.missed = append(t.missed, q)
		}
	}
	if t.stmts == nil {
		t.stmts = map[string]*sql.Stmt{}
	}
	t.stmts[q] = s
	return s
}

// Dialect of the transaction's database.
func (t *Tx) Dialect() query.Dialect { return t.dialect }

// Exec runs a statement.
func (t *Tx) Exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if st := t.prepared(ctx, q); st != nil {
		r, err := st.ExecContext(ctx, args...)
		return r, mapErr(err)
	}
	r, err := t.tx.ExecContext(ctx, rebind(t.dialect, q), args...)
	return r, mapErr(err)
}

// Query runs a query.
func (t *Tx) Query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if st := t.prepared(ctx, q); st != nil {
		r, err := st.QueryContext(ctx, args...)
		return r, mapErr(err)
	}
	r, err := t.tx.QueryContext(ctx, rebind(t.dialect, q), args...)
	return r, mapErr(err)
}

// QueryRow runs a single-row query.
func (t *Tx) QueryRow(ctx context.Context, q string, args ...any) *sql.Row {
	if st := t.prepared(ctx, q); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return t.tx.QueryRowContext(ctx, rebind(t.dialect, q), args...)
}

// Reader runs read queries on the read pool.
type Reader struct {
	db      *sql.DB
	dialect query.Dialect
	cache   *stmtCache
}

// Read returns the read side.
func (db *DB) Read() *Reader { return &Reader{db: db.read, dialect: db.Dialect, cache: db.readStmts} }

// Dialect of the reader's database.
func (r *Reader) Dialect() query.Dialect { return r.dialect }

// Query runs a query on the read pool.
func (r *Reader) Query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if st := r.cache.get(ctx, q); st != nil {
		rows, err := st.QueryContext(ctx, args...)
		return rows, mapErr(err)
	}
	rows, err := r.db.QueryContext(ctx, rebind(r.dialect, q), args...)
	return rows, mapErr(err)
}

// QueryRow runs a single-row query on the read pool.
func (r *Reader) QueryRow(ctx context.Context, q string, args ...any) *sql.Row {
	if st := r.cache.get(ctx, q); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return r.db.QueryRowContext(ctx, rebind(r.dialect, q), args...)
}

// Runner is either a Tx or a Reader: code that only reads can run inside a
// write transaction (to see its own writes) or on the read pool.
type Runner interface {
	Query(ctx context.Context, q string, args ...any) (*sql.Rows, error)
	QueryRow(ctx context.Context, q string, args ...any) *sql.Row
	Dialect() query.Dialect
}

// InTx runs fn in one write transaction, committing if fn returns nil.
//
// On SQLite concurrent calls share commits (see groupcommit.go) with the
// same all-or-nothing result for each. fn must not call InTx itself.
func (db *DB) InTx(ctx context.Context, fn func(tx *Tx) error) error {
	if db.commit != nil {
		return db.submit(ctx, fn)
	}
	return db.inTx(ctx, fn)
}

func (db *DB) inTx(ctx context.Context, fn func(tx *Tx) error) (err error) {
	sqlTx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return mapErr(err)
	}
	tx := &Tx{tx: sqlTx, dialect: db.Dialect, cache: db.writeStmts}
	defer func() {
		if len(tx.missed) > 0 {
			defer db.writeStmts.prepareAll(context.WithoutCancel(ctx), tx.missed)
		}
		if p := recover(); p != nil {
			_ = sqlTx.Rollback()
			panic(p)
		}
		if err == nil {
			err = tx.flush(ctx)
		}
		if err != nil {
			_ = sqlTx.Rollback()
			return
		}
		if err = mapErr(sqlTx.Commit()); err == nil {
			db.committed(tx.appended)
		}
	}()
	return fn(tx)
}

func rebind(d query.Dialect, q string) string {
	if d == query.Postgres {
		return query.Rebind(q)
	}
	return q
}

// mapErr maps driver errors to the sentinels.
func mapErr(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	msg := err.Error()
	switch {
	case strings.Contains(msg, "UNIQUE constraint failed"), // SQLite
		strings.Contains(msg, "SQLSTATE 23505"): // PostgreSQL unique_violation
		return fmt.Errorf("%w: %s", ErrConflict, msg)
	case strings.Contains(msg, "FOREIGN KEY constraint failed"),
		strings.Contains(msg, "SQLSTATE 23503"),
		strings.Contains(msg, "CHECK constraint failed"),
		strings.Contains(msg, "SQLSTATE 23514"),
		strings.Contains(msg, "SQLSTATE 22"): // data exceptions (invalid text, out of range)
		return fmt.Errorf("%w: %s", ErrInvalid, msg)
	}
	return err
}

// MapErr exposes the mapping for scans done by store implementations.
func MapErr(err error) error { return mapErr(err) }
