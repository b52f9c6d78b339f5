package web

import (
	"errors"
	"html/template"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/parleyhq/parley/internal/attribute"
	"github.com/parleyhq/parley/internal/conversation"
	"github.com/parleyhq/parley/internal/ids"
	"github.com/parleyhq/parley/internal/messenger"
	"github.com/parleyhq/parley/internal/store"
	"github.com/parleyhq/parley/internal/team"
	"github.com/parleyhq/parley/internal/workspace"
)

// settings serves the settings hub and its pages (docs/web.md, "Settings"),
// owner and admin only. Every change goes through the store call the REST
// API uses, so the same events are appended.
type settings struct {
	s        *Server
	accounts *accounts
	msgr     *store.Messenger
	attrs    *store.Attributes
	convAttr *store.ConversationAttributes
	tags     *store.Tags
}

// settingsRoutes registers the settings pages.
func (s *Server) settingsRoutes(mux *http.ServeMux, a *accounts) {
	st := &settings{s: s, accounts: a, msgr: store.NewMessenger(s.db), attrs: store.NewAttributes(s.db),
		convAttr: store.NewConversationAttributes(s.db), tags: store.NewTags(s.db)}
	for _, name := range []string{"settings", "settings_workspace", "settings_messenger", "settings_teammates", "settings_teams",
		"settings_team", "settings_attributes", "settings_tags", "settings_tokens"} {
		s.pages[name] = template.Must(template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html",
			"templates/settingsnav.html", "templates/settings_teamform.html", "templates/"+name+".html"))
	}
	m := func(h pageFunc) http.Handler { return s.page(managers, h) }
	mux.Handle("GET /app/settings", m(st.hub))
	mux.Handle("GET /app/settings/workspace", m(st.workspacePage))
	mux.Handle("POST /app/settings/workspace", m(st.saveWorkspace))
	mux.Handle("GET /app/settings/messenger", m(st.messengerPage))
	mux.Handle("POST /app/settings/messenger", m(st.saveMessenger))
	mux.Handle("POST /app/settings/messenger/rotate", m(st.rotateSecret))
	mux.Handle("GET /app/settings/teammates", m(st.teammatesPage))
	mux.Handle("POST /app/settings/teammates/{id}/role", m(st.setRole))
	mux.Handle("POST /app/settings/teammates/{id}/remove", m(st.removeTeammate))
	mux.Handle("POST /app/settings/invitations/{hash}/withdraw", m(st.withdrawInvitation))
	mux.Handle("POST /app/settings/invitations/{hash}/resend", m(st.resendInvitation))
	mux.Handle("GET /app/settings/teams", m(st.teamsPage))
	mux.Handle("POST /app/settings/teams", m(st.createTeam))
	mux.Handle("GET /app/settings/teams/{id}", m(st.teamPage))
	mux.Handle("POST /app/settings/teams/{id}", m(st.updateTeam))
	mux.Handle("POST /app/settings/teams/{id}/delete", m(st.deleteTeam))
	mux.Handle("GET /app/settings/data-attributes", m(st.attributesPage))
	mux.Handle("POST /app/settings/data-attributes", m(st.createAttribute))
	mux.Handle("POST /app/settings/data-attributes/{model}/{id}", m(st.changeAttribute))
	mux.Handle("GET /app/settings/tags", m(st.tagsPage))
	mux.Handle("POST /app/settings/tags", m(st.createTag))
	mux.Handle("POST /app/settings/tags/{id}/rename", m(st.renameTag))
	mux.Handle("POST /app/settings/tags/{id}/delete", m(st.deleteTag))
	mux.Handle("GET /app/settings/tokens", m(st.tokensPage))
	mux.Handle("POST /app/settings/tokens/{id}/revoke", m(st.revokeToken))
}

// render shows a settings page; msg, when set, is shown as the form's
// error with status (else 200).
func (st *settings) render(w http.ResponseWriter, v *visit, page, title string, status int, msg string, data any) error {
	vw := v.view(title, "settings", data)
	vw.Error = msg
	if msg == "" {
		status = http.StatusOK
	}
	st.s.render(w, status, page, vw)
	return nil
}

// saved redirects to a settings page after a change (Post/Redirect/Get).
func saved(w http.ResponseWriter, r *http.Request, path string) error {
	http.Redirect(w, r, path+"?saved=1", http.StatusSeeOther)
	return nil
}

func isSaved(r *http.Request) bool { return r.URL.Query().Get("saved") == "1" }

// formID parses the path's positive integer id; 0 when it is not one.
func formID(r *http.Request, name string) int64 {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || id <= 0 {
		return 0
	}
	return id
}

// checkLabel validates a trimmed display name as the API does (required,
// at most max bytes, no control characters); "" when fine.
func checkLabel(what, name string, max int) string {
	switch {
	case name == "":
		return "Enter a " + what + "."
	case len(name) > max || !utf8.ValidString(name):
		return "Enter a " + what + " of at most " + strconv.Itoa(max) + " bytes."
	case strings.ContainsFunc(name, func(r rune) bool { return r < ' ' || r == 0x7f }):
		return "The " + what + " must not contain control characters."
	}
	return ""
}

