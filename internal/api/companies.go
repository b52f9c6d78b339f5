package api

import (
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/parleyhq/parley/internal/attribute"
	"github.com/parleyhq/parley/internal/company"
	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/store"
)

type companyAPI struct {
	s  *Server
	st *store.Companies
}

func (s *Server) companyRoutes() {
	h := &companyAPI{s: s, st: store.NewCompanies(s.db)}
	s.handle("POST /companies", h.upsert)
	s.handle("GET /companies", h.retrieve)
	s.handle("POST /companies/list", h.list)
	s.handle("GET /companies/scroll", h.scroll)
	s.handle("GET /companies/{id}", h.get)
	s.handle("PUT /companies/{id}", h.update)
	s.handle("DELETE /companies/{id}", h.delete)
	s.handle("GET /companies/{id}/contacts", h.contacts)
	s.handle("GET /companies/{id}/segments", h.segments)
	s.handle("POST /contacts/{id}/companies", h.attach)
	s.handle("GET /contacts/{id}/companies", h.forContact)
	s.handle("DELETE /contacts/{contact_id}/companies/{id}", h.detach)
}

// Errors naming what a request referred to and does not exist.
var (
	errNoSuchCompany = notFound("company_not_found", "Company Not Found")
	errNoSuchContact = notFound("not_found", "User Not Found")
	errNoSuchTag     = notFound("not_found", "Resource Not Found")
)

// refNotFound maps a store.MissingError to the API error Intercom answers with.
func refNotFound(err error) error {
	var me *store.MissingError
	if !errors.As(err, &me) {
		return err
	}
	switch me.Kind {
	case "company":
		return errNoSuchCompany
	case "contact":
		return errNoSuchContact
	case "tag":
		return errNoSuchTag
	case "admin":
		return notFound("not_found", "Admin not found in this workspace")
	}
	return notFound("not_found", "Resource Not Found")
}

// Page-number pagination (companies, contact companies, notes): a page
// past the end answers an empty array, which is what stops the SDK pagers.

// parsePageParams reads page and per_page from the query.
func parsePageParams(q url.Values, def, maxN int) (page, n int, err error) {
	n, err = perPage(q.Get("per_page"), def, maxN)
	if err != nil {
		return 0, 0, err
	}
	page = 1
	if raw := q.Get("page"); raw != "" {
		page, err = strconv.Atoi(raw)
		if err != nil || page < 1 {
			return 0, 0, fieldErr("page", "page must be a positive integer")
		}
		if page > 1<<30 {
			return 0, 0, fieldErr("page", "page must be at most %d", 1<<30)
		}
	}
	return page, n, nil
}

// numberPages is the pages object of a page-number list. Next is left out on
// the last page.
type numberPages struct {
	Type       string `json:"type"`
	Page       int    `json:"page"`
	PerPage    int    `json:"per_page"`
	TotalPages int    `json:"total_pages"`
	Next       any    `json:"next,omitempty"`
}

// listPages builds the pages of a list whose schema is cursor_pages: next
// (an object there) names the following page.
func listPages(page, n, total int) numberPages {
	p := numberPages{Type: "pages", Page: page, PerPage: n, TotalPages: totalPages(total, n)}
	if page < p.TotalPages {
		p.Next = map[string]any{"page": page + 1, "per_page": n}
	}
	return p
}

// linkPages builds the pages of a list whose schema is pages_link: next is
// the URL of the following page.
func linkPages(r *http.Request, page, n, total int) numberPages {
	p := numberPages{Type: "pages", Page: page, PerPage: n, TotalPages: totalPages(total, n)}
	if page < p.TotalPages {
		scheme := "http"
		if r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https") {
			scheme = "https"
		}
		q := url.Values{"page": {strconv.Itoa(page + 1)}, "per_page": {strconv.Itoa(n)}}
		p.Next = (&url.URL{Scheme: scheme, Host: r.Host, Path: r.URL.Path, RawQuery: q.Encode()}).String()
	}
	return p
}

// companyInput is the body of POST /companies and PUT /companies/{id}.
type companyInput struct {
	Name             opt[string]                     `json:"name"`
	CompanyID        opt[json.RawMessage]            `json:"company_id"`
	Plan             opt[string]                     `json:"plan"`
	Size             opt[json.RawMessage]            `json:"size"`
	Website          opt[string]                     `json:"website"`
	Industry         opt[string]                     `json:"industry"`
	CustomAttributes opt[map[string]json.RawMessage] `json:"custom_attributes"`
	RemoteCreatedAt  opt[json.RawMessage]            `json:"remote_created_at"`
	MonthlySpend     opt[json.RawMessage]            `json:"monthly_spend"`
}

