package store

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/parleyhq/parley/internal/eventlog"
	"github.com/parleyhq/parley/internal/query"
	"github.com/parleyhq/parley/internal/segment"
)

// Segments stores segments and evaluates their membership.
type Segments struct{ db *DB }

// NewSegments returns the segment store.
func NewSegments(db *DB) *Segments { return &Segments{db: db} }

const segmentCols = `workspace_id, id, name, person_type, filter, created_at, updated_at`

func scanSegment(row interface{ Scan(...any) error }) (*segment.Segment, error) {
	s := &segment.Segment{}
	var filter string
	if err := row.Scan(&s.WorkspaceID, &s.ID, &s.Name, &s.PersonType, &filter, &s.CreatedAt, &s.UpdatedAt); err != nil {
		return nil, mapErr(err)
	}
	s.Filter = json.RawMessage(filter)
	return s, nil
}

// Get returns a segment of the workspace.
func (s *Segments) Get(ctx context.Context, workspaceID, id string) (*segment.Segment, error) {
	return scanSegment(s.db.Read().QueryRow(ctx, `SELECT `+segmentCols+` FROM segments WHERE workspace_id = ? AND id = ?`, workspaceID, id))
}

// List returns the workspace's segments, oldest first.
func (s *Segments) List(ctx context.Context, workspaceID string) ([]*segment.Segment, error) {
	rows, err := s.db.Read().Query(ctx, `SELECT `+segmentCols+` FROM segments WHERE workspace_id = ? ORDER BY created_at, id`, workspaceID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*segment.Segment
	for rows.Next() {
		sg, err := scanSegment(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, sg)
	}
	return out, mapErr(rows.Err())
}

// EffectiveFilter returns the membership filter of a segment (see
// segment.Effective); ErrNotFound for an unknown id.
func (s *Segments) EffectiveFilter(ctx context.Context, workspaceID, id string) ([]byte, error) {
	var filter, personType string
	err := s.db.Read().QueryRow(ctx, `SELECT filter, person_type FROM segments WHERE workspace_id = ? AND id = ?`, workspaceID, id).Scan(&filter, &personType)
	if err != nil {
		return nil, mapErr(err)
	}
	return segment.Effective(json.RawMessage(filter), personType)
}

// Create stores a new segment (validated by the caller) and appends
// segment.created.
func (s *Segments) Create(ctx context.Context, sg *segment.Segment) error {
	now := time.Now().Unix()
	sg.CreatedAt, sg.UpdatedAt = now, now
	return s.db.InTx(ctx, func(tx *Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO segments (`+segmentCols+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			sg.WorkspaceID, sg.ID, sg.Name, sg.PersonType, string(sg.Filter), sg.CreatedAt, sg.UpdatedAt); err != nil {
			return err
		}
		_, err := eventlog.Append(ctx, tx, sg.WorkspaceID, "segment.created", sg)
		return err
	})
}

// Update saves a changed segment and appends segment.updated.
func (s *Segments) Update(ctx context.Context, sg *segment.Segment) error {
	sg.UpdatedAt = time.Now().Unix()
	return s.db.InTx(ctx, func(tx *Tx) error {
		res, err := tx.Exec(ctx, `UPDATE segments SET name = ?, person_type = ?, filter = ?, updated_at = ? WHERE workspace_id = ? AND id = ?`,
			sg.Name, sg.PersonType, string(sg.Filter), sg.UpdatedAt, sg.WorkspaceID, sg.ID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		_, err = eventlog.Append(ctx, tx, sg.WorkspaceID, "segment.updated", sg)
		return err
	})
}

// Delete removes a segment and appends segment.deleted.
func (s *Segments) Delete(ctx context.Context, workspaceID, id string) error {
	return s.db.InTx(ctx, func(tx *Tx) error {
		res, err := tx.Exec(ctx, `DELETE FROM segments WHERE workspace_id = ? AND id = ?`, workspaceID, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		_, err = eventlog.Append(ctx, tx, workspaceID, "segment.deleted", segment.Deleted(id))
		return err
	})
}

// Statements evaluating many segments at once stay within both databases'
// limits on bound parameters (SQLite 32766, PostgreSQL 65535) and within a
// reasonable number of columns.
const (
	chunkFilters = 64
	chunkArgs    = 30000
)

// compiled is one filter rendered for a dialect.
type compiled struct {
	where string
	args  []any
}

// chunks renders filters and groups them into statements.
func chunks(d query.Dialect, filters []*query.Filter) [][]compiled {
	var out [][]compiled
	var cur []compiled
	n := 0
	for _, f := range filters {
		where, args := f.SQL(d)
		if len(cur) > 0 && (len(cur) == chunkFilters || n+len(args) > chunkArgs) {
			out = append(out, cur)
			cur, n = nil, 0
		}
		cur = append(cur, compiled{where, args})
		n += len(args)
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// liveContacts restricts contacts (c) to the searchable ones: neither
// archived nor merged. Its arguments are the workspace id and false.
const liveContacts = `c.workspace_id = ? AND c.archived = ? AND c.merged_into IS NULL`

// Counts returns, for each filter (a segment's membership filter), the
// number of live contacts of the workspace that match it. The filters of a
// chunk are all counted in one scan of the workspace's contacts.
func (s *Segments) Counts(ctx context.Context, workspaceID string, filters []*query.Filter) ([]int, error) {
	r := s.db.Read()
	out := make([]int, 0, len(filters))
	for _, chunk := range chunks(r.Dialect(), filters) {
		cols := make([]string, len(chunk))
		var args []any
		for i, c := range chunk {
			cols[i] = `count(CASE WHEN ` + c.where + ` THEN 1 END)`
			args = append(args, c.args...)
		}
		counts := make([]int, len(chunk))
		dest := make([]any, len(chunk))
		for i := range counts {
			dest[i] = &counts[i]
		}
		q := `SELECT ` + strings.Join(cols, ", ") + ` FROM contacts c WHERE ` + liveContacts
		if err := r.QueryRow(ctx, q, append(args, workspaceID, false)...).Scan(dest...); err != nil {
			return nil, mapErr(err)
		}
		out = append(out, counts...)
	}
	return out, nil
}

// Matches reports, for each filter, whether the live contact matches it.
// A contact that is archived, merged or unknown matches none.
func (s *Segments) Matches(ctx context.Context, workspaceID, contactID string, filters []*query.Filter) ([]bool, error) {
	r := s.db.Read()
	out := make([]bool, 0, len(filters))
	for _, chunk := range chunks(r.Dialect(), filters) {
		cols := make([]string, len(chunk))
		var args []any
		for i, c := range chunk {
			cols[i] = `CASE WHEN ` + c.where + ` THEN 1 ELSE 0 END`
			args = append(args, c.args...)
		}
		hits := make([]int, len(chunk))
		dest := make([]any, len(chunk))
		for i := range hits {
			dest[i] = &hits[i]
		}
		q := `SELECT ` + strings.Join(cols, ", ") + ` FROM contacts c WHERE ` + liveContacts + ` AND c.id = ?`
		err := mapErr(r.QueryRow(ctx, q, append(args, workspaceID, false, contactID)...).Scan(dest...))
		if errors.Is(err, ErrNotFound) {
			hits = make([]int, len(chunk))
		} else if err != nil {
			return nil, err
		}
		for _, h := range hits {
			out = append(out, h == 1)
		}
	}
	return out, nil
}
