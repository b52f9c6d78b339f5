package email

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/conversation"
	"github.com/parleyhq/parley/internal/jobs"
	"github.com/parleyhq/parley/internal/query"
	"github.com/parleyhq/parley/internal/store"
)

// ReplyKind is the job kind of an emailed reply.
const ReplyKind = "email.reply"

// ReplyPayload names the teammate reply a job may email.
type ReplyPayload struct {
	ConversationID int64 `json:"conversation_id"`
	PartID         int64 `json:"part_id"`
	CreatedAt      int64 `json:"created_at"`
}

// ReplyResult is what a finished job records.
type ReplyResult struct {
	Sent    []string `json:"sent,omitempty"`    // Message-IDs
	Refused []string `json:"refused,omitempty"` // Message-ID: the server's reply
	Reason  string   `json:"reason,omitempty"`
}

// Outbound emails teammates' replies that contacts have not seen.
type Outbound struct {
	db         *store.DB
	opts       Options
	convs      *store.Conversations
	contacts   *store.Contacts
	workspaces *store.Workspaces
	sender     *Sender
	worker     *jobs.Worker // woken when the scheduler enqueued; may be nil
}

// NewOutbound returns the outbound side over db; it sends through the
// server of opts.SMTPURL.
func NewOutbound(db *store.DB, opts Options, worker *jobs.Worker) (*Outbound, error) {
	sender, err := NewSender(opts.SMTPURL, opts.Domain)
	if err != nil {
		return nil, err
	}
	if opts.Poll <= 0 {
		opts.Poll = 2 * time.Second
	}
	// The setting may carry a display name; emails show the teammate's.
	from, err := mail.ParseAddress(opts.From)
	if err != nil {
		return nil, fmt.Errorf("From address %q: %w", opts.From, err)
	}
	opts.From = from.Address
	return &Outbound{db: db, opts: opts, convs: store.NewConversations(db), contacts: store.NewContacts(db),
		workspaces: store.NewWorkspaces(db), sender: sender, worker: worker}, nil
}

