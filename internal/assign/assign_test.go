package assign

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/attribute"
	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/query"
	"github.com/parleyhq/parley/internal/team"
)

func members(ids ...int64) []Teammate {
	out := make([]Teammate, len(ids))
	for i, id := range ids {
		out[i] = Teammate{AdminID: id}
	}
	return out
}

func TestPick(t *testing.T) {
	away := func(ms []Teammate, ids ...int64) []Teammate {
		for i := range ms {
			if slices.Contains(ids, ms[i].AdminID) {
				ms[i].Away = true
			}
		}
		return ms
	}
	secondary := func(ms []Teammate, ids ...int64) []Teammate {
		for i := range ms {
			if slices.Contains(ids, ms[i].AdminID) {
				ms[i].Secondary = true
			}
		}
		return ms
	}
	cases := []struct {
		name string
		team TeamState
		open map[int64]int
		want int64
	}{
		{"manual never picks", TeamState{Distribution: team.Manual, Members: members(1, 2)}, nil, 0},
		{"unknown distribution never picks", TeamState{Distribution: "", Members: members(1, 2)}, nil, 0},
		{"no members", TeamState{Distribution: team.RoundRobin}, nil, 0},
		{"round robin starts at the lowest id", TeamState{Distribution: team.RoundRobin, Members: members(7, 3, 5)}, nil, 3},
		{"round robin takes the next after the cursor", TeamState{Distribution: team.RoundRobin, Members: members(3, 5, 7), Cursor: 3}, nil, 5},
		{"round robin wraps around", TeamState{Distribution: team.RoundRobin, Members: members(3, 5, 7), Cursor: 7}, nil, 3},
		{"round robin cursor of a former member", TeamState{Distribution: team.RoundRobin, Members: members(3, 7), Cursor: 5}, nil, 7},
		{"round robin skips the away", TeamState{Distribution: team.RoundRobin, Members: away(members(3, 5, 7), 5), Cursor: 3}, nil, 7},
		{"round robin skips those at the limit", TeamState{Distribution: team.RoundRobin, Limit: 2, Members: members(3, 5, 7), Cursor: 3}, map[int64]int{5: 2, 7: 3}, 3},
		{"round robin ignores load without a limit", TeamState{Distribution: team.RoundRobin, Members: members(3, 5), Cursor: 3}, map[int64]int{5: 100}, 5},
		{"round robin: all away", TeamState{Distribution: team.RoundRobin, Members: away(members(3, 5), 3, 5)}, nil, 0},
		{"round robin: all at the limit", TeamState{Distribution: team.RoundRobin, Limit: 1, Members: members(3, 5)}, map[int64]int{3: 1, 5: 4}, 0},
		{"balanced takes the fewest open", TeamState{Distribution: team.Balanced, Members: members(3, 5, 7)}, map[int64]int{3: 4, 5: 1, 7: 2}, 5},
		{"balanced: absent from the map counts as none", TeamState{Distribution: team.Balanced, Members: members(3, 5, 7)}, map[int64]int{3: 4, 5: 1}, 7},
		{"balanced ties go to the lowest id", TeamState{Distribution: team.Balanced, Members: members(9, 5, 7)}, map[int64]int{9: 1, 5: 2, 7: 1}, 7},
		{"balanced skips the away", TeamState{Distribution: team.Balanced, Members: away(members(3, 5), 3)}, map[int64]int{5: 9}, 5},
		{"balanced respects the limit", TeamState{Distribution: team.Balanced, Limit: 3, Members: members(3, 5)}, map[int64]int{3: 3, 5: 3}, 0},
		{"balanced ignores the cursor", TeamState{Distribution: team.Balanced, Members: members(3, 5), Cursor: 3}, nil, 3},
		{"primaries first", TeamState{Distribution: team.Balanced, Members: secondary(members(3, 5), 3)}, map[int64]int{5: 10}, 5},
		{"secondaries when primaries are full", TeamState{Distribution: team.Balanced, Limit: 2, Members: secondary(members(3, 5, 7), 3, 7)}, map[int64]int{5: 2, 3: 1}, 7},
		{"secondaries when primaries are away", TeamState{Distribution: team.RoundRobin, Members: away(secondary(members(3, 5, 7), 7), 3, 5), Cursor: 7}, nil, 7},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := Pick(&c.team, c.open); got != c.want {
				t.Fatalf("Pick = %d, want %d", got, c.want)
			}
		})
	}
}

