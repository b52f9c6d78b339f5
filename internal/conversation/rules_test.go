package conversation

import (
	"encoding/json"
	"slices"
	"testing"
)

func val(p *int64) int64 {
	if p == nil {
		return -1
	}
	return *p
}

// TestStatistics follows one conversation with chosen times and checks
// every statistic a report would read.
func TestStatistics(t *testing.T) {
	name := "Ada"
	user := Author{Type: AuthorUser, ID: "c1", Name: &name}
	admin := Author{Type: AuthorAdmin, ID: "7"}
	c, _ := NewFromContact("ws", user, "c1", nil, "<p>hi</p>", "", nil, 100)
	must := func(ch *Change, err error) *Change {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return ch
	}
	must(c.Assign(admin, "admin", 7, "", 120))
	must(c.AdminReply(admin, PartComment, "<p>hello</p>", nil, nil, 160))
	must(c.AdminReply(admin, PartNote, "<p>note</p>", nil, nil, 170)) // a note answers nobody
	must(c.ContactReply(user, "<p>more</p>", nil, 200))
	must(c.ContactReply(user, "<p>and more</p>", nil, 250)) // still waiting since 200
	if val(c.WaitingSince) != 200 {
		t.Fatalf("waiting_since = %d, want 200", val(c.WaitingSince))
	}
	must(c.AdminReply(admin, PartComment, "<p>ok</p>", nil, nil, 300))
	must(c.ContactReply(user, "<p>?</p>", nil, 400))
	must(c.AdminReply(admin, PartQuickReply, "", []QuickReplyOption{{Text: "Yes", UUID: "u1"}}, nil, 410))
	must(c.Close(admin, "", 500))
	if ch := must(c.Close(admin, "", 550)); !ch.Empty() {
		t.Fatal("closing a closed conversation changed it")
	}
	must(c.ContactReply(user, "<p>back</p>", nil, 600)) // reopens
	must(c.Close(admin, "", 700))

	s := c.Stats
	checks := []struct {
		name      string
		got, want int64
	}{
		{"time_to_assignment", val(s.TimeToAssignment), 20},
		{"first_assignment_at", val(s.FirstAssignmentAt), 120},
		{"time_to_admin_reply", val(s.TimeToAdminReply), 60},
		{"first_admin_reply_at", val(s.FirstAdminReplyAt), 160},
		{"last_assignment_admin_reply_at", val(s.LastAssignmentAdminReplyAt), 160},
		{"last_admin_reply_at", val(s.LastAdminReplyAt), 410},
		{"median_time_to_reply", val(s.MedianTimeToReply), 60}, // waits 60, 100, 10
		{"first_contact_reply_at", val(s.FirstContactReplyAt), 100},
		{"last_contact_reply_at", val(s.LastContactReplyAt), 600},
		{"first_close_at", val(s.FirstCloseAt), 500},
		{"time_to_first_close", val(s.TimeToFirstClose), 400},
		{"last_close_at", val(s.LastCloseAt), 700},
		{"time_to_last_close", val(s.TimeToLastClose), 600},
		{"last_closed_by_id", val(s.LastClosedByID), 7},
		{"count_reopens", int64(s.CountReopens), 1},
		{"count_assignments", int64(s.CountAssignments), 1},
		{"count_conversation_parts", int64(s.CountConversationParts), 11},
	}
	for _, ch := range checks {
		if ch.got != ch.want {
			t.Errorf("%s = %d, want %d", ch.name, ch.got, ch.want)
		}
	}
	if c.State != StateClosed || c.WaitingSince != nil || !slices.Equal(c.Teammates, []int64{7}) {
		t.Fatalf("state %s waiting_since %v teammates %v", c.State, c.WaitingSince, c.Teammates)
	}
	if median([]int64{4, 1, 3, 2}) != 2 || median([]int64{5}) != 5 {
		t.Fatal("median")
	}
}

func TestRenderVersions(t *testing.T) {
	c, _ := NewFromContact("ws", Author{Type: AuthorLead, ID: "c1"}, "c1", nil, "<p>a &amp; b</p><p>c<br>d</p>", "", nil, 100)
	c.ID = 42
	render := func(v View) map[string]any {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	m := render(View{C: c})
	if m["priority"] != "not_priority" || m["admin_assignee_id"] != nil || m["id"] != "42" || m["conversation_parts"] != nil {
		t.Fatalf("2.14: %v %v %v", m["priority"], m["admin_assignee_id"], m["conversation_parts"])
	}
	if _, has := m["statistics"].(map[string]any)["reply_times"]; has {
		t.Fatal("reply_times leaked into statistics")
	}
	p, _ := ParsePriority("priority")
	c.Priority = p
	m = render(View{C: c, V216: true, Plaintext: true, Parts: true})
	if m["priority"] != "high" || m["admin_assignee_id"] != float64(0) || m["source"].(map[string]any)["body"] != "a & b\nc\nd" {
		t.Fatalf("2.16 plaintext: %v %v %q", m["priority"], m["admin_assignee_id"], m["source"].(map[string]any)["body"])
	}
	if render(View{C: c})["priority"] != "priority" {
		t.Fatal("a high priority shows as priority in 2.14")
	}
	if _, ok := ParsePriority("very"); ok {
		t.Fatal("unknown priority accepted")
	}
}
