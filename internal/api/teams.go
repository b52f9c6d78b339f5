package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/parleyhq/parley/internal/assign"
	"github.com/parleyhq/parley/internal/query"
	"github.com/parleyhq/parley/internal/store"
	"github.com/parleyhq/parley/internal/team"
)

// Teams: Intercom's reads (GET /teams, GET /teams/{id}) and Parley's writes
// (POST, PUT, DELETE) with distribution settings; assignment rules are a
// Parley extension (/assignment_rules).
func (s *Server) teamRoutes() {
	rules := store.NewAssignmentRules(s.db)
	s.handle("GET /teams", s.listTeams)
	s.handle("POST /teams", s.createTeam)
	s.handle("GET /teams/{id}", s.getTeam)
	s.handle("PUT /teams/{id}", s.updateTeam)
	s.handle("DELETE /teams/{id}", s.deleteTeam)
	h := &ruleAPI{s: s, st: rules}
	s.handle("GET /assignment_rules", h.list)
	s.handle("POST /assignment_rules", h.create)
	s.handle("GET /assignment_rules/{id}", h.get)
	s.handle("PUT /assignment_rules/{id}", h.update)
	s.handle("DELETE /assignment_rules/{id}", h.delete)
}

var (
	errNoSuchTeam  = notFound("team_not_found", "Team not found")
	errNoSuchAdmin = notFound("admin_not_found", "Admin not found")
	errNoSuchRule  = notFound("not_found", "Assignment rule not found")
)

// teamRefErr maps the store's missing references to API errors.
func teamRefErr(err error) error {
	var inUse *store.TeamInUseError
	switch {
	case errors.As(err, &inUse):
		return errf(http.StatusBadRequest, "team_has_dependent_objects", "%s", inUse.Error())
	case store.IsMissing(err, "team"):
		return errNoSuchTeam
	case store.IsMissing(err, "admin"):
		return errNoSuchAdmin
	case store.IsMissing(err, "assignment_rule"):
		return errNoSuchRule
	}
	return err
}

// pathID parses a positive integer id from the path; 0 when it is not one.
func pathID(r *http.Request) int64 {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0
	}
	return id
}

func (s *Server) listTeams(w http.ResponseWriter, r *http.Request) error {
	list, err := s.teams.List(r.Context(), authOf(r.Context()).WorkspaceID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"type": "team.list", "teams": list})
	return nil
}

func (s *Server) getTeam(w http.ResponseWriter, r *http.Request) error {
	t, err := s.teams.Get(r.Context(), authOf(r.Context()).WorkspaceID, pathID(r))
	if err != nil {
		return teamRefErr(err)
	}
	writeJSON(w, http.StatusOK, t)
	return nil
}

type priorityLevel struct {
	Primary   opt[[]int64] `json:"primary_admin_ids"`
	Secondary opt[[]int64] `json:"secondary_admin_ids"`
}

type teamInput struct {
	Name               opt[string]    `json:"name"`
	DistributionMethod opt[string]    `json:"distribution_method"`
	AssignmentLimit    opt[int]       `json:"assignment_limit"`
	AdminIDs           opt[[]int64]   `json:"admin_ids"`
	AdminPriorityLevel *priorityLevel `json:"admin_priority_level"`
}

// checkName validates a required, trimmed display name.
func checkName(field string, o opt[string], maxLen int) (string, error) {
	name := strings.TrimSpace(o.Value)
	switch {
	case o.Null || name == "":
		return "", fieldErr(field, "%s must not be empty", field)
	case len(name) > maxLen:
		return "", fieldErr(field, "%s is longer than %d bytes", field, maxLen)
	case strings.ContainsFunc(name, func(r rune) bool { return r < ' ' || r == 0x7f }):
		return "", fieldErr(field, "%s must not contain control characters", field)
	}
	return name, nil
}

// adminIDList validates a list of admin ids.
func adminIDList(field string, o opt[[]int64]) ([]int64, error) {
	if o.Null {
		return nil, fieldErr(field, "%s must be an array of admin ids", field)
	}
	if len(o.Value) > team.MaxMembers {
		return nil, fieldErr(field, "%s lists more than %d admins", field, team.MaxMembers)
	}
	for _, id := range o.Value {
		if id <= 0 {
			return nil, fieldErr(field, "%s must hold admin ids, not %d", field, id)
		}
	}
	return o.Value, nil
}

