package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/eventlog"
	"github.com/parleyhq/parley/internal/query"
)

// ConflictError names the existing item a write collided with.
type ConflictError struct {
	ExistingID string
	Message    string
}

func (e *ConflictError) Error() string { return e.Message }
func (e *ConflictError) Unwrap() error { return ErrConflict }

// Contacts is the SQL implementation of contact.Store.
type Contacts struct{ db *DB }

// NewContacts returns the contact store.
func NewContacts(db *DB) *Contacts { return &Contacts{db: db} }

var _ contact.Store = (*Contacts)(nil)

const contactCols = `c.workspace_id, c.id, c.role, c.external_id, c.email, c.phone, c.name, c.avatar, c.owner_id,
 c.has_hard_bounced, c.marked_email_as_spam, c.unsubscribed_from_emails, c.created_at, c.updated_at,
 c.signed_up_at, c.last_seen_at, c.last_replied_at, c.last_contacted_at, c.last_email_opened_at, c.last_email_clicked_at,
 c.language_override, c.browser, c.browser_version, c.browser_language, c.os,
 c.location_country, c.location_region, c.location_city, c.custom_attributes, c.archived, c.blocked, c.merged_into`

// contactSelect returns the select list with the related-item summaries.
func contactSelect(d query.Dialect) string {
	agg := func(expr string) string {
		if d == query.Postgres {
			return "string_agg(" + expr + "::text, ',')"
		}
		return "group_concat(" + expr + ", ',')"
	}
	return contactCols + `,
 (SELECT count(*) FROM contact_tags t WHERE t.workspace_id = c.workspace_id AND t.contact_id = c.id),
 (SELECT ` + agg("x.tag_id") + ` FROM (SELECT tag_id FROM contact_tags t WHERE t.workspace_id = c.workspace_id AND t.contact_id = c.id ORDER BY tag_id LIMIT 10) x),
 (SELECT count(*) FROM company_contacts cc WHERE cc.workspace_id = c.workspace_id AND cc.contact_id = c.id),
 (SELECT ` + agg("x.company_id") + ` FROM (SELECT company_id FROM company_contacts cc WHERE cc.workspace_id = c.workspace_id AND cc.contact_id = c.id ORDER BY company_id LIMIT 10) x),
 (SELECT count(*) FROM notes n WHERE n.workspace_id = c.workspace_id AND n.contact_id = c.id),
 (SELECT ` + agg("x.id") + ` FROM (SELECT id FROM notes n WHERE n.workspace_id = c.workspace_id AND n.contact_id = c.id ORDER BY id DESC LIMIT 10) x)`
}

// ContactSelect is the select list (over contacts aliased c) that
// ScanContact reads; search queries elsewhere use it.
func ContactSelect(d query.Dialect) string { return contactSelect(d) }

// ScanContact scans one row selected with ContactSelect.
func ScanContact(row interface{ Scan(...any) error }) (*contact.Contact, error) {
	c := &contact.Contact{}
	var custom []byte
	var tagIDs, companyIDs, noteIDs *string
	err := row.Scan(&c.WorkspaceID, &c.ID, &c.Role, &c.ExternalID, &c.Email, &c.Phone, &c.Name, &c.Avatar, &c.OwnerID,
		&c.HasHardBounced, &c.MarkedEmailAsSpam, &c.UnsubscribedFromEmails, &c.CreatedAt, &c.UpdatedAt,
		&c.SignedUpAt, &c.LastSeenAt, &c.LastRepliedAt, &c.LastContactedAt, &c.LastEmailOpenedAt, &c.LastEmailClickedAt,
		&c.LanguageOverride, &c.Browser, &c.BrowserVersion, &c.BrowserLanguage, &c.OS,
		&c.Country, &c.Region, &c.City, &custom, &c.Archived, &c.Blocked, &c.MergedInto,
		&c.TagCount, &tagIDs, &c.CompanyCount, &companyIDs, &c.NoteCount, &noteIDs)
	if err != nil {
		return nil, mapErr(err)
	}
	if err := decodeCustom(custom, &c.CustomAttributes); err != nil {
		return nil, err
	}
	c.TagIDs = splitInts(tagIDs)
	c.NoteIDs = splitInts(noteIDs)
	if companyIDs != nil && *companyIDs != "" {
		c.CompanyIDs = strings.Split(*companyIDs, ",")
	}
	return c, nil
}