var testAttrs = []*attribute.Attribute{
	{Model: attribute.ModelContact, Name: "plan", DataType: attribute.TypeString},
	{Model: attribute.ModelContact, Name: "seats", DataType: attribute.TypeInteger},
	{Model: attribute.ModelContact, Name: "old", DataType: attribute.TypeString, Archived: true},
}

func testSchema() *Schema { return NewSchema(time.UTC, testAttrs) }

func conv(body string, c *contact.Contact, tags ...string) *Conversation {
	rec := &Conversation{SourceType: "conversation", SourceBody: body}
	if c != nil {
		rec.Contact = &contact.Record{Contact: c, TagIDs: tags}
	}
	return rec
}

func person(role, email string, custom map[string]any) *contact.Contact {
	c := &contact.Contact{ID: "c1", Role: role, CustomAttributes: custom}
	if email != "" {
		c.Email = &email
	}
	return c
}

func rule(id int64, prio int, cond string, teamID, adminID int64) *Rule {
	return &Rule{ID: id, Priority: prio, Condition: json.RawMessage(cond), TeamID: teamID, AdminID: adminID}
}

func TestConditions(t *testing.T) {
	sc := testSchema()
	ent := person("user", "boss@big.example", map[string]any{"plan": "enterprise", "seats": int64(500)})
	lead := person("lead", "", nil)
	cases := []struct {
		cond string
		rec  *Conversation
		want bool
	}{
		{`{"field":"source.body","operator":"~","value":"pricing"}`, conv("What is your PRICING for 10 seats?", lead), true},
		{`{"field":"source.body","operator":"~","value":"pricing"}`, conv("hello", lead), false},
		{`{"field":"source.body","operator":"!~","value":"pricing"}`, conv("hello", nil), true},
		{`{"field":"source.type","operator":"=","value":"email"}`, conv("x", nil), false},
		{`{"field":"source.subject","operator":"=","value":null}`, conv("x", nil), true},
		{`{"field":"contact.custom_attributes.plan","operator":"=","value":"enterprise"}`, conv("x", ent), true},
		{`{"field":"contact.custom_attributes.plan","operator":"=","value":"enterprise"}`, conv("x", lead), false},
		{`{"field":"contact.custom_attributes.plan","operator":"=","value":"enterprise"}`, conv("x", nil), false},
		{`{"field":"contact.custom_attributes.seats","operator":">","value":100}`, conv("x", ent), true},
		{`{"field":"contact.role","operator":"=","value":"lead"}`, conv("x", lead), true},
		{`{"field":"contact.email","operator":"$","value":"@big.example"}`, conv("x", ent), true},
		{`{"field":"contact.email_domain","operator":"=","value":"big.example"}`, conv("x", ent), true},
		{`{"field":"contact.tag_id","operator":"=","value":"42"}`, conv("x", ent, "7", "42"), true},
		{`{"field":"contact.tag_id","operator":"!=","value":"42"}`, conv("x", ent, "7"), true},
		{`{"operator":"AND","value":[{"field":"contact.role","operator":"=","value":"user"},{"field":"source.body","operator":"~","value":"invoice"}]}`, conv("my invoice", ent), true},
		{`{"operator":"AND","value":[{"field":"contact.role","operator":"=","value":"user"},{"field":"source.body","operator":"~","value":"invoice"}]}`, conv("my invoice", lead), false},
	}
	for _, c := range cases {
		f, err := query.Parse([]byte(c.cond), sc)
		if err != nil {
			t.Fatalf("%s: %v", c.cond, err)
		}
		if got := f.Match(c.rec); got != c.want {
			t.Errorf("%s on %q: %v, want %v", c.cond, c.rec.SourceBody, got, c.want)
		}
	}
}

func TestSchemaRefuses(t *testing.T) {
	sc := testSchema()
	for cond, want := range map[string]string{
		`{"field":"body","operator":"~","value":"x"}`:                              `body`,
		`{"field":"contact.segment_id","operator":"=","value":"abc"}`:              `contact.segment_id`,
		`{"field":"contact.custom_attributes.old","operator":"=","value":"x"}`:     `contact.custom_attributes.old`,
		`{"field":"contact.custom_attributes.nope","operator":"=","value":"x"}`:    `contact.custom_attributes.nope`,
		`{"field":"source.type","operator":"~","value":"mail"}`:                    `operator`,
		`{"field":"contact.custom_attributes.seats","operator":"=","value":"ten"}`: `seats`,
		`{"field":"source.body","operator":"~"}`:                                   `value`,
	} {
		_, err := query.Parse([]byte(cond), sc)
		if err == nil {
			t.Errorf("%s: accepted", cond)
			continue
		}
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %q does not mention %q", cond, err, want)
		}
	}
}

