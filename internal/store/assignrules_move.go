package store

import (
	"context"
	"time"

	"github.com/parleyhq/parley/internal/assign"
	"github.com/parleyhq/parley/internal/eventlog"
)

// Move moves a rule by delta places in the order rules are tried (-1: one
// earlier, +1: one later; clamped to the list) in one transaction: the
// rules are renumbered 1…n in their new order, and every rule whose
// priority changes is saved and gets its assignment_rule.updated event,
// as an update through the API would.
func (s *AssignmentRules) Move(ctx context.Context, workspaceID string, id int64, delta int) error {
	return s.db.InTx(ctx, func(tx *Tx) error {
		if _, err := rulesIn(ctx, tx, workspaceID, id); err != nil {
			return err
		}
		rules, err := rulesIn(ctx, tx, workspaceID, 0)
		if err != nil {
			return err
		}
		from := 0
		for i, r := range rules {
			if r.ID == id {
				from = i
			}
		}
		to := min(max(from+delta, 0), len(rules)-1)
		r := rules[from]
		rules = append(rules[:from], rules[from+1:]...)
		rules = append(rules[:to], append([]*assign.Rule{r}, rules[to:]...)...)
		now := time.Now().Unix()
		for i, r := range rules {
			if r.Priority == i+1 {
				continue
			}
			r.Priority, r.UpdatedAt = i+1, now
			if _, err := tx.Exec(ctx, `UPDATE assignment_rules SET priority = ?, updated_at = ? WHERE workspace_id = ? AND id = ?`,
				r.Priority, r.UpdatedAt, workspaceID, r.ID); err != nil {
				return err
			}
			if _, err := eventlog.Append(ctx, tx, workspaceID, "assignment_rule.updated", r); err != nil {
				return err
			}
		}
		return nil
	})
}
