package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/parleyhq/parley/internal/conversation"
	"github.com/parleyhq/parley/internal/messenger"
	"github.com/parleyhq/parley/internal/store"
)

// maxMessengerConversations is how many conversations the Messenger lists.
const maxMessengerConversations = 50

var errNoMessengerConversation = notFound("not_found", "Conversation not found")

// summaries lists the contact's conversations as the Messenger shows them.
func (m *messengerAPI) summaries(ctx context.Context, ws, contactID string) ([]messenger.Summary, error) {
	idList, err := m.st.ConversationIDs(ctx, ws, contactID, maxMessengerConversations)
	if err != nil {
		return nil, err
	}
	out := make([]messenger.Summary, 0, len(idList))
	for _, id := range idList {
		t, err := m.thread(ctx, ws, id)
		if isNotFound(err) {
			continue
		}
		if err != nil {
			return nil, err
		}
		last := t.Parts[len(t.Parts)-1]
		out = append(out, messenger.Summary{ID: t.ID, Title: t.Title, State: t.State, UpdatedAt: t.UpdatedAt, LastPart: &last, Unread: unread(t)})
	}
	return out, nil
}

// unread reports whether the team wrote after the contact last looked.
func unread(t messenger.Thread) bool {
	for i := len(t.Parts) - 1; i >= 0; i-- {
		p := t.Parts[i]
		if messenger.IsTeamPart(p) {
			return t.ContactSeenAt == nil || p.CreatedAt > *t.ContactSeenAt
		}
	}
	return false
}

func unreadCount(list []messenger.Summary) int {
	n := 0
	for _, s := range list {
		if s.Unread {
			n++
		}
	}
	return n
}

// thread loads a conversation as its contact sees it.
func (m *messengerAPI) thread(ctx context.Context, ws string, id int64) (messenger.Thread, error) {
	c, err := m.convs.Get(ctx, ws, id)
	if err != nil {
		return messenger.Thread{}, err
	}
	seen, err := m.st.Seen(ctx, ws, id)
	if err != nil {
		return messenger.Thread{}, err
	}
	return messenger.NewThread(c, seen.Contact, seen.Admin), nil
}

func (m *messengerAPI) listConversations(w http.ResponseWriter, r *http.Request) error {
	vs := sessionOf(r)
	list := []messenger.Summary{}
	if vs.contact != nil {
		var err error
		if list, err = m.summaries(r.Context(), vs.ws, vs.contact.ID); err != nil {
			return err
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"conversations": list, "unread_count": unreadCount(list)})
	return nil
}

// ownConversation parses the path id and checks the session's contact
// takes part: anything else is a 404, whoever owns it.
func (m *messengerAPI) ownConversation(r *http.Request) (int64, error) {
	vs := sessionOf(r)
	id, ok := parseConversationID(r.PathValue("id"))
	if !ok || vs.contact == nil {
		return 0, errNoMessengerConversation
	}
	in, err := m.st.IsParticipant(r.Context(), vs.ws, id, vs.contact.ID)
	if err != nil {
		return 0, err
	}
	if !in {
		return 0, errNoMessengerConversation
	}
	return id, nil
}

func (m *messengerAPI) getConversation(w http.ResponseWriter, r *http.Request) error {
	id, err := m.ownConversation(r)
	if err != nil {
		return err
	}
	t, err := m.thread(r.Context(), sessionOf(r).ws, id)
	if isNotFound(err) {
		return errNoMessengerConversation
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, t)
	return nil
}

// messageIn is the body of a new conversation or a reply.
type messageIn struct {
	Body        opt[string]   `json:"body"`
	Attachments opt[[]string] `json:"attachments"`
}

// outgoing is a visitor's message as validated: its stored HTML, its
// attachments (and their upload ids) and the request's Idempotency-Key.
type outgoing struct {
	body   string
	att    []conversation.Attachment
	attIDs []string
	key    string
}