func TestFirstMatch(t *testing.T) {
	sc := testSchema()
	rules := []*Rule{
		rule(4, 3, `{"field":"contact.role","operator":"=","value":"user"}`, 30, 0),
		rule(2, 1, `{"field":"source.body","operator":"~","value":"pricing"}`, 10, 0),
		rule(3, 1, `{"field":"source.body","operator":"~","value":"price"}`, 0, 99),
		rule(1, 2, `{"field":"contact.custom_attributes.old","operator":"=","value":"x"}`, 20, 0), // no longer parses
		rule(5, 2, `{"field":"contact.custom_attributes.plan","operator":"=","value":"enterprise"}`, 20, 0),
	}
	Sort(rules)
	var order []int64
	for _, r := range rules {
		order = append(order, r.ID)
	}
	if !slices.Equal(order, []int64{2, 3, 1, 5, 4}) {
		t.Fatalf("order %v", order)
	}
	ent := person("user", "", map[string]any{"plan": "enterprise", "old": "x"})
	for _, c := range []struct {
		rec  *Conversation
		want int64
	}{
		{conv("pricing please", ent), 2},         // priority 1, lower id first
		{conv("what price?", ent), 3},            // second rule of priority 1
		{conv("hi", ent), 5},                     // archived attribute's rule skipped
		{conv("hi", person("user", "", nil)), 4}, // last rule
		{conv("hi", person("lead", "", nil)), 0}, // nothing matches
		{conv("hi", nil), 0},                     // no contact
	} {
		got := FirstMatch(rules, sc, c.rec)
		var id int64
		if got != nil {
			id = got.ID
		}
		if id != c.want {
			t.Errorf("%q: rule %d, want %d", c.rec.SourceBody, id, c.want)
		}
	}
}

// fake is an in-memory Store and Inbox for the engine's logic.
type fake struct {
	rules   []*Rule
	teams   map[int64]*TeamState
	away    map[int64][2]bool // admin → away, reassign
	convs   []*fakeConv
	cursors []int64 // SetCursor calls
	assigns []Assignment
}

type fakeConv struct {
	id          string
	team, admin int64
	closed      bool
}

func (f *fake) Rules(context.Context, string) ([]*Rule, error) { return f.rules, nil }
func (f *fake) Schema(context.Context, string) (query.Schema, error) {
	return testSchema(), nil
}
func (f *fake) Team(_ context.Context, _ string, id int64) (*TeamState, error) {
	t, ok := f.teams[id]
	if !ok {
		return nil, fmt.Errorf("no team %d", id)
	}
	c := *t
	c.Members = slices.Clone(t.Members)
	for i, m := range c.Members {
		c.Members[i].Away = f.away[m.AdminID][0]
	}
	return &c, nil
}
func (f *fake) SetCursor(_ context.Context, _ string, teamID, adminID int64) error {
	f.teams[teamID].Cursor = adminID
	f.cursors = append(f.cursors, adminID)
	return nil
}
func (f *fake) Away(_ context.Context, _ string, id int64) (bool, bool, error) {
	return f.away[id][0], f.away[id][1], nil
}
func (f *fake) TeamsOf(_ context.Context, _ string, id int64) ([]int64, error) {
	var out []int64
	for tid, t := range f.teams {
		for _, m := range t.Members {
			if m.AdminID == id {
				out = append(out, tid)
			}
		}
	}
	slices.Sort(out)
	return out, nil
}
func (f *fake) OpenCounts(_ context.Context, _ string, ids []int64) (map[int64]int, error) {
	m := map[int64]int{}
	for _, c := range f.convs {
		if !c.closed && c.admin != 0 && slices.Contains(ids, c.admin) {
			m[c.admin]++
		}
	}
	return m, nil
}
func (f *fake) Waiting(_ context.Context, _ string, teamID int64, limit int) ([]string, error) {
	var out []string
	for _, c := range f.convs {
		if !c.closed && c.team == teamID && c.admin == 0 && len(out) < limit {
			out = append(out, c.id)
		}
	}
	return out, nil
}
func (f *fake) Held(_ context.Context, _ string, adminID int64) ([]Held, error) {
	var out []Held
	for _, c := range f.convs {
		if !c.closed && c.admin == adminID {
			out = append(out, Held{ConversationID: c.id, TeamID: c.team})
		}
	}
	return out, nil
}
func (f *fake) Assign(_ context.Context, _ string, id string, teamID, adminID int64) error {
	for _, c := range f.convs {
		if c.id == id {
			c.team, c.admin = teamID, adminID
			f.assigns = append(f.assigns, Assignment{id, teamID, adminID})
			return nil
		}
	}
	return fmt.Errorf("no conversation %s", id)
}