func (st *settings) hub(w http.ResponseWriter, r *http.Request, v *visit) error {
	return st.render(w, v, "settings", "Settings", 0, "", nil)
}

// Workspace.

type workspaceForm struct {
	Name, TimeZone string
	Saved          bool
	Zones          []string
}

// commonZones are offered as suggestions; any IANA zone is accepted.
var commonZones = []string{"UTC", "Europe/London", "Europe/Paris", "Europe/Berlin", "Europe/Madrid", "Europe/Amsterdam", "Europe/Stockholm",
	"Europe/Warsaw", "Europe/Athens", "Europe/Istanbul", "Europe/Moscow", "Africa/Cairo", "Africa/Johannesburg", "Africa/Lagos", "Asia/Dubai",
	"Asia/Kolkata", "Asia/Singapore", "Asia/Shanghai", "Asia/Tokyo", "Asia/Seoul", "Australia/Sydney", "Pacific/Auckland",
	"America/Sao_Paulo", "America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles", "America/Toronto", "America/Mexico_City"}

func (st *settings) workspacePage(w http.ResponseWriter, r *http.Request, v *visit) error {
	return st.render(w, v, "settings_workspace", "Workspace", 0, "", workspaceForm{Name: v.ws.Name, TimeZone: v.ws.TimeZone, Saved: isSaved(r), Zones: commonZones})
}

// validZone accepts an IANA zone name time.LoadLocation knows ("Local"
// is the server's, not a zone).
func validZone(z string) bool {
	if z == "" || z == "Local" || len(z) > 64 {
		return false
	}
	_, err := time.LoadLocation(z)
	return err == nil
}

func (st *settings) saveWorkspace(w http.ResponseWriter, r *http.Request, v *visit) error {
	f := workspaceForm{Name: strings.TrimSpace(r.PostFormValue("name")), TimeZone: strings.TrimSpace(r.PostFormValue("time_zone")), Zones: commonZones}
	msg := checkLabel("workspace name", f.Name, 190)
	if msg == "" && !validZone(f.TimeZone) {
		msg = "“" + f.TimeZone + "” is not a time zone. Enter an IANA time zone such as Europe/Paris or America/New_York."
	}
	if msg != "" {
		return st.render(w, v, "settings_workspace", "Workspace", http.StatusBadRequest, msg, f)
	}
	if _, err := st.s.ws.UpdateWorkspace(r.Context(), v.ws.ID, f.Name, f.TimeZone); err != nil {
		return err
	}
	return saved(w, r, "/app/settings/workspace")
}

// Messenger.

type messengerForm struct {
	Color, SecondaryColor, Alignment, Greeting, ReplyTime, TimeZone string
	ReplyTimes                                                      []string
	Days                                                            []dayHours
	Enforced                                                        bool
	Secret, Snippet                                                 string
	Saved, Rotated                                                  bool
}

// dayHours is one weekday's intervals as typed: "09:00-12:00, 13:00-17:00".
type dayHours struct{ Day, Label, Hours string }

func formatHours(ivs []messenger.Interval) string {
	parts := make([]string, len(ivs))
	for i, iv := range ivs {
		parts[i] = iv.Start + "-" + iv.End
	}
	return strings.Join(parts, ", ")
}

// parseHours reads "HH:MM-HH:MM, …"; Settings.Validate checks the clocks.
func parseHours(s string) ([]messenger.Interval, bool) {
	var out []messenger.Interval
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		start, end, ok := strings.Cut(part, "-")
		if !ok {
			return nil, false
		}
		out = append(out, messenger.Interval{Start: strings.TrimSpace(start), End: strings.TrimSpace(end)})
	}
	return out, true
}

// snippet is the install code of docs/messenger-widget.md for this
// workspace.
func (st *settings) snippet(r *http.Request, v *visit) string {
	return "<script>\n  window.intercomSettings = { app_id: \"" + v.ws.ID + "\" };\n</script>\n<script src=\"" + st.s.baseURL(r) + "/widget.js\" async></script>"
}

func (st *settings) messengerForm(r *http.Request, v *visit, cfg *store.MessengerConfig) messengerForm {
	set := cfg.Settings
	f := messengerForm{Color: set.Color, SecondaryColor: set.SecondaryColor, Alignment: set.Alignment, Greeting: set.Greeting, ReplyTime: set.ReplyTime,
		TimeZone: set.OfficeHours.TimeZone, ReplyTimes: messenger.ReplyTimes, Enforced: cfg.Enforced, Secret: cfg.Secret, Snippet: st.snippet(r, v)}
	for _, d := range messenger.Weekdays {
		f.Days = append(f.Days, dayHours{Day: d, Label: strings.ToUpper(d[:1]) + d[1:], Hours: formatHours(set.OfficeHours.Days[d])})
	}
	return f
}

func (st *settings) messengerPage(w http.ResponseWriter, r *http.Request, v *visit) error {
	cfg, err := st.msgr.Config(r.Context(), v.ws.ID)
	if err != nil {
		return err
	}
	f := st.messengerForm(r, v, cfg)
	f.Saved, f.Rotated = isSaved(r), r.URL.Query().Get("rotated") == "1"
	return st.render(w, v, "settings_messenger", "Messenger", 0, "", f)
}

