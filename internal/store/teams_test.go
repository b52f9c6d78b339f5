package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/assign"
	"github.com/parleyhq/parley/internal/attribute"
	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/eventlog"
	"github.com/parleyhq/parley/internal/ids"
	"github.com/parleyhq/parley/internal/store"
	"github.com/parleyhq/parley/internal/team"
	"github.com/parleyhq/parley/internal/testdb"
	"github.com/parleyhq/parley/internal/workspace"
)

// newAdmin adds a teammate to a workspace.
func newAdmin(t *testing.T, db *store.DB, ws *workspace.Workspace, name string) int64 {
	t.Helper()
	var id int64
	err := db.InTx(context.Background(), func(tx *store.Tx) error {
		return tx.QueryRow(context.Background(), `INSERT INTO admins (workspace_id, name, email, role, created_at) VALUES (?, ?, ?, 'agent', ?) RETURNING id`,
			ws.ID, name, name+"@"+ws.ID+".test", time.Now().Unix()).Scan(&id)
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func topics(t *testing.T, db *store.DB, ws string) []string {
	t.Helper()
	evs, err := eventlog.Since(context.Background(), db.Read(), ws, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range evs {
		out = append(out, e.Topic)
	}
	return out
}

func TestTeamsStore(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		ws, other := newWorkspace(t, db, "acme"), newWorkspace(t, db, "other")
		a1, a2, a3 := newAdmin(t, db, ws, "ann"), newAdmin(t, db, ws, "bob"), newAdmin(t, db, ws, "cat")
		stranger := newAdmin(t, db, other, "dan")
		teams := store.NewTeams(db)

		sales := &team.Team{WorkspaceID: ws.ID, Name: "Sales", Distribution: team.RoundRobin, AssignmentLimit: 5,
			Members: []team.Member{{AdminID: a1}, {AdminID: a2, Secondary: true}}}
		if err := teams.Create(ctx, sales); err != nil {
			t.Fatal(err)
		}
		got, err := teams.Get(ctx, ws.ID, sales.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Name != "Sales" || got.Distribution != team.RoundRobin || got.AssignmentLimit != 5 ||
			!slices.Equal(got.Members, sales.Members) {
			t.Fatalf("stored team %+v", got)
		}
		b, _ := json.Marshal(got)
		var j map[string]any
		_ = json.Unmarshal(b, &j)
		if j["type"] != "team" || j["id"] != jsonID(sales.ID) || j["distribution_method"] != "round_robin" || j["assignment_limit"] != 5.0 {
			t.Fatalf("team JSON %s", b)
		}

		// Same name in any case: conflict, nothing written.
		err = teams.Create(ctx, &team.Team{WorkspaceID: ws.ID, Name: "SALES", Distribution: team.Manual})
		var ce *store.ConflictError
		if !errors.As(err, &ce) {
			t.Fatalf("duplicate name: %v", err)
		}
		// A member from another workspace: refused, nothing written.
		err = teams.Create(ctx, &team.Team{WorkspaceID: ws.ID, Name: "Support", Distribution: team.Manual, Members: []team.Member{{AdminID: a3}, {AdminID: stranger}}})
		if !store.IsMissing(err, "admin") {
			t.Fatalf("stranger as member: %v", err)
		}
		if list, _ := teams.List(ctx, ws.ID); len(list) != 1 {
			t.Fatalf("refused creates left teams: %d", len(list))
		}

		// Another workspace sees and changes nothing.
		if list, _ := teams.List(ctx, other.ID); len(list) != 0 {
			t.Fatalf("other workspace lists %d teams", len(list))
		}
		if _, err := teams.Get(ctx, other.ID, sales.ID); !store.IsMissing(err, "team") {
			t.Fatalf("other workspace gets the team: %v", err)
		}
		if _, err := teams.Update(ctx, other.ID, sales.ID, func(*team.Team) error { return nil }); !store.IsMissing(err, "team") {
			t.Fatalf("other workspace updates the team: %v", err)
		}
		if err := teams.Delete(ctx, other.ID, sales.ID); !store.IsMissing(err, "team") {
			t.Fatalf("other workspace deletes the team: %v", err)
		}

		up, err := teams.Update(ctx, ws.ID, sales.ID, func(t *team.Team) error {
			t.Name, t.Distribution, t.AssignmentLimit = "Sales EU", team.Balanced, 0
			t.Members = []team.Member{{AdminID: a2}, {AdminID: a3}}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		got, _ = teams.Get(ctx, ws.ID, sales.ID)
		if got.Name != "Sales EU" || got.Distribution != team.Balanced || got.AssignmentLimit != 0 || !slices.Equal(got.AdminIDs(), []int64{a2, a3}) || up.Name != got.Name {
			t.Fatalf("updated team %+v", got)
		}
		byAdmin, _ := teams.AdminTeamIDs(ctx, ws.ID)
		if len(byAdmin[a1]) != 0 || !slices.Equal(byAdmin[a2], []int64{sales.ID}) {
			t.Fatalf("admin teams %v", byAdmin)
		}

		// A failed update leaves everything as it was.
		_, err = teams.Update(ctx, ws.ID, sales.ID, func(t *team.Team) error {
			t.Name, t.Members = "Renamed", []team.Member{{AdminID: stranger}}
			return nil
		})
		if !store.IsMissing(err, "admin") {
			t.Fatalf("update with a stranger: %v", err)
		}
		if got, _ := teams.Get(ctx, ws.ID, sales.ID); got.Name != "Sales EU" || len(got.Members) != 2 {
			t.Fatalf("refused update changed the team: %+v", got)
		}

		if err := teams.Delete(ctx, ws.ID, sales.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := teams.Get(ctx, ws.ID, sales.ID); !store.IsMissing(err, "team") {
			t.Fatalf("deleted team: %v", err)
		}
		want := []string{"team.created", "team.updated", "team.deleted"}
		if got := topics(t, db, ws.ID); !slices.Equal(got, want) {
			t.Fatalf("events %v, want %v", got, want)
		}
		if got := topics(t, db, other.ID); len(got) != 0 {
			t.Fatalf("other workspace events %v", got)
		}
	})
}

func jsonID(id int64) string { b, _ := json.Marshal(id); return string(b) }

func TestAssignmentRulesStore(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		ws, other := newWorkspace(t, db, "acme"), newWorkspace(t, db, "other")
		a1 := newAdmin(t, db, ws, "ann")
		stranger := newAdmin(t, db, other, "dan")
		teams, rules := store.NewTeams(db), store.NewAssignmentRules(db)
		sales := &team.Team{WorkspaceID: ws.ID, Name: "Sales", Distribution: team.Manual}
		foreign := &team.Team{WorkspaceID: other.ID, Name: "Theirs", Distribution: team.Manual}
		for _, tm := range []*team.Team{sales, foreign} {
			if err := teams.Create(ctx, tm); err != nil {
				t.Fatal(err)
			}
		}
		cond := json.RawMessage(`{"field":"source.body","operator":"~","value":"pricing"}`)
		r1 := &assign.Rule{WorkspaceID: ws.ID, Name: "pricing", Condition: cond, TeamID: sales.ID}
		r2 := &assign.Rule{WorkspaceID: ws.ID, Name: "vip", Condition: cond, AdminID: a1}
		r0 := &assign.Rule{WorkspaceID: ws.ID, Name: "tie", Condition: cond, AdminID: a1, Priority: 1}
		for _, r := range []*assign.Rule{r1, r2, r0} {
			if err := rules.Create(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
		if r1.Priority != 1 || r2.Priority != 2 {
			t.Fatalf("default priorities %d, %d", r1.Priority, r2.Priority)
		}
		list, _ := rules.List(ctx, ws.ID)
		if len(list) != 3 || list[0].ID != r1.ID || list[1].ID != r0.ID || list[2].ID != r2.ID { // ties by id
			t.Fatalf("order %+v", list)
		}
		// Targets of another workspace are refused, nothing written.
		if err := rules.Create(ctx, &assign.Rule{WorkspaceID: ws.ID, Name: "x", Condition: cond, TeamID: foreign.ID}); !store.IsMissing(err, "team") {
			t.Fatalf("foreign team: %v", err)
		}
		if err := rules.Create(ctx, &assign.Rule{WorkspaceID: ws.ID, Name: "x", Condition: cond, AdminID: stranger}); !store.IsMissing(err, "admin") {
			t.Fatalf("foreign admin: %v", err)
		}
		if _, err := rules.Update(ctx, ws.ID, r2.ID, func(r *assign.Rule) error { r.AdminID = stranger; return nil }); !store.IsMissing(err, "admin") {
			t.Fatalf("update to a foreign admin: %v", err)
		}
		if got, _ := rules.Get(ctx, ws.ID, r2.ID); got.AdminID != a1 {
			t.Fatalf("refused update changed the rule: %+v", got)
		}
		if list, _ := rules.List(ctx, other.ID); len(list) != 0 {
			t.Fatalf("other workspace sees %d rules", len(list))
		}
		if _, err := rules.Get(ctx, other.ID, r1.ID); !store.IsMissing(err, "assignment_rule") {
			t.Fatalf("other workspace gets a rule: %v", err)
		}
		if err := rules.Delete(ctx, other.ID, r1.ID); !store.IsMissing(err, "assignment_rule") {
			t.Fatalf("other workspace deletes a rule: %v", err)
		}

		// A team that a rule uses cannot be deleted.
		var inUse *store.TeamInUseError
		if err := teams.Delete(ctx, ws.ID, sales.ID); !errors.As(err, &inUse) || !slices.Equal(inUse.Rules, []string{"pricing"}) {
			t.Fatalf("delete a used team: %v", err)
		}
		up, err := rules.Update(ctx, ws.ID, r1.ID, func(r *assign.Rule) error { r.TeamID, r.AdminID, r.Priority = 0, a1, 10; return nil })
		if err != nil || up.Priority != 10 || up.AdminID != a1 || up.TeamID != 0 {
			t.Fatalf("update: %+v %v", up, err)
		}
		if err := teams.Delete(ctx, ws.ID, sales.ID); err != nil {
			t.Fatalf("delete an unused team: %v", err)
		}
		if err := rules.Delete(ctx, ws.ID, r1.ID); err != nil {
			t.Fatal(err)
		}
		want := []string{"team.created", "assignment_rule.created", "assignment_rule.created", "assignment_rule.created",
			"assignment_rule.updated", "team.deleted", "assignment_rule.deleted"}
		if got := topics(t, db, ws.ID); !slices.Equal(got, want) {
			t.Fatalf("events %v, want %v", got, want)
		}
	})
}

// TestEngineOnStore runs the engine on stored teams, rules, away flags and
// contacts. Conversations do not exist yet, so every teammate holds none.
func TestEngineOnStore(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		ws := newWorkspace(t, db, "acme")
		a1, a2, a3 := newAdmin(t, db, ws, "ann"), newAdmin(t, db, ws, "bob"), newAdmin(t, db, ws, "cat")
		teams, rules := store.NewTeams(db), store.NewAssignmentRules(db)
		sales := &team.Team{WorkspaceID: ws.ID, Name: "Sales", Distribution: team.RoundRobin, Members: []team.Member{{AdminID: a1}, {AdminID: a2}, {AdminID: a3}}}
		if err := teams.Create(ctx, sales); err != nil {
			t.Fatal(err)
		}
		if err := store.NewAttributes(db).Create(ctx, &attribute.Attribute{WorkspaceID: ws.ID, Model: attribute.ModelContact, Name: "plan", DataType: attribute.TypeString}); err != nil {
			t.Fatal(err)
		}
		for _, r := range []*assign.Rule{
			{WorkspaceID: ws.ID, Name: "enterprise", Condition: json.RawMessage(`{"field":"contact.custom_attributes.plan","operator":"=","value":"enterprise"}`), AdminID: a3},
			{WorkspaceID: ws.ID, Name: "pricing", Condition: json.RawMessage(`{"field":"source.body","operator":"~","value":"pricing"}`), TeamID: sales.ID},
		} {
			if err := rules.Create(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
		lead := &contact.Contact{WorkspaceID: ws.ID, ID: ids.New(), Role: contact.RoleLead}
		boss := &contact.Contact{WorkspaceID: ws.ID, ID: ids.New(), Role: contact.RoleUser, Email: strp("boss@big.test"), CustomAttributes: map[string]any{"plan": "enterprise"}}
		cs := store.NewContacts(db)
		for _, c := range []*contact.Contact{lead, boss} {
			if err := cs.Create(ctx, c); err != nil {
				t.Fatal(err)
			}
		}
		route := func(contactID, body string) assign.Decision {
			t.Helper()
			var d assign.Decision
			err := db.InTx(ctx, func(tx *store.Tx) error {
				rec, err := store.NewSearch(db, 0).Record(ctx, tx, ws.ID, contactID)
				if err != nil {
					return err
				}
				d, err = teams.Engine(tx).Route(ctx, ws.ID, &assign.Conversation{SourceType: "conversation", SourceBody: body, Contact: rec})
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			return d
		}
		if d := route(boss.ID, "pricing for 500 seats"); d.AdminID != a3 || d.TeamID != 0 {
			t.Fatalf("enterprise rule: %+v", d)
		}
		var got []int64
		for range 4 {
			got = append(got, route(lead.ID, "What is your pricing?").AdminID)
		}
		if !slices.Equal(got, []int64{a1, a2, a3, a1}) {
			t.Fatalf("round robin %v", got)
		}
		if d := route(lead.ID, "hello"); d != (assign.Decision{}) {
			t.Fatalf("no rule matches: %+v", d)
		}
		// Away teammates are skipped; the cursor survives in the database.
		if _, _, err := teams.SetAway(ctx, ws.ID, a2, true, false); err != nil {
			t.Fatal(err)
		}
		got = got[:0]
		for range 3 {
			got = append(got, route(lead.ID, "pricing").AdminID)
		}
		if !slices.Equal(got, []int64{a3, a1, a3}) {
			t.Fatalf("round robin with bob away %v", got)
		}
		// An away teammate with reassignment is not given a rule's conversations.
		if _, _, err := teams.SetAway(ctx, ws.ID, a3, true, true); err != nil {
			t.Fatal(err)
		}
		if d := route(boss.ID, "hi"); d.RuleID == 0 || d.AdminID != 0 {
			t.Fatalf("rule to an away admin: %+v", d)
		}
		// Everyone away: the conversation stays in the team inbox.
		if _, _, err := teams.SetAway(ctx, ws.ID, a1, true, false); err != nil {
			t.Fatal(err)
		}
		if d := route(lead.ID, "pricing"); d.TeamID != sales.ID || d.AdminID != 0 {
			t.Fatalf("everyone away: %+v", d)
		}
	})
}

// TestRoundRobinConcurrent: concurrent assignments to one team are decided
// one after another, so the rotation stays fair. On one node group commit
// already runs them in turn; the team row lock (FOR UPDATE on PostgreSQL)
// is what keeps several nodes in turn, which this test does not reach.
func TestRoundRobinConcurrent(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		ws := newWorkspace(t, db, "acme")
		ms := []team.Member{{AdminID: newAdmin(t, db, ws, "a")}, {AdminID: newAdmin(t, db, ws, "b")}, {AdminID: newAdmin(t, db, ws, "c")}}
		teams := store.NewTeams(db)
		tm := &team.Team{WorkspaceID: ws.ID, Name: "T", Distribution: team.RoundRobin, Members: ms}
		if err := teams.Create(ctx, tm); err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		counts := map[int64]int{}
		var wg sync.WaitGroup
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 6 {
					var id int64
					err := db.InTx(ctx, func(tx *store.Tx) (err error) {
						id, err = teams.Engine(tx).Distribute(ctx, ws.ID, tm.ID)
						return err
					})
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					counts[id]++
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		for _, m := range ms {
			if counts[m.AdminID] != 16 {
				t.Fatalf("rotation %v, want 16 each", counts)
			}
		}
	})
}

func TestSetAway(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		ws, other := newWorkspace(t, db, "acme"), newWorkspace(t, db, "other")
		a1 := newAdmin(t, db, ws, "ann")
		teams := store.NewTeams(db)
		tm := &team.Team{WorkspaceID: ws.ID, Name: "T", Distribution: team.Balanced, Members: []team.Member{{AdminID: a1}}}
		if err := teams.Create(ctx, tm); err != nil {
			t.Fatal(err)
		}
		a, teamIDs, err := teams.SetAway(ctx, ws.ID, a1, true, true)
		if err != nil || !a.AwayModeEnabled || !a.AwayModeReassign || !slices.Equal(teamIDs, []int64{tm.ID}) {
			t.Fatalf("SetAway: %+v %v %v", a, teamIDs, err)
		}
		stored, _ := store.NewWorkspaces(db).Admin(ctx, ws.ID, a1)
		if !stored.AwayModeEnabled || !stored.AwayModeReassign {
			t.Fatalf("stored admin %+v", stored)
		}
		if _, _, err := teams.SetAway(ctx, other.ID, a1, false, false); !store.IsMissing(err, "admin") {
			t.Fatalf("other workspace sets away: %v", err)
		}
		if stored, _ := store.NewWorkspaces(db).Admin(ctx, ws.ID, a1); !stored.AwayModeEnabled {
			t.Fatal("other workspace changed the admin")
		}
		evs, _ := eventlog.Since(ctx, db.Read(), ws.ID, 0, 10)
		last := evs[len(evs)-1]
		var item map[string]any
		_ = json.Unmarshal(last.Item, &item)
		if last.Topic != "admin.away_mode_updated" || item["away_mode_enabled"] != true || item["type"] != "admin" {
			t.Fatalf("event %s %s", last.Topic, last.Item)
		}
	})
}
