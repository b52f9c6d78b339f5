package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/parleyhq/parley/internal/attribute"
	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/conversation"
	"github.com/parleyhq/parley/internal/ids"
	"github.com/parleyhq/parley/internal/segment"
	"github.com/parleyhq/parley/internal/store"
	"github.com/parleyhq/parley/internal/team"
	"github.com/parleyhq/parley/internal/testdb"
	"github.com/parleyhq/parley/internal/web"
)

type fieldJSON struct {
	Field     string   `json:"field"`
	Label     string   `json:"label"`
	Type      string   `json:"type"`
	Operators []string `json:"operators"`
	Options   []struct {
		Value string `json:"value"`
		Label string `json:"label"`
	} `json:"options"`
}

// fields fetches the builder's field metadata for model.
func (b *browser) fields(model string) map[string]fieldJSON {
	b.e.t.Helper()
	p := b.get("/app/filter/fields?model=" + model)
	if p.status != http.StatusOK {
		b.e.t.Fatalf("fields of %s: %d %s", model, p.status, p.body)
	}
	var list []fieldJSON
	if err := json.Unmarshal([]byte(p.body), &list); err != nil {
		b.e.t.Fatalf("fields of %s: %v: %s", model, err, p.body)
	}
	out := map[string]fieldJSON{}
	for _, f := range list {
		out[f.Field] = f
	}
	return out
}

func optionLabels(f fieldJSON) []string {
	var out []string
	for _, o := range f.Options {
		out = append(out, o.Label)
	}
	return out
}

// The field metadata of every model lists this workspace's custom
// attributes and tags (as options of the tag field), never another
// workspace's, for any role; an unknown model is a readable 400.
func TestFilterFieldsOfWorkspace(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db, web.Options{})
		ws2, _, agent2 := e.workspace("Globex")
		for _, w := range []struct{ ws, prefix string }{{e.ws.ID, "acme"}, {ws2.ID, "globex"}} {
			for _, a := range []*attribute.Attribute{
				{WorkspaceID: w.ws, Model: attribute.ModelContact, Name: w.prefix + "_plan", DataType: attribute.TypeString},
				{WorkspaceID: w.ws, Model: attribute.ModelCompany, Name: w.prefix + "_tier", DataType: attribute.TypeInteger},
			} {
				if err := store.NewAttributes(db).Create(ctx, a); err != nil {
					t.Fatal(err)
				}
			}
			if err := store.NewConversationAttributes(db).Create(ctx, &conversation.Attribute{WorkspaceID: w.ws, Name: w.prefix + "_reason", DataType: conversation.AttrString}); err != nil {
				t.Fatal(err)
			}
			if _, _, err := store.NewTags(db).Ensure(ctx, w.ws, w.prefix+"-vip"); err != nil {
				t.Fatal(err)
			}
			if err := store.NewSegments(db).Create(ctx, &segment.Segment{WorkspaceID: w.ws, ID: ids.New(), Name: w.prefix + " segment", PersonType: segment.PersonUser,
				Filter: json.RawMessage(`{"field":"email","operator":"~","value":"@"}`)}); err != nil {
				t.Fatal(err)
			}
		}
		for _, who := range []string{e.owner.Email, e.agent.Email} {
			b := e.browser()
			b.mustSignin(who)
			check := func(model, field, own, other string) {
				t.Helper()
				fs := b.fields(model)
				got := fs[field]
				names := strings.Join(append(optionLabels(got), got.Field), ",")
				if got.Field == "" || !strings.Contains(names, own) {
					t.Fatalf("%s: %s lacks %q: %+v", model, field, own, got)
				}
				raw, _ := json.Marshal(fs)
				if strings.Contains(string(raw), other) {
					t.Fatalf("%s fields show another workspace's %q: %s", model, other, raw)
				}
			}
			check("contacts", "custom_attributes.acme_plan", "acme_plan", "globex")
			check("contacts", "tag_id", "acme-vip", "globex")
			check("contacts", "segment_id", "acme segment", "globex")
			check("contacts", "company.custom_attributes.acme_tier", "acme_tier", "globex")
			check("companies", "custom_attributes.acme_tier", "acme_tier", "globex")
			check("companies", "tag_id", "acme-vip", "globex")
			check("conversations", "custom_attributes.acme_reason", "acme_reason", "globex")
			check("conversations", "tag_ids", "acme-vip", "globex")
			check("conversations", "admin_assignee_id", "Acme Agent", "Globex")
			check("assignment_rules", "contact.custom_attributes.acme_plan", "acme_plan", "globex")
			check("assignment_rules", "contact.tag_id", "acme-vip", "globex")
			fs := b.fields("contacts")
			if got := fs["custom_attributes.acme_plan"].Operators; !slices.Equal(got, []string{"=", "!=", "IN", "NIN", "~", "!~", "^", "$", "=null", "!=null"}) {
				t.Fatalf("string operators: %v", got)
			}
			if got := fs["created_at"]; got.Type != "date" || !slices.Equal(got.Operators, []string{"=", "<", ">", "=null"}) {
				t.Fatalf("date field: %+v", got)
			}
			if _, ok := b.fields("assignment_rules")["contact.segment_id"]; ok {
				t.Fatal("rule conditions offer segments, which they cannot use")
			}
			want(t, b.get("/app/filter/fields?model=tickets"), http.StatusBadRequest, "Filters are about contacts")
		}
		other := e.browser()
		other.mustSignin(agent2.Email)
		if _, ok := other.fields("contacts")["custom_attributes.globex_plan"]; !ok {
			t.Fatal("Globex's agent does not see Globex's attribute")
		}
	})
}

