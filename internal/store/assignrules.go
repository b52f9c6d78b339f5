package store

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/parleyhq/parley/internal/assign"
	"github.com/parleyhq/parley/internal/eventlog"
)

// AssignmentRules stores assignment rules (package assign). Conditions are
// validated by the caller against assign.Schema; the store checks that the
// target team or admin belongs to the workspace.
type AssignmentRules struct{ db *DB }

// NewAssignmentRules returns the assignment rule store.
func NewAssignmentRules(db *DB) *AssignmentRules { return &AssignmentRules{db: db} }

const ruleCols = `workspace_id, id, name, priority, condition, team_id, admin_id, created_at, updated_at`

func scanRule(row interface{ Scan(...any) error }) (*assign.Rule, error) {
	r := &assign.Rule{}
	var cond string
	var teamID, adminID *int64
	if err := row.Scan(&r.WorkspaceID, &r.ID, &r.Name, &r.Priority, &cond, &teamID, &adminID, &r.CreatedAt, &r.UpdatedAt); err != nil {
		return nil, mapErr(err)
	}
	r.Condition = json.RawMessage(cond)
	if teamID != nil {
		r.TeamID = *teamID
	}
	if adminID != nil {
		r.AdminID = *adminID
	}
	return r, nil
}

// rulesIn loads the workspace's rules in the order they are tried; id 0
// loads all of them, another id that one rule (a *MissingError
// "assignment_rule" when there is none).
func rulesIn(ctx context.Context, r Runner, workspaceID string, id int64) ([]*assign.Rule, error) {
	q, args := `SELECT `+ruleCols+` FROM assignment_rules WHERE workspace_id = ?`, []any{workspaceID}
	if id != 0 {
		q += ` AND id = ?`
		args = append(args, id)
	}
	rows, err := r.Query(ctx, q+` ORDER BY priority, id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*assign.Rule{}
	for rows.Next() {
		rule, err := scanRule(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, rule)
	}
	if err := rows.Err(); err != nil {
		return nil, mapErr(err)
	}
	if id != 0 && len(out) == 0 {
		return nil, &MissingError{Kind: "assignment_rule"}
	}
	return out, nil
}

// List returns the workspace's rules by priority, then id.
func (s *AssignmentRules) List(ctx context.Context, workspaceID string) ([]*assign.Rule, error) {
	return rulesIn(ctx, s.db.Read(), workspaceID, 0)
}

// Get returns one rule.
func (s *AssignmentRules) Get(ctx context.Context, workspaceID string, id int64) (*assign.Rule, error) {
	if id <= 0 {
		return nil, &MissingError{Kind: "assignment_rule"}
	}
	rs, err := rulesIn(ctx, s.db.Read(), workspaceID, id)
	if err != nil {
		return nil, err
	}
	return rs[0], nil
}

// Schema returns the workspace's rule-condition schema.
func (s *AssignmentRules) Schema(ctx context.Context, workspaceID string) (*assign.Schema, error) {
	return assignSchema(ctx, s.db.Read(), workspaceID)
}

// checkTarget makes sure the rule's team or admin is the workspace's.
func checkTarget(ctx context.Context, tx *Tx, r *assign.Rule) error {
	table, kind, id := "teams", "team", r.TeamID
	if r.AdminID != 0 {
		table, kind, id = "admins", "admin", r.AdminID
	}
	var n int
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM `+table+` WHERE workspace_id = ? AND id = ?`, r.WorkspaceID, id).Scan(&n); err != nil {
		return mapErr(err)
	}
	if n == 0 {
		return &MissingError{Kind: kind}
	}
	return nil
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// Create stores a new rule and appends assignment_rule.created. A rule
// without a priority (0) comes after every existing one; priorities start
// at 1 and need not be unique (equal ones are tried by id).
func (s *AssignmentRules) Create(ctx context.Context, r *assign.Rule) error {
	now := time.Now().Unix()
	r.CreatedAt, r.UpdatedAt = now, now
	return s.db.InTx(ctx, func(tx *Tx) error {
		if err := checkTarget(ctx, tx, r); err != nil {
			return err
		}
		if r.Priority == 0 {
			if err := tx.QueryRow(ctx, `SELECT COALESCE(MAX(priority), 0) + 1 FROM assignment_rules WHERE workspace_id = ?`, r.WorkspaceID).Scan(&r.Priority); err != nil {
				return mapErr(err)
			}
		}
		err := tx.QueryRow(ctx, `INSERT INTO assignment_rules (workspace_id, name, priority, condition, team_id, admin_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			r.WorkspaceID, r.Name, r.Priority, string(r.Condition), nullID(r.TeamID), nullID(r.AdminID), now, now).Scan(&r.ID)
		if err != nil {
			return mapErr(err)
		}
		_, err = eventlog.Append(ctx, tx, r.WorkspaceID, "assignment_rule.created", r)
		return err
	})
}

// Update applies change to a rule in one transaction, stores it and
// appends assignment_rule.updated.
func (s *AssignmentRules) Update(ctx context.Context, workspaceID string, id int64, change func(r *assign.Rule) error) (*assign.Rule, error) {
	var r *assign.Rule
	err := s.db.InTx(ctx, func(tx *Tx) error {
		rs, err := rulesIn(ctx, tx, workspaceID, id)
		if err != nil {
			return err
		}
		r = rs[0]
		if err := change(r); err != nil {
			return err
		}
		if err := checkTarget(ctx, tx, r); err != nil {
			return err
		}
		r.UpdatedAt = time.Now().Unix()
		if _, err := tx.Exec(ctx, `UPDATE assignment_rules SET name = ?, priority = ?, condition = ?, team_id = ?, admin_id = ?, updated_at = ? WHERE workspace_id = ? AND id = ?`,
			r.Name, r.Priority, string(r.Condition), nullID(r.TeamID), nullID(r.AdminID), r.UpdatedAt, workspaceID, id); err != nil {
			return err
		}
		_, err = eventlog.Append(ctx, tx, workspaceID, "assignment_rule.updated", r)
		return err
	})
	return r, err
}

// Delete removes a rule and appends assignment_rule.deleted.
func (s *AssignmentRules) Delete(ctx context.Context, workspaceID string, id int64) error {
	return s.db.InTx(ctx, func(tx *Tx) error {
		rs, err := rulesIn(ctx, tx, workspaceID, id)
		if err != nil {
			return err
		}
		res, err := tx.Exec(ctx, `DELETE FROM assignment_rules WHERE workspace_id = ? AND id = ?`, workspaceID, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errors.New("assignment rule vanished inside its transaction")
		}
		_, err = eventlog.Append(ctx, tx, workspaceID, "assignment_rule.deleted", rs[0])
		return err
	})
}
