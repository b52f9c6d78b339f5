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
type Tx interface {
	Exec(ctx context.Context, q string, args ...any) (sql.Result, error)
	QueryRow(ctx context.Context, q string, args ...any) *sql.Row
	// Appended is told each workspace's last appended sequence, so that
	// the commit can announce it (store.DB.OnCommit → the bus).
	Appended(workspaceID string, seq int64)
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

// Append records topic with item (marshalled as the API shows it) inside tx.
// The per-workspace sequence is taken from the workspace row, which the
// UPDATE locks until the transaction ends: sequences are gap-free and
// increase in commit order.
func Append(ctx context.Context, tx Tx, workspaceID, topic string, item any) (int64, error) {
	body, err := json.Marshal(item)
	if err != nil {
		return 0, fmt.Errorf("eventlog: marshal %s: %w", topic, err)
	}
	var seq int64
	err = tx.QueryRow(ctx, `UPDATE workspaces SET event_seq = event_seq + 1 WHERE id = ? RETURNING event_seq`, workspaceID).Scan(&seq)
	if err != nil {
		return 0, fmt.Errorf("eventlog: next sequence: %w", err)
	}
	_, err = tx.Exec(ctx, `INSERT INTO event_log (workspace_id, seq, topic, item, created_at) VALUES (?, ?, ?, ?, ?)`,
		workspaceID, seq, topic, string(body), time.Now().Unix())
	if err != nil {
		return 0, fmt.Errorf("eventlog: append %s: %w", topic, err)
	}
	tx.Appended(workspaceID, seq)
	return seq, nil
}

// Entry is one event of AppendMany.
type Entry struct {
	Topic string
	Item  any
}

// AppendMany records events inside tx with consecutive sequence numbers, in
// a few statements (bulk writes such as imports).
func AppendMany(ctx context.Context, tx Tx, workspaceID string, entries []Entry) error {
	if len(entries) == 0 {
		return nil
	}
	var last int64
	if err := tx.QueryRow(ctx, `UPDATE workspaces SET event_seq = event_seq + ? WHERE id = ? RETURNING event_seq`, len(entries), workspaceID).Scan(&last); err != nil {
		return fmt.Errorf("eventlog: next sequence: %w", err)
	}
	seq, now := last-int64(len(entries)), time.Now().Unix()
	const chunk = 500
	for start := 0; start < len(entries); start += chunk {
		part := entries[start:min(start+chunk, len(entries))]
		args := make([]any, 0, 5*len(part))
		for _, e := range part {
			body, err := json.Marshal(e.Item)
			if err != nil {
				return fmt.Errorf("eventlog: marshal %s: %w", e.Topic, err)
			}
			seq++
			args = append(args, workspaceID, seq, e.Topic, string(body), now)
		}
		values := strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?), ", len(part)), ", ")
		if _, err := tx.Exec(ctx, `INSERT INTO event_log (workspace_id, seq, topic, item, created_at) VALUES `+values, args...); err != nil {
			return fmt.Errorf("eventlog: append: %w", err)
		}
	}
	tx.Appended(workspaceID, last)
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
