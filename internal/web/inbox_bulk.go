package web

// Bulk actions on the inbox list and custom views (docs/web.md "Inbox").

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/parleyhq/parley/internal/conversation"
	"github.com/parleyhq/parley/internal/query"
	"github.com/parleyhq/parley/internal/store"
)

// maxBulk is how many conversations one bulk action may change (the
// list's page is 25).
const maxBulk = 100

// inboxBulk applies one action to the selected conversations, each in its
// own change through the same rules as the conversation page (one refused
// or gone conversation does not stop the others), and shows the list
// again with how many changed and which failed, and why.
func (s *Server) inboxBulk(w http.ResponseWriter, r *http.Request, v *visit) error {
	back, _ := url.ParseQuery(r.PostFormValue("return"))
	bad := func(msg string) error {
		return s.showInbox(w, r, v, back, http.StatusBadRequest, inboxData{Error: msg})
	}
	var ids []int64
	for _, raw := range r.PostForm["ids"] {
		id, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || id <= 0 {
			return bad("The selection names a conversation that does not exist.")
		}
		ids = append(ids, id)
	}
	if len(ids) == 0 {
		return bad("Select at least one conversation.")
	}
	if len(ids) > maxBulk {
		return bad("Select at most 100 conversations at once.")
	}
	var fn func(c *conversation.Conversation) (*conversation.Change, error)
	var tagID int64
	if r.PostFormValue("action") == "tag" {
		name, msg := tagNameOf(r.PostFormValue("tag"))
		if msg != "" {
			return bad(msg)
		}
		t, _, err := store.NewTags(s.db).Ensure(r.Context(), v.ws.ID, name)
		if err != nil {
			return err
		}
		tagID = t.ID
	} else {
		var msg string
		var err error
		if fn, msg, err = s.actionRule(r, v); err != nil {
			return err
		}
		if msg == "Unknown action." {
			msg = "Choose an action."
		}
		if msg != "" {
			return bad(msg)
		}
	}
	done := 0
	var failed []string
	for _, id := range ids {
		var err error
		if fn != nil {
			_, err = s.convs.Change(r.Context(), v.ws.ID, id, fn)
		} else {
			_, err = s.convs.AddTag(r.Context(), v.ws.ID, id, tagID, v.admin.ID)
		}
		msg, refused := refusal(err)
		switch {
		case err == nil:
			done++
		case refused:
			failed = append(failed, "#"+strconv.FormatInt(id, 10)+": "+msg)
		case errors.Is(err, store.ErrNotFound), store.IsMissing(err, "conversation"):
			failed = append(failed, "#"+strconv.FormatInt(id, 10)+": no such conversation in this workspace")
		default:
			return err
		}
	}
	d := inboxData{Failed: failed, Notice: strconv.Itoa(done) + " conversation" + plural(done) + " changed."}
	if len(failed) > 0 {
		d.Notice += " " + strconv.Itoa(len(failed)) + " could not be changed:"
	}
	return s.showInbox(w, r, v, back, http.StatusOK, d)
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// saveInboxView saves the filter (the filter language's JSON, checked as
// the API checks a conversation search) as the teammate's named view.
func (s *Server) saveInboxView(w http.ResponseWriter, r *http.Request, v *visit) error {
	back, _ := url.ParseQuery(r.PostFormValue("return"))
	d := inboxData{ViewName: strings.TrimSpace(r.PostFormValue("name")), FilterJSON: strings.TrimSpace(r.PostFormValue("filter"))}
	bad := func(msg string) error {
		d.Error = msg
		return s.showInbox(w, r, v, back, http.StatusBadRequest, d)
	}
	if d.ViewName == "" || utf8.RuneCountInString(d.ViewName) > 190 || !utf8.ValidString(d.ViewName) {
		return bad("Name the view (at most 190 characters).")
	}
	if d.FilterJSON == "" {
		return bad("Write the view's filter.")
	}
	var node json.RawMessage
	if json.Unmarshal([]byte(d.FilterJSON), &node) != nil || !strings.HasPrefix(string(node), "{") {
		return bad("The filter is not valid JSON: it must be one condition or an AND/OR group.")
	}
	if _, err := query.Parse(node, conversation.NewSchema(v.ws.Location(), nil, true)); err != nil {
		return bad("The filter is not valid: " + err.Error())
	}
	cv := &store.InboxView{WorkspaceID: v.ws.ID, AdminID: v.admin.ID, Name: d.ViewName, Filter: string(node)}
	if err := store.NewSavedReplies(s.db).CreateInboxView(r.Context(), cv); err != nil {
		return err
	}
	http.Redirect(w, r, "/app/inbox?view=custom:"+strconv.FormatInt(cv.ID, 10), http.StatusSeeOther)
	return nil
}

func (s *Server) deleteInboxView(w http.ResponseWriter, r *http.Request, v *visit) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err == nil {
		err = store.NewSavedReplies(s.db).DeleteInboxView(r.Context(), v.ws.ID, v.admin.ID, id)
	}
	if err != nil {
		if errors.Is(err, store.ErrNotFound) || errors.Is(err, strconv.ErrSyntax) || errors.Is(err, strconv.ErrRange) {
			return pageErr(http.StatusNotFound, "No such view", "You have no such inbox view.")
		}
		return err
	}
	http.Redirect(w, r, "/app/inbox", http.StatusSeeOther)
	return nil
}