// add records a routed conversation as the conversations store would.
func (f *fake) add(d Decision) string {
	id := fmt.Sprintf("conv%d", len(f.convs)+1)
	f.convs = append(f.convs, &fakeConv{id: id, team: d.TeamID, admin: d.AdminID})
	return id
}

func newFake() *fake {
	return &fake{
		rules: []*Rule{
			rule(1, 1, `{"field":"source.body","operator":"~","value":"pricing"}`, 10, 0),
			rule(2, 2, `{"field":"source.body","operator":"~","value":"refund"}`, 20, 0),
			rule(3, 3, `{"field":"source.body","operator":"~","value":"boss"}`, 0, 9),
			rule(4, 4, `{"field":"source.body","operator":"~","value":"manual"}`, 30, 0),
		},
		teams: map[int64]*TeamState{
			10: {ID: 10, Distribution: team.RoundRobin, Limit: 2, Members: members(1, 2, 3)},
			20: {ID: 20, Distribution: team.Balanced, Limit: 2, Members: members(4, 5)},
			30: {ID: 30, Distribution: team.Manual, Members: members(1)},
		},
		away: map[int64][2]bool{},
	}
}

func route(t *testing.T, e *Engine, f *fake, body string) Decision {
	t.Helper()
	d, err := e.Route(context.Background(), "ws", conv(body, nil))
	if err != nil {
		t.Fatal(err)
	}
	f.add(d)
	return d
}

