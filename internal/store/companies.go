package store

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/parleyhq/parley/internal/company"
	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/eventlog"
	"github.com/parleyhq/parley/internal/ids"
)

// MissingError says which of the items a request names does not exist
// (contact, company, tag, admin, …), so that the API can answer with the
// right error code.
type MissingError struct{ Kind string }

func (e *MissingError) Error() string { return e.Kind + " not found" }
func (e *MissingError) Unwrap() error { return ErrNotFound }

// IsMissing reports whether err says that an item of kind does not exist.
func IsMissing(err error, kind string) bool {
	var me *MissingError
	return errors.As(err, &me) && me.Kind == kind
}

// MaxCompaniesPerContact is how many companies one contact may belong to
// (Intercom: 1000).
const MaxCompaniesPerContact = 1000

// ErrCompanyLimit is returned when attaching a contact to one more company
// than MaxCompaniesPerContact.
var ErrCompanyLimit = errors.New("contact has reached the maximum of 1000 company associations")

// Companies is the SQL store of companies and their contacts.
type Companies struct {
	db       *DB
	contacts *Contacts
}

// NewCompanies returns the company store.
func NewCompanies(db *DB) *Companies { return &Companies{db: db, contacts: NewContacts(db)} }

const companyCols = `c.workspace_id, c.id, c.company_id, c.name, c.plan, c.size, c.website, c.industry,
 c.monthly_spend, c.session_count, c.remote_created_at, c.last_request_at, c.created_at, c.updated_at, c.custom_attributes,
 (SELECT count(*) FROM company_contacts cc WHERE cc.workspace_id = c.workspace_id AND cc.company_id = c.id)`

func scanCompany(row interface{ Scan(...any) error }) (*company.Company, error) {
	c := &company.Company{}
	var custom []byte
	err := row.Scan(&c.WorkspaceID, &c.ID, &c.CompanyID, &c.Name, &c.Plan, &c.Size, &c.Website, &c.Industry,
		&c.MonthlySpend, &c.SessionCount, &c.RemoteCreatedAt, &c.LastRequestAt, &c.CreatedAt, &c.UpdatedAt, &custom, &c.UserCount)
	if err != nil {
		return nil, mapErr(err)
	}
	if err := decodeCustom(custom, &c.CustomAttributes); err != nil {
		return nil, err
	}
	return c, nil
}

// queryCompanies runs a query selecting companyCols and loads their tags.
func queryCompanies(ctx context.Context, r Runner, workspaceID, q string, args ...any) ([]*company.Company, error) {
	rows, err := r.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	var out []*company.Company
	for rows.Next() {
		c, err := scanCompany(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, c)
	}
	err = mapErr(rows.Err())
	rows.Close()
	if err != nil {
		return nil, err
	}
	if err := loadCompanyTags(ctx, r, workspaceID, out); err != nil {
		return nil, err
	}
	return out, nil
}

func queryCompany(ctx context.Context, r Runner, workspaceID, q string, args ...any) (*company.Company, error) {
	list, err := queryCompanies(ctx, r, workspaceID, q, args...)
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, ErrNotFound
	}
	return list[0], nil
}

// loadCompanyTags fills the Tags of the given companies (one query).
func loadCompanyTags(ctx context.Context, r Runner, workspaceID string, cs []*company.Company) error {
	if len(cs) == 0 {
		return nil
	}
	byID := make(map[string]*company.Company, len(cs))
	args := []any{workspaceID}
	for _, c := range cs {
		c.Tags = []company.Tag{}
		byID[c.ID] = c
		args = append(args, c.ID)
	}
	rows, err := r.Query(ctx, `SELECT ct.company_id, t.id, t.name FROM company_tags ct
 JOIN tags t ON t.workspace_id = ct.workspace_id AND t.id = ct.tag_id
 WHERE ct.workspace_id = ? AND ct.company_id IN (?`+strings.Repeat(", ?", len(cs)-1)+`) ORDER BY t.id`, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var cid string
		var t company.Tag
		if err := rows.Scan(&cid, &t.ID, &t.Name); err != nil {
			return mapErr(err)
		}
		if c := byID[cid]; c != nil {
			c.Tags = append(c.Tags, t)
		}
	}
	return mapErr(rows.Err())
}

