package api

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/parleyhq/parley/internal/conversation"
	"github.com/parleyhq/parley/internal/store"
)

type noteAPI struct {
	s  *Server
	st *store.Notes
}

func newNoteAPI(s *Server) *noteAPI { return &noteAPI{s: s, st: store.NewNotes(s.db)} }

func (s *Server) noteRoutes() {
	h := newNoteAPI(s)
	s.handle("POST /contacts/{id}/notes", h.create)
	s.handle("GET /notes/{id}", h.get)
	s.handle("GET /contacts/{id}/notes", h.list)
}

// maxNoteBody is the longest note body accepted, in bytes.
const maxNoteBody = 64 << 10

var noteTagRe = regexp.MustCompile(`<(?:[a-zA-Z][a-zA-Z0-9-]*|/[a-zA-Z][a-zA-Z0-9-]*|!--)`)

// noteHTML returns the stored form of a note body: HTML is kept as given;
// plain text is escaped and wrapped in paragraphs, as Intercom does (a blank
// line starts a new paragraph, a single line break becomes <br>).
func noteHTML(body string) string {
	if noteTagRe.MatchString(body) {
		return body
	}
	return textHTML(body)
}

// textHTML escapes plain text and wraps it in paragraphs (messages from
// contacts, whose HTML is never kept).
func textHTML(body string) string { return conversation.TextHTML(body) }

func (h *noteAPI) create(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Body      opt[string]          `json:"body"`
		AdminID   opt[json.RawMessage] `json:"admin_id"`
		ContactID opt[json.RawMessage] `json:"contact_id"`
	}
	if err := h.s.decode(w, r, &in); err != nil {
		return err
	}
	contactID := r.PathValue("id")
	if in.ContactID.Set && !in.ContactID.Null {
		if id, ok := looseID(in.ContactID.Value); !ok || id != contactID {
			e := errf(http.StatusBadRequest, "parameter_mismatch", "contact_id in the body does not match the contact in the path")
			e.Field = "contact_id"
			return e
		}
	}
	if !in.Body.Set || in.Body.Null {
		e := errf(http.StatusBadRequest, "parameter_not_found", "body is required")
		e.Field = "body"
		return e
	}
	if strings.TrimSpace(in.Body.Value) == "" {
		return fieldErr("body", "body must not be empty")
	}
	if len(in.Body.Value) > maxNoteBody || strings.ContainsRune(in.Body.Value, 0) {
		return fieldErr("body", "body must be text of at most %d bytes", maxNoteBody)
	}
	auth := authOf(r.Context())
	var author *int64
	if in.AdminID.Set && !in.AdminID.Null {
		id, err := parseIntID(in.AdminID.Value)
		if err != nil || id <= 0 {
			return fieldErr("admin_id", "admin_id must be the id of a teammate")
		}
		author = &id
	} else if auth.AdminID != 0 {
		author = &auth.AdminID
	} else {
		owner, err := h.s.workspaces.Owner(r.Context(), auth.WorkspaceID)
		if err != nil {
			return err
		}
		author = &owner.ID
	}
	n := &store.Note{WorkspaceID: auth.WorkspaceID, ContactID: contactID, AuthorID: author, Body: noteHTML(in.Body.Value)}
	if err := h.st.Create(r.Context(), n); err != nil {
		return refNotFound(err)
	}
	writeJSON(w, http.StatusOK, n)
	return nil
}

func (h *noteAPI) get(w http.ResponseWriter, r *http.Request) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return notFound("not_found", "Resource Not Found")
	}
	n, err := h.st.Get(r.Context(), authOf(r.Context()).WorkspaceID, id)
	if isNotFound(err) {
		return notFound("not_found", "Resource Not Found")
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, n)
	return nil
}

// list is GET /contacts/{id}/notes: newest first, page-number pagination.
func (h *noteAPI) list(w http.ResponseWriter, r *http.Request) error {
	page, n, err := parsePageParams(r.URL.Query(), 50, 150)
	if err != nil {
		return err
	}
	notes, total, err := h.st.ForContact(r.Context(), authOf(r.Context()).WorkspaceID, r.PathValue("id"), (page-1)*n, n)
	if err != nil {
		return refNotFound(err)
	}
	writeJSON(w, http.StatusOK, map[string]any{"type": "list", "data": notes, "total_count": total, "pages": listPages(page, n, total)})
	return nil
}
