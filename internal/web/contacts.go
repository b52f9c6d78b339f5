package web

// Contacts (docs/web.md "Contacts"): the users and leads lists with chosen
// columns, sorts, keyset pages and a filter in the filter language, saved
// as a segment; the companies list and page. Lists go through the contact
// search the REST API's POST /contacts/search uses (store.Search, with its
// in-memory index), so there is no list SQL of its own and the count comes
// from the same search.

import (
	"bytes"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/parleyhq/parley/internal/attribute"
	"github.com/parleyhq/parley/internal/company"
	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/ids"
	"github.com/parleyhq/parley/internal/query"
	"github.com/parleyhq/parley/internal/segment"
	"github.com/parleyhq/parley/internal/store"
)

//go:embed assets/contacts.css
var contactsCSS []byte

const (
	contactsPerPage = 50
	// colsCookie and companyColsCookie remember the teammate's chosen list
	// columns (per browser).
	colsCookie        = "parley_contact_cols"
	companyColsCookie = "parley_company_cols"
	maxFilter         = 64 << 10
)

// defaultCols and defaultCompanyCols are the lists' columns until the
// teammate picks others.
var (
	defaultCols        = []string{"name", "email", "last_seen_at", "created_at"}
	defaultCompanyCols = []string{"name", "company_id", "plan", "user_count", "created_at", "last_request_at"}
)

// contactSorts are the orders the lists offer: date fields, so the keyset
// cursor is a number (encodeCursor).
var contactSorts = [][2]string{{"created_at", "Created"}, {"last_seen_at", "Last seen"}, {"signed_up_at", "Signed up"}, {"updated_at", "Updated"}}

// contactsStore holds the stores the contact pages use.
type contactsStore struct {
	search    *store.Search
	contacts  *store.Contacts
	segments  *store.Segments
	attrs     *store.Attributes
	tags      *store.Tags
	notes     *store.Notes
	companies *store.Companies
	events    *store.DataEvents
}

