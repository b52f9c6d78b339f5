package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/parleyhq/parley/internal/conversation"
	"github.com/parleyhq/parley/internal/eventlog"
	"github.com/parleyhq/parley/internal/query"
)

// Conversations is the SQL store of conversations, their parts,
// participants and tags. Every change goes through the rules of package
// conversation and appends its events in the same transaction.
type Conversations struct {
	db *DB
	// OnSnooze, when set, runs inside the transaction that snoozed a
	// conversation (part is the snoozed part): it schedules the reopen.
	OnSnooze func(ctx context.Context, tx *Tx, c *conversation.Conversation, part *conversation.Part) error
}

// NewConversations returns the conversation store.
func NewConversations(db *DB) *Conversations { return &Conversations{db: db} }

const convCols = `id, workspace_id, state, read, title, priority, admin_assignee_id, team_assignee_id,
 snoozed_until, waiting_since, created_at, updated_at, custom_attributes, source_type, source_delivered_as,
 source_subject, source_body, source_author, source_url, source_attachments, rating, statistics`

func scanConversation(row interface{ Scan(...any) error }) (*conversation.Conversation, error) {
	c := &conversation.Conversation{}
	var custom, author, attachments, stats []byte
	var rating *string
	err := row.Scan(&c.ID, &c.WorkspaceID, &c.State, &c.Read, &c.Title, &c.Priority, &c.AdminAssigneeID, &c.TeamAssigneeID,
		&c.SnoozedUntil, &c.WaitingSince, &c.CreatedAt, &c.UpdatedAt, &custom, &c.Source.Type, &c.Source.DeliveredAs,
		&c.Source.Subject, &c.Source.Body, &author, &c.Source.URL, &attachments, &rating, &stats)
	if err != nil {
		return nil, mapErr(err)
	}
	if err := decodeCustom(custom, &c.CustomAttributes); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(author, &c.Source.Author); err != nil {
		return nil, fmt.Errorf("conversation %d source author: %w", c.ID, err)
	}
	if err := json.Unmarshal(attachments, &c.Source.Attachments); err != nil {
		return nil, fmt.Errorf("conversation %d source attachments: %w", c.ID, err)
	}
	if err := json.Unmarshal(stats, &c.Stats); err != nil {
		return nil, fmt.Errorf("conversation %d statistics: %w", c.ID, err)
	}
	if rating != nil {
		c.Rating = &conversation.Rating{}
		if err := json.Unmarshal([]byte(*rating), c.Rating); err != nil {
			return nil, fmt.Errorf("conversation %d rating: %w", c.ID, err)
		}
	}
	return c, nil
}

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func ratingText(r *conversation.Rating) *string {
	if r == nil {
		return nil
	}
	s := jsonText(r)
	return &s
}

// inList returns "?, ?, …" for n arguments.
func inList(n int) string { return strings.TrimSuffix(strings.Repeat("?, ", n), ", ") }

// eachRow calls fn for every row and closes rows.
func eachRow(rows interface {
	Next() bool
	Err() error
	Close() error
}, fn func() error) error {
	defer rows.Close()
	for rows.Next() {
		if err := fn(); err != nil {
			return mapErr(err)
		}
	}
	return mapErr(rows.Err())
}

const partCols = `id, part_type, body, author_type, author_id, author_name, author_email, assigned_to, state, metadata, attachments, created_at, updated_at`

func scanPart(row interface{ Scan(...any) error }) (*conversation.Part, error) {
	p := &conversation.Part{}
	var assigned, metadata *string
	var attachments []byte
	if err := row.Scan(&p.ID, &p.Type, &p.Body, &p.Author.Type, &p.Author.ID, &p.Author.Name, &p.Author.Email,
		&assigned, &p.State, &metadata, &attachments, &p.CreatedAt, &p.UpdatedAt); err != nil {
		return nil, err
	}
	if assigned != nil {
		p.AssignedTo = &conversation.Ref{}
		if err := json.Unmarshal([]byte(*assigned), p.AssignedTo); err != nil {
			return nil, err
		}
	}
	if metadata != nil {
		p.Metadata = &conversation.Metadata{}
		if err := json.Unmarshal([]byte(*metadata), p.Metadata); err != nil {
			return nil, err
		}
	}
	return p, json.Unmarshal(attachments, &p.Attachments)
}

