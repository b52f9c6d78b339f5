package web

import (
	"net/http"
	"strings"
	"unicode/utf8"
)

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