// decodeCustom decodes stored custom attributes, keeping integers as int64.
func decodeCustom(b []byte, out *map[string]any) error {
	m := map[string]any{}
	if len(b) > 0 {
		dec := json.NewDecoder(strings.NewReader(string(b)))
		dec.UseNumber()
		if err := dec.Decode(&m); err != nil {
			return fmt.Errorf("decode custom attributes: %w", err)
		}
	}
	for k, v := range m {
		if n, ok := v.(json.Number); ok {
			if i, err := n.Int64(); err == nil && !strings.ContainsAny(n.String(), ".eE") {
				m[k] = i
			} else if f, err := n.Float64(); err == nil {
				m[k] = f
			}
		}
	}
	*out = m
	return nil
}

func splitInts(s *string) []int64 {
	if s == nil || *s == "" {
		return nil
	}
	parts := strings.Split(*s, ",")
	out := make([]int64, 0, len(parts))
	for _, p := range parts {
		if n, err := strconv.ParseInt(p, 10, 64); err == nil {
			out = append(out, n)
		}
	}
	return out
}

func (s *Contacts) getIn(ctx context.Context, r Runner, workspaceID, id string) (*contact.Contact, error) {
	return ScanContact(r.QueryRow(ctx, `SELECT `+contactSelect(r.Dialect())+` FROM contacts c WHERE c.workspace_id = ? AND c.id = ? AND c.merged_into IS NULL`, workspaceID, id))
}

// GetIn loads a contact inside a transaction (or on any runner).
func (s *Contacts) GetIn(ctx context.Context, r Runner, workspaceID, id string) (*contact.Contact, error) {
	return s.getIn(ctx, r, workspaceID, id)
}

// Get implements contact.Store. Merged contacts are not found.
func (s *Contacts) Get(ctx context.Context, workspaceID, id string) (*contact.Contact, error) {
	return s.getIn(ctx, s.db.Read(), workspaceID, id)
}

// ByExternalID implements contact.Store.
func (s *Contacts) ByExternalID(ctx context.Context, workspaceID, externalID string) (*contact.Contact, error) {
	r := s.db.Read()
	return ScanContact(r.QueryRow(ctx, `SELECT `+contactSelect(r.Dialect())+` FROM contacts c WHERE c.workspace_id = ? AND c.external_id = ? AND c.merged_into IS NULL`, workspaceID, externalID))
}

// ByEmail implements contact.Store: the user with that email, else the
// most recent lead.
func (s *Contacts) ByEmail(ctx context.Context, workspaceID, email string) (*contact.Contact, error) {
	r := s.db.Read()
	return ScanContact(r.QueryRow(ctx, `SELECT `+contactSelect(r.Dialect())+` FROM contacts c WHERE c.workspace_id = ? AND c.email = ? AND c.merged_into IS NULL ORDER BY CASE WHEN c.role = 'user' THEN 0 ELSE 1 END, c.id DESC LIMIT 1`, workspaceID, email))
}

func encodeCustom(m map[string]any) string {
	if len(m) == 0 {
		return "{}"
	}
	b, _ := json.Marshal(m)
	return string(b)
}

// conflicts selects the contacts a write of c would break Intercom's
// uniqueness rules with: the same external_id in the workspace, or the same
// email among users (NULL matches nothing); uniqueArgs are its arguments.
// The ids of the email rule come from the email index: with role and
// merged_into in the same WHERE, SQLite without fresh statistics scans the
// workspace by primary key instead (quadratic imports).
const conflicts = `SELECT x.id FROM contacts x WHERE x.workspace_id = ? AND x.external_id = ? AND x.id <> ? AND x.merged_into IS NULL
 UNION ALL
 SELECT x.id FROM contacts x WHERE x.workspace_id = ? AND x.id IN (SELECT e.id FROM contacts e WHERE e.workspace_id = ? AND e.email = ?)
 AND x.role = 'user' AND x.id <> ? AND x.merged_into IS NULL`

// uniqueGuard makes the rules a condition of the write itself, so the usual
// write, which conflicts with nothing, costs one statement; a write the
// guard stopped asks guardStopped which contact it conflicts with.
const uniqueGuard = ` NOT EXISTS (` + conflicts + `)`

