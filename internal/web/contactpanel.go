package web

// The contact panel (contract.md "Contact panel"): a contact's attributes
// (editable), custom attributes, tags, segments, companies, recent events,
// conversations and notes, rendered by {{template "contactpanel"}}. The
// contact profile page shows it; the conversation page's sidebar can too.
// Its forms post to the routes below and go back to return_to. Every write
// goes through the store calls the REST API uses (Contacts.Update,
// Tags.TagContact/UntagContact, Notes.Create), with the API's validation,
// so the same events are appended.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/parleyhq/parley/internal/attribute"
	"github.com/parleyhq/parley/internal/company"
	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/conversation"
	"github.com/parleyhq/parley/internal/csvimport"
	"github.com/parleyhq/parley/internal/dataevent"
	"github.com/parleyhq/parley/internal/query"
	"github.com/parleyhq/parley/internal/store"
)

// panelField is one editable attribute of the panel's form.
type panelField struct {
	Name    string // form field: "name", "custom_attributes.plan"
	Label   string
	Value   string
	Type    string // text, email, date, number, bool, select
	Options []string
}

type panelConv struct {
	ID      int64
	Snippet string
	State   string
	Updated int64
}

type panelNote struct {
	Author string
	Text   string
	At     int64
}

// contactPanel is what {{template "contactpanel"}} renders.
type contactPanel struct {
	// P prefixes the panel's element ids: "" on the contact's page,
	// "side-" in the conversation page's sidebar (which has its own tags).
	P         string
	Contact   *contact.Contact
	Title     string
	CSRF      string
	ReturnTo  string
	Error     string
	Fields    []panelField // editable built-ins
	Custom    []panelField // custom attributes
	Info      [][2]string  // read-only attributes
	Tags      []*store.Tag
	Other     []*store.Tag // tags it could get
	Segments  []string
	Companies []*company.Company
	Events    []*dataevent.Event
	Convs     []panelConv
	Notes     []panelNote
}

var errNoContact = pageErr(http.StatusNotFound, "Contact not found", "There is no such contact in this workspace.")

// contactPanel loads the panel of one contact of the visit's workspace; a
// contact of another workspace (or none) is a 404 page error.
func (s *Server) contactPanel(ctx context.Context, v *visit, contactID string) (*contactPanel, error) {
	c, err := s.cs.contacts.Get(ctx, v.ws.ID, contactID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errNoContact
	} else if err != nil {
		return nil, err
	}
	p := &contactPanel{Contact: c, Title: contactTitle(c), CSRF: v.csrf, ReturnTo: "/app/contacts/" + c.ID}
	loc := v.ws.Location()
	p.Fields = builtinFields(c, loc)
	attrs, err := s.cs.attrs.Custom(ctx, v.ws.ID, attribute.ModelContact, false)
	if err != nil {
		return nil, err
	}
	for _, a := range attrs {
		p.Custom = append(p.Custom, customField(a, c.CustomAttributes[a.Name], loc))
	}
	for _, name := range []string{"created_at", "signed_up_at", "last_seen_at", "last_replied_at", "browser", "os", "location.country", "location.city"} {
		col := column{Name: name, Type: attribute.TypeString}
		for _, b := range attribute.ContactBuiltins {
			if b.Name == name {
				col.Label, col.Type = b.Label, b.DataType
			}
		}
		if val := cell(c, col, loc); val != "" {
			p.Info = append(p.Info, [2]string{col.Label, val})
		}
	}
	if p.Tags, err = s.cs.tags.ContactTags(ctx, v.ws.ID, c.ID); err != nil {
		return nil, err
	}
	all, err := s.cs.tags.List(ctx, v.ws.ID)
	if err != nil {
		return nil, err
	}
	for _, t := range all {
		has := false
		for _, ct := range p.Tags {
			has = has || ct.ID == t.ID
		}
		if !has {
			p.Other = append(p.Other, t)
		}
	}
	if p.Segments, err = s.contactSegments(ctx, v, c.ID); err != nil {
		return nil, err
	}
	if p.Companies, _, err = s.cs.companies.ForContact(ctx, v.ws.ID, c.ID, 0, 10); err != nil {
		return nil, err
	}
	if p.Events, err = s.cs.events.List(ctx, c, nil, 10); err != nil {
		return nil, err
	}
	if p.Convs, err = s.contactConversations(ctx, v, c.ID); err != nil {
		return nil, err
	}
	notes, _, err := s.cs.notes.ForContact(ctx, v.ws.ID, c.ID, 0, 10)
	if err != nil {
		return nil, err
	}
	for _, n := range notes {
		who := "A former teammate"
		if n.Author != nil {
			who = n.Author.Name
		}
		p.Notes = append(p.Notes, panelNote{Author: who, Text: plain(n.Body), At: n.CreatedAt})
	}
	return p, nil
}

