package store_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/store"
	"github.com/parleyhq/parley/internal/testdb"
)

// The inbox's counts (conversation_counts, kept by triggers) equal a count
// of the conversations themselves after random creations, state and
// assignment changes and deletions in two workspaces — whatever wrote them.
func TestInboxCounts(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		convs := store.NewConversations(db)
		wss := []string{newWorkspace(t, db, "counts-a").ID, newWorkspace(t, db, "counts-b").ID}
		rng := rand.New(rand.NewPCG(1, 2))
		states := []string{"open", "closed", "snoozed"}
		assignee := func() any {
			if rng.IntN(3) == 0 {
				return nil
			}
			return int64(1 + rng.IntN(4))
		}
		var ids []int64
		for step := range 600 {
			ws := wss[rng.IntN(2)]
			err := db.InTx(ctx, func(tx *store.Tx) error {
				switch op := rng.IntN(10); {
				case op < 4 || len(ids) == 0:
					var id int64
					err := tx.QueryRow(ctx, `INSERT INTO conversations (workspace_id, state, admin_assignee_id, team_assignee_id, created_at, updated_at,
 source_type, source_delivered_as, source_author) VALUES (?, ?, ?, ?, ?, ?, 'conversation', 'customer_initiated', '{}') RETURNING id`,
						ws, states[rng.IntN(3)], assignee(), assignee(), time.Now().Unix(), time.Now().Unix()).Scan(&id)
					ids = append(ids, id)
					return err
				case op < 9:
					// An update of one, two or all three columns, or of none
					// that count (the trigger must not fire twice).
					id := ids[rng.IntN(len(ids))]
					switch rng.IntN(4) {
					case 0:
						_, err := tx.Exec(ctx, `UPDATE conversations SET state = ? WHERE id = ?`, states[rng.IntN(3)], id)
						return err
					case 1:
						_, err := tx.Exec(ctx, `UPDATE conversations SET admin_assignee_id = ?, team_assignee_id = ? WHERE id = ?`, assignee(), assignee(), id)
						return err
					case 2:
						_, err := tx.Exec(ctx, `UPDATE conversations SET state = ?, admin_assignee_id = ?, team_assignee_id = ?, updated_at = ? WHERE id = ?`,
							states[rng.IntN(3)], assignee(), assignee(), step, id)
						return err
					default:
						_, err := tx.Exec(ctx, `UPDATE conversations SET priority = 'high', updated_at = ? WHERE id = ?`, step, id)
						return err
					}
				default:
					i := rng.IntN(len(ids))
					_, err := tx.Exec(ctx, `DELETE FROM conversations WHERE id = ?`, ids[i])
					ids = slices.Delete(ids, i, i+1)
					return err
				}
			})
			if err != nil {
				t.Fatalf("step %d: %v", step, err)
			}
		}
		for _, ws := range wss {
			got, err := convs.InboxCounts(ctx, ws)
			if err != nil {
				t.Fatal(err)
			}
			rows, err := db.Read().Query(ctx, `SELECT state, coalesce(admin_assignee_id, 0), coalesce(team_assignee_id, 0), count(*) FROM conversations
 WHERE workspace_id = ? GROUP BY 1, 2, 3`, ws)
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]int{}
			total := 0
			for rows.Next() {
				var c store.InboxCount
				if err := rows.Scan(&c.State, &c.AdminID, &c.TeamID, &c.N); err != nil {
					t.Fatal(err)
				}
				want[fmt.Sprint(c.State, c.AdminID, c.TeamID)] = c.N
				total += c.N
			}
			rows.Close()
			gotMap := map[string]int{}
			for _, c := range got {
				gotMap[fmt.Sprint(c.State, c.AdminID, c.TeamID)] = c.N
			}
			if fmt.Sprint(gotMap) != fmt.Sprint(want) {
				t.Errorf("workspace %s: counts %v, conversations %v", ws, gotMap, want)
			}
			if total < 50 {
				t.Errorf("workspace %s: only %d conversations: the test did too little", ws, total)
			}
		}
	})
}
