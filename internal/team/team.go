// Package team holds teams: named groups of teammates (admins) with their own
// inbox and a distribution setting that decides how the team's conversations
// reach its teammates (see package assign). JSON follows Intercom's team
// object; creating and changing teams is a Parley extension.
package team

import (
	"encoding/json"
	"strconv"

	"github.com/parleyhq/parley/internal/workspace"
)

// Distribution is how a team's conversations are handed to its teammates.
type Distribution string

// Distribution methods.
const (
	// Manual leaves conversations in the team inbox for teammates to take.
	Manual Distribution = "manual"
	// RoundRobin hands conversations to available teammates in turn.
	RoundRobin Distribution = "round_robin"
	// Balanced hands each conversation to the available teammate holding
	// the fewest open conversations.
	Balanced Distribution = "balanced"
)

// Valid reports whether d is a known distribution method.
func (d Distribution) Valid() bool { return d == Manual || d == RoundRobin || d == Balanced }

// Limits.
const (
	MaxNameLength      = 255
	MaxMembers         = 1000
	MaxAssignmentLimit = 10000
)

// Member is a teammate of a team.
type Member struct {
	AdminID int64
	// Secondary teammates are handed conversations only when no primary
	// teammate can take one (Intercom's admin_priority_level).
	Secondary bool
}

// Team is one team of a workspace.
type Team struct {
	WorkspaceID  string
	ID           int64
	Name         string
	Distribution Distribution
	// AssignmentLimit is how many open conversations one teammate may hold
	// before distribution skips them; 0 means no limit.
	AssignmentLimit int
	// Members in admin id order.
	Members   []Member
	CreatedAt int64
	UpdatedAt int64
}

// AdminIDs lists the team's teammates, primary and secondary.
func (t *Team) AdminIDs() []int64 {
	out := make([]int64, 0, len(t.Members))
	for _, m := range t.Members {
		out = append(out, m.AdminID)
	}
	return out
}

// MarshalJSON renders Intercom's team object: admin_ids are integers,
// admin_priority_level splits them into primary and secondary teammates,
// assignment_limit is null when the team has none.
func (t *Team) MarshalJSON() ([]byte, error) {
	primary, secondary := []int64{}, []int64{}
	for _, m := range t.Members {
		if m.Secondary {
			secondary = append(secondary, m.AdminID)
		} else {
			primary = append(primary, m.AdminID)
		}
	}
	var limit *int
	if t.AssignmentLimit > 0 {
		limit = &t.AssignmentLimit
	}
	type level struct {
		Primary   []int64 `json:"primary_admin_ids"`
		Secondary []int64 `json:"secondary_admin_ids"`
	}
	return json.Marshal(struct {
		Type               string  `json:"type"`
		ID                 string  `json:"id"`
		Name               string  `json:"name"`
		AdminIDs           []int64 `json:"admin_ids"`
		AdminPriorityLevel level   `json:"admin_priority_level"`
		AssignmentLimit    *int    `json:"assignment_limit"`
		DistributionMethod string  `json:"distribution_method"`
	}{"team", strconv.FormatInt(t.ID, 10), t.Name, t.AdminIDs(), level{primary, secondary}, limit, string(t.Distribution)})
}

// Admin renders Intercom's admin object with the admin's team ids: what the
// API answers and what admin events carry.
func Admin(a *workspace.Admin, teamIDs []int64) map[string]any {
	var avatar any
	if a.Avatar != "" {
		avatar = a.Avatar
	}
	if teamIDs == nil {
		teamIDs = []int64{}
	}
	return map[string]any{
		"type": "admin", "id": strconv.FormatInt(a.ID, 10), "name": a.Name, "email": a.Email,
		"job_title": a.JobTitle, "away_mode_enabled": a.AwayModeEnabled, "away_mode_reassign": a.AwayModeReassign,
		"away_status_reason_id": nil, "has_inbox_seat": true, "team_ids": teamIDs, "avatar": avatar,
	}
}
