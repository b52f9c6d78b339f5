package conversation

import "strconv"

// Operator is the author of what Parley does by itself: assignments made
// by assignment rules and by team distribution (Intercom's "Operator" bot).
var Operator = func() Author {
	name := "Operator"
	return Author{Type: AuthorBot, ID: "0", Name: &name}
}()

// Route gives the conversation to a team inbox and a teammate of it (0:
// none) in one assignment part, as assignment rules and team distribution
// do. assigned_to names the teammate, or the team when there is none.
// Routing to where the conversation already is changes nothing.
func (c *Conversation) Route(by Author, teamID, adminID int64, now int64) *Change {
	if idOr0(c.TeamAssigneeID) == teamID && idOr0(c.AdminAssigneeID) == adminID {
		return &Change{}
	}
	c.TeamAssigneeID, c.AdminAssigneeID = nonZero(teamID), nonZero(adminID)
	p := &Part{Type: PartAssignment, Author: by}
	switch {
	case adminID != 0:
		p.AssignedTo = &Ref{Type: "admin", ID: strconv.FormatInt(adminID, 10)}
	case teamID != 0:
		p.AssignedTo = &Ref{Type: "team", ID: strconv.FormatInt(teamID, 10)}
	}
	if p.AssignedTo != nil {
		c.assigned(now)
	}
	ch := &Change{Topics: []string{"conversation.admin.assigned"}}
	c.add(ch, p, now)
	return ch
}

// assigned records an assignment in the statistics.
func (c *Conversation) assigned(now int64) {
	s := &c.Stats
	s.CountAssignments++
	if s.FirstAssignmentAt == nil {
		s.FirstAssignmentAt = ptr(now)
	}
	s.LastAssignmentAt = ptr(now)
	if s.FirstAdminReplyAt == nil {
		s.TimeToAssignment = ptr(max(0, now-c.start()))
	}
}

func idOr0(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

func nonZero(v int64) *int64 {
	if v == 0 {
		return nil
	}
	return &v
}

// HeldBy is the teammate whose open conversations count this one (0: none:
// it is not open, or no teammate is assigned).
func (c *Conversation) HeldBy() int64 {
	if c.State != StateOpen {
		return 0
	}
	return idOr0(c.AdminAssigneeID)
}

// WaitingInTeam is the team inbox the conversation waits in for a teammate
// (0: none: it is not open, has no team or has a teammate).
func (c *Conversation) WaitingInTeam() int64 {
	if c.State != StateOpen || c.AdminAssigneeID != nil {
		return 0
	}
	return idOr0(c.TeamAssigneeID)
}

// NewFromAdmin starts a conversation with a teammate's message to a
// contact (POST /messages): delivered_as admin_initiated, open, read, not
// waiting, and assigned to the sender so that the contact's reply reaches
// them (Intercom's default). The topic is
// conversation.admin.single.created.
func NewFromAdmin(workspaceID string, admin Author, to ContactRef, sourceType, subject, body string, now int64) (*Conversation, *Change) {
	c := &Conversation{
		WorkspaceID: workspaceID, CreatedAt: now, UpdatedAt: now, State: StateOpen, Read: true, Priority: "none",
		CustomAttributes: map[string]any{}, AdminAssigneeID: nonZero(adminID(admin)),
		Source: Source{Type: sourceType, DeliveredAs: "admin_initiated", Subject: subject, Body: body,
			Author: admin, Attachments: []Attachment{}},
		Contacts: []ContactRef{to},
	}
	return c, &Change{Topics: []string{"conversation.admin.single.created"}}
}
