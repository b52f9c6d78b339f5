package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/parleyhq/parley/internal/assign"
	"github.com/parleyhq/parley/internal/attribute"
	"github.com/parleyhq/parley/internal/eventlog"
	"github.com/parleyhq/parley/internal/query"
	"github.com/parleyhq/parley/internal/team"
	"github.com/parleyhq/parley/internal/workspace"
)

// Teams stores teams, their members and teammates' away mode, and runs the
// assignment engine (package assign) on stored state.
type Teams struct {
	db    *DB
	inbox func(tx *Tx) assign.Inbox
}

// NewTeams returns the team store. Its engine reaches the conversations of
// the same database (WithInbox replaces them).
func NewTeams(db *DB) *Teams {
	conversations := NewConversations(db)
	return &Teams{db: db, inbox: func(tx *Tx) assign.Inbox { return convInbox{s: conversations, tx: tx} }}
}

// WithInbox sets how the engine reaches conversations inside a write
// transaction (open counts, waiting conversations, assigning).
func (s *Teams) WithInbox(inbox func(tx *Tx) assign.Inbox) *Teams {
	s.inbox = inbox
	return s
}

// Engine returns the assignment engine bound to tx: its decisions, the
// round-robin cursor and the assignments' events commit with tx.
func (s *Teams) Engine(tx *Tx) *assign.Engine {
	return &assign.Engine{Store: txAssignState{tx: tx}, Inbox: s.inbox(tx)}
}

// TeamInUseError refuses to delete a team that assignment rules send
// conversations to.
type TeamInUseError struct{ Rules []string }

func (e *TeamInUseError) Error() string {
	return "Unable to delete a team that assignment rules use. Rules: " + strings.Join(e.Rules, ", ") + "."
}

const teamCols = `workspace_id, id, name, distribution, assignment_limit, created_at, updated_at`

func scanTeam(row interface{ Scan(...any) error }) (*team.Team, error) {
	t := &team.Team{}
	var limit *int64
	var dist string
	if err := row.Scan(&t.WorkspaceID, &t.ID, &t.Name, &dist, &limit, &t.CreatedAt, &t.UpdatedAt); err != nil {
		return nil, mapErr(err)
	}
	t.Distribution = team.Distribution(dist)
	if limit != nil {
		t.AssignmentLimit = int(*limit)
	}
	return t, nil
}

