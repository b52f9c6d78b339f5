package api

import (
	"net/http"

	"github.com/parleyhq/parley/internal/conversation"
)

// Conversation search: POST /conversations/search, in the one filter
// language (package query) over conversation.Schema. Results are newest
// first (created_at descending, then id) unless "sort" names a
// single-valued field; 20 a page by default, at most 150; pages are cut by
// keyset like the contact search.

const (
	conversationsPerPage    = 20
	conversationsMaxPerPage = 150
)

// conversationSchema is the filter-language schema of the caller's
// workspace and version.
func (h *conversationAPI) conversationSchema(r *http.Request) (*conversation.Schema, error) {
	ctx := r.Context()
	auth := authOf(ctx)
	ws, err := h.s.workspaces.Workspace(ctx, auth.WorkspaceID)
	if err != nil {
		return nil, err
	}
	attrs, err := h.attrs.List(ctx, auth.WorkspaceID, false)
	if err != nil {
		return nil, err
	}
	return conversation.NewSchema(ws.Location(), attrs, auth.AtLeast(16)), nil
}

func (h *conversationAPI) search(w http.ResponseWriter, r *http.Request) error {
	var in searchBody
	if err := h.s.decode(w, r, &in); err != nil {
		return err
	}
	p, err := in.page(conversationsPerPage, conversationsMaxPerPage, "created_at")
	if err != nil {
		return err
	}
	schema, err := h.conversationSchema(r)
	if err != nil {
		return err
	}
	f, sort, keyset, err := p.plan(&in, schema)
	if err != nil {
		return err
	}
	res, err := h.st.Search(r.Context(), authOf(r.Context()).WorkspaceID, f, sort, keyset, p.perPage+1)
	if err != nil {
		return searchErr(err)
	}
	pages, n, err := p.pages(res.Total, len(res.Conversations), res.Keys, sort.Field.Name)
	if err != nil {
		return err
	}
	out := make([]conversation.View, n)
	for i, c := range res.Conversations[:n] {
		out[i] = view(r, c, false)
	}
	writeJSON(w, http.StatusOK, map[string]any{"type": "conversation.list", "conversations": out, "total_count": res.Total, "pages": pages})
	return nil
}