func TestRouteRoundRobin(t *testing.T) {
	f := newFake()
	e := &Engine{Store: f, Inbox: f}
	f.away[2] = [2]bool{true, false}
	var got []int64
	for range 5 {
		d := route(t, e, f, "pricing?")
		if d.RuleID != 1 || d.TeamID != 10 {
			t.Fatalf("decision %+v", d)
		}
		got = append(got, d.AdminID)
	}
	// 2 is away; 1 and 3 alternate until both hold 2 (the limit); the
	// fifth waits in the team inbox.
	if !slices.Equal(got, []int64{1, 3, 1, 3, 0}) {
		t.Fatalf("admins %v", got)
	}
	if f.teams[10].Cursor != 3 {
		t.Fatalf("cursor %d", f.teams[10].Cursor)
	}
	// 2 comes back: the waiting conversation goes to them.
	f.away[2] = [2]bool{false, false}
	as, err := e.Freed(context.Background(), "ws", 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(as) != 1 || as[0] != (Assignment{"conv5", 10, 2}) {
		t.Fatalf("freed: %+v", as)
	}
	if f.teams[10].Cursor != 2 {
		t.Fatalf("cursor after rebalance %d", f.teams[10].Cursor)
	}
}

func TestRouteBalancedAndRebalance(t *testing.T) {
	f := newFake()
	e := &Engine{Store: f, Inbox: f}
	var got []int64
	for range 6 {
		got = append(got, route(t, e, f, "I want a refund").AdminID)
	}
	if !slices.Equal(got, []int64{4, 5, 4, 5, 0, 0}) {
		t.Fatalf("admins %v", got)
	}
	if len(f.cursors) != 0 {
		t.Fatalf("balanced moved the cursor: %v", f.cursors)
	}
	// Nothing frees: rebalance hands out nothing.
	if as, _ := e.Rebalance(context.Background(), "ws", 20); len(as) != 0 {
		t.Fatalf("rebalance without capacity: %+v", as)
	}
	// 5 closes one conversation: the longest waiting (conv5) goes to 5.
	f.convs[1].closed = true
	as, err := e.Rebalance(context.Background(), "ws", 20)
	if err != nil {
		t.Fatal(err)
	}
	if len(as) != 1 || as[0] != (Assignment{"conv5", 20, 5}) {
		t.Fatalf("rebalance: %+v", as)
	}
	// The limit is raised: both hand out the last waiting one (to 4, lowest id at 2 each).
	f.teams[20].Limit = 0
	as, _ = e.Rebalance(context.Background(), "ws", 20)
	if len(as) != 1 || as[0] != (Assignment{"conv6", 20, 4}) {
		t.Fatalf("rebalance after raising the limit: %+v", as)
	}
}

func TestRouteRebalanceManyWaiting(t *testing.T) {
	f := newFake()
	e := &Engine{Store: f, Inbox: f}
	f.teams[10].Limit = 0
	f.away[1], f.away[2], f.away[3] = [2]bool{true, true}, [2]bool{true, true}, [2]bool{true, true}
	for range 250 {
		if d := route(t, e, f, "pricing"); d.AdminID != 0 {
			t.Fatalf("everyone away, still assigned to %d", d.AdminID)
		}
	}
	f.away[3] = [2]bool{}
	as, err := e.Freed(context.Background(), "ws", 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(as) != 250 || as[0].ConversationID != "conv1" || as[249].ConversationID != "conv250" {
		t.Fatalf("handed out %d", len(as))
	}
}

func TestRouteManualAndAdminRules(t *testing.T) {
	f := newFake()
	e := &Engine{Store: f, Inbox: f}
	if d := route(t, e, f, "manual please"); d != (Decision{RuleID: 4, TeamID: 30}) {
		t.Fatalf("manual: %+v", d)
	}
	if as, _ := e.Rebalance(context.Background(), "ws", 30); len(as) != 0 {
		t.Fatalf("manual team rebalanced: %+v", as)
	}
	if d := route(t, e, f, "get me the boss"); d != (Decision{RuleID: 3, AdminID: 9}) {
		t.Fatalf("admin rule: %+v", d)
	}
	f.away[9] = [2]bool{true, false} // away, not reassigning: still theirs
	if d := route(t, e, f, "boss"); d != (Decision{RuleID: 3, AdminID: 9}) {
		t.Fatalf("away admin without reassign: %+v", d)
	}
	f.away[9] = [2]bool{true, true}
	if d := route(t, e, f, "boss"); d != (Decision{RuleID: 3}) {
		t.Fatalf("away admin with reassign: %+v", d)
	}
	if d := route(t, e, f, "hello"); d != (Decision{}) {
		t.Fatalf("no rule: %+v", d)
	}
	f.rules = nil
	if d := route(t, e, f, "pricing"); d != (Decision{}) {
		t.Fatalf("no rules: %+v", d)
	}
}

func TestRelease(t *testing.T) {
	f := newFake()
	e := &Engine{Store: f, Inbox: f}
	for range 4 {
		route(t, e, f, "pricing") // 1, 2, 3, 1
	}
	f.convs = append(f.convs, &fakeConv{id: "direct", admin: 1})                       // no team
	f.convs = append(f.convs, &fakeConv{id: "done", team: 10, admin: 1, closed: true}) // closed: stays
	f.away[1] = [2]bool{true, true}
	as, err := e.Release(context.Background(), "ws", 1)
	if err != nil {
		t.Fatal(err)
	}
	// conv1 and conv4 go back through round robin (cursor at 1 → 2, then 3);
	// the one without a team becomes unassigned.
	want := []Assignment{{"conv1", 10, 2}, {"conv4", 10, 3}, {"direct", 0, 0}}
	if !slices.Equal(as, want) {
		t.Fatalf("released %+v, want %+v", as, want)
	}
	if n, _ := f.OpenCounts(context.Background(), "ws", []int64{1}); n[1] != 0 {
		t.Fatalf("away admin still holds %d", n[1])
	}
	// With everyone else full, released conversations wait in the inbox.
	f.teams[10].Limit = 2
	f.away[1] = [2]bool{}
	if d := route(t, e, f, "pricing"); d.AdminID != 1 {
		t.Fatalf("back from away, not picked: %+v", d)
	}
	last := f.convs[len(f.convs)-1].id
	f.away[1] = [2]bool{true, true}
	f.away[3] = [2]bool{true, false}
	as, _ = e.Release(context.Background(), "ws", 1)
	if !slices.Equal(as, []Assignment{{last, 10, 0}}) {
		t.Fatalf("released into a full team: %+v", as)
	}
}