// GetIn loads a company by Parley id on any runner.
func (s *Companies) GetIn(ctx context.Context, r Runner, workspaceID, id string) (*company.Company, error) {
	return queryCompany(ctx, r, workspaceID, `SELECT `+companyCols+` FROM companies c WHERE c.workspace_id = ? AND c.id = ?`, workspaceID, id)
}

// Get loads a company by Parley id.
func (s *Companies) Get(ctx context.Context, workspaceID, id string) (*company.Company, error) {
	return s.GetIn(ctx, s.db.Read(), workspaceID, id)
}

func (s *Companies) byCompanyIDIn(ctx context.Context, r Runner, workspaceID, companyID string) (*company.Company, error) {
	return queryCompany(ctx, r, workspaceID, `SELECT `+companyCols+` FROM companies c WHERE c.workspace_id = ? AND c.company_id = ?`, workspaceID, companyID)
}

// ByCompanyID loads a company by the id the workspace gave it.
func (s *Companies) ByCompanyID(ctx context.Context, workspaceID, companyID string) (*company.Company, error) {
	return s.byCompanyIDIn(ctx, s.db.Read(), workspaceID, companyID)
}

// ByName loads the oldest company with exactly this name.
func (s *Companies) ByName(ctx context.Context, workspaceID, name string) (*company.Company, error) {
	return queryCompany(ctx, s.db.Read(), workspaceID, `SELECT `+companyCols+` FROM companies c WHERE c.workspace_id = ? AND c.name = ? ORDER BY c.created_at, c.id LIMIT 1`, workspaceID, name)
}

func companyArgs(c *company.Company) []any {
	return []any{c.CompanyID, c.Name, c.Plan, c.Size, c.Website, c.Industry, c.MonthlySpend, c.SessionCount,
		c.RemoteCreatedAt, c.LastRequestAt, c.UpdatedAt, encodeCustom(c.CustomAttributes)}
}

const companyWriteCols = `company_id, name, plan, size, website, industry, monthly_spend, session_count,
 remote_created_at, last_request_at, updated_at, custom_attributes`

