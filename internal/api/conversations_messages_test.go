package api

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/conversation/snooze"
	"github.com/parleyhq/parley/internal/store"
)

func TestAdminMessages(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		ann := e.addAdmin(e.ws, "Ann")
		contactID := e.newContact(e.token, map[string]any{"email": "ada@example.com", "external_id": "u1"})
		before := len(e.eventTopics(e.ws.ID))
		m := e.do("POST", "/messages", map[string]any{"message_type": "in_app", "body": "Welcome aboard", "from": map[string]any{"type": "admin", "id": ann},
			"to": map[string]any{"type": "user", "id": contactID}}).ok(t)
		owner := m["owner"].(map[string]any)
		if m["type"] != "admin_message" || m["message_type"] != "inapp" || m["body"] != "Welcome aboard" || owner["id"] != fmt.Sprint(ann) || owner["type"] != "admin" || str(m["conversation_id"]) == "" {
			t.Fatalf("admin message %v", m)
		}
		if got := e.eventTopics(e.ws.ID)[before:]; !slices.Equal(got, []string{"conversation.admin.single.created"}) {
			t.Fatalf("events %v", got)
		}
		c := e.do("GET", "/conversations/"+str(m["conversation_id"]), nil).ok(t)
		src := c["source"].(map[string]any)
		if src["delivered_as"] != "admin_initiated" || src["type"] != "conversation" || src["author"].(map[string]any)["id"] != fmt.Sprint(ann) ||
			src["body"] != "<p>Welcome aboard</p>" || c["admin_assignee_id"] != float64(ann) || c["state"] != "open" || c["waiting_since"] != nil {
			t.Fatalf("admin-initiated conversation %v", c)
		}
		if cs := c["contacts"].(map[string]any)["contacts"].([]any); len(cs) != 1 || cs[0].(map[string]any)["id"] != contactID || cs[0].(map[string]any)["external_id"] != "u1" {
			t.Fatalf("contacts %v", cs)
		}
		if item := e.lastEventItem("conversation.admin.single.created"); item["id"] != m["conversation_id"] {
			t.Fatalf("event item %v", item)
		}
		// The contact's reply reaches the conversation like any other.
		e.do("POST", "/conversations/"+str(m["conversation_id"])+"/reply", map[string]any{"type": "user", "message_type": "comment", "intercom_user_id": contactID, "body": "thanks"}).ok(t)

		// Email: stored the same way, with its subject; an array of one recipient is accepted.
		em := e.do("POST", "/messages", map[string]any{"message_type": "email", "subject": "Hi", "body": "<p>Hello <b>Ada</b></p>", "template": "plain",
			"from": map[string]any{"type": "admin", "id": fmt.Sprint(ann)}, "to": []any{map[string]any{"type": "user", "id": contactID}}}).ok(t)
		if em["message_type"] != "email" || em["subject"] != "Hi" {
			t.Fatalf("email message %v", em)
		}
		c = e.do("GET", "/conversations/"+str(em["conversation_id"]), nil).ok(t)
		if src := c["source"].(map[string]any); src["type"] != "email" || src["subject"] != "Hi" || src["body"] != "<p>Hello <b>Ada</b></p>" {
			t.Fatalf("email source %v", src)
		}
		// A contact's message through /messages is a contact-initiated conversation.
		um := e.do("POST", "/messages", map[string]any{"from": map[string]any{"type": "user", "id": contactID}, "body": "heyy", "referer": "https://example.com/pricing"}).ok(t)
		if um["type"] != "user_message" || um["message_type"] != "inapp" {
			t.Fatalf("user message %v", um)
		}
		if c := e.do("GET", "/conversations/"+str(um["conversation_id"]), nil).ok(t); c["source"].(map[string]any)["url"] != "https://example.com/pricing" ||
			c["source"].(map[string]any)["delivered_as"] != "customer_initiated" {
			t.Fatalf("user message conversation %v", c["source"])
		}

		_, _, otherToken := e.newWorkspace("Other")
		theirs := e.newContact(otherToken, map[string]any{"email": "x@example.com"})
		before = len(e.eventTopics(e.ws.ID))
		to := map[string]any{"type": "user", "id": contactID}
		from := map[string]any{"type": "admin", "id": ann}
		for _, c := range []struct {
			body   map[string]any
			status int
			code   string
		}{
			{map[string]any{"message_type": "inapp", "from": from, "to": to}, 400, "parameter_invalid"},
			{map[string]any{"message_type": "sms", "body": "x", "from": from, "to": to}, 400, "parameter_invalid"},
			{map[string]any{"message_type": "email", "body": "x", "from": from, "to": to}, 422, "parameter_not_found"},
			{map[string]any{"message_type": "email", "subject": "s", "body": "x", "template": "fancy", "from": from, "to": to}, 400, "parameter_invalid"},
			{map[string]any{"message_type": "inapp", "body": "x", "from": from}, 400, "parameter_not_found"},
			{map[string]any{"message_type": "inapp", "body": "x", "from": from, "to": []any{to, to}}, 400, "parameter_invalid"},
			{map[string]any{"message_type": "inapp", "body": "x", "from": from, "to": map[string]any{"type": "user", "id": theirs}}, 404, "not_found"},
			{map[string]any{"message_type": "inapp", "body": "x", "from": map[string]any{"type": "admin", "id": 99999999}, "to": to}, 404, "not_found"},
			{map[string]any{"message_type": "inapp", "body": "x", "from": from, "to": to, "cc": to}, 400, "parameter_invalid"},
			{map[string]any{"message_type": "inapp", "body": "x", "from": map[string]any{"type": "bot", "id": 1}, "to": to}, 400, "parameter_invalid"},
			{map[string]any{"body": "x", "from": map[string]any{"type": "user", "id": contactID}, "to": to}, 400, "parameter_invalid"},
			{map[string]any{"message_type": "inapp", "body": "x", "from": from, "to": to, "colour": "red"}, 400, "parameter_invalid"},
		} {
			e.do("POST", "/messages", c.body).fails(t, c.status, c.code)
		}
		if n := len(e.eventTopics(e.ws.ID)); n != before {
			t.Fatalf("refused messages appended %d events", n-before)
		}
	})
}

