package api

import (
	"net/http"
	"strconv"

	"github.com/parleyhq/parley/internal/workspace"
)

func (s *Server) adminRoutes() {
	s.handle("GET /me", s.getMe)
	s.handle("GET /admins", s.listAdmins)
	s.handle("GET /admins/{id}", s.getAdmin)
}

func adminJSON(a *workspace.Admin) map[string]any {
	var avatar any
	if a.Avatar != "" {
		avatar = a.Avatar
	}
	return map[string]any{
		"type": "admin", "id": strconv.FormatInt(a.ID, 10), "name": a.Name, "email": a.Email,
		"job_title": a.JobTitle, "away_mode_enabled": a.AwayModeEnabled, "away_mode_reassign": a.AwayModeReassign,
		"has_inbox_seat": true, "team_ids": []int64{}, "avatar": avatar,
	}
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
	out := adminJSON(a)
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
	list, err := s.workspaces.Admins(r.Context(), authOf(r.Context()).WorkspaceID)
	if err != nil {
		return err
	}
	out := make([]any, 0, len(list))
	for _, a := range list {
		out = append(out, adminJSON(a))
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
	writeJSON(w, http.StatusOK, adminJSON(a))
	return nil
}