func (s *Companies) insertIn(ctx context.Context, tx *Tx, c *company.Company) error {
	_, err := tx.Exec(ctx, `INSERT INTO companies (workspace_id, id, created_at, `+companyWriteCols+`)
 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, append([]any{c.WorkspaceID, c.ID, c.CreatedAt}, companyArgs(c)...)...)
	if err != nil {
		if errors.Is(err, ErrConflict) {
			return &ConflictError{Message: "A company with company_id " + c.CompanyID + " already exists"}
		}
		return err
	}
	return nil
}

// saveIn writes c (already changed) and appends company.updated, unless c
// shows the same values as before, in which case nothing is written.
func (s *Companies) saveIn(ctx context.Context, tx *Tx, before, c *company.Company) error {
	if company.Same(before, c) {
		*c = *before
		return nil
	}
	c.UpdatedAt = time.Now().Unix()
	res, err := tx.Exec(ctx, `UPDATE companies SET (`+companyWriteCols+`) = (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
 WHERE workspace_id = ? AND id = ?`, append(companyArgs(c), c.WorkspaceID, c.ID)...)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	fresh, err := s.GetIn(ctx, tx, c.WorkspaceID, c.ID)
	if err != nil {
		return err
	}
	*c = *fresh
	_, err = eventlog.Append(ctx, tx, c.WorkspaceID, "company.updated", c)
	return err
}

// Upsert finds the company with companyID (creating it when there is none),
// lets apply change it and saves it in one transaction, appending
// company.created or company.updated (nothing when nothing changed). apply
// must only validate and assign; when it fails nothing is written.
func (s *Companies) Upsert(ctx context.Context, workspaceID, companyID string, apply func(c *company.Company, created bool) error) (*company.Company, bool, error) {
	var out *company.Company
	var created bool
	var err error
	for attempt := 0; attempt < 2; attempt++ {
		err = s.db.InTx(ctx, func(tx *Tx) error {
			existing, err := s.byCompanyIDIn(ctx, tx, workspaceID, companyID)
			if err != nil && !errors.Is(err, ErrNotFound) {
				return err
			}
			if existing != nil {
				created = false
				c := existing.Clone()
				if err := apply(c, false); err != nil {
					return err
				}
				c.WorkspaceID, c.ID, c.CompanyID = existing.WorkspaceID, existing.ID, existing.CompanyID
				if err := s.saveIn(ctx, tx, existing, c); err != nil {
					return err
				}
				out = c
				return nil
			}
			created = true
			now := time.Now().Unix()
			c := &company.Company{WorkspaceID: workspaceID, ID: ids.New(), CompanyID: companyID, CreatedAt: now, UpdatedAt: now,
				CustomAttributes: map[string]any{}}
			if err := apply(c, true); err != nil {
				return err
			}
			c.WorkspaceID, c.CompanyID = workspaceID, companyID
			if err := s.insertIn(ctx, tx, c); err != nil {
				return err
			}
			fresh, err := s.GetIn(ctx, tx, workspaceID, c.ID)
			if err != nil {
				return err
			}
			out = fresh
			_, err = eventlog.Append(ctx, tx, workspaceID, "company.created", fresh)
			return err
		})
		// A concurrent create of the same company_id (PostgreSQL): try again,
		// this time as an update.
		if err == nil || !errors.Is(err, ErrConflict) {
			break
		}
	}
	if err != nil {
		return nil, false, err
	}
	return out, created, nil
}

// Update lets apply change the company with Parley id id and saves it,
// appending company.updated when something changed.
func (s *Companies) Update(ctx context.Context, workspaceID, id string, apply func(c *company.Company) error) (*company.Company, error) {
	var out *company.Company
	err := s.db.InTx(ctx, func(tx *Tx) error {
		existing, err := s.GetIn(ctx, tx, workspaceID, id)
		if err != nil {
			return err
		}
		c := existing.Clone()
		if err := apply(c); err != nil {
			return err
		}
		c.WorkspaceID, c.ID, c.CompanyID = existing.WorkspaceID, existing.ID, existing.CompanyID
		if err := s.saveIn(ctx, tx, existing, c); err != nil {
			return err
		}
		out = c
		return nil
	})
	return out, err
}

// Delete removes a company, its contact links and its tags, and appends
// company.deleted.
func (s *Companies) Delete(ctx context.Context, workspaceID, id string) (*company.Company, error) {
	var c *company.Company
	err := s.db.InTx(ctx, func(tx *Tx) (err error) {
		if c, err = s.GetIn(ctx, tx, workspaceID, id); err != nil {
			return err
		}
		for _, q := range []string{
			`DELETE FROM company_contacts WHERE workspace_id = ? AND company_id = ?`,
			`DELETE FROM company_tags WHERE workspace_id = ? AND company_id = ?`,
			`DELETE FROM companies WHERE workspace_id = ? AND id = ?`,
		} {
			if _, err := tx.Exec(ctx, q, workspaceID, id); err != nil {
				return err
			}
		}
		_, err = eventlog.Append(ctx, tx, workspaceID, "company.deleted", c.Deleted())
		return err
	})
	return c, err
}

// ListOptions select a page of companies.
type ListOptions struct {
	TagID  *int64 // only companies with this tag
	Asc    bool   // oldest activity first (default: most recent first)
	Offset int
	Limit  int
}

// List returns a page of a workspace's companies, most recently active
// first (last_request_at, or created_at for a company never seen), and the
// total number matching.
func (s *Companies) List(ctx context.Context, workspaceID string, o ListOptions) ([]*company.Company, int, error) {
	r := s.db.Read()
	where := ` WHERE c.workspace_id = ?`
	args := []any{workspaceID}
	if o.TagID != nil {
		where += ` AND EXISTS (SELECT 1 FROM company_tags ct WHERE ct.workspace_id = c.workspace_id AND ct.company_id = c.id AND ct.tag_id = ?)`
		args = append(args, *o.TagID)
	}
	var total int
	if err := r.QueryRow(ctx, `SELECT count(*) FROM companies c`+where, args...).Scan(&total); err != nil {
		return nil, 0, mapErr(err)
	}
	dir := "DESC"
	if o.Asc {
		dir = "ASC"
	}
	list, err := queryCompanies(ctx, r, workspaceID, `SELECT `+companyCols+` FROM companies c`+where+
		` ORDER BY COALESCE(c.last_request_at, c.created_at) `+dir+`, c.id `+dir+` LIMIT ? OFFSET ?`,
		append(args, o.Limit, o.Offset)...)
	return list, total, err
}

// Scroll returns up to limit companies with id > after in id order, and
// the total number of companies.
func (s *Companies) Scroll(ctx context.Context, workspaceID, after string, limit int) ([]*company.Company, int, error) {
	r := s.db.Read()
	var total int
	if err := r.QueryRow(ctx, `SELECT count(*) FROM companies WHERE workspace_id = ?`, workspaceID).Scan(&total); err != nil {
		return nil, 0, mapErr(err)
	}
	list, err := queryCompanies(ctx, r, workspaceID, `SELECT `+companyCols+` FROM companies c WHERE c.workspace_id = ? AND c.id > ? ORDER BY c.id LIMIT ?`, workspaceID, after, limit)
	return list, total, err
}

// Contacts returns up to limit contacts of a company with id > after in id
// order, and their total.
func (s *Companies) Contacts(ctx context.Context, workspaceID, companyID, after string, limit int) ([]*contact.Contact, int, error) {
	r := s.db.Read()
	if _, err := s.GetIn(ctx, r, workspaceID, companyID); err != nil {
		if errors.Is(err, ErrNotFound) {
			return nil, 0, &MissingError{Kind: "company"}
		}
		return nil, 0, err
	}
	const from = ` FROM contacts c JOIN company_contacts cc ON cc.workspace_id = c.workspace_id AND cc.contact_id = c.id
 WHERE cc.workspace_id = ? AND cc.company_id = ? AND c.merged_into IS NULL`
	var total int
	if err := r.QueryRow(ctx, `SELECT count(*)`+from, workspaceID, companyID).Scan(&total); err != nil {
		return nil, 0, mapErr(err)
	}
	rows, err := r.Query(ctx, `SELECT `+ContactSelect(r.Dialect())+from+` AND c.id > ? ORDER BY c.id LIMIT ?`, workspaceID, companyID, after, limit)
	if err != nil {
		return nil, 0, err
	}
	out, err := scanContacts(rows)
	return out, total, err
}

// ForContact returns a page of the companies a contact belongs to, in the
// order they were attached, and their total.
func (s *Companies) ForContact(ctx context.Context, workspaceID, contactID string, offset, limit int) ([]*company.Company, int, error) {
	r := s.db.Read()
	if _, err := s.contacts.GetIn(ctx, r, workspaceID, contactID); err != nil {
		if errors.Is(err, ErrNotFound) {
			return nil, 0, &MissingError{Kind: "contact"}
		}
		return nil, 0, err
	}
	const from = ` FROM companies c JOIN company_contacts l ON l.workspace_id = c.workspace_id AND l.company_id = c.id
 WHERE l.workspace_id = ? AND l.contact_id = ?`
	var total int
	if err := r.QueryRow(ctx, `SELECT count(*)`+from, workspaceID, contactID).Scan(&total); err != nil {
		return nil, 0, mapErr(err)
	}
	list, err := queryCompanies(ctx, r, workspaceID, `SELECT `+companyCols+from+` ORDER BY l.created_at, c.id LIMIT ? OFFSET ?`, workspaceID, contactID, limit, offset)
	return list, total, err
}

// contactCompanyItem is the event item of company.contact.attached/detached.
func contactCompanyItem(co *company.Company, c *contact.Contact, at int64) map[string]any {
	return map[string]any{"type": "contact_company", "company": co, "contact": c, "created_at": at}
}

func (s *Companies) loadPair(ctx context.Context, tx *Tx, workspaceID, contactID, companyID string) (*contact.Contact, error) {
	c, err := s.contacts.GetIn(ctx, tx, workspaceID, contactID)
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return nil, &MissingError{Kind: "contact"}
		}
		return nil, err
	}
	if _, err := s.GetIn(ctx, tx, workspaceID, companyID); err != nil {
		if errors.Is(err, ErrNotFound) {
			return nil, &MissingError{Kind: "company"}
		}
		return nil, err
	}
	return c, nil
}

// Attach makes a contact a member of a company and appends
// company.contact.attached; attaching twice changes nothing.
func (s *Companies) Attach(ctx context.Context, workspaceID, contactID, companyID string) (*company.Company, error) {
	var out *company.Company
	err := s.db.InTx(ctx, func(tx *Tx) error {
		if _, err := s.loadPair(ctx, tx, workspaceID, contactID, companyID); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM company_contacts WHERE workspace_id = ? AND contact_id = ?`, workspaceID, contactID).Scan(&n); err != nil {
			return mapErr(err)
		}
		now := time.Now().Unix()
		res, err := tx.Exec(ctx, `INSERT INTO company_contacts (workspace_id, contact_id, company_id, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`,
			workspaceID, contactID, companyID, now)
		if err != nil {
			return err
		}
		added, _ := res.RowsAffected()
		if added > 0 && n >= MaxCompaniesPerContact {
			return ErrCompanyLimit // rolls the insert back
		}
		if out, err = s.GetIn(ctx, tx, workspaceID, companyID); err != nil {
			return err
		}
		if added == 0 {
			return nil
		}
		c, err := s.contacts.GetIn(ctx, tx, workspaceID, contactID)
		if err != nil {
			return err
		}
		_, err = eventlog.Append(ctx, tx, workspaceID, "company.contact.attached", contactCompanyItem(out, c, now))
		return err
	})
	return out, err
}

// Detach removes a contact from a company and appends
// company.contact.detached; detaching a contact that is not a member
// changes nothing.
func (s *Companies) Detach(ctx context.Context, workspaceID, contactID, companyID string) (*company.Company, error) {
	var out *company.Company
	err := s.db.InTx(ctx, func(tx *Tx) error {
		if _, err := s.loadPair(ctx, tx, workspaceID, contactID, companyID); err != nil {
			return err
		}
		res, err := tx.Exec(ctx, `DELETE FROM company_contacts WHERE workspace_id = ? AND contact_id = ? AND company_id = ?`, workspaceID, contactID, companyID)
		if err != nil {
			return err
		}
		removed, _ := res.RowsAffected()
		if out, err = s.GetIn(ctx, tx, workspaceID, companyID); err != nil {
			return err
		}
		if removed == 0 {
			return nil
		}
		c, err := s.contacts.GetIn(ctx, tx, workspaceID, contactID)
		if err != nil {
			return err
		}
		_, err = eventlog.Append(ctx, tx, workspaceID, "company.contact.detached", contactCompanyItem(out, c, time.Now().Unix()))
		return err
	})
	return out, err
}
