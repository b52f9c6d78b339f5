package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/eventlog"
	"github.com/parleyhq/parley/internal/query"
)

// CreateManyIn inserts new contacts of one workspace inside tx, with their
// created events, in a few statements. The caller has checked Intercom's
// uniqueness rules against the workspace (an import does, with the contacts
// it loaded for the batch); the unique index still refuses a duplicate
// external_id, failing the whole call.
func (s *Contacts) CreateManyIn(ctx context.Context, tx *Tx, cs []*contact.Contact) error {
	if len(cs) == 0 {
		return nil
	}
	now := time.Now().Unix()
	if tx.Dialect() == query.Postgres {
		return s.createManyPostgres(ctx, tx, cs, now)
	}
	const chunk = 400 // 29 parameters a row
	events := make([]eventlog.Entry, len(cs))
	for start := 0; start < len(cs); start += chunk {
		part := cs[start:min(start+chunk, len(cs))]
		args := make([]any, 0, 29*len(part))
		for i, c := range part {
			if c.WorkspaceID != cs[0].WorkspaceID {
				return errors.New("store: CreateManyIn across workspaces")
			}
			if c.CreatedAt == 0 {
				c.CreatedAt = now
			}
			if c.UpdatedAt == 0 {
				c.UpdatedAt = c.CreatedAt
			}
			args = append(append(args, c.WorkspaceID, c.ID, c.CreatedAt), contactArgs(c)...)
			events[start+i] = eventlog.Entry{Topic: c.Topic("created"), Item: c}
		}
		row := "(" + strings.TrimSuffix(strings.Repeat("?, ", 29), ", ") + ")"
		values := strings.TrimSuffix(strings.Repeat(row+", ", len(part)), ", ")
		if _, err := tx.Exec(ctx, `INSERT INTO contacts (workspace_id, id, created_at, `+contactWriteCols+`) VALUES `+values, args...); err != nil {
			if errors.Is(err, ErrConflict) {
				return &ConflictError{Message: "A contact matching those details already exists"}
			}
			return err
		}
	}
	return eventlog.AppendMany(ctx, tx, cs[0].WorkspaceID, events)
}

// createManyPostgres sends the rows as one array per column (unnest): a
// statement of 29 parameters however many rows, instead of a VALUES list
// that PostgreSQL parses and pgx encodes parameter by parameter.
func (s *Contacts) createManyPostgres(ctx context.Context, tx *Tx, cs []*contact.Contact, now int64) error {
	ws := cs[0].WorkspaceID
	ids, created := make([]string, len(cs)), make([]int64, len(cs))
	var cols []any // one typed slice per column of contactWriteCols
	events := make([]eventlog.Entry, len(cs))
	for i, c := range cs {
		if c.WorkspaceID != ws {
			return errors.New("store: CreateManyIn across workspaces")
		}
		if c.CreatedAt == 0 {
			c.CreatedAt = now
		}
		if c.UpdatedAt == 0 {
			c.UpdatedAt = c.CreatedAt
		}
		ids[i], created[i] = c.ID, c.CreatedAt
		args := contactArgs(c)
		if cols == nil {
			cols = make([]any, len(args))
			for j, a := range args {
				switch a.(type) {
				case string:
					cols[j] = make([]string, len(cs))
				case *string:
					cols[j] = make([]*string, len(cs))
				case int64:
					cols[j] = make([]int64, len(cs))
				case *int64:
					cols[j] = make([]*int64, len(cs))
				case bool:
					cols[j] = make([]bool, len(cs))
				default:
					return fmt.Errorf("store: no array type for %T", a)
				}
			}
		}
		for j, a := range args {
			switch col := cols[j].(type) {
			case []string:
				col[i] = a.(string)
			case []*string:
				col[i] = a.(*string)
			case []int64:
				col[i] = a.(int64)
			case []*int64:
				col[i] = a.(*int64)
			case []bool:
				col[i] = a.(bool)
			}
		}
		events[i] = eventlog.Entry{Topic: c.Topic("created"), Item: c}
	}
	casts := make([]string, 0, len(cols)+2)
	casts = append(casts, "?::text[]", "?::bigint[]")
	for _, col := range cols {
		switch col.(type) {
		case []string, []*string:
			casts = append(casts, "?::text[]")
		case []int64, []*int64:
			casts = append(casts, "?::bigint[]")
		case []bool:
			casts = append(casts, "?::boolean[]")
		}
	}
	cols = append([]any{ws, ids, created}, cols...)
	// custom_attributes, the last column, is text in the array and jsonb
	// in the table.
	list := strings.Split(columnNames(len(casts)), ", ")
	list[len(list)-1] += "::jsonb"
	q := `INSERT INTO contacts (workspace_id, id, created_at, ` + contactWriteCols + `)
 SELECT ?, ` + strings.Join(list, ", ") + ` FROM unnest(` + strings.Join(casts, ", ") + `) AS u(` + columnNames(len(casts)) + `)`
	if _, err := tx.Exec(ctx, q, cols...); err != nil {
		if errors.Is(err, ErrConflict) {
			return &ConflictError{Message: "A contact matching those details already exists"}
		}
		return err
	}
	return eventlog.AppendMany(ctx, tx, ws, events)
}

func columnNames(n int) string {
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("c%d", i)
	}
	return strings.Join(names, ", ")
}
