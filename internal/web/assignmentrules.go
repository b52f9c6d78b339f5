package web

// Assignment rules settings (docs/web.md "Assignment rules"; owner and
// admin): the workspace's rules in the order they are tried, created and
// edited with the filter builder over the rule condition language
// (assign.Schema), moved up and down, deleted. Writes go through
// store.AssignmentRules with the REST API's validation, so the same
// assignment_rule.* events are appended.

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/parleyhq/parley/internal/assign"
	"github.com/parleyhq/parley/internal/store"
	"github.com/parleyhq/parley/internal/team"
	"github.com/parleyhq/parley/internal/workspace"
)

const rulesPath = "/app/settings/assignment-rules"

func (s *Server) ruleRoutes(mux *http.ServeMux) {
	for _, name := range []string{"assignmentrules", "assignmentrule"} {
		s.pages[name] = s.builderPage(name)
	}
	mux.Handle("GET "+rulesPath, s.page(managers, s.rulesPage))
	mux.Handle("GET "+rulesPath+"/new", s.page(managers, s.rulePage))
	mux.Handle("POST "+rulesPath, s.page(managers, s.saveRule))
	mux.Handle("GET "+rulesPath+"/{id}", s.page(managers, s.rulePage))
	mux.Handle("POST "+rulesPath+"/{id}", s.page(managers, s.saveRule))
	mux.Handle("POST "+rulesPath+"/{id}/move", s.page(managers, s.moveRule))
	mux.Handle("POST "+rulesPath+"/{id}/delete", s.page(managers, s.deleteRule))
}

var errNoRule = pageErr(http.StatusNotFound, "Rule not found", "There is no such assignment rule in this workspace.")

// ruleTargets are the teams and teammates a rule can assign to.
type ruleTargets struct {
	Teams  []*team.Team
	Admins []*workspace.Admin
}

func (s *Server) ruleTargets(r *http.Request, v *visit) (ruleTargets, error) {
	teams, err := s.teams.List(r.Context(), v.ws.ID)
	if err != nil {
		return ruleTargets{}, err
	}
	admins, err := s.ws.Admins(r.Context(), v.ws.ID)
	return ruleTargets{Teams: teams, Admins: admins}, err
}

// name is a target's name for the list.
func (t ruleTargets) name(rule *assign.Rule) string {
	for _, tm := range t.Teams {
		if rule.TeamID != 0 && tm.ID == rule.TeamID {
			return "Team " + tm.Name
		}
	}
	for _, a := range t.Admins {
		if rule.AdminID != 0 && a.ID == rule.AdminID {
			return a.Name
		}
	}
	return "—"
}

type ruleRow struct {
	Rule      *assign.Rule
	Target    string
	Condition string // as the builder shows it
}

func (s *Server) rulesPage(w http.ResponseWriter, r *http.Request, v *visit) error {
	rules, err := store.NewAssignmentRules(s.db).List(r.Context(), v.ws.ID)
	if err != nil {
		return err
	}
	targets, err := s.ruleTargets(r, v)
	if err != nil {
		return err
	}
	fields, err := s.filterFields(r.Context(), v, modelRules)
	if err != nil {
		return err
	}
	rows := make([]ruleRow, len(rules))
	for i, rule := range rules {
		rows[i] = ruleRow{Rule: rule, Target: targets.name(rule), Condition: describeFilter(rule.Condition, fields)}
	}
	s.render(w, http.StatusOK, "assignmentrules", v.view("Assignment rules", "settings", rows))
	return nil
}

type ruleForm struct {
	ID        int64 // 0 for a new rule
	Name      string
	Condition string
	Target    string // team:ID or admin:ID
	Targets   ruleTargets
	FilterErr string
	Saved     bool
}

func targetOf(rule *assign.Rule) string {
	if rule.AdminID != 0 {
		return "admin:" + strconv.FormatInt(rule.AdminID, 10)
	}
	if rule.TeamID != 0 {
		return "team:" + strconv.FormatInt(rule.TeamID, 10)
	}
	return ""
}

func ruleID(r *http.Request) int64 {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return -1
	}
	return id
}

func (s *Server) rulePage(w http.ResponseWriter, r *http.Request, v *visit) error {
	targets, err := s.ruleTargets(r, v)
	if err != nil {
		return err
	}
	form := ruleForm{Targets: targets, Saved: r.URL.Query().Get("saved") == "1"}
	if r.PathValue("id") != "" {
		rule, err := store.NewAssignmentRules(s.db).Get(r.Context(), v.ws.ID, ruleID(r))
		if errors.Is(err, store.ErrNotFound) {
			return errNoRule
		} else if err != nil {
			return err
		}
		form.ID, form.Name, form.Condition, form.Target = rule.ID, rule.Name, string(rule.Condition), targetOf(rule)
	}
	s.render(w, http.StatusOK, "assignmentrule", v.view(ruleTitle(form), "settings", form))
	return nil
}

