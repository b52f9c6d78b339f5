package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/query"
	"github.com/parleyhq/parley/internal/store"
)

// Contact search: POST /contacts/search.
//
// Results exclude archived and merged contacts. Without "sort" they are
// ordered by created_at descending (newest first); "sort" accepts any
// single-valued searchable field, with "order" ascending or descending
// (default descending). Contacts without a value for the sort field come
// last in both orders; ties are broken by id, in the same direction.
// Pages are cut by keyset (the last contact's sort value and id), so deep
// pages cost no more than the first and a contact never appears twice
// while paging.
func (s *Server) searchRoutes() {
	s.search = store.NewSearch(s.db, s.opts.SearchIndexIdle)
	segments := store.NewSegments(s.db)
	s.handle("POST /contacts/search", func(w http.ResponseWriter, r *http.Request) error {
		return s.searchContacts(w, r, s.search, segments)
	})
}

// Search is the contact search (with its in-memory index) the server's
// POST /contacts/search uses, for the web app to share.
func (s *Server) Search() *store.Search { return s.search }

const (
	searchPerPage    = 50
	searchMaxPerPage = 150
)

// schemaFailure is a storage error met while resolving a query (loading a
// segment): a server error, not a bad query.
type schemaFailure struct{ err error }

func (e *schemaFailure) Error() string { return e.err.Error() }
func (e *schemaFailure) Unwrap() error { return e.err }

// contactSchema builds the filter-language schema of the caller's
// workspace: its time zone, its live custom attributes, and its segments.
func (s *Server) contactSchema(r *http.Request, segments *store.Segments) (*contact.Schema, error) {
	ctx := r.Context()
	wsID := authOf(ctx).WorkspaceID
	ws, err := s.workspaces.Workspace(ctx, wsID)
	if err != nil {
		return nil, err
	}
	attrs, err := s.attributes.Custom(ctx, wsID, "", false)
	if err != nil {
		return nil, err
	}
	load := func(id string) ([]byte, error) {
		raw, err := segments.EffectiveFilter(ctx, wsID, id)
		var qe *query.Error
		if err != nil && !errors.Is(err, store.ErrNotFound) && !errors.As(err, &qe) {
			return nil, &schemaFailure{err}
		}
		return raw, err
	}
	return contact.NewSchema(ws.Location(), attrs, load), nil
}

// parseQuery parses a filter; query errors are the client's (400), storage
// failures met on the way are the server's.
func parseQuery(raw json.RawMessage, sc query.Schema) (*query.Filter, error) {
	f, err := query.Parse(raw, sc)
	if err != nil {
		var sf *schemaFailure
		if errors.As(err, &sf) {
			return nil, sf.err
		}
		return nil, err
	}
	return f, nil
}

type searchBody struct {
	Query      json.RawMessage `json:"query"`
	Pagination *struct {
		PerPage       opt[int]    `json:"per_page"`
		StartingAfter opt[string] `json:"starting_after"`
	} `json:"pagination"`
	Sort *struct {
		Field string `json:"field"`
		Order string `json:"order"`
	} `json:"sort"`
}

// searchKey is what a search cursor's After carries: the sort it belongs to
// and the keyset position of the page's last contact.
type searchKey struct {
	Field string `json:"f"`
	Desc  bool   `json:"d,omitempty"`
	Value any    `json:"v"`
	ID    string `json:"i"`
}

// searchPage is the pagination and sort of a search request.
type searchPage struct {
	perPage   int
	sortField string
	desc      bool
	cur       cursor
	after     string // the raw starting_after ("" on the first page)
}

// page validates the query's presence, pagination and sort of a search
// body; sortField defaults to defSort, descending.
func (in *searchBody) page(defPerPage, maxPerPage int, defSort string) (*searchPage, error) {
	if q := bytes.TrimSpace(in.Query); len(q) == 0 || string(q) == "null" {
		e := errf(http.StatusBadRequest, "parameter_not_found", "query is required")
		e.Field = "query"
		return nil, e
	}
	p := &searchPage{perPage: defPerPage, sortField: defSort, desc: true}
	if pg := in.Pagination; pg != nil {
		if pg.PerPage.Set && !pg.PerPage.Null {
			if pg.PerPage.Value < 1 || pg.PerPage.Value > maxPerPage {
				return nil, fieldErr("pagination.per_page", "per_page must be between 1 and %d", maxPerPage)
			}
			p.perPage = pg.PerPage.Value
		}
		if pg.StartingAfter.Set && !pg.StartingAfter.Null {
			p.after = pg.StartingAfter.Value
		}
	}
	if in.Sort != nil {
		if in.Sort.Field == "" {
			return nil, fieldErr("sort.field", "sort.field is required")
		}
		p.sortField = in.Sort.Field
		switch in.Sort.Order {
		case "", "descending":
		case "ascending":
			p.desc = false
		default:
			e := errf(http.StatusBadRequest, "invalid_sort_order", "Invalid sort order '%s'. Must be one of: ascending, descending", in.Sort.Order)
			e.Field = "sort.order"
			return nil, e
		}
	}
	var err error
	p.cur, err = decodeCursor(p.after)
	return p, err
}