// TestConversationTopics drives one conversation through every change of
// the API and checks each appends exactly the topic it should (and that a
// change that changes nothing appends none).
func TestConversationTopics(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		e.worker.Handle(snooze.Kind, snooze.Handler(store.NewConversations(e.db)))
		contactID := e.newContact(e.token, map[string]any{"email": "ada@example.com"})
		var id string
		parts := func(body map[string]any) func() {
			return func() { e.do("POST", "/conversations/"+id+"/parts", body).ok(t) }
		}
		put := func(body map[string]any) func() { return func() { e.do("PUT", "/conversations/"+id, body).ok(t) } }
		reply := func(body map[string]any) func() {
			return func() { e.do("POST", "/conversations/"+id+"/reply", body).ok(t) }
		}
		var until int64
		for _, step := range []struct {
			name string
			do   func()
			want []string
		}{
			{"contact starts", func() { id = e.startConversation(contactID, "help") }, []string{"conversation.user.created"}},
			{"admin message", func() {
				e.do("POST", "/messages", map[string]any{"message_type": "inapp", "body": "hi", "from": map[string]any{"type": "admin", "id": e.owner.ID},
					"to": map[string]any{"type": "user", "id": contactID}}).ok(t)
			}, []string{"conversation.admin.single.created"}},
			{"contact replies", reply(map[string]any{"type": "user", "message_type": "comment", "intercom_user_id": contactID, "body": "more"}), []string{"conversation.user.replied"}},
			{"admin replies", reply(map[string]any{"type": "admin", "message_type": "comment", "body": "sure"}), []string{"conversation.admin.replied"}},
			{"quick reply", reply(map[string]any{"type": "admin", "message_type": "quick_reply", "reply_options": []any{map[string]any{"text": "Yes", "uuid": "u1"}}}), []string{"conversation.admin.replied"}},
			{"note", reply(map[string]any{"type": "admin", "message_type": "note", "body": "fyi"}), []string{"conversation.admin.noted"}},
			{"assign", parts(map[string]any{"type": "admin", "message_type": "assignment", "assignee_id": e.owner.ID}), []string{"conversation.admin.assigned"}},
			{"priority", put(map[string]any{"priority": "urgent"}), []string{"conversation.priority.updated"}},
			{"read", put(map[string]any{"read": true}), []string{"conversation.read"}},
			{"read again", put(map[string]any{"read": true}), nil},
			{"title", put(map[string]any{"title": "Help"}), []string{"conversation.updated"}},
			{"close", parts(map[string]any{"type": "admin", "message_type": "close"}), []string{"conversation.admin.closed"}},
			{"close again", parts(map[string]any{"type": "admin", "message_type": "close"}), nil},
			{"open", parts(map[string]any{"type": "admin", "message_type": "open"}), []string{"conversation.admin.opened"}},
			{"open again", parts(map[string]any{"type": "admin", "message_type": "open"}), nil},
			{"snooze", func() {
				until = time.Now().Unix() + 1
				parts(map[string]any{"type": "admin", "message_type": "snoozed", "snoozed_until": until})()
			}, []string{"conversation.admin.snoozed"}},
			{"timer", func() {
				for time.Now().Unix() <= until {
					time.Sleep(50 * time.Millisecond)
				}
				e.runImportJobs(t) // works any job queue until it is empty
			}, []string{"conversation.admin.unsnoozed"}},
		} {
			before := len(e.eventTopics(e.ws.ID))
			step.do()
			if got := e.eventTopics(e.ws.ID)[before:]; !slices.Equal(got, step.want) {
				t.Fatalf("%s: topics %v, want %v", step.name, got, step.want)
			}
		}
	})
}
