package conversation

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
)

// Change is what an action did: the parts it added (without ids yet), the
// event topics to append (in order), and whether the conversation was
// snoozed (so that a reopen is scheduled). An empty change writes nothing.
type Change struct {
	Parts   []*Part
	Topics  []string
	Snoozed bool
	// Then, when set, runs once the change is recorded (its parts have
	// their ids), inside the same transaction; an error undoes the change.
	Then func() error
}

// Empty reports whether the change writes nothing.
func (ch *Change) Empty() bool { return ch == nil || len(ch.Topics) == 0 }

// RuleError is an action refused by the rules (a 4xx for the API).
type RuleError struct {
	Field   string
	Message string
}

func (e *RuleError) Error() string { return e.Message }

func refuse(field, format string, args ...any) error {
	return &RuleError{Field: field, Message: fmt.Sprintf(format, args...)}
}

// ErrRule matches every RuleError with errors.Is.
var ErrRule = errors.New("refused by the conversation rules")

// Is makes errors.Is(err, ErrRule) true for rule errors.
func (e *RuleError) Is(target error) bool { return target == ErrRule }

// Refusals callers tell apart.
var (
	ErrNotParticipant = &RuleError{Field: "contact_id", Message: "the contact does not take part in this conversation"}
	ErrLastContact    = &RuleError{Field: "contact_id", Message: "Removing the last customer is not allowed"}
)

func ptr(v int64) *int64 { return &v }

// start is when the clock of the statistics starts: the first contact
// message, or the creation for admin-initiated conversations.
func (c *Conversation) start() int64 {
	if c.Stats.FirstContactReplyAt != nil {
		return *c.Stats.FirstContactReplyAt
	}
	return c.CreatedAt
}

func (c *Conversation) add(ch *Change, p *Part, now int64) {
	p.State = c.State
	p.CreatedAt, p.UpdatedAt = now, now
	if p.Attachments == nil {
		p.Attachments = []Attachment{}
	}
	ch.Parts = append(ch.Parts, p)
	c.Stats.CountConversationParts++
	c.UpdatedAt = now
	if p.Author.Type == AuthorAdmin && !slices.Contains(c.Teammates, adminID(p.Author)) {
		c.Teammates = append(c.Teammates, adminID(p.Author))
	}
}

func adminID(a Author) int64 {
	n, _ := strconv.ParseInt(a.ID, 10, 64)
	return n
}

// NewFromContact starts a conversation with a contact's message
// (POST /conversations, the Messenger). The topic is
// conversation.user.created.
func NewFromContact(workspaceID string, from Author, contactID string, externalID *string, body, subject string, attachments []Attachment, now int64) (*Conversation, *Change) {
	if attachments == nil {
		attachments = []Attachment{}
	}
	c := &Conversation{
		WorkspaceID: workspaceID, CreatedAt: now, UpdatedAt: now, State: StateOpen, Priority: "none",
		CustomAttributes: map[string]any{},
		Source: Source{Type: "conversation", DeliveredAs: "customer_initiated", Subject: subject, Body: body,
			Author: from, Attachments: attachments},
		Contacts: []ContactRef{{ID: contactID, ExternalID: externalID}},
	}
	c.WaitingSince = ptr(now)
	c.Stats.FirstContactReplyAt = ptr(now)
	c.Stats.LastContactReplyAt = ptr(now)
	return c, &Change{Topics: []string{"conversation.user.created"}}
}

// reopen moves a closed or snoozed conversation back to open.
func (c *Conversation) reopen() {
	if c.State == StateClosed {
		c.Stats.CountReopens++
	}
	c.State = StateOpen
	c.SnoozedUntil = nil
}

// ContactReply adds a contact's comment. A closed or snoozed conversation
// reopens; the conversation becomes unread and, unless the contact was
// already waiting, waiting_since starts now.
func (c *Conversation) ContactReply(from Author, body string, attachments []Attachment, now int64) (*Change, error) {
	if !from.IsContact() {
		return nil, refuse("type", "a contact reply needs a user or a lead")
	}
	if body == "" && len(attachments) == 0 {
		return nil, refuse("body", "body is required")
	}
	ch := &Change{Topics: []string{"conversation.user.replied"}}
	c.reopen()
	c.Read = false
	if c.WaitingSince == nil {
		c.WaitingSince = ptr(now)
	}
	if c.Stats.FirstContactReplyAt == nil {
		c.Stats.FirstContactReplyAt = ptr(now)
	}
	c.Stats.LastContactReplyAt = ptr(now)
	c.add(ch, &Part{Type: PartComment, Body: &body, Author: from, Attachments: attachments}, now)
	return ch, nil
}