func uniqueArgs(c *contact.Contact) []any {
	var email *string
	if c.Role == contact.RoleUser {
		email = c.Email
	}
	return []any{c.WorkspaceID, c.ExternalID, c.ID, c.WorkspaceID, c.WorkspaceID, email, c.ID}
}

// guardStopped explains a guarded write that changed nothing: a
// *ConflictError naming the contact it conflicts with, else notFound
// (errRetry when the conflicting contact went away between the two
// statements, ErrNotFound or errRoleMoved for an update).
func guardStopped(ctx context.Context, tx *Tx, c *contact.Contact, notFound error) error {
	var existing string
	err := tx.QueryRow(ctx, conflicts+` LIMIT 1`, uniqueArgs(c)...).Scan(&existing)
	if err == nil {
		return &ConflictError{ExistingID: existing, Message: "A contact matching those details already exists with id=" + existing}
	}
	if err = mapErr(err); !errors.Is(err, ErrNotFound) {
		return err
	}
	return notFound
}

func contactArgs(c *contact.Contact) []any {
	return []any{c.Role, c.ExternalID, c.Email, c.Phone, c.Name, c.Avatar, c.OwnerID,
		c.HasHardBounced, c.MarkedEmailAsSpam, c.UnsubscribedFromEmails, c.UpdatedAt,
		c.SignedUpAt, c.LastSeenAt, c.LastRepliedAt, c.LastContactedAt, c.LastEmailOpenedAt, c.LastEmailClickedAt,
		c.LanguageOverride, c.Browser, c.BrowserVersion, c.BrowserLanguage, c.OS,
		c.Country, c.Region, c.City, encodeCustom(c.CustomAttributes)}
}

const contactWriteCols = `role, external_id, email, phone, name, avatar, owner_id,
 has_hard_bounced, marked_email_as_spam, unsubscribed_from_emails, updated_at,
 signed_up_at, last_seen_at, last_replied_at, last_contacted_at, last_email_opened_at, last_email_clicked_at,
 language_override, browser, browser_version, browser_language, os,
 location_country, location_region, location_city, custom_attributes`

// CreateIn inserts c inside tx and appends contact.<role>.created.
func (s *Contacts) CreateIn(ctx context.Context, tx *Tx, c *contact.Contact) error {
	now := time.Now().Unix()
	if c.CreatedAt == 0 {
		c.CreatedAt = now
	}
	if c.UpdatedAt == 0 {
		c.UpdatedAt = c.CreatedAt
	}
	for attempt := 0; ; attempt++ {
		res, err := tx.Exec(ctx, `INSERT INTO contacts (workspace_id, id, created_at, `+contactWriteCols+`)
 SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?`+castCustom(tx)+` WHERE`+uniqueGuard,
			slices.Concat([]any{c.WorkspaceID, c.ID, c.CreatedAt}, contactArgs(c), uniqueArgs(c))...)
		if err != nil {
			if errors.Is(err, ErrConflict) {
				return &ConflictError{Message: "A contact matching those details already exists"}
			}
			return err
		}
		if n, _ := res.RowsAffected(); n == 1 {
			break
		}
		if err := guardStopped(ctx, tx, c, errRetry); !errors.Is(err, errRetry) || attempt > 0 {
			return err
		}
	}
	_, err := eventlog.Append(ctx, tx, c.WorkspaceID, c.Topic("created"), c)
	return err
}

// errRetry: a guarded write was stopped by a conflict that is gone.
var errRetry = errors.New("store: the conflicting contact went away; write again")

// castCustom types the last argument of a contact row selected rather than
// inserted by VALUES: PostgreSQL infers a SELECT's parameters as text.
func castCustom(tx *Tx) string {
	if tx.Dialect() == query.Postgres {
		return "::jsonb"
	}
	return ""
}

// Create implements contact.Store.
func (s *Contacts) Create(ctx context.Context, c *contact.Contact) error {
	return s.db.InTx(ctx, func(tx *Tx) error { return s.CreateIn(ctx, tx, c) })
}

// UpdateIn saves c inside tx and appends its update event (and
// contact.lead.signed_up when a lead becomes a user).
func (s *Contacts) UpdateIn(ctx context.Context, tx *Tx, c *contact.Contact, previousRole string) error {
	return s.updateIn(ctx, tx, c, previousRole, false)
}

