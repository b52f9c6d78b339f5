package store

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/eventlog"
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