// loadParts loads the most recent MaxParts parts, oldest first.
// Part loads one part of a conversation.
func (s *Conversations) Part(ctx context.Context, workspaceID string, conversationID, id int64) (*conversation.Part, error) {
	p, err := scanPart(s.db.Read().QueryRow(ctx, `SELECT `+partCols+` FROM conversation_parts WHERE workspace_id = ? AND conversation_id = ? AND id = ?`,
		workspaceID, conversationID, id))
	return p, mapErr(err)
}

func (s *Conversations) loadParts(ctx context.Context, r Runner, c *conversation.Conversation) error {
	rows, err := r.Query(ctx, `SELECT `+partCols+` FROM conversation_parts WHERE workspace_id = ? AND conversation_id = ? ORDER BY id DESC LIMIT ?`,
		c.WorkspaceID, c.ID, conversation.MaxParts)
	if err != nil {
		return err
	}
	c.Parts = []*conversation.Part{}
	err = eachRow(rows, func() error {
		p, err := scanPart(rows)
		if err == nil {
			c.Parts = append(c.Parts, p)
		}
		return err
	})
	slices.Reverse(c.Parts)
	c.PartsTotal = c.Stats.CountConversationParts
	return err
}

func (s *Conversations) getIn(ctx context.Context, r Runner, workspaceID string, id int64, lock bool) (*conversation.Conversation, error) {
	// The row and its participants, tags and teammates in one query (JSON
	// arrays): every change loads it inside the single committer, where a
	// round trip holds up the whole batch; lists and searches select the
	// same columns.
	q := `SELECT ` + convCols + `, ` + relatedJSON[r.Dialect()] + ` FROM conversations cv WHERE cv.workspace_id = ? AND cv.id = ?`
	if lock && r.Dialect() == query.Postgres {
		q += ` FOR UPDATE OF cv`
	}
	return scanWithRelated(r.QueryRow(ctx, q, workspaceID, id))
}

// scanWithRelated scans a row selected with convCols, relatedJSON and then
// any extra columns.
func scanWithRelated(row interface{ Scan(...any) error }, extra ...any) (*conversation.Conversation, error) {
	var contacts, tags, teammates []byte
	c, err := scanConversation(scanExtra{row, append([]any{&contacts, &tags, &teammates}, extra...)})
	if err != nil {
		return nil, err
	}
	return c, decodeRelated(c, contacts, tags, teammates)
}

