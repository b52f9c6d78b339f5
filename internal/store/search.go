package store

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/parleyhq/parley/internal/attribute"
	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/query"
)

// Search runs contact searches: from the in-memory search index when the
// filter suits it (see searchindex.go), otherwise as SQL.
type Search struct {
	db    *DB
	index *searchIndex
}

// NewSearch returns the contact search. indexIdle is how long the search
// index keeps a workspace (or one of its columns) no search has used; zero
// or less turns the index off, leaving every search to SQL.
func NewSearch(db *DB, indexIdle time.Duration) *Search {
	s := &Search{db: db}
	if indexIdle > 0 {
		s.index = newSearchIndex(db, indexIdle)
	}
	return s
}

// Indexed reports whether the search index currently holds the workspace
// (a search used it recently).
func (s *Search) Indexed(workspaceID string) bool {
	if s.index == nil {
		return false
	}
	s.index.mu.Lock()
	w := s.index.wss[workspaceID]
	s.index.mu.Unlock()
	if w == nil {
		return false
	}
	w.mu.RLock()
	defer w.mu.RUnlock()
	return w.built && !w.broken
}

// SearchSort orders search results: by a single-valued field (NULLs last
// in both directions), then by id in the same direction, so that the order
// is total and keyset pagination never skips or repeats a contact.
type SearchSort struct {
	Field query.Field
	Desc  bool
}

// Keyset is the position of the last contact of a page: its sort value
// (nil when absent) and id.
type Keyset struct {
	Value any
	ID    string
}

// SearchResult is one page of a search.
type SearchResult struct {
	Contacts []*contact.Contact
	// Keys are the keyset positions of Contacts.
	Keys  []Keyset
	Total int
}

// Contacts returns up to limit live (not archived, not merged) contacts of
// the workspace that match f, in sort order, after the keyset position
// (nil: from the start), and the number of all matches.
func (s *Search) Contacts(ctx context.Context, workspaceID string, f *query.Filter, sort SearchSort, after *Keyset, limit int) (*SearchResult, error) {
	r := s.db.Read()
	where, fargs := f.SQL(r.Dialect())
	base := liveContacts + ` AND ` + where
	// Clipped: page appends to its own copy while the count reads this.
	baseArgs := slices.Clip(append([]any{workspaceID, false}, fargs...))
	if s.index != nil && indexable(f) {
		ir, ok, err := s.index.search(ctx, r, workspaceID, f, sort, after, limit)
		if err != nil {
			return nil, err
		}
		if ok {
			// The index counted; it chose the page too unless the sort
			// is one only SQL orders right.
			res := &SearchResult{Total: ir.total}
			if ir.paged {
				return res, s.load(ctx, r, res, workspaceID, ir.ids, sort)
			}
			return res, s.page(ctx, r, res, workspaceID, base, baseArgs, sort, after, limit)
		}
	}

	// The total and the page are independent scans: run them side by side.
	res := &SearchResult{}
	counted := make(chan error, 1)
	go func() {
		counted <- mapErr(r.QueryRow(ctx, `SELECT count(*) FROM contacts c WHERE `+base, baseArgs...).Scan(&res.Total))
	}()
	if err := s.page(ctx, r, res, workspaceID, base, baseArgs, sort, after, limit); err != nil {
		<-counted
		return nil, err
	}
	if err := <-counted; err != nil {
		return nil, err
	}
	return res, nil
}

// page loads the contacts of one page into res.
func (s *Search) page(ctx context.Context, r *Reader, res *SearchResult, workspaceID, base string, baseArgs []any, sort SearchSort, after *Keyset, limit int) error {
	d := r.Dialect()

	// The page is chosen on ids first, then only its contacts are loaded
	// with their related-item summaries: the select list of ContactSelect
	// (correlated subqueries) is never computed for the rows the sort
	// discards.
	var id any
	if after != nil {
		id = after.ID
	}
	cond, condArgs, order, err := keysetClause(sort, d, "c.id", after, id)
	if err != nil {
		return err
	}
	page := `SELECT c.id FROM contacts c WHERE ` + base + cond
	args := append(baseArgs, condArgs...)
	page += order + ` LIMIT ?`
	args = append(args, limit)
	return s.fetch(ctx, r, res, workspaceID, page, args, sort)
}