// errRoleMoved: the contact's role is no longer the one it was loaded with.
var errRoleMoved = errors.New("store: role changed since the contact was loaded")

// updateIn saves c. With guard, the row is changed only if its role is
// still previousRole (errRoleMoved otherwise), which saves reading it first.
func (s *Contacts) updateIn(ctx context.Context, tx *Tx, c *contact.Contact, previousRole string, guard bool) error {
	c.UpdatedAt = time.Now().Unix()
	q := `UPDATE contacts SET (` + contactWriteCols + `) =
 (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
 WHERE workspace_id = ? AND id = ? AND merged_into IS NULL`
	args := append(contactArgs(c), c.WorkspaceID, c.ID)
	if guard {
		q += ` AND role = ?`
		args = append(args, previousRole)
	}
	q += ` AND` + uniqueGuard
	args = append(args, uniqueArgs(c)...)
	res, err := tx.Exec(ctx, q, args...)
	if err != nil {
		if errors.Is(err, ErrConflict) {
			return &ConflictError{Message: "A contact matching those details already exists"}
		}
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		stopped := ErrNotFound
		if guard {
			stopped = errRoleMoved
		}
		return guardStopped(ctx, tx, c, stopped)
	}
	// c is rendered as it stands: the caller loaded it (with its tags,
	// companies and notes) in this request; re-reading it here would cost
	// the single SQLite writer a quarter of its time.
	topic := c.Topic("updated")
	if previousRole == contact.RoleLead && c.Role == contact.RoleUser {
		topic = "contact.lead.signed_up"
	}
	_, err = eventlog.Append(ctx, tx, c.WorkspaceID, topic, c)
	return err
}

// Update implements contact.Store: loadedRole is the role c had when it
// was loaded, which decides the event (a lead becoming a user signs up).
// If the role moved meanwhile, the stored one is read and used instead.
func (s *Contacts) Update(ctx context.Context, c *contact.Contact, loadedRole string) error {
	return s.db.InTx(ctx, func(tx *Tx) error {
		err := s.updateIn(ctx, tx, c, loadedRole, true)
		if !errors.Is(err, errRoleMoved) {
			return err
		}
		var prev string
		if err := tx.QueryRow(ctx, `SELECT role FROM contacts WHERE workspace_id = ? AND id = ? AND merged_into IS NULL`, c.WorkspaceID, c.ID).Scan(&prev); err != nil {
			return mapErr(err)
		}
		return s.UpdateIn(ctx, tx, c, prev)
	})
}

func deleteContactRows(ctx context.Context, tx *Tx, workspaceID, id string) error {
	for _, q := range []string{
		`DELETE FROM contact_tags WHERE workspace_id = ? AND contact_id = ?`,
		`DELETE FROM company_contacts WHERE workspace_id = ? AND contact_id = ?`,
		`DELETE FROM notes WHERE workspace_id = ? AND contact_id = ?`,
		`DELETE FROM data_events WHERE workspace_id = ? AND contact_id = ?`,
		`DELETE FROM contacts WHERE workspace_id = ? AND id = ?`,
	} {
		if _, err := tx.Exec(ctx, q, workspaceID, id); err != nil {
			return err
		}
	}
	return nil
}

// Delete implements contact.Store.
func (s *Contacts) Delete(ctx context.Context, workspaceID, id string) (*contact.Contact, error) {
	var c *contact.Contact
	err := s.db.InTx(ctx, func(tx *Tx) (err error) {
		if c, err = s.getIn(ctx, tx, workspaceID, id); err != nil {
			return err
		}
		if err := deleteContactRows(ctx, tx, workspaceID, id); err != nil {
			return err
		}
		_, err = eventlog.Append(ctx, tx, workspaceID, "contact.deleted", c.Reference("deleted"))
		return err
	})
	return c, err
}

// SetArchived implements contact.Store.
func (s *Contacts) SetArchived(ctx context.Context, workspaceID, id string, archived bool) (*contact.Contact, error) {
	var c *contact.Contact
	err := s.db.InTx(ctx, func(tx *Tx) (err error) {
		if _, err := tx.Exec(ctx, `UPDATE contacts SET archived = ?, updated_at = ? WHERE workspace_id = ? AND id = ? AND merged_into IS NULL`, archived, time.Now().Unix(), workspaceID, id); err != nil {
			return err
		}
		if c, err = s.getIn(ctx, tx, workspaceID, id); err != nil {
			return err
		}
		topic, flag := "contact.archived", "archived"
		if !archived {
			topic, flag = "contact.unarchived", ""
		}
		ref := c.Reference(flag)
		if !archived {
			ref["archived"] = false
		}
		_, err = eventlog.Append(ctx, tx, workspaceID, topic, ref)
		return err
	})
	return c, err
}