// relatedJSON selects, per dialect, a conversation's (alias cv)
// participants [[id, external_id]] in joining order, tags [[id, name,
// applied_at, applied_by]] in applying order, and the admins who wrote
// ["id"] in order of their first part.
var relatedJSON = [2]string{
	query.SQLite: `(SELECT json_group_array(json_array(x.contact_id, x.external_id)) FROM (SELECT cc.contact_id, c.external_id FROM conversation_contacts cc
 LEFT JOIN contacts c ON c.workspace_id = cc.workspace_id AND c.id = cc.contact_id WHERE cc.workspace_id = cv.workspace_id AND cc.conversation_id = cv.id ORDER BY cc.position) x),
 (SELECT json_group_array(json_array(x.tag_id, x.name, x.applied_at, x.applied_by)) FROM (SELECT ct.tag_id, t.name, ct.applied_at, ct.applied_by FROM conversation_tags ct
 JOIN tags t ON t.workspace_id = ct.workspace_id AND t.id = ct.tag_id WHERE ct.workspace_id = cv.workspace_id AND ct.conversation_id = cv.id ORDER BY ct.applied_at, ct.tag_id) x),
 (SELECT json_group_array(x.author_id) FROM (SELECT p.author_id, min(p.id) AS first FROM conversation_parts p
 WHERE p.workspace_id = cv.workspace_id AND p.conversation_id = cv.id AND p.author_type = 'admin' GROUP BY p.author_id ORDER BY first) x)`,
	query.Postgres: `(SELECT coalesce(json_agg(json_build_array(cc.contact_id, c.external_id) ORDER BY cc.position), '[]')::text FROM conversation_contacts cc
 LEFT JOIN contacts c ON c.workspace_id = cc.workspace_id AND c.id = cc.contact_id WHERE cc.workspace_id = cv.workspace_id AND cc.conversation_id = cv.id),
 (SELECT coalesce(json_agg(json_build_array(ct.tag_id, t.name, ct.applied_at, ct.applied_by) ORDER BY ct.applied_at, ct.tag_id), '[]')::text FROM conversation_tags ct
 JOIN tags t ON t.workspace_id = ct.workspace_id AND t.id = ct.tag_id WHERE ct.workspace_id = cv.workspace_id AND ct.conversation_id = cv.id),
 (SELECT coalesce(json_agg(x.author_id ORDER BY x.first), '[]')::text FROM (SELECT p.author_id, min(p.id) AS first FROM conversation_parts p
 WHERE p.workspace_id = cv.workspace_id AND p.conversation_id = cv.id AND p.author_type = 'admin' GROUP BY p.author_id) x)`,
}

func decodeRelated(c *conversation.Conversation, contacts, tags, teammates []byte) error {
	var refs [][2]*string
	var tagRows [][4]json.RawMessage
	var admins []string
	if err := errors.Join(json.Unmarshal(contacts, &refs), json.Unmarshal(tags, &tagRows), json.Unmarshal(teammates, &admins)); err != nil {
		return fmt.Errorf("conversation %d: decode relations: %w", c.ID, err)
	}
	c.Contacts, c.Tags, c.Teammates = []conversation.ContactRef{}, []conversation.Tag{}, []int64{}
	for _, ref := range refs {
		if ref[0] != nil {
			c.Contacts = append(c.Contacts, conversation.ContactRef{ID: *ref[0], ExternalID: ref[1]})
		}
	}
	for _, row := range tagRows {
		var t conversation.Tag
		if err := errors.Join(json.Unmarshal(row[0], &t.ID), json.Unmarshal(row[1], &t.Name), json.Unmarshal(row[2], &t.AppliedAt), json.Unmarshal(row[3], &t.AppliedBy)); err != nil {
			return fmt.Errorf("conversation %d: decode a tag: %w", c.ID, err)
		}
		c.Tags = append(c.Tags, t)
	}
	for _, a := range admins {
		if n, err := strconv.ParseInt(a, 10, 64); err == nil {
			c.Teammates = append(c.Teammates, n)
		}
	}
	return nil
}

// Get loads a conversation with its most recent parts.
func (s *Conversations) Get(ctx context.Context, workspaceID string, id int64) (*conversation.Conversation, error) {
	r := s.db.Read()
	c, err := s.getIn(ctx, r, workspaceID, id, false)
	if err != nil {
		return nil, err
	}
	return c, s.loadParts(ctx, r, c)
}

