package api

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/conversation/snooze"
	"github.com/parleyhq/parley/internal/store"
)

// conv is a few helpers over one conversation in tests.
func (e *env) startConversation(contactID, body string) string {
	e.t.Helper()
	m := e.do("POST", "/conversations", map[string]any{"from": map[string]any{"type": "user", "id": contactID}, "body": body}).ok(e.t)
	return str(m["conversation_id"])
}

func (e *env) lastEventItem(topic string) map[string]any {
	e.t.Helper()
	var item string
	err := e.db.Read().QueryRow(context.Background(), `SELECT item FROM event_log WHERE workspace_id = ? AND topic = ? ORDER BY seq DESC LIMIT 1`, e.ws.ID, topic).Scan(&item)
	if err != nil {
		e.t.Fatalf("no %s event: %v", topic, err)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(item), &m); err != nil {
		e.t.Fatal(err)
	}
	return m
}

func partsOf(t *testing.T, c map[string]any) []map[string]any {
	t.Helper()
	cp := c["conversation_parts"].(map[string]any)
	var out []map[string]any
	for _, p := range cp["conversation_parts"].([]any) {
		out = append(out, p.(map[string]any))
	}
	return out
}

func stat(c map[string]any, name string) any { return c["statistics"].(map[string]any)[name] }

