package store

import (
	"context"
	"strconv"

	"github.com/parleyhq/parley/internal/eventlog"
)

// Mention is the payload of conversation.admin.mentioned: a teammate was
// @mentioned in a note of a conversation.
type Mention struct {
	ID             string `json:"id"` // the conversation's id, as in every conversation.* event
	ConversationID string `json:"conversation_id"`
	PartID         string `json:"part_id"`
	AdminID        string `json:"admin_id"`
	MentionedBy    string `json:"mentioned_by"`
	CreatedAt      int64  `json:"created_at"`
}

// RecordMentionsIn stores, inside tx (the note's own transaction), that
// the note part partID mentions each of admins, and appends
// conversation.admin.mentioned for each, so the mentioned teammates' open
// pages hear of it. The caller has checked that admins belong to the
// workspace.
func RecordMentionsIn(ctx context.Context, tx *Tx, workspaceID string, conversationID, partID, by int64, admins []int64, at int64) error {
	for _, id := range admins {
		if _, err := tx.Exec(ctx, `INSERT INTO conversation_mentions (workspace_id, conversation_id, part_id, admin_id, mentioned_by, created_at)
 VALUES (?, ?, ?, ?, ?, ?)`, workspaceID, conversationID, partID, id, by, at); err != nil {
			return mapErr(err)
		}
		cid := strconv.FormatInt(conversationID, 10)
		if _, err := eventlog.Append(ctx, tx, workspaceID, "conversation.admin.mentioned", Mention{ID: cid, ConversationID: cid,
			PartID: strconv.FormatInt(partID, 10), AdminID: strconv.FormatInt(id, 10), MentionedBy: strconv.FormatInt(by, 10), CreatedAt: at}); err != nil {
			return err
		}
	}
	return nil
}

// MentionedConversation is a conversation a teammate was mentioned in.
type MentionedConversation struct {
	ConversationID int64
	Last           int64 // the latest mention
	Unread         int   // mentions not seen yet
}

// Mentions lists the conversations adminID was mentioned in, latest
// mention first (at most limit).
func (s *Conversations) Mentions(ctx context.Context, workspaceID string, adminID int64, limit int) ([]MentionedConversation, error) {
	rows, err := s.db.Read().Query(ctx, `SELECT conversation_id, max(created_at), sum(CASE WHEN seen_at IS NULL THEN 1 ELSE 0 END)
 FROM conversation_mentions WHERE workspace_id = ? AND admin_id = ? GROUP BY conversation_id ORDER BY max(created_at) DESC, conversation_id DESC LIMIT ?`,
		workspaceID, adminID, limit)
	if err != nil {
		return nil, err
	}
	var out []MentionedConversation
	return out, eachRow(rows, func() error {
		var m MentionedConversation
		err := rows.Scan(&m.ConversationID, &m.Last, &m.Unread)
		out = append(out, m)
		return err
	})
}

// UnreadMentions counts the conversations with mentions of adminID not
// seen yet.
func (s *Conversations) UnreadMentions(ctx context.Context, workspaceID string, adminID int64) (int, error) {
	var n int
	err := s.db.Read().QueryRow(ctx, `SELECT count(DISTINCT conversation_id) FROM conversation_mentions
 WHERE workspace_id = ? AND admin_id = ? AND seen_at IS NULL`, workspaceID, adminID).Scan(&n)
	return n, err
}

// MentionedParts maps the conversation's note parts that mention adminID
// to whether adminID has seen that mention.
func (s *Conversations) MentionedParts(ctx context.Context, workspaceID string, conversationID, adminID int64) (map[int64]bool, error) {
	rows, err := s.db.Read().Query(ctx, `SELECT part_id, seen_at IS NOT NULL FROM conversation_mentions WHERE workspace_id = ? AND conversation_id = ? AND admin_id = ?`,
		workspaceID, conversationID, adminID)
	if err != nil {
		return nil, err
	}
	out := map[int64]bool{}
	return out, eachRow(rows, func() error {
		var id int64
		var seen bool
		err := rows.Scan(&id, &seen)
		out[id] = seen
		return err
	})
}

// MarkMentionsSeen marks adminID's mentions in the conversation seen and
// appends conversation.admin.mention_seen when there were any unseen.
func (s *Conversations) MarkMentionsSeen(ctx context.Context, workspaceID string, conversationID, adminID, at int64) error {
	return s.db.InTx(ctx, func(tx *Tx) error {
		res, err := tx.Exec(ctx, `UPDATE conversation_mentions SET seen_at = ? WHERE workspace_id = ? AND conversation_id = ? AND admin_id = ? AND seen_at IS NULL`,
			at, workspaceID, conversationID, adminID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		cid := strconv.FormatInt(conversationID, 10)
		_, err = eventlog.Append(ctx, tx, workspaceID, "conversation.admin.mention_seen", Mention{ID: cid, ConversationID: cid, AdminID: strconv.FormatInt(adminID, 10), CreatedAt: at})
		return err
	})
}