// List returns conversations with id < before (0: from the newest), newest
// first, without parts, and the workspace's total.
func (s *Conversations) List(ctx context.Context, workspaceID string, before int64, limit int) ([]*conversation.Conversation, int, error) {
	r := s.db.Read()
	var total int
	if err := r.QueryRow(ctx, `SELECT count(*) FROM conversations WHERE workspace_id = ?`, workspaceID).Scan(&total); err != nil {
		return nil, 0, mapErr(err)
	}
	q := `SELECT ` + convCols + `, ` + relatedJSON[r.Dialect()] + ` FROM conversations cv WHERE cv.workspace_id = ?`
	args := []any{workspaceID}
	if before > 0 {
		q += ` AND cv.id < ?`
		args = append(args, before)
	}
	rows, err := r.Query(ctx, q+` ORDER BY cv.id DESC LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, 0, err
	}
	var out []*conversation.Conversation
	err = eachRow(rows, func() error {
		c, err := scanWithRelated(rows)
		if err == nil {
			out = append(out, c)
		}
		return err
	})
	if err != nil {
		return nil, 0, err
	}
	return out, total, nil
}

// LastForContact returns the id of the conversation of a contact updated
// most recently (the reply id "last").
func (s *Conversations) LastForContact(ctx context.Context, workspaceID, contactID string) (int64, error) {
	var id int64
	err := s.db.Read().QueryRow(ctx, `SELECT c.id FROM conversation_contacts cc
 JOIN conversations c ON c.workspace_id = cc.workspace_id AND c.id = cc.conversation_id
 WHERE cc.workspace_id = ? AND cc.contact_id = ? ORDER BY c.updated_at DESC, c.id DESC LIMIT 1`, workspaceID, contactID).Scan(&id)
	return id, mapErr(err)
}

// Create inserts a new conversation (built by conversation.NewFromContact)
// with its participants and appends the change's events.
func (s *Conversations) Create(ctx context.Context, c *conversation.Conversation, ch *conversation.Change) error {
	return s.db.InTx(ctx, func(tx *Tx) error { return s.insert(ctx, tx, c, ch) })
}

// insert writes a new conversation, its participants and the change's
// parts and events inside tx.
func (s *Conversations) insert(ctx context.Context, tx *Tx, c *conversation.Conversation, ch *conversation.Change) error {
	{
		err := tx.QueryRow(ctx, `INSERT INTO conversations (workspace_id, state, read, title, priority, admin_assignee_id, team_assignee_id,
 snoozed_until, waiting_since, created_at, updated_at, custom_attributes, source_type, source_delivered_as,
 source_subject, source_body, source_author, source_url, source_attachments, rating, statistics)
 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			c.WorkspaceID, c.State, c.Read, c.Title, c.Priority, c.AdminAssigneeID, c.TeamAssigneeID,
			c.SnoozedUntil, c.WaitingSince, c.CreatedAt, c.UpdatedAt, encodeCustom(c.CustomAttributes), c.Source.Type, c.Source.DeliveredAs,
			c.Source.Subject, c.Source.Body, jsonText(c.Source.Author), c.Source.URL, jsonText(c.Source.Attachments), ratingText(c.Rating), jsonText(c.Stats)).Scan(&c.ID)
		if err != nil {
			return mapErr(err)
		}
		for _, ref := range c.Contacts {
			if err := s.addContact(ctx, tx, c, ref.ID); err != nil {
				return err
			}
		}
		if c.Tags == nil {
			c.Tags, c.Teammates = []conversation.Tag{}, []int64{}
		}
		return s.record(ctx, tx, c, ch)
	}
}

func (s *Conversations) addContact(ctx context.Context, tx *Tx, c *conversation.Conversation, contactID string) error {
	// position keeps the order participants joined in.
	_, err := tx.Exec(ctx, `INSERT INTO conversation_contacts (workspace_id, conversation_id, contact_id, position, created_at)
 SELECT ?, ?, ?, COALESCE(max(position), 0) + 1, ? FROM conversation_contacts WHERE workspace_id = ? AND conversation_id = ?`,
		c.WorkspaceID, c.ID, contactID, time.Now().Unix(), c.WorkspaceID, c.ID)
	return err
}

