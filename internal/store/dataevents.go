package store

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"

	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/dataevent"
	"github.com/parleyhq/parley/internal/eventlog"
)

// DataEvents stores data events and imported event summaries.
type DataEvents struct{ db *DB }

// NewDataEvents returns the data event store.
func NewDataEvents(db *DB) *DataEvents { return &DataEvents{db: db} }

// summaryLike matches the event_name of summary rows.
const summaryLike = dataevent.SummaryPrefix + "%"

// Create records e for contact c and appends event.created. An event with
// the same contact, name and created_at as a stored one is a duplicate: it
// is not stored again, nothing is appended, and created is false.
func (s *DataEvents) Create(ctx context.Context, c *contact.Contact, e *dataevent.Event) (created bool, err error) {
	e.WorkspaceID, e.ContactID, e.UserID, e.Email = c.WorkspaceID, c.ID, c.ExternalID, c.Email
	err = s.db.InTx(ctx, func(tx *Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO data_events (workspace_id, contact_id, event_name, created_at, metadata) VALUES (?, ?, ?, ?, ?)
 ON CONFLICT (workspace_id, contact_id, event_name, created_at) DO NOTHING RETURNING id`,
			e.WorkspaceID, e.ContactID, e.EventName, e.CreatedAt, string(e.Metadata)).Scan(&e.ID)
		if err = mapErr(err); errors.Is(err, ErrNotFound) {
			return nil // duplicate
		} else if err != nil {
			return err
		}
		created = true
		_, err = eventlog.Append(ctx, tx, e.WorkspaceID, "event.created", e)
		return err
	})
	return created && err == nil, err
}

// EventCursor is a position in a contact's event listing (newest first).
type EventCursor struct {
	CreatedAt int64
	ID        int64
}

// List returns up to limit events of contact c, newest first, after the
// cursor (nil: from the newest).
func (s *DataEvents) List(ctx context.Context, c *contact.Contact, after *EventCursor, limit int) ([]*dataevent.Event, error) {
	q := `SELECT id, event_name, created_at, metadata FROM data_events WHERE workspace_id = ? AND contact_id = ? AND event_name NOT LIKE ?`
	args := []any{c.WorkspaceID, c.ID, summaryLike}
	if after != nil {
		q += ` AND (created_at < ? OR (created_at = ? AND id < ?))`
		args = append(args, after.CreatedAt, after.CreatedAt, after.ID)
	}
	rows, err := s.db.Read().Query(ctx, q+` ORDER BY created_at DESC, id DESC LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*dataevent.Event
	for rows.Next() {
		e := &dataevent.Event{WorkspaceID: c.WorkspaceID, ContactID: c.ID, UserID: c.ExternalID, Email: c.Email}
		var md string
		if err := rows.Scan(&e.ID, &e.EventName, &e.CreatedAt, &md); err != nil {
			return nil, mapErr(err)
		}
		e.Metadata = json.RawMessage(md)
		out = append(out, e)
	}
	return out, mapErr(rows.Err())
}

// Summary returns the contact's event summary: per event name, the count
// and the first and last times of its events plus its imported summaries,
// sorted by name.
func (s *DataEvents) Summary(ctx context.Context, c *contact.Contact) (*dataevent.Summary, error) {
	r := s.db.Read()
	byName := map[string]*dataevent.SummaryItem{}
	add := func(it dataevent.SummaryItem) {
		if cur, ok := byName[it.Name]; ok {
			cur.Merge(it)
		} else {
			byName[it.Name] = &it
		}
	}
	rows, err := r.Query(ctx, `SELECT event_name, count(*), min(created_at), max(created_at) FROM data_events
 WHERE workspace_id = ? AND contact_id = ? AND event_name NOT LIKE ? GROUP BY event_name`, c.WorkspaceID, c.ID, summaryLike)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var it dataevent.SummaryItem
		if err := rows.Scan(&it.Name, &it.Count, &it.First, &it.Last); err != nil {
			rows.Close()
			return nil, mapErr(err)
		}
		add(it)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, mapErr(err)
	}
	rows, err = r.Query(ctx, `SELECT event_name, metadata FROM data_events WHERE workspace_id = ? AND contact_id = ? AND event_name LIKE ?`,
		c.WorkspaceID, c.ID, summaryLike)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var name, md string
		if err := rows.Scan(&name, &md); err != nil {
			return nil, mapErr(err)
		}
		var st dataevent.StoredSummary
		if json.Unmarshal([]byte(md), &st) != nil || st.Count <= 0 {
			continue
		}
		add(dataevent.SummaryItem{Name: strings.TrimPrefix(name, dataevent.SummaryPrefix), Count: st.Count, First: st.First, Last: st.Last})
	}
	if err := rows.Err(); err != nil {
		return nil, mapErr(err)
	}
	out := &dataevent.Summary{ContactID: c.ID, UserID: c.ExternalID, Email: c.Email, Events: []dataevent.SummaryItem{}}
	for _, it := range byName {
		out.Events = append(out.Events, *it)
	}
	slices.SortFunc(out.Events, func(a, b dataevent.SummaryItem) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// SetSummaries stores imported summaries for contact c: each replaces the
// contact's previous imported summary of the same event name (so a retried
// import counts once); tracked events are kept and add to it. Appends
// event.summaries.created with the summaries as given.
func (s *DataEvents) SetSummaries(ctx context.Context, c *contact.Contact, items []dataevent.SummaryItem) error {
	return s.db.InTx(ctx, func(tx *Tx) error {
		for _, it := range items {
			name := dataevent.SummaryPrefix + it.Name
			if _, err := tx.Exec(ctx, `DELETE FROM data_events WHERE workspace_id = ? AND contact_id = ? AND event_name = ?`, c.WorkspaceID, c.ID, name); err != nil {
				return err
			}
			md, _ := json.Marshal(dataevent.StoredSummary{Count: it.Count, First: it.First, Last: it.Last})
			if _, err := tx.Exec(ctx, `INSERT INTO data_events (workspace_id, contact_id, event_name, created_at, metadata) VALUES (?, ?, ?, ?, ?)`,
				c.WorkspaceID, c.ID, name, it.Last, string(md)); err != nil {
				return err
			}
		}
		_, err := eventlog.Append(ctx, tx, c.WorkspaceID, "event.summaries.created",
			&dataevent.Summary{ContactID: c.ID, UserID: c.ExternalID, Email: c.Email, Events: items})
		return err
	})
}