func contactTitle(c *contact.Contact) string {
	switch {
	case c.Name != nil:
		return *c.Name
	case c.Email != nil:
		return *c.Email
	case c.ExternalID != nil:
		return *c.ExternalID
	}
	return "Unnamed " + c.Role
}

func builtinFields(c *contact.Contact, loc *time.Location) []panelField {
	date := func(p *int64) string {
		if p == nil {
			return ""
		}
		return time.Unix(*p, 0).In(loc).Format("2006-01-02")
	}
	unsub := "no"
	if c.UnsubscribedFromEmails {
		unsub = "yes"
	}
	return []panelField{
		{Name: "name", Label: "Name", Value: str(c.Name), Type: "text"},
		{Name: "email", Label: "Email", Value: str(c.Email), Type: "email"},
		{Name: "phone", Label: "Phone", Value: str(c.Phone), Type: "text"},
		{Name: "external_id", Label: "User ID", Value: str(c.ExternalID), Type: "text"},
		{Name: "role", Label: "Role", Value: c.Role, Type: "select", Options: []string{contact.RoleUser, contact.RoleLead}},
		{Name: "signed_up_at", Label: "Signed up", Value: date(c.SignedUpAt), Type: "date"},
		{Name: "language_override", Label: "Language override", Value: str(c.LanguageOverride), Type: "text"},
		{Name: "unsubscribed_from_emails", Label: "Unsubscribed from emails", Value: unsub, Type: "select", Options: []string{"no", "yes"}},
	}
}

func customField(a *attribute.Attribute, v any, loc *time.Location) panelField {
	f := panelField{Name: "custom_attributes." + a.Name, Label: a.Label, Type: "text", Options: a.Options}
	if f.Label == "" {
		f.Label = a.Name
	}
	switch a.DataType {
	case attribute.TypeInteger, attribute.TypeFloat:
		f.Type = "number"
	case attribute.TypeBoolean:
		f.Type, f.Options = "select", []string{"", "true", "false"}
	case attribute.TypeDate:
		f.Type = "date"
	}
	if len(a.Options) > 0 {
		f.Type, f.Options = "select", append([]string{""}, a.Options...)
	}
	switch x := v.(type) {
	case nil:
	case int64:
		if a.DataType == attribute.TypeDate {
			f.Value = time.Unix(x, 0).In(loc).Format("2006-01-02")
		} else {
			f.Value = strconv.FormatInt(x, 10)
		}
	case float64:
		f.Value = strconv.FormatFloat(x, 'f', -1, 64)
	default:
		f.Value = fmt.Sprint(x)
	}
	return f
}

// contactSegments names the segments the contact is in.
func (s *Server) contactSegments(ctx context.Context, v *visit, contactID string) ([]string, error) {
	segs, err := s.cs.segments.List(ctx, v.ws.ID)
	if err != nil || len(segs) == 0 {
		return nil, err
	}
	attrs, err := s.cs.attrs.Custom(ctx, v.ws.ID, "", false)
	if err != nil {
		return nil, err
	}
	schema := contact.NewSchema(v.ws.Location(), attrs, func(id string) ([]byte, error) { return s.cs.segments.EffectiveFilter(ctx, v.ws.ID, id) })
	var filters []*query.Filter
	var names []string
	for _, sg := range segs {
		raw, err := s.cs.segments.EffectiveFilter(ctx, v.ws.ID, sg.ID)
		if err != nil {
			continue // a filter that no longer compiles matches nobody
		}
		f, err := query.Parse(raw, schema)
		if err != nil {
			continue
		}
		filters, names = append(filters, f), append(names, sg.Name)
	}
	if len(filters) == 0 {
		return nil, nil
	}
	in, err := s.cs.segments.Matches(ctx, v.ws.ID, contactID, filters)
	if err != nil {
		return nil, err
	}
	var out []string
	for i, ok := range in {
		if ok {
			out = append(out, names[i])
		}
	}
	return out, nil
}

