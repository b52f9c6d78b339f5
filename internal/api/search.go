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

func (s *Server) searchContacts(w http.ResponseWriter, r *http.Request, search *store.Search, segments *store.Segments) error {
	var in searchBody
	if err := s.decode(w, r, &in); err != nil {
		return err
	}
	if q := bytes.TrimSpace(in.Query); len(q) == 0 || string(q) == "null" {
		e := errf(http.StatusBadRequest, "parameter_not_found", "query is required")
		e.Field = "query"
		return e
	}
	perPage, after := searchPerPage, ""
	if p := in.Pagination; p != nil {
		if p.PerPage.Set && !p.PerPage.Null {
			if p.PerPage.Value < 1 || p.PerPage.Value > searchMaxPerPage {
				return fieldErr("pagination.per_page", "per_page must be between 1 and %d", searchMaxPerPage)
			}
			perPage = p.PerPage.Value
		}
		if p.StartingAfter.Set && !p.StartingAfter.Null {
			after = p.StartingAfter.Value
		}
	}
	sortField, desc := "created_at", true
	if in.Sort != nil {
		if in.Sort.Field == "" {
			return fieldErr("sort.field", "sort.field is required")
		}
		sortField = in.Sort.Field
		switch in.Sort.Order {
		case "", "descending":
		case "ascending":
			desc = false
		default:
			e := errf(http.StatusBadRequest, "invalid_sort_order", "Invalid sort order '%s'. Must be one of: ascending, descending", in.Sort.Order)
			e.Field = "sort.order"
			return e
		}
	}

	schema, err := s.contactSchema(r, segments)
	if err != nil {
		return err
	}
	f, err := parseQuery(in.Query, schema)
	if err != nil {
		return err
	}
	sortBy, err := schema.Sortable(sortField)
	if err != nil {
		var qe *query.Error
		if errors.As(err, &qe) {
			return fieldErr("sort.field", "%s", qe.Message)
		}
		return err
	}

	cur, err := decodeCursor(after)
	if err != nil {
		return err
	}
	var keyset *store.Keyset
	if after != "" {
		var k searchKey
		dec := json.NewDecoder(bytes.NewReader([]byte(cur.After)))
		dec.UseNumber()
		if cur.After == "" || dec.Decode(&k) != nil || k.ID == "" {
			return fieldErr("pagination.starting_after", "starting_after is not a cursor this search returned")
		}
		if k.Field != sortBy.Name || k.Desc != desc {
			return fieldErr("pagination.starting_after", "starting_after belongs to a search sorted another way")
		}
		keyset = &store.Keyset{Value: k.Value, ID: k.ID}
	}

	res, err := search.Contacts(r.Context(), authOf(r.Context()).WorkspaceID, f, store.SearchSort{Field: sortBy, Desc: desc}, keyset, perPage+1)
	if err != nil {
		var ke *store.KeyValueError
		if errors.As(err, &ke) {
			return fieldErr("pagination.starting_after", "starting_after is not a cursor this search returned")
		}
		return err
	}
	pages := cursorPages{Type: "pages", Page: cur.Page, PerPage: perPage, TotalPages: totalPages(res.Total, perPage)}
	list := res.Contacts
	if len(list) > perPage {
		list = list[:perPage]
		last := res.Keys[perPage-1]
		b, err := json.Marshal(searchKey{Field: sortBy.Name, Desc: desc, Value: last.Value, ID: last.ID})
		if err != nil {
			return err
		}
		pages.Next = &nextPage{PerPage: perPage, StartingAfter: cursor{After: string(b), Page: cur.Page + 1}.encode()}
	}
	writeContactList(w, r, list, res.Total, pages)
	return nil
}
