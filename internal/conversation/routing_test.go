package conversation

import (
	"encoding/json"
	"slices"
	"testing"
	"time"
)

// TestRoute checks the assignment part and statistics of routing, and that
// routing to where a conversation already is changes nothing.
func TestRoute(t *testing.T) {
	user := Author{Type: AuthorUser, ID: "c1"}
	c, _ := NewFromContact("ws", user, "c1", nil, "<p>hi</p>", "", nil, 100)
	if c.HeldBy() != 0 || c.WaitingInTeam() != 0 {
		t.Fatalf("new conversation held by %d, waiting in %d", c.HeldBy(), c.WaitingInTeam())
	}
	ch := c.Route(Operator, 5, 0, 130)
	if !slices.Equal(ch.Topics, []string{"conversation.admin.assigned"}) || len(ch.Parts) != 1 {
		t.Fatalf("change %+v", ch)
	}
	p := ch.Parts[0]
	if p.Type != PartAssignment || p.Author.Type != AuthorBot || *p.AssignedTo != (Ref{Type: "team", ID: "5"}) {
		t.Fatalf("part %+v", p)
	}
	if c.WaitingInTeam() != 5 || c.HeldBy() != 0 || val(c.Stats.TimeToAssignment) != 30 || c.Stats.CountAssignments != 1 {
		t.Fatalf("after team routing: waiting %d, held %d, stats %+v", c.WaitingInTeam(), c.HeldBy(), c.Stats)
	}
	if ch := c.Route(Operator, 5, 0, 140); !ch.Empty() {
		t.Fatalf("routing to the same place changed %+v", ch)
	}
	ch = c.Route(Operator, 5, 9, 150)
	if *ch.Parts[0].AssignedTo != (Ref{Type: "admin", ID: "9"}) || c.HeldBy() != 9 || c.WaitingInTeam() != 0 || c.Stats.CountAssignments != 2 {
		t.Fatalf("after teammate routing %+v %+v", ch.Parts[0], c.Stats)
	}
	// Closed or snoozed conversations count against nobody.
	if _, err := c.Close(Author{Type: AuthorAdmin, ID: "9"}, "", 160); err != nil {
		t.Fatal(err)
	}
	if c.HeldBy() != 0 {
		t.Fatal("a closed conversation is still held")
	}
	// Unassigning records a part without an assignee and no statistic.
	ch = c.Route(Operator, 0, 0, 170)
	if ch.Parts[0].AssignedTo != nil || c.TeamAssigneeID != nil || c.AdminAssigneeID != nil || c.Stats.CountAssignments != 2 {
		t.Fatalf("unassigning %+v %+v", ch.Parts[0], c)
	}
}

func TestAttributeCheck(t *testing.T) {
	list := &Attribute{Name: "plan", DataType: AttrList, Options: []AttrOption{{ID: "1", Label: "free"}, {ID: "2", Label: "old", Archived: true}}}
	for _, c := range []struct {
		a    *Attribute
		in   any
		want any // nil: refused
	}{
		{&Attribute{Name: "s", DataType: AttrString}, "x", "x"},
		{&Attribute{Name: "s", DataType: AttrString}, int64(1), nil},
		{&Attribute{Name: "i", DataType: AttrInteger}, json.Number("12"), int64(12)},
		{&Attribute{Name: "i", DataType: AttrInteger}, json.Number("1.5"), nil},
		{&Attribute{Name: "i", DataType: AttrInteger}, "12", nil},
		{&Attribute{Name: "d", DataType: AttrDecimal}, json.Number("2"), 2.0},
		{&Attribute{Name: "d", DataType: AttrDecimal}, json.Number("2.5"), 2.5},
		{&Attribute{Name: "d", DataType: AttrDecimal}, true, nil},
		{&Attribute{Name: "b", DataType: AttrBoolean}, false, false},
		{&Attribute{Name: "b", DataType: AttrBoolean}, "true", nil},
		{&Attribute{Name: "t", DataType: AttrDatetime}, int64(1700000000), int64(1700000000)},
		{&Attribute{Name: "t", DataType: AttrDatetime}, int64(-5), nil},
		{&Attribute{Name: "t", DataType: AttrDatetime}, "2024-01-01", nil},
		{list, "free", "free"},
		{list, "old", nil},
		{list, "gold", nil},
	} {
		got, err := c.a.Check(c.in)
		if c.want == nil {
			if err == nil {
				t.Errorf("%s %v: accepted as %v", c.a.DataType, c.in, got)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%s %v: got %v (%T), %v; want %v (%T)", c.a.DataType, c.in, got, got, err, c.want, c.want)
		}
	}
}

func TestSchemaFields(t *testing.T) {
	attrs := []*Attribute{{Name: "seats", DataType: AttrInteger}, {Name: "gone", DataType: AttrString, Archived: true}}
	s := NewSchema(time.UTC, attrs, false)
	for _, name := range []string{"custom_attributes.seats", "priority", "statistics.count_reopens", "contact_ids", "ai_agent.rating"} {
		if _, err := s.Field(name); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	for _, name := range []string{"custom_attributes.gone", "custom_attributes.nope", "segment_id", "nope", "statistics.reply_times"} {
		if _, err := s.Field(name); err == nil {
			t.Errorf("%s accepted", name)
		}
	}
	if _, err := s.Sortable("tag_ids"); err == nil {
		t.Error("sorted by a multi-valued field")
	}
	if f, err := s.Sortable("id"); err != nil || f.Expr[0] != "cv.id" {
		t.Errorf("id sorts by %v, %v", f.Expr, err)
	}
}