// messengerMessages are the readable forms of Settings.Validate's fields.
var messengerMessages = map[string]string{
	"color":                  "Enter the colour as #rrggbb, for example #0057ff.",
	"secondary_color":        "Enter the secondary colour as #rrggbb, for example #1f2937.",
	"alignment":              "Choose left or right.",
	"greeting":               "The greeting can be at most 500 bytes.",
	"reply_time":             "Choose a reply time from the list.",
	"office_hours.time_zone": "The office hours' time zone is not an IANA time zone such as Europe/Paris.",
}

func (st *settings) saveMessenger(w http.ResponseWriter, r *http.Request, v *visit) error {
	cfg, err := st.msgr.Config(r.Context(), v.ws.ID)
	if err != nil {
		return err
	}
	set := &cfg.Settings
	set.Color = strings.TrimSpace(r.PostFormValue("color"))
	set.SecondaryColor = strings.TrimSpace(r.PostFormValue("secondary_color"))
	set.Alignment = r.PostFormValue("alignment")
	set.Greeting = strings.TrimSpace(r.PostFormValue("greeting"))
	set.ReplyTime = r.PostFormValue("reply_time")
	set.OfficeHours.TimeZone = strings.TrimSpace(r.PostFormValue("office_time_zone"))
	set.OfficeHours.Days = map[string][]messenger.Interval{}
	enforce := r.PostFormValue("enforced") == "on"
	f := st.messengerForm(r, v, cfg)
	f.Enforced = enforce
	msg := ""
	for i, d := range messenger.Weekdays {
		raw := r.PostFormValue("hours_" + d)
		f.Days[i].Hours = raw
		ivs, ok := parseHours(raw)
		if !ok && msg == "" {
			msg = f.Days[i].Label + ": write the hours as 09:00-17:00, several separated by commas."
		}
		if len(ivs) > 0 {
			set.OfficeHours.Days[d] = ivs
		}
	}
	if msg == "" {
		if err := set.Validate(); err != nil {
			var se *messenger.SettingsError
			if !errors.As(err, &se) {
				return err
			}
			msg = messengerMessages[se.Field]
			if day, ok := strings.CutPrefix(se.Field, "office_hours."); ok && msg == "" {
				msg = strings.ToUpper(day[:1]) + day[1:] + ": each interval needs a start before its end, as HH:MM-HH:MM (24-hour clock)."
			}
			if msg == "" {
				msg = se.Message
			}
		}
	}
	if msg != "" {
		return st.render(w, v, "settings_messenger", "Messenger", http.StatusBadRequest, msg, f)
	}
	// Turning enforcement on ends every Messenger session, as the API does:
	// sessions booted without verification must prove who they are.
	rotate := enforce && !cfg.Enforced
	cfg.Enforced = enforce
	if err := st.msgr.SaveConfig(r.Context(), v.ws.ID, cfg, rotate); err != nil {
		return err
	}
	return saved(w, r, "/app/settings/messenger")
}

// rotateSecret replaces the identity verification secret: hashes made
// with the old one stop verifying.
func (st *settings) rotateSecret(w http.ResponseWriter, r *http.Request, v *visit) error {
	cfg, err := st.msgr.Config(r.Context(), v.ws.ID)
	if err != nil {
		return err
	}
	cfg.Secret = ids.Secret(32)
	if err := st.msgr.SaveConfig(r.Context(), v.ws.ID, cfg, false); err != nil {
		return err
	}
	http.Redirect(w, r, "/app/settings/messenger?rotated=1", http.StatusSeeOther)
	return nil
}

// Teammates.

type teammatesData struct {
	Admins      []*workspace.Admin
	Invitations []*store.Invitation
	Now         int64
	Roles       []string
	Saved       bool
	// After a resend: the link to copy when it was not emailed, and why.
	Link, Why string
}

func (st *settings) teammatesData(r *http.Request, v *visit) (*teammatesData, error) {
	admins, err := st.s.ws.Admins(r.Context(), v.ws.ID)
	if err != nil {
		return nil, err
	}
	invs, err := st.accounts.store.PendingInvitations(r.Context(), v.ws.ID)
	if err != nil {
		return nil, err
	}
	return &teammatesData{Admins: admins, Invitations: invs, Now: st.s.opts.Now().Unix(),
		Roles: []string{workspace.RoleOwner, workspace.RoleAdmin, workspace.RoleAgent}, Saved: isSaved(r)}, nil
}

func (st *settings) teammatesPage(w http.ResponseWriter, r *http.Request, v *visit) error {
	d, err := st.teammatesData(r, v)
	if err != nil {
		return err
	}
	return st.render(w, v, "settings_teammates", "Teammates", 0, "", d)
}

// teammatesErr shows the teammates page with a refusal.
func (st *settings) teammatesErr(w http.ResponseWriter, r *http.Request, v *visit, status int, msg string) error {
	d, err := st.teammatesData(r, v)
	if err != nil {
		return err
	}
	return st.render(w, v, "settings_teammates", "Teammates", status, msg, d)
}

