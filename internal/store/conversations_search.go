package store

import (
	"context"
	"slices"
	"strconv"

	"github.com/parleyhq/parley/internal/conversation"
	"github.com/parleyhq/parley/internal/query"
)

// ConversationPage is one page of a conversation search.
type ConversationPage struct {
	Conversations []*conversation.Conversation
	// Keys are the keyset positions of Conversations (ID: the id as a
	// decimal string).
	Keys  []Keyset
	Total int
}

// Search returns up to limit conversations of the workspace that match f
// (compiled by conversation.Schema, over the table aliased cv), in sort
// order — NULLs last in both directions, ties by id in the same direction
// — after the keyset position (nil: from the start), without parts, and
// the number of all matches. A sort on cv.id orders by the id alone.
func (s *Conversations) Search(ctx context.Context, workspaceID string, f *query.Filter, sort SearchSort, after *Keyset, limit int) (*ConversationPage, error) {
	n, err := s.Count(ctx, workspaceID, f)
	if err != nil {
		return nil, err
	}
	res, err := s.Page(ctx, workspaceID, f, sort, after, limit)
	if err != nil {
		return nil, err
	}
	res.Total = n
	return res, nil
}

// Count returns how many conversations of the workspace match f.
func (s *Conversations) Count(ctx context.Context, workspaceID string, f *query.Filter) (int, error) {
	r := s.db.Read()
	where, args := f.SQL(r.Dialect())
	var n int
	if err := r.QueryRow(ctx, `SELECT count(*) FROM conversations cv WHERE cv.workspace_id = ? AND `+where, append([]any{workspaceID}, args...)...).Scan(&n); err != nil {
		return 0, mapErr(err)
	}
	return n, nil
}

// Page is Search without the count (Total stays 0), for a caller that
// knows it already.
func (s *Conversations) Page(ctx context.Context, workspaceID string, f *query.Filter, sort SearchSort, after *Keyset, limit int) (*ConversationPage, error) {
	r := s.db.Read()
	d := r.Dialect()
	where, fargs := f.SQL(d)
	base := `cv.workspace_id = ? AND ` + where
	args := append([]any{workspaceID}, fargs...)
	res := &ConversationPage{}
	var id any
	if after != nil {
		n, err := strconv.ParseInt(after.ID, 10, 64)
		if err != nil {
			return nil, &KeyValueError{Message: "cursor id " + after.ID + " is not a conversation id"}
		}
		id = n
	}
	cond, condArgs, order, err := keysetClause(sort, d, "cv.id", after, id)
	if err != nil {
		return nil, err
	}
	if limit <= 0 {
		return res, nil
	}
	// The page's ids first, in order, from the indexes alone; then their
	// rows and relations, so the relations of the conversations that are
	// not on the page are never read (or sorted).
	q := `SELECT ` + convCols + `, ` + relatedJSON[d] + `, ` + sort.Field.Expr[d] + ` FROM (SELECT cv.id AS pid FROM conversations cv WHERE ` +
		base + cond + order + ` LIMIT ?) pg JOIN conversations cv ON cv.workspace_id = ? AND cv.id = pg.pid` + order
	pageArgs := append(slices.Clip(args), condArgs...)
	rows, err := r.Query(ctx, q, append(pageArgs, limit, workspaceID)...)
	if err != nil {
		return nil, err
	}
	err = eachRow(rows, func() error {
		var key any
		c, err := scanWithRelated(rows, &key)
		if err != nil {
			return err
		}
		if b, ok := key.([]byte); ok {
			key = string(b)
		}
		res.Conversations = append(res.Conversations, c)
		res.Keys = append(res.Keys, Keyset{Value: key, ID: c.IDString()})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// InboxCount is how many conversations of a workspace are in one state
// with one teammate and one team assigned (0: nobody).
type InboxCount struct {
	State           string
	AdminID, TeamID int64
	N               int
}

// InboxCounts returns the workspace's conversation counts by state,
// teammate and team, kept by triggers in the same transaction as every
// change (migration 0019), so the inbox's view counts are sums of a few
// rows rather than counts over every conversation.
func (s *Conversations) InboxCounts(ctx context.Context, workspaceID string) ([]InboxCount, error) {
	rows, err := s.db.Read().Query(ctx, `SELECT state, admin_id, team_id, n FROM conversation_counts WHERE workspace_id = ? AND n <> 0`, workspaceID)
	if err != nil {
		return nil, err
	}
	var out []InboxCount
	err = eachRow(rows, func() error {
		var c InboxCount
		if err := rows.Scan(&c.State, &c.AdminID, &c.TeamID, &c.N); err != nil {
			return err
		}
		out = append(out, c)
		return nil
	})
	return out, err
}