func (s *Server) contactRoutes(mux *http.ServeMux) {
	f := template.FuncMap{
		"date": funcs["date"],
		"when": func(unix int64) string { return time.Unix(unix, 0).UTC().Format("2 Jan 2006 15:04") },
	}
	for _, name := range []string{"contacts", "contact", "companies", "company", "contacts_import", "contacts_import_job"} {
		s.pages[name] = template.Must(template.New("layout.html").Funcs(f).ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html", "templates/contactpanel.html", "templates/contacts_nav.html"))
	}
	search := s.opts.Search
	if search == nil {
		search = store.NewSearch(s.db, 0)
	}
	s.cs = &contactsStore{search: search, contacts: store.NewContacts(s.db), segments: store.NewSegments(s.db), attrs: store.NewAttributes(s.db),
		tags: store.NewTags(s.db), notes: store.NewNotes(s.db), companies: store.NewCompanies(s.db), events: store.NewDataEvents(s.db)}
	if s.convs == nil {
		s.convs = store.NewConversations(s.db)
	}
	mux.Handle("GET /app/assets/contacts.css", asset("text/css; charset=utf-8", contactsCSS))
	mux.Handle("GET /app/contacts", s.page(nil, s.contactsPage))
	mux.Handle("POST /app/contacts/segments", s.page(nil, s.saveListSegment))
	mux.Handle("GET /app/contacts/export.csv", s.page(nil, s.exportContacts))
	mux.Handle("GET /app/contacts/{id}", s.page(nil, s.contactPage))
	mux.Handle("POST /app/contacts/{id}/edit", s.page(nil, s.editContact))
	mux.Handle("POST /app/contacts/{id}/tags", s.page(nil, s.tagContact))
	mux.Handle("POST /app/contacts/{id}/notes", s.page(nil, s.noteContact))
	mux.Handle("GET /app/companies", s.page(nil, s.companiesPage))
	mux.Handle("GET /app/companies/{id}", s.page(nil, s.companyPage))
	s.importRoutes(mux)
}

// column is one list column: a built-in field or a custom attribute.
type column struct {
	Name  string // search field name: "email", "custom_attributes.plan"
	Label string
	Type  string // attribute data type
	On    bool
}

// columnsOf lists every column of a model a teammate can pick, chosen
// ones marked, and the chosen ones in the order of the list (defaults when
// none is known).
func columnsOf(model string, custom []*attribute.Attribute, chosen, defaults []string) (all, on []column) {
	for _, b := range attribute.Builtins(model) {
		if b.Name == "id" || b.Name == "avatar" {
			continue
		}
		all = append(all, column{Name: b.Name, Label: b.Label, Type: b.DataType})
	}
	for _, a := range custom {
		if !a.Archived && a.Model == model {
			all = append(all, column{Name: "custom_attributes." + a.Name, Label: a.Label, Type: a.DataType})
		}
	}
	for i := range all {
		all[i].On = slices.Contains(chosen, all[i].Name)
	}
	for _, name := range chosen {
		for _, c := range all {
			if c.Name == name {
				on = append(on, c)
			}
		}
	}
	if len(on) == 0 && chosen != nil {
		return columnsOf(model, custom, defaults, nil)
	}
	return all, on
}

func contactColumns(custom []*attribute.Attribute, chosen []string) (all, on []column) {
	return columnsOf(attribute.ModelContact, custom, chosen, defaultCols)
}

// chosenColumns reads the columns from the request: `col` values when the
// picker was submitted (pick=1), else `cols`, else the cookie, else the
// defaults. It remembers a picked choice in the cookie (when w is set).
func chosenColumns(w http.ResponseWriter, r *http.Request, cookie string, defaults []string, secure bool) []string {
	q := r.URL.Query()
	if q.Get("pick") == "1" {
		cols := q["col"]
		if len(cols) > 60 {
			cols = cols[:60]
		}
		if w != nil {
			http.SetCookie(w, &http.Cookie{Name: cookie, Value: url.QueryEscape(strings.Join(cols, ",")), Path: "/app/", MaxAge: 365 * 24 * 3600,
				HttpOnly: true, Secure: secure, SameSite: http.SameSiteLaxMode})
		}
		return cols
	}
	if c := q.Get("cols"); c != "" {
		return strings.Split(c, ",")
	}
	if c, err := r.Cookie(cookie); err == nil {
		if v, err := url.QueryUnescape(c.Value); err == nil && v != "" {
			return strings.Split(v, ",")
		}
	}
	return defaults
}

// format renders a value of column col.
func format(v any, col column, loc *time.Location) string {
	switch v := v.(type) {
	case nil:
		return ""
	case int64:
		if col.Type == attribute.TypeDate {
			return time.Unix(v, 0).In(loc).Format("2006-01-02 15:04")
		}
		return strconv.FormatInt(v, 10)
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case bool:
		if v {
			return "yes"
		}
		return "no"
	case string:
		return v
	}
	return fmt.Sprint(v)
}

// cell renders a contact's value of column c.
func cell(c *contact.Contact, col column, loc *time.Location) string {
	vs := (&contact.Record{Contact: c}).Values(col.Name)
	if len(vs) == 0 {
		return ""
	}
	return format(vs[0], col, loc)
}

// contactSchema is the filter-language schema of the workspace, as the REST
// API builds it: time zone, live custom attributes, segments.
func (s *Server) contactSchema(r *http.Request, v *visit) (*contact.Schema, []*attribute.Attribute, error) {
	attrs, err := s.cs.attrs.Custom(r.Context(), v.ws.ID, "", false)
	if err != nil {
		return nil, nil, err
	}
	load := func(id string) ([]byte, error) { return s.cs.segments.EffectiveFilter(r.Context(), v.ws.ID, id) }
	var mine []*attribute.Attribute
	for _, a := range attrs {
		if a.Model == attribute.ModelContact {
			mine = append(mine, a)
		}
	}
	return contact.NewSchema(v.ws.Location(), attrs, load), mine, nil
}

// filterError turns a filter-language error into a readable 400 message;
// other errors stay server errors.
func filterError(err error) (string, error) {
	var qe *query.Error
	if errors.As(err, &qe) || errors.Is(err, store.ErrNotFound) {
		if qe != nil {
			return "The filter is not valid: " + qe.Message, nil
		}
		return "The filter names a segment that does not exist.", nil
	}
	return "", err
}

// listQuery is a contacts list request: role, filter (as typed), segment,
// sort, page.
type listQuery struct {
	Role      string // user, lead
	Filter    string // the filter language's JSON, "" for none
	SegmentID string
	Sort      string
	Desc      bool
	After     string
}

func readListQuery(r *http.Request) listQuery {
	q := r.URL.Query()
	lq := listQuery{Role: q.Get("role"), Filter: strings.TrimSpace(q.Get("filter")), SegmentID: q.Get("segment_id"), Sort: q.Get("sort"), Desc: q.Get("order") != "asc", After: q.Get("after")}
	if lq.Role != contact.RoleLead {
		lq.Role = contact.RoleUser
	}
	if !slices.ContainsFunc(contactSorts, func(s [2]string) bool { return s[0] == lq.Sort }) {
		lq.Sort = "created_at"
	}
	return lq
}

func (lq listQuery) values() url.Values {
	v := url.Values{"role": {lq.Role}, "sort": {lq.Sort}}
	if !lq.Desc {
		v.Set("order", "asc")
	}
	if lq.Filter != "" {
		v.Set("filter", lq.Filter)
	}
	if lq.SegmentID != "" {
		v.Set("segment_id", lq.SegmentID)
	}
	return v
}

func personType(role string) string {
	if role == contact.RoleLead {
		return segment.PersonContact
	}
	return segment.PersonUser
}

// listFilter parses the list's filter (the teammate's, or the segment's
// membership) restricted to the list's role; a bad filter is a message.
func (s *Server) listFilter(r *http.Request, v *visit, lq *listQuery, schema *contact.Schema) (*query.Filter, *segment.Segment, string, error) {
	var raw []byte
	var sg *segment.Segment
	if lq.SegmentID != "" {
		var err error
		sg, err = s.cs.segments.Get(r.Context(), v.ws.ID, lq.SegmentID)
		if errors.Is(err, store.ErrNotFound) {
			return nil, nil, "", pageErr(http.StatusNotFound, "Segment not found", "There is no such segment in this workspace.")
		} else if err != nil {
			return nil, nil, "", err
		}
		lq.Role = segment.Role(sg.PersonType)
		if lq.Filter == "" {
			lq.Filter = string(sg.Filter)
		}
		raw, _ = json.Marshal(map[string]any{"field": "segment_id", "operator": "=", "value": sg.ID})
	} else if lq.Filter != "" {
		if len(lq.Filter) > maxFilter {
			return nil, nil, "The filter is too long.", nil
		}
		// The filter as typed first, for precise messages.
		if _, err := query.Parse([]byte(lq.Filter), schema); err != nil {
			msg, err := filterError(err)
			return nil, nil, msg, err
		}
		raw = []byte(lq.Filter)
	}
	role, _ := json.Marshal(map[string]any{"field": "role", "operator": "=", "value": lq.Role})
	if raw == nil {
		raw = role
	} else {
		// AND(role, filter) without adding a level of nesting.
		eff, err := segment.Effective(raw, personType(lq.Role))
		if err != nil {
			msg, err := filterError(err)
			return nil, nil, msg, err
		}
		raw = eff
	}
	f, err := query.Parse(raw, schema)
	if err != nil {
		msg, err := filterError(err)
		return nil, nil, msg, err
	}
	return f, sg, "", nil
}

type contactRow struct {
	ID    string
	Cells []string
}

type contactsData struct {
	Q          listQuery
	Tab        string // users, leads
	Columns    []column
	AllColumns []column
	Rows       []contactRow
	Total      int
	Next       template.URL
	Export     template.URL
	Sorts      [][2]string
	Picker     picker
	Segment    *segment.Segment
	Segments   []*segment.Segment
	SegName    string
	Saved      bool
}

func (s *Server) contactsPage(w http.ResponseWriter, r *http.Request, v *visit) error {
	lq := readListQuery(r)
	d := contactsData{Q: lq, Sorts: contactSorts, Saved: r.URL.Query().Get("saved") == "1"}
	return s.renderContacts(w, r, v, &d, chosenColumns(w, r, colsCookie, defaultCols, s.opts.Secure))
}

// renderContacts lists one page of d.Q (or shows the filter's error with
// a 400) with the chosen columns.
func (s *Server) renderContacts(w http.ResponseWriter, r *http.Request, v *visit, d *contactsData, cols []string) error {
	schema, custom, err := s.contactSchema(r, v)
	if err != nil {
		return err
	}
	d.AllColumns, d.Columns = contactColumns(custom, cols)
	if d.Segments, err = s.cs.segments.List(r.Context(), v.ws.ID); err != nil {
		return err
	}
	f, sg, msg, err := s.listFilter(r, v, &d.Q, schema)
	if err != nil {
		return err
	}
	d.Segment = sg
	d.Tab = d.Q.Role + "s"
	d.Picker = picker{Action: "/app/contacts", Columns: d.AllColumns}
	for k, vs := range d.Q.values() {
		if k != "after" {
			d.Picker.Hidden = append(d.Picker.Hidden, [2]string{k, vs[0]})
		}
	}
	slices.SortFunc(d.Picker.Hidden, func(a, b [2]string) int { return strings.Compare(a[0], b[0]) })
	title := map[string]string{contact.RoleUser: "Users", contact.RoleLead: "Leads"}[d.Q.Role]
	vw := v.view(title, "contacts", d)
	if msg != "" {
		vw.Error = msg
		s.render(w, http.StatusBadRequest, "contacts", vw)
		return nil
	}
	sortField, err := schema.Sortable(d.Q.Sort)
	if err != nil {
		return err
	}
	var after *store.Keyset
	if d.Q.After != "" {
		if after = contactCursor(d.Q.After); after == nil {
			return pageErr(http.StatusBadRequest, "Bad page", "This page link is not valid. Go back to the first page.")
		}
	}
	res, err := s.cs.search.Contacts(r.Context(), v.ws.ID, f, store.SearchSort{Field: sortField, Desc: d.Q.Desc}, after, contactsPerPage+1)
	var kve *store.KeyValueError
	if errors.As(err, &kve) {
		return pageErr(http.StatusBadRequest, "Bad page", "This page link is not valid. Go back to the first page.")
	} else if err != nil {
		return err
	}
	d.Total = res.Total
	loc := v.ws.Location()
	for i, c := range res.Contacts {
		if i == contactsPerPage {
			nq := d.Q.values()
			nq.Set("after", encodeCursor(res.Keys[i-1]))
			d.Next = template.URL("/app/contacts?" + nq.Encode()) //nolint:gosec // built from url.Values
			break
		}
		row := contactRow{ID: c.ID}
		for _, col := range d.Columns {
			row.Cells = append(row.Cells, cell(c, col, loc))
		}
		d.Rows = append(d.Rows, row)
	}
	eq := d.Q.values()
	names := make([]string, len(d.Columns))
	for i, c := range d.Columns {
		names[i] = c.Name
	}
	eq.Set("cols", strings.Join(names, ","))
	d.Export = template.URL("/app/contacts/export.csv?" + eq.Encode()) //nolint:gosec // built from url.Values
	s.render(w, http.StatusOK, "contacts", vw)
	return nil
}

// contactCursor decodes a list page's position (encodeCursor of the last
// row's date and id); nil when it is not one.
func contactCursor(c string) *store.Keyset {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return nil
	}
	var k struct {
		Value *int64
		ID    string
	}
	raw := []any{&k.Value, &k.ID}
	if json.Unmarshal(b, &raw) != nil || len(k.ID) != 24 || strings.Trim(k.ID, "0123456789abcdef") != "" {
		return nil
	}
	ks := &store.Keyset{ID: k.ID}
	if k.Value != nil {
		ks.Value = *k.Value
	}
	return ks
}