// looseID accepts a JSON string or integer and returns it as a string.
func looseID(raw json.RawMessage) (string, bool) {
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return strings.TrimSpace(s), true
	}
	var n int64
	if err := json.Unmarshal(raw, &n); err == nil {
		return strconv.FormatInt(n, 10), true
	}
	return "", false
}

// companyIDOf validates the company_id of a request.
func companyIDOf(o opt[json.RawMessage]) (string, error) {
	if !o.Set || o.Null {
		return "", nil
	}
	id, ok := looseID(o.Value)
	if !ok {
		return "", fieldErr("company_id", "company_id must be a string")
	}
	if len(id) > maxStringField || strings.ContainsRune(id, 0) {
		return "", fieldErr("company_id", "company_id must be at most %d bytes without NUL characters", maxStringField)
	}
	return id, nil
}

// looseNumber parses a JSON number or a string holding one.
func looseNumber(raw json.RawMessage) (float64, bool) {
	var f float64
	if err := json.Unmarshal(raw, &f); err == nil {
		return f, true
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		if f, err := strconv.ParseFloat(strings.TrimSpace(s), 64); err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
			return f, true
		}
	}
	return 0, false
}

// companyChange validates in and returns the function that applies it to a
// company. Custom attributes are checked against the workspace's company
// data attributes.
func companyChange(in *companyInput, defs attribute.Defs) (func(c *company.Company) error, error) {
	var custom map[string]any
	if in.CustomAttributes.Set && !in.CustomAttributes.Null {
		vals, err := defs.Validate(in.CustomAttributes.Value)
		if err != nil {
			return nil, err
		}
		custom = vals
	}
	var size *int64
	if in.Size.Set && !in.Size.Null {
		f, ok := looseNumber(in.Size.Value)
		if !ok || f != math.Trunc(f) || f < 0 || f > math.MaxInt32 {
			return nil, fieldErr("size", "size must be a whole number of employees")
		}
		n := int64(f)
		size = &n
	}
	var spend *float64
	if in.MonthlySpend.Set && !in.MonthlySpend.Null {
		f, ok := looseNumber(in.MonthlySpend.Value)
		if !ok || f < math.MinInt32 || f > company.MaxMonthlySpend {
			return nil, fieldErr("monthly_spend", "monthly_spend must be a number no larger than %d", company.MaxMonthlySpend)
		}
		f = math.Trunc(f) // Intercom keeps whole amounts only
		spend = &f
	}
	var remote *int64
	if err := timeField("remote_created_at", in.RemoteCreatedAt, &remote); err != nil {
		return nil, err
	}
	apply := func(c *company.Company) error {
		if err := strField("name", in.Name, &c.Name, maxStringField); err != nil {
			return err
		}
		if err := strField("plan", in.Plan, &c.Plan, maxStringField); err != nil {
			return err
		}
		if err := strField("website", in.Website, &c.Website, 2048); err != nil {
			return err
		}
		if err := strField("industry", in.Industry, &c.Industry, maxStringField); err != nil {
			return err
		}
		if in.Size.Set {
			c.Size = size
		}
		if in.MonthlySpend.Set {
			c.MonthlySpend = spend
		}
		if in.RemoteCreatedAt.Set {
			c.RemoteCreatedAt = remote
		}
		if custom != nil {
			if c.CustomAttributes == nil {
				c.CustomAttributes = map[string]any{}
			}
			for k, v := range custom {
				if v == nil {
					delete(c.CustomAttributes, k)
				} else {
					c.CustomAttributes[k] = v
				}
			}
		}
		return nil
	}
	// Run it once on a scratch company so that invalid strings are refused
	// before any transaction starts.
	if err := apply(&company.Company{}); err != nil {
		return nil, err
	}
	return apply, nil
}

func (h *companyAPI) defs(r *http.Request) (attribute.Defs, error) {
	list, err := h.s.attributes.Custom(r.Context(), authOf(r.Context()).WorkspaceID, attribute.ModelCompany, true)
	if err != nil {
		return nil, err
	}
	return attribute.Index(list), nil
}