// Segments through the pages: a filter that is not JSON or uses an
// unknown field is a 400 with the parser's message beside the builder and
// nothing stored; a good one is stored compacted with segment.created,
// listed with its count, edited and deleted; another workspace's segment
// is a 404 for every page and action.
func TestSegmentPages(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db, web.Options{})
		if err := store.NewAttributes(db).Create(ctx, &attribute.Attribute{WorkspaceID: e.ws.ID, Model: attribute.ModelContact, Name: "plan", DataType: attribute.TypeString}); err != nil {
			t.Fatal(err)
		}
		for i, plan := range []string{"pro", "pro", "free"} {
			c := &contact.Contact{WorkspaceID: e.ws.ID, ID: ids.New(), Role: contact.RoleUser, CustomAttributes: map[string]any{"plan": plan}}
			if err := store.NewContacts(db).Create(ctx, c); err != nil {
				t.Fatal(i, err)
			}
		}
		b := e.browser()
		b.mustSignin(e.agent.Email)
		segs := store.NewSegments(db)
		post := func(path string, form url.Values) page {
			form.Set("csrf", b.csrf("/app/segments/new"))
			return b.do(http.MethodPost, path, form)
		}
		p := post("/app/segments", url.Values{"name": {"Pro"}, "person_type": {"user"}, "filter": {`{"field":"plan"`}})
		want(t, p, http.StatusBadRequest, "The filter is not valid: query is not valid JSON")
		if !strings.Contains(p.body, `{&#34;field&#34;:&#34;plan&#34;`) {
			t.Fatalf("the form does not show the filter again: %s", p.body)
		}
		want(t, post("/app/segments", url.Values{"name": {"Pro"}, "person_type": {"user"}, "filter": {`{"field":"custom_attributes.nope","operator":"=","value":"pro"}`}}),
			http.StatusBadRequest, "field &#34;custom_attributes.nope&#34; is not a searchable field")
		want(t, post("/app/segments", url.Values{"name": {" "}, "person_type": {"user"}, "filter": {`{"field":"role","operator":"=","value":"user"}`}}), http.StatusBadRequest, "Enter a name")
		if list, _ := segs.List(ctx, e.ws.ID); len(list) != 0 {
			t.Fatalf("a refused form stored a segment: %v", list)
		}
		seq := e.head(e.ws.ID)
		p = post("/app/segments", url.Values{"name": {"Pro"}, "person_type": {"user"}, "filter": {`{ "field": "custom_attributes.plan", "operator": "=", "value": "pro" }`}})
		if p.status != http.StatusSeeOther {
			t.Fatalf("create: %d %s", p.status, p.body)
		}
		list, _ := segs.List(ctx, e.ws.ID)
		if len(list) != 1 || string(list[0].Filter) != `{"field":"custom_attributes.plan","operator":"=","value":"pro"}` {
			t.Fatalf("stored: %+v", list)
		}
		if got := e.topicsSince(e.ws.ID, seq); !slices.Equal(got, []string{"segment.created"}) {
			t.Fatalf("events: %v", got)
		}
		id := list[0].ID
		p = b.get("/app/segments")
		want(t, p, http.StatusOK, `href="/app/contacts?segment_id=`+id+`"`)
		if !strings.Contains(p.body, `<td class="seg-filter">plan is &#34;pro&#34;</td>`) {
			t.Fatalf("the list does not show the filter: %s", p.body)
		}
		if !strings.Contains(p.body, `<td class="count">2</td>`) {
			t.Fatalf("the list does not count 2 members: %s", p.body)
		}
		want(t, b.get("/app/segments/"+id), http.StatusOK, `custom_attributes.plan`)
		if p := post("/app/segments/"+id, url.Values{"name": {"Free"}, "person_type": {"user"}, "filter": {`{"field":"custom_attributes.plan","operator":"!=","value":"pro"}`}}); p.status != http.StatusSeeOther {
			t.Fatalf("update: %d %s", p.status, p.body)
		}
		if sg, _ := segs.Get(ctx, e.ws.ID, id); sg.Name != "Free" {
			t.Fatalf("not updated: %+v", sg)
		}
		if !strings.Contains(b.get("/app/segments").body, `<td class="count">1</td>`) {
			t.Fatal("the count did not follow the new filter")
		}

		// Another workspace's teammate: 404 everywhere, nothing changes.
		_, owner2, _ := e.workspace("Globex")
		s2 := e.browser()
		s2.mustSignin(owner2.Email)
		tok := s2.csrf("/app/segments/new")
		want(t, s2.get("/app/segments/"+id), http.StatusNotFound, "no such segment")
		want(t, s2.do(http.MethodPost, "/app/segments/"+id, url.Values{"csrf": {tok}, "name": {"Mine"}, "person_type": {"user"}, "filter": {`{"field":"role","operator":"=","value":"user"}`}}), http.StatusNotFound, "no such segment")
		want(t, s2.do(http.MethodPost, "/app/segments/"+id+"/delete", url.Values{"csrf": {tok}}), http.StatusNotFound, "no such segment")
		if strings.Contains(s2.get("/app/segments").body, "Free") {
			t.Fatal("another workspace lists the segment")
		}
		if sg, err := segs.Get(ctx, e.ws.ID, id); err != nil || sg.Name != "Free" {
			t.Fatalf("another workspace changed the segment: %+v %v", sg, err)
		}

		if p := post("/app/segments/"+id+"/delete", url.Values{}); p.status != http.StatusSeeOther {
			t.Fatalf("delete: %d %s", p.status, p.body)
		}
		if list, _ := segs.List(ctx, e.ws.ID); len(list) != 0 {
			t.Fatalf("not deleted: %v", list)
		}
	})
}

