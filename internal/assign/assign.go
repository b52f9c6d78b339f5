// Package assign decides who a conversation goes to: assignment rules in
// priority order (a condition in the filter language over the conversation
// and its contact → a team or a teammate), then the team's distribution
// (manual, round robin or balanced, with a per-teammate limit of open
// conversations; away teammates are skipped). A conversation nobody can
// take waits in the team inbox and is handed out when capacity frees.
//
// The choice itself is pure (FirstMatch, Pick). Engine applies it to stored
// state through two interfaces: Store (rules, teams, teammates' away flags,
// the round-robin cursor) and Inbox (conversations: open counts, waiting
// conversations, assigning). Both are bound by the caller to the write
// transaction of the change that triggers assignment, so the assignment,
// the cursor and their events commit together.
package assign

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"

	"github.com/parleyhq/parley/internal/query"
	"github.com/parleyhq/parley/internal/team"
)

// MaxNameLength bounds rule names (bytes).
const MaxNameLength = 255

// Rule is an assignment rule: conversations matching Condition go to
// TeamID or AdminID (exactly one is set). Rules are tried by ascending
// Priority, then id.
type Rule struct {
	WorkspaceID string
	ID          int64
	Name        string
	Priority    int
	Condition   json.RawMessage // compacted query JSON
	TeamID      int64
	AdminID     int64
	CreatedAt   int64
	UpdatedAt   int64
}

// MarshalJSON renders Parley's assignment_rule object; team_id and
// admin_id are integers like a conversation's team_assignee_id and
// admin_assignee_id, null when not the target.
func (r *Rule) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Type      string          `json:"type"`
		ID        string          `json:"id"`
		Name      string          `json:"name"`
		Priority  int             `json:"priority"`
		Condition json.RawMessage `json:"condition"`
		TeamID    *int64          `json:"team_id"`
		AdminID   *int64          `json:"admin_id"`
		CreatedAt int64           `json:"created_at"`
		UpdatedAt int64           `json:"updated_at"`
	}{"assignment_rule", strconv.FormatInt(r.ID, 10), r.Name, r.Priority, r.Condition, nonZero(r.TeamID), nonZero(r.AdminID), r.CreatedAt, r.UpdatedAt})
}

func nonZero(v int64) *int64 {
	if v == 0 {
		return nil
	}
	return &v
}

// Sort orders rules as they are tried: by priority, then id.
func Sort(rules []*Rule) {
	slices.SortStableFunc(rules, func(a, b *Rule) int {
		if a.Priority != b.Priority {
			return cmp.Compare(a.Priority, b.Priority)
		}
		return cmp.Compare(a.ID, b.ID)
	})
}

// FirstMatch returns the first rule (in the order given) whose condition
// matches rec. A rule whose condition no longer parses under schema (an
// attribute it uses was archived) matches nothing and is skipped.
func FirstMatch(rules []*Rule, schema query.Schema, rec query.Record) *Rule {
	for _, r := range rules {
		f, err := query.Parse(r.Condition, schema)
		if err != nil {
			continue
		}
		if f.Match(rec) {
			return r
		}
	}
	return nil
}

// Teammate is a team member as distribution sees them.
type Teammate struct {
	AdminID   int64
	Secondary bool
	Away      bool
}

// TeamState is what distribution needs of one team.
type TeamState struct {
	ID           int64
	Distribution team.Distribution
	Limit        int // open conversations per teammate; 0: none
	Members      []Teammate
	// Cursor is the teammate round robin handed the last conversation.
	Cursor int64
}

// Pick chooses the teammate the team's next conversation goes to, given
// each teammate's open conversations; 0 means nobody (manual distribution,
// or every teammate away or at the limit): the conversation stays in the
// team inbox. Primary teammates are preferred; secondary ones are tried
// only when no primary teammate is available.
//
// Round robin takes the first available teammate after Cursor in admin id
// order, wrapping around. Balanced takes the available teammate with the
// fewest open conversations, the lowest id among equals.
func Pick(t *TeamState, open map[int64]int) int64 {
	if t.Distribution != team.RoundRobin && t.Distribution != team.Balanced {
		return 0
	}
	for _, secondary := range []bool{false, true} {
		var avail []int64
		for _, m := range t.Members {
			if m.Secondary == secondary && !m.Away && (t.Limit <= 0 || open[m.AdminID] < t.Limit) {
				avail = append(avail, m.AdminID)
			}
		}
		if len(avail) == 0 {
			continue
		}
		slices.Sort(avail)
		if t.Distribution == team.RoundRobin {
			for _, id := range avail {
				if id > t.Cursor {
					return id
				}
			}
			return avail[0]
		}
		best := avail[0]
		for _, id := range avail[1:] {
			if open[id] < open[best] {
				best = id
			}
		}
		return best
	}
	return 0
}