func (h *companyAPI) upsert(w http.ResponseWriter, r *http.Request) error {
	var in companyInput
	if err := h.s.decode(w, r, &in); err != nil {
		return err
	}
	companyID, err := companyIDOf(in.CompanyID)
	if err != nil {
		return err
	}
	if companyID == "" {
		e := errf(http.StatusBadRequest, "parameter_not_found", "company_id is required to create or update a company")
		e.Field = "company_id"
		return e
	}
	defs, err := h.defs(r)
	if err != nil {
		return err
	}
	apply, err := companyChange(&in, defs)
	if err != nil {
		return err
	}
	c, _, err := h.st.Upsert(r.Context(), authOf(r.Context()).WorkspaceID, companyID, func(c *company.Company, _ bool) error { return apply(c) })
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

func (h *companyAPI) load(r *http.Request, id string) (*company.Company, error) {
	c, err := h.st.Get(r.Context(), authOf(r.Context()).WorkspaceID, id)
	if isNotFound(err) {
		return nil, errNoSuchCompany
	}
	return c, err
}

func (h *companyAPI) get(w http.ResponseWriter, r *http.Request) error {
	c, err := h.load(r, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

func (h *companyAPI) update(w http.ResponseWriter, r *http.Request) error {
	var in companyInput
	if err := h.s.decode(w, r, &in); err != nil {
		return err
	}
	companyID, err := companyIDOf(in.CompanyID)
	if err != nil {
		return err
	}
	defs, err := h.defs(r)
	if err != nil {
		return err
	}
	apply, err := companyChange(&in, defs)
	if err != nil {
		return err
	}
	c, err := h.st.Update(r.Context(), authOf(r.Context()).WorkspaceID, r.PathValue("id"), func(c *company.Company) error {
		if in.CompanyID.Set && companyID != c.CompanyID {
			return fieldErr("company_id", "company_id cannot be updated")
		}
		return apply(c)
	})
	if isNotFound(err) {
		return errNoSuchCompany
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

func (h *companyAPI) delete(w http.ResponseWriter, r *http.Request) error {
	c, err := h.st.Delete(r.Context(), authOf(r.Context()).WorkspaceID, r.PathValue("id"))
	if isNotFound(err) {
		return errNoSuchCompany
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c.Deleted())
	return nil
}

// retrieve is GET /companies: one company by company_id or name, or else a
// page of companies (optionally those with tag_id).
func (h *companyAPI) retrieve(w http.ResponseWriter, r *http.Request) error {
	ws := authOf(r.Context()).WorkspaceID
	q := r.URL.Query()
	if q.Has("company_id") || q.Has("name") {
		var c *company.Company
		var err error
		if q.Has("company_id") {
			c, err = h.st.ByCompanyID(r.Context(), ws, q.Get("company_id"))
		} else {
			c, err = h.st.ByName(r.Context(), ws, q.Get("name"))
		}
		if isNotFound(err) {
			return errNoSuchCompany
		}
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, c)
		return nil
	}
	opts := store.ListOptions{}
	if q.Has("tag_id") {
		id, err := strconv.ParseInt(q.Get("tag_id"), 10, 64)
		if err != nil {
			id = -1 // no tag has that id: an empty list
		}
		opts.TagID = &id
	}
	// Companies are not members of segments in Parley: a segment filter
	// matches none.
	return h.writeList(w, r, opts, q.Has("segment_id"))
}

// list is POST /companies/list (page, per_page, order in the query).
func (h *companyAPI) list(w http.ResponseWriter, r *http.Request) error {
	opts := store.ListOptions{}
	switch o := r.URL.Query().Get("order"); o {
	case "", "desc":
	case "asc":
		opts.Asc = true
	default:
		return fieldErr("order", "order must be asc or desc")
	}
	return h.writeList(w, r, opts, false)
}

func (h *companyAPI) writeList(w http.ResponseWriter, r *http.Request, opts store.ListOptions, none bool) error {
	page, n, err := parsePageParams(r.URL.Query(), 15, 60)
	if err != nil {
		return err
	}
	opts.Offset, opts.Limit = (page-1)*n, n
	list, total := []*company.Company{}, 0
	if !none {
		if list, total, err = h.st.List(r.Context(), authOf(r.Context()).WorkspaceID, opts); err != nil {
			return err
		}
	}
	data := make([]any, len(list))
	for i, c := range list {
		data[i] = c
	}
	writeJSON(w, http.StatusOK, map[string]any{"type": "list", "data": data, "total_count": total, "pages": listPages(page, n, total)})
	return nil
}

// companyScrollSize is the number of companies a scroll page holds.
const companyScrollSize = 50

// scroll is GET /companies/scroll: pages in id order; scroll_param is an
// opaque cursor. A page with companies always carries the scroll_param of
// the next one; the page after the last company is empty and has none,
// which ends both the SDK pager and Intercom's documented loop.
func (h *companyAPI) scroll(w http.ResponseWriter, r *http.Request) error {
	cur := cursor{Page: 1}
	if raw := r.URL.Query().Get("scroll_param"); raw != "" {
		c, err := decodeCursor(raw)
		if err != nil || c.After == "" {
			return fieldErr("scroll_param", "scroll_param is not a scroll parameter this API returned")
		}
		cur = c
	}
	list, total, err := h.st.Scroll(r.Context(), authOf(r.Context()).WorkspaceID, cur.After, companyScrollSize)
	if err != nil {
		return err
	}
	data := make([]any, len(list))
	for i, c := range list {
		data[i] = c
	}
	out := map[string]any{
		"type": "list", "data": data, "total_count": total,
		"pages": numberPages{Type: "pages", Page: cur.Page, PerPage: companyScrollSize, TotalPages: totalPages(total, companyScrollSize)},
	}
	if len(list) > 0 {
		out["scroll_param"] = cursor{After: list[len(list)-1].ID, Page: cur.Page + 1}.encode()
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// contacts is GET /companies/{id}/contacts (cursor pagination).
func (h *companyAPI) contacts(w http.ResponseWriter, r *http.Request) error {
	return writeContactPage(w, r, func(after string, limit int) ([]*contact.Contact, int, error) {
		list, total, err := h.st.Contacts(r.Context(), authOf(r.Context()).WorkspaceID, r.PathValue("id"), after, limit)
		if err != nil {
			return nil, 0, refNotFound(err)
		}
		return list, total, nil
	})
}

// segments is GET /companies/{id}/segments: companies belong to no segment.
func (h *companyAPI) segments(w http.ResponseWriter, r *http.Request) error {
	if _, err := h.load(r, r.PathValue("id")); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"type": "list", "data": []any{}})
	return nil
}

// attach is POST /contacts/{id}/companies with {"id": company id}.
func (h *companyAPI) attach(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		ID opt[json.RawMessage] `json:"id"`
	}
	if err := h.s.decode(w, r, &in); err != nil {
		return err
	}
	var id string
	if in.ID.Set && !in.ID.Null {
		var ok bool
		if id, ok = looseID(in.ID.Value); !ok {
			return fieldErr("id", "id must be the id of a company")
		}
	}
	if id == "" {
		e := errf(http.StatusBadRequest, "parameter_not_found", "company not specified")
		e.Field = "id"
		return e
	}
	c, err := h.st.Attach(r.Context(), authOf(r.Context()).WorkspaceID, r.PathValue("id"), id)
	if errors.Is(err, store.ErrCompanyLimit) {
		return errf(http.StatusBadRequest, "contact_company_limit_exceeded", "Contact has reached the maximum of %d company associations", store.MaxCompaniesPerContact)
	}
	if err != nil {
		return refNotFound(err)
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

// detach is DELETE /contacts/{contact_id}/companies/{id}.
func (h *companyAPI) detach(w http.ResponseWriter, r *http.Request) error {
	c, err := h.st.Detach(r.Context(), authOf(r.Context()).WorkspaceID, r.PathValue("contact_id"), r.PathValue("id"))
	if err != nil {
		return refNotFound(err)
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

// forContact is GET /contacts/{id}/companies (page-number pagination). The
// list is under "companies" (the schema, and what the SDK pager reads) and,
// as Intercom's own responses do, under "data" too.
func (h *companyAPI) forContact(w http.ResponseWriter, r *http.Request) error {
	page, n, err := parsePageParams(r.URL.Query(), 50, 150)
	if err != nil {
		return err
	}
	list, total, err := h.st.ForContact(r.Context(), authOf(r.Context()).WorkspaceID, r.PathValue("id"), (page-1)*n, n)
	if err != nil {
		return refNotFound(err)
	}
	data := make([]any, len(list))
	for i, c := range list {
		data[i] = c
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"type": "list", "companies": data, "data": data, "total_count": total, "pages": linkPages(r, page, n, total),
	})
	return nil
}
