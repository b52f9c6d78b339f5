// Package eventlog appends to Parley's event log in the same transaction as
// the change it records (DESIGN.md §1), and reads it back by sequence.
package eventlog

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Tx is the part of a write transaction (store.Tx) the log needs; taking an
// interface keeps the store free to append from inside its own methods.
//
// Sequences are numbered as events are appended, but the rows are written
// once, just before the transaction commits (store.Tx stages them): a
// write costs the database its own statements and not two more per event,
// and a group commit writes every event of the batch in one statement.
type Tx interface {
	// Reserve returns the last of n new consecutive sequence numbers of
	// the workspace. The first reservation of a transaction locks the
	// workspace's sequence until the transaction ends (LockHead), so
	// sequences are gap-free and increase in commit order.
	Reserve(ctx context.Context, workspaceID string, n int) (int64, error)
	// Stage adds an event, numbered by Reserve, to be written with the
	// transaction (Write).
	Stage(e Event)
}

// Writer is the part of a write transaction LockHead and Write run on.
type Writer interface {
	Exec(ctx context.Context, q string, args ...any) (sql.Result, error)
	QueryRow(ctx context.Context, q string, args ...any) *sql.Row
}

// Reader is the part of store.Runner the log reads with.
type Reader interface {
	Query(ctx context.Context, q string, args ...any) (*sql.Rows, error)
}

// Event is one row of the log.
type Event struct {
	WorkspaceID string          `json:"workspace_id"`
	Seq         int64           `json:"seq"`
	Topic       string          `json:"topic"`
	Item        json.RawMessage `json:"item"`
	CreatedAt   int64           `json:"created_at"`
}

// Append records topic with item (marshalled as the API shows it) inside tx
// and returns its sequence.
func Append(ctx context.Context, tx Tx, workspaceID, topic string, item any) (int64, error) {
	body, err := json.Marshal(item)
	if err != nil {
		return 0, fmt.Errorf("eventlog: marshal %s: %w", topic, err)
	}
	seq, err := tx.Reserve(ctx, workspaceID, 1)
	if err != nil {
		return 0, err
	}
	tx.Stage(Event{WorkspaceID: workspaceID, Seq: seq, Topic: topic, Item: body, CreatedAt: time.Now().Unix()})
	return seq, nil
}

// Entry is one event of AppendMany.
type Entry struct {
	Topic string
	Item  any
}

// AppendMany records events inside tx with consecutive sequence numbers
// (bulk writes such as imports).
func AppendMany(ctx context.Context, tx Tx, workspaceID string, entries []Entry) error {
	if len(entries) == 0 {
		return nil
	}
	bodies := make([][]byte, len(entries))
	for i, e := range entries {
		body, err := json.Marshal(e.Item)
		if err != nil {
			return fmt.Errorf("eventlog: marshal %s: %w", e.Topic, err)
		}
		bodies[i] = body
	}
	last, err := tx.Reserve(ctx, workspaceID, len(entries))
	if err != nil {
		return err
	}
	seq, now := last-int64(len(entries)), time.Now().Unix()
	for i, e := range entries {
		seq++
		tx.Stage(Event{WorkspaceID: workspaceID, Seq: seq, Topic: e.Topic, Item: bodies[i], CreatedAt: now})
	}
	return nil
}

// LockHead locks a workspace's sequence until the transaction ends and
// returns it: the last sequence written.
func LockHead(ctx context.Context, w Writer, workspaceID string) (int64, error) {
	var seq int64
	err := w.QueryRow(ctx, `UPDATE workspaces SET event_seq = event_seq WHERE id = ? RETURNING event_seq`, workspaceID).Scan(&seq)
	if err != nil {
		return 0, fmt.Errorf("eventlog: lock the sequence of workspace %s: %w", workspaceID, err)
	}
	return seq, nil
}

// Write inserts staged events, up to 512 per statement, and moves each
// workspace's sequence to heads[workspace] (whose lock LockHead holds).
func Write(ctx context.Context, w Writer, events []Event, heads map[string]int64) error {
	for len(events) > 0 {
		// A few statement shapes only (the statement caches keep them).
		n := 1
		for _, size := range []int{512, 64, 16, 4} {
			if len(events) >= size {
				n = size
				break
			}
		}
		part := events[:n]
		events = events[n:]
		args := make([]any, 0, 5*len(part))
		for _, e := range part {
			args = append(args, e.WorkspaceID, e.Seq, e.Topic, string(e.Item), e.CreatedAt)
		}
		values := strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?), ", len(part)), ", ")
		if _, err := w.Exec(ctx, `INSERT INTO event_log (workspace_id, seq, topic, item, created_at) VALUES `+values, args...); err != nil {
			return fmt.Errorf("eventlog: append: %w", err)
		}
	}
	for ws, seq := range heads {
		if _, err := w.Exec(ctx, `UPDATE workspaces SET event_seq = ? WHERE id = ?`, seq, ws); err != nil {
			return fmt.Errorf("eventlog: move the sequence of workspace %s: %w", ws, err)
		}
	}
	return nil
}

// Since returns up to limit events of a workspace with seq > after, in order.
func Since(ctx context.Context, r Reader, workspaceID string, after int64, limit int) ([]Event, error) {
	rows, err := r.Query(ctx, `SELECT seq, topic, item, created_at FROM event_log WHERE workspace_id = ? AND seq > ? ORDER BY seq LIMIT ?`, workspaceID, after, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		e := Event{WorkspaceID: workspaceID}
		var item string
		if err := rows.Scan(&e.Seq, &e.Topic, &item, &e.CreatedAt); err != nil {
			return nil, err
		}
		e.Item = json.RawMessage(item)
		out = append(out, e)
	}
	return out, rows.Err()
}

// Head returns a workspace's last sequence (0 before its first event).
func Head(ctx context.Context, r Reader, workspaceID string) (int64, error) {
	rows, err := r.Query(ctx, `SELECT event_seq FROM workspaces WHERE id = ?`, workspaceID)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	var seq int64
	if rows.Next() {
		if err := rows.Scan(&seq); err != nil {
			return 0, err
		}
	}
	return seq, rows.Err()
}