// target is the teammate a teammates form names, with the rules of who
// may change whom: nobody changes their own role or removes themselves
// here, and only an owner changes or removes an owner.
func (st *settings) target(r *http.Request, v *visit) (*workspace.Admin, string, error) {
	id := formID(r, "id")
	a, err := st.s.ws.Admin(r.Context(), v.ws.ID, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && store.Removed(a)) {
		return nil, "", pageErr(http.StatusNotFound, "Teammate not found", "There is no such teammate in this workspace.")
	} else if err != nil {
		return nil, "", err
	}
	switch {
	case a.ID == v.admin.ID:
		return a, "You cannot change your own role or remove yourself. Ask another owner or admin.", nil
	case a.Role == workspace.RoleOwner && v.admin.Role != workspace.RoleOwner:
		return a, "Only an owner can change or remove an owner.", nil
	}
	return a, "", nil
}

func (st *settings) setRole(w http.ResponseWriter, r *http.Request, v *visit) error {
	a, refusal, err := st.target(r, v)
	if err != nil {
		return err
	}
	role := r.PostFormValue("role")
	switch {
	case refusal != "":
		return st.teammatesErr(w, r, v, http.StatusForbidden, refusal)
	case role != workspace.RoleOwner && role != workspace.RoleAdmin && role != workspace.RoleAgent:
		return st.teammatesErr(w, r, v, http.StatusBadRequest, "Choose the role owner, admin or agent.")
	case role == workspace.RoleOwner && v.admin.Role != workspace.RoleOwner:
		return st.teammatesErr(w, r, v, http.StatusForbidden, "Only an owner can make a teammate an owner.")
	}
	if _, err := st.s.teams.SetRole(r.Context(), v.ws.ID, a.ID, role); errors.Is(err, store.ErrLastOwner) {
		return st.teammatesErr(w, r, v, http.StatusConflict, "The workspace needs an owner: make another teammate owner first.")
	} else if err != nil {
		return err
	}
	return saved(w, r, "/app/settings/teammates")
}

func (st *settings) removeTeammate(w http.ResponseWriter, r *http.Request, v *visit) error {
	a, refusal, err := st.target(r, v)
	if err != nil {
		return err
	}
	if refusal != "" {
		return st.teammatesErr(w, r, v, http.StatusForbidden, refusal)
	}
	_, err = st.s.teams.RemoveAdmin(r.Context(), v.ws.ID, a.ID)
	var inUse *store.AdminInUseError
	switch {
	case errors.Is(err, store.ErrLastOwner):
		return st.teammatesErr(w, r, v, http.StatusConflict, "The workspace needs an owner: make another teammate owner first.")
	case errors.As(err, &inUse):
		return st.teammatesErr(w, r, v, http.StatusConflict, "Assignment rules assign conversations to "+a.Name+" ("+strings.Join(inUse.Rules, ", ")+"). Change those rules first.")
	case err != nil:
		return err
	}
	return saved(w, r, "/app/settings/teammates")
}

// invitationHash is the path's invitation id: the stored hash of its
// token (which does not let anyone accept it).
func invitationHash(r *http.Request) string {
	h := r.PathValue("hash")
	if len(h) != 64 || strings.Trim(h, "0123456789abcdef") != "" {
		return ""
	}
	return h
}

var errNoInvitation = pageErr(http.StatusNotFound, "Invitation not found", "There is no such pending invitation in this workspace.")

func (st *settings) withdrawInvitation(w http.ResponseWriter, r *http.Request, v *visit) error {
	err := st.accounts.store.WithdrawInvitation(r.Context(), v.ws.ID, invitationHash(r))
	if errors.Is(err, store.ErrNotFound) {
		return errNoInvitation
	} else if err != nil {
		return err
	}
	return saved(w, r, "/app/settings/teammates")
}

// resendInvitation gives the invitation a new link valid for another 7
// days (the old link stops working) and emails it, or shows it to copy.
func (st *settings) resendInvitation(w http.ResponseWriter, r *http.Request, v *visit) error {
	now := st.s.opts.Now()
	token := ids.Secret(32)
	inv, err := st.accounts.store.RenewInvitation(r.Context(), v.ws.ID, invitationHash(r), ids.HashToken(token), now.Unix(), now.Add(inviteTTL).Unix())
	if errors.Is(err, store.ErrNotFound) {
		return errNoInvitation
	} else if err != nil {
		return err
	}
	d, err := st.teammatesData(r, v)
	if err != nil {
		return err
	}
	sent := inviteData{Name: inv.Name, Email: inv.Email, Role: inv.Role}
	st.accounts.sendInvite(r, v, &sent, token)
	d.Link, d.Why, d.Saved = sent.Link, sent.Why, sent.Link == ""
	return st.render(w, v, "settings_teammates", "Teammates", 0, "", d)
}

// Teams.

type teamRow struct {
	*team.Team
	Members []string
}

type teamsData struct {
	Teams   []teamRow
	Admins  []*workspace.Admin
	Methods []teamMethod
	Form    teamForm
	Saved   bool
}

type teamMethod struct{ Value, Label string }

var teamMethods = []teamMethod{
	{string(team.Manual), "Manual: conversations wait in the team inbox"},
	{string(team.RoundRobin), "Round robin: available teammates in turn"},
	{string(team.Balanced), "Balanced: the available teammate with the fewest open conversations"},
}