// orderBy is the ORDER BY clause of a sort of contacts on expression e.
func orderBy(e string, desc bool) string { return orderByCol(e, "c.id", desc) }

// orderByCol is the ORDER BY clause of a sort on expression e: NULLs last
// in both directions, ties broken by the id column in the same direction.
func orderByCol(e, idCol string, desc bool) string {
	dir := " ASC"
	if desc {
		dir = " DESC"
	}
	if e == idCol {
		return ` ORDER BY ` + idCol + dir
	}
	return ` ORDER BY ` + e + dir + ` NULLS LAST, ` + idCol + dir
}

// keysetClause returns the condition (" AND …", or "" without a position)
// selecting the rows after the keyset position in sort order, its
// arguments, and the ORDER BY clause of sort, for a table whose id column
// is idCol; id is the position's id as bound against idCol.
func keysetClause(sort SearchSort, d query.Dialect, idCol string, after *Keyset, id any) (string, []any, string, error) {
	e := sort.Field.Expr[d]
	order := orderByCol(e, idCol, sort.Desc)
	if after == nil {
		return "", nil, order, nil
	}
	cmp := ">"
	if sort.Desc {
		cmp = "<"
	}
	v, err := keyValue(sort.Field.Kind, after.Value, d)
	switch {
	case err != nil:
		return "", nil, "", err
	case e == idCol:
		return ` AND ` + idCol + ` ` + cmp + ` ?`, []any{id}, order, nil
	case v == nil:
		return ` AND (` + e + ` IS NULL AND ` + idCol + ` ` + cmp + ` ?)`, []any{id}, order, nil
	}
	return ` AND ((` + e + ` ` + cmp + ` ? OR (` + e + ` = ? AND ` + idCol + ` ` + cmp + ` ?)) OR ` + e + ` IS NULL)`, []any{v, v, id}, order, nil
}

