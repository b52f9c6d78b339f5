// Package conversation holds conversations: their fields, the rules that
// change them (replies, notes, close/open/snooze, assignment, statistics and
// waiting_since) and the Intercom-compatible JSON they are shown in, per API
// version.
package conversation

import (
	"slices"
	"strconv"
)

// States.
const (
	StateOpen    = "open"
	StateClosed  = "closed"
	StateSnoozed = "snoozed"
)

// Part types.
const (
	PartComment            = "comment"
	PartNote               = "note"
	PartQuickReply         = "quick_reply"
	PartOpen               = "open"
	PartClose              = "close"
	PartSnoozed            = "snoozed"
	PartTimerUnsnooze      = "timer_unsnooze"
	PartAssignment         = "assignment"
	PartParticipantAdded   = "participant_added"
	PartParticipantRemoved = "participant_removed"
)

// Author types.
const (
	AuthorAdmin = "admin"
	AuthorUser  = "user"
	AuthorLead  = "lead"
	AuthorBot   = "bot"
)

// Priorities, stored in the vocabulary of API 2.16; up to 2.15 anything but
// "none" is shown as "priority".
var Priorities = []string{"none", "low", "medium", "high", "urgent"}

// MaxParts is how many parts (the most recent) a conversation shows.
const MaxParts = 500

// Author wrote a part or the source. Name and email are those of the
// admin or contact when the part was written.
type Author struct {
	Type  string  `json:"type"`
	ID    string  `json:"id"`
	Name  *string `json:"name"`
	Email string  `json:"email,omitempty"`
}

// IsContact reports whether the author is a user or a lead.
func (a Author) IsContact() bool { return a.Type == AuthorUser || a.Type == AuthorLead }

// Ref is a reference to an admin or a team (a part's assigned_to).
type Ref struct {
	Type string `json:"type"`
	ID   string `json:"id"`
}

// Attachment is a file attached to a part or the source.
type Attachment struct {
	Type        string `json:"type"`
	Name        string `json:"name"`
	URL         string `json:"url"`
	ContentType string `json:"content_type,omitempty"`
}

// QuickReplyOption is one button of a quick_reply part.
type QuickReplyOption struct {
	Text string `json:"text"`
	UUID string `json:"uuid"`
}

// Metadata of a part.
type Metadata struct {
	QuickReplyOptions []QuickReplyOption `json:"quick_reply_options,omitempty"`
}

// Part is one message or action in a conversation.
type Part struct {
	ID          int64
	Type        string
	Body        *string
	Author      Author
	AssignedTo  *Ref
	State       string // the conversation's state once the part was added
	Metadata    *Metadata
	Attachments []Attachment
	CreatedAt   int64
	UpdatedAt   int64
}

// Source is the message that started the conversation.
type Source struct {
	Type        string // conversation, email, …
	DeliveredAs string // customer_initiated, admin_initiated, …
	Subject     string
	Body        string
	Author      Author
	URL         *string
	Attachments []Attachment
}

// ContactRef is a participant of the conversation.
type ContactRef struct {
	ID         string
	ExternalID *string
}

// Tag is a tag applied to the conversation.
type Tag struct {
	ID        int64
	Name      string
	AppliedAt int64
	AppliedBy *int64
}

// Rating is a contact's rating of the conversation.
type Rating struct {
	Rating    int    `json:"rating"`
	Remark    string `json:"remark"`
	CreatedAt int64  `json:"created_at"`
	UpdatedAt int64  `json:"updated_at"`
	ContactID string `json:"contact_id"`
	AdminID   *int64 `json:"admin_id,omitempty"`
}

// Statistics are kept exact by the rules as parts are added. Durations are
// seconds (no office hours yet: wall-clock time).
type Statistics struct {
	TimeToAssignment           *int64 `json:"time_to_assignment,omitempty"`
	TimeToAdminReply           *int64 `json:"time_to_admin_reply,omitempty"`
	TimeToFirstClose           *int64 `json:"time_to_first_close,omitempty"`
	TimeToLastClose            *int64 `json:"time_to_last_close,omitempty"`
	MedianTimeToReply          *int64 `json:"median_time_to_reply,omitempty"`
	FirstContactReplyAt        *int64 `json:"first_contact_reply_at,omitempty"`
	FirstAssignmentAt          *int64 `json:"first_assignment_at,omitempty"`
	FirstAdminReplyAt          *int64 `json:"first_admin_reply_at,omitempty"`
	FirstCloseAt               *int64 `json:"first_close_at,omitempty"`
	LastAssignmentAt           *int64 `json:"last_assignment_at,omitempty"`
	LastAssignmentAdminReplyAt *int64 `json:"last_assignment_admin_reply_at,omitempty"`
	LastContactReplyAt         *int64 `json:"last_contact_reply_at,omitempty"`
	LastAdminReplyAt           *int64 `json:"last_admin_reply_at,omitempty"`
	LastCloseAt                *int64 `json:"last_close_at,omitempty"`
	LastClosedByID             *int64 `json:"last_closed_by_id,omitempty"`
	CountReopens               int    `json:"count_reopens"`
	CountAssignments           int    `json:"count_assignments"`
	CountConversationParts     int    `json:"count_conversation_parts"`
	// ReplyTimes are the waits answered by admin replies (for the median).
	ReplyTimes []int64 `json:"reply_times,omitempty"`
}

// Conversation is a conversation between contacts and teammates.
type Conversation struct {
	WorkspaceID      string
	ID               int64
	CreatedAt        int64
	UpdatedAt        int64
	WaitingSince     *int64
	SnoozedUntil     *int64
	State            string
	Read             bool
	Title            *string
	Priority         string
	AdminAssigneeID  *int64
	TeamAssigneeID   *int64
	CustomAttributes map[string]any
	Source           Source
	Rating           *Rating
	Stats            Statistics

	// Loaded with the conversation.
	Contacts  []ContactRef
	Tags      []Tag
	Teammates []int64 // admins who wrote a part
	// Parts, oldest first: the most recent MaxParts when loaded, or the
	// parts a change added (events and write responses).
	Parts      []*Part
	PartsTotal int
}

// IDString is the id as the API shows it.
func (c *Conversation) IDString() string { return strconv.FormatInt(c.ID, 10) }

// HasContact reports whether the contact takes part in the conversation.
func (c *Conversation) HasContact(id string) bool {
	return slices.ContainsFunc(c.Contacts, func(r ContactRef) bool { return r.ID == id })
}

// ValidPriority reports whether p is a stored priority.
func ValidPriority(p string) bool { return slices.Contains(Priorities, p) }

// ParsePriority accepts both vocabularies: 2.16's none|low|medium|high|urgent
// and 2.14's priority|not_priority ("priority" is stored as "high").
func ParsePriority(p string) (string, bool) {
	switch p {
	case "priority":
		return "high", true
	case "not_priority":
		return "none", true
	}
	return p, ValidPriority(p)
}
