package api

import (
	"fmt"
	"slices"
	"testing"
)

func TestConversationAttributes(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		v16 := map[string]string{"Intercom-Version": "2.16"}
		as := func(method, path string, body any) *resp { return e.doAs(e.token, method, path, body, v16) }
		if l := as("GET", "/conversations/attributes", nil).ok(t); l["type"] != "list" || len(l["data"].([]any)) != 0 {
			t.Fatalf("empty list %v", l)
		}
		seats := as("POST", "/conversations/attributes", map[string]any{"name": "seats", "data_type": "integer", "description": "Seats asked for"}).ok(t)
		if seats["type"] != "conversation_attribute" || seats["name"] != "seats" || seats["data_type"] != "integer" || seats["archived"] != false ||
			seats["admin_id"] != fmt.Sprint(e.owner.ID) || seats["required"] != false || seats["id"] == nil {
			t.Fatalf("created %v", seats)
		}
		plan := as("POST", "/conversations/attributes", map[string]any{"name": "plan", "data_type": "list",
			"options": []any{map[string]any{"label": "free"}, map[string]any{"label": "pro"}}}).ok(t)
		opts := plan["options"].([]any)
		if len(opts) != 2 || opts[0].(map[string]any)["label"] != "free" || str(opts[0].(map[string]any)["id"]) == "" {
			t.Fatalf("list attribute %v", plan)
		}
		note := as("POST", "/conversations/attributes", map[string]any{"name": "note", "data_type": "string", "multiline": true}).ok(t)
		if note["multiline"] != true || note["options"] != nil {
			t.Fatalf("string attribute %v", note)
		}
		for _, typ := range []string{"decimal", "boolean", "datetime"} {
			as("POST", "/conversations/attributes", map[string]any{"name": typ + "_attr", "data_type": typ}).ok(t)
		}
		seatsPath := fmt.Sprintf("/conversations/attributes/%v", seats["id"])
		planPath := fmt.Sprintf("/conversations/attributes/%v", plan["id"])
		if got := as("GET", seatsPath, nil).ok(t); fmt.Sprint(got) != fmt.Sprint(seats) {
			t.Fatalf("GET %v, want %v", got, seats)
		}

		// Refusals write nothing.
		before := len(e.eventTopics(e.ws.ID))
		for _, c := range []struct {
			method, path string
			body         any
			status       int
			code         string
		}{
			{"POST", "/conversations/attributes", map[string]any{"data_type": "string"}, 400, "parameter_not_found"},
			{"POST", "/conversations/attributes", map[string]any{"name": "x"}, 400, "parameter_not_found"},
			{"POST", "/conversations/attributes", map[string]any{"name": "x", "data_type": "files"}, 422, "parameter_invalid"},
			{"POST", "/conversations/attributes", map[string]any{"name": "x", "data_type": "bogus"}, 422, "parameter_invalid"},
			{"POST", "/conversations/attributes", map[string]any{"name": "seats", "data_type": "string"}, 422, "parameter_invalid"},
			{"POST", "/conversations/attributes", map[string]any{"name": "a.b", "data_type": "string"}, 422, "parameter_invalid"},
			{"POST", "/conversations/attributes", map[string]any{"name": "l", "data_type": "list"}, 422, "parameter_invalid"},
			{"POST", "/conversations/attributes", map[string]any{"name": "m", "data_type": "integer", "multiline": true}, 422, "parameter_invalid"},
			{"POST", "/conversations/attributes", map[string]any{"name": "v", "data_type": "string", "visible_to_team_ids": []string{"999999"}}, 422, "parameter_invalid"},
			{"POST", seatsPath + "/options", map[string]any{"label": "x"}, 422, "parameter_invalid"},
			{"POST", planPath + "/options", map[string]any{"label": "pro"}, 422, "parameter_invalid"},
			{"PUT", planPath + "/options/nope", map[string]any{"label": "x"}, 404, "conversation_attribute_option_not_found"},
			{"GET", "/conversations/attributes/99999999", nil, 404, "conversation_attribute_not_found"},
			{"PUT", "/conversations/attributes/abc", map[string]any{"description": "x"}, 404, "conversation_attribute_not_found"},
		} {
			as(c.method, c.path, c.body).fails(t, c.status, c.code)
		}
		if n := len(e.eventTopics(e.ws.ID)); n != before {
			t.Fatalf("refusals appended %d events", n-before)
		}

		// Typed values on conversations.
		contactID := e.newContact(e.token, map[string]any{"email": "a@example.com"})
		id := e.startConversation(contactID, "hi")
		path := "/conversations/" + id
		c := e.do("PUT", path, map[string]any{"custom_attributes": map[string]any{"seats": 5, "plan": "pro", "note": "line", "decimal_attr": 2, "boolean_attr": true, "datetime_attr": 1700000000}}).ok(t)
		if ca := c["custom_attributes"].(map[string]any); ca["seats"] != 5.0 || ca["plan"] != "pro" || ca["decimal_attr"] != 2.0 || ca["boolean_attr"] != true || ca["datetime_attr"] != 1700000000.0 {
			t.Fatalf("custom attributes %v", ca)
		}
		before = len(e.eventTopics(e.ws.ID))
		for _, bad := range []map[string]any{
			{"unknown": 1}, {"seats": "five"}, {"seats": 1.5}, {"plan": "enterprise"}, {"boolean_attr": "yes"},
			{"datetime_attr": "tomorrow"}, {"note": 3}, {"seats": 6, "plan": "gold"},
		} {
			msg := e.do("PUT", path, map[string]any{"custom_attributes": bad}).fails(t, 400, "parameter_invalid")
			if msg == "" {
				t.Fatal("no message")
			}
		}
		if n := len(e.eventTopics(e.ws.ID)); n != before {
			t.Fatalf("refused values appended %d events", n-before)
		}
		if ca := e.do("GET", path, nil).ok(t)["custom_attributes"].(map[string]any); ca["seats"] != 5.0 || ca["plan"] != "pro" {
			t.Fatalf("refused values changed the conversation: %v", ca)
		}

		// Options: add, rename, archive (an archived option is no longer a valid value).
		plan = as("POST", planPath+"/options", map[string]any{"label": "team"}).ok(t)
		opts = plan["options"].([]any)
		pro := str(opts[1].(map[string]any)["id"])
		as("PUT", planPath+"/options/"+pro, map[string]any{"label": "professional"}).ok(t)
		e.do("PUT", path, map[string]any{"custom_attributes": map[string]any{"plan": "professional"}}).ok(t)
		plan = as("DELETE", planPath+"/options/"+pro, nil).ok(t)
		if o := plan["options"].([]any)[1].(map[string]any); o["archived"] != true || o["label"] != "professional" {
			t.Fatalf("archived option %v", o)
		}
		e.do("PUT", path, map[string]any{"custom_attributes": map[string]any{"plan": "professional"}}).fails(t, 400, "parameter_invalid")
		e.do("PUT", path, map[string]any{"custom_attributes": map[string]any{"plan": "team"}}).ok(t)

		// Update and archive the attribute; archived attributes take no values
		// and are listed only on request; null still removes a value.
		upd := as("PUT", seatsPath, map[string]any{"description": "How many seats", "required": true}).ok(t)
		if upd["description"] != "How many seats" || upd["required"] != true {
			t.Fatalf("updated %v", upd)
		}
		if got := as("DELETE", seatsPath, nil).ok(t); got["archived"] != true {
			t.Fatalf("archived %v", got)
		}
		e.do("PUT", path, map[string]any{"custom_attributes": map[string]any{"seats": 7}}).fails(t, 400, "parameter_invalid")
		if ca := e.do("PUT", path, map[string]any{"custom_attributes": map[string]any{"seats": nil}}).ok(t)["custom_attributes"].(map[string]any); ca["seats"] != nil {
			t.Fatalf("null did not remove %v", ca)
		}
		names := func(query string) []string {
			var out []string
			for _, a := range as("GET", "/conversations/attributes"+query, nil).ok(t)["data"].([]any) {
				out = append(out, str(a.(map[string]any)["name"]))
			}
			return out
		}
		if got := names(""); slices.Contains(got, "seats") || !slices.Contains(got, "note") {
			t.Fatalf("live attributes %v", got)
		}
		if got := names("?include_archived=true"); !slices.Contains(got, "seats") {
			t.Fatalf("with archived %v", got)
		}
		// Search sees the typed values.
		e.do("POST", "/conversations/search", map[string]any{"query": map[string]any{"field": "custom_attributes.seats", "operator": "=", "value": 1}}).fails(t, 400, "parameter_invalid")
		if got := e.searchConversations(e.token, "", map[string]any{"field": "custom_attributes.plan", "operator": "=", "value": "team"}, nil, 5); !slices.Equal(got, []string{id}) {
			t.Fatalf("search by list attribute %v", got)
		}

		// Another workspace sees none of it.
		_, _, otherToken := e.newWorkspace("Other")
		if l := e.doAs(otherToken, "GET", "/conversations/attributes", nil, v16).ok(t); len(l["data"].([]any)) != 0 {
			t.Fatalf("other workspace lists %v", l)
		}
		e.doAs(otherToken, "GET", planPath, nil, v16).fails(t, 404, "conversation_attribute_not_found")
		e.doAs(otherToken, "PUT", planPath, map[string]any{"description": "x"}, v16).fails(t, 404, "conversation_attribute_not_found")
		theirContact := e.newContact(otherToken, map[string]any{"email": "b@example.com"})
		theirs := str(e.doAs(otherToken, "POST", "/conversations", map[string]any{"from": map[string]any{"type": "user", "id": theirContact}, "body": "x"}, nil).ok(t)["conversation_id"])
		e.doAs(otherToken, "PUT", "/conversations/"+theirs, map[string]any{"custom_attributes": map[string]any{"note": "x"}}, nil).fails(t, 400, "parameter_invalid")
		topics := e.eventTopics(e.ws.ID)
		if !slices.Contains(topics, "conversation_attribute.created") || !slices.Contains(topics, "conversation_attribute.updated") {
			t.Fatalf("topics %v", topics)
		}
	})
}
