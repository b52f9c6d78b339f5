package web

// @mentions in notes (docs/web.md "Mentions"): a note that names a
// teammate as "@Full Name" or "@email" records a mention of them in the
// note's own transaction (store.RecordMentionsIn, which appends
// conversation.admin.mentioned for their open pages); the Mentions view
// lists the conversations they were mentioned in.

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/parleyhq/parley/internal/store"
	"github.com/parleyhq/parley/internal/workspace"
)

// mentioned returns the teammates body mentions, other than the writer:
// "@" then a teammate's email or full name, ignoring case, not followed by
// a letter or digit. Longer names are matched first and blanked out, so
// "@Ann Lee" is not also a mention of a teammate called "Ann".
func mentioned(body string, admins []*workspace.Admin, writer int64) []int64 {
	low := []rune(strings.ToLower(body))
	type key struct {
		id int64
		s  []rune
	}
	var keys []key
	for _, a := range admins {
		for _, k := range []string{a.Email, a.Name} {
			if k = strings.TrimSpace(k); k != "" {
				keys = append(keys, key{a.ID, []rune("@" + strings.ToLower(k))})
			}
		}
	}
	slices.SortStableFunc(keys, func(a, b key) int { return len(b.s) - len(a.s) })
	var out []int64
	for _, k := range keys {
		for i := 0; i+len(k.s) <= len(low); i++ {
			end := i + len(k.s)
			if !slices.Equal(low[i:end], k.s) || (end < len(low) && (unicode.IsLetter(low[end]) || unicode.IsDigit(low[end]))) {
				continue
			}
			for j := i; j < end; j++ {
				low[j] = ' '
			}
			if k.id != writer && !slices.Contains(out, k.id) {
				out = append(out, k.id)
			}
		}
	}
	return out
}

// maxMentionRows is how many mentioned conversations the Mentions view lists.
const maxMentionRows = 50

// mentionRows fills the Mentions view: the conversations the teammate was
// mentioned in, latest mention first, with their unread mentions.
func (s *Server) mentionRows(r *http.Request, v *visit, d *inboxData, names map[int64]string) error {
	ms, err := s.convs.Mentions(r.Context(), v.ws.ID, v.admin.ID, maxMentionRows)
	if err != nil {
		return err
	}
	for _, m := range ms {
		c, err := s.convs.Get(r.Context(), v.ws.ID, m.ConversationID)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		row := rowOf(c, names)
		row.Unread, row.Updated = m.Unread, m.Last
		d.Rows = append(d.Rows, row)
	}
	d.Total = len(d.Rows)
	return nil
}

// mentionOptions are the teammates the composer offers to @mention:
// (text to insert, name) pairs by name.
func mentionOptions(names map[int64]string) [][2]string {
	var out [][2]string
	for _, a := range adminList(names) {
		if utf8.RuneCountInString(a[1]) > 0 {
			out = append(out, [2]string{"@" + a[1], a[1]})
		}
	}
	return out
}
