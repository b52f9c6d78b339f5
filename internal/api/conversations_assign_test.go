package api

import (
	"fmt"
	"slices"
	"strconv"
	"testing"
)

// assignees returns a conversation's team and teammate (0: none).
func (e *env) assignees(id string) (team, admin int64) {
	e.t.Helper()
	c := e.do("GET", "/conversations/"+id, nil).ok(e.t)
	if v, ok := c["team_assignee_id"].(float64); ok {
		team = int64(v)
	}
	if v, ok := c["admin_assignee_id"].(float64); ok {
		admin = int64(v)
	}
	return team, admin
}

func (e *env) newContact(token string, body map[string]any) string {
	e.t.Helper()
	return str(e.doAs(token, "POST", "/contacts", body, nil).ok(e.t)["id"])
}

func TestConversationRouting(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		ann, bob := e.addAdmin(e.ws, "Ann"), e.addAdmin(e.ws, "Bob")
		e.do("POST", "/data_attributes", map[string]any{"name": "plan", "model": "contact", "data_type": "string"}).ok(t)
		salesS := str(e.do("POST", "/teams", map[string]any{"name": "Sales", "distribution_method": "balanced", "assignment_limit": 1, "admin_ids": []int64{ann, bob}}).ok(t)["id"])
		supportS := str(e.do("POST", "/teams", map[string]any{"name": "Support"}).ok(t)["id"])
		sales, _ := strconv.ParseInt(salesS, 10, 64)
		support, _ := strconv.ParseInt(supportS, 10, 64)
		e.do("POST", "/assignment_rules", map[string]any{"name": "Pricing", "team_id": salesS,
			"condition": map[string]any{"field": "source.body", "operator": "~", "value": "pricing"}}).ok(t)
		e.do("POST", "/assignment_rules", map[string]any{"name": "Enterprise", "admin_id": bob,
			"condition": map[string]any{"field": "contact.custom_attributes.plan", "operator": "=", "value": "enterprise"}}).ok(t)
		// Rules see the plain text of the message, not its stored HTML.
		e.do("POST", "/assignment_rules", map[string]any{"name": "Greetings", "team_id": supportS,
			"condition": map[string]any{"field": "source.body", "operator": "^", "value": "hello <there>"}}).ok(t)

		lead := e.newContact(e.token, map[string]any{"email": "lead@example.com"})
		vip := e.newContact(e.token, map[string]any{"email": "vip@example.com", "custom_attributes": map[string]any{"plan": "enterprise"}})
		check := func(id string, wantTeam, wantAdmin int64) {
			t.Helper()
			if team, admin := e.assignees(id); team != wantTeam || admin != wantAdmin {
				t.Fatalf("conversation %s: team %d admin %d, want team %d admin %d", id, team, admin, wantTeam, wantAdmin)
			}
		}

		before := len(e.eventTopics(e.ws.ID))
		c1 := e.startConversation(lead, "A question about PRICING, please")
		check(c1, sales, ann) // balanced: equal loads, lowest id
		if got := e.eventTopics(e.ws.ID)[before:]; !slices.Equal(got, []string{"conversation.user.created", "conversation.admin.assigned"}) {
			t.Fatalf("events of a routed conversation %v", got)
		}
		assigned := e.lastEventItem("conversation.admin.assigned")
		if assigned["id"] != c1 || assigned["admin_assignee_id"] != float64(ann) || assigned["team_assignee_id"] != float64(sales) {
			t.Fatalf("assigned event %v", assigned)
		}
		parts := partsOf(t, e.do("GET", "/conversations/"+c1, nil).ok(t))
		p := parts[len(parts)-1]
		if p["part_type"] != "assignment" || p["author"].(map[string]any)["type"] != "bot" ||
			fmt.Sprint(p["assigned_to"]) != fmt.Sprint(map[string]any{"type": "admin", "id": strconv.FormatInt(ann, 10)}) {
			t.Fatalf("assignment part %v", p)
		}
		c2 := e.startConversation(lead, "pricing again")
		check(c2, sales, bob) // Ann is at the limit
		c3 := e.startConversation(lead, "more pricing")
		check(c3, sales, 0) // everyone at the limit: waits in the team inbox
		c4 := e.startConversation(lead, "and pricing")
		check(c4, sales, 0)
		if st := stat(e.do("GET", "/conversations/"+c3, nil).ok(t), "count_assignments"); st != 1.0 {
			t.Fatalf("count_assignments of a waiting conversation %v", st)
		}

		// Closing frees capacity: the longest waiting conversation goes to Ann.
		e.do("POST", "/conversations/"+c1+"/parts", map[string]any{"message_type": "close", "type": "admin", "admin_id": ann}).ok(t)
		check(c3, sales, ann)
		check(c4, sales, 0)
		// Handing off frees capacity too.
		e.do("POST", "/conversations/"+c2+"/parts", map[string]any{"message_type": "assignment", "type": "admin", "admin_id": bob, "assignee_id": e.owner.ID}).ok(t)
		check(c2, sales, e.owner.ID)
		check(c4, sales, bob)

		// A rule to a teammate ignores team limits.
		c5 := e.startConversation(vip, "hello")
		check(c5, 0, bob)
		// HTML is stripped (and entities decoded) before matching.
		c6 := e.startConversation(lead, "Hello <there>, anyone?")
		check(c6, support, 0) // manual distribution: the team inbox
		// No rule matches: unassigned, one event.
		before = len(e.eventTopics(e.ws.ID))
		c7 := e.startConversation(lead, "nothing special")
		check(c7, 0, 0)
		if got := e.eventTopics(e.ws.ID)[before:]; !slices.Equal(got, []string{"conversation.user.created"}) {
			t.Fatalf("events of an unrouted conversation %v", got)
		}

		// Running the rules again on an existing conversation.
		run := e.startConversation(lead, "something special")
		before = len(e.eventTopics(e.ws.ID))
		e.do("POST", "/conversations/"+run+"/run_assignment_rules", nil).ok(t)
		if n := len(e.eventTopics(e.ws.ID)); n != before {
			t.Fatalf("no rule matched but %d events were appended", n-before)
		}
		e.do("POST", "/assignment_rules", map[string]any{"name": "Special", "team_id": supportS,
			"condition": map[string]any{"field": "source.body", "operator": "~", "value": "special"}}).ok(t)
		before = len(e.eventTopics(e.ws.ID))
		if c := e.do("POST", "/conversations/"+run+"/run_assignment_rules", nil).ok(t); c["team_assignee_id"] != float64(support) {
			t.Fatalf("after running the rules %v", c)
		}
		e.do("POST", "/conversations/"+run+"/run_assignment_rules", nil).ok(t)
		if got := e.eventTopics(e.ws.ID)[before:]; !slices.Equal(got, []string{"conversation.admin.assigned"}) {
			t.Fatalf("events of running the rules twice %v", got)
		}
		e.do("POST", "/conversations/99999999/run_assignment_rules", nil).fails(t, 404, "not_found")

		// Away with reassignment: Bob's team conversation goes back through
		// the team (Ann is full: it waits), his other one is unassigned.
		e.do("PUT", fmt.Sprintf("/admins/%d/away", bob), map[string]any{"away_mode_enabled": true, "away_mode_reassign": true}).ok(t)
		check(c4, sales, 0)
		check(c5, 0, 0)
		// A rule to an away (reassigning) teammate leaves the conversation unassigned.
		check(e.startConversation(vip, "hi"), 0, 0)
		// Back from away: the waiting conversation is his again.
		e.do("PUT", fmt.Sprintf("/admins/%d/away", bob), map[string]any{"away_mode_enabled": false, "away_mode_reassign": false}).ok(t)
		check(c4, sales, bob)

		// Manual assignment to a team validates the team.
		otherWS, _, otherToken := e.newWorkspace("Other")
		theirs := str(e.doAs(otherToken, "POST", "/teams", map[string]any{"name": "Theirs"}, nil).ok(t)["id"])
		before = len(e.eventTopics(e.ws.ID))
		for _, assignee := range []any{99999999, theirs} {
			e.do("POST", "/conversations/"+c7+"/parts", map[string]any{"message_type": "assignment", "type": "team", "assignee_id": assignee}).fails(t, 400, "parameter_invalid")
		}
		if n := len(e.eventTopics(e.ws.ID)); n != before {
			t.Fatalf("refused assignments appended %d events", n-before)
		}
		check(c7, 0, 0)
		// Into a team inbox by hand: the team's distribution hands it out.
		e.do("POST", "/conversations/"+c7+"/parts", map[string]any{"message_type": "assignment", "type": "team", "assignee_id": sales}).ok(t)
		check(c7, sales, 0) // Ann and Bob are both at the limit
		e.do("POST", "/conversations/"+c3+"/parts", map[string]any{"message_type": "close", "type": "admin"}).ok(t)
		check(c7, sales, ann)

		// Rules and teams are per workspace.
		theirContact := e.newContact(otherToken, map[string]any{"email": "x@example.com"})
		m := e.doAs(otherToken, "POST", "/conversations", map[string]any{"from": map[string]any{"type": "user", "id": theirContact}, "body": "pricing"}, nil).ok(t)
		if got := e.doAs(otherToken, "GET", "/conversations/"+str(m["conversation_id"]), nil, nil).ok(t); got["team_assignee_id"] != nil || got["admin_assignee_id"] != nil {
			t.Fatalf("other workspace's conversation was routed: %v", got)
		}
		if got := e.eventTopics(otherWS.ID); slices.Contains(got, "conversation.admin.assigned") {
			t.Fatalf("other workspace events %v", got)
		}
		// A contact of another workspace cannot start a conversation here.
		before = len(e.eventTopics(e.ws.ID))
		e.do("POST", "/conversations", map[string]any{"from": map[string]any{"type": "user", "id": theirContact}, "body": "pricing"}).fails(t, 404, "not_found")
		if n := len(e.eventTopics(e.ws.ID)); n != before {
			t.Fatalf("refused creation appended %d events", n-before)
		}
	})
}