// Assignment rules settings: an agent is refused by URL and by a forged
// post (nothing stored); the owner's bad condition is a readable 400; a
// good rule is stored with assignment_rule.created and assigns the next
// conversation; rules move up and down and are deleted with their events;
// another workspace's rule is a 404.
func TestAssignmentRulePages(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db, web.Options{})
		rules := store.NewAssignmentRules(db)
		sales := &team.Team{WorkspaceID: e.ws.ID, Name: "Sales", Distribution: team.Manual}
		if err := store.NewTeams(db).Create(ctx, sales); err != nil {
			t.Fatal(err)
		}

		agent := e.browser()
		agent.mustSignin(e.agent.Email)
		want(t, agent.get("/app/settings/assignment-rules"), http.StatusForbidden, "Your role does not give access")
		want(t, agent.get("/app/settings/assignment-rules/new"), http.StatusForbidden, "Your role does not give access")
		tok := agent.csrf("/app/profile")
		good := url.Values{"name": {"Pricing"}, "filter": {`{"field":"source.body","operator":"~","value":"pricing"}`}, "target": {"team:" + itoa(sales.ID)}}
		forged := url.Values{"csrf": {tok}}
		for k, v := range good {
			forged[k] = v
		}
		want(t, agent.do(http.MethodPost, "/app/settings/assignment-rules", forged), http.StatusForbidden, "Your role does not give access")
		if list, _ := rules.List(ctx, e.ws.ID); len(list) != 0 {
			t.Fatalf("the agent created a rule: %v", list)
		}

		owner := e.browser()
		owner.mustSignin(e.owner.Email)
		post := func(path string, form url.Values) page {
			f := url.Values{"csrf": {owner.csrf("/app/settings/assignment-rules/new")}}
			for k, v := range form {
				f[k] = v
			}
			return owner.do(http.MethodPost, path, f)
		}
		want(t, post("/app/settings/assignment-rules", url.Values{"name": {"Bad"}, "filter": {`{"field":"contact.segment_id","operator":"=","value":"1"}`}, "target": {"team:" + itoa(sales.ID)}}),
			http.StatusBadRequest, "The filter is not valid: field &#34;contact.segment_id&#34; is not a searchable field")
		want(t, post("/app/settings/assignment-rules", url.Values{"name": {"Bad"}, "filter": {`[1,`}, "target": {"team:" + itoa(sales.ID)}}),
			http.StatusBadRequest, "query is not valid JSON")
		want(t, post("/app/settings/assignment-rules", url.Values{"name": {"Bad"}, "filter": good["filter"], "target": {"team:999999"}}),
			http.StatusBadRequest, "not in this workspace")
		if list, _ := rules.List(ctx, e.ws.ID); len(list) != 0 {
			t.Fatalf("a refused form stored a rule: %v", list)
		}
		seq := e.head(e.ws.ID)
		if p := post("/app/settings/assignment-rules", good); p.status != http.StatusSeeOther {
			t.Fatalf("create: %d %s", p.status, p.body)
		}
		if p := post("/app/settings/assignment-rules", url.Values{"name": {"Everything else"}, "filter": {`{"field":"source.type","operator":"!=","value":null}`}, "target": {"admin:" + itoa(e.agent.ID)}}); p.status != http.StatusSeeOther {
			t.Fatalf("create: %d %s", p.status, p.body)
		}
		list, _ := rules.List(ctx, e.ws.ID)
		if len(list) != 2 || list[0].Name != "Pricing" || list[0].TeamID != sales.ID || list[1].AdminID != e.agent.ID {
			t.Fatalf("rules: %+v", list)
		}
		if got := e.topicsSince(e.ws.ID, seq); !slices.Equal(got, []string{"assignment_rule.created", "assignment_rule.created"}) {
			t.Fatalf("events: %v", got)
		}
		if conv := e.startConversation(e.ws.ID, "Pat Prospect", "What is your pricing?"); conv.TeamAssigneeID == nil || *conv.TeamAssigneeID != sales.ID {
			t.Fatalf("the pricing rule did not assign to Sales: %+v", conv)
		}
		p := owner.get("/app/settings/assignment-rules")
		if i, j := strings.Index(p.body, "Pricing"), strings.Index(p.body, "Everything else"); i < 0 || j < i {
			t.Fatalf("list order: %s", p.body)
		}
		for _, s := range []string{"When Message text contains &#34;pricing&#34;", "When Channel has any value", "Team Sales", "Acme Agent"} {
			if !strings.Contains(p.body, s) {
				t.Fatalf("the list lacks %q: %s", s, p.body)
			}
		}

		// Move the second rule up: it is tried first, and now assigns.
		seq = e.head(e.ws.ID)
		if p := post("/app/settings/assignment-rules/"+itoa(list[1].ID)+"/move", url.Values{"dir": {"up"}}); p.status != http.StatusSeeOther {
			t.Fatalf("move: %d %s", p.status, p.body)
		}
		moved, _ := rules.List(ctx, e.ws.ID)
		if moved[0].ID != list[1].ID || moved[1].ID != list[0].ID {
			t.Fatalf("order after move: %+v", moved)
		}
		if got := e.topicsSince(e.ws.ID, seq); !slices.Equal(got, []string{"assignment_rule.updated", "assignment_rule.updated"}) {
			t.Fatalf("events: %v", got)
		}
		if conv := e.startConversation(e.ws.ID, "Quinn Prospect", "Pricing please"); conv.AdminAssigneeID == nil || *conv.AdminAssigneeID != e.agent.ID {
			t.Fatalf("the moved rule did not decide: %+v", conv)
		}

		// Edit: the form shows the rule; a change is saved.
		want(t, owner.get("/app/settings/assignment-rules/"+itoa(list[0].ID)), http.StatusOK, `source.body`)
		if p := post("/app/settings/assignment-rules/"+itoa(list[0].ID), url.Values{"name": {"Pricing (EU)"}, "filter": good["filter"], "target": {"admin:" + itoa(e.owner.ID)}}); p.status != http.StatusSeeOther {
			t.Fatalf("update: %d %s", p.status, p.body)
		}
		if r, _ := rules.Get(ctx, e.ws.ID, list[0].ID); r.Name != "Pricing (EU)" || r.AdminID != e.owner.ID || r.TeamID != 0 {
			t.Fatalf("updated: %+v", r)
		}

		// Another workspace's owner: 404, nothing changes.
		_, owner2, _ := e.workspace("Globex")
		s2 := e.browser()
		s2.mustSignin(owner2.Email)
		tok2 := s2.csrf("/app/settings/assignment-rules/new")
		rid := itoa(list[0].ID)
		want(t, s2.get("/app/settings/assignment-rules/"+rid), http.StatusNotFound, "no such assignment rule")
		want(t, s2.do(http.MethodPost, "/app/settings/assignment-rules/"+rid, url.Values{"csrf": {tok2}, "name": {"Mine"}, "filter": good["filter"], "target": {"admin:" + itoa(owner2.ID)}}), http.StatusNotFound, "no such assignment rule")
		want(t, s2.do(http.MethodPost, "/app/settings/assignment-rules/"+rid+"/move", url.Values{"csrf": {tok2}, "dir": {"up"}}), http.StatusNotFound, "no such assignment rule")
		want(t, s2.do(http.MethodPost, "/app/settings/assignment-rules/"+rid+"/delete", url.Values{"csrf": {tok2}}), http.StatusNotFound, "no such assignment rule")
		if strings.Contains(s2.get("/app/settings/assignment-rules").body, "Pricing") {
			t.Fatal("another workspace lists the rule")
		}

		seq = e.head(e.ws.ID)
		if p := post("/app/settings/assignment-rules/"+rid+"/delete", url.Values{}); p.status != http.StatusSeeOther {
			t.Fatalf("delete: %d %s", p.status, p.body)
		}
		if _, err := rules.Get(ctx, e.ws.ID, list[0].ID); !store.IsMissing(err, "assignment_rule") {
			t.Fatalf("not deleted: %v", err)
		}
		if got := e.topicsSince(e.ws.ID, seq); !slices.Equal(got, []string{"assignment_rule.deleted"}) {
			t.Fatalf("events: %v", got)
		}
	})
}