func TestConversationLifecycle(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		owner := strconv.FormatInt(e.owner.ID, 10)
		user := e.do("POST", "/contacts", map[string]any{"email": "ada@example.com", "external_id": "u-1", "name": "Ada"}).ok(t)
		uid := str(user["id"])

		m := e.do("POST", "/conversations", map[string]any{"from": map[string]any{"type": "user", "id": uid}, "body": "Hi <there> & all"}).ok(t)
		if m["type"] != "user_message" || m["message_type"] != "inapp" || m["body"] != "Hi <there> & all" || str(m["conversation_id"]) == "" || m["created_at"] == nil {
			t.Fatalf("message = %v", m)
		}
		id := str(m["conversation_id"])
		if _, err := strconv.ParseInt(id, 10, 64); err != nil {
			t.Fatalf("conversation id %q is not numeric", id)
		}
		created := e.lastEventItem("conversation.user.created")
		if created["id"] != id || created["state"] != "open" {
			t.Fatalf("conversation.user.created item = %v", created)
		}

		c := e.do("GET", "/conversations/"+id, nil).ok(t)
		src := c["source"].(map[string]any)
		author := src["author"].(map[string]any)
		contacts := c["contacts"].(map[string]any)["contacts"].([]any)
		switch {
		case c["type"] != "conversation", c["id"] != id, c["state"] != "open", c["open"] != true, c["read"] != false:
			t.Fatalf("conversation = %v", c)
		case c["priority"] != "not_priority", c["admin_assignee_id"] != nil, c["team_assignee_id"] != nil:
			t.Fatalf("2.14 priority/assignees = %v %v %v", c["priority"], c["admin_assignee_id"], c["team_assignee_id"])
		case src["body"] != "<p>Hi &lt;there&gt; &amp; all</p>", src["delivered_as"] != "customer_initiated", src["type"] != "conversation":
			t.Fatalf("source = %v", src)
		case author["type"] != "user", author["id"] != uid, author["email"] != "ada@example.com", author["name"] != "Ada":
			t.Fatalf("source author = %v", author)
		case len(contacts) != 1, contacts[0].(map[string]any)["id"] != uid, contacts[0].(map[string]any)["external_id"] != "u-1":
			t.Fatalf("contacts = %v", contacts)
		case c["waiting_since"] != c["created_at"], stat(c, "first_contact_reply_at") != c["created_at"]:
			t.Fatalf("waiting_since %v, first_contact_reply_at %v, created_at %v", c["waiting_since"], stat(c, "first_contact_reply_at"), c["created_at"])
		case len(partsOf(t, c)) != 0, c["first_contact_reply"].(map[string]any)["created_at"] != c["created_at"]:
			t.Fatalf("fresh conversation = %v", c)
		}
		v16 := e.doAs(e.token, "GET", "/conversations/"+id, nil, map[string]string{"Intercom-Version": "2.16"}).ok(t)
		if v16["priority"] != "none" || v16["admin_assignee_id"] != float64(0) || v16["team_assignee_id"] != float64(0) {
			t.Fatalf("2.16 priority/assignees = %v %v %v", v16["priority"], v16["admin_assignee_id"], v16["team_assignee_id"])
		}

		// An admin answers: the contact stops waiting, reply statistics start.
		c = e.do("POST", "/conversations/"+id+"/reply", map[string]any{"message_type": "comment", "type": "admin", "admin_id": owner, "body": "Hello **Ada**\n\nHow can I help?"}).ok(t)
		parts := partsOf(t, c)
		p := parts[len(parts)-1]
		if len(parts) != 1 || p["part_type"] != "comment" || p["body"] != "<p>Hello **Ada**</p><p>How can I help?</p>" || p["author"].(map[string]any)["id"] != owner || p["author"].(map[string]any)["type"] != "admin" {
			t.Fatalf("admin reply parts = %v", parts)
		}
		if c["waiting_since"] != nil || stat(c, "first_admin_reply_at") == nil || stat(c, "time_to_admin_reply") == nil || stat(c, "median_time_to_reply") == nil {
			t.Fatalf("after admin reply: waiting_since %v statistics %v", c["waiting_since"], c["statistics"])
		}
		if tm := c["teammates"].(map[string]any)["teammates"].([]any); len(tm) != 1 || tm[0].(map[string]any)["id"] != owner {
			t.Fatalf("teammates = %v", c["teammates"])
		}
		replied := e.lastEventItem("conversation.admin.replied")
		if rp := partsOf(t, replied); len(rp) != 1 || rp[0]["id"] != p["id"] || replied["waiting_since"] != nil {
			t.Fatalf("conversation.admin.replied item parts = %v", rp)
		}

		// A note does not answer the contact; a contact reply (id "last") makes them wait again.
		c = e.do("POST", "/conversations/"+id+"/reply", map[string]any{"message_type": "note", "type": "admin", "admin_id": e.owner.ID, "body": "<b>VIP</b>"}).ok(t)
		if p := partsOf(t, c)[1]; p["part_type"] != "note" || p["body"] != "<b>VIP</b>" {
			t.Fatalf("note = %v", p)
		}
		e.do("PUT", "/conversations/"+id, map[string]any{"read": true}).ok(t)
		c = e.do("POST", "/conversations/last/reply", map[string]any{"message_type": "comment", "type": "user", "intercom_user_id": uid, "body": "Still <broken>"}).ok(t)
		if c["id"] != id || c["waiting_since"] == nil || c["read"] != false || partsOf(t, c)[2]["body"] != "<p>Still &lt;broken&gt;</p>" {
			t.Fatalf("contact reply: %v", c)
		}
		e.do("POST", "/conversations/"+id+"/reply", map[string]any{"message_type": "comment", "type": "user", "user_id": "u-1", "body": "by user_id"}).ok(t)
		e.do("POST", "/conversations/"+id+"/reply", map[string]any{"message_type": "comment", "type": "user", "email": "ada@example.com", "body": "by email"}).ok(t)
		opts := []map[string]any{{"text": "Yes", "uuid": "0b5f7c9e-1111-4a4a-9c9c-000000000001"}, {"text": "No", "uuid": "0b5f7c9e-1111-4a4a-9c9c-000000000002"}}
		c = e.do("POST", "/conversations/"+id+"/reply", map[string]any{"message_type": "quick_reply", "type": "admin", "admin_id": owner, "reply_options": opts}).ok(t)
		qr := partsOf(t, c)[5]
		if qr["part_type"] != "quick_reply" || len(qr["metadata"].(map[string]any)["quick_reply_options"].([]any)) != 2 || c["waiting_since"] != nil {
			t.Fatalf("quick reply = %v", qr)
		}

		// Assignment to a teammate and to a team (teams are plain integers for now).
		c = e.do("POST", "/conversations/"+id+"/parts", map[string]any{"message_type": "assignment", "type": "admin", "admin_id": owner, "assignee_id": owner, "body": "Yours"}).ok(t)
		ap := partsOf(t, c)[6]
		if c["admin_assignee_id"] != float64(e.owner.ID) || ap["part_type"] != "assignment" || ap["assigned_to"].(map[string]any)["id"] != owner || stat(c, "count_assignments") != float64(1) || stat(c, "first_assignment_at") == nil {
			t.Fatalf("assigned: %v %v %v", c["admin_assignee_id"], ap, c["statistics"])
		}
		teamID, _ := strconv.ParseInt(str(e.do("POST", "/teams", map[string]any{"name": "Support"}).ok(t)["id"]), 10, 64)
		c = e.do("POST", "/conversations/"+id+"/parts", map[string]any{"message_type": "assignment", "type": "team", "admin_id": owner, "assignee_id": teamID}).ok(t)
		if c["team_assignee_id"] != float64(teamID) || c["admin_assignee_id"] != float64(e.owner.ID) || stat(c, "count_assignments") != float64(2) {
			t.Fatalf("team assigned: %v %v", c["team_assignee_id"], c["statistics"])
		}

		// Close, close again (no change), open: one reopen counted.
		e.do("POST", "/conversations/"+id+"/reply", map[string]any{"message_type": "comment", "type": "user", "intercom_user_id": uid, "body": "waiting"}).ok(t)
		c = e.do("POST", "/conversations/"+id+"/parts", map[string]any{"message_type": "close", "type": "admin", "admin_id": owner, "body": "Solved"}).ok(t)
		if c["state"] != "closed" || c["open"] != false || c["waiting_since"] != nil || stat(c, "last_closed_by_id") != owner || stat(c, "first_close_at") == nil || stat(c, "time_to_first_close") == nil {
			t.Fatalf("closed: %v", c)
		}
		before := len(e.eventTopics(e.ws.ID))
		e.do("POST", "/conversations/"+id+"/parts", map[string]any{"message_type": "close", "type": "admin", "admin_id": owner}).ok(t)
		if after := len(e.eventTopics(e.ws.ID)); after != before {
			t.Fatalf("closing a closed conversation appended %d events", after-before)
		}
		c = e.do("POST", "/conversations/"+id+"/parts", map[string]any{"message_type": "open", "admin_id": owner}).ok(t)
		if c["state"] != "open" || c["open"] != true || stat(c, "count_reopens") != float64(1) {
			t.Fatalf("reopened: %v %v", c["state"], c["statistics"])
		}

		// PUT: read, title, custom attributes, priority in either vocabulary.
		for name, typ := range map[string]string{"plan": "string", "seats": "integer", "vip": "boolean"} {
			e.do("POST", "/conversations/attributes", map[string]any{"name": name, "data_type": typ}).ok(t)
		}
		c = e.do("PUT", "/conversations/"+id, map[string]any{"read": true, "title": "Broken login", "custom_attributes": map[string]any{"plan": "pro", "seats": 5, "vip": true}, "priority": "high"}).ok(t)
		ca := c["custom_attributes"].(map[string]any)
		if c["read"] != true || c["title"] != "Broken login" || ca["plan"] != "pro" || ca["seats"] != float64(5) || ca["vip"] != true || c["priority"] != "priority" {
			t.Fatalf("updated: %v", c)
		}
		if v := e.doAs(e.token, "GET", "/conversations/"+id, nil, map[string]string{"Intercom-Version": "2.16"}).ok(t); v["priority"] != "high" || v["admin_assignee_id"] != float64(e.owner.ID) {
			t.Fatalf("2.16 after update: %v %v", v["priority"], v["admin_assignee_id"])
		}
		c = e.do("PUT", "/conversations/"+id, map[string]any{"custom_attributes": map[string]any{"plan": nil}, "priority": "not_priority"}).ok(t)
		if _, ok := c["custom_attributes"].(map[string]any)["plan"]; ok || c["priority"] != "not_priority" {
			t.Fatalf("attribute removal / not_priority: %v %v", c["custom_attributes"], c["priority"])
		}

		// Plain text display.
		pt := e.do("GET", "/conversations/"+id+"?display_as=plaintext", nil).ok(t)
		if b := partsOf(t, pt)[0]["body"]; b != "Hello **Ada**\nHow can I help?" {
			t.Fatalf("plaintext body = %q", b)
		}
		if b := pt["source"].(map[string]any)["body"]; b != "Hi <there> & all" {
			t.Fatalf("plaintext source = %q", b)
		}

		// Counts are exact: statistics, total_count and the parts shown agree.
		c = e.do("GET", "/conversations/"+id, nil).ok(t)
		parts = partsOf(t, c)
		if n := float64(len(parts)); stat(c, "count_conversation_parts") != n || c["conversation_parts"].(map[string]any)["total_count"] != n || n != 11 {
			t.Fatalf("%d parts, statistics %v, total %v", len(parts), stat(c, "count_conversation_parts"), c["conversation_parts"].(map[string]any)["total_count"])
		}
		var types []string
		for _, p := range parts {
			types = append(types, str(p["part_type"]))
		}
		want := []string{"comment", "note", "comment", "comment", "comment", "quick_reply", "assignment", "assignment", "comment", "close", "open"}
		if !slices.Equal(types, want) {
			t.Fatalf("part types = %v", types)
		}

		wantTopics := []string{"conversation.user.created", "conversation.admin.replied", "conversation.admin.noted", "conversation.read",
			"conversation.user.replied", "conversation.user.replied", "conversation.user.replied", "conversation.admin.replied",
			"conversation.admin.assigned", "conversation.admin.assigned", "conversation.user.replied", "conversation.admin.closed",
			"conversation.admin.opened", "conversation.read", "conversation.priority.updated", "conversation.updated",
			"conversation.priority.updated", "conversation.updated"}
		var got []string
		for _, tp := range e.eventTopics(e.ws.ID) {
			if len(tp) > 13 && tp[:13] == "conversation." {
				got = append(got, tp)
			}
		}
		if !slices.Equal(got, wantTopics) {
			t.Fatalf("topics:\n got %v\nwant %v", got, wantTopics)
		}
	})
}

