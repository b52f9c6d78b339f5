package api

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/parleyhq/parley/internal/attribute"
	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/ids"
)

func (s *Server) contactRoutes() {
	s.handle("POST /contacts", s.createContact)
	s.handle("GET /contacts", s.listContacts)
	s.handle("GET /contacts/{id}", s.getContact)
	s.handle("PUT /contacts/{id}", s.updateContact)
	s.handle("DELETE /contacts/{id}", s.deleteContact)
	s.handle("POST /contacts/{id}/archive", s.archiveContact(true))
	s.handle("POST /contacts/{id}/unarchive", s.archiveContact(false))
	s.handle("POST /contacts/{id}/block", s.blockContact)
	s.handle("GET /contacts/find_by_external_id/{external_id}", s.findContactByExternalID)
	s.handle("POST /contacts/merge", s.mergeContacts)
}

// contactInput is the body of create and update.
type contactInput struct {
	Role                   opt[string]                     `json:"role"`
	ExternalID             opt[string]                     `json:"external_id"`
	Email                  opt[string]                     `json:"email"`
	Phone                  opt[string]                     `json:"phone"`
	Name                   opt[string]                     `json:"name"`
	Avatar                 opt[string]                     `json:"avatar"`
	SignedUpAt             opt[json.RawMessage]            `json:"signed_up_at"`
	LastSeenAt             opt[json.RawMessage]            `json:"last_seen_at"`
	OwnerID                opt[json.RawMessage]            `json:"owner_id"`
	UnsubscribedFromEmails opt[bool]                       `json:"unsubscribed_from_emails"`
	LanguageOverride       opt[string]                     `json:"language_override"`
	CustomAttributes       opt[map[string]json.RawMessage] `json:"custom_attributes"`
}

// strField validates an optional string field and applies it to dst.
func strField(name string, o opt[string], dst **string, maxLen int) error {
	if !o.Set {
		return nil
	}
	if o.Null {
		*dst = nil
		return nil
	}
	v := strings.TrimSpace(o.Value)
	if len(v) > maxLen {
		return fieldErr(name, "%s is longer than %d bytes", name, maxLen)
	}
	if strings.ContainsRune(v, 0) {
		return fieldErr(name, "%s contains a NUL character", name)
	}
	if v == "" {
		*dst = nil
		return nil
	}
	*dst = &v
	return nil
}

func timeField(name string, o opt[json.RawMessage], dst **int64) error {
	if !o.Set {
		return nil
	}
	if o.Null {
		*dst = nil
		return nil
	}
	t, err := attribute.ParseTime(o.Value)
	if err != nil {
		return fieldErr(name, "%s %s", name, err.Error())
	}
	*dst = &t
	return nil
}

// optString is a string field of contact.Changes: nil when absent, ""
// (clear) when null.
func optString(o opt[string]) *string {
	if !o.Set {
		return nil
	}
	v := o.Value
	if o.Null {
		v = ""
	}
	return &v
}

// optRaw is a JSON field of contact.Changes: nil when absent, null when null.
func optRaw(o opt[json.RawMessage]) json.RawMessage {
	switch {
	case !o.Set:
		return nil
	case o.Null:
		return json.RawMessage("null")
	}
	return o.Value
}

// apply validates in and applies it to c with contact.Apply (the rules the
// web app's contact form shares). defs are the workspace's contact custom
// attributes.
func (s *Server) applyContactInput(r *http.Request, c *contact.Contact, in *contactInput, defs attribute.Defs) error {
	ch := &contact.Changes{ExternalID: optString(in.ExternalID), Email: optString(in.Email), Phone: optString(in.Phone),
		Name: optString(in.Name), Avatar: optString(in.Avatar), LanguageOverride: optString(in.LanguageOverride),
		SignedUpAt: optRaw(in.SignedUpAt), LastSeenAt: optRaw(in.LastSeenAt), OwnerID: optRaw(in.OwnerID)}
	if in.Role.Set {
		ch.Role = optString(in.Role)
	}
	if in.UnsubscribedFromEmails.Set {
		ch.UnsubscribedFromEmails = &in.UnsubscribedFromEmails.Value
	}
	if in.CustomAttributes.Set && !in.CustomAttributes.Null {
		ch.CustomAttributes = in.CustomAttributes.Value
		if ch.CustomAttributes == nil {
			ch.CustomAttributes = map[string]json.RawMessage{}
		}
	}
	return c.Apply(ch, defs, func(raw json.RawMessage) (int64, error) {
		id, err := parseIntID(raw)
		if err != nil {
			return 0, fieldErr("owner_id", "owner_id must be the id of a teammate")
		}
		if _, err := s.workspaces.Admin(r.Context(), c.WorkspaceID, id); err != nil {
			if isNotFound(err) {
				return 0, fieldErr("owner_id", "owner_id %d is not a teammate of this workspace", id)
			}
			return 0, err
		}
		return id, nil
	})
}

