package store

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"github.com/parleyhq/parley/internal/eventlog"
	"github.com/parleyhq/parley/internal/workspace"
)

// Note is a teammate's note about a contact.
type Note struct {
	WorkspaceID string
	ID          int64
	ContactID   string
	AuthorID    *int64
	Author      *workspace.Admin // loaded with the note; nil when the author is gone
	Body        string           // HTML
	CreatedAt   int64
}

// MarshalJSON renders Intercom's note object.
func (n *Note) MarshalJSON() ([]byte, error) {
	var author any
	if a := n.Author; a != nil {
		author = map[string]any{
			"type": "admin", "id": strconv.FormatInt(a.ID, 10), "name": a.Name, "email": a.Email,
			"away_mode_enabled": a.AwayModeEnabled, "away_mode_reassign": a.AwayModeReassign,
		}
	}
	return json.Marshal(struct {
		Type      string         `json:"type"`
		ID        string         `json:"id"`
		CreatedAt int64          `json:"created_at"`
		Contact   map[string]any `json:"contact"`
		Author    any            `json:"author"`
		Body      string         `json:"body"`
	}{"note", strconv.FormatInt(n.ID, 10), n.CreatedAt, map[string]any{"type": "contact", "id": n.ContactID}, author, n.Body})
}

// Notes is the SQL store of notes.
type Notes struct {
	db       *DB
	contacts *Contacts
}

// NewNotes returns the note store.
func NewNotes(db *DB) *Notes { return &Notes{db: db, contacts: NewContacts(db)} }

const noteSelect = `SELECT n.workspace_id, n.id, n.contact_id, n.author_id, n.body, n.created_at,
 a.id, a.name, a.email, a.away_mode_enabled, a.away_mode_reassign
 FROM notes n LEFT JOIN admins a ON a.workspace_id = n.workspace_id AND a.id = n.author_id`

func scanNote(row interface{ Scan(...any) error }) (*Note, error) {
	n := &Note{}
	var aID *int64
	var aName, aEmail *string
	var aAway, aReassign *bool
	err := row.Scan(&n.WorkspaceID, &n.ID, &n.ContactID, &n.AuthorID, &n.Body, &n.CreatedAt,
		&aID, &aName, &aEmail, &aAway, &aReassign)
	if err != nil {
		return nil, mapErr(err)
	}
	if aID != nil {
		n.Author = &workspace.Admin{WorkspaceID: n.WorkspaceID, ID: *aID, Name: noteString(aName), Email: noteString(aEmail)}
		n.Author.AwayModeEnabled = aAway != nil && *aAway
		n.Author.AwayModeReassign = aReassign != nil && *aReassign
	}
	return n, nil
}

func noteString(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func (s *Notes) getIn(ctx context.Context, r Runner, workspaceID string, id int64) (*Note, error) {
	return scanNote(r.QueryRow(ctx, noteSelect+` WHERE n.workspace_id = ? AND n.id = ?`, workspaceID, id))
}

// Get loads a note.
func (s *Notes) Get(ctx context.Context, workspaceID string, id int64) (*Note, error) {
	return s.getIn(ctx, s.db.Read(), workspaceID, id)
}

// Create adds a note about a contact written by a teammate of the workspace
// and appends contact.note.created. A missing contact or author is a
// MissingError ("contact", "admin").
func (s *Notes) Create(ctx context.Context, n *Note) error {
	return s.db.InTx(ctx, func(tx *Tx) error {
		if _, err := s.contacts.GetIn(ctx, tx, n.WorkspaceID, n.ContactID); err != nil {
			if errors.Is(err, ErrNotFound) {
				return &MissingError{Kind: "contact"}
			}
			return err
		}
		if n.AuthorID != nil {
			var one int
			err := tx.QueryRow(ctx, `SELECT 1 FROM admins WHERE workspace_id = ? AND id = ?`, n.WorkspaceID, *n.AuthorID).Scan(&one)
			if err = mapErr(err); errors.Is(err, ErrNotFound) {
				return &MissingError{Kind: "admin"}
			}
			if err != nil {
				return err
			}
		}
		if n.CreatedAt == 0 {
			n.CreatedAt = time.Now().Unix()
		}
		var id int64
		err := tx.QueryRow(ctx, `INSERT INTO notes (workspace_id, contact_id, author_id, body, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id`,
			n.WorkspaceID, n.ContactID, n.AuthorID, n.Body, n.CreatedAt).Scan(&id)
		if err != nil {
			return mapErr(err)
		}
		fresh, err := s.getIn(ctx, tx, n.WorkspaceID, id)
		if err != nil {
			return err
		}
		*n = *fresh
		_, err = eventlog.Append(ctx, tx, n.WorkspaceID, "contact.note.created", n)
		return err
	})
}

// ForContact returns a page of a contact's notes, newest first, and their
// total. A missing contact is a MissingError ("contact").
func (s *Notes) ForContact(ctx context.Context, workspaceID, contactID string, offset, limit int) ([]*Note, int, error) {
	r := s.db.Read()
	if _, err := s.contacts.GetIn(ctx, r, workspaceID, contactID); err != nil {
		if errors.Is(err, ErrNotFound) {
			return nil, 0, &MissingError{Kind: "contact"}
		}
		return nil, 0, err
	}
	var total int
	if err := r.QueryRow(ctx, `SELECT count(*) FROM notes WHERE workspace_id = ? AND contact_id = ?`, workspaceID, contactID).Scan(&total); err != nil {
		return nil, 0, mapErr(err)
	}
	rows, err := r.Query(ctx, noteSelect+` WHERE n.workspace_id = ? AND n.contact_id = ? ORDER BY n.id DESC LIMIT ? OFFSET ?`, workspaceID, contactID, limit, offset)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	out := []*Note{}
	for rows.Next() {
		n, err := scanNote(rows)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, n)
	}
	return out, total, mapErr(rows.Err())
}