// contactConversations lists the contact's 10 most recent conversations
// through the conversation search.
func (s *Server) contactConversations(ctx context.Context, v *visit, contactID string) ([]panelConv, error) {
	schema := conversation.NewSchema(v.ws.Location(), nil, true)
	raw, _ := json.Marshal(map[string]any{"field": "contact_ids", "operator": "=", "value": contactID})
	f, err := query.Parse(raw, schema)
	if err != nil {
		return nil, err
	}
	created, err := schema.Sortable("created_at")
	if err != nil {
		return nil, err
	}
	page, err := s.convs.Search(ctx, v.ws.ID, f, store.SearchSort{Field: created, Desc: true}, nil, 10)
	if err != nil {
		return nil, err
	}
	var out []panelConv
	for _, c := range page.Conversations {
		out = append(out, panelConv{ID: c.ID, Snippet: snippet(c), State: c.State, Updated: c.UpdatedAt})
	}
	return out, nil
}

// The contact profile page and the panel's actions.

func (s *Server) contactPage(w http.ResponseWriter, r *http.Request, v *visit) error {
	p, err := s.contactPanel(r.Context(), v, r.PathValue("id"))
	if err != nil {
		return err
	}
	s.render(w, http.StatusOK, "contact", v.view(p.Title, "contacts", p))
	return nil
}

// returnTo is the page a panel form goes back to: a path of the web app,
// else the contact's profile.
func returnTo(r *http.Request, contactID string) string {
	rt := r.PostFormValue("return_to")
	if strings.HasPrefix(rt, "/app/") && !strings.ContainsAny(rt, "\\\r\n") && !strings.HasPrefix(rt, "//") {
		return rt
	}
	return "/app/contacts/" + url.PathEscape(contactID)
}

// refusePanel shows the contact's page again with msg and status, nothing
// changed; typed values (form) replace the stored ones in the form.
func (s *Server) refusePanel(w http.ResponseWriter, r *http.Request, v *visit, status int, msg string, form url.Values) error {
	p, err := s.contactPanel(r.Context(), v, r.PathValue("id"))
	if err != nil {
		return err
	}
	p.Error = msg
	for _, fs := range [][]panelField{p.Fields, p.Custom} {
		for i := range fs {
			if vals, ok := form[fs[i].Name]; ok && len(vals) > 0 {
				fs[i].Value = vals[0]
			}
		}
	}
	vw := v.view(p.Title, "contacts", p)
	vw.Error = msg
	s.render(w, status, "contact", vw)
	return nil
}