// contactOut renders a contact in the shape of the request's version.
func contactOut(r *http.Request, c *contact.Contact) any {
	if authOf(r.Context()).AtLeast(16) {
		return contact.V216{Contact: c}
	}
	return c
}

// parseIntID accepts an integer or a string of digits.
func parseIntID(raw json.RawMessage) (int64, error) {
	var n int64
	if err := json.Unmarshal(raw, &n); err == nil {
		return n, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return 0, err
	}
	return strconv.ParseInt(s, 10, 64)
}

func (s *Server) contactDefs(r *http.Request) (attribute.Defs, error) {
	list, err := s.attributes.Custom(r.Context(), authOf(r.Context()).WorkspaceID, attribute.ModelContact, true)
	if err != nil {
		return nil, err
	}
	return attribute.Index(list), nil
}

func (s *Server) createContact(w http.ResponseWriter, r *http.Request) error {
	var in contactInput
	if err := s.decode(w, r, &in); err != nil {
		return err
	}
	if !in.Role.Set && !in.Email.Set && !in.ExternalID.Set {
		return errf(http.StatusBadRequest, "parameter_invalid", "Provide at least one of role, email or external_id")
	}
	defs, err := s.contactDefs(r)
	if err != nil {
		return err
	}
	c := &contact.Contact{WorkspaceID: authOf(r.Context()).WorkspaceID, ID: ids.New()}
	if err := s.applyContactInput(r, c, &in, defs); err != nil {
		return err
	}
	if err := s.contacts.Create(r.Context(), c); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, contactOut(r, c))
	return nil
}

func (s *Server) loadContact(r *http.Request, id string) (*contact.Contact, error) {
	c, err := s.contacts.Get(r.Context(), authOf(r.Context()).WorkspaceID, id)
	if isNotFound(err) {
		return nil, notFound("not_found", "User Not Found")
	}
	return c, err
}

func (s *Server) getContact(w http.ResponseWriter, r *http.Request) error {
	c, err := s.loadContact(r, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, contactOut(r, c))
	return nil
}

func (s *Server) updateContact(w http.ResponseWriter, r *http.Request) error {
	var in contactInput
	if err := s.decode(w, r, &in); err != nil {
		return err
	}
	c, err := s.loadContact(r, r.PathValue("id"))
	if err != nil {
		return err
	}
	defs, err := s.contactDefs(r)
	if err != nil {
		return err
	}
	loadedRole := c.Role
	if err := s.applyContactInput(r, c, &in, defs); err != nil {
		return err
	}
	if err := s.contacts.Update(r.Context(), c, loadedRole); err != nil {
		if isNotFound(err) {
			return notFound("not_found", "User Not Found")
		}
		return err
	}
	writeJSON(w, http.StatusOK, contactOut(r, c))
	return nil
}

func (s *Server) deleteContact(w http.ResponseWriter, r *http.Request) error {
	c, err := s.contacts.Delete(r.Context(), authOf(r.Context()).WorkspaceID, r.PathValue("id"))
	if isNotFound(err) {
		return notFound("not_found", "User Not Found")
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c.Reference("deleted"))
	return nil
}

