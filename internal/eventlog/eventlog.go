// Package eventlog appends to Parley's event log in the same transaction as
// the change it records (DESIGN.md §1), and reads it back by sequence.
package eventlog

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"
)

// Tx is the part of a write transaction (store.Tx) the log needs; taking an
// interface keeps the store free to append from inside its own methods.
type Tx interface {
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
	return seq, nil
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