func ruleTitle(f ruleForm) string {
	if f.ID == 0 {
		return "New assignment rule"
	}
	return "Edit assignment rule"
}

// saveRule creates or updates a rule with the REST API's rules: a name, a
// condition that parses against the rule schema, exactly one target of the
// workspace (the store checks it belongs to the workspace).
func (s *Server) saveRule(w http.ResponseWriter, r *http.Request, v *visit) error {
	ctx := r.Context()
	rules := store.NewAssignmentRules(s.db)
	targets, err := s.ruleTargets(r, v)
	if err != nil {
		return err
	}
	form := ruleForm{Name: strings.TrimSpace(r.PostFormValue("name")), Condition: r.PostFormValue("filter"),
		Target: r.PostFormValue("target"), Targets: targets}
	if r.PathValue("id") != "" {
		if form.ID = ruleID(r); form.ID < 0 {
			return errNoRule
		}
	}
	fail := func(status int, msg string, filter bool) error {
		vw := v.view(ruleTitle(form), "settings", nil)
		if filter {
			form.FilterErr = msg
		} else {
			vw.Error = msg
		}
		vw.Data = form
		s.render(w, status, "assignmentrule", vw)
		return nil
	}
	kind, rawID, _ := strings.Cut(form.Target, ":")
	target, err := strconv.ParseInt(rawID, 10, 64)
	switch {
	case form.Name == "":
		return fail(http.StatusBadRequest, "Enter a name for the rule.", false)
	case len(form.Name) > assign.MaxNameLength:
		return fail(http.StatusBadRequest, "The name is too long (at most 255 bytes).", false)
	case strings.ContainsFunc(form.Name, func(r rune) bool { return r < ' ' || r == 0x7f }):
		return fail(http.StatusBadRequest, "The name must not contain control characters.", false)
	case err != nil || target <= 0 || (kind != "team" && kind != "admin"):
		return fail(http.StatusBadRequest, "Choose the team or teammate the rule assigns to.", false)
	case strings.TrimSpace(form.Condition) == "":
		return fail(http.StatusBadRequest, "A rule needs a condition: add at least one.", true)
	}
	if _, err := s.parseFilterParam(ctx, v, modelRules, form.Condition); filterMessage(err) != "" {
		return fail(http.StatusBadRequest, filterMessage(err), true)
	} else if err != nil {
		return err
	}
	apply := func(rule *assign.Rule) error {
		rule.Name, rule.Condition, rule.TeamID, rule.AdminID = form.Name, compactFilter(form.Condition), 0, 0
		if kind == "team" {
			rule.TeamID = target
		} else {
			rule.AdminID = target
		}
		return nil
	}
	if form.ID == 0 {
		rule := &assign.Rule{WorkspaceID: v.ws.ID}
		_ = apply(rule)
		err = rules.Create(ctx, rule)
		form.ID = rule.ID
	} else {
		_, err = rules.Update(ctx, v.ws.ID, form.ID, apply)
	}
	switch {
	case store.IsMissing(err, "assignment_rule"):
		return errNoRule
	case store.IsMissing(err, "team"), store.IsMissing(err, "admin"):
		return fail(http.StatusBadRequest, "That team or teammate is not in this workspace any more. Choose another.", false)
	case err != nil:
		return err
	}
	http.Redirect(w, r, rulesPath+"/"+strconv.FormatInt(form.ID, 10)+"?saved=1", http.StatusSeeOther)
	return nil
}

func (s *Server) moveRule(w http.ResponseWriter, r *http.Request, v *visit) error {
	delta := 1
	if r.PostFormValue("dir") == "up" {
		delta = -1
	}
	if err := store.NewAssignmentRules(s.db).Move(r.Context(), v.ws.ID, ruleID(r), delta); errors.Is(err, store.ErrNotFound) {
		return errNoRule
	} else if err != nil {
		return err
	}
	http.Redirect(w, r, rulesPath, http.StatusSeeOther)
	return nil
}

func (s *Server) deleteRule(w http.ResponseWriter, r *http.Request, v *visit) error {
	if err := store.NewAssignmentRules(s.db).Delete(r.Context(), v.ws.ID, ruleID(r)); errors.Is(err, store.ErrNotFound) {
		return errNoRule
	} else if err != nil {
		return err
	}
	http.Redirect(w, r, rulesPath, http.StatusSeeOther)
	return nil
}
