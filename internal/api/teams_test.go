package api

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/store"
	"github.com/parleyhq/parley/internal/workspace"
)

// addAdmin adds a teammate to a workspace and returns their id.
func (e *env) addAdmin(ws *workspace.Workspace, name string) int64 {
	e.t.Helper()
	var id int64
	err := e.db.InTx(context.Background(), func(tx *store.Tx) error {
		return tx.QueryRow(context.Background(), `INSERT INTO admins (workspace_id, name, email, role, created_at) VALUES (?, ?, ?, 'agent', ?) RETURNING id`,
			ws.ID, name, strings.ToLower(name)+"@"+ws.ID+".test", time.Now().Unix()).Scan(&id)
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return id
}

func ints(v any) []int64 {
	var out []int64
	for _, x := range v.([]any) {
		out = append(out, int64(x.(float64)))
	}
	return out
}

func TestTeamsAPI(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		ann, bob := e.addAdmin(e.ws, "Ann"), e.addAdmin(e.ws, "Bob")
		otherWS, _, otherToken := e.newWorkspace("Other")
		stranger := e.addAdmin(otherWS, "Dan")

		if l := e.do("GET", "/teams", nil).ok(t); l["type"] != "team.list" || len(l["teams"].([]any)) != 0 {
			t.Fatalf("empty list %v", l)
		}
		sales := e.do("POST", "/teams", map[string]any{
			"name": "Sales", "distribution_method": "balanced", "assignment_limit": 3,
			"admin_ids": []int64{bob}, "admin_priority_level": map[string]any{"secondary_admin_ids": []int64{ann}},
		}).ok(t)
		id := str(sales["id"])
		if sales["type"] != "team" || sales["name"] != "Sales" || sales["distribution_method"] != "balanced" || sales["assignment_limit"] != 3.0 {
			t.Fatalf("created %v", sales)
		}
		if _, err := strconv.ParseInt(id, 10, 64); err != nil {
			t.Fatalf("team id %q is not a numeric string", id)
		}
		if got := ints(sales["admin_ids"]); !slices.Equal(got, []int64{ann, bob}) {
			t.Fatalf("admin_ids %v", got)
		}
		pl := sales["admin_priority_level"].(map[string]any)
		if !slices.Equal(ints(pl["primary_admin_ids"]), []int64{bob}) || !slices.Equal(ints(pl["secondary_admin_ids"]), []int64{ann}) {
			t.Fatalf("admin_priority_level %v", pl)
		}
		if got := e.do("GET", "/teams/"+id, nil).ok(t); fmt.Sprint(got) != fmt.Sprint(sales) {
			t.Fatalf("GET %v, want %v", got, sales)
		}
		// Teammates show their teams.
		if a := e.do("GET", fmt.Sprintf("/admins/%d", bob), nil).ok(t); fmt.Sprint(a["team_ids"]) != "["+id+"]" {
			t.Fatalf("admin team_ids %v", a["team_ids"])
		}
		for _, a := range e.do("GET", "/admins", nil).ok(t)["admins"].([]any) {
			a := a.(map[string]any)
			want := "[" + id + "]"
			if a["id"] == fmt.Sprint(e.owner.ID) {
				want = "[]"
			}
			if fmt.Sprint(a["team_ids"]) != want || a["away_status_reason_id"] != nil {
				t.Fatalf("admin %v", a)
			}
		}

		// Defaults: manual, no limit, no members.
		support := e.do("POST", "/teams", map[string]any{"name": "Support"}).ok(t)
		if support["distribution_method"] != "manual" || support["assignment_limit"] != nil || len(support["admin_ids"].([]any)) != 0 {
			t.Fatalf("defaults %v", support)
		}

		// Updates are partial; admin_ids keep priority levels of those who stay.
		up := e.do("PUT", "/teams/"+id, map[string]any{"assignment_limit": nil, "admin_ids": []int64{ann}}).ok(t)
		if up["name"] != "Sales" || up["assignment_limit"] != nil || up["distribution_method"] != "balanced" ||
			!slices.Equal(ints(up["admin_ids"]), []int64{ann}) ||
			!slices.Equal(ints(up["admin_priority_level"].(map[string]any)["secondary_admin_ids"]), []int64{ann}) {
			t.Fatalf("updated %v", up)
		}
		up = e.do("PUT", "/teams/"+id, map[string]any{"name": " Sales EU ", "distribution_method": "round_robin", "admin_priority_level": map[string]any{"primary_admin_ids": []int64{ann, bob}}}).ok(t)
		if up["name"] != "Sales EU" || up["distribution_method"] != "round_robin" || !slices.Equal(ints(up["admin_ids"]), []int64{ann, bob}) ||
			len(up["admin_priority_level"].(map[string]any)["secondary_admin_ids"].([]any)) != 0 {
			t.Fatalf("updated %v", up)
		}

		// Bad input: 4xx, nothing written.
		before := len(e.eventTopics(e.ws.ID))
		for _, c := range []struct {
			method, path string
			body         string
			status       int
			code         string
		}{
			{"POST", "/teams", `{}`, 400, "parameter_not_found"},
			{"POST", "/teams", `{"name":"  "}`, 400, "parameter_invalid"},
			{"POST", "/teams", `{"name":"x\u0000y"}`, 400, "parameter_invalid"},
			{"POST", "/teams", `{"name":"` + strings.Repeat("n", 300) + `"}`, 400, "parameter_invalid"},
			{"POST", "/teams", `{"name":"sales eu"}`, 409, "resource_conflict"},
			{"POST", "/teams", `{"name":"X","distribution_method":"random"}`, 400, "parameter_invalid"},
			{"POST", "/teams", `{"name":"X","assignment_limit":0}`, 400, "parameter_invalid"},
			{"POST", "/teams", `{"name":"X","assignment_limit":1.5}`, 400, "parameter_invalid"},
			{"POST", "/teams", `{"name":"X","admin_ids":["1"]}`, 400, "parameter_invalid"},
			{"POST", "/teams", `{"name":"X","admin_ids":[-1]}`, 400, "parameter_invalid"},
			{"POST", "/teams", `{"name":"X","admin_ids":null}`, 400, "parameter_invalid"},
			{"POST", "/teams", fmt.Sprintf(`{"name":"X","admin_ids":[%d]}`, stranger), 400, "parameter_invalid"},
			{"POST", "/teams", `{"name":"X","admin_ids":[99999999]}`, 400, "parameter_invalid"},
			{"POST", "/teams", fmt.Sprintf(`{"name":"X","admin_priority_level":{"primary_admin_ids":[%d],"secondary_admin_ids":[%d]}}`, ann, ann), 400, "parameter_invalid"},
			{"POST", "/teams", `{"name":"X","admin_priority_level":{"tertiary_admin_ids":[]}}`, 400, "parameter_invalid"},
			{"POST", "/teams", `{"name":"X","colour":"red"}`, 400, "parameter_invalid"},
			{"PUT", "/teams/" + id, `{"name":"Support"}`, 409, "resource_conflict"},
			{"PUT", "/teams/" + id, fmt.Sprintf(`{"admin_ids":[%d, %d]}`, ann, stranger), 400, "parameter_invalid"},
			{"PUT", "/teams/999999", `{"name":"Y"}`, 404, "team_not_found"},
			{"PUT", "/teams/abc", `{"name":"Y"}`, 404, "team_not_found"},
			{"GET", "/teams/999999", ``, 404, "team_not_found"},
			{"GET", "/teams/-1", ``, 404, "team_not_found"},
			{"DELETE", "/teams/nope", ``, 404, "team_not_found"},
		} {
			t.Run(c.method+" "+c.body, func(t *testing.T) { e.do(c.method, c.path, c.body).fails(t, c.status, c.code) })
		}
		if n := len(e.eventTopics(e.ws.ID)); n != before {
			t.Fatalf("refused writes appended %d events", n-before)
		}
		if got := e.do("GET", "/teams/"+id, nil).ok(t); got["name"] != "Sales EU" || len(got["admin_ids"].([]any)) != 2 {
			t.Fatalf("refused update changed the team: %v", got)
		}

		// Another workspace sees and changes nothing.
		if l := e.doAs(otherToken, "GET", "/teams", nil, nil).ok(t); len(l["teams"].([]any)) != 0 {
			t.Fatalf("other workspace lists %v", l)
		}
		e.doAs(otherToken, "GET", "/teams/"+id, nil, nil).fails(t, 404, "team_not_found")
		e.doAs(otherToken, "PUT", "/teams/"+id, map[string]any{"name": "Mine"}, nil).fails(t, 404, "team_not_found")
		e.doAs(otherToken, "DELETE", "/teams/"+id, nil, nil).fails(t, 404, "team_not_found")
		e.doAs(otherToken, "POST", "/teams", map[string]any{"name": "Theirs", "admin_ids": []int64{ann}}, nil).fails(t, 400, "parameter_invalid")

		d := e.do("DELETE", "/teams/"+id, nil).ok(t)
		if d["id"] != id || d["object"] != "team" || d["deleted"] != true {
			t.Fatalf("deleted %v", d)
		}
		e.do("GET", "/teams/"+id, nil).fails(t, 404, "team_not_found")
		if a := e.do("GET", fmt.Sprintf("/admins/%d", ann), nil).ok(t); len(a["team_ids"].([]any)) != 0 {
			t.Fatalf("deleted team still on the admin: %v", a["team_ids"])
		}
		want := []string{"team.created", "team.created", "team.updated", "team.updated", "team.deleted"}
		if got := e.eventTopics(e.ws.ID); !slices.Equal(got, want) {
			t.Fatalf("events %v, want %v", got, want)
		}
		if got := e.eventTopics(otherWS.ID); len(got) != 0 {
			t.Fatalf("other workspace events %v", got)
		}
	})
}