func TestConversationRefusals(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		owner := strconv.FormatInt(e.owner.ID, 10)
		uid := str(e.do("POST", "/contacts", map[string]any{"email": "ada@example.com"}).ok(t)["id"])
		other := str(e.do("POST", "/contacts", map[string]any{"email": "bob@example.com"}).ok(t)["id"])
		id := e.startConversation(uid, "help")
		_, otherOwner, otherToken := e.newWorkspace("Other")
		tag := str(e.do("POST", "/tags", map[string]any{"name": "billing"}).ok(t)["id"])

		before := e.eventTopics(e.ws.ID)
		reply := func(body map[string]any) *resp { return e.do("POST", "/conversations/"+id+"/reply", body) }
		parts := func(body map[string]any) *resp { return e.do("POST", "/conversations/"+id+"/parts", body) }

		e.do("POST", "/conversations", map[string]any{"body": "x"}).fails(t, 400, "parameter_invalid")
		e.do("POST", "/conversations", map[string]any{"from": map[string]any{"type": "admin", "id": uid}, "body": "x"}).fails(t, 400, "parameter_invalid")
		e.do("POST", "/conversations", map[string]any{"from": map[string]any{"type": "user"}, "body": "x"}).fails(t, 400, "parameter_not_found")
		e.do("POST", "/conversations", map[string]any{"from": map[string]any{"type": "user", "id": uid}}).fails(t, 400, "parameter_not_found")
		e.do("POST", "/conversations", map[string]any{"from": map[string]any{"type": "user", "id": uid}, "body": "  "}).fails(t, 400, "parameter_invalid")
		e.do("POST", "/conversations", map[string]any{"from": map[string]any{"type": "user", "id": uid}, "body": 5}).fails(t, 400, "parameter_invalid")
		e.do("POST", "/conversations", map[string]any{"from": map[string]any{"type": "user", "id": uid}, "body": "x", "created_at": time.Now().Unix() + 3600}).fails(t, 400, "parameter_invalid")
		if msg := e.do("POST", "/conversations", map[string]any{"from": map[string]any{"type": "user", "id": "nope"}, "body": "x"}).fails(t, 404, "not_found"); msg != "User Not Found" {
			t.Fatalf("unknown contact: %q", msg)
		}
		e.do("GET", "/conversations/abc", nil).fails(t, 404, "not_found")
		e.do("GET", "/conversations/99999999", nil).fails(t, 404, "not_found")
		e.do("GET", "/conversations/-1", nil).fails(t, 404, "not_found")
		e.do("GET", "/conversations?per_page=151", nil).fails(t, 400, "parameter_invalid")
		e.do("GET", "/conversations?starting_after=zz", nil).fails(t, 400, "parameter_invalid")

		reply(map[string]any{"message_type": "comment", "type": "bot", "body": "x"}).fails(t, 400, "parameter_invalid")
		reply(map[string]any{"message_type": "shout", "type": "admin", "body": "x"}).fails(t, 400, "parameter_invalid")
		reply(map[string]any{"message_type": "comment", "type": "admin", "admin_id": owner}).fails(t, 400, "parameter_invalid")
		reply(map[string]any{"message_type": "comment", "type": "admin", "admin_id": otherOwner.ID, "body": "x"}).fails(t, 404, "not_found")
		reply(map[string]any{"message_type": "comment", "type": "admin", "admin_id": "abc", "body": "x"}).fails(t, 400, "parameter_invalid")
		reply(map[string]any{"message_type": "quick_reply", "type": "admin", "admin_id": owner}).fails(t, 400, "parameter_invalid")
		reply(map[string]any{"message_type": "comment", "type": "admin", "admin_id": owner, "body": "x", "attachment_files": []any{map[string]any{"name": "a.txt", "data": "eA=="}}}).fails(t, 400, "parameter_invalid")
		reply(map[string]any{"message_type": "comment", "type": "admin", "admin_id": owner, "body": "x", "attachment_urls": []any{"javascript:alert(1)"}}).fails(t, 400, "parameter_invalid")
		reply(map[string]any{"message_type": "comment", "type": "user", "intercom_user_id": other, "body": "x"}).fails(t, 400, "parameter_invalid")
		reply(map[string]any{"message_type": "comment", "type": "user", "intercom_user_id": "nobody", "body": "x"}).fails(t, 404, "not_found")
		reply(map[string]any{"message_type": "comment", "type": "user", "body": "x"}).fails(t, 400, "parameter_not_found")
		reply(map[string]any{"message_type": "note", "type": "user", "intercom_user_id": uid, "body": "x"}).fails(t, 400, "parameter_invalid")
		e.do("POST", "/conversations/last/reply", map[string]any{"message_type": "comment", "type": "admin", "admin_id": owner, "body": "x"}).fails(t, 400, "parameter_invalid")
		e.do("POST", "/conversations/last/reply", map[string]any{"message_type": "comment", "type": "user", "intercom_user_id": other, "body": "x"}).fails(t, 404, "not_found")
		e.do("POST", "/conversations/999999/reply", map[string]any{"message_type": "comment", "type": "admin", "admin_id": owner, "body": "x"}).fails(t, 404, "not_found")

		parts(map[string]any{"message_type": "snoozed", "admin_id": owner}).fails(t, 400, "parameter_not_found")
		parts(map[string]any{"message_type": "snoozed", "admin_id": owner, "snoozed_until": time.Now().Unix() - 10}).fails(t, 400, "parameter_invalid")
		parts(map[string]any{"message_type": "snoozed", "admin_id": owner, "snoozed_until": "soon"}).fails(t, 400, "parameter_invalid")
		parts(map[string]any{"message_type": "assignment", "type": "admin", "admin_id": owner, "assignee_id": otherOwner.ID}).fails(t, 400, "parameter_invalid")
		parts(map[string]any{"message_type": "assignment", "type": "admin", "admin_id": owner}).fails(t, 400, "parameter_not_found")
		parts(map[string]any{"message_type": "assignment", "type": "bot", "admin_id": owner, "assignee_id": 1}).fails(t, 400, "parameter_invalid")
		parts(map[string]any{"message_type": "assignment", "type": "team", "admin_id": owner, "assignee_id": -3}).fails(t, 400, "parameter_invalid")
		parts(map[string]any{"message_type": "delete", "admin_id": owner}).fails(t, 400, "parameter_invalid")
		parts(map[string]any{"message_type": "close", "admin_id": owner, "extra": 1}).fails(t, 400, "parameter_invalid")

		e.do("PUT", "/conversations/"+id, map[string]any{"custom_attributes": map[string]any{"x": map[string]any{"nested": 1}}}).fails(t, 400, "parameter_invalid")
		e.do("PUT", "/conversations/"+id, map[string]any{"custom_attributes": map[string]any{"x": []any{1}}}).fails(t, 400, "parameter_invalid")
		e.do("PUT", "/conversations/"+id, map[string]any{"priority": "very"}).fails(t, 400, "parameter_invalid")
		e.do("PUT", "/conversations/"+id, map[string]any{"read": nil}).fails(t, 400, "parameter_invalid")
		e.do("PUT", "/conversations/"+id, map[string]any{"read": "yes"}).fails(t, 400, "parameter_invalid")
		e.do("PUT", "/conversations/"+id, map[string]any{"company_id": "c1"}).fails(t, 400, "parameter_invalid")
		e.do("PUT", "/conversations/"+id, `{"read": true`).fails(t, 400, "bad_request")

		e.do("POST", "/conversations/"+id+"/tags", map[string]any{"id": "999999", "admin_id": owner}).fails(t, 404, "tag_not_found")
		e.do("POST", "/conversations/"+id+"/tags", map[string]any{"admin_id": owner}).fails(t, 400, "parameter_not_found")
		e.do("DELETE", "/conversations/"+id+"/tags/"+tag, map[string]any{"admin_id": owner}).fails(t, 404, "tag_not_found")
		e.do("POST", "/conversations/999999/tags", map[string]any{"id": tag, "admin_id": owner}).fails(t, 404, "not_found")
		if msg := e.do("DELETE", "/conversations/"+id+"/customers/"+uid, map[string]any{"admin_id": owner}).fails(t, 422, "parameter_invalid"); msg != "Removing the last customer is not allowed" {
			t.Fatalf("last customer: %q", msg)
		}
		e.do("DELETE", "/conversations/"+id+"/customers/"+other, map[string]any{"admin_id": owner}).fails(t, 404, "not_found")
		e.do("POST", "/conversations/"+id+"/customers", map[string]any{"admin_id": owner, "customer": map[string]any{"intercom_user_id": "nobody"}}).fails(t, 404, "not_found")
		e.do("POST", "/conversations/"+id+"/customers", map[string]any{"admin_id": owner}).fails(t, 400, "parameter_not_found")

		// Another workspace sees and changes nothing of this one.
		as := func(method, path string, body any) *resp { return e.doAs(otherToken, method, path, body, nil) }
		as("GET", "/conversations/"+id, nil).fails(t, 404, "not_found")
		if l := as("GET", "/conversations", nil).ok(t); l["total_count"] != float64(0) || len(l["conversations"].([]any)) != 0 {
			t.Fatalf("other workspace lists %v", l)
		}
		as("POST", "/conversations/"+id+"/reply", map[string]any{"message_type": "comment", "type": "admin", "admin_id": otherOwner.ID, "body": "x"}).fails(t, 404, "not_found")
		as("POST", "/conversations/"+id+"/parts", map[string]any{"message_type": "close", "admin_id": otherOwner.ID}).fails(t, 404, "not_found")
		as("PUT", "/conversations/"+id, map[string]any{"read": true}).fails(t, 404, "not_found")
		as("POST", "/conversations/"+id+"/tags", map[string]any{"id": tag, "admin_id": otherOwner.ID}).fails(t, 404, "not_found")
		as("POST", "/conversations", map[string]any{"from": map[string]any{"type": "user", "id": uid}, "body": "x"}).fails(t, 404, "not_found")
		as("POST", "/conversations/last/reply", map[string]any{"message_type": "comment", "type": "user", "intercom_user_id": uid, "body": "x"}).fails(t, 404, "not_found")

		if after := e.eventTopics(e.ws.ID); !slices.Equal(after, before) {
			t.Fatalf("refused requests appended %v", after[len(before):])
		}
		c := e.do("GET", "/conversations/"+id, nil).ok(t)
		if len(partsOf(t, c)) != 0 || c["state"] != "open" || c["read"] != false || len(c["custom_attributes"].(map[string]any)) != 0 {
			t.Fatalf("refused requests changed the conversation: %v", c)
		}
	})
}

