package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/parleyhq/parley/internal/assign"
	"github.com/parleyhq/parley/internal/attribute"
	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/conversation"
	"github.com/parleyhq/parley/internal/ids"
	"github.com/parleyhq/parley/internal/store"
	"github.com/parleyhq/parley/internal/team"
	"github.com/parleyhq/parley/internal/testdb"
	"github.com/parleyhq/parley/internal/web"
	"github.com/parleyhq/parley/internal/workspace"
)

// settingsPages are every settings page an agent must not reach.
var settingsPages = []string{"/app/settings", "/app/settings/workspace", "/app/settings/messenger", "/app/settings/teammates",
	"/app/settings/teams", "/app/settings/data-attributes", "/app/settings/tags", "/app/settings/tokens", "/app/settings/invite"}

// events counts the workspace's events of topic.
func (e *env) events(wsID, topic string) int {
	e.t.Helper()
	var n int
	if err := e.db.Read().QueryRow(context.Background(), `SELECT COUNT(*) FROM event_log WHERE workspace_id = ? AND topic = ?`, wsID, topic).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

// send posts a form with the session's CSRF token (read from the
// profile page, which every role reaches).
func (b *browser) send(path string, form url.Values) page {
	b.e.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	form.Set("csrf", b.csrf("/app/profile"))
	return b.do(http.MethodPost, path, form)
}

// An agent is refused every settings page by URL and every settings form
// by a forged POST carrying the agent's own valid CSRF token; nothing
// changes.
func TestSettingsAgentRefused(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, web.Options{})
		ctx := context.Background()
		tm := &team.Team{WorkspaceID: e.ws.ID, Name: "Support", Distribution: team.Manual}
		if err := store.NewTeams(db).Create(ctx, tm); err != nil {
			t.Fatal(err)
		}
		tag, _, err := store.NewTags(db).Ensure(ctx, e.ws.ID, "vip")
		if err != nil {
			t.Fatal(err)
		}
		agent := e.browser()
		agent.mustSignin(e.agent.Email)
		for _, p := range append(settingsPages, "/app/settings/teams/"+itoa(tm.ID)) {
			want(t, agent.get(p), http.StatusForbidden, "Not allowed")
		}
		before := e.events(e.ws.ID, "workspace.updated") + e.events(e.ws.ID, "team.created") + e.events(e.ws.ID, "admin.updated")
		forms := map[string]url.Values{
			"/app/settings/workspace":                                             {"name": {"Hacked"}, "time_zone": {"UTC"}},
			"/app/settings/messenger":                                             {"color": {"#000000"}},
			"/app/settings/messenger/rotate":                                      nil,
			"/app/settings/teammates/" + itoa(e.agent.ID) + "/role":               {"role": {"owner"}},
			"/app/settings/teammates/" + itoa(e.owner.ID) + "/remove":             nil,
			"/app/settings/teams":                                                 {"name": {"Agents"}, "distribution": {"manual"}},
			"/app/settings/teams/" + itoa(tm.ID):                                  {"name": {"Renamed"}, "distribution": {"manual"}},
			"/app/settings/teams/" + itoa(tm.ID) + "/delete":                      nil,
			"/app/settings/data-attributes":                                       {"model": {"contact"}, "name": {"plan"}, "type": {"string"}},
			"/app/settings/tags":                                                  {"name": {"new"}},
			"/app/settings/tags/" + itoa(tag.ID) + "/rename":                      {"name": {"renamed"}},
			"/app/settings/tags/" + itoa(tag.ID) + "/delete":                      nil,
			"/app/settings/tokens":                                                {"name": {"mine"}},
			"/app/settings/tokens/" + itoa(e.token.ID) + "/revoke":                nil,
			"/app/settings/invitations/" + strings.Repeat("ab", 32) + "/resend":   nil,
			"/app/settings/invitations/" + strings.Repeat("ab", 32) + "/withdraw": nil,
			"/app/settings/data-attributes/contact/1":                             {"action": {"archive"}},
			"/app/settings/invite":                                                {"name": {"X"}, "email": {"x@acme.test"}, "role": {"admin"}},
		}
		for path, form := range forms {
			want(t, agent.send(path, form), http.StatusForbidden, "Not allowed")
		}
		after := e.events(e.ws.ID, "workspace.updated") + e.events(e.ws.ID, "team.created") + e.events(e.ws.ID, "admin.updated")
		ws, _ := store.NewWorkspaces(db).Workspace(ctx, e.ws.ID)
		a, _ := store.NewWorkspaces(db).Admin(ctx, e.ws.ID, e.agent.ID)
		if after != before || ws.Name != "Acme" || a.Role != workspace.RoleAgent {
			t.Fatalf("an agent's forged posts changed something: events %d→%d, name %q, role %q", before, after, ws.Name, a.Role)
		}
		if t2, err := store.NewTags(db).Get(ctx, e.ws.ID, tag.ID); err != nil || t2.Name != "vip" {
			t.Fatalf("tag changed: %v %v", t2, err)
		}
	})
}