// AdminReply adds a teammate's comment, note or quick reply. Comments and
// quick replies answer the contact: waiting_since is cleared and the reply
// statistics move. Notes are only for teammates.
func (c *Conversation) AdminReply(admin Author, kind, body string, options []QuickReplyOption, attachments []Attachment, now int64) (*Change, error) {
	p := &Part{Type: kind, Author: admin, Attachments: attachments}
	if body != "" {
		p.Body = &body
	}
	var topic string
	switch kind {
	case PartComment:
		if body == "" && len(attachments) == 0 {
			return nil, refuse("body", "body is required for a comment")
		}
		topic = "conversation.admin.replied"
	case PartNote:
		if body == "" {
			return nil, refuse("body", "body is required for a note")
		}
		topic = "conversation.admin.noted"
	case PartQuickReply:
		if len(options) == 0 {
			return nil, refuse("reply_options", "reply_options are required for a quick_reply")
		}
		p.Metadata = &Metadata{QuickReplyOptions: options}
		topic = "conversation.admin.replied"
	default:
		return nil, refuse("message_type", "message_type must be comment, note or quick_reply")
	}
	ch := &Change{Topics: []string{topic}}
	if kind != PartNote {
		c.adminAnswered(now)
	}
	c.add(ch, p, now)
	return ch, nil
}

// adminAnswered records an admin's answer to the contact in the statistics.
func (c *Conversation) adminAnswered(now int64) {
	s := &c.Stats
	if c.WaitingSince != nil {
		s.ReplyTimes = append(s.ReplyTimes, max(0, now-*c.WaitingSince))
		s.MedianTimeToReply = ptr(median(s.ReplyTimes))
		c.WaitingSince = nil
	}
	if s.FirstAdminReplyAt == nil {
		s.FirstAdminReplyAt = ptr(now)
		s.TimeToAdminReply = ptr(max(0, now-c.start()))
	}
	if s.LastAssignmentAt != nil && (s.LastAssignmentAdminReplyAt == nil || *s.LastAssignmentAdminReplyAt < *s.LastAssignmentAt) {
		s.LastAssignmentAdminReplyAt = ptr(now)
	}
	s.LastAdminReplyAt = ptr(now)
}

func median(xs []int64) int64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// Close closes the conversation (an optional body is shown in the part).
// Closing a closed conversation changes nothing.
func (c *Conversation) Close(admin Author, body string, now int64) (*Change, error) {
	if c.State == StateClosed {
		return &Change{}, nil
	}
	ch := &Change{Topics: []string{"conversation.admin.closed"}}
	c.State = StateClosed
	c.SnoozedUntil = nil
	c.WaitingSince = nil
	s := &c.Stats
	if s.FirstCloseAt == nil {
		s.FirstCloseAt = ptr(now)
		s.TimeToFirstClose = ptr(max(0, now-c.start()))
	}
	s.LastCloseAt = ptr(now)
	s.TimeToLastClose = ptr(max(0, now-c.start()))
	id := adminID(admin)
	s.LastClosedByID = &id
	p := &Part{Type: PartClose, Author: admin}
	if body != "" {
		p.Body = &body
	}
	c.add(ch, p, now)
	return ch, nil
}

// Open reopens a closed or snoozed conversation. Opening an open
// conversation changes nothing.
func (c *Conversation) Open(admin Author, now int64) (*Change, error) {
	if c.State == StateOpen {
		return &Change{}, nil
	}
	ch := &Change{Topics: []string{"conversation.admin.opened"}}
	c.reopen()
	c.add(ch, &Part{Type: PartOpen, Author: admin}, now)
	return ch, nil
}

// Snooze snoozes the conversation until a time in the future; it reopens by
// itself then (see Unsnooze).
func (c *Conversation) Snooze(admin Author, until, now int64) (*Change, error) {
	if until <= now {
		return nil, refuse("snoozed_until", "snoozed_until must be in the future")
	}
	ch := &Change{Topics: []string{"conversation.admin.snoozed"}, Snoozed: true}
	c.State = StateSnoozed
	c.SnoozedUntil = &until
	c.add(ch, &Part{Type: PartSnoozed, Author: admin}, now)
	return ch, nil
}

// Unsnooze reopens a conversation whose snooze (until) ran out. It changes
// nothing when the conversation is no longer snoozed until then (it was
// opened, closed or snoozed again since): a stale timer is harmless.
func (c *Conversation) Unsnooze(by Author, until, now int64) *Change {
	if c.State != StateSnoozed || c.SnoozedUntil == nil || *c.SnoozedUntil != until {
		return &Change{}
	}
	ch := &Change{Topics: []string{"conversation.admin.unsnoozed"}}
	c.reopen()
	c.add(ch, &Part{Type: PartTimerUnsnooze, Author: by}, now)
	return ch
}

