package store

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/parleyhq/parley/internal/assign"
	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/conversation"
)

// ContactStart is a contact's first message: what StartByContact needs to
// start a conversation, from any channel.
type ContactStart struct {
	WorkspaceID string
	ContactID   string
	// Body is the message as stored: HTML (a contact's plain text escaped
	// and wrapped in paragraphs by the caller). Assignment rules match its
	// plain text.
	Body    string
	Subject string
	// SourceType is the channel: "conversation" (the default: the API and
	// the Messenger) or "email".
	SourceType  string
	URL         string
	Attachments []conversation.Attachment
	// At is when the message was written (Unix seconds; 0: now).
	At int64
	// Also, when set, runs inside the creating transaction once the
	// conversation, its events and its assignment are written (e.g. to
	// record an inbound email's Message-ID). An error undoes everything.
	Also func(ctx context.Context, tx *Tx, c *conversation.Conversation) error
}

// StartByContact is "a contact starts a conversation", the one way every
// channel creates contact-initiated conversations (POST /conversations,
// the Messenger, inbound email). In one transaction it creates the
// conversation with the contact as author and participant, appends
// conversation.user.created, routes it by the workspace's assignment rules
// (first match in priority order, then the team's distribution) and, when
// a rule matched, records the assignment part and appends
// conversation.admin.assigned. A contact that does not exist (or was
// merged) is a *MissingError "contact". It returns the conversation as
// stored, with the parts it added.
func (s *Conversations) StartByContact(ctx context.Context, in ContactStart) (*conversation.Conversation, error) {
	if in.At == 0 {
		in.At = time.Now().Unix()
	}
	var out *conversation.Conversation
	err := s.db.InTx(ctx, func(tx *Tx) error {
		rec, err := (&Search{db: s.db}).Record(ctx, tx, in.WorkspaceID, in.ContactID)
		if errors.Is(err, ErrNotFound) {
			return &MissingError{Kind: "contact"}
		}
		if err != nil {
			return err
		}
		ct := rec.Contact
		from := conversation.Author{Type: ct.Role, ID: ct.ID, Name: ct.Name}
		if ct.Email != nil {
			from.Email = *ct.Email
		}
		c, ch := conversation.NewFromContact(in.WorkspaceID, from, ct.ID, ct.ExternalID, in.Body, in.Subject, in.Attachments, in.At)
		if in.SourceType != "" {
			c.Source.Type = in.SourceType
		}
		if in.URL != "" {
			c.Source.URL = &in.URL
		}
		if err := s.insert(ctx, tx, c, ch); err != nil {
			return err
		}
		d, err := s.engine(tx).Route(ctx, in.WorkspaceID, routeRecord(c, rec))
		if err != nil {
			return err
		}
		parts := ch.Parts
		if d.TeamID != 0 || d.AdminID != 0 {
			routed := c.Route(conversation.Operator, d.TeamID, d.AdminID, in.At)
			if err := s.save(ctx, tx, c); err != nil {
				return err
			}
			if err := s.record(ctx, tx, c, routed); err != nil {
				return err
			}
			parts = append(parts, routed.Parts...)
		}
		c.Parts, c.PartsTotal = parts, len(parts)
		if c.Parts == nil {
			c.Parts = []*conversation.Part{}
		}
		out = c
		if in.Also != nil {
			return in.Also(ctx, tx, c)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// routeRecord is what assignment rules see of a conversation: its first
// message as plain text, and the contact who started it.
func routeRecord(c *conversation.Conversation, starter *contact.Record) *assign.Conversation {
	rec := &assign.Conversation{SourceType: c.Source.Type, SourceSubject: c.Source.Subject,
		SourceBody: conversation.Plaintext(c.Source.Body), Contact: starter}
	if c.Source.URL != nil {
		rec.SourceURL = *c.Source.URL
	}
	return rec
}

// RunAssignmentRules routes an existing conversation by the assignment
// rules as if it had just arrived (its first message, its first
// participant). A matching rule's assignment is recorded like a new
// conversation's (conversation.admin.assigned); when no rule matches, or
// the conversation is already where the rule sends it, nothing changes.
func (s *Conversations) RunAssignmentRules(ctx context.Context, workspaceID string, id int64) (*conversation.Conversation, error) {
	return s.change(ctx, workspaceID, id, func(tx *Tx, c *conversation.Conversation) (*conversation.Change, error) {
		var starter *contact.Record
		if len(c.Contacts) > 0 {
			rec, err := (&Search{db: s.db}).Record(ctx, tx, workspaceID, c.Contacts[0].ID)
			if err != nil && !errors.Is(err, ErrNotFound) {
				return nil, err
			}
			starter = rec
		}
		d, err := s.engine(tx).Route(ctx, workspaceID, routeRecord(c, starter))
		if err != nil || d.RuleID == 0 {
			return &conversation.Change{}, err
		}
		return c.Route(conversation.Operator, d.TeamID, d.AdminID, time.Now().Unix()), nil
	})
}

// engine is the assignment engine bound to tx, with the conversations of
// this store as its inbox.
func (s *Conversations) engine(tx *Tx) *assign.Engine {
	return &assign.Engine{Store: txAssignState{tx: tx}, Inbox: convInbox{s: s, tx: tx}}
}

// rebalanceAfter hands out what a change made available: when the teammate
// who held the conversation no longer does (closed, snoozed, handed off),
// their teams' waiting conversations; when the conversation starts waiting
// in a team inbox, that team's.
func (s *Conversations) rebalanceAfter(ctx context.Context, tx *Tx, c *conversation.Conversation, heldBy, waitingIn int64) error {
	e := s.engine(tx)
	if heldBy != 0 && c.HeldBy() != heldBy {
		if _, err := e.Freed(ctx, c.WorkspaceID, heldBy); err != nil {
			return err
		}
	}
	if t := c.WaitingInTeam(); t != 0 && t != waitingIn {
		if _, err := e.Rebalance(ctx, c.WorkspaceID, t); err != nil && !IsMissing(err, "team") && !errors.Is(err, ErrNotFound) {
			return err
		}
	}
	return nil
}

// convInbox is assign.Inbox over the conversations of one write
// transaction.
type convInbox struct {
	s  *Conversations
	tx *Tx
}

var _ assign.Inbox = convInbox{}

func (in convInbox) OpenCounts(ctx context.Context, workspaceID string, adminIDs []int64) (map[int64]int, error) {
	out := map[int64]int{}
	if len(adminIDs) == 0 {
		return out, nil
	}
	args := []any{workspaceID, conversation.StateOpen}
	for _, id := range adminIDs {
		args = append(args, id)
	}
	rows, err := in.tx.Query(ctx, `SELECT admin_assignee_id, count(*) FROM conversations
 WHERE workspace_id = ? AND state = ? AND admin_assignee_id IN (`+inList(len(adminIDs))+`) GROUP BY admin_assignee_id`, args...)
	if err != nil {
		return nil, err
	}
	return out, eachRow(rows, func() error {
		var id int64
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			return err
		}
		out[id] = n
		return nil
	})
}

func (in convInbox) Waiting(ctx context.Context, workspaceID string, teamID int64, limit int) ([]string, error) {
	rows, err := in.tx.Query(ctx, `SELECT id FROM conversations
 WHERE workspace_id = ? AND team_assignee_id = ? AND admin_assignee_id IS NULL AND state = ?
 ORDER BY COALESCE(waiting_since, updated_at), id LIMIT ?`, workspaceID, teamID, conversation.StateOpen, limit)
	if err != nil {
		return nil, err
	}
	var out []string
	return out, eachRow(rows, func() error {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return err
		}
		out = append(out, strconv.FormatInt(id, 10))
		return nil
	})
}

func (in convInbox) Held(ctx context.Context, workspaceID string, adminID int64) ([]assign.Held, error) {
	rows, err := in.tx.Query(ctx, `SELECT id, COALESCE(team_assignee_id, 0) FROM conversations
 WHERE workspace_id = ? AND admin_assignee_id = ? AND state = ? ORDER BY id`, workspaceID, adminID, conversation.StateOpen)
	if err != nil {
		return nil, err
	}
	var out []assign.Held
	return out, eachRow(rows, func() error {
		var id int64
		var h assign.Held
		if err := rows.Scan(&id, &h.TeamID); err != nil {
			return err
		}
		h.ConversationID = strconv.FormatInt(id, 10)
		out = append(out, h)
		return nil
	})
}

// Assign routes one conversation (an assignment part by the Operator and
// conversation.admin.assigned). It does not rebalance in turn: the engine
// calling it is already handing conversations out.
func (in convInbox) Assign(ctx context.Context, workspaceID, conversationID string, teamID, adminID int64) error {
	id, err := strconv.ParseInt(conversationID, 10, 64)
	if err != nil {
		return err
	}
	now := time.Now().Unix()
	_, err = in.s.changeIn(ctx, in.tx, workspaceID, id, false, func(_ *Tx, c *conversation.Conversation) (*conversation.Change, error) {
		return c.Route(conversation.Operator, teamID, adminID, now), nil
	})
	return err
}

// AdminStart is a teammate's message to a contact that starts a
// conversation (POST /messages).
type AdminStart struct {
	WorkspaceID string
	Admin       conversation.Author
	ContactID   string
	// SourceType is "conversation" (in-app) or "email".
	SourceType string
	Subject    string
	Body       string // HTML as stored
	At         int64  // 0: now
}

// StartByAdmin creates an admin-initiated conversation with the contact as
// participant and appends conversation.admin.single.created. A contact
// that does not exist (or was merged) is a *MissingError "contact".
func (s *Conversations) StartByAdmin(ctx context.Context, in AdminStart) (*conversation.Conversation, error) {
	if in.At == 0 {
		in.At = time.Now().Unix()
	}
	var c *conversation.Conversation
	err := s.db.InTx(ctx, func(tx *Tx) error {
		ref := conversation.ContactRef{ID: in.ContactID}
		err := tx.QueryRow(ctx, `SELECT external_id FROM contacts WHERE workspace_id = ? AND id = ? AND merged_into IS NULL`,
			in.WorkspaceID, in.ContactID).Scan(&ref.ExternalID)
		if err = mapErr(err); errors.Is(err, ErrNotFound) {
			return &MissingError{Kind: "contact"}
		} else if err != nil {
			return err
		}
		var ch *conversation.Change
		c, ch = conversation.NewFromAdmin(in.WorkspaceID, in.Admin, ref, in.SourceType, in.Subject, in.Body, in.At)
		return s.insert(ctx, tx, c, ch)
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}