// teamForm is a team as typed, to redisplay.
type teamForm struct {
	ID           int64
	Name, Method string
	Limit        string
	Members      map[int64]bool
}

// readTeamForm validates a team form as the API validates its JSON and
// applies it to t; a readable message when it is wrong.
func readTeamForm(r *http.Request, f *teamForm, t *team.Team) string {
	f.Name = strings.TrimSpace(r.PostFormValue("name"))
	f.Method = r.PostFormValue("distribution")
	f.Limit = strings.TrimSpace(r.PostFormValue("limit"))
	f.Members = map[int64]bool{}
	var members []int64
	for _, raw := range r.PostForm["member"] {
		id, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || id <= 0 {
			return "Choose members from the list."
		}
		f.Members[id] = true
		members = append(members, id)
	}
	if msg := checkLabel("team name", f.Name, team.MaxNameLength); msg != "" {
		return msg
	}
	if !team.Distribution(f.Method).Valid() {
		return "Choose a distribution method: manual, round robin or balanced."
	}
	limit := 0
	if f.Limit != "" {
		n, err := strconv.Atoi(f.Limit)
		if err != nil || n < 1 || n > team.MaxAssignmentLimit {
			return "The assignment limit is a number from 1 to " + strconv.Itoa(team.MaxAssignmentLimit) + ", or empty for no limit."
		}
		limit = n
	}
	if len(members) > team.MaxMembers {
		return "A team has at most " + strconv.Itoa(team.MaxMembers) + " members."
	}
	slices.Sort(members)
	secondary := map[int64]bool{}
	for _, m := range t.Members {
		secondary[m.AdminID] = m.Secondary
	}
	t.Name, t.Distribution, t.AssignmentLimit = f.Name, team.Distribution(f.Method), limit
	t.Members = nil
	for _, id := range slices.Compact(members) {
		t.Members = append(t.Members, team.Member{AdminID: id, Secondary: secondary[id]})
	}
	return ""
}

// teamErr is the readable message of a store refusal; "" for another error.
func teamErr(err error) (int, string) {
	var conflict *store.ConflictError
	var inUse *store.TeamInUseError
	switch {
	case errors.As(err, &conflict):
		return http.StatusConflict, conflict.Message + ". Choose another name."
	case errors.As(err, &inUse):
		return http.StatusConflict, "Assignment rules send conversations to this team (" + strings.Join(inUse.Rules, ", ") + "). Change those rules first."
	case store.IsMissing(err, "admin"):
		return http.StatusBadRequest, "Choose members among this workspace's teammates."
	}
	return 0, ""
}

func (st *settings) teamsData(r *http.Request, v *visit, f teamForm) (*teamsData, error) {
	list, err := st.s.teams.List(r.Context(), v.ws.ID)
	if err != nil {
		return nil, err
	}
	admins, err := st.s.ws.Admins(r.Context(), v.ws.ID)
	if err != nil {
		return nil, err
	}
	names := map[int64]string{}
	for _, a := range admins {
		names[a.ID] = a.Name
	}
	d := &teamsData{Admins: admins, Methods: teamMethods, Form: f, Saved: isSaved(r)}
	for _, t := range list {
		row := teamRow{Team: t}
		for _, m := range t.Members {
			row.Members = append(row.Members, names[m.AdminID])
		}
		d.Teams = append(d.Teams, row)
	}
	return d, nil
}

func (st *settings) teamsPage(w http.ResponseWriter, r *http.Request, v *visit) error {
	d, err := st.teamsData(r, v, teamForm{Method: string(team.Manual)})
	if err != nil {
		return err
	}
	return st.render(w, v, "settings_teams", "Teams", 0, "", d)
}

func (st *settings) createTeam(w http.ResponseWriter, r *http.Request, v *visit) error {
	var f teamForm
	t := &team.Team{WorkspaceID: v.ws.ID}
	msg := readTeamForm(r, &f, t)
	status := http.StatusBadRequest
	if msg == "" {
		err := st.s.teams.Create(r.Context(), t)
		if err == nil {
			return saved(w, r, "/app/settings/teams")
		}
		if status, msg = teamErr(err); msg == "" {
			return err
		}
	}
	d, err := st.teamsData(r, v, f)
	if err != nil {
		return err
	}
	return st.render(w, v, "settings_teams", "Teams", status, msg, d)
}

func (st *settings) teamPage(w http.ResponseWriter, r *http.Request, v *visit) error {
	t, err := st.s.teams.Get(r.Context(), v.ws.ID, formID(r, "id"))
	if store.IsMissing(err, "team") || errors.Is(err, store.ErrNotFound) {
		return errNoTeam
	} else if err != nil {
		return err
	}
	f := teamForm{ID: t.ID, Name: t.Name, Method: string(t.Distribution), Members: map[int64]bool{}}
	if t.AssignmentLimit > 0 {
		f.Limit = strconv.Itoa(t.AssignmentLimit)
	}
	for _, m := range t.Members {
		f.Members[m.AdminID] = true
	}
	d, err := st.teamsData(r, v, f)
	if err != nil {
		return err
	}
	return st.render(w, v, "settings_team", "Teams", 0, "", d)
}