func TestConversationTagsAndCustomers(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		owner := strconv.FormatInt(e.owner.ID, 10)
		uid := str(e.do("POST", "/contacts", map[string]any{"email": "ada@example.com"}).ok(t)["id"])
		lead := e.do("POST", "/contacts", map[string]any{"role": "lead", "email": "lead@example.com"}).ok(t)
		bob := str(e.do("POST", "/contacts", map[string]any{"external_id": "bob-1"}).ok(t)["id"])
		id := e.startConversation(uid, "help")
		tag := str(e.do("POST", "/tags", map[string]any{"name": "billing"}).ok(t)["id"])

		tg := e.do("POST", "/conversations/"+id+"/tags", map[string]any{"id": tag, "admin_id": owner}).ok(t)
		if tg["type"] != "tag" || tg["id"] != tag || tg["name"] != "billing" || tg["applied_at"] == nil || tg["applied_by"].(map[string]any)["id"] != owner {
			t.Fatalf("tagged: %v", tg)
		}
		e.do("POST", "/conversations/"+id+"/tags", map[string]any{"id": tag, "admin_id": owner}).ok(t) // twice: no change
		c := e.do("GET", "/conversations/"+id, nil).ok(t)
		if tags := c["tags"].(map[string]any)["tags"].([]any); len(tags) != 1 || tags[0].(map[string]any)["name"] != "billing" {
			t.Fatalf("conversation tags = %v", c["tags"])
		}
		if l := e.do("GET", "/conversations", nil).ok(t)["conversations"].([]any); len(l[0].(map[string]any)["tags"].(map[string]any)["tags"].([]any)) != 1 {
			t.Fatalf("listed tags = %v", l[0])
		}
		un := e.do("DELETE", "/conversations/"+id+"/tags/"+tag, map[string]any{"admin_id": owner}).ok(t)
		if un["id"] != tag || un["name"] != "billing" {
			t.Fatalf("untagged: %v", un)
		}
		if tags := e.do("GET", "/conversations/"+id, nil).ok(t)["tags"].(map[string]any)["tags"].([]any); len(tags) != 0 {
			t.Fatalf("tags after untag = %v", tags)
		}

		c = e.do("POST", "/conversations/"+id+"/customers", map[string]any{"admin_id": owner, "customer": map[string]any{"user_id": "bob-1"}}).ok(t)
		c = e.do("POST", "/conversations/"+id+"/customers", map[string]any{"admin_id": owner, "customer": map[string]any{"email": "lead@example.com"}}).ok(t)
		contacts := idsOf(t, c["contacts"].(map[string]any)["contacts"])
		if !slices.Equal(contacts, []string{uid, bob, str(lead["id"])}) {
			t.Fatalf("contacts = %v", contacts)
		}
		e.do("POST", "/conversations/"+id+"/customers", map[string]any{"admin_id": owner, "customer": map[string]any{"intercom_user_id": bob}}).ok(t) // again: no change
		// A participant added later can reply and find the conversation with "last".
		e.do("POST", "/conversations/last/reply", map[string]any{"message_type": "comment", "type": "user", "intercom_user_id": bob, "body": "me too"}).ok(t)
		c = e.do("DELETE", "/conversations/"+id+"/customers/"+uid, map[string]any{"admin_id": owner}).ok(t)
		if contacts := idsOf(t, c["contacts"].(map[string]any)["contacts"]); !slices.Equal(contacts, []string{bob, str(lead["id"])}) {
			t.Fatalf("after detach = %v", contacts)
		}
		var types []string
		for _, p := range partsOf(t, c) {
			types = append(types, str(p["part_type"]))
		}
		if !slices.Equal(types, []string{"participant_added", "participant_added", "comment", "participant_removed"}) {
			t.Fatalf("parts = %v", types)
		}
		var topics []string
		for _, tp := range e.eventTopics(e.ws.ID) {
			if len(tp) > 13 && tp[:13] == "conversation." {
				topics = append(topics, tp)
			}
		}
		want := []string{"conversation.user.created", "conversation.tag.created", "conversation.tag.deleted", "conversation.contact.attached",
			"conversation.contact.attached", "conversation.user.replied", "conversation.contact.detached"}
		if !slices.Equal(topics, want) {
			t.Fatalf("topics = %v", topics)
		}
	})
}