// message validates a message, resolves its attachments (the session's
// own unused uploads) and reads its Idempotency-Key.
func (m *messengerAPI) message(r *http.Request, in messageIn) (outgoing, error) {
	vs := sessionOf(r)
	att := []conversation.Attachment{}
	idList := in.Attachments.Value
	if len(idList) > 10 {
		return outgoing{}, fieldErr("attachments", "at most 10 attachments")
	}
	mine := vs.uploaders()
	for _, id := range idList {
		a, err := m.st.Attachment(r.Context(), vs.ws, id)
		if isNotFound(err) || (err == nil && (a.ConversationID != nil || !contains(mine, a.Uploader))) {
			return outgoing{}, fieldErr("attachments", "attachment %q is not an unused upload of this session", id)
		}
		if err != nil {
			return outgoing{}, err
		}
		att = append(att, conversation.Attachment{Type: "upload", Name: a.Name, URL: attachmentURL(a), ContentType: a.ContentType})
	}
	var body string
	if in.Body.Set && !in.Body.Null {
		var err error
		if body, err = messageBody(in.Body, false); err != nil {
			return outgoing{}, err
		}
	}
	if body == "" && len(att) == 0 {
		return outgoing{}, missing("body")
	}
	key, err := idempotencyKey(r)
	if err != nil {
		return outgoing{}, err
	}
	html := ""
	if body != "" {
		html = textHTML(body)
	}
	return outgoing{body: html, att: att, attIDs: idList, key: key}, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// startConversation is POST /messenger/v1/conversations: the contact
// writes first. An anonymous visitor becomes a lead here.
func (m *messengerAPI) startConversation(w http.ResponseWriter, r *http.Request) error {
	vs := sessionOf(r)
	var in messageIn
	if err := m.s.decode(w, r, &in); err != nil {
		return err
	}
	msg, err := m.message(r, in)
	if err != nil {
		return err
	}
	key := msg.key
	ctx := r.Context()
	c := vs.contact
	if c == nil {
		err := m.s.db.InTx(ctx, func(tx *store.Tx) error {
			lead, err := m.st.LeadFromVisitorIn(ctx, tx, vs.visitor)
			c = lead
			return err
		})
		if err != nil {
			return err
		}
	}
	// The shared "contact starts a conversation" (assignment rules
	// included); the uploads are claimed, and the key remembered, in the
	// same transaction.
	start := func() (int64, error) {
		if key != "" {
			if done, _, found, err := m.st.Repeat(ctx, vs.ws, c.ID, key); err != nil || found {
				return done, err
			}
		}
		conv, err := m.convs.StartByContact(ctx, store.ContactStart{WorkspaceID: vs.ws, ContactID: c.ID, Body: msg.body, Attachments: msg.att,
			Also: func(ctx context.Context, tx *store.Tx, conv *conversation.Conversation) error {
				if err := m.st.ClaimAttachmentsIn(ctx, tx, vs.ws, msg.attIDs, vs.uploaders(), conv.ID); err != nil || key == "" {
					return err
				}
				return m.st.RememberIn(ctx, tx, vs.ws, c.ID, key, conv.ID, nil)
			}})
		if err != nil {
			return 0, err
		}
		return conv.ID, nil
	}
	id, err := start()
	if key != "" && errors.Is(err, store.ErrConflict) {
		id, err = start() // the same key at the same time: answer with the other's
	}
	if store.IsMissing(err, "attachment") {
		return fieldErr("attachments", "an attachment is not an unused upload of this session")
	}
	if err != nil {
		return conversationErr(err)
	}
	t, err := m.thread(ctx, vs.ws, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, t)
	return nil
}

func (m *messengerAPI) reply(w http.ResponseWriter, r *http.Request) error {
	vs := sessionOf(r)
	var in messageIn
	if err := m.s.decode(w, r, &in); err != nil {
		return err
	}
	id, err := m.ownConversation(r)
	if err != nil {
		return err
	}
	msg, err := m.message(r, in)
	if err != nil {
		return err
	}
	key := msg.key
	ctx := r.Context()
	reply := func() (messenger.Part, error) {
		if key != "" {
			convID, partID, found, err := m.st.Repeat(ctx, vs.ws, vs.contact.ID, key)
			if err != nil || found {
				return m.repeated(ctx, vs.ws, id, convID, partID, err)
			}
		}
		p, err := m.st.ReplyWithAttachments(ctx, m.convs, vs.ws, id, contactAuthor(vs.contact), msg.body, msg.att, msg.attIDs, vs.uploaders(), key)
		if err != nil {
			return messenger.Part{}, err
		}
		part, _ := messenger.VisiblePart(p)
		return part, nil
	}
	part, err := reply()
	if key != "" && errors.Is(err, store.ErrConflict) {
		part, err = reply() // the same key at the same time: answer with the other's
	}
	if store.IsMissing(err, "attachment") {
		return fieldErr("attachments", "an attachment is not an unused upload of this session")
	}
	if err != nil {
		return conversationErr(err)
	}
	writeJSON(w, http.StatusOK, part)
	return nil
}

func (m *messengerAPI) seen(w http.ResponseWriter, r *http.Request) error {
	vs := sessionOf(r)
	id, err := m.ownConversation(r)
	if err != nil {
		return err
	}
	now := time.Now().Unix()
	if _, err := m.convs.MarkSeenByContact(r.Context(), vs.ws, id, vs.contact.ID, now); err != nil {
		return conversationErr(err)
	}
	seen, err := m.st.Seen(r.Context(), vs.ws, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"conversation_id": strconv.FormatInt(id, 10), "contact_seen_at": seen.Contact})
	return nil
}