// apply validates in and applies it to t.
func (in *teamInput) apply(t *team.Team) error {
	if in.Name.Set {
		name, err := checkName("name", in.Name, team.MaxNameLength)
		if err != nil {
			return err
		}
		t.Name = name
	}
	if in.DistributionMethod.Set {
		d := team.Distribution(in.DistributionMethod.Value)
		if in.DistributionMethod.Null || !d.Valid() {
			return fieldErr("distribution_method", "distribution_method must be manual, round_robin or balanced")
		}
		t.Distribution = d
	}
	if in.AssignmentLimit.Set {
		n := in.AssignmentLimit.Value
		if !in.AssignmentLimit.Null && (n < 1 || n > team.MaxAssignmentLimit) {
			return fieldErr("assignment_limit", "assignment_limit must be null (no limit) or between 1 and %d", team.MaxAssignmentLimit)
		}
		t.AssignmentLimit = n // 0 when null
	}
	if !in.AdminIDs.Set && in.AdminPriorityLevel == nil {
		return nil
	}
	secondary := map[int64]bool{}
	for _, m := range t.Members {
		secondary[m.AdminID] = m.Secondary
	}
	var all []int64
	if in.AdminIDs.Set {
		ids, err := adminIDList("admin_ids", in.AdminIDs)
		if err != nil {
			return err
		}
		all = append(all, ids...)
	}
	if pl := in.AdminPriorityLevel; pl != nil {
		primary, err := adminIDList("admin_priority_level.primary_admin_ids", pl.Primary)
		if err != nil {
			return err
		}
		second, err := adminIDList("admin_priority_level.secondary_admin_ids", pl.Secondary)
		if err != nil {
			return err
		}
		if !in.AdminIDs.Set {
			all = nil // the priority levels name every member
		}
		clear(secondary)
		for _, id := range second {
			if slices.Contains(primary, id) {
				return fieldErr("admin_priority_level", "admin %d cannot be both primary and secondary", id)
			}
			secondary[id] = true
		}
		all = append(append(all, primary...), second...)
	}
	slices.Sort(all)
	all = slices.Compact(all)
	if len(all) > team.MaxMembers {
		return fieldErr("admin_ids", "a team has at most %d members", team.MaxMembers)
	}
	t.Members = make([]team.Member, len(all))
	for i, id := range all {
		t.Members[i] = team.Member{AdminID: id, Secondary: secondary[id]}
	}
	return nil
}

// memberErr reports a member who is not an admin of the workspace.
func memberErr(err error) error {
	if store.IsMissing(err, "admin") {
		return fieldErr("admin_ids", "admin_ids name an admin who is not a teammate of this workspace")
	}
	return teamRefErr(err)
}

func (s *Server) createTeam(w http.ResponseWriter, r *http.Request) error {
	var in teamInput
	if err := s.decode(w, r, &in); err != nil {
		return err
	}
	if !in.Name.Set {
		return missing("name")
	}
	t := &team.Team{WorkspaceID: authOf(r.Context()).WorkspaceID, Distribution: team.Manual}
	if err := in.apply(t); err != nil {
		return err
	}
	if err := s.teams.Create(r.Context(), t); err != nil {
		return memberErr(err)
	}
	writeJSON(w, http.StatusOK, t)
	return nil
}

func (s *Server) updateTeam(w http.ResponseWriter, r *http.Request) error {
	var in teamInput
	if err := s.decode(w, r, &in); err != nil {
		return err
	}
	id := pathID(r)
	if id == 0 {
		return errNoSuchTeam
	}
	t, err := s.teams.Update(r.Context(), authOf(r.Context()).WorkspaceID, id, in.apply)
	if err != nil {
		return memberErr(err)
	}
	writeJSON(w, http.StatusOK, t)
	return nil
}

func (s *Server) deleteTeam(w http.ResponseWriter, r *http.Request) error {
	return deleteByID(w, r, "team", errNoSuchTeam, s.teams.Delete)
}

