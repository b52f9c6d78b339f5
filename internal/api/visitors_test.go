package api

import (
	"net/url"
	"testing"
)

func TestVisitorsAPI(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		v := e.visitor(map[string]any{"name": "Curious"})
		got := e.do("GET", "/visitors?user_id="+url.QueryEscape(v.visitorID), nil).ok(t)
		if got["type"] != "visitor" || got["id"] != v.contactID || got["user_id"] != v.visitorID || got["name"] != "Curious" || got["app_id"] != e.ws.ID {
			t.Fatalf("visitor %v", got)
		}
		e.do("GET", "/visitors?user_id=nope", nil).fails(t, 404, "visitor_not_found")
		e.do("GET", "/visitors", nil).fails(t, 400, "parameter_not_found")
		_, _, tok2 := e.newWorkspace("Other")
		e.doAs(tok2, "GET", "/visitors?user_id="+url.QueryEscape(v.visitorID), nil, nil).fails(t, 404, "visitor_not_found")
		e.doAs(tok2, "PUT", "/visitors", map[string]any{"id": v.contactID, "name": "x"}, nil).fails(t, 404, "visitor_not_found")

		upd := e.do("PUT", "/visitors", map[string]any{"id": v.contactID, "name": "Gareth"}).ok(t)
		if upd["name"] != "Gareth" {
			t.Fatalf("update %v", upd)
		}
		e.do("PUT", "/visitors", map[string]any{"user_id": v.visitorID, "email": "not an email"}).fails(t, 400, "parameter_invalid")
		e.do("PUT", "/visitors", map[string]any{"name": "x"}).fails(t, 400, "parameter_not_found")

		// Convert to a lead: a contact now; no longer a visitor.
		lead := e.do("POST", "/visitors/convert", map[string]any{"type": "lead", "visitor": map[string]any{"user_id": v.visitorID}, "user": map[string]any{}}).ok(t)
		if lead["type"] != "contact" || lead["role"] != "lead" || lead["name"] != "Gareth" {
			t.Fatalf("convert to lead %v", lead)
		}
		e.do("GET", "/visitors?user_id="+url.QueryEscape(v.visitorID), nil).fails(t, 404, "visitor_not_found")
		if b := e.visitor(map[string]any{"visitor_token": v.visitorToken}); b.role != "lead" || b.contactID != str(lead["id"]) {
			t.Fatalf("the Messenger does not see the conversion: %v", b.boot)
		}

		// Convert to a user (created from the email), with the visitor's conversation.
		w := e.visitor(nil)
		e.do("POST", "/visitors/convert", map[string]any{"type": "admin", "visitor": map[string]any{"id": w.contactID}, "user": map[string]any{"email": "a@b.co"}}).fails(t, 400, "parameter_invalid")
		user := e.do("POST", "/visitors/convert", map[string]any{"type": "user", "visitor": map[string]any{"id": w.contactID}, "user": map[string]any{"email": "new@example.com"}}).ok(t)
		if user["role"] != "user" || user["email"] != "new@example.com" {
			t.Fatalf("convert to user %v", user)
		}
		e.do("GET", "/contacts/"+str(user["id"]), nil).ok(t)
		topics := e.eventTopics(e.ws.ID)
		if topics[len(topics)-1] != "visitor.signed_up" {
			t.Fatalf("topics %v", topics)
		}
		// Visitors never show in the contacts list: two contacts (the lead, the user).
		if l := e.do("GET", "/contacts", nil).ok(t); l["total_count"] != float64(2) {
			t.Fatalf("contacts %v", l)
		}
	})
}