// Workspace and Messenger forms: bad input is a readable 400 and changes
// nothing; good input goes through the store with its event.
func TestSettingsWorkspaceAndMessenger(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, web.Options{})
		ctx := context.Background()
		owner := e.browser()
		owner.mustSignin(e.owner.Email)
		for _, p := range settingsPages {
			want(t, owner.get(p), http.StatusOK, `aria-label="Settings"`)
		}

		want(t, owner.send("/app/settings/workspace", url.Values{"name": {"Acme"}, "time_zone": {"Mars/Olympus"}}), http.StatusBadRequest, "is not a time zone")
		want(t, owner.send("/app/settings/workspace", url.Values{"name": {"Acme"}, "time_zone": {"Local"}}), http.StatusBadRequest, "is not a time zone")
		want(t, owner.send("/app/settings/workspace", url.Values{"name": {" "}, "time_zone": {"UTC"}}), http.StatusBadRequest, "Enter a workspace name")
		if n := e.events(e.ws.ID, "workspace.updated"); n != 0 {
			t.Fatalf("refused forms appended %d events", n)
		}
		if p := owner.send("/app/settings/workspace", url.Values{"name": {"Acme Inc"}, "time_zone": {"Europe/Paris"}}); p.status != http.StatusSeeOther {
			t.Fatalf("save workspace: %d %s", p.status, p.body)
		}
		ws, err := store.NewWorkspaces(db).Workspace(ctx, e.ws.ID)
		if err != nil || ws.Name != "Acme Inc" || ws.TimeZone != "Europe/Paris" || e.events(e.ws.ID, "workspace.updated") != 1 {
			t.Fatalf("workspace after save: %+v %v", ws, err)
		}
		want(t, owner.get("/app/settings/workspace?saved=1"), http.StatusOK, `value="Europe/Paris"`, "Saved.")

		m := store.NewMessenger(db)
		base := url.Values{"color": {"#112233"}, "secondary_color": {"#445566"}, "alignment": {"left"}, "greeting": {"Bonjour!"},
			"reply_time": {"a few hours"}, "office_time_zone": {""}, "hours_monday": {"09:00-12:00, 13:00-17:30"}, "enforced": {"on"}}
		bad := func(field, value, msg string) {
			t.Helper()
			f := url.Values{}
			for k, v := range base {
				f[k] = v
			}
			f.Set(field, value)
			want(t, owner.send("/app/settings/messenger", f), http.StatusBadRequest, msg)
		}
		bad("color", "blue", "#rrggbb")
		bad("alignment", "middle", "Choose left or right")
		bad("hours_tuesday", "9 to 5", "Tuesday: write the hours as 09:00-17:00")
		bad("hours_friday", "17:00-09:00", "Friday: each interval needs a start before its end")
		bad("office_time_zone", "Nowhere/City", "not an IANA time zone")
		bad("reply_time", "never", "Choose a reply time")
		if n := e.events(e.ws.ID, "messenger.settings.updated"); n != 0 {
			t.Fatalf("refused Messenger forms appended %d events", n)
		}
		before, err := m.Config(ctx, e.ws.ID)
		if err != nil {
			t.Fatal(err)
		}
		if p := owner.send("/app/settings/messenger", base); p.status != http.StatusSeeOther {
			t.Fatalf("save messenger: %d %s", p.status, p.body)
		}
		cfg, err := m.Config(ctx, e.ws.ID)
		if err != nil {
			t.Fatal(err)
		}
		st := cfg.Settings
		if st.Color != "#112233" || st.Alignment != "left" || st.Greeting != "Bonjour!" || !cfg.Enforced || len(st.OfficeHours.Days["monday"]) != 2 ||
			st.OfficeHours.Days["monday"][1].End != "17:30" || e.events(e.ws.ID, "messenger.settings.updated") != 1 {
			t.Fatalf("messenger after save: %+v enforced=%v", st, cfg.Enforced)
		}
		if string(cfg.SessionKey) == string(before.SessionKey) {
			t.Fatal("turning enforcement on kept the Messenger sessions")
		}
		p := owner.get("/app/settings/messenger")
		want(t, p, http.StatusOK, `app_id: &#34;`+e.ws.ID+`&#34;`, "/widget.js", cfg.Secret, `value="09:00-12:00, 13:00-17:30"`)
		if p := owner.send("/app/settings/messenger/rotate", nil); p.status != http.StatusSeeOther {
			t.Fatalf("rotate: %d", p.status)
		}
		if after, _ := m.Config(ctx, e.ws.ID); after.Secret == cfg.Secret || len(after.Secret) < 32 {
			t.Fatal("the secret was not rotated")
		}
	})
}

