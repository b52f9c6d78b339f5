package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/parleyhq/parley/internal/store"
)

type tagAPI struct {
	s  *Server
	st *store.Tags
}

func newTagAPI(s *Server) *tagAPI { return &tagAPI{s: s, st: store.NewTags(s.db)} }

func (s *Server) tagRoutes() {
	h := newTagAPI(s)
	s.handle("GET /tags", h.list)
	s.handle("POST /tags", h.create)
	s.handle("GET /tags/{id}", h.get)
	s.handle("DELETE /tags/{id}", h.delete)
	s.handle("POST /contacts/{id}/tags", h.tagContact)
	s.handle("DELETE /contacts/{contact_id}/tags/{id}", h.untagContact)
	s.handle("GET /contacts/{id}/tags", h.contactTags)
}

// maxTagName is the longest tag name accepted, in bytes.
const maxTagName = 255

// maxTagItems is how many companies plus users one POST /tags may name.
const maxTagItems = 1000

// parseTagID parses a tag id from a path or body; ok is false when it cannot be
// the id of any tag.
func parseTagID(raw string) (int64, bool) {
	id, err := strconv.ParseInt(strings.TrimSpace(raw), 10, 64)
	return id, err == nil && id > 0
}

func tagName(o opt[string]) (string, error) {
	if !o.Set || o.Null {
		e := errf(http.StatusBadRequest, "parameter_not_found", "name is required")
		e.Field = "name"
		return "", e
	}
	name := strings.TrimSpace(o.Value)
	switch {
	case name == "":
		return "", fieldErr("name", "name must not be empty")
	case len(name) > maxTagName:
		return "", fieldErr("name", "name is longer than %d bytes", maxTagName)
	case strings.ContainsRune(name, 0) || !utf8.ValidString(name):
		return "", fieldErr("name", "name must be valid text")
	}
	return name, nil
}

func (h *tagAPI) list(w http.ResponseWriter, r *http.Request) error {
	tags, err := h.st.List(r.Context(), authOf(r.Context()).WorkspaceID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"type": "list", "data": tags})
	return nil
}

func (h *tagAPI) load(r *http.Request, raw string) (*store.Tag, error) {
	id, ok := parseTagID(raw)
	if !ok {
		return nil, errNoSuchTag
	}
	t, err := h.st.Get(r.Context(), authOf(r.Context()).WorkspaceID, id)
	if isNotFound(err) {
		return nil, errNoSuchTag
	}
	return t, err
}

func (h *tagAPI) get(w http.ResponseWriter, r *http.Request) error {
	t, err := h.load(r, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, t)
	return nil
}