var errNoTeam = pageErr(http.StatusNotFound, "Team not found", "There is no such team in this workspace.")

func (st *settings) updateTeam(w http.ResponseWriter, r *http.Request, v *visit) error {
	id := formID(r, "id")
	f := teamForm{ID: id}
	var msg string
	_, err := st.s.teams.Update(r.Context(), v.ws.ID, id, func(t *team.Team) error {
		if msg = readTeamForm(r, &f, t); msg != "" {
			return errFormRefused
		}
		return nil
	})
	status := http.StatusBadRequest
	switch {
	case store.IsMissing(err, "team") || errors.Is(err, store.ErrNotFound):
		return errNoTeam
	case err == nil:
		return saved(w, r, "/app/settings/teams")
	case errors.Is(err, errFormRefused):
	default:
		if status, msg = teamErr(err); msg == "" {
			return err
		}
	}
	d, err := st.teamsData(r, v, f)
	if err != nil {
		return err
	}
	return st.render(w, v, "settings_team", "Teams", status, msg, d)
}

// errFormRefused aborts a store change whose form was wrong.
var errFormRefused = errors.New("form refused")

func (st *settings) deleteTeam(w http.ResponseWriter, r *http.Request, v *visit) error {
	err := st.s.teams.Delete(r.Context(), v.ws.ID, formID(r, "id"))
	switch {
	case store.IsMissing(err, "team") || errors.Is(err, store.ErrNotFound):
		return errNoTeam
	case err != nil:
		status, msg := teamErr(err)
		if msg == "" {
			return err
		}
		d, err := st.teamsData(r, v, teamForm{Method: string(team.Manual)})
		if err != nil {
			return err
		}
		return st.render(w, v, "settings_teams", "Teams", status, msg, d)
	}
	return saved(w, r, "/app/settings/teams")
}

// Data attributes.

// attrRow is one custom attribute of any model as the page lists it.
type attrRow struct {
	Model, ID, Name, Type, Description string
	Options                            []string
	Archived, MessengerWritable        bool
	CanMessenger                       bool
}

type attrForm struct {
	Model, Name, Type, Description, Options string
	MessengerWritable                       bool
}

type attributesData struct {
	Groups []attrGroup
	Form   attrForm
	Saved  bool
}

type attrGroup struct {
	Title string
	Rows  []attrRow
}

func (st *settings) attributesData(r *http.Request, v *visit, f attrForm) (*attributesData, error) {
	d := &attributesData{Form: f, Saved: isSaved(r)}
	for _, m := range []struct{ model, title string }{{attribute.ModelContact, "People"}, {attribute.ModelCompany, "Companies"}} {
		list, err := st.attrs.Custom(r.Context(), v.ws.ID, m.model, true)
		if err != nil {
			return nil, err
		}
		g := attrGroup{Title: m.title}
		for _, a := range list {
			typ := a.DataType
			if len(a.Options) > 0 {
				typ = "list"
			}
			g.Rows = append(g.Rows, attrRow{Model: m.model, ID: strconv.FormatInt(a.ID, 10), Name: a.Name, Type: typ, Description: a.Description,
				Options: a.Options, Archived: a.Archived, MessengerWritable: a.MessengerWritable, CanMessenger: true})
		}
		d.Groups = append(d.Groups, g)
	}
	list, err := st.convAttr.List(r.Context(), v.ws.ID, true)
	if err != nil {
		return nil, err
	}
	g := attrGroup{Title: "Conversations"}
	for _, a := range list {
		row := attrRow{Model: "conversation", ID: strconv.FormatInt(a.ID, 10), Name: a.Name, Type: a.DataType, Description: a.Description, Archived: a.Archived}
		for _, o := range a.Options {
			if !o.Archived {
				row.Options = append(row.Options, o.Label)
			}
		}
		g.Rows = append(g.Rows, row)
	}
	d.Groups = append(d.Groups, g)
	return d, nil
}

func (st *settings) attributesPage(w http.ResponseWriter, r *http.Request, v *visit) error {
	d, err := st.attributesData(r, v, attrForm{Model: attribute.ModelContact, Type: attribute.TypeString})
	if err != nil {
		return err
	}
	return st.render(w, v, "settings_attributes", "Data attributes", 0, "", d)
}

// optionLines splits the options textarea: one option a line, blanks
// skipped.
func optionLines(s string) []string {
	var out []string
	for _, line := range strings.Split(s, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			out = append(out, line)
		}
	}
	return out
}

// createAttribute creates a custom attribute with the API's validation:
// attribute.ValidateDefinition for people and companies, the conversation
// attribute rules for conversations.
func (st *settings) createAttribute(w http.ResponseWriter, r *http.Request, v *visit) error {
	f := attrForm{Model: r.PostFormValue("model"), Name: strings.TrimSpace(r.PostFormValue("name")), Type: r.PostFormValue("type"),
		Description: strings.TrimSpace(r.PostFormValue("description")), Options: r.PostFormValue("options"), MessengerWritable: r.PostFormValue("messenger_writable") == "on"}
	msg, err := st.newAttribute(r, v, f)
	if err != nil {
		return err
	}
	if msg == "" {
		return saved(w, r, "/app/settings/data-attributes")
	}
	d, err := st.attributesData(r, v, f)
	if err != nil {
		return err
	}
	return st.render(w, v, "settings_attributes", "Data attributes", http.StatusBadRequest, msg, d)
}