// teamsIn loads teams with their members; teamID 0 loads all of the
// workspace's teams, in id order.
func teamsIn(ctx context.Context, r Runner, workspaceID string, teamID int64) ([]*team.Team, error) {
	q, args := `SELECT `+teamCols+` FROM teams WHERE workspace_id = ?`, []any{workspaceID}
	mq := `SELECT team_id, admin_id, secondary FROM team_members WHERE workspace_id = ?`
	if teamID != 0 {
		q += ` AND id = ?`
		mq += ` AND team_id = ?`
		args = append(args, teamID)
	}
	rows, err := r.Query(ctx, q+` ORDER BY id`, args...)
	if err != nil {
		return nil, err
	}
	out := []*team.Team{}
	byID := map[int64]*team.Team{}
	for rows.Next() {
		t, err := scanTeam(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, t)
		byID[t.ID] = t
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, mapErr(err)
	}
	if teamID != 0 && len(out) == 0 {
		return nil, &MissingError{Kind: "team"}
	}
	rows, err = r.Query(ctx, mq+` ORDER BY team_id, admin_id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var tid int64
		var m team.Member
		if err := rows.Scan(&tid, &m.AdminID, &m.Secondary); err != nil {
			return nil, mapErr(err)
		}
		if t := byID[tid]; t != nil {
			t.Members = append(t.Members, m)
		}
	}
	return out, mapErr(rows.Err())
}

func teamIn(ctx context.Context, r Runner, workspaceID string, id int64) (*team.Team, error) {
	ts, err := teamsIn(ctx, r, workspaceID, id)
	if err != nil {
		return nil, err
	}
	return ts[0], nil
}

// List returns the workspace's teams in id order.
func (s *Teams) List(ctx context.Context, workspaceID string) ([]*team.Team, error) {
	return teamsIn(ctx, s.db.Read(), workspaceID, 0)
}

// Get returns a team; a *MissingError "team" when there is none.
func (s *Teams) Get(ctx context.Context, workspaceID string, id int64) (*team.Team, error) {
	if id <= 0 {
		return nil, &MissingError{Kind: "team"}
	}
	return teamIn(ctx, s.db.Read(), workspaceID, id)
}

func nameConflict(err error, name string) error {
	if errors.Is(err, ErrConflict) {
		return &ConflictError{Message: "A team named " + name + " already exists"}
	}
	return err
}

// writeMembers replaces a team's members; every one must be an admin of the
// workspace (a *MissingError "admin" otherwise).
func writeMembers(ctx context.Context, tx *Tx, t *team.Team) error {
	for _, m := range t.Members {
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM admins WHERE workspace_id = ? AND id = ?`, t.WorkspaceID, m.AdminID).Scan(&n); err != nil {
			return mapErr(err)
		}
		if n == 0 {
			return &MissingError{Kind: "admin"}
		}
	}
	if _, err := tx.Exec(ctx, `DELETE FROM team_members WHERE workspace_id = ? AND team_id = ?`, t.WorkspaceID, t.ID); err != nil {
		return err
	}
	for _, m := range t.Members {
		if _, err := tx.Exec(ctx, `INSERT INTO team_members (workspace_id, team_id, admin_id, secondary) VALUES (?, ?, ?, ?)`,
			t.WorkspaceID, t.ID, m.AdminID, m.Secondary); err != nil {
			return err
		}
	}
	return nil
}

func limitArg(n int) any {
	if n <= 0 {
		return nil
	}
	return n
}

// Create stores a new team (validated by the caller) with its members and
// appends team.created.
func (s *Teams) Create(ctx context.Context, t *team.Team) error {
	now := time.Now().Unix()
	t.CreatedAt, t.UpdatedAt = now, now
	return s.db.InTx(ctx, func(tx *Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO teams (workspace_id, name, distribution, assignment_limit, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
			t.WorkspaceID, t.Name, string(t.Distribution), limitArg(t.AssignmentLimit), now, now).Scan(&t.ID)
		if err != nil {
			return nameConflict(mapErr(err), t.Name)
		}
		if err := writeMembers(ctx, tx, t); err != nil {
			return err
		}
		_, err = eventlog.Append(ctx, tx, t.WorkspaceID, "team.created", t)
		return err
	})
}

// Update applies change to a team in one transaction, stores it, appends
// team.updated and hands the team's waiting conversations out if the
// change made room (members, limit or distribution).
func (s *Teams) Update(ctx context.Context, workspaceID string, id int64, change func(t *team.Team) error) (*team.Team, error) {
	var t *team.Team
	err := s.db.InTx(ctx, func(tx *Tx) (err error) {
		if t, err = teamIn(ctx, tx, workspaceID, id); err != nil {
			return err
		}
		if err := change(t); err != nil {
			return err
		}
		t.UpdatedAt = time.Now().Unix()
		if _, err := tx.Exec(ctx, `UPDATE teams SET name = ?, distribution = ?, assignment_limit = ?, updated_at = ? WHERE workspace_id = ? AND id = ?`,
			t.Name, string(t.Distribution), limitArg(t.AssignmentLimit), t.UpdatedAt, workspaceID, id); err != nil {
			return nameConflict(err, t.Name)
		}
		if err := writeMembers(ctx, tx, t); err != nil {
			return err
		}
		if _, err := eventlog.Append(ctx, tx, workspaceID, "team.updated", t); err != nil {
			return err
		}
		_, err = s.Engine(tx).Rebalance(ctx, workspaceID, id)
		return err
	})
	return t, err
}

