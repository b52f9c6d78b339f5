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
	r := s.db.Read()
	d := r.Dialect()
	where, fargs := f.SQL(d)
	base := `cv.workspace_id = ? AND ` + where
	args := append([]any{workspaceID}, fargs...)
	res := &ConversationPage{}
	if err := r.QueryRow(ctx, `SELECT count(*) FROM conversations cv WHERE `+base, args...).Scan(&res.Total); err != nil {
		return nil, mapErr(err)
	}
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
	q := `SELECT ` + convCols + `, ` + relatedJSON[d] + `, ` + sort.Field.Expr[d] + ` FROM conversations cv WHERE ` + base + cond + order
	pageArgs := append(slices.Clip(args), condArgs...)
	rows, err := r.Query(ctx, q+` LIMIT ?`, append(pageArgs, limit)...)
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