// delete is DELETE /tags/{id}: the tag leaves every contact and company.
// Intercom answers 200 with an empty body, and refuses to delete a tag
// that segments filter on.
func (h *tagAPI) delete(w http.ResponseWriter, r *http.Request) error {
	id, ok := parseTagID(r.PathValue("id"))
	if !ok {
		return errNoSuchTag
	}
	if _, err := h.st.Delete(r.Context(), authOf(r.Context()).WorkspaceID, id); err != nil {
		var inUse *store.TagInUseError
		if errors.As(err, &inUse) {
			return errf(http.StatusBadRequest, "tag_has_dependent_objects", "%s", inUse.Error())
		}
		if isNotFound(err) {
			return errNoSuchTag
		}
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

type tagCompanyItem struct {
	ID        opt[json.RawMessage] `json:"id"`
	CompanyID opt[json.RawMessage] `json:"company_id"`
	Untag     opt[bool]            `json:"untag"`
}

type tagUserItem struct {
	ID     opt[json.RawMessage] `json:"id"`
	UserID opt[json.RawMessage] `json:"user_id"`
	Email  opt[string]          `json:"email"`
	Untag  opt[bool]            `json:"untag"`
}

// optLooseID reads an optional id given as a string or an integer.
func optLooseID(field string, o opt[json.RawMessage]) (string, error) {
	if !o.Set || o.Null {
		return "", nil
	}
	id, ok := looseID(o.Value)
	if !ok || len(id) > maxStringField || strings.ContainsRune(id, 0) {
		return "", fieldErr(field, "%s must be a string", field)
	}
	return id, nil
}

// create is POST /tags. One endpoint, four bodies: {name} creates the tag
// (or returns the one with that name, ignoring case); {name, id} renames
// tag id; {name, companies} tags or untags companies; {name, users} tags or
// untags contacts.
func (h *tagAPI) create(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Name      opt[string]           `json:"name"`
		ID        opt[json.RawMessage]  `json:"id"`
		Companies opt[[]tagCompanyItem] `json:"companies"`
		Users     opt[[]tagUserItem]    `json:"users"`
	}
	if err := h.s.decode(w, r, &in); err != nil {
		return err
	}
	name, err := tagName(in.Name)
	if err != nil {
		return err
	}
	ws := authOf(r.Context()).WorkspaceID
	bulk := in.Companies.Set || in.Users.Set
	if in.ID.Set && !in.ID.Null {
		if bulk {
			return badRequest("id renames a tag and cannot be combined with companies or users")
		}
		raw, err := optLooseID("id", in.ID)
		if err != nil {
			return err
		}
		id, ok := parseTagID(raw)
		if !ok {
			return errNoSuchTag
		}
		t, err := h.st.Rename(r.Context(), ws, id, name)
		if err != nil {
			return refNotFound(err)
		}
		writeJSON(w, http.StatusOK, t.Basic())
		return nil
	}
	if !bulk {
		t, _, err := h.st.Ensure(r.Context(), ws, name)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, t.Basic())
		return nil
	}
	if len(in.Companies.Value)+len(in.Users.Value) > maxTagItems {
		return badRequest("at most %d companies and users can be tagged at once", maxTagItems)
	}
	companies := make([]store.CompanyRef, 0, len(in.Companies.Value))
	for i, c := range in.Companies.Value {
		field := "companies[" + strconv.Itoa(i) + "]"
		id, err := optLooseID(field+".id", c.ID)
		if err != nil {
			return err
		}
		cid, err := optLooseID(field+".company_id", c.CompanyID)
		if err != nil {
			return err
		}
		if id == "" && cid == "" {
			return fieldErr(field, "each company needs an id or a company_id")
		}
		companies = append(companies, store.CompanyRef{ID: id, CompanyID: cid, Untag: c.Untag.Value})
	}
	users := make([]store.ContactRef, 0, len(in.Users.Value))
	for i, u := range in.Users.Value {
		field := "users[" + strconv.Itoa(i) + "]"
		id, err := optLooseID(field+".id", u.ID)
		if err != nil {
			return err
		}
		ext, err := optLooseID(field+".user_id", u.UserID)
		if err != nil {
			return err
		}
		email := strings.TrimSpace(u.Email.Value)
		if id == "" && ext == "" && email == "" {
			return fieldErr(field, "each user needs an id, a user_id or an email")
		}
		users = append(users, store.ContactRef{ID: id, ExternalID: ext, Email: email, Untag: u.Untag.Value})
	}
	t, err := h.st.Apply(r.Context(), ws, name, companies, users)
	if err != nil {
		return refNotFound(err)
	}
	writeJSON(w, http.StatusOK, t.Basic())
	return nil
}

// contactTags is GET /contacts/{id}/tags.
func (h *tagAPI) contactTags(w http.ResponseWriter, r *http.Request) error {
	tags, err := h.st.ContactTags(r.Context(), authOf(r.Context()).WorkspaceID, r.PathValue("id"))
	if err != nil {
		return refNotFound(err)
	}
	writeJSON(w, http.StatusOK, map[string]any{"type": "list", "data": tags})
	return nil
}

// tagContact is POST /contacts/{id}/tags with {"id": tag id}.
func (h *tagAPI) tagContact(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		ID opt[json.RawMessage] `json:"id"`
	}
	if err := h.s.decode(w, r, &in); err != nil {
		return err
	}
	raw, err := optLooseID("id", in.ID)
	if err != nil {
		return err
	}
	if raw == "" {
		e := errf(http.StatusBadRequest, "parameter_not_found", "tag not specified")
		e.Field = "id"
		return e
	}
	auth := authOf(r.Context())
	id, ok := parseTagID(raw)
	if !ok {
		// Still answer "User Not Found" first when the contact is unknown.
		if _, err := h.s.contacts.Get(r.Context(), auth.WorkspaceID, r.PathValue("id")); isNotFound(err) {
			return errNoSuchContact
		}
		return errNoSuchTag
	}
	t, err := h.st.TagContact(r.Context(), auth.WorkspaceID, r.PathValue("id"), id, auth.AdminID)
	if err != nil {
		return refNotFound(err)
	}
	writeJSON(w, http.StatusOK, t)
	return nil
}

// untagContact is DELETE /contacts/{contact_id}/tags/{id}.
func (h *tagAPI) untagContact(w http.ResponseWriter, r *http.Request) error {
	auth := authOf(r.Context())
	id, ok := parseTagID(r.PathValue("id"))
	if !ok {
		if _, err := h.s.contacts.Get(r.Context(), auth.WorkspaceID, r.PathValue("contact_id")); isNotFound(err) {
			return errNoSuchContact
		}
		return errNoSuchTag
	}
	t, err := h.st.UntagContact(r.Context(), auth.WorkspaceID, r.PathValue("contact_id"), id, auth.AdminID)
	if err != nil {
		return refNotFound(err)
	}
	writeJSON(w, http.StatusOK, t)
	return nil
}