// record inserts the change's parts and appends its events, each carrying
// the conversation with the parts of this change (as Intercom's webhooks do).
func (s *Conversations) record(ctx context.Context, tx *Tx, c *conversation.Conversation, ch *conversation.Change) error {
	replier, repliedAt, replyPart := contactReplyOf(c, ch)
	for _, p := range ch.Parts {
		var assigned, metadata *string
		if p.AssignedTo != nil {
			a := jsonText(p.AssignedTo)
			assigned = &a
		}
		if p.Metadata != nil {
			m := jsonText(p.Metadata)
			metadata = &m
		}
		q := `INSERT INTO conversation_parts (workspace_id, conversation_id, part_type, body, author_type, author_id, author_name, author_email,
 assigned_to, state, metadata, attachments, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`
		args := []any{c.WorkspaceID, c.ID, p.Type, p.Body, p.Author.Type, p.Author.ID, p.Author.Name, p.Author.Email,
			assigned, p.State, metadata, jsonText(p.Attachments), p.CreatedAt, p.UpdatedAt}
		if p == replyPart && tx.Dialect() == query.Postgres {
			// The writer's last_replied_at moves in the same statement (a
			// data-modifying WITH): one round trip less per contact reply.
			q = `WITH replied AS (` + lastRepliedSQL + `) ` + q
			args = append([]any{repliedAt, c.WorkspaceID, replier, repliedAt}, args...)
			replier = ""
		}
		if err := tx.QueryRow(ctx, q, args...).Scan(&p.ID); err != nil {
			return mapErr(err)
		}
	}
	if replier != "" {
		if _, err := tx.Exec(ctx, lastRepliedSQL, repliedAt, c.WorkspaceID, replier, repliedAt); err != nil {
			return err
		}
	}
	view := *c
	view.Parts, view.PartsTotal = ch.Parts, len(ch.Parts)
	if view.Parts == nil {
		view.Parts = []*conversation.Part{}
	}
	for _, topic := range ch.Topics {
		if _, err := eventlog.Append(ctx, tx, c.WorkspaceID, topic, conversation.View{C: &view, Parts: true}); err != nil {
			return err
		}
	}
	if ch.Snoozed && s.OnSnooze != nil {
		if err := s.OnSnooze(ctx, tx, c, ch.Parts[len(ch.Parts)-1]); err != nil {
			return err
		}
	}
	if ch.Then != nil {
		return ch.Then()
	}
	return nil
}

func (s *Conversations) save(ctx context.Context, tx *Tx, c *conversation.Conversation) error {
	_, err := tx.Exec(ctx, `UPDATE conversations SET state = ?, read = ?, title = ?, priority = ?, admin_assignee_id = ?, team_assignee_id = ?,
 snoozed_until = ?, waiting_since = ?, updated_at = ?, custom_attributes = ?, rating = ?, statistics = ? WHERE workspace_id = ? AND id = ?`,
		c.State, c.Read, c.Title, c.Priority, c.AdminAssigneeID, c.TeamAssigneeID,
		c.SnoozedUntil, c.WaitingSince, c.UpdatedAt, encodeCustom(c.CustomAttributes), ratingText(c.Rating), jsonText(c.Stats), c.WorkspaceID, c.ID)
	return err
}

// Change loads a conversation for update, applies fn (a rule of package
// conversation) and, unless the change is empty, saves the conversation,
// its new parts and events in one transaction. It returns the conversation
// as changed (parts: those of the change).
func (s *Conversations) Change(ctx context.Context, workspaceID string, id int64, fn func(c *conversation.Conversation) (*conversation.Change, error)) (*conversation.Conversation, error) {
	return s.change(ctx, workspaceID, id, func(_ *Tx, c *conversation.Conversation) (*conversation.Change, error) { return fn(c) })
}

// ChangeTx is Change for a rule that writes rows of its own in the same
// transaction (fn receives it), such as the inbound email a reply came in.
func (s *Conversations) ChangeTx(ctx context.Context, workspaceID string, id int64, fn func(tx *Tx, c *conversation.Conversation) (*conversation.Change, error)) (*conversation.Conversation, error) {
	return s.change(ctx, workspaceID, id, fn)
}