// Assign assigns the conversation to an admin or a team (id 0: nobody).
func (c *Conversation) Assign(admin Author, assigneeType string, assigneeID int64, body string, now int64) (*Change, error) {
	p := &Part{Type: PartAssignment, Author: admin}
	if body != "" {
		p.Body = &body
	}
	var target *int64
	if assigneeID != 0 {
		target = ptr(assigneeID)
		p.AssignedTo = &Ref{Type: assigneeType, ID: strconv.FormatInt(assigneeID, 10)}
	}
	switch assigneeType {
	case "admin":
		c.AdminAssigneeID = target
	case "team":
		c.TeamAssigneeID = target
	default:
		return nil, refuse("type", "type must be admin or team")
	}
	ch := &Change{Topics: []string{"conversation.admin.assigned"}}
	if target != nil {
		c.assigned(now)
	}
	c.add(ch, p, now)
	return ch, nil
}

// Update is a teammate's edit of the conversation's own fields (PUT).
type Update struct {
	Read             *bool
	Title            **string // set to nil to clear
	Priority         *string
	CustomAttributes map[string]any // nil values remove the attribute
}

// Apply applies u: conversation.read when it becomes read,
// conversation.priority.updated when the priority changes, and
// conversation.updated for the rest.
func (c *Conversation) Apply(u Update, now int64) (*Change, error) {
	ch := &Change{}
	other := false
	if u.Read != nil && *u.Read != c.Read {
		c.Read = *u.Read
		if c.Read {
			ch.Topics = append(ch.Topics, "conversation.read")
		} else {
			other = true
		}
	}
	if u.Priority != nil && *u.Priority != c.Priority {
		if !ValidPriority(*u.Priority) {
			return nil, refuse("priority", "priority must be one of none, low, medium, high, urgent (or priority, not_priority)")
		}
		c.Priority = *u.Priority
		ch.Topics = append(ch.Topics, "conversation.priority.updated")
	}
	if u.Title != nil && !samePtr(*u.Title, c.Title) {
		c.Title = *u.Title
		other = true
	}
	for k, v := range u.CustomAttributes {
		old, had := c.CustomAttributes[k]
		switch {
		case v == nil && had:
			delete(c.CustomAttributes, k)
			other = true
		case v != nil && (!had || fmt.Sprint(old) != fmt.Sprint(v)):
			if c.CustomAttributes == nil {
				c.CustomAttributes = map[string]any{}
			}
			c.CustomAttributes[k] = v
			other = true
		}
	}
	if other {
		ch.Topics = append(ch.Topics, "conversation.updated")
	}
	if !ch.Empty() {
		c.UpdatedAt = now
	}
	return ch, nil
}

func samePtr(a, b *string) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// AddContact adds a participant. Adding a participant twice changes nothing.
func (c *Conversation) AddContact(admin Author, ref ContactRef, now int64) *Change {
	if c.HasContact(ref.ID) {
		return &Change{}
	}
	c.Contacts = append(c.Contacts, ref)
	ch := &Change{Topics: []string{"conversation.contact.attached"}}
	c.add(ch, &Part{Type: PartParticipantAdded, Author: admin}, now)
	return ch
}

// RemoveContact removes a participant; the last one cannot be removed.
func (c *Conversation) RemoveContact(admin Author, contactID string, now int64) (*Change, error) {
	i := slices.IndexFunc(c.Contacts, func(r ContactRef) bool { return r.ID == contactID })
	if i < 0 {
		return nil, ErrNotParticipant
	}
	if len(c.Contacts) == 1 {
		return nil, ErrLastContact
	}
	c.Contacts = slices.Delete(c.Contacts, i, i+1)
	ch := &Change{Topics: []string{"conversation.contact.detached"}}
	c.add(ch, &Part{Type: PartParticipantRemoved, Author: admin}, now)
	return ch, nil
}

// AddTag applies a tag; applying it twice changes nothing.
func (c *Conversation) AddTag(t Tag, now int64) *Change {
	if slices.ContainsFunc(c.Tags, func(x Tag) bool { return x.ID == t.ID }) {
		return &Change{}
	}
	t.AppliedAt = now
	c.Tags = append(c.Tags, t)
	c.UpdatedAt = now
	return &Change{Topics: []string{"conversation.tag.created"}}
}

// RemoveTag removes a tag; ok is false when it was not applied.
func (c *Conversation) RemoveTag(tagID int64, now int64) (*Change, bool) {
	i := slices.IndexFunc(c.Tags, func(x Tag) bool { return x.ID == tagID })
	if i < 0 {
		return nil, false
	}
	c.Tags = slices.Delete(c.Tags, i, i+1)
	c.UpdatedAt = now
	return &Change{Topics: []string{"conversation.tag.deleted"}}, true
}