func TestConversationList(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		uid := str(e.do("POST", "/contacts", map[string]any{"email": "ada@example.com"}).ok(t)["id"])
		var created []string
		for i := range 25 {
			created = append(created, e.startConversation(uid, fmt.Sprintf("message %d", i)))
		}
		slices.Reverse(created) // newest first
		first := e.do("GET", "/conversations", nil).ok(t)
		if first["type"] != "conversation.list" || first["total_count"] != float64(25) || len(first["conversations"].([]any)) != 20 {
			t.Fatalf("default page: %v %v", first["total_count"], len(first["conversations"].([]any)))
		}
		if _, has := first["conversations"].([]any)[0].(map[string]any)["conversation_parts"]; has {
			t.Fatal("a listed conversation carries its parts")
		}
		var seen []string
		next := ""
		for page := 1; ; page++ {
			path := "/conversations?per_page=10"
			if next != "" {
				path += "&starting_after=" + next
			}
			r := e.do("GET", path, nil).ok(t)
			pages := r["pages"].(map[string]any)
			if pages["page"] != float64(page) || pages["total_pages"] != float64(3) || pages["per_page"] != float64(10) {
				t.Fatalf("page %d: %v", page, pages)
			}
			seen = append(seen, idsOf(t, r["conversations"])...)
			n, ok := pages["next"].(map[string]any)
			if !ok {
				break
			}
			next = str(n["starting_after"])
		}
		if !slices.Equal(seen, created) {
			t.Fatalf("paged ids %v, want %v", seen, created)
		}
	})
}

