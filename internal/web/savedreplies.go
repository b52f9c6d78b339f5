package web

// Saved replies (docs/web.md "Saved replies"): owners and admins write
// them in settings; every teammate inserts them in the composer, with the
// contact's placeholders filled in.

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/parleyhq/parley/internal/conversation"
	"github.com/parleyhq/parley/internal/store"
)

const (
	maxSavedReplyName = 190
	maxSavedReplyBody = 65536
)

type savedRepliesData struct {
	Replies []*store.SavedReply
	ID      int64 // the reply being edited (0: a new one)
	Name    string
	Body    string
	Error   string
	Saved   bool
}

// savedReplyOption is a saved reply as the composer offers it: its text
// with this conversation's placeholders filled in.
type savedReplyOption struct {
	ID   int64
	Name string
	Text string
}

func (s *Server) savedReplyRoutes(mux *http.ServeMux) {
	mux.Handle("GET /app/settings/saved-replies", s.page(managers, s.savedRepliesPage))
	mux.Handle("POST /app/settings/saved-replies", s.page(managers, s.saveSavedReply))
	mux.Handle("GET /app/settings/saved-replies/{id}", s.page(managers, s.savedRepliesPage))
	mux.Handle("POST /app/settings/saved-replies/{id}", s.page(managers, s.saveSavedReply))
	mux.Handle("POST /app/settings/saved-replies/{id}/delete", s.page(managers, s.deleteSavedReply))
}

func (s *Server) showSavedReplies(w http.ResponseWriter, r *http.Request, v *visit, status int, d savedRepliesData) error {
	list, err := store.NewSavedReplies(s.db).List(r.Context(), v.ws.ID)
	if err != nil {
		return err
	}
	d.Replies = list
	s.render(w, status, "savedreplies", v.view("Saved replies", "settings", d))
	return nil
}

// savedRepliesPage lists the saved replies with the form for a new one,
// or (with an id) the form editing that one.
func (s *Server) savedRepliesPage(w http.ResponseWriter, r *http.Request, v *visit) error {
	d := savedRepliesData{Saved: r.URL.Query().Get("saved") == "1"}
	if raw := r.PathValue("id"); raw != "" {
		sr, err := s.savedReplyOf(r, v, raw)
		if err != nil {
			return err
		}
		d.ID, d.Name, d.Body = sr.ID, sr.Name, sr.Body
	}
	return s.showSavedReplies(w, r, v, http.StatusOK, d)
}

func (s *Server) saveSavedReply(w http.ResponseWriter, r *http.Request, v *visit) error {
	d := savedRepliesData{Name: strings.TrimSpace(r.PostFormValue("name")), Body: strings.TrimSpace(r.PostFormValue("body"))}
	sr := &store.SavedReply{WorkspaceID: v.ws.ID, CreatedBy: v.admin.ID}
	if raw := r.PathValue("id"); raw != "" {
		old, err := s.savedReplyOf(r, v, raw)
		if err != nil {
			return err
		}
		sr.ID, d.ID = old.ID, old.ID
	}
	switch {
	case d.Name == "" || utf8.RuneCountInString(d.Name) > maxSavedReplyName || !utf8.ValidString(d.Name) || strings.ContainsRune(d.Name, 0):
		d.Error = "Enter a name of at most 190 characters."
	case d.Body == "" || len(d.Body) > maxSavedReplyBody || !utf8.ValidString(d.Body) || strings.ContainsRune(d.Body, 0):
		d.Error = "Write the reply's text, at most 64 KB."
	}
	if d.Error != "" {
		return s.showSavedReplies(w, r, v, http.StatusBadRequest, d)
	}
	sr.Name, sr.Body = d.Name, d.Body
	err := store.NewSavedReplies(s.db).Save(r.Context(), sr)
	switch {
	case errors.Is(err, store.ErrConflict):
		d.Error = "Another saved reply is called " + d.Name + ". Choose another name."
		return s.showSavedReplies(w, r, v, http.StatusConflict, d)
	case errors.Is(err, store.ErrNotFound):
		return errNoSavedReply
	case err != nil:
		return err
	}
	http.Redirect(w, r, "/app/settings/saved-replies?saved=1", http.StatusSeeOther)
	return nil
}

func (s *Server) deleteSavedReply(w http.ResponseWriter, r *http.Request, v *visit) error {
	sr, err := s.savedReplyOf(r, v, r.PathValue("id"))
	if err != nil {
		return err
	}
	if err := store.NewSavedReplies(s.db).Delete(r.Context(), v.ws.ID, sr.ID); errors.Is(err, store.ErrNotFound) {
		return errNoSavedReply
	} else if err != nil {
		return err
	}
	http.Redirect(w, r, "/app/settings/saved-replies", http.StatusSeeOther)
	return nil
}

// fillPlaceholders replaces a saved reply's placeholders for the
// conversation's contact and the teammate: {{first_name}} ("there" when
// the name is unknown, as in "Hi {{first_name}}"), {{name}}, {{email}}
// and {{teammate_name}}; unknown ones stay as written.
func fillPlaceholders(text string, c *conversation.Conversation, v *visit) string {
	a := c.Source.Author
	name, first := "", "there"
	if a.IsContact() && a.Name != nil && strings.TrimSpace(*a.Name) != "" {
		name = strings.TrimSpace(*a.Name)
		first = strings.Fields(name)[0]
	}
	email := ""
	if a.IsContact() {
		email = a.Email
	}
	return strings.NewReplacer("{{first_name}}", first, "{{name}}", name, "{{email}}", email, "{{teammate_name}}", v.admin.Name).Replace(text)
}

// savedReplyOptions fills the composer's saved reply picker and, for the
// no-JS picker (?saved=ID), the composer's text.
func (s *Server) savedReplyOptions(r *http.Request, v *visit, c *conversation.Conversation, d *conversationData) error {
	list, err := store.NewSavedReplies(s.db).List(r.Context(), v.ws.ID)
	if err != nil {
		return err
	}
	want, _ := strconv.ParseInt(r.URL.Query().Get("saved"), 10, 64)
	for _, sr := range list {
		o := savedReplyOption{ID: sr.ID, Name: sr.Name, Text: fillPlaceholders(sr.Body, c, v)}
		if sr.ID == want && r.Method == http.MethodGet {
			d.Draft = o.Text
		}
		d.Replies = append(d.Replies, o)
	}
	if want != 0 && d.Draft == "" && r.Method == http.MethodGet && d.Error == "" {
		d.Error = "That saved reply does not exist (any more)."
	}
	return nil
}