// saveListSegment saves the list's filter as a segment of the list's role,
// with the REST API's rules (POST /segments: segment.CleanName and
// segment.CheckFilter): a name of 1–255 bytes without control characters,
// a filter that parses, does not reference segment_id, and still parses
// as the membership filter.
func (s *Server) saveListSegment(w http.ResponseWriter, r *http.Request, v *visit) error {
	lq := listQuery{Role: r.PostFormValue("role"), Filter: strings.TrimSpace(r.PostFormValue("filter")), Sort: "created_at", Desc: true}
	if lq.Role != contact.RoleLead {
		lq.Role = contact.RoleUser
	}
	name := strings.TrimSpace(r.PostFormValue("name"))
	d := &contactsData{Q: lq, Sorts: contactSorts, SegName: name}
	refuse := func(msg string) error {
		_, custom, err := s.contactSchema(r, v)
		if err != nil {
			return err
		}
		d.AllColumns, d.Columns = contactColumns(custom, chosenColumns(nil, r, colsCookie, defaultCols, false))
		if d.Segments, err = s.cs.segments.List(r.Context(), v.ws.ID); err != nil {
			return err
		}
		d.Tab = lq.Role + "s"
		d.Picker = picker{Action: "/app/contacts", Columns: d.AllColumns, Hidden: [][2]string{{"role", lq.Role}, {"filter", lq.Filter}}}
		vw := v.view("Save segment", "contacts", d)
		vw.Error = msg
		s.render(w, http.StatusBadRequest, "contacts", vw)
		return nil
	}
	name, err := segment.CleanName(name)
	switch {
	case err != nil:
		return refuse("Segment " + err.Error() + ".")
	case lq.Filter == "":
		return refuse("Filter the list before saving it as a segment.")
	case len(lq.Filter) > maxFilter:
		return refuse("The filter is too long.")
	}
	var b bytes.Buffer
	if err := json.Compact(&b, []byte(lq.Filter)); err != nil {
		return refuse("The filter is not valid JSON.")
	}
	schema, _, err := s.contactSchema(r, v)
	if err != nil {
		return err
	}
	sg := &segment.Segment{WorkspaceID: v.ws.ID, ID: ids.New(), Name: name, PersonType: personType(lq.Role), Filter: b.Bytes()}
	err = segment.CheckFilter(sg.Filter, sg.PersonType, func(b []byte) (*query.Filter, error) { return query.Parse(b, schema) })
	if errors.Is(err, segment.ErrSelfReference) {
		return refuse("A segment's filter cannot use another segment.")
	} else if err != nil {
		msg, err := filterError(err)
		if err != nil {
			return err
		}
		return refuse(msg)
	}
	if err := s.cs.segments.Create(r.Context(), sg); err != nil {
		return err
	}
	http.Redirect(w, r, "/app/contacts?"+url.Values{"segment_id": {sg.ID}, "saved": {"1"}}.Encode(), http.StatusSeeOther)
	return nil
}