// Store is the stored state assignment reads and writes, other than
// conversations.
type Store interface {
	// Rules returns the workspace's assignment rules in priority order.
	Rules(ctx context.Context, workspaceID string) ([]*Rule, error)
	// Schema returns the workspace's rule schema (see NewSchema).
	Schema(ctx context.Context, workspaceID string) (query.Schema, error)
	// Team returns a team's distribution state, with each teammate's away
	// flag, and holds it (a row lock) until the transaction ends so that
	// concurrent assignments to one team are decided one after another.
	Team(ctx context.Context, workspaceID string, teamID int64) (*TeamState, error)
	// SetCursor records the teammate round robin handed the last
	// conversation.
	SetCursor(ctx context.Context, workspaceID string, teamID, adminID int64) error
	// Away reports an admin's away mode.
	Away(ctx context.Context, workspaceID string, adminID int64) (away, reassign bool, err error)
	// TeamsOf lists the teams an admin belongs to.
	TeamsOf(ctx context.Context, workspaceID string, adminID int64) ([]int64, error)
}

// Load reports how many open conversations teammates hold (across all
// teams); admins with none may be left out of the map.
type Load interface {
	OpenCounts(ctx context.Context, workspaceID string, adminIDs []int64) (map[int64]int, error)
}

// Held is an open conversation assigned to a teammate.
type Held struct {
	ConversationID string
	TeamID         int64 // the team inbox it belongs to; 0: none
}

// Inbox is the conversations side of assignment.
type Inbox interface {
	Load
	// Waiting returns up to limit open conversations in the team's inbox
	// that no teammate holds, longest waiting first.
	Waiting(ctx context.Context, workspaceID string, teamID int64, limit int) ([]string, error)
	// Held returns the open conversations assigned to an admin.
	Held(ctx context.Context, workspaceID string, adminID int64) ([]Held, error)
	// Assign gives a conversation to a team and a teammate (0: none) and
	// appends conversation.admin.assigned.
	Assign(ctx context.Context, workspaceID, conversationID string, teamID, adminID int64) error
}

// Decision is where a new conversation goes. RuleID is the rule that
// matched (0: none, and the conversation stays unassigned); TeamID and
// AdminID are its team inbox and teammate (0: none).
type Decision struct {
	RuleID  int64
	TeamID  int64
	AdminID int64
}

// Assignment is one conversation handed out by Rebalance or Release.
type Assignment struct {
	ConversationID string
	TeamID         int64
	AdminID        int64
}

// Engine applies rules and distribution to stored state.
type Engine struct {
	Store Store
	Inbox Inbox
}

// Route decides where a new conversation goes: the first matching rule's
// team (and a teammate of it by the team's distribution) or teammate. A
// rule's teammate who is away with reassignment on is not given the
// conversation: it stays unassigned, as Intercom sends it to the default
// inbox. The caller stores the decision (and its event) in the same
// transaction.
func (e *Engine) Route(ctx context.Context, workspaceID string, rec query.Record) (Decision, error) {
	rules, err := e.Store.Rules(ctx, workspaceID)
	if err != nil || len(rules) == 0 {
		return Decision{}, err
	}
	schema, err := e.Store.Schema(ctx, workspaceID)
	if err != nil {
		return Decision{}, err
	}
	r := FirstMatch(rules, schema, rec)
	if r == nil {
		return Decision{}, nil
	}
	d := Decision{RuleID: r.ID}
	if r.AdminID != 0 {
		away, reassign, err := e.Store.Away(ctx, workspaceID, r.AdminID)
		if err != nil {
			return Decision{}, err
		}
		if !away || !reassign {
			d.AdminID = r.AdminID
		}
		return d, nil
	}
	d.TeamID = r.TeamID
	d.AdminID, err = e.Distribute(ctx, workspaceID, r.TeamID)
	return d, err
}

