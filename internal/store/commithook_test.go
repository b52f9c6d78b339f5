package store_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/parleyhq/parley/internal/eventlog"
	"github.com/parleyhq/parley/internal/store"
	"github.com/parleyhq/parley/internal/testdb"
)

// The commit hook announces exactly what committed: the last sequence of
// each workspace a successful transaction appended to, and nothing of a
// transaction (or a group-commit member) that rolled back.
func TestOnCommitAnnouncesCommittedSequences(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		a, b := newWorkspace(t, db, "a"), newWorkspace(t, db, "b")
		var mu sync.Mutex
		announced := map[string]int64{}
		calls := 0
		db.OnCommit(func(last map[string]int64) {
			mu.Lock()
			defer mu.Unlock()
			calls++
			for ws, seq := range last {
				announced[ws] = max(announced[ws], seq)
			}
		})
		headA, _ := eventlog.Head(ctx, db.Read(), a.ID)
		headB, _ := eventlog.Head(ctx, db.Read(), b.ID)

		// One transaction touching two workspaces.
		if err := db.InTx(ctx, func(tx *store.Tx) error {
			for range 3 {
				if _, err := eventlog.Append(ctx, tx, a.ID, "test.a", map[string]int{}); err != nil {
					return err
				}
			}
			return eventlog.AppendMany(ctx, tx, b.ID, []eventlog.Entry{{Topic: "test.b", Item: 1}, {Topic: "test.b", Item: 2}})
		}); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		if announced[a.ID] != headA+3 || announced[b.ID] != headB+2 {
			t.Fatalf("announced %v, want %s→%d and %s→%d", announced, a.ID, headA+3, b.ID, headB+2)
		}
		before := calls
		mu.Unlock()

		// A rolled-back transaction announces nothing; a transaction with no
		// events announces nothing.
		boom := errors.New("boom")
		if err := db.InTx(ctx, func(tx *store.Tx) error {
			_, _ = eventlog.Append(ctx, tx, a.ID, "test.a", 1)
			return boom
		}); !errors.Is(err, boom) {
			t.Fatal(err)
		}
		if err := db.InTx(ctx, func(tx *store.Tx) error { return nil }); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		if calls != before || announced[a.ID] != headA+3 {
			t.Fatalf("rollback or empty commit announced: calls %d→%d, %v", before, calls, announced)
		}
		mu.Unlock()

		// Concurrent writers (group commit): failing members are not
		// announced; the final announcement equals the log's head.
		var wg sync.WaitGroup
		for i := range 40 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_ = db.InTx(ctx, func(tx *store.Tx) error {
					if _, err := eventlog.Append(ctx, tx, a.ID, "test.a", i); err != nil {
						return err
					}
					if i%3 == 0 {
						return boom
					}
					return nil
				})
			}()
		}
		wg.Wait()
		head, err := eventlog.Head(ctx, db.Read(), a.ID)
		if err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		defer mu.Unlock()
		if head != headA+3+26 || announced[a.ID] != head {
			t.Fatalf("after concurrent writes head %d (want %d), announced %d", head, headA+3+26, announced[a.ID])
		}
	})
}