// Block implements contact.Store.
func (s *Contacts) Block(ctx context.Context, workspaceID, id string) (*contact.Contact, error) {
	var c *contact.Contact
	err := s.db.InTx(ctx, func(tx *Tx) (err error) {
		if _, err := tx.Exec(ctx, `UPDATE contacts SET blocked = ?, updated_at = ? WHERE workspace_id = ? AND id = ? AND merged_into IS NULL`, true, time.Now().Unix(), workspaceID, id); err != nil {
			return err
		}
		if c, err = s.getIn(ctx, tx, workspaceID, id); err != nil {
			return err
		}
		_, err = eventlog.Append(ctx, tx, workspaceID, "contact.blocked", c.Reference("blocked"))
		return err
	})
	return c, err
}

// MergeError explains why two contacts cannot be merged.
type MergeError struct{ Message string }

func (e *MergeError) Error() string { return e.Message }
func (e *MergeError) Unwrap() error { return ErrInvalid }

// Merge implements contact.Store: the lead's tags, companies, notes, events
// and empty attributes move to the user; the lead is marked merged.
func (s *Contacts) Merge(ctx context.Context, workspaceID, from, into string) (*contact.Contact, error) {
	var user *contact.Contact
	err := s.db.InTx(ctx, func(tx *Tx) error {
		var err error
		user, err = s.MergeIn(ctx, tx, workspaceID, from, into)
		return err
	})
	return user, err
}