var invitationRe = regexp.MustCompile(`/app/settings/invitations/([0-9a-f]{64})/withdraw`)

// Teammates: role rules, removal (signed out at once, tokens revoked,
// conversations handed back), pending invitations withdrawn and resent.
func TestSettingsTeammates(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, web.Options{})
		ctx := context.Background()
		wss := store.NewWorkspaces(db)
		owner := e.browser()
		owner.mustSignin(e.owner.Email)
		role := func(id int64, r string) page {
			return owner.send("/app/settings/teammates/"+itoa(id)+"/role", url.Values{"role": {r}})
		}
		want(t, role(e.agent.ID, "boss"), http.StatusBadRequest, "Choose the role")
		want(t, role(e.owner.ID, "agent"), http.StatusForbidden, "You cannot change your own role")
		if p := role(e.agent.ID, "admin"); p.status != http.StatusSeeOther {
			t.Fatalf("make admin: %d %s", p.status, p.body)
		}
		if a, _ := wss.Admin(ctx, e.ws.ID, e.agent.ID); a.Role != workspace.RoleAdmin || e.events(e.ws.ID, "admin.updated") != 1 {
			t.Fatalf("role after change: %q", a.Role)
		}
		// The new admin reaches settings, but cannot make or change owners.
		admin := e.browser()
		admin.mustSignin(e.agent.Email)
		want(t, admin.get("/app/settings/teammates"), http.StatusOK, e.owner.Email)
		want(t, admin.send("/app/settings/teammates/"+itoa(e.owner.ID)+"/role", url.Values{"role": {"agent"}}), http.StatusForbidden, "Only an owner can change or remove an owner")
		want(t, admin.send("/app/settings/teammates/"+itoa(e.owner.ID)+"/remove", nil), http.StatusForbidden, "Only an owner")
		// Another workspace's teammate is not found.
		_, gOwner, gAgent := e.workspace("Globex")
		want(t, role(gAgent.ID, "admin"), http.StatusNotFound, "no such teammate")
		want(t, owner.send("/app/settings/teammates/"+itoa(gOwner.ID)+"/remove", nil), http.StatusNotFound, "no such teammate")
		// Only the owner may make an owner; the store keeps the last owner.
		if _, err := store.NewTeams(db).SetRole(ctx, e.ws.ID, e.owner.ID, workspace.RoleAdmin); err != store.ErrLastOwner {
			t.Fatalf("demoting the last owner: %v", err)
		}

		// Removing the admin: their session ends at once, their token is
		// revoked, they vanish from the list and admin.deleted is appended.
		if _, err := wss.CreateToken(ctx, e.ws.ID, e.agent.ID, "theirs", ids.HashToken("t_"+ids.Secret(8))); err != nil {
			t.Fatal(err)
		}
		// They hold an open conversation: removing them unassigns it.
		held := e.startConversation(e.ws.ID, "Ann", "<p>Hello</p>")
		by := conversation.Author{Type: conversation.AuthorAdmin, ID: itoa(e.owner.ID)}
		e.change(e.ws.ID, held.ID, func(c *conversation.Conversation) (*conversation.Change, error) {
			return c.Assign(by, "admin", e.agent.ID, "", 1)
		})
		seq := e.head(e.ws.ID)
		// A teammate assignment rules name is not removed until the rules change.
		rules := store.NewAssignmentRules(db)
		rule := &assign.Rule{WorkspaceID: e.ws.ID, Name: "VIPs to Alan", Priority: 1, Condition: json.RawMessage(`{"field":"state","operator":"=","value":"open"}`), AdminID: e.agent.ID}
		if err := rules.Create(ctx, rule); err != nil {
			t.Fatal(err)
		}
		want(t, owner.send("/app/settings/teammates/"+itoa(e.agent.ID)+"/remove", nil), http.StatusConflict, "VIPs to Alan")
		if err := rules.Delete(ctx, e.ws.ID, rule.ID); err != nil {
			t.Fatal(err)
		}
		if p := owner.send("/app/settings/teammates/"+itoa(e.agent.ID)+"/remove", nil); p.status != http.StatusSeeOther {
			t.Fatalf("remove: %d %s", p.status, p.body)
		}
		if got, err := store.NewConversations(db).Get(ctx, e.ws.ID, held.ID); err != nil || got.AdminAssigneeID != nil {
			t.Fatalf("the removed teammate still holds the conversation: %v %v", got.AdminAssigneeID, err)
		}
		if topics := strings.Join(e.topicsSince(e.ws.ID, seq), ","); !strings.Contains(topics, "conversation.admin.assigned") || !strings.HasSuffix(topics, "admin.deleted") {
			t.Fatalf("events of the removal: %s", topics)
		}
		if p := admin.get("/app/inbox"); p.status != http.StatusSeeOther || p.location != "/signin" {
			t.Fatalf("the removed teammate is still signed in: %d", p.status)
		}
		want(t, admin.signin(e.agent.Email, password), http.StatusUnauthorized, "do not match")
		if live, _ := store.NewWebSessions(db).Tokens(ctx, e.ws.ID); len(live) != 1 || live[0].Name != "Zapier" {
			t.Fatalf("the removed teammate's token is live: %d tokens", len(live))
		}
		if p := owner.get("/app/settings/teammates"); strings.Contains(p.body, e.agent.Email) || e.events(e.ws.ID, "admin.deleted") != 1 {
			t.Fatalf("removed teammate still listed: %s", p.body)
		}

		// Invitations: listed as pending, resent with a new link (the old
		// one stops working), withdrawn.
		linkRe := regexp.MustCompile(`value="https?://[^"/]+(/invite/[^"]+)"`)
		p := owner.send("/app/settings/invite", url.Values{"name": {"Ann"}, "email": {"ann@acme.test"}, "role": {"agent"}})
		first := linkRe.FindStringSubmatch(p.body)
		if p.status != http.StatusOK || first == nil {
			t.Fatalf("invite: %d %s", p.status, p.body)
		}
		p = owner.get("/app/settings/teammates")
		m := invitationRe.FindStringSubmatch(p.body)
		if m == nil || !strings.Contains(p.body, "ann@acme.test") {
			t.Fatalf("pending invitation not listed: %s", p.body)
		}
		p = owner.send("/app/settings/invitations/"+m[1]+"/resend", nil)
		link := linkRe.FindStringSubmatch(p.body)
		if p.status != http.StatusOK || link == nil || link[1] == first[1] {
			t.Fatalf("resend: %d %s", p.status, p.body)
		}
		want(t, e.browser().get(link[1]), http.StatusOK, "ann@acme.test")
		want(t, e.browser().get(first[1]), http.StatusNotFound, "Link not valid")
		want(t, owner.send("/app/settings/invitations/"+m[1]+"/withdraw", nil), http.StatusNotFound, "no such pending invitation")
		m = invitationRe.FindStringSubmatch(owner.get("/app/settings/teammates").body)
		// Another workspace's owner cannot withdraw it.
		globex := e.browser()
		globex.mustSignin(gOwner.Email)
		want(t, globex.send("/app/settings/invitations/"+m[1]+"/withdraw", nil), http.StatusNotFound, "no such pending invitation")
		if p := owner.send("/app/settings/invitations/"+m[1]+"/withdraw", nil); p.status != http.StatusSeeOther {
			t.Fatalf("withdraw: %d", p.status)
		}
		want(t, e.browser().get(link[1]), http.StatusNotFound, "Link not valid")
		if p := owner.get("/app/settings/teammates"); strings.Contains(p.body, "ann@acme.test") {
			t.Fatal("withdrawn invitation still listed")
		}
	})
}

