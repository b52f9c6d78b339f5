package store

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/parleyhq/parley/internal/company"
	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/eventlog"
)

// Tag is a workspace's tag. When it is shown as applied to a contact,
// AppliedAt (and, for the tagging call itself, AppliedBy) are set.
type Tag struct {
	WorkspaceID string
	ID          int64
	Name        string
	CreatedAt   int64
	AppliedAt   *int64
	AppliedBy   *int64 // admin id
}

// MarshalJSON renders Intercom's tag object: {type, id, name} plus
// applied_at / applied_by when the tag is shown as applied to something.
func (t *Tag) MarshalJSON() ([]byte, error) {
	type ref struct {
		Type string `json:"type"`
		ID   string `json:"id"`
	}
	var by *ref
	if t.AppliedBy != nil {
		by = &ref{Type: "admin", ID: strconv.FormatInt(*t.AppliedBy, 10)}
	}
	return json.Marshal(struct {
		Type      string `json:"type"`
		ID        string `json:"id"`
		Name      string `json:"name"`
		AppliedAt *int64 `json:"applied_at,omitempty"`
		AppliedBy *ref   `json:"applied_by,omitempty"`
	}{"tag", strconv.FormatInt(t.ID, 10), t.Name, t.AppliedAt, by})
}

// Basic is the tag without applied_at/applied_by (Intercom's tag_basic).
func (t *Tag) Basic() *Tag {
	return &Tag{WorkspaceID: t.WorkspaceID, ID: t.ID, Name: t.Name, CreatedAt: t.CreatedAt}
}

// Tags is the SQL store of tags and their use on contacts and companies.
type Tags struct {
	db        *DB
	contacts  *Contacts
	companies *Companies
}

// NewTags returns the tag store.
func NewTags(db *DB) *Tags {
	return &Tags{db: db, contacts: NewContacts(db), companies: NewCompanies(db)}
}

const tagCols = `workspace_id, id, name, created_at`

func scanTag(row interface{ Scan(...any) error }) (*Tag, error) {
	t := &Tag{}
	if err := row.Scan(&t.WorkspaceID, &t.ID, &t.Name, &t.CreatedAt); err != nil {
		return nil, mapErr(err)
	}
	return t, nil
}

func (s *Tags) getIn(ctx context.Context, r Runner, workspaceID string, id int64) (*Tag, error) {
	return scanTag(r.QueryRow(ctx, `SELECT `+tagCols+` FROM tags WHERE workspace_id = ? AND id = ?`, workspaceID, id))
}

// byNameIn finds a tag by name, ignoring case (Intercom's tag names are
// case insensitive); an exact match wins.
func (s *Tags) byNameIn(ctx context.Context, r Runner, workspaceID, name string) (*Tag, error) {
	return scanTag(r.QueryRow(ctx, `SELECT `+tagCols+` FROM tags WHERE workspace_id = ? AND lower(name) = lower(?)
 ORDER BY CASE WHEN name = ? THEN 0 ELSE 1 END, id LIMIT 1`, workspaceID, name, name))
}

// Get loads a tag.
func (s *Tags) Get(ctx context.Context, workspaceID string, id int64) (*Tag, error) {
	return s.getIn(ctx, s.db.Read(), workspaceID, id)
}

// ByName loads a tag by name, ignoring case.
func (s *Tags) ByName(ctx context.Context, workspaceID, name string) (*Tag, error) {
	return s.byNameIn(ctx, s.db.Read(), workspaceID, name)
}

// List returns all tags of a workspace in creation order.
func (s *Tags) List(ctx context.Context, workspaceID string) ([]*Tag, error) {
	return s.queryTags(ctx, s.db.Read(), `SELECT `+tagCols+` FROM tags WHERE workspace_id = ? ORDER BY id`, workspaceID)
}

