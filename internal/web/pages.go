package web

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/parleyhq/parley/internal/store"
	"github.com/parleyhq/parley/internal/workspace"
)

type settingsData struct {
	Admins []*workspace.Admin
	Tokens []*workspace.Token
	Names  map[int64]string // admin id → name, for token owners
}

// settingsPage lists the workspace's teammates and access tokens (owner
// and admin only; the route enforces it).
func (s *Server) settingsPage(w http.ResponseWriter, r *http.Request, v *visit) error {
	admins, err := s.ws.Admins(r.Context(), v.ws.ID)
	if err != nil {
		return err
	}
	tokens, err := s.sessions.Tokens(r.Context(), v.ws.ID)
	if err != nil {
		return err
	}
	names := map[int64]string{}
	for _, a := range admins {
		names[a.ID] = a.Name
	}
	s.render(w, http.StatusOK, "settings", v.view("Settings", "settings", settingsData{Admins: admins, Tokens: tokens, Names: names}))
	return nil
}

// revokeToken revokes one of the workspace's access tokens.
func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request, v *visit) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return pageErr(http.StatusNotFound, "Token not found", "There is no such access token in this workspace.")
	}
	if err := s.sessions.RevokeToken(r.Context(), v.ws.ID, id); errors.Is(err, store.ErrNotFound) {
		return pageErr(http.StatusNotFound, "Token not found", "There is no such access token in this workspace.")
	} else if err != nil {
		return err
	}
	http.Redirect(w, r, "/app/settings", http.StatusSeeOther)
	return nil
}

type profileData struct {
	Name  string
	Saved bool
}

func (s *Server) profilePage(w http.ResponseWriter, r *http.Request, v *visit) error {
	s.render(w, http.StatusOK, "profile", v.view("Your profile", "profile", profileData{Name: v.admin.Name, Saved: r.URL.Query().Get("saved") == "1"}))
	return nil
}

// saveProfile sets the teammate's name and away mode. Away mode goes
// through Teams.SetAway, so going away with reassignment hands open
// conversations back to the teams.
func (s *Server) saveProfile(w http.ResponseWriter, r *http.Request, v *visit) error {
	name := strings.TrimSpace(r.PostFormValue("name"))
	away := r.PostFormValue("away") == "on"
	reassign := r.PostFormValue("reassign") == "on"
	if name == "" || utf8.RuneCountInString(name) > 190 || !utf8.ValidString(name) {
		vw := v.view("Your profile", "profile", profileData{Name: name})
		vw.Error = "Enter a name of at most 190 characters."
		s.render(w, http.StatusBadRequest, "profile", vw)
		return nil
	}
	if name != v.admin.Name {
		if _, err := s.sessions.SetAdminName(r.Context(), v.ws.ID, v.admin.ID, name); err != nil {
			return err
		}
	}
	if away != v.admin.AwayModeEnabled || reassign != v.admin.AwayModeReassign {
		if _, _, err := s.teams.SetAway(r.Context(), v.ws.ID, v.admin.ID, away, reassign); err != nil {
			return err
		}
	}
	http.Redirect(w, r, "/app/profile?saved=1", http.StatusSeeOther)
	return nil
}