// attrTypes are the form's types: the API's, "list" being an options
// attribute.
var attrTypes = []string{"string", "integer", "float", "boolean", "date", "list"}

func (st *settings) newAttribute(r *http.Request, v *visit, f attrForm) (string, error) {
	options := optionLines(f.Options)
	if !slices.Contains(attrTypes, f.Type) {
		return "Choose a type from the list.", nil
	}
	if f.Type != "list" && len(options) > 0 {
		return "Options are only for list attributes: clear them or choose the type list.", nil
	}
	switch f.Model {
	case attribute.ModelContact, attribute.ModelCompany:
		typ := f.Type
		if typ == "list" {
			typ = "options"
		}
		dt, err := attribute.NormalizeType(typ, len(options) > 0)
		if err != nil {
			return "Choose a type from the list.", nil
		}
		a := &attribute.Attribute{WorkspaceID: v.ws.ID, Model: f.Model, Name: f.Name, Label: f.Name, Description: f.Description, DataType: dt,
			MessengerWritable: f.MessengerWritable, AdminID: v.admin.ID}
		if f.Type == "list" {
			a.Options = options
			if a.Options == nil {
				a.Options = []string{}
			}
		}
		if err := attribute.ValidateDefinition(a); err != nil {
			var ve *attribute.ValidationError
			if errors.As(err, &ve) {
				return sentence(ve.Message), nil
			}
			return "", err
		}
		if err := st.attrs.Create(r.Context(), a); errors.Is(err, store.ErrConflict) {
			return "There is already an attribute named “" + a.Name + "”. Choose another name.", nil
		} else if err != nil {
			return "", err
		}
	case "conversation":
		if f.MessengerWritable {
			return "Conversation attributes are not written by the Messenger: clear “Messenger can write it”.", nil
		}
		typ := map[string]string{"string": conversation.AttrString, "integer": conversation.AttrInteger, "float": conversation.AttrDecimal,
			"boolean": conversation.AttrBoolean, "date": conversation.AttrDatetime, "list": conversation.AttrList}[f.Type]
		a := &conversation.Attribute{WorkspaceID: v.ws.ID, Name: f.Name, Description: f.Description, DataType: typ, AdminID: v.admin.ID}
		switch {
		case !conversation.ValidAttrName(f.Name):
			return "The name must be 1 to 190 letters, digits, spaces, '-' or '_', not starting with a space or '-'.", nil
		case len(f.Description) > 255:
			return "The description can be at most 255 bytes.", nil
		case typ == conversation.AttrList && len(options) == 0:
			return "A list attribute needs at least one option (one a line).", nil
		case len(options) > 100:
			return "A list attribute has at most 100 options.", nil
		}
		for _, o := range options {
			if len(o) > 255 || slices.ContainsFunc(a.Options, func(x conversation.AttrOption) bool { return x.Label == o }) {
				return "Options must be distinct and at most 255 bytes each.", nil
			}
			a.Options = append(a.Options, conversation.AttrOption{ID: ids.UUID(), Label: o})
		}
		if err := st.convAttr.Create(r.Context(), a); errors.Is(err, store.ErrConflict) {
			return "There is already a conversation attribute named “" + a.Name + "”. Choose another name.", nil
		} else if err != nil {
			return "", err
		}
	default:
		return "Choose people, companies or conversations.", nil
	}
	return "", nil
}

// sentence capitalises a validation message and ends it with a full stop.
func sentence(s string) string {
	if s == "" {
		return s
	}
	s = strings.ToUpper(s[:1]) + s[1:]
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}

// changeAttribute archives, unarchives or sets messenger-writable
// (action=archive|unarchive|messenger_on|messenger_off).
func (st *settings) changeAttribute(w http.ResponseWriter, r *http.Request, v *visit) error {
	id := formID(r, "id")
	action := r.PostFormValue("action")
	notFound := pageErr(http.StatusNotFound, "Attribute not found", "There is no such data attribute in this workspace.")
	if !slices.Contains([]string{"archive", "unarchive", "messenger_on", "messenger_off"}, action) {
		return pageErr(http.StatusBadRequest, "Nothing changed", "Choose archive, unarchive or the Messenger setting.")
	}
	switch r.PathValue("model") {
	case "contact", "company":
		a, err := st.attrs.Get(r.Context(), v.ws.ID, id)
		if errors.Is(err, store.ErrNotFound) || (err == nil && a.Model != r.PathValue("model")) {
			return notFound
		} else if err != nil {
			return err
		}
		switch action {
		case "archive", "unarchive":
			a.Archived = action == "archive"
		default:
			a.MessengerWritable = action == "messenger_on"
		}
		if err := st.attrs.Update(r.Context(), a); err != nil {
			return err
		}
	case "conversation":
		if action != "archive" && action != "unarchive" {
			return pageErr(http.StatusBadRequest, "Nothing changed", "Conversation attributes are not written by the Messenger.")
		}
		_, err := st.convAttr.Update(r.Context(), v.ws.ID, id, func(a *conversation.Attribute) error {
			a.Archived = action == "archive"
			return nil
		})
		if errors.Is(err, store.ErrNotFound) || store.IsMissing(err, "conversation_attribute") {
			return notFound
		} else if err != nil {
			return err
		}
	default:
		return notFound
	}
	return saved(w, r, "/app/settings/data-attributes")
}