func (s *Conversations) change(ctx context.Context, workspaceID string, id int64, fn func(tx *Tx, c *conversation.Conversation) (*conversation.Change, error)) (*conversation.Conversation, error) {
	var out *conversation.Conversation
	err := s.db.InTx(ctx, func(tx *Tx) (err error) {
		out, err = s.changeIn(ctx, tx, workspaceID, id, true, fn)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// changeIn is change inside tx. With rebalance, capacity the change frees
// (the teammate who held the conversation no longer does) or a
// conversation that starts waiting in a team inbox is handed out by the
// assignment engine in the same transaction.
func (s *Conversations) changeIn(ctx context.Context, tx *Tx, workspaceID string, id int64, rebalance bool, fn func(tx *Tx, c *conversation.Conversation) (*conversation.Change, error)) (*conversation.Conversation, error) {
	c, err := s.getIn(ctx, tx, workspaceID, id, true)
	if err != nil {
		return nil, err
	}
	heldBy, waitingIn := c.HeldBy(), c.WaitingInTeam()
	ch, err := fn(tx, c)
	if err != nil {
		return nil, err
	}
	if ch.Empty() {
		return c, nil
	}
	if err := s.save(ctx, tx, c); err != nil {
		return nil, err
	}
	if err := s.record(ctx, tx, c, ch); err != nil {
		return nil, err
	}
	if rebalance {
		return c, s.rebalanceAfter(ctx, tx, c, heldBy, waitingIn)
	}
	return c, nil
}

// AddContact makes a contact a participant.
func (s *Conversations) AddContact(ctx context.Context, workspaceID string, id int64, admin conversation.Author, contactID string) (*conversation.Conversation, error) {
	return s.change(ctx, workspaceID, id, func(tx *Tx, c *conversation.Conversation) (*conversation.Change, error) {
		var ext *string
		if err := tx.QueryRow(ctx, `SELECT external_id FROM contacts WHERE workspace_id = ? AND id = ? AND merged_into IS NULL`, workspaceID, contactID).Scan(&ext); err != nil {
			if err = mapErr(err); errors.Is(err, ErrNotFound) {
				return nil, &MissingError{Kind: "contact"}
			}
			return nil, err
		}
		ch := c.AddContact(admin, conversation.ContactRef{ID: contactID, ExternalID: ext}, time.Now().Unix())
		if ch.Empty() {
			return ch, nil
		}
		return ch, s.addContact(ctx, tx, c, contactID)
	})
}

// RemoveContact removes a participant (never the last one).
func (s *Conversations) RemoveContact(ctx context.Context, workspaceID string, id int64, admin conversation.Author, contactID string) (*conversation.Conversation, error) {
	return s.change(ctx, workspaceID, id, func(tx *Tx, c *conversation.Conversation) (*conversation.Change, error) {
		ch, err := c.RemoveContact(admin, contactID, time.Now().Unix())
		if err != nil {
			return nil, err
		}
		_, err = tx.Exec(ctx, `DELETE FROM conversation_contacts WHERE workspace_id = ? AND conversation_id = ? AND contact_id = ?`, workspaceID, id, contactID)
		return ch, err
	})
}

// AddTag applies a tag of the workspace and returns it as applied.
func (s *Conversations) AddTag(ctx context.Context, workspaceID string, id, tagID, adminID int64) (*conversation.Tag, error) {
	var applied *conversation.Tag
	_, err := s.change(ctx, workspaceID, id, func(tx *Tx, c *conversation.Conversation) (*conversation.Change, error) {
		t := conversation.Tag{ID: tagID, AppliedBy: &adminID}
		if err := tx.QueryRow(ctx, `SELECT name FROM tags WHERE workspace_id = ? AND id = ?`, workspaceID, tagID).Scan(&t.Name); err != nil {
			if err = mapErr(err); errors.Is(err, ErrNotFound) {
				return nil, &MissingError{Kind: "tag"}
			}
			return nil, err
		}
		now := time.Now().Unix()
		ch := c.AddTag(t, now)
		i := slices.IndexFunc(c.Tags, func(x conversation.Tag) bool { return x.ID == tagID })
		applied = &c.Tags[i]
		if ch.Empty() {
			return ch, nil
		}
		_, err := tx.Exec(ctx, `INSERT INTO conversation_tags (workspace_id, conversation_id, tag_id, applied_at, applied_by) VALUES (?, ?, ?, ?, ?)`,
			workspaceID, id, tagID, now, adminID)
		return ch, err
	})
	return applied, err
}

// RemoveTag removes a tag from the conversation and returns it.
func (s *Conversations) RemoveTag(ctx context.Context, workspaceID string, id, tagID int64) (*conversation.Tag, error) {
	var removed *conversation.Tag
	_, err := s.change(ctx, workspaceID, id, func(tx *Tx, c *conversation.Conversation) (*conversation.Change, error) {
		i := slices.IndexFunc(c.Tags, func(x conversation.Tag) bool { return x.ID == tagID })
		if i < 0 {
			return nil, &MissingError{Kind: "tag"}
		}
		t := c.Tags[i]
		removed = &t
		ch, _ := c.RemoveTag(tagID, time.Now().Unix())
		_, err := tx.Exec(ctx, `DELETE FROM conversation_tags WHERE workspace_id = ? AND conversation_id = ? AND tag_id = ?`, workspaceID, id, tagID)
		return ch, err
	})
	return removed, err
}

// SeenByContact is the payload of conversation.contact.seen: the contact
// saw the conversation, up to seen_at, in the Messenger (a read receipt).
type SeenByContact struct {
	ConversationID string `json:"conversation_id"`
	ContactID      string `json:"contact_id"`
	SeenAt         int64  `json:"seen_at"`
}

// MarkSeenByContact records that a participant saw the conversation at
// `at` (Unix seconds) and appends conversation.contact.seen. It changes
// nothing, and reports false, when the mark is not later than the one
// stored; a contact who does not take part gets ErrNotFound.
func (s *Conversations) MarkSeenByContact(ctx context.Context, workspaceID string, id int64, contactID string, at int64) (bool, error) {
	changed := false
	err := s.db.InTx(ctx, func(tx *Tx) error {
		var one int
		err := tx.QueryRow(ctx, `SELECT 1 FROM conversation_contacts WHERE workspace_id = ? AND conversation_id = ? AND contact_id = ?`,
			workspaceID, id, contactID).Scan(&one)
		if err != nil {
			return mapErr(err)
		}
		res, err := tx.Exec(ctx, `UPDATE conversations SET contact_seen_at = ? WHERE workspace_id = ? AND id = ?
 AND (contact_seen_at IS NULL OR contact_seen_at < ?)`, at, workspaceID, id, at)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		changed = true
		_, err = eventlog.Append(ctx, tx, workspaceID, "conversation.contact.seen",
			SeenByContact{ConversationID: strconv.FormatInt(id, 10), ContactID: contactID, SeenAt: at})
		return err
	})
	return changed, err
}

// ContactSeenAt is when the contact last saw the conversation (nil: never).
func (s *Conversations) ContactSeenAt(ctx context.Context, workspaceID string, id int64) (*int64, error) {
	var at *int64
	err := s.db.Read().QueryRow(ctx, `SELECT contact_seen_at FROM conversations WHERE workspace_id = ? AND id = ?`, workspaceID, id).Scan(&at)
	return at, mapErr(err)
}

// contactReplyOf is the contact whose last_replied_at the change moves
// (Intercom: when the contact last messaged in) — the writer of a first
// message or of a reply — with the time, and the reply's part (nil for a
// first message, which is the source). The search index re-reads that
// contact on the conversation event (effectOf), so no contact event is
// appended for it.
func contactReplyOf(c *conversation.Conversation, ch *conversation.Change) (string, int64, *conversation.Part) {
	for _, topic := range ch.Topics {
		switch topic {
		case "conversation.user.created":
			return c.Source.Author.ID, c.CreatedAt, nil
		case "conversation.user.replied":
			for _, p := range ch.Parts {
				if p.Author.IsContact() && p.Type == conversation.PartComment {
					return p.Author.ID, p.CreatedAt, p
				}
			}
		}
	}
	return "", 0, nil
}

// lastRepliedSQL moves a contact's last_replied_at forward (arguments: at,
// workspace, contact, at).
const lastRepliedSQL = `UPDATE contacts SET last_replied_at = ? WHERE workspace_id = ? AND id = ? AND (last_replied_at IS NULL OR last_replied_at < ?)`