// Distribute picks the teammate of a team that the team's next
// conversation goes to (0: it waits in the team inbox) and advances the
// round-robin cursor.
func (e *Engine) Distribute(ctx context.Context, workspaceID string, teamID int64) (int64, error) {
	t, open, err := e.teamLoad(ctx, workspaceID, teamID)
	if err != nil {
		return 0, err
	}
	id := Pick(t, open)
	if id != 0 && t.Distribution == team.RoundRobin {
		err = e.Store.SetCursor(ctx, workspaceID, teamID, id)
	}
	return id, err
}

func (e *Engine) teamLoad(ctx context.Context, workspaceID string, teamID int64) (*TeamState, map[int64]int, error) {
	t, err := e.Store.Team(ctx, workspaceID, teamID)
	if err != nil {
		return nil, nil, fmt.Errorf("assign: team %d: %w", teamID, err)
	}
	ids := make([]int64, len(t.Members))
	for i, m := range t.Members {
		ids[i] = m.AdminID
	}
	open, err := e.Inbox.OpenCounts(ctx, workspaceID, ids)
	if err != nil {
		return nil, nil, err
	}
	if open == nil {
		open = map[int64]int{}
	}
	return t, open, nil
}

// rebalancePage is how many waiting conversations Rebalance reads at once.
const rebalancePage = 100

// Rebalance hands the team's waiting conversations, longest waiting first,
// to its teammates while any can take one. Call it when capacity frees: a
// teammate closes or hands off a conversation, comes back from away, or the
// team's members, limit or distribution change.
func (e *Engine) Rebalance(ctx context.Context, workspaceID string, teamID int64) ([]Assignment, error) {
	t, open, err := e.teamLoad(ctx, workspaceID, teamID)
	if err != nil || Pick(t, open) == 0 {
		return nil, err
	}
	var out []Assignment
	cursor := t.Cursor
	for {
		waiting, err := e.Inbox.Waiting(ctx, workspaceID, teamID, rebalancePage)
		if err != nil {
			return out, err
		}
		for _, conv := range waiting {
			id := Pick(t, open)
			if id == 0 {
				return out, e.setCursor(ctx, workspaceID, t, cursor)
			}
			if err := e.Inbox.Assign(ctx, workspaceID, conv, teamID, id); err != nil {
				return out, err
			}
			open[id]++
			t.Cursor = id
			out = append(out, Assignment{ConversationID: conv, TeamID: teamID, AdminID: id})
		}
		if len(waiting) < rebalancePage {
			return out, e.setCursor(ctx, workspaceID, t, cursor)
		}
	}
}

// setCursor stores t.Cursor if round robin moved it from before.
func (e *Engine) setCursor(ctx context.Context, workspaceID string, t *TeamState, before int64) error {
	if t.Distribution != team.RoundRobin || t.Cursor == before {
		return nil
	}
	return e.Store.SetCursor(ctx, workspaceID, t.ID, t.Cursor)
}

// Release takes an admin's open conversations back (the admin went away
// with reassignment): each goes through its team's distribution again —
// which skips the away admin — or waits in the team inbox; a conversation
// without a team becomes unassigned.
func (e *Engine) Release(ctx context.Context, workspaceID string, adminID int64) ([]Assignment, error) {
	held, err := e.Inbox.Held(ctx, workspaceID, adminID)
	if err != nil {
		return nil, err
	}
	out := make([]Assignment, 0, len(held))
	for _, h := range held {
		a := Assignment{ConversationID: h.ConversationID, TeamID: h.TeamID}
		if h.TeamID != 0 {
			if a.AdminID, err = e.Distribute(ctx, workspaceID, h.TeamID); err != nil {
				return out, err
			}
		}
		if err := e.Inbox.Assign(ctx, workspaceID, h.ConversationID, a.TeamID, a.AdminID); err != nil {
			return out, err
		}
		out = append(out, a)
	}
	return out, nil
}

// Freed rebalances every team of an admin who can take conversations
// again (back from away, or a conversation of theirs closed).
func (e *Engine) Freed(ctx context.Context, workspaceID string, adminID int64) ([]Assignment, error) {
	teams, err := e.Store.TeamsOf(ctx, workspaceID, adminID)
	if err != nil {
		return nil, err
	}
	var out []Assignment
	for _, id := range teams {
		as, err := e.Rebalance(ctx, workspaceID, id)
		out = append(out, as...)
		if err != nil {
			return out, err
		}
	}
	return out, nil
}