// Delete removes a team and its memberships and appends team.deleted.
// A team that assignment rules use is refused (*TeamInUseError).
func (s *Teams) Delete(ctx context.Context, workspaceID string, id int64) error {
	return s.db.InTx(ctx, func(tx *Tx) error {
		t, err := teamIn(ctx, tx, workspaceID, id)
		if err != nil {
			return err
		}
		rules, err := rulesUsing(ctx, tx, workspaceID, "team_id", id)
		if err != nil {
			return err
		}
		if len(rules) > 0 {
			return &TeamInUseError{Rules: rules}
		}
		if _, err := tx.Exec(ctx, `DELETE FROM team_members WHERE workspace_id = ? AND team_id = ?`, workspaceID, id); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM teams WHERE workspace_id = ? AND id = ?`, workspaceID, id); err != nil {
			return err
		}
		_, err = eventlog.Append(ctx, tx, workspaceID, "team.deleted", t)
		return err
	})
}

// rulesUsing names the assignment rules that send conversations to the
// team or admin id (column team_id or admin_id), in rule order.
func rulesUsing(ctx context.Context, tx *Tx, workspaceID, column string, id int64) ([]string, error) {
	rows, err := tx.Query(ctx, `SELECT name FROM assignment_rules WHERE workspace_id = ? AND `+column+` = ? ORDER BY priority, id`, workspaceID, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var rules []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, mapErr(err)
		}
		rules = append(rules, name)
	}
	return rules, mapErr(rows.Err())
}

// AdminTeamIDs maps each admin of the workspace who belongs to a team to
// their team ids, ascending.
func (s *Teams) AdminTeamIDs(ctx context.Context, workspaceID string) (map[int64][]int64, error) {
	return adminTeamIDs(ctx, s.db.Read(), workspaceID, 0)
}

// adminTeamIDs: adminID 0 reads every admin's teams.
func adminTeamIDs(ctx context.Context, r Runner, workspaceID string, adminID int64) (map[int64][]int64, error) {
	q, args := `SELECT admin_id, team_id FROM team_members WHERE workspace_id = ?`, []any{workspaceID}
	if adminID != 0 {
		q += ` AND admin_id = ?`
		args = append(args, adminID)
	}
	rows, err := r.Query(ctx, q+` ORDER BY admin_id, team_id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int64][]int64{}
	for rows.Next() {
		var a, t int64
		if err := rows.Scan(&a, &t); err != nil {
			return nil, mapErr(err)
		}
		out[a] = append(out[a], t)
	}
	return out, mapErr(rows.Err())
}

// SetAway sets an admin's away mode and appends admin.away_mode_updated
// (Intercom's topic) with the admin object. Going away with reassignment
// sends the admin's open conversations back through their teams'
// distribution; coming back hands their teams' waiting conversations out.
// It returns the admin and their team ids; a *MissingError "admin" when
// there is no such admin.
func (s *Teams) SetAway(ctx context.Context, workspaceID string, adminID int64, away, reassign bool) (*workspace.Admin, []int64, error) {
	var a *workspace.Admin
	var teamIDs []int64
	err := s.db.InTx(ctx, func(tx *Tx) (err error) {
		before, err := scanAdmin(tx.QueryRow(ctx, `SELECT `+adminCols+` FROM admins WHERE workspace_id = ? AND id = ?`, workspaceID, adminID))
		if errors.Is(err, ErrNotFound) {
			return &MissingError{Kind: "admin"}
		}
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE admins SET away_mode_enabled = ?, away_mode_reassign = ? WHERE workspace_id = ? AND id = ?`,
			away, reassign, workspaceID, adminID); err != nil {
			return err
		}
		wasAway := before.AwayModeEnabled
		a = before
		a.AwayModeEnabled, a.AwayModeReassign = away, reassign
		teams, err := adminTeamIDs(ctx, tx, workspaceID, adminID)
		if err != nil {
			return err
		}
		teamIDs = teams[adminID]
		if _, err := eventlog.Append(ctx, tx, workspaceID, "admin.away_mode_updated", team.Admin(a, teamIDs)); err != nil {
			return err
		}
		e := s.Engine(tx)
		switch {
		case away && reassign:
			_, err = e.Release(ctx, workspaceID, adminID)
		case !away && wasAway:
			_, err = e.Freed(ctx, workspaceID, adminID)
		}
		return err
	})
	return a, teamIDs, err
}

// txAssignState is assign.Store over one write transaction.
type txAssignState struct{ tx *Tx }

var _ assign.Store = txAssignState{}

func (s txAssignState) Rules(ctx context.Context, workspaceID string) ([]*assign.Rule, error) {
	return rulesIn(ctx, s.tx, workspaceID, 0)
}

func (s txAssignState) Schema(ctx context.Context, workspaceID string) (query.Schema, error) {
	return assignSchema(ctx, s.tx, workspaceID)
}

// assignSchema is the rule-condition schema of a workspace: its time zone
// and live custom attributes.
func assignSchema(ctx context.Context, r Runner, workspaceID string) (*assign.Schema, error) {
	ws, err := scanWorkspace(r.QueryRow(ctx, `SELECT `+workspaceCols+` FROM workspaces WHERE id = ?`, workspaceID))
	if err != nil {
		return nil, err
	}
	rows, err := r.Query(ctx, `SELECT `+attributeCols+` FROM data_attributes WHERE workspace_id = ? AND archived = ? ORDER BY id`, workspaceID, false)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var attrs []*attribute.Attribute
	for rows.Next() {
		a, err := scanAttribute(rows)
		if err != nil {
			return nil, err
		}
		attrs = append(attrs, a)
	}
	if err := rows.Err(); err != nil {
		return nil, mapErr(err)
	}
	return assign.NewSchema(ws.Location(), attrs), nil
}

func (s txAssignState) Team(ctx context.Context, workspaceID string, teamID int64) (*assign.TeamState, error) {
	q := `SELECT distribution, assignment_limit, rr_cursor FROM teams WHERE workspace_id = ? AND id = ?`
	if s.tx.Dialect() == query.Postgres {
		q += ` FOR UPDATE` // SQLite's write transaction holds the database already
	}
	t := &assign.TeamState{ID: teamID}
	var dist string
	var limit sql.NullInt64
	if err := s.tx.QueryRow(ctx, q, workspaceID, teamID).Scan(&dist, &limit, &t.Cursor); err != nil {
		return nil, mapErr(err)
	}
	t.Distribution, t.Limit = team.Distribution(dist), int(limit.Int64)
	rows, err := s.tx.Query(ctx, `SELECT m.admin_id, m.secondary, a.away_mode_enabled FROM team_members m
 JOIN admins a ON a.workspace_id = m.workspace_id AND a.id = m.admin_id
 WHERE m.workspace_id = ? AND m.team_id = ? ORDER BY m.admin_id`, workspaceID, teamID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var m assign.Teammate
		if err := rows.Scan(&m.AdminID, &m.Secondary, &m.Away); err != nil {
			return nil, mapErr(err)
		}
		t.Members = append(t.Members, m)
	}
	return t, mapErr(rows.Err())
}

func (s txAssignState) SetCursor(ctx context.Context, workspaceID string, teamID, adminID int64) error {
	_, err := s.tx.Exec(ctx, `UPDATE teams SET rr_cursor = ? WHERE workspace_id = ? AND id = ?`, adminID, workspaceID, teamID)
	return err
}

func (s txAssignState) Away(ctx context.Context, workspaceID string, adminID int64) (away, reassign bool, err error) {
	err = mapErr(s.tx.QueryRow(ctx, `SELECT away_mode_enabled, away_mode_reassign FROM admins WHERE workspace_id = ? AND id = ?`, workspaceID, adminID).Scan(&away, &reassign))
	return away, reassign, err
}

func (s txAssignState) TeamsOf(ctx context.Context, workspaceID string, adminID int64) ([]int64, error) {
	m, err := adminTeamIDs(ctx, s.tx, workspaceID, adminID)
	return m[adminID], err
}