// Tags.

type tagsData struct {
	Tags  []*store.Tag
	Usage map[int64]int
	Name  string
	Saved bool
}

func (st *settings) tagsData(r *http.Request, v *visit, name string) (*tagsData, error) {
	list, err := st.tags.List(r.Context(), v.ws.ID)
	if err != nil {
		return nil, err
	}
	usage, err := st.tags.TagUsage(r.Context(), v.ws.ID)
	if err != nil {
		return nil, err
	}
	return &tagsData{Tags: list, Usage: usage, Name: name, Saved: isSaved(r)}, nil
}

func (st *settings) tagsPage(w http.ResponseWriter, r *http.Request, v *visit) error {
	d, err := st.tagsData(r, v, "")
	if err != nil {
		return err
	}
	return st.render(w, v, "settings_tags", "Tags", 0, "", d)
}

func (st *settings) tagsErr(w http.ResponseWriter, r *http.Request, v *visit, status int, msg, name string) error {
	d, err := st.tagsData(r, v, name)
	if err != nil {
		return err
	}
	return st.render(w, v, "settings_tags", "Tags", status, msg, d)
}

// tagName validates a tag name as the API does; "" when fine.
func tagName(name string) string {
	switch {
	case name == "":
		return "Enter a tag name."
	case len(name) > 255:
		return "A tag name can be at most 255 bytes."
	case strings.ContainsRune(name, 0) || !utf8.ValidString(name):
		return "The tag name must be valid text."
	}
	return ""
}

func (st *settings) createTag(w http.ResponseWriter, r *http.Request, v *visit) error {
	name := strings.TrimSpace(r.PostFormValue("name"))
	if msg := tagName(name); msg != "" {
		return st.tagsErr(w, r, v, http.StatusBadRequest, msg, name)
	}
	if _, created, err := st.tags.Ensure(r.Context(), v.ws.ID, name); err != nil {
		return err
	} else if !created {
		return st.tagsErr(w, r, v, http.StatusConflict, "A tag named “"+name+"” already exists.", name)
	}
	return saved(w, r, "/app/settings/tags")
}

var errNoTag = pageErr(http.StatusNotFound, "Tag not found", "There is no such tag in this workspace.")

func (st *settings) renameTag(w http.ResponseWriter, r *http.Request, v *visit) error {
	name := strings.TrimSpace(r.PostFormValue("name"))
	if msg := tagName(name); msg != "" {
		return st.tagsErr(w, r, v, http.StatusBadRequest, msg, "")
	}
	_, err := st.tags.Rename(r.Context(), v.ws.ID, formID(r, "id"), name)
	var conflict *store.ConflictError
	switch {
	case store.IsMissing(err, "tag"):
		return errNoTag
	case errors.As(err, &conflict):
		return st.tagsErr(w, r, v, http.StatusConflict, "A tag named “"+name+"” already exists.", "")
	case err != nil:
		return err
	}
	return saved(w, r, "/app/settings/tags")
}

func (st *settings) deleteTag(w http.ResponseWriter, r *http.Request, v *visit) error {
	_, err := st.tags.Delete(r.Context(), v.ws.ID, formID(r, "id"))
	var inUse *store.TagInUseError
	switch {
	case errors.Is(err, store.ErrNotFound):
		return errNoTag
	case errors.As(err, &inUse):
		return st.tagsErr(w, r, v, http.StatusConflict, "Segments filter on this tag ("+strings.Join(inUse.Segments, ", ")+"). Change those segments first.", "")
	case err != nil:
		return err
	}
	return saved(w, r, "/app/settings/tags")
}

// Access tokens.

type tokensData struct {
	Tokens []*workspace.Token
	Names  map[int64]string // admin id → name, for token owners
}

func (st *settings) tokensPage(w http.ResponseWriter, r *http.Request, v *visit) error {
	admins, err := st.s.ws.Admins(r.Context(), v.ws.ID)
	if err != nil {
		return err
	}
	tokens, err := st.s.sessions.Tokens(r.Context(), v.ws.ID)
	if err != nil {
		return err
	}
	names := map[int64]string{}
	for _, a := range admins {
		names[a.ID] = a.Name
	}
	return st.render(w, v, "settings_tokens", "Access tokens", 0, "", tokensData{Tokens: tokens, Names: names})
}

// revokeToken revokes one of the workspace's access tokens.
func (st *settings) revokeToken(w http.ResponseWriter, r *http.Request, v *visit) error {
	if err := st.s.sessions.RevokeToken(r.Context(), v.ws.ID, formID(r, "id")); errors.Is(err, store.ErrNotFound) {
		return pageErr(http.StatusNotFound, "Token not found", "There is no such access token in this workspace.")
	} else if err != nil {
		return err
	}
	http.Redirect(w, r, "/app/settings/tokens", http.StatusSeeOther)
	return nil
}