func TestAssignmentRulesAPI(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		ann := e.addAdmin(e.ws, "Ann")
		otherWS, _, otherToken := e.newWorkspace("Other")
		stranger := e.addAdmin(otherWS, "Dan")
		e.do("POST", "/data_attributes", map[string]any{"name": "plan", "model": "contact", "data_type": "string"}).ok(t)
		sales := str(e.do("POST", "/teams", map[string]any{"name": "Sales", "distribution_method": "round_robin", "admin_ids": []int64{ann}}).ok(t)["id"])
		salesID, _ := strconv.ParseInt(sales, 10, 64)
		foreign := str(e.doAs(otherToken, "POST", "/teams", map[string]any{"name": "Theirs"}, nil).ok(t)["id"])

		pricing := e.do("POST", "/assignment_rules", map[string]any{
			"name": "Pricing questions", "team_id": sales,
			"condition": map[string]any{"field": "source.body", "operator": "~", "value": "pricing"},
		}).ok(t)
		if pricing["type"] != "assignment_rule" || pricing["team_id"] != float64(salesID) || pricing["admin_id"] != nil || pricing["priority"] != 1.0 {
			t.Fatalf("created %v", pricing)
		}
		vip := e.do("POST", "/assignment_rules", map[string]any{
			"name": "Enterprise", "admin_id": ann, "priority": 1,
			"condition": map[string]any{"operator": "AND", "value": []any{
				map[string]any{"field": "contact.custom_attributes.plan", "operator": "=", "value": "enterprise"},
				map[string]any{"field": "contact.role", "operator": "=", "value": "user"},
			}},
		}).ok(t)
		if vip["admin_id"] != float64(ann) || vip["team_id"] != nil {
			t.Fatalf("created %v", vip)
		}
		list := e.do("GET", "/assignment_rules", nil).ok(t)["data"].([]any)
		if len(list) != 2 || list[0].(map[string]any)["id"] != pricing["id"] || list[1].(map[string]any)["id"] != vip["id"] {
			t.Fatalf("list order %v", list)
		}
		// Raise the enterprise rule above pricing.
		up := e.do("PUT", "/assignment_rules/"+str(vip["id"]), map[string]any{"priority": 1, "name": "VIP"}).ok(t)
		e.do("PUT", "/assignment_rules/"+str(pricing["id"]), map[string]any{"priority": 2}).ok(t)
		list = e.do("GET", "/assignment_rules", nil).ok(t)["data"].([]any)
		if up["name"] != "VIP" || list[0].(map[string]any)["id"] != vip["id"] {
			t.Fatalf("after reorder %v", list)
		}
		// Switch a rule's target from an admin to a team.
		up = e.do("PUT", "/assignment_rules/"+str(vip["id"]), map[string]any{"team_id": salesID}).ok(t)
		if up["team_id"] != float64(salesID) || up["admin_id"] != nil {
			t.Fatalf("retargeted %v", up)
		}
		if got := e.do("GET", "/assignment_rules/"+str(vip["id"]), nil).ok(t); fmt.Sprint(got) != fmt.Sprint(up) {
			t.Fatalf("GET %v", got)
		}

		before := len(e.eventTopics(e.ws.ID))
		cond := `"condition":{"field":"source.body","operator":"~","value":"x"}`
		for _, c := range []struct {
			method, path, body string
			status             int
			code               string
			msg                string
		}{
			{"POST", "/assignment_rules", `{"team_id":` + sales + `,` + cond + `}`, 400, "parameter_not_found", "name"},
			{"POST", "/assignment_rules", `{"name":"r","team_id":` + sales + `}`, 400, "parameter_not_found", "condition"},
			{"POST", "/assignment_rules", `{"name":"r",` + cond + `}`, 400, "parameter_invalid", "team_id or an admin_id"},
			{"POST", "/assignment_rules", `{"name":"r","team_id":` + sales + `,"admin_id":` + fmt.Sprint(ann) + `,` + cond + `}`, 400, "parameter_invalid", "not both"},
			{"POST", "/assignment_rules", `{"name":"r","team_id":"abc",` + cond + `}`, 400, "parameter_invalid", "team_id"},
			{"POST", "/assignment_rules", `{"name":"r","team_id":` + foreign + `,` + cond + `}`, 404, "team_not_found", "Team"},
			{"POST", "/assignment_rules", `{"name":"r","admin_id":` + fmt.Sprint(stranger) + `,` + cond + `}`, 404, "admin_not_found", "Admin"},
			{"POST", "/assignment_rules", `{"name":"r","team_id":` + sales + `,"priority":0,` + cond + `}`, 400, "parameter_invalid", "priority"},
			{"POST", "/assignment_rules", `{"name":"r","team_id":` + sales + `,"condition":{"field":"contact.custom_attributes.tier","operator":"=","value":"x"}}`, 400, "parameter_invalid", "contact.custom_attributes.tier"},
			{"POST", "/assignment_rules", `{"name":"r","team_id":` + sales + `,"condition":{"field":"contact.segment_id","operator":"=","value":"x"}}`, 400, "parameter_invalid", "segment_id"},
			{"POST", "/assignment_rules", `{"name":"r","team_id":` + sales + `,"condition":{"field":"source.body","operator":"<","value":"x"}}`, 400, "parameter_invalid", "condition:"},
			{"POST", "/assignment_rules", `{"name":"r","team_id":` + sales + `,"condition":null}`, 400, "parameter_invalid", "condition"},
			{"POST", "/assignment_rules", `{"name":"r","team_id":` + sales + `,"condition":"pricing"}`, 400, "parameter_invalid", "condition"},
			{"PUT", "/assignment_rules/" + str(vip["id"]), `{"team_id":null}`, 400, "parameter_invalid", "team_id or an admin_id"},
			{"PUT", "/assignment_rules/" + str(vip["id"]), `{"condition":{"field":"nope","operator":"=","value":1}}`, 400, "parameter_invalid", "nope"},
			{"PUT", "/assignment_rules/999999", `{"name":"x"}`, 404, "not_found", "rule"},
			{"GET", "/assignment_rules/x", ``, 404, "not_found", "rule"},
			{"DELETE", "/teams/" + sales, ``, 400, "team_has_dependent_objects", "Pricing questions"},
		} {
			t.Run(c.method+" "+c.body, func(t *testing.T) {
				if msg := e.do(c.method, c.path, c.body).fails(t, c.status, c.code); !strings.Contains(msg, c.msg) {
					t.Fatalf("message %q does not mention %q", msg, c.msg)
				}
			})
		}
		if n := len(e.eventTopics(e.ws.ID)); n != before {
			t.Fatalf("refused writes appended %d events", n-before)
		}

		// Another workspace sees and changes nothing.
		if l := e.doAs(otherToken, "GET", "/assignment_rules", nil, nil).ok(t); len(l["data"].([]any)) != 0 {
			t.Fatalf("other workspace lists %v", l)
		}
		e.doAs(otherToken, "GET", "/assignment_rules/"+str(vip["id"]), nil, nil).fails(t, 404, "not_found")
		e.doAs(otherToken, "PUT", "/assignment_rules/"+str(vip["id"]), map[string]any{"name": "mine"}, nil).fails(t, 404, "not_found")
		e.doAs(otherToken, "DELETE", "/assignment_rules/"+str(vip["id"]), nil, nil).fails(t, 404, "not_found")

		for _, r := range []map[string]any{pricing, vip} {
			d := e.do("DELETE", "/assignment_rules/"+str(r["id"]), nil).ok(t)
			if d["id"] != r["id"] || d["object"] != "assignment_rule" || d["deleted"] != true {
				t.Fatalf("deleted %v", d)
			}
		}
		e.do("DELETE", "/teams/"+sales, nil).ok(t)
		topics := e.eventTopics(e.ws.ID)
		want := []string{"data_attribute.created", "team.created", "assignment_rule.created", "assignment_rule.created",
			"assignment_rule.updated", "assignment_rule.updated", "assignment_rule.updated",
			"assignment_rule.deleted", "assignment_rule.deleted", "team.deleted"}
		if !slices.Equal(topics, want) {
			t.Fatalf("events %v, want %v", topics, want)
		}
	})
}