// Companies.

type companyRow struct {
	ID, Name, CompanyID, Plan string
	Users                     int
	CreatedAt                 int64
	Cells                     []string
}

type companiesData struct {
	Tab        string
	Columns    []column
	AllColumns []column
	Rows       []companyRow
	Total      int
	Next       string
	Picker     picker
}

// picker is the column picker's form: where it goes, what it keeps.
type picker struct {
	Action  string
	Hidden  [][2]string
	Columns []column
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// companyValue is a company's value of a list column.
func companyValue(co *company.Company, name string) any {
	if attr, ok := strings.CutPrefix(name, "custom_attributes."); ok {
		return co.CustomAttributes[attr]
	}
	ps := func(p *string) any {
		if p == nil {
			return nil
		}
		return *p
	}
	pi := func(p *int64) any {
		if p == nil {
			return nil
		}
		return *p
	}
	switch name {
	case "company_id":
		return co.CompanyID
	case "name":
		return ps(co.Name)
	case "plan":
		return ps(co.Plan)
	case "size":
		return pi(co.Size)
	case "website":
		return ps(co.Website)
	case "industry":
		return ps(co.Industry)
	case "monthly_spend":
		if co.MonthlySpend == nil {
			return nil
		}
		return *co.MonthlySpend
	case "session_count":
		return co.SessionCount
	case "user_count":
		return int64(co.UserCount)
	case "remote_created_at":
		return pi(co.RemoteCreatedAt)
	case "created_at":
		return co.CreatedAt
	case "last_request_at":
		return pi(co.LastRequestAt)
	}
	return nil
}

func companyRowOf(co *company.Company) companyRow {
	return companyRow{ID: co.ID, Name: str(co.Name), CompanyID: co.CompanyID, Plan: str(co.Plan), Users: co.UserCount, CreatedAt: co.CreatedAt}
}

// companiesPage lists companies in id order (ids start with their creation
// time, so oldest first), cut by keyset on the id, with chosen columns.
func (s *Server) companiesPage(w http.ResponseWriter, r *http.Request, v *visit) error {
	after := r.URL.Query().Get("after")
	if len(after) > 64 {
		return pageErr(http.StatusBadRequest, "Bad page", "This page link is not valid. Go back to the first page.")
	}
	custom, err := s.cs.attrs.Custom(r.Context(), v.ws.ID, attribute.ModelCompany, false)
	if err != nil {
		return err
	}
	d := companiesData{Tab: "companies"}
	d.AllColumns, d.Columns = columnsOf(attribute.ModelCompany, custom, chosenColumns(w, r, companyColsCookie, defaultCompanyCols, s.opts.Secure), defaultCompanyCols)
	d.Picker = picker{Action: "/app/companies", Columns: d.AllColumns}
	list, total, err := s.cs.companies.Scroll(r.Context(), v.ws.ID, after, contactsPerPage+1)
	if err != nil {
		return err
	}
	d.Total = total
	loc := v.ws.Location()
	for i, co := range list {
		if i == contactsPerPage {
			d.Next = list[i-1].ID
			break
		}
		row := companyRowOf(co)
		for _, col := range d.Columns {
			row.Cells = append(row.Cells, format(companyValue(co, col.Name), col, loc))
		}
		d.Rows = append(d.Rows, row)
	}
	s.render(w, http.StatusOK, "companies", v.view("Companies", "contacts", d))
	return nil
}

type companyData struct {
	Company companyRow
	Website string
	Custom  [][2]string
	People  []*contact.Contact
	Total   int
}

func (s *Server) companyPage(w http.ResponseWriter, r *http.Request, v *visit) error {
	co, err := s.cs.companies.Get(r.Context(), v.ws.ID, r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) {
		return pageErr(http.StatusNotFound, "Company not found", "There is no such company in this workspace.")
	} else if err != nil {
		return err
	}
	people, total, err := s.cs.companies.Contacts(r.Context(), v.ws.ID, co.ID, "", 100)
	if err != nil {
		return err
	}
	d := companyData{Company: companyRowOf(co), Website: str(co.Website), People: people, Total: total}
	keys := make([]string, 0, len(co.CustomAttributes))
	for k := range co.CustomAttributes {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		d.Custom = append(d.Custom, [2]string{k, fmt.Sprint(co.CustomAttributes[k])})
	}
	s.render(w, http.StatusOK, "company", v.view(d.Company.Name, "contacts", d))
	return nil
}