// Teams, data attributes and tags: validation messages, the store's
// events, and another workspace's items are 404s.
func TestSettingsTeamsAttributesTags(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, web.Options{})
		ctx := context.Background()
		owner := e.browser()
		owner.mustSignin(e.owner.Email)
		_, gOwner, gAgent := e.workspace("Globex")
		globex := e.browser()
		globex.mustSignin(gOwner.Email)

		// Teams.
		newTeam := func(f url.Values) page { return owner.send("/app/settings/teams", f) }
		want(t, newTeam(url.Values{"name": {""}, "distribution": {"manual"}}), http.StatusBadRequest, "Enter a team name")
		want(t, newTeam(url.Values{"name": {"Support"}, "distribution": {"random"}}), http.StatusBadRequest, "Choose a distribution method")
		want(t, newTeam(url.Values{"name": {"Support"}, "distribution": {"manual"}, "limit": {"0"}}), http.StatusBadRequest, "assignment limit")
		want(t, newTeam(url.Values{"name": {"Support"}, "distribution": {"manual"}, "member": {itoa(gAgent.ID)}}), http.StatusBadRequest, "among this workspace")
		if n := e.events(e.ws.ID, "team.created"); n != 0 {
			t.Fatalf("refused team forms appended %d events", n)
		}
		if p := newTeam(url.Values{"name": {"Support"}, "distribution": {"round_robin"}, "limit": {"5"}, "member": {itoa(e.agent.ID)}}); p.status != http.StatusSeeOther {
			t.Fatalf("create team: %d %s", p.status, p.body)
		}
		teams, _ := store.NewTeams(db).List(ctx, e.ws.ID)
		if len(teams) != 1 || teams[0].Distribution != team.RoundRobin || teams[0].AssignmentLimit != 5 || len(teams[0].Members) != 1 || teams[0].Members[0].AdminID != e.agent.ID {
			t.Fatalf("team after create: %+v", teams)
		}
		tm := teams[0]
		want(t, newTeam(url.Values{"name": {"support"}, "distribution": {"manual"}}), http.StatusConflict, "already exists")
		path := "/app/settings/teams/" + itoa(tm.ID)
		want(t, owner.get(path), http.StatusOK, `value="Support"`)
		want(t, globex.get(path), http.StatusNotFound, "no such team")
		want(t, globex.send(path, url.Values{"name": {"Mine"}, "distribution": {"manual"}}), http.StatusNotFound, "no such team")
		want(t, globex.send(path+"/delete", nil), http.StatusNotFound, "no such team")
		want(t, owner.send(path, url.Values{"name": {"Help"}, "distribution": {"balanced"}, "limit": {"x"}}), http.StatusBadRequest, "assignment limit")
		if p := owner.send(path, url.Values{"name": {"Help desk"}, "distribution": {"balanced"}}); p.status != http.StatusSeeOther {
			t.Fatalf("update team: %d %s", p.status, p.body)
		}
		if got, _ := store.NewTeams(db).Get(ctx, e.ws.ID, tm.ID); got.Name != "Help desk" || got.Distribution != team.Balanced || len(got.Members) != 0 || got.AssignmentLimit != 0 {
			t.Fatalf("team after update: %+v", got)
		}
		if p := owner.send(path+"/delete", nil); p.status != http.StatusSeeOther || e.events(e.ws.ID, "team.deleted") != 1 {
			t.Fatalf("delete team: %d", p.status)
		}

		// Data attributes.
		attr := func(f url.Values) page { return owner.send("/app/settings/data-attributes", f) }
		want(t, attr(url.Values{"model": {"contact"}, "name": {"a.b"}, "type": {"string"}}), http.StatusBadRequest, "Name must be 1 to 190")
		want(t, attr(url.Values{"model": {"contact"}, "name": {"email"}, "type": {"string"}}), http.StatusBadRequest, "standard attribute")
		want(t, attr(url.Values{"model": {"contact"}, "name": {"plan"}, "type": {"list"}, "options": {"pro"}}), http.StatusBadRequest, "at least two options")
		want(t, attr(url.Values{"model": {"contact"}, "name": {"plan"}, "type": {"integer"}, "options": {"a\nb"}}), http.StatusBadRequest, "Options are only for list")
		want(t, attr(url.Values{"model": {"ticket"}, "name": {"plan"}, "type": {"string"}}), http.StatusBadRequest, "Choose people, companies or conversations")
		want(t, attr(url.Values{"model": {"conversation"}, "name": {"reason"}, "type": {"list"}}), http.StatusBadRequest, "at least one option")
		if p := attr(url.Values{"model": {"contact"}, "name": {"plan"}, "type": {"list"}, "options": {"free\npro\n"}, "description": {"Billing plan"}, "messenger_writable": {"on"}}); p.status != http.StatusSeeOther {
			t.Fatalf("create attribute: %d %s", p.status, p.body)
		}
		want(t, attr(url.Values{"model": {"contact"}, "name": {"plan"}, "type": {"string"}}), http.StatusBadRequest, "already an attribute named")
		if p := attr(url.Values{"model": {"conversation"}, "name": {"Reason"}, "type": {"list"}, "options": {"Bug\nQuestion"}}); p.status != http.StatusSeeOther {
			t.Fatalf("create conversation attribute: %d %s", p.status, p.body)
		}
		list, _ := store.NewAttributes(db).Custom(ctx, e.ws.ID, attribute.ModelContact, true)
		if len(list) != 1 || list[0].DataType != "string" || len(list[0].Options) != 2 || !list[0].MessengerWritable || e.events(e.ws.ID, "data_attribute.created") != 1 {
			t.Fatalf("attributes: %+v", list)
		}
		ap := "/app/settings/data-attributes/contact/" + itoa(list[0].ID)
		want(t, globex.send(ap, url.Values{"action": {"archive"}}), http.StatusNotFound, "no such data attribute")
		want(t, owner.send("/app/settings/data-attributes/company/"+itoa(list[0].ID), url.Values{"action": {"archive"}}), http.StatusNotFound, "no such data attribute")
		for _, action := range []string{"archive", "messenger_off"} {
			if p := owner.send(ap, url.Values{"action": {action}}); p.status != http.StatusSeeOther {
				t.Fatalf("%s: %d %s", action, p.status, p.body)
			}
		}
		if a, _ := store.NewAttributes(db).Get(ctx, e.ws.ID, list[0].ID); !a.Archived || a.MessengerWritable {
			t.Fatalf("attribute after archive: %+v", a)
		}
		want(t, owner.get("/app/settings/data-attributes"), http.StatusOK, "Archived", "Unarchive plan", "Reason")

		// Tags: usage counts; delete removes the links.
		tags := store.NewTags(db)
		vip, _, _ := tags.Ensure(ctx, e.ws.ID, "vip")
		c := &contact.Contact{WorkspaceID: e.ws.ID, ID: ids.New(), Role: contact.RoleLead}
		if err := store.NewContacts(db).Create(ctx, c); err != nil {
			t.Fatal(err)
		}
		if _, err := tags.TagContact(ctx, e.ws.ID, c.ID, vip.ID, e.owner.ID); err != nil {
			t.Fatal(err)
		}
		want(t, owner.send("/app/settings/tags", url.Values{"name": {"  "}}), http.StatusBadRequest, "Enter a tag name")
		want(t, owner.send("/app/settings/tags", url.Values{"name": {"VIP"}}), http.StatusConflict, "already exists")
		if p := owner.send("/app/settings/tags", url.Values{"name": {"churn risk"}}); p.status != http.StatusSeeOther {
			t.Fatalf("create tag: %d", p.status)
		}
		want(t, owner.get("/app/settings/tags"), http.StatusOK, `value="vip"`, `value="churn risk"`, "<td>1</td>", "<td>0</td>")
		tp := "/app/settings/tags/" + itoa(vip.ID)
		want(t, globex.send(tp+"/rename", url.Values{"name": {"x"}}), http.StatusNotFound, "no such tag")
		want(t, globex.send(tp+"/delete", nil), http.StatusNotFound, "no such tag")
		want(t, owner.send(tp+"/rename", url.Values{"name": {"Churn risk"}}), http.StatusConflict, "already exists")
		if p := owner.send(tp+"/rename", url.Values{"name": {"Gold"}}); p.status != http.StatusSeeOther {
			t.Fatalf("rename: %d", p.status)
		}
		if got, _ := tags.Get(ctx, e.ws.ID, vip.ID); got.Name != "Gold" || e.events(e.ws.ID, "tag.updated") != 1 {
			t.Fatalf("tag after rename: %+v", got)
		}
		if p := owner.send(tp+"/delete", nil); p.status != http.StatusSeeOther {
			t.Fatalf("delete tag: %d", p.status)
		}
		if ct, _ := tags.ContactTags(ctx, e.ws.ID, c.ID); len(ct) != 0 || e.events(e.ws.ID, "tag.deleted") != 1 {
			t.Fatalf("deleted tag still on the contact: %+v", ct)
		}
	})
}