func (m *messengerAPI) rate(w http.ResponseWriter, r *http.Request) error {
	vs := sessionOf(r)
	var in struct {
		Rating opt[json.Number] `json:"rating"`
		Remark opt[string]      `json:"remark"`
	}
	if err := m.s.decode(w, r, &in); err != nil {
		return err
	}
	id, err := m.ownConversation(r)
	if err != nil {
		return err
	}
	if !in.Rating.Set || in.Rating.Null {
		return missing("rating")
	}
	n, err := in.Rating.Value.Int64()
	if err != nil || n < 1 || n > 5 {
		return fieldErr("rating", "rating must be an integer from 1 to 5")
	}
	remark := strings.TrimSpace(in.Remark.Value)
	if _, err := m.st.Rate(r.Context(), m.convs, vs.ws, id, vs.contact.ID, int(n), remark); err != nil {
		return conversationErr(err)
	}
	t, err := m.thread(r.Context(), vs.ws, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, t)
	return nil
}

// adminSeen is POST /conversations/{id}/seen (API token, Parley
// extension): the teammates' read receipt, shown to the contact.
func (m *messengerAPI) adminSeen(w http.ResponseWriter, r *http.Request) error {
	auth := authOf(r.Context())
	id, ok := parseConversationID(r.PathValue("id"))
	if !ok {
		return errNoSuchConversation
	}
	if _, err := m.st.MarkSeenByAdmin(r.Context(), auth.WorkspaceID, id, auth.AdminID, time.Now().Unix()); err != nil {
		return conversationErr(err)
	}
	seen, err := m.st.Seen(r.Context(), auth.WorkspaceID, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"type": "conversation_seen", "conversation_id": strconv.FormatInt(id, 10), "admin_seen_at": seen.Admin})
	return nil
}

// idempotencyKey is the request's Idempotency-Key header ("" without
// one): a client that may send a message twice (an answer lost to the
// network) sends the same key and gets the first write's result back.
func idempotencyKey(r *http.Request) (string, error) {
	k := r.Header.Get("Idempotency-Key")
	if len(k) > 100 {
		return "", fieldErr("Idempotency-Key", "the Idempotency-Key header is at most 100 characters")
	}
	for _, c := range k {
		if c < 0x21 || c > 0x7e {
			return "", fieldErr("Idempotency-Key", "the Idempotency-Key header is printable ASCII without spaces")
		}
	}
	return k, nil
}

// repeated answers a reply sent again with the key of an earlier write:
// the part that write added, or the opening message if it started the
// conversation (a client that lost the answer may retry a first message as
// a reply once it learns the conversation). A key of another conversation
// is refused.
func (m *messengerAPI) repeated(ctx context.Context, ws string, id, convID int64, partID *int64, err error) (messenger.Part, error) {
	if err != nil {
		return messenger.Part{}, err
	}
	if convID != id {
		return messenger.Part{}, errf(http.StatusConflict, "conflict", "this Idempotency-Key was used in another conversation")
	}
	if partID == nil {
		c, err := m.convs.Get(ctx, ws, id)
		if err != nil {
			return messenger.Part{}, err
		}
		return messenger.SourcePart(c), nil
	}
	p, err := m.convs.Part(ctx, ws, id, *partID)
	if err != nil {
		return messenger.Part{}, err
	}
	part, _ := messenger.VisiblePart(p)
	return part, nil
}