// editContact applies the panel's form to the contact with contact.Apply,
// the validation of the REST API's PUT /contacts/{id} (form text converted
// to JSON as the CSV import converts cells), then store.Contacts.Update,
// which appends contact.*.updated or contact.lead.signed_up, as the API
// does. Only the fields the form carries change.
func (s *Server) editContact(w http.ResponseWriter, r *http.Request, v *visit) error {
	ctx := r.Context()
	c, err := s.cs.contacts.Get(ctx, v.ws.ID, r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) {
		return errNoContact
	} else if err != nil {
		return err
	}
	loaded := c.Role
	form := r.PostForm
	field := func(name string) *string {
		if vals, ok := form[name]; ok {
			return &vals[0]
		}
		return nil
	}
	ch := &contact.Changes{Role: field("role"), Name: field("name"), Email: field("email"), Phone: field("phone"),
		ExternalID: field("external_id"), LanguageOverride: field("language_override")}
	if d := field("signed_up_at"); d != nil {
		ch.SignedUpAt = json.RawMessage("null")
		if v := strings.TrimSpace(*d); v != "" {
			ch.SignedUpAt, _ = json.Marshal(v)
		}
	}
	if u := field("unsubscribed_from_emails"); u != nil {
		yes := *u == "yes"
		ch.UnsubscribedFromEmails = &yes
	}
	list, err := s.cs.attrs.Custom(ctx, v.ws.ID, attribute.ModelContact, true)
	if err != nil {
		return err
	}
	defs := attribute.Index(list)
	for key, vals := range form {
		name, ok := strings.CutPrefix(key, "custom_attributes.")
		if !ok {
			continue
		}
		if ch.CustomAttributes == nil {
			ch.CustomAttributes = map[string]json.RawMessage{}
		}
		val := strings.TrimSpace(vals[0])
		switch def := defs[name]; {
		case val == "":
			ch.CustomAttributes[name] = json.RawMessage("null")
		case def == nil: // refused with the API's message
			ch.CustomAttributes[name], _ = json.Marshal(val)
		default:
			ch.CustomAttributes[name] = csvimport.CellJSON(def, val)
		}
	}
	if err := c.Apply(ch, defs, nil); err != nil {
		var ve *attribute.ValidationError
		if errors.As(err, &ve) {
			return s.refusePanel(w, r, v, http.StatusBadRequest, ve.Message+".", form)
		}
		return err
	}
	err = s.cs.contacts.Update(ctx, c, loaded)
	var ce *store.ConflictError
	switch {
	case errors.As(err, &ce):
		return s.refusePanel(w, r, v, http.StatusConflict, "Another contact already has this email or user ID.", form)
	case errors.Is(err, store.ErrNotFound):
		return errNoContact
	case err != nil:
		return err
	}
	http.Redirect(w, r, returnTo(r, c.ID), http.StatusSeeOther)
	return nil
}

// tagContact adds (tag_id) or removes (remove = a tag id) a tag.
func (s *Server) tagContact(w http.ResponseWriter, r *http.Request, v *visit) error {
	id := r.PathValue("id")
	remove := r.PostFormValue("remove")
	raw := r.PostFormValue("tag_id")
	if remove != "" {
		raw = remove
	}
	tagID, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || tagID <= 0 {
		if _, err := s.cs.contacts.Get(r.Context(), v.ws.ID, id); errors.Is(err, store.ErrNotFound) {
			return errNoContact
		}
		return s.refusePanel(w, r, v, http.StatusBadRequest, "Choose a tag.", nil)
	}
	if remove != "" {
		_, err = s.cs.tags.UntagContact(r.Context(), v.ws.ID, id, tagID, v.admin.ID)
	} else {
		_, err = s.cs.tags.TagContact(r.Context(), v.ws.ID, id, tagID, v.admin.ID)
	}
	switch {
	case store.IsMissing(err, "contact"):
		return errNoContact
	case store.IsMissing(err, "tag"):
		return s.refusePanel(w, r, v, http.StatusBadRequest, "There is no such tag in this workspace.", nil)
	case err != nil:
		return err
	}
	http.Redirect(w, r, returnTo(r, id), http.StatusSeeOther)
	return nil
}

// noteContact adds a note (plain text, escaped into paragraphs as the API
// does) written by the signed-in teammate.
func (s *Server) noteContact(w http.ResponseWriter, r *http.Request, v *visit) error {
	id := r.PathValue("id")
	body := r.PostFormValue("body")
	if _, err := s.cs.contacts.Get(r.Context(), v.ws.ID, id); errors.Is(err, store.ErrNotFound) {
		return errNoContact
	} else if err != nil {
		return err
	}
	if strings.TrimSpace(body) == "" || len(body) > maxReplyBody || strings.ContainsRune(body, 0) {
		return s.refusePanel(w, r, v, http.StatusBadRequest, fmt.Sprintf("Write a note of at most %d bytes.", maxReplyBody), nil)
	}
	author := v.admin.ID
	err := s.cs.notes.Create(r.Context(), &store.Note{WorkspaceID: v.ws.ID, ContactID: id, AuthorID: &author, Body: conversation.TextHTML(body)})
	if store.IsMissing(err, "contact") {
		return errNoContact
	} else if err != nil {
		return err
	}
	http.Redirect(w, r, returnTo(r, id), http.StatusSeeOther)
	return nil
}