// load loads the contacts of a page the index chose, in its order.
func (s *Search) load(ctx context.Context, r *Reader, res *SearchResult, workspaceID string, ids []string, sort SearchSort) error {
	if len(ids) == 0 {
		return nil
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	return s.fetch(ctx, r, res, workspaceID, placeholders(len(ids)), args, sort)
}

// fetch loads into res, in sort order, the contacts whose ids `in` (a
// subquery or a list of placeholders, with args) yields.
func (s *Search) fetch(ctx context.Context, r *Reader, res *SearchResult, workspaceID, in string, args []any, sort SearchSort) error {
	d := r.Dialect()
	e := sort.Field.Expr[d]
	q := `SELECT ` + contactSelect(d) + `, ` + e + ` FROM contacts c WHERE c.workspace_id = ? AND c.id IN (` + in + `)` + orderBy(e, sort.Desc)
	rows, err := r.Query(ctx, q, append([]any{workspaceID}, args...)...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var key any
		c, err := ScanContact(scanExtra{rows, []any{&key}})
		if err != nil {
			return err
		}
		if b, ok := key.([]byte); ok {
			key = string(b)
		}
		res.Contacts = append(res.Contacts, c)
		res.Keys = append(res.Keys, Keyset{Value: key, ID: c.ID})
	}
	return mapErr(rows.Err())
}

// scanExtra scans a row selected with ContactSelect followed by extra
// columns.
type scanExtra struct {
	row   interface{ Scan(...any) error }
	extra []any
}

func (s scanExtra) Scan(dest ...any) error { return s.row.Scan(append(dest, s.extra...)...) }

// KeyValueError is a keyset value that does not fit the sort field (a
// forged or stale cursor).
type KeyValueError struct{ Message string }

func (e *KeyValueError) Error() string { return e.Message }
func (e *KeyValueError) Unwrap() error { return ErrInvalid }

// keyValue converts a keyset value (as decoded from JSON: string, float64,
// int64, json numbers, bool or nil) to the argument bound against the sort
// expression of a field of kind k.
func keyValue(k query.Kind, v any, d query.Dialect) (any, error) {
	if v == nil {
		return nil, nil
	}
	bad := &KeyValueError{Message: fmt.Sprintf("cursor value %v does not fit a %s field", v, k)}
	num := func() (string, bool) {
		switch n := v.(type) {
		case fmt.Stringer: // json.Number
			return n.String(), true
		case int64:
			return strconv.FormatInt(n, 10), true
		case float64:
			return strconv.FormatFloat(n, 'g', -1, 64), true
		}
		return "", false
	}
	switch k {
	case query.String, query.ID:
		if s, ok := v.(string); ok {
			return s, nil
		}
	case query.Integer, query.Date, query.DateTime:
		if s, ok := num(); ok {
			if i, err := strconv.ParseInt(s, 10, 64); err == nil {
				return i, nil
			}
		}
	case query.Float:
		if s, ok := num(); ok {
			if f, err := strconv.ParseFloat(s, 64); err == nil {
				return f, nil
			}
		}
	case query.Boolean:
		b, ok := v.(bool)
		if !ok {
			if s, isNum := num(); isNum && (s == "0" || s == "1") {
				b, ok = s == "1", true
			}
		}
		if ok {
			if d == query.Postgres {
				return b, nil
			}
			return map[bool]int64{false: 0, true: 1}[b], nil
		}
	}
	return nil, bad
}

// Record loads a contact with its tags and companies for in-memory
// evaluation (contact.Record). Merged contacts are not found.
func (s *Search) Record(ctx context.Context, r Runner, workspaceID, contactID string) (*contact.Record, error) {
	c, err := ScanContact(r.QueryRow(ctx, `SELECT `+contactSelect(r.Dialect())+` FROM contacts c WHERE c.workspace_id = ? AND c.id = ? AND c.merged_into IS NULL`, workspaceID, contactID))
	if err != nil {
		return nil, err
	}
	rec := &contact.Record{Contact: c}
	rows, err := r.Query(ctx, `SELECT tag_id FROM contact_tags WHERE workspace_id = ? AND contact_id = ? ORDER BY tag_id`, workspaceID, contactID)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, mapErr(err)
		}
		rec.TagIDs = append(rec.TagIDs, strconv.FormatInt(id, 10))
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, mapErr(err)
	}
	var cols []string
	for _, b := range attribute.CompanyBuiltins {
		if b.Column != "" {
			cols = append(cols, "co."+b.Column)
		}
	}
	rows, err = r.Query(ctx, `SELECT `+strings.Join(cols, ", ")+`, CAST(co.custom_attributes AS TEXT) FROM company_contacts cc
 JOIN companies co ON co.workspace_id = cc.workspace_id AND co.id = cc.company_id
 WHERE cc.workspace_id = ? AND cc.contact_id = ? ORDER BY co.id`, workspaceID, contactID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		vals := make([]any, len(cols)+1)
		dest := make([]any, len(vals))
		for i := range vals {
			dest[i] = &vals[i]
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, mapErr(err)
		}
		co := map[string]any{}
		i := 0
		for _, b := range attribute.CompanyBuiltins {
			if b.Column == "" {
				continue
			}
			v := vals[i]
			i++
			if bs, ok := v.([]byte); ok {
				v = string(bs)
			}
			if v == nil {
				continue
			}
			switch b.DataType {
			case attribute.TypeFloat:
				if n, ok := v.(int64); ok {
					v = float64(n)
				}
			case attribute.TypeBoolean:
				if n, ok := v.(int64); ok {
					v = n == 1
				}
			}
			co[b.Name] = v
		}
		var custom map[string]any
		raw := vals[len(cols)]
		if bs, ok := raw.([]byte); ok {
			raw = string(bs)
		}
		if s, ok := raw.(string); ok {
			if err := decodeCustom([]byte(s), &custom); err != nil {
				return nil, err
			}
		}
		for k, v := range custom {
			co["custom_attributes."+k] = v
		}
		rec.Companies = append(rec.Companies, co)
	}
	return rec, mapErr(rows.Err())
}