// sortErr reports a field results cannot be sorted by.
func sortErr(err error) error {
	var qe *query.Error
	if errors.As(err, &qe) {
		return fieldErr("sort.field", "%s", qe.Message)
	}
	return err
}

var errSearchCursor = fieldErr("pagination.starting_after", "starting_after is not a cursor this search returned")

// keyset is the position the page starts after (nil: the first page);
// sortName is the resolved sort field, which the cursor must match.
func (p *searchPage) keyset(sortName string) (*store.Keyset, error) {
	if p.after == "" {
		return nil, nil
	}
	var k searchKey
	dec := json.NewDecoder(bytes.NewReader([]byte(p.cur.After)))
	dec.UseNumber()
	if p.cur.After == "" || dec.Decode(&k) != nil || k.ID == "" {
		return nil, errSearchCursor
	}
	if k.Field != sortName || k.Desc != p.desc {
		return nil, fieldErr("pagination.starting_after", "starting_after belongs to a search sorted another way")
	}
	return &store.Keyset{Value: k.Value, ID: k.ID}, nil
}

// pages answers the pages object of a result of n items (fetched with one
// more than per_page) and how many to show.
func (p *searchPage) pages(total, n int, keys []store.Keyset, sortName string) (cursorPages, int, error) {
	pages := cursorPages{Type: "pages", Page: p.cur.Page, PerPage: p.perPage, TotalPages: totalPages(total, p.perPage)}
	if n <= p.perPage {
		return pages, n, nil
	}
	last := keys[p.perPage-1]
	b, err := json.Marshal(searchKey{Field: sortName, Desc: p.desc, Value: last.Value, ID: last.ID})
	if err != nil {
		return pages, 0, err
	}
	pages.Next = &nextPage{PerPage: p.perPage, StartingAfter: cursor{After: string(b), Page: p.cur.Page + 1}.encode()}
	return pages, p.perPage, nil
}

// sortableSchema is a filter-language schema whose results can be sorted.
type sortableSchema interface {
	query.Schema
	Sortable(name string) (query.Field, error)
}

// plan parses the request's query and resolves its sort and cursor
// against schema.
func (p *searchPage) plan(in *searchBody, schema sortableSchema) (*query.Filter, store.SearchSort, *store.Keyset, error) {
	f, err := parseQuery(in.Query, schema)
	if err != nil {
		return nil, store.SearchSort{}, nil, err
	}
	sortBy, err := schema.Sortable(p.sortField)
	if err != nil {
		return nil, store.SearchSort{}, nil, sortErr(err)
	}
	keyset, err := p.keyset(sortBy.Name)
	return f, store.SearchSort{Field: sortBy, Desc: p.desc}, keyset, err
}

// searchErr maps a store error of a search: a cursor value that does not
// fit the sort is the client's.
func searchErr(err error) error {
	var ke *store.KeyValueError
	if errors.As(err, &ke) {
		return errSearchCursor
	}
	return err
}

func (s *Server) searchContacts(w http.ResponseWriter, r *http.Request, search *store.Search, segments *store.Segments) error {
	var in searchBody
	if err := s.decode(w, r, &in); err != nil {
		return err
	}
	p, err := in.page(searchPerPage, searchMaxPerPage, "created_at")
	if err != nil {
		return err
	}
	schema, err := s.contactSchema(r, segments)
	if err != nil {
		return err
	}
	f, sort, keyset, err := p.plan(&in, schema)
	if err != nil {
		return err
	}
	res, err := search.Contacts(r.Context(), authOf(r.Context()).WorkspaceID, f, sort, keyset, p.perPage+1)
	if err != nil {
		return searchErr(err)
	}
	pages, n, err := p.pages(res.Total, len(res.Contacts), res.Keys, sort.Field.Name)
	if err != nil {
		return err
	}
	writeContactList(w, r, res.Contacts[:n], res.Total, pages)
	return nil
}