func TestAdminAway(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		ann := e.addAdmin(e.ws, "Ann")
		otherWS, _, otherToken := e.newWorkspace("Other")
		sales := e.do("POST", "/teams", map[string]any{"name": "Sales", "admin_ids": []int64{ann}}).ok(t)
		path := fmt.Sprintf("/admins/%d/away", ann)

		a := e.do("PUT", path, map[string]any{"away_mode_enabled": true, "away_mode_reassign": true}).ok(t)
		if a["type"] != "admin" || a["id"] != fmt.Sprint(ann) || a["away_mode_enabled"] != true || a["away_mode_reassign"] != true ||
			fmt.Sprint(a["team_ids"]) != "["+str(sales["id"])+"]" || a["away_status_reason_id"] != nil {
			t.Fatalf("away %v", a)
		}
		if got := e.do("GET", fmt.Sprintf("/admins/%d", ann), nil).ok(t); got["away_mode_enabled"] != true || got["away_mode_reassign"] != true {
			t.Fatalf("GET after away %v", got)
		}
		a = e.do("PUT", path, map[string]any{"away_mode_enabled": false, "away_mode_reassign": false}).ok(t)
		if a["away_mode_enabled"] != false || a["away_mode_reassign"] != false {
			t.Fatalf("back %v", a)
		}
		// The caller may set themselves away too.
		me := e.do("PUT", fmt.Sprintf("/admins/%d/away", e.owner.ID), map[string]any{"away_mode_enabled": true, "away_mode_reassign": false, "away_status_reason_id": nil}).ok(t)
		if me["away_mode_enabled"] != true {
			t.Fatalf("owner away %v", me)
		}

		before := len(e.eventTopics(e.ws.ID))
		for _, c := range []struct {
			path, body string
			status     int
			code       string
		}{
			{path, `{}`, 400, "parameter_not_found"},
			{path, `{"away_mode_enabled":true}`, 400, "parameter_not_found"},
			{path, `{"away_mode_enabled":null,"away_mode_reassign":true}`, 400, "parameter_not_found"},
			{path, `{"away_mode_enabled":"yes","away_mode_reassign":true}`, 400, "parameter_invalid"},
			{path, `{"away_mode_enabled":true,"away_mode_reassign":true,"away_status_reason_id":12345}`, 400, "parameter_invalid"},
			{path, `{"away_mode_enabled":true,"away_mode_reassign":true,"mood":"sleepy"}`, 400, "parameter_invalid"},
			{"/admins/99999999/away", `{"away_mode_enabled":true,"away_mode_reassign":true}`, 404, "admin_not_found"},
			{"/admins/abc/away", `{"away_mode_enabled":true,"away_mode_reassign":true}`, 404, "admin_not_found"},
		} {
			e.do("PUT", c.path, c.body).fails(t, c.status, c.code)
		}
		// Another workspace cannot set this admin away.
		e.doAs(otherToken, "PUT", path, map[string]any{"away_mode_enabled": true, "away_mode_reassign": true}, nil).fails(t, 404, "admin_not_found")
		if got := e.do("GET", fmt.Sprintf("/admins/%d", ann), nil).ok(t); got["away_mode_enabled"] != false {
			t.Fatalf("refused away changed the admin: %v", got)
		}
		if n := len(e.eventTopics(e.ws.ID)); n != before {
			t.Fatalf("refused writes appended %d events", n-before)
		}
		want := []string{"team.created", "admin.away_mode_updated", "admin.away_mode_updated", "admin.away_mode_updated"}
		if got := e.eventTopics(e.ws.ID); !slices.Equal(got, want) {
			t.Fatalf("events %v, want %v", got, want)
		}
		if got := e.eventTopics(otherWS.ID); len(got) != 0 {
			t.Fatalf("other workspace events %v", got)
		}
	})
}
