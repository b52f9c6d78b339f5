package api

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/parleyhq/parley/internal/store"
	"github.com/parleyhq/parley/internal/team"
	"github.com/parleyhq/parley/internal/workspace"
)

func (s *Server) adminRoutes() {
	s.handle("GET /me", s.getMe)
	s.handle("GET /admins", s.listAdmins)
	s.handle("GET /admins/{id}", s.getAdmin)
	s.handle("PUT /admins/{id}/away", s.setAway)
}

// adminJSON renders an admin with their team ids.
func (s *Server) adminJSON(r *http.Request, a *workspace.Admin) (map[string]any, error) {
	teams, err := s.teams.AdminTeamIDs(r.Context(), a.WorkspaceID)
	if err != nil {
		return nil, err
	}
	return team.Admin(a, teams[a.ID]), nil
}

func (s *Server) getMe(w http.ResponseWriter, r *http.Request) error {
	auth := authOf(r.Context())
	ws, err := s.workspaces.Workspace(r.Context(), auth.WorkspaceID)
	if err != nil {
		return err
	}
	var a *workspace.Admin
	if auth.AdminID != 0 {
		a, err = s.workspaces.Admin(r.Context(), auth.WorkspaceID, auth.AdminID)
	} else {
		a, err = s.workspaces.Owner(r.Context(), auth.WorkspaceID)
	}
	if err != nil {
		return err
	}
	var img any
	if a.Avatar != "" {
		img = a.Avatar
	}
	out, err := s.adminJSON(r, a)
	if err != nil {
		return err
	}
	out["avatar"] = map[string]any{"type": "avatar", "image_url": img}
	out["email_verified"] = true
	out["app"] = map[string]any{
		"type": "app", "id_code": ws.ID, "name": ws.Name, "region": "Self-hosted", "timezone": ws.TimeZone,
		"created_at": ws.CreatedAt, "identity_verification": false,
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) listAdmins(w http.ResponseWriter, r *http.Request) error {
	ws := authOf(r.Context()).WorkspaceID
	list, err := s.workspaces.Admins(r.Context(), ws)
	if err != nil {
		return err
	}
	teams, err := s.teams.AdminTeamIDs(r.Context(), ws)
	if err != nil {
		return err
	}
	out := make([]any, 0, len(list))
	for _, a := range list {
		out = append(out, team.Admin(a, teams[a.ID]))
	}
	writeJSON(w, http.StatusOK, map[string]any{"type": "admin.list", "admins": out})
	return nil
}

func (s *Server) getAdmin(w http.ResponseWriter, r *http.Request) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return notFound("admin_not_found", "Admin not found")
	}
	a, err := s.workspaces.Admin(r.Context(), authOf(r.Context()).WorkspaceID, id)
	if err != nil {
		if isNotFound(err) {
			return notFound("admin_not_found", "Admin not found")
		}
		return err
	}
	out, err := s.adminJSON(r, a)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// setAway is PUT /admins/{id}/away. Going away with away_mode_reassign
// sends the admin's open conversations back through their teams'
// distribution; coming back hands their teams' waiting conversations out.
// Parley has no away status reasons, so away_status_reason_id must be
// absent or null.
func (s *Server) setAway(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		AwayModeEnabled    opt[bool]            `json:"away_mode_enabled"`
		AwayModeReassign   opt[bool]            `json:"away_mode_reassign"`
		AwayStatusReasonID opt[json.RawMessage] `json:"away_status_reason_id"`
	}
	if err := s.decode(w, r, &in); err != nil {
		return err
	}
	if !in.AwayModeEnabled.Set || in.AwayModeEnabled.Null {
		return missing("away_mode_enabled")
	}
	if !in.AwayModeReassign.Set || in.AwayModeReassign.Null {
		return missing("away_mode_reassign")
	}
	if in.AwayStatusReasonID.Set && !in.AwayStatusReasonID.Null {
		return fieldErr("away_status_reason_id", "Away status reason not found: this workspace has none")
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return notFound("admin_not_found", "Admin for admin_id not found")
	}
	a, teamIDs, err := s.teams.SetAway(r.Context(), authOf(r.Context()).WorkspaceID, id, in.AwayModeEnabled.Value, in.AwayModeReassign.Value)
	if store.IsMissing(err, "admin") {
		return notFound("admin_not_found", "Admin for admin_id not found")
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, team.Admin(a, teamIDs))
	return nil
}