// Run schedules emails for new replies until ctx is done.
func (o *Outbound) Run(ctx context.Context) error {
	t := time.NewTicker(o.opts.Poll)
	defer t.Stop()
	for {
		if n, err := o.Schedule(ctx); err != nil && ctx.Err() == nil {
			slog.Warn("email scheduler", "err", err)
		} else if n > 0 && o.worker != nil {
			o.worker.Notify()
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// scanBatch is how many events one scheduling transaction reads.
const scanBatch = 500

// Schedule reads the event log of every workspace past its cursor and
// enqueues, in the transaction that moves the cursor, one job per
// teammate comment, due when the delay is over. It returns how many jobs
// it enqueued.
func (o *Outbound) Schedule(ctx context.Context) (int, error) {
	rows, err := o.db.Read().Query(ctx, `SELECT w.id FROM workspaces w LEFT JOIN email_cursors c ON c.workspace_id = w.id
 WHERE c.seq IS NULL OR c.seq < w.event_seq`)
	if err != nil {
		return 0, err
	}
	var wss []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, err
		}
		wss = append(wss, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	total := 0
	for _, ws := range wss {
		for {
			n, more, err := o.scheduleBatch(ctx, ws)
			total += n
			if err != nil {
				return total, err
			}
			if !more {
				break
			}
		}
	}
	return total, nil
}

// scheduleBatch handles up to scanBatch events of one workspace.
func (o *Outbound) scheduleBatch(ctx context.Context, workspaceID string) (enqueued int, more bool, err error) {
	err = o.db.InTx(ctx, func(tx *store.Tx) error {
		enqueued, more = 0, false
		if _, err := tx.Exec(ctx, `INSERT INTO email_cursors (workspace_id, seq) VALUES (?, 0) ON CONFLICT (workspace_id) DO NOTHING`, workspaceID); err != nil {
			return err
		}
		lock := ""
		if tx.Dialect() == query.Postgres {
			lock = " FOR UPDATE" // another node waits, then sees the moved cursor
		}
		var from, head int64
		if err := tx.QueryRow(ctx, `SELECT seq FROM email_cursors WHERE workspace_id = ?`+lock, workspaceID).Scan(&from); err != nil {
			return store.MapErr(err)
		}
		if err := tx.QueryRow(ctx, `SELECT event_seq FROM workspaces WHERE id = ?`, workspaceID).Scan(&head); err != nil {
			return store.MapErr(err)
		}
		if head <= from {
			return nil
		}
		upto := head
		rows, err := tx.Query(ctx, `SELECT seq, item, created_at FROM event_log WHERE workspace_id = ? AND seq > ? AND seq <= ? AND topic = 'conversation.admin.replied' ORDER BY seq LIMIT ?`,
			workspaceID, from, head, scanBatch)
		if err != nil {
			return err
		}
		type ev struct {
			seq  int64
			item string
		}
		var evs []ev
		for rows.Next() {
			var e ev
			var created int64
			if err := rows.Scan(&e.seq, &e.item, &created); err != nil {
				rows.Close()
				return err
			}
			evs = append(evs, e)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if len(evs) == scanBatch {
			upto, more = evs[len(evs)-1].seq, true
		}
		stale := time.Now().Add(-o.opts.ReplyDelay - staleAfter).Unix()
		delay := int64(o.opts.ReplyDelay / time.Second)
		for _, e := range evs {
			for _, p := range repliesIn(e.item) {
				if p.CreatedAt < stale {
					continue
				}
				if _, err := jobs.EnqueueAt(ctx, tx, workspaceID, ReplyKind, p, p.CreatedAt+delay); err != nil {
					return err
				}
				enqueued++
			}
		}
		_, err = tx.Exec(ctx, `UPDATE email_cursors SET seq = ? WHERE workspace_id = ?`, upto, workspaceID)
		return err
	})
	return enqueued, more, err
}

// repliesIn returns the teammate comments of a conversation.admin.replied
// event item (the conversation with the parts of the change).
func repliesIn(item string) []ReplyPayload {
	var v struct {
		ID    string `json:"id"`
		Parts struct {
			Parts []struct {
				ID        string `json:"id"`
				PartType  string `json:"part_type"`
				CreatedAt int64  `json:"created_at"`
				Author    struct {
					Type string `json:"type"`
				} `json:"author"`
			} `json:"conversation_parts"`
		} `json:"conversation_parts"`
	}
	if json.Unmarshal([]byte(item), &v) != nil {
		return nil
	}
	conv, err := strconv.ParseInt(v.ID, 10, 64)
	if err != nil {
		return nil
	}
	var out []ReplyPayload
	for _, p := range v.Parts.Parts {
		id, err := strconv.ParseInt(p.ID, 10, 64)
		if err != nil || p.PartType != conversation.PartComment || p.Author.Type != conversation.AuthorAdmin {
			continue
		}
		out = append(out, ReplyPayload{ConversationID: conv, PartID: id, CreatedAt: p.CreatedAt})
	}
	return out
}

// outMessage is one email to one contact.
type outMessage struct {
	MessageID string
	ContactID string
	Address   string
	PartIDs   []int64
}

// NotConfigured runs ReplyKind jobs when no SMTP server is configured
// (any left from when one was): they complete without sending.
func NotConfigured(context.Context, *jobs.Job, func(any) error) (any, error) {
	return &ReplyResult{Reason: "no SMTP server is configured (PARLEY_SMTP_URL)"}, nil
}

// Handler runs ReplyKind jobs: unless the contact saw the reply in the
// Messenger, it emails every participant with an email address the
// conversation's teammate comments they have neither seen nor been
// emailed (the reply of the job and any that followed it: one email, not
// one per reply).
func (o *Outbound) Handler() jobs.Handler {
	return func(ctx context.Context, job *jobs.Job, _ func(any) error) (any, error) {
		var p ReplyPayload
		if err := json.Unmarshal(job.Payload, &p); err != nil {
			return &ReplyResult{Reason: "unreadable payload: " + err.Error()}, nil
		}
		ws := job.WorkspaceID
		c, err := o.convs.Get(ctx, ws, p.ConversationID)
		if errors.Is(err, store.ErrNotFound) {
			return &ReplyResult{Reason: "the conversation no longer exists"}, nil
		}
		if err != nil {
			return nil, err
		}
		seen, err := o.convs.ContactSeenAt(ctx, ws, c.ID)
		if err != nil {
			return nil, err
		}
		if seen != nil && *seen >= p.CreatedAt {
			return &ReplyResult{Reason: "seen in the Messenger"}, nil
		}
		msgs, err := o.prepare(ctx, c, p, seen)
		if err != nil {
			return nil, err
		}
		res := &ReplyResult{}
		for _, m := range msgs {
			err := o.send(ctx, c, m)
			var se *smtp.SMTPError
			if errors.As(err, &se) && se.Code/100 == 5 {
				// Refused for good (unknown mailbox, rejected sender or
				// credentials): retrying cannot help; the message is
				// kept with the refusal and not sent again.
				if err := o.refused(ctx, c.WorkspaceID, m.MessageID, se); err != nil {
					return nil, err
				}
				res.Refused = append(res.Refused, m.MessageID+": "+se.Error())
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("send %s: %w", m.MessageID, err)
			}
			res.Sent = append(res.Sent, m.MessageID)
		}
		if len(res.Sent)+len(res.Refused) == 0 {
			res.Reason = "nothing left to email"
		}
		return res, nil
	}
}

// prepare records, in one transaction, the emails the job sends: for each
// participant with an email, a message (new Message-ID) holding the unseen
// teammate comments not yet emailed to them, or — when the job's reply was
// already put in a message that was not confirmed sent (a crash, an SMTP
// failure) — that same message again.
func (o *Outbound) prepare(ctx context.Context, c *conversation.Conversation, p ReplyPayload, seen *int64) ([]outMessage, error) {
	type recipient struct {
		id, email string
	}
	var rcpts []recipient
	for _, ref := range c.Contacts {
		ct, err := o.contacts.Get(ctx, c.WorkspaceID, ref.ID)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if ct.Email != nil && *ct.Email != "" && !unreachable(ct) {
			rcpts = append(rcpts, recipient{ct.ID, *ct.Email})
		}
	}
	var out []outMessage
	err := o.db.InTx(ctx, func(tx *store.Tx) error {
		out = out[:0]
		for _, r := range rcpts {
			var mid string
			var sent *int64
			var failed *string
			err := tx.QueryRow(ctx, `SELECT m.message_id, m.sent_at, m.error FROM email_parts p JOIN email_messages m ON m.workspace_id = p.workspace_id AND m.message_id = p.message_id
 WHERE p.workspace_id = ? AND p.part_id = ? AND p.contact_id = ?`, c.WorkspaceID, p.PartID, r.id).Scan(&mid, &sent, &failed)
			switch err = store.MapErr(err); {
			case err == nil && (sent != nil || failed != nil):
				continue // emailed already, or refused for good
			case err == nil:
				m, err := loadMessage(ctx, tx, c.WorkspaceID, mid)
				if err != nil {
					return err
				}
				out = append(out, *m)
				continue
			case !errors.Is(err, store.ErrNotFound):
				return err
			}
			emailed, err := emailedParts(ctx, tx, c.WorkspaceID, c.ID, r.id)
			if err != nil {
				return err
			}
			m := outMessage{MessageID: newMessageID(o.opts.Domain), ContactID: r.id, Address: r.email}
			for _, part := range c.Parts {
				if part.Type != conversation.PartComment || part.Author.Type != conversation.AuthorAdmin ||
					(seen != nil && *seen >= part.CreatedAt) || emailed[part.ID] {
					continue
				}
				m.PartIDs = append(m.PartIDs, part.ID)
			}
			if len(m.PartIDs) == 0 {
				continue
			}
			ids, _ := json.Marshal(m.PartIDs)
			if _, err := tx.Exec(ctx, `INSERT INTO email_messages (workspace_id, message_id, conversation_id, direction, contact_id, address, part_ids, created_at)
 VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, c.WorkspaceID, m.MessageID, c.ID, outbound, r.id, r.email, string(ids), time.Now().Unix()); err != nil {
				return err
			}
			for _, id := range m.PartIDs {
				if _, err := tx.Exec(ctx, `INSERT INTO email_parts (workspace_id, part_id, contact_id, message_id) VALUES (?, ?, ?, ?)`,
					c.WorkspaceID, id, r.id, m.MessageID); err != nil {
					return err
				}
			}
			out = append(out, m)
		}
		if len(out) > 0 {
			_, err := threadToken(ctx, tx, c.WorkspaceID, c.ID)
			return err
		}
		return nil
	})
	return out, err
}

// unreachable: contacts who must not get email.
func unreachable(c *contact.Contact) bool {
	return c.UnsubscribedFromEmails || c.HasHardBounced || c.MarkedEmailAsSpam
}

// emailedParts returns the parts of a conversation already put in an
// email to a contact.
func emailedParts(ctx context.Context, r store.Runner, workspaceID string, conversationID int64, contactID string) (map[int64]bool, error) {
	rows, err := r.Query(ctx, `SELECT p.part_id FROM email_parts p JOIN email_messages m ON m.workspace_id = p.workspace_id AND m.message_id = p.message_id
 WHERE m.workspace_id = ? AND m.conversation_id = ? AND p.contact_id = ?`, workspaceID, conversationID, contactID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int64]bool{}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out[id] = true
	}
	return out, rows.Err()
}

func loadMessage(ctx context.Context, r store.Runner, workspaceID, messageID string) (*outMessage, error) {
	m := &outMessage{MessageID: messageID}
	var ids string
	err := r.QueryRow(ctx, `SELECT contact_id, address, part_ids FROM email_messages WHERE workspace_id = ? AND message_id = ?`, workspaceID, messageID).
		Scan(&m.ContactID, &m.Address, &ids)
	if err != nil {
		return nil, store.MapErr(err)
	}
	return m, json.Unmarshal([]byte(ids), &m.PartIDs)
}

// send renders and sends one message, then marks it sent.
func (o *Outbound) send(ctx context.Context, c *conversation.Conversation, m outMessage) error {
	w, err := o.workspaces.Workspace(ctx, c.WorkspaceID)
	if err != nil {
		return err
	}
	var token string
	var refs []string
	err = o.db.InTx(ctx, func(tx *store.Tx) error {
		if token, err = threadToken(ctx, tx, c.WorkspaceID, c.ID); err != nil {
			return err
		}
		refs, err = threadRefs(ctx, tx, c.WorkspaceID, c.ID, m.MessageID)
		return err
	})
	if err != nil {
		return err
	}
	parts := make([]*conversation.Part, 0, len(m.PartIDs))
	for _, id := range m.PartIDs {
		for _, p := range c.Parts {
			if p.ID == id {
				parts = append(parts, p)
			}
		}
	}
	if len(parts) == 0 {
		return nil // parts beyond the loaded window: nothing to show
	}
	msg := &rendered{
		MessageID:  m.MessageID,
		From:       o.opts.From,
		FromName:   fromName(parts[len(parts)-1].Author, w.Name),
		To:         m.Address,
		ReplyTo:    replyPrefix + token + "@" + o.opts.Domain,
		Subject:    subject(c),
		References: refs,
		Parts:      parts,
		Date:       time.Now(),
	}
	raw, err := msg.bytes()
	if err != nil {
		return err
	}
	if err := o.sender.Send(ctx, o.opts.From, []string{m.Address}, raw); err != nil {
		return err
	}
	return o.db.InTx(context.WithoutCancel(ctx), func(tx *store.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE email_messages SET sent_at = ? WHERE workspace_id = ? AND message_id = ?`, time.Now().Unix(), c.WorkspaceID, m.MessageID)
		return err
	})
}

// refused records the mail server's permanent refusal of a message.
func (o *Outbound) refused(ctx context.Context, workspaceID, messageID string, se *smtp.SMTPError) error {
	slog.Warn("email refused by the mail server", "workspace", workspaceID, "message_id", messageID, "err", se)
	return o.db.InTx(context.WithoutCancel(ctx), func(tx *store.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE email_messages SET error = ? WHERE workspace_id = ? AND message_id = ?`, se.Error(), workspaceID, messageID)
		return err
	})
}

// threadRefs returns the Message-IDs of the conversation's earlier emails
// (both directions), oldest first, for References (at most the 20 last).
func threadRefs(ctx context.Context, r store.Runner, workspaceID string, conversationID int64, except string) ([]string, error) {
	rows, err := r.Query(ctx, `SELECT message_id FROM email_messages WHERE workspace_id = ? AND conversation_id = ? AND message_id <> ?
 AND (direction = ? OR sent_at IS NOT NULL) ORDER BY created_at DESC, message_id DESC LIMIT 20`, workspaceID, conversationID, except, inbound)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append([]string{id}, out...)
	}
	return out, rows.Err()
}

// fromName is how the sender is shown: "Ada from Acme".
func fromName(a conversation.Author, workspace string) string {
	if a.Name != nil && *a.Name != "" {
		return *a.Name + " from " + workspace
	}
	return workspace
}

// subject is the conversation's subject, or the start of its first message.
func subject(c *conversation.Conversation) string {
	s := strings.TrimSpace(c.Source.Subject)
	if s == "" {
		s = strings.TrimSpace(conversation.Plaintext(c.Source.Body))
		if i := strings.IndexByte(s, '\n'); i >= 0 {
			s = s[:i]
		}
		if r := []rune(s); len(r) > 60 {
			s = string(r[:60]) + "…"
		}
	}
	if s == "" {
		return "Your conversation"
	}
	if !strings.HasPrefix(strings.ToLower(s), "re:") {
		s = "Re: " + s
	}
	return s
}
