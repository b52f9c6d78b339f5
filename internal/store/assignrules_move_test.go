package store_test

import (
	"context"
	"encoding/json"
	"slices"
	"testing"

	"github.com/parleyhq/parley/internal/assign"
	"github.com/parleyhq/parley/internal/store"
	"github.com/parleyhq/parley/internal/testdb"
)

// Move renumbers the rules 1…n in their new order, with an
// assignment_rule.updated event for each rule whose priority changed and
// nothing for the others; moves past either end stay at the end; another
// workspace's rule is missing and unchanged.
func TestAssignmentRulesMove(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		ws, other := newWorkspace(t, db, "acme"), newWorkspace(t, db, "other")
		admin := newAdmin(t, db, ws, "ann")
		rules := store.NewAssignmentRules(db)
		var ids []int64
		for _, p := range []int{5, 5, 20} { // equal priorities are tried by id
			r := &assign.Rule{WorkspaceID: ws.ID, Name: "r", Priority: p, AdminID: admin, Condition: json.RawMessage(`{"field":"source.body","operator":"~","value":"x"}`)}
			if err := rules.Create(ctx, r); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, r.ID)
		}
		order := func() ([]int64, []int) {
			t.Helper()
			list, err := rules.List(ctx, ws.ID)
			if err != nil {
				t.Fatal(err)
			}
			var got []int64
			var prio []int
			for _, r := range list {
				got, prio = append(got, r.ID), append(prio, r.Priority)
			}
			return got, prio
		}
		before := len(topics(t, db, ws.ID))
		if err := rules.Move(ctx, ws.ID, ids[2], -1); err != nil {
			t.Fatal(err)
		}
		if got, prio := order(); !slices.Equal(got, []int64{ids[0], ids[2], ids[1]}) || !slices.Equal(prio, []int{1, 2, 3}) {
			t.Fatalf("after moving the last up: %v %v", got, prio)
		}
		if got := topics(t, db, ws.ID)[before:]; len(got) != 3 {
			t.Fatalf("events: %v", got) // 5→1, 5→3, 20→2
		}
		before = len(topics(t, db, ws.ID))
		if err := rules.Move(ctx, ws.ID, ids[0], -1); err != nil {
			t.Fatal(err)
		}
		if got, _ := order(); !slices.Equal(got, []int64{ids[0], ids[2], ids[1]}) {
			t.Fatalf("moving the first up changed the order: %v", got)
		}
		if got := topics(t, db, ws.ID)[before:]; len(got) != 0 {
			t.Fatalf("a move that changes nothing appended %v", got)
		}
		if err := rules.Move(ctx, ws.ID, ids[0], 1); err != nil {
			t.Fatal(err)
		}
		if got, _ := order(); !slices.Equal(got, []int64{ids[2], ids[0], ids[1]}) {
			t.Fatalf("after moving the first down: %v", got)
		}
		if err := rules.Move(ctx, other.ID, ids[0], 1); !store.IsMissing(err, "assignment_rule") {
			t.Fatalf("another workspace's move: %v", err)
		}
		if got, _ := order(); !slices.Equal(got, []int64{ids[2], ids[0], ids[1]}) {
			t.Fatalf("another workspace's move changed the order: %v", got)
		}
	})
}