func TestConversationSnoozeThroughAPI(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		e.worker.Handle(snooze.Kind, snooze.Handler(store.NewConversations(e.db)))
		owner := strconv.FormatInt(e.owner.ID, 10)
		uid := str(e.do("POST", "/contacts", map[string]any{"email": "ada@example.com"}).ok(t)["id"])
		id := e.startConversation(uid, "help")
		replied := e.startConversation(uid, "other")

		until := time.Now().Unix() + 2
		c := e.do("POST", "/conversations/"+id+"/parts", map[string]any{"message_type": "snoozed", "admin_id": owner, "snoozed_until": until}).ok(t)
		if c["state"] != "snoozed" || c["open"] != true || c["snoozed_until"] != float64(until) || partsOf(t, c)[0]["part_type"] != "snoozed" {
			t.Fatalf("snoozed: %v", c)
		}
		// A contact's reply wakes a snoozed conversation at once; its timer then does nothing.
		e.do("POST", "/conversations/"+replied+"/parts", map[string]any{"message_type": "snoozed", "admin_id": owner, "snoozed_until": until}).ok(t)
		c = e.do("POST", "/conversations/"+replied+"/reply", map[string]any{"message_type": "comment", "type": "user", "intercom_user_id": uid, "body": "hello?"}).ok(t)
		if c["state"] != "open" || c["snoozed_until"] != nil {
			t.Fatalf("after contact reply: %v %v", c["state"], c["snoozed_until"])
		}

		for time.Now().Unix() <= until {
			time.Sleep(50 * time.Millisecond)
		}
		e.runImportJobs(t) // works any job queue until it is empty
		c = e.do("GET", "/conversations/"+id, nil).ok(t)
		if c["state"] != "open" || c["snoozed_until"] != nil || partsOf(t, c)[1]["part_type"] != "timer_unsnooze" {
			t.Fatalf("after the timer: %v %v %v", c["state"], c["snoozed_until"], partsOf(t, c))
		}
		if item := e.lastEventItem("conversation.admin.unsnoozed"); item["id"] != id || item["state"] != "open" {
			t.Fatalf("unsnoozed event item = %v", item)
		}
		if c := e.do("GET", "/conversations/"+replied, nil).ok(t); len(partsOf(t, c)) != 2 {
			t.Fatalf("the woken conversation's stale timer added parts: %v", partsOf(t, c))
		}
	})
}