func (s *Tags) queryTags(ctx context.Context, r Runner, q string, args ...any) ([]*Tag, error) {
	rows, err := r.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*Tag{}
	for rows.Next() {
		t, err := scanTag(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, mapErr(rows.Err())
}

// ensureIn returns the tag called name, creating it (and appending
// tag.created) when there is none.
func (s *Tags) ensureIn(ctx context.Context, tx *Tx, workspaceID, name string) (*Tag, bool, error) {
	t, err := s.byNameIn(ctx, tx, workspaceID, name)
	if err == nil {
		return t, false, nil
	}
	if !errors.Is(err, ErrNotFound) {
		return nil, false, err
	}
	res, err := tx.Exec(ctx, `INSERT INTO tags (workspace_id, name, created_at) VALUES (?, ?, ?) ON CONFLICT (workspace_id, name) DO NOTHING`,
		workspaceID, name, time.Now().Unix())
	if err != nil {
		return nil, false, err
	}
	added, _ := res.RowsAffected()
	if t, err = s.byNameIn(ctx, tx, workspaceID, name); err != nil {
		return nil, false, err
	}
	if added == 0 {
		return t, false, nil
	}
	_, err = eventlog.Append(ctx, tx, workspaceID, "tag.created", t)
	return t, true, err
}

// Ensure returns the tag called name (ignoring case), creating it when
// there is none; created reports whether it did.
func (s *Tags) Ensure(ctx context.Context, workspaceID, name string) (t *Tag, created bool, err error) {
	err = s.db.InTx(ctx, func(tx *Tx) error {
		t, created, err = s.ensureIn(ctx, tx, workspaceID, name)
		return err
	})
	return t, created, err
}

// Rename gives a tag a new name and appends tag.updated. Another tag with
// that name (ignoring case) is a conflict.
func (s *Tags) Rename(ctx context.Context, workspaceID string, id int64, name string) (*Tag, error) {
	var t *Tag
	err := s.db.InTx(ctx, func(tx *Tx) (err error) {
		if t, err = s.getIn(ctx, tx, workspaceID, id); err != nil {
			if errors.Is(err, ErrNotFound) {
				return &MissingError{Kind: "tag"}
			}
			return err
		}
		if t.Name == name {
			return nil
		}
		other, err := s.byNameIn(ctx, tx, workspaceID, name)
		if err == nil && other.ID != id {
			return &ConflictError{ExistingID: strconv.FormatInt(other.ID, 10), Message: "A tag named " + other.Name + " already exists with id=" + strconv.FormatInt(other.ID, 10)}
		}
		if err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE tags SET name = ? WHERE workspace_id = ? AND id = ?`, name, workspaceID, id); err != nil {
			if errors.Is(err, ErrConflict) {
				return &ConflictError{Message: "A tag named " + name + " already exists"}
			}
			return err
		}
		t.Name = name
		_, err = eventlog.Append(ctx, tx, workspaceID, "tag.updated", t)
		return err
	})
	return t, err
}

// TagInUseError refuses to delete a tag that segments filter on.
type TagInUseError struct{ Segments []string }

func (e *TagInUseError) Error() string {
	return "Unable to delete Tag with dependent objects. Segments: " + strings.Join(e.Segments, ", ") + "."
}

// segmentsUsingTag names the segments of a workspace whose filter refers
// to the tag (a tag_id condition with its id as value).
func segmentsUsingTag(ctx context.Context, r Runner, workspaceID string, id int64) ([]string, error) {
	rows, err := r.Query(ctx, `SELECT name, filter FROM segments WHERE workspace_id = ? ORDER BY name`, workspaceID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	want := strconv.FormatInt(id, 10)
	var names []string
	for rows.Next() {
		var name, filter string
		if err := rows.Scan(&name, &filter); err != nil {
			return nil, mapErr(err)
		}
		var f any
		if json.Unmarshal([]byte(filter), &f) == nil && filterUsesTag(f, want) {
			names = append(names, name)
		}
	}
	return names, mapErr(rows.Err())
}

func filterUsesTag(node any, id string) bool {
	matches := func(v any) bool {
		switch x := v.(type) {
		case string:
			return x == id
		case float64:
			return strconv.FormatFloat(x, 'f', -1, 64) == id
		}
		return false
	}
	switch x := node.(type) {
	case map[string]any:
		if x["field"] == "tag_id" {
			if matches(x["value"]) {
				return true
			}
			if vs, ok := x["value"].([]any); ok {
				for _, v := range vs {
					if matches(v) {
						return true
					}
				}
			}
		}
		for _, v := range x {
			if filterUsesTag(v, id) {
				return true
			}
		}
	case []any:
		for _, v := range x {
			if filterUsesTag(v, id) {
				return true
			}
		}
	}
	return false
}

// Delete removes a tag from every contact and company, deletes it and
// appends tag.deleted. A tag that segments filter on is not deleted
// (TagInUseError), as in Intercom.
func (s *Tags) Delete(ctx context.Context, workspaceID string, id int64) (*Tag, error) {
	var t *Tag
	err := s.db.InTx(ctx, func(tx *Tx) (err error) {
		if t, err = s.getIn(ctx, tx, workspaceID, id); err != nil {
			return err
		}
		used, err := segmentsUsingTag(ctx, tx, workspaceID, id)
		if err != nil {
			return err
		}
		if len(used) > 0 {
			return &TagInUseError{Segments: used}
		}
		for _, q := range []string{
			`DELETE FROM contact_tags WHERE workspace_id = ? AND tag_id = ?`,
			`DELETE FROM company_tags WHERE workspace_id = ? AND tag_id = ?`,
			`DELETE FROM conversation_tags WHERE workspace_id = ? AND tag_id = ?`,
			`DELETE FROM tags WHERE workspace_id = ? AND id = ?`,
		} {
			if _, err := tx.Exec(ctx, q, workspaceID, id); err != nil {
				return err
			}
		}
		_, err = eventlog.Append(ctx, tx, workspaceID, "tag.deleted", t)
		return err
	})
	return t, err
}

// ContactTags lists the tags of a contact with the time each was applied.
func (s *Tags) ContactTags(ctx context.Context, workspaceID, contactID string) ([]*Tag, error) {
	r := s.db.Read()
	if _, err := s.contacts.GetIn(ctx, r, workspaceID, contactID); err != nil {
		if errors.Is(err, ErrNotFound) {
			return nil, &MissingError{Kind: "contact"}
		}
		return nil, err
	}
	rows, err := r.Query(ctx, `SELECT t.workspace_id, t.id, t.name, t.created_at, ct.created_at FROM contact_tags ct
 JOIN tags t ON t.workspace_id = ct.workspace_id AND t.id = ct.tag_id
 WHERE ct.workspace_id = ? AND ct.contact_id = ? ORDER BY t.id`, workspaceID, contactID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*Tag{}
	for rows.Next() {
		t := &Tag{}
		var at int64
		if err := rows.Scan(&t.WorkspaceID, &t.ID, &t.Name, &t.CreatedAt, &at); err != nil {
			return nil, mapErr(err)
		}
		t.AppliedAt = &at
		out = append(out, t)
	}
	return out, mapErr(rows.Err())
}

// contactTagItem is the event item of contact.<role>.tag.created/deleted.
func contactTagItem(t *Tag, c *contact.Contact, at int64) map[string]any {
	return map[string]any{"type": "contact_tag", "tag": t.Basic(), "contact": c, "created_at": at}
}

// companyTagItem is the event item of company.tag.created/deleted.
func companyTagItem(t *Tag, co *company.Company, at int64) map[string]any {
	return map[string]any{"type": "company_tag", "tag": t.Basic(), "company": co, "created_at": at}
}

// tagContactIn applies (or removes) a tag on a contact and appends the
// contact's tag event when something changed. It returns when the tag was
// applied (now for a new application, the original time otherwise; nil when
// untagging a contact that did not have the tag).
func (s *Tags) tagContactIn(ctx context.Context, tx *Tx, t *Tag, contactID string, untag bool) (*int64, error) {
	now := time.Now().Unix()
	var applied *int64
	var at int64
	err := tx.QueryRow(ctx, `SELECT created_at FROM contact_tags WHERE workspace_id = ? AND contact_id = ? AND tag_id = ?`, t.WorkspaceID, contactID, t.ID).Scan(&at)
	switch err = mapErr(err); {
	case err == nil:
		applied = &at
	case !errors.Is(err, ErrNotFound):
		return nil, err
	}
	var res interface{ RowsAffected() (int64, error) }
	if untag {
		res, err = tx.Exec(ctx, `DELETE FROM contact_tags WHERE workspace_id = ? AND contact_id = ? AND tag_id = ?`, t.WorkspaceID, contactID, t.ID)
	} else {
		res, err = tx.Exec(ctx, `INSERT INTO contact_tags (workspace_id, contact_id, tag_id, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`, t.WorkspaceID, contactID, t.ID, now)
	}
	if err != nil {
		return nil, err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return applied, nil
	}
	c, err := s.contacts.GetIn(ctx, tx, t.WorkspaceID, contactID)
	if err != nil {
		return nil, err
	}
	action := "tag.created"
	if untag {
		action = "tag.deleted"
	} else {
		applied = &now
	}
	_, err = eventlog.Append(ctx, tx, t.WorkspaceID, c.Topic(action), contactTagItem(t, c, now))
	return applied, err
}

func (s *Tags) tagCompanyIn(ctx context.Context, tx *Tx, t *Tag, companyID string, untag bool) error {
	now := time.Now().Unix()
	var res interface{ RowsAffected() (int64, error) }
	var err error
	if untag {
		res, err = tx.Exec(ctx, `DELETE FROM company_tags WHERE workspace_id = ? AND company_id = ? AND tag_id = ?`, t.WorkspaceID, companyID, t.ID)
	} else {
		res, err = tx.Exec(ctx, `INSERT INTO company_tags (workspace_id, company_id, tag_id, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`, t.WorkspaceID, companyID, t.ID, now)
	}
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil
	}
	co, err := s.companies.GetIn(ctx, tx, t.WorkspaceID, companyID)
	if err != nil {
		return err
	}
	topic := "company.tag.created"
	if untag {
		topic = "company.tag.deleted"
	}
	_, err = eventlog.Append(ctx, tx, t.WorkspaceID, topic, companyTagItem(t, co, now))
	return err
}

// tagForContactIn loads the tag and checks the contact, naming what is missing.
func (s *Tags) tagForContactIn(ctx context.Context, tx *Tx, workspaceID, contactID string, tagID int64) (*Tag, error) {
	if _, err := s.contacts.GetIn(ctx, tx, workspaceID, contactID); err != nil {
		if errors.Is(err, ErrNotFound) {
			return nil, &MissingError{Kind: "contact"}
		}
		return nil, err
	}
	t, err := s.getIn(ctx, tx, workspaceID, tagID)
	if errors.Is(err, ErrNotFound) {
		return nil, &MissingError{Kind: "tag"}
	}
	return t, err
}

// TagContact applies a tag to a contact (doing nothing when it already has
// it) and returns the tag with applied_at and applied_by.
func (s *Tags) TagContact(ctx context.Context, workspaceID, contactID string, tagID, adminID int64) (*Tag, error) {
	return s.setContactTag(ctx, workspaceID, contactID, tagID, adminID, false)
}

// UntagContact removes a tag from a contact (doing nothing when it does not
// have it) and returns the tag.
func (s *Tags) UntagContact(ctx context.Context, workspaceID, contactID string, tagID, adminID int64) (*Tag, error) {
	return s.setContactTag(ctx, workspaceID, contactID, tagID, adminID, true)
}

func (s *Tags) setContactTag(ctx context.Context, workspaceID, contactID string, tagID, adminID int64, remove bool) (*Tag, error) {
	var t *Tag
	err := s.db.InTx(ctx, func(tx *Tx) (err error) {
		if t, err = s.tagForContactIn(ctx, tx, workspaceID, contactID, tagID); err != nil {
			return err
		}
		t.AppliedAt, err = s.tagContactIn(ctx, tx, t, contactID, remove)
		return err
	})
	if err != nil {
		return nil, err
	}
	if adminID != 0 {
		t.AppliedBy = &adminID
	}
	return t, nil
}

// CompanyRef names a company in a bulk tagging request by Parley id or by
// the workspace's company_id.
type CompanyRef struct {
	ID        string
	CompanyID string
	Untag     bool
}

// ContactRef names a contact in a bulk tagging request by Parley id,
// external_id or email.
type ContactRef struct {
	ID         string
	ExternalID string
	Email      string
	Untag      bool
}

// Apply is Intercom's POST /tags with companies or users: it finds (or,
// unless every item untags, creates) the tag called name and tags or untags
// each company and contact. Every item is resolved before anything is
// written; one unknown item refuses the whole request.
func (s *Tags) Apply(ctx context.Context, workspaceID, name string, companies []CompanyRef, contacts []ContactRef) (*Tag, error) {
	var t *Tag
	err := s.db.InTx(ctx, func(tx *Tx) error {
		companyIDs := make([]string, len(companies))
		for i, ref := range companies {
			var co *company.Company
			var err error
			if ref.ID != "" {
				co, err = s.companies.GetIn(ctx, tx, workspaceID, ref.ID)
			} else {
				co, err = s.companies.byCompanyIDIn(ctx, tx, workspaceID, ref.CompanyID)
			}
			if errors.Is(err, ErrNotFound) {
				return &MissingError{Kind: "company"}
			}
			if err != nil {
				return err
			}
			companyIDs[i] = co.ID
		}
		contactIDs := make([]string, len(contacts))
		for i, ref := range contacts {
			var err error
			var id string
			switch {
			case ref.ID != "":
				err = tx.QueryRow(ctx, `SELECT id FROM contacts WHERE workspace_id = ? AND id = ? AND merged_into IS NULL`, workspaceID, ref.ID).Scan(&id)
			case ref.ExternalID != "":
				err = tx.QueryRow(ctx, `SELECT id FROM contacts WHERE workspace_id = ? AND external_id = ? AND merged_into IS NULL`, workspaceID, ref.ExternalID).Scan(&id)
			default:
				err = tx.QueryRow(ctx, `SELECT id FROM contacts WHERE workspace_id = ? AND email = ? AND merged_into IS NULL
 ORDER BY CASE WHEN role = 'user' THEN 0 ELSE 1 END, id DESC LIMIT 1`, workspaceID, ref.Email).Scan(&id)
			}
			if err = mapErr(err); errors.Is(err, ErrNotFound) {
				return &MissingError{Kind: "contact"}
			}
			if err != nil {
				return err
			}
			contactIDs[i] = id
		}
		onlyUntag := len(companies)+len(contacts) > 0
		for _, r := range companies {
			onlyUntag = onlyUntag && r.Untag
		}
		for _, r := range contacts {
			onlyUntag = onlyUntag && r.Untag
		}
		var err error
		if onlyUntag {
			if t, err = s.byNameIn(ctx, tx, workspaceID, name); errors.Is(err, ErrNotFound) {
				return &MissingError{Kind: "tag"}
			}
		} else {
			t, _, err = s.ensureIn(ctx, tx, workspaceID, name)
		}
		if err != nil {
			return err
		}
		for i, id := range companyIDs {
			if err := s.tagCompanyIn(ctx, tx, t, id, companies[i].Untag); err != nil {
				return err
			}
		}
		for i, id := range contactIDs {
			if _, err := s.tagContactIn(ctx, tx, t, id, contacts[i].Untag); err != nil {
				return err
			}
		}
		return nil
	})
	return t, err
}