// deleteByID deletes the item with the path's integer id and answers
// {id, object, deleted: true}.
func deleteByID(w http.ResponseWriter, r *http.Request, object string, missing error, del func(ctx context.Context, workspaceID string, id int64) error) error {
	id := pathID(r)
	if id == 0 {
		return missing
	}
	if err := del(r.Context(), authOf(r.Context()).WorkspaceID, id); err != nil {
		return teamRefErr(err)
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": strconv.FormatInt(id, 10), "object": object, "deleted": true})
	return nil
}

// Assignment rules.

type ruleAPI struct {
	s  *Server
	st *store.AssignmentRules
}

type ruleInput struct {
	Name      opt[string]          `json:"name"`
	Priority  opt[int]             `json:"priority"`
	Condition json.RawMessage      `json:"condition"`
	TeamID    opt[json.RawMessage] `json:"team_id"`
	AdminID   opt[json.RawMessage] `json:"admin_id"`
}

// maxPriority bounds rule priorities (1 is tried first).
const maxPriority = 1_000_000

// optIntID reads an optional integer id given as a number or a numeric
// string; 0 when absent or null.
func optIntID(field string, o opt[json.RawMessage]) (int64, error) {
	if !o.Set || o.Null {
		return 0, nil
	}
	raw, ok := looseID(o.Value)
	id, err := strconv.ParseInt(raw, 10, 64)
	if !ok || err != nil || id <= 0 {
		return 0, fieldErr(field, "%s must be an integer id", field)
	}
	return id, nil
}

// apply validates in (the condition against the workspace's rule schema)
// and applies it to rule.
func (h *ruleAPI) apply(r *http.Request, rule *assign.Rule, in *ruleInput) error {
	if in.Name.Set {
		name, err := checkName("name", in.Name, assign.MaxNameLength)
		if err != nil {
			return err
		}
		rule.Name = name
	}
	if in.Priority.Set {
		if in.Priority.Null || in.Priority.Value < 1 || in.Priority.Value > maxPriority {
			return fieldErr("priority", "priority must be an integer between 1 and %d", maxPriority)
		}
		rule.Priority = in.Priority.Value
	}
	teamID, err := optIntID("team_id", in.TeamID)
	if err != nil {
		return err
	}
	adminID, err := optIntID("admin_id", in.AdminID)
	if err != nil {
		return err
	}
	switch {
	case teamID != 0 && adminID != 0:
		return badRequest("a rule assigns to a team_id or an admin_id, not both")
	case teamID != 0:
		rule.TeamID, rule.AdminID = teamID, 0
	case adminID != 0:
		rule.TeamID, rule.AdminID = 0, adminID
	case (in.TeamID.Set && in.TeamID.Null && rule.AdminID == 0) || (in.AdminID.Set && in.AdminID.Null && rule.TeamID == 0):
		return badRequest("a rule needs a team_id or an admin_id")
	}
	if c := bytes.TrimSpace(in.Condition); len(c) > 0 {
		var b bytes.Buffer
		if string(c) == "null" || json.Compact(&b, c) != nil {
			return fieldErr("condition", "condition must be a query")
		}
		rule.Condition = b.Bytes()
	}
	schema, err := h.st.Schema(r.Context(), rule.WorkspaceID)
	if err != nil {
		return err
	}
	if _, err := parseQuery(rule.Condition, schema); err != nil {
		var qe *query.Error
		if errors.As(err, &qe) {
			return fieldErr("condition", "condition: %s", qe.Message)
		}
		return err
	}
	return nil
}

func (h *ruleAPI) list(w http.ResponseWriter, r *http.Request) error {
	list, err := h.st.List(r.Context(), authOf(r.Context()).WorkspaceID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"type": "list", "data": list})
	return nil
}

func (h *ruleAPI) get(w http.ResponseWriter, r *http.Request) error {
	rule, err := h.st.Get(r.Context(), authOf(r.Context()).WorkspaceID, pathID(r))
	if err != nil {
		return teamRefErr(err)
	}
	writeJSON(w, http.StatusOK, rule)
	return nil
}

func (h *ruleAPI) create(w http.ResponseWriter, r *http.Request) error {
	var in ruleInput
	if err := h.s.decode(w, r, &in); err != nil {
		return err
	}
	switch {
	case !in.Name.Set:
		return missing("name")
	case len(bytes.TrimSpace(in.Condition)) == 0:
		return missing("condition")
	case (!in.TeamID.Set || in.TeamID.Null) && (!in.AdminID.Set || in.AdminID.Null):
		return badRequest("a rule needs a team_id or an admin_id")
	}
	rule := &assign.Rule{WorkspaceID: authOf(r.Context()).WorkspaceID}
	if err := h.apply(r, rule, &in); err != nil {
		return err
	}
	if err := h.st.Create(r.Context(), rule); err != nil {
		return teamRefErr(err)
	}
	writeJSON(w, http.StatusOK, rule)
	return nil
}

func (h *ruleAPI) update(w http.ResponseWriter, r *http.Request) error {
	var in ruleInput
	if err := h.s.decode(w, r, &in); err != nil {
		return err
	}
	id := pathID(r)
	if id == 0 {
		return errNoSuchRule
	}
	rule, err := h.st.Update(r.Context(), authOf(r.Context()).WorkspaceID, id, func(rule *assign.Rule) error { return h.apply(r, rule, &in) })
	if err != nil {
		return teamRefErr(err)
	}
	writeJSON(w, http.StatusOK, rule)
	return nil
}

func (h *ruleAPI) delete(w http.ResponseWriter, r *http.Request) error {
	return deleteByID(w, r, "assignment_rule", errNoSuchRule, h.st.Delete)
}