func (s *Server) archiveContact(archived bool) handler {
	return func(w http.ResponseWriter, r *http.Request) error {
		c, err := s.contacts.SetArchived(r.Context(), authOf(r.Context()).WorkspaceID, r.PathValue("id"), archived)
		if isNotFound(err) {
			return notFound("not_found", "User Not Found")
		}
		if err != nil {
			return err
		}
		ref := c.Reference("archived")
		ref["archived"] = archived
		writeJSON(w, http.StatusOK, ref)
		return nil
	}
}

func (s *Server) blockContact(w http.ResponseWriter, r *http.Request) error {
	c, err := s.contacts.Block(r.Context(), authOf(r.Context()).WorkspaceID, r.PathValue("id"))
	if isNotFound(err) {
		return notFound("not_found", "User Not Found")
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c.Reference("blocked"))
	return nil
}

func (s *Server) findContactByExternalID(w http.ResponseWriter, r *http.Request) error {
	c, err := s.contacts.ByExternalID(r.Context(), authOf(r.Context()).WorkspaceID, r.PathValue("external_id"))
	if isNotFound(err) {
		return notFound("not_found", "User Not Found")
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, contactOut(r, c))
	return nil
}

func (s *Server) mergeContacts(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		From string `json:"from"`
		Into string `json:"into"`
	}
	if err := s.decode(w, r, &in); err != nil {
		return err
	}
	if in.From == "" || in.Into == "" {
		return errf(http.StatusBadRequest, "parameter_not_found", "from and into are both required")
	}
	c, err := s.contacts.Merge(r.Context(), authOf(r.Context()).WorkspaceID, in.From, in.Into)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, contactOut(r, c))
	return nil
}

func (s *Server) listContacts(w http.ResponseWriter, r *http.Request) error {
	return writeContactPage(w, r, func(after string, limit int) ([]*contact.Contact, int, error) {
		return s.contacts.List(r.Context(), authOf(r.Context()).WorkspaceID, after, limit)
	})
}

// writeContactPage answers one page of a cursor-paginated contact list
// (per_page default 50, at most 150; starting_after from the previous
// page). list returns up to limit contacts with id > after, and the total.
func writeContactPage(w http.ResponseWriter, r *http.Request, list func(after string, limit int) ([]*contact.Contact, int, error)) error {
	q := r.URL.Query()
	n, err := perPage(q.Get("per_page"), 50, 150)
	if err != nil {
		return err
	}
	cur, err := decodeCursor(q.Get("starting_after"))
	if err != nil {
		return err
	}
	page, total, err := list(cur.After, n+1)
	if err != nil {
		return err
	}
	pages := cursorPages{Type: "pages", Page: cur.Page, PerPage: n, TotalPages: totalPages(total, n)}
	if len(page) > n {
		page = page[:n]
		pages.Next = &nextPage{PerPage: n, StartingAfter: cursor{After: page[len(page)-1].ID, Page: cur.Page + 1}.encode()}
	}
	writeContactList(w, r, page, total, pages)
	return nil
}

// writeContactList answers a contact_list in the request's version.
func writeContactList(w http.ResponseWriter, r *http.Request, list []*contact.Contact, total int, pages cursorPages) {
	writeJSON(w, http.StatusOK, contactList{r: r, list: list, total: total, pages: pages})
}

// contactList renders a contact_list, its contacts through their own
// renderer (see writeJSON) rather than re-scanned by json.Marshal.
type contactList struct {
	r     *http.Request
	list  []*contact.Contact
	total int
	pages cursorPages
}

func (l contactList) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 64+1600*len(l.list))
	b = append(b, `{"data":[`...)
	for i, c := range l.list {
		if i > 0 {
			b = append(b, ',')
		}
		one, err := contactOut(l.r, c).(json.Marshaler).MarshalJSON()
		if err != nil {
			return nil, err
		}
		b = append(b, one...)
	}
	pages, err := json.Marshal(l.pages)
	if err != nil {
		return nil, err
	}
	b = append(append(append(b, `],"pages":`...), pages...), `,"total_count":`...)
	b = strconv.AppendInt(b, int64(l.total), 10)
	return append(b, `,"type":"list"}`...), nil
}