// TestConversationConcurrentReplies: replies racing on one conversation
// are all kept, with exact counts and one event each.
func TestConversationConcurrentReplies(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		uid := str(e.do("POST", "/contacts", map[string]any{"email": "ada@example.com"}).ok(t)["id"])
		id := e.startConversation(uid, "help")
		const n = 16
		errs := make(chan string, n)
		for i := range n {
			go func() {
				body := map[string]any{"message_type": "comment", "type": "admin", "admin_id": e.owner.ID, "body": fmt.Sprint("reply ", i)}
				if i%2 == 1 {
					body = map[string]any{"message_type": "comment", "type": "user", "intercom_user_id": uid, "body": fmt.Sprint("reply ", i)}
				}
				r := e.doAs(e.token, "POST", "/conversations/"+id+"/reply", body, nil)
				if r.Status != 200 {
					errs <- string(r.Raw)
					return
				}
				errs <- ""
			}()
		}
		for range n {
			if msg := <-errs; msg != "" {
				t.Fatal(msg)
			}
		}
		c := e.do("GET", "/conversations/"+id, nil).ok(t)
		if len(partsOf(t, c)) != n || stat(c, "count_conversation_parts") != float64(n) {
			t.Fatalf("%d parts, count_conversation_parts %v, want %d", len(partsOf(t, c)), stat(c, "count_conversation_parts"), n)
		}
		replies := 0
		for _, tp := range e.eventTopics(e.ws.ID) {
			if tp == "conversation.admin.replied" || tp == "conversation.user.replied" {
				replies++
			}
		}
		if replies != n {
			t.Fatalf("%d reply events, want %d", replies, n)
		}
	})
}