// MergeIn merges the lead from into the user into inside tx (see Merge).
// The lead's conversations move to the user too (the Messenger: a visitor
// who wrote, then signed in).
func (s *Contacts) MergeIn(ctx context.Context, tx *Tx, workspaceID, from, into string) (*contact.Contact, error) {
	var user *contact.Contact
	err := func() error {
		lead, err := s.getIn(ctx, tx, workspaceID, from)
		if err != nil {
			return &MergeError{Message: "Contact to merge from (" + from + ") not found"}
		}
		if user, err = s.getIn(ctx, tx, workspaceID, into); err != nil {
			return &MergeError{Message: "Contact to merge into (" + into + ") not found"}
		}
		if lead.Role != contact.RoleLead {
			return &MergeError{Message: "Only a lead can be merged; " + from + " is a " + lead.Role}
		}
		if user.Role != contact.RoleUser {
			return &MergeError{Message: "Contacts can only be merged into a user; " + into + " is a " + user.Role}
		}
		if lead.ID == user.ID {
			return &MergeError{Message: "A contact cannot be merged into itself"}
		}
		now := time.Now().Unix()
		for _, q := range []string{
			`INSERT INTO contact_tags (workspace_id, contact_id, tag_id, created_at) SELECT workspace_id, ?, tag_id, created_at FROM contact_tags l WHERE l.workspace_id = ? AND l.contact_id = ? AND NOT EXISTS (SELECT 1 FROM contact_tags u WHERE u.workspace_id = l.workspace_id AND u.contact_id = ? AND u.tag_id = l.tag_id)`,
			`INSERT INTO company_contacts (workspace_id, contact_id, company_id, created_at) SELECT workspace_id, ?, company_id, created_at FROM company_contacts l WHERE l.workspace_id = ? AND l.contact_id = ? AND NOT EXISTS (SELECT 1 FROM company_contacts u WHERE u.workspace_id = l.workspace_id AND u.contact_id = ? AND u.company_id = l.company_id)`,
			`INSERT INTO data_events (workspace_id, contact_id, event_name, created_at, metadata) SELECT workspace_id, ?, event_name, created_at, metadata FROM data_events l WHERE l.workspace_id = ? AND l.contact_id = ? AND NOT EXISTS (SELECT 1 FROM data_events u WHERE u.workspace_id = l.workspace_id AND u.contact_id = ? AND u.event_name = l.event_name AND u.created_at = l.created_at)`,
		} {
			if _, err := tx.Exec(ctx, q, user.ID, workspaceID, lead.ID, user.ID); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `UPDATE notes SET contact_id = ? WHERE workspace_id = ? AND contact_id = ?`, user.ID, workspaceID, lead.ID); err != nil {
			return err
		}
		// Conversations: the user takes the lead's place, unless already a
		// participant.
		if _, err := tx.Exec(ctx, `UPDATE conversation_contacts SET contact_id = ? WHERE workspace_id = ? AND contact_id = ?
 AND NOT EXISTS (SELECT 1 FROM conversation_contacts u WHERE u.workspace_id = conversation_contacts.workspace_id
 AND u.conversation_id = conversation_contacts.conversation_id AND u.contact_id = ?)`, user.ID, workspaceID, lead.ID, user.ID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM conversation_contacts WHERE workspace_id = ? AND contact_id = ?`, workspaceID, lead.ID); err != nil {
			return err
		}
		for _, q := range []string{
			`DELETE FROM contact_tags WHERE workspace_id = ? AND contact_id = ?`,
			`DELETE FROM company_contacts WHERE workspace_id = ? AND contact_id = ?`,
			`DELETE FROM data_events WHERE workspace_id = ? AND contact_id = ?`,
		} {
			if _, err := tx.Exec(ctx, q, workspaceID, lead.ID); err != nil {
				return err
			}
		}
		// The user's tags, companies and notes now include the lead's.
		moved, err := s.getIn(ctx, tx, workspaceID, user.ID)
		if err != nil {
			return err
		}
		user.TagIDs, user.TagCount = moved.TagIDs, moved.TagCount
		user.CompanyIDs, user.CompanyCount = moved.CompanyIDs, moved.CompanyCount
		user.NoteIDs, user.NoteCount = moved.NoteIDs, moved.NoteCount
		// Attributes the user lacks are taken from the lead.
		fill := func(dst **string, src *string) {
			if *dst == nil && src != nil {
				*dst = src
			}
		}
		fill(&user.Name, lead.Name)
		fill(&user.Phone, lead.Phone)
		fill(&user.Avatar, lead.Avatar)
		fill(&user.Country, lead.Country)
		fill(&user.Region, lead.Region)
		fill(&user.City, lead.City)
		if user.Email == nil && lead.Email != nil {
			user.Email = lead.Email
		}
		if user.CustomAttributes == nil {
			user.CustomAttributes = map[string]any{}
		}
		for k, v := range lead.CustomAttributes {
			if _, ok := user.CustomAttributes[k]; !ok {
				user.CustomAttributes[k] = v
			}
		}
		if _, err := tx.Exec(ctx, `UPDATE contacts SET merged_into = ?, external_id = NULL, updated_at = ? WHERE workspace_id = ? AND id = ?`, user.ID, now, workspaceID, lead.ID); err != nil {
			return err
		}
		if err := s.UpdateIn(ctx, tx, user, user.Role); err != nil {
			return err
		}
		_, err = eventlog.Append(ctx, tx, workspaceID, "contact.merged", map[string]any{"type": "contact_merge", "from": lead.Reference(""), "into": user.Reference("")})
		return err
	}()
	return user, err
}

// List implements contact.Store: live (not archived, not merged) contacts.
func (s *Contacts) List(ctx context.Context, workspaceID string, after string, limit int) ([]*contact.Contact, int, error) {
	r := s.db.Read()
	var total int
	if err := r.QueryRow(ctx, `SELECT count(*) FROM contacts WHERE workspace_id = ? AND archived = ? AND merged_into IS NULL`, workspaceID, false).Scan(&total); err != nil {
		return nil, 0, mapErr(err)
	}
	rows, err := r.Query(ctx, `SELECT `+contactSelect(r.Dialect())+` FROM contacts c WHERE c.workspace_id = ? AND c.archived = ? AND c.merged_into IS NULL AND c.id > ? ORDER BY c.id LIMIT ?`, workspaceID, false, after, limit)
	if err != nil {
		return nil, 0, err
	}
	out, err := scanContacts(rows)
	return out, total, err
}

// scanContacts reads every row selected with ContactSelect and closes rows.
func scanContacts(rows *sql.Rows) ([]*contact.Contact, error) {
	defer rows.Close()
	var out []*contact.Contact
	for rows.Next() {
		c, err := ScanContact(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, mapErr(rows.Err())
}
