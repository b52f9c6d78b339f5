package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/parleyhq/parley/internal/attribute"
	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/conversation"
	"github.com/parleyhq/parley/internal/conversation/snooze"
	"github.com/parleyhq/parley/internal/store"
)

type conversationAPI struct {
	s     *Server
	st    *store.Conversations
	attrs *store.ConversationAttributes
}

func (s *Server) conversationRoutes() {
	st := store.NewConversations(s.db)
	st.OnSnooze = snooze.Schedule
	h := &conversationAPI{s: s, st: st, attrs: store.NewConversationAttributes(s.db)}
	s.handle("POST /conversations", h.create)
	s.handle("POST /conversations/search", h.search)
	h.attributeRoutes()
	s.handle("POST /messages", h.message)
	s.handle("GET /conversations", h.list)
	s.handle("GET /conversations/{id}", h.get)
	s.handle("PUT /conversations/{id}", h.update)
	s.handle("POST /conversations/{id}/reply", h.reply)
	s.handle("POST /conversations/{id}/parts", h.manage)
	s.handle("POST /conversations/{id}/run_assignment_rules", h.runAssignmentRules)
	s.handle("POST /conversations/{id}/tags", h.tag)
	s.handle("DELETE /conversations/{id}/tags/{tag_id}", h.untag)
	s.handle("POST /conversations/{id}/customers", h.attach)
	s.handle("DELETE /conversations/{id}/customers/{contact_id}", h.detach)
}

var errNoSuchConversation = notFound("not_found", "Conversation not found")

// maxBody is the longest message body accepted, in bytes.
const maxBody = maxNoteBody

// maxConversationAttributes is how many custom attributes a conversation
// may carry.
const maxConversationAttributes = 100

func parseConversationID(raw string) (int64, bool) {
	id, err := strconv.ParseInt(raw, 10, 64)
	return id, err == nil && id > 0
}

// decodeFor decodes the body of a request about the conversation in the
// path and returns that conversation's id.
func (h *conversationAPI) decodeFor(w http.ResponseWriter, r *http.Request, in any) (int64, error) {
	if err := h.s.decode(w, r, in); err != nil {
		return 0, err
	}
	id, ok := parseConversationID(r.PathValue("id"))
	if !ok {
		return 0, errNoSuchConversation
	}
	return id, nil
}

// view renders c in the request's version (and display_as).
func view(r *http.Request, c *conversation.Conversation, parts bool) conversation.View {
	return conversation.View{C: c, V216: authOf(r.Context()).AtLeast(16), Parts: parts,
		Plaintext: r.URL.Query().Get("display_as") == "plaintext"}
}

// writeConversation answers the conversation id with its parts.
func (h *conversationAPI) writeConversation(w http.ResponseWriter, r *http.Request, id int64) error {
	c, err := h.st.Get(r.Context(), authOf(r.Context()).WorkspaceID, id)
	if isNotFound(err) {
		return errNoSuchConversation
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, view(r, c, true))
	return nil
}

// conversationErr maps store and rule errors to the API's.
func conversationErr(err error) error {
	var re *conversation.RuleError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &re):
		e := errf(http.StatusBadRequest, "parameter_invalid", "%s", re.Message)
		e.Field = re.Field
		return e
	case store.IsMissing(err, "tag"):
		return notFound("tag_not_found", "Tag not found")
	case store.IsMissing(err, "contact"):
		return errNoSuchContact
	case isNotFound(err):
		return errNoSuchConversation
	}
	return err
}

// messageBody validates a required body.
func messageBody(o opt[string], required bool) (string, error) {
	if !o.Set || o.Null {
		if required {
			return "", missing("body")
		}
		return "", nil
	}
	if len(o.Value) > maxBody || strings.ContainsRune(o.Value, 0) {
		return "", fieldErr("body", "body must be text of at most %d bytes", maxBody)
	}
	if required && strings.TrimSpace(o.Value) == "" {
		return "", fieldErr("body", "body must not be empty")
	}
	return strings.TrimSpace(o.Value), nil
}

// attachments turns attachment_urls into attachments; attachment_files
// (uploads) are not supported yet.
func attachments(urls opt[[]string], files opt[json.RawMessage]) ([]conversation.Attachment, error) {
	if files.Set && !files.Null && string(files.Value) != "[]" {
		return nil, fieldErr("attachment_files", "attachment_files are not supported yet; use attachment_urls")
	}
	out := []conversation.Attachment{}
	if len(urls.Value) > 10 {
		return nil, fieldErr("attachment_urls", "at most 10 attachment_urls")
	}
	for _, raw := range urls.Value {
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || len(raw) > 2048 {
			return nil, fieldErr("attachment_urls", "attachment_urls must be http(s) URLs")
		}
		name := u.Path[strings.LastIndex(u.Path, "/")+1:]
		out = append(out, conversation.Attachment{Type: "upload", Name: name, URL: raw})
	}
	return out, nil
}

// adminAuthor resolves admin_id (a string or an integer) to a teammate of
// the workspace; absent, the token's teammate (or the owner) acts.
func (h *conversationAPI) adminAuthor(r *http.Request, field string, raw opt[json.RawMessage]) (conversation.Author, error) {
	auth := authOf(r.Context())
	id := auth.AdminID
	if raw.Set && !raw.Null {
		n, err := parseIntID(raw.Value)
		if err != nil || n <= 0 {
			return conversation.Author{}, fieldErr(field, "%s must be the id of a teammate", field)
		}
		id = n
	}
	if id == 0 {
		owner, err := h.s.workspaces.Owner(r.Context(), auth.WorkspaceID)
		if err != nil {
			return conversation.Author{}, err
		}
		id = owner.ID
	}
	a, err := h.s.workspaces.Admin(r.Context(), auth.WorkspaceID, id)
	if isNotFound(err) {
		return conversation.Author{}, notFound("not_found", "Admin not found in this workspace")
	}
	if err != nil {
		return conversation.Author{}, err
	}
	name := a.Name
	return conversation.Author{Type: conversation.AuthorAdmin, ID: strconv.FormatInt(a.ID, 10), Name: &name, Email: a.Email}, nil
}

func contactAuthor(c *contact.Contact) conversation.Author {
	a := conversation.Author{Type: c.Role, ID: c.ID, Name: c.Name}
	if c.Email != nil {
		a.Email = *c.Email
	}
	return a
}

// customerRef is how a request names a contact: Intercom id, external
// user_id or email.
type customerRef struct {
	IntercomUserID opt[string] `json:"intercom_user_id"`
	UserID         opt[string] `json:"user_id"`
	Email          opt[string] `json:"email"`
}

func (h *conversationAPI) findContact(r *http.Request, ref customerRef) (*contact.Contact, error) {
	ctx, ws := r.Context(), authOf(r.Context()).WorkspaceID
	var c *contact.Contact
	var err error
	switch {
	case ref.IntercomUserID.Set && ref.IntercomUserID.Value != "":
		c, err = h.s.contacts.Get(ctx, ws, ref.IntercomUserID.Value)
	case ref.UserID.Set && ref.UserID.Value != "":
		c, err = h.s.contacts.ByExternalID(ctx, ws, ref.UserID.Value)
	case ref.Email.Set && ref.Email.Value != "":
		c, err = h.s.contacts.ByEmail(ctx, ws, strings.TrimSpace(ref.Email.Value))
	default:
		return nil, errf(http.StatusBadRequest, "parameter_not_found", "Name the contact with intercom_user_id, user_id or email")
	}
	if isNotFound(err) {
		return nil, errNoSuchContact
	}
	return c, err
}

// partTime is created_at of a request (migrations of past conversations),
// else now.
func partTime(o opt[int64]) (int64, error) {
	now := time.Now().Unix()
	if !o.Set || o.Null {
		return now, nil
	}
	if o.Value <= 0 || o.Value > now+60 {
		return 0, fieldErr("created_at", "created_at must be a Unix time in seconds, not in the future")
	}
	return o.Value, nil
}

// create is POST /conversations: a contact starts a conversation. Intercom
// answers with the message, not the conversation.
func (h *conversationAPI) create(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		From struct {
			Type opt[string] `json:"type"`
			ID   opt[string] `json:"id"`
		} `json:"from"`
		Body           opt[string]          `json:"body"`
		Subject        opt[string]          `json:"subject"`
		AttachmentURLs opt[[]string]        `json:"attachment_urls"`
		CreatedAt      opt[int64]           `json:"created_at"`
		BrandID        opt[json.RawMessage] `json:"brand_id"`
	}
	if err := h.s.decode(w, r, &in); err != nil {
		return err
	}
	switch in.From.Type.Value {
	case "user", "lead", "contact":
	default:
		return fieldErr("from.type", "from.type must be user, lead or contact")
	}
	if in.From.ID.Value == "" {
		return missing("from.id")
	}
	body, err := messageBody(in.Body, true)
	if err != nil {
		return err
	}
	subject, err := messageBody(in.Subject, false)
	if err != nil {
		return err
	}
	att, err := attachments(in.AttachmentURLs, opt[json.RawMessage]{})
	if err != nil {
		return err
	}
	now, err := partTime(in.CreatedAt)
	if err != nil {
		return err
	}
	return h.startByContact(w, r, store.ContactStart{
		WorkspaceID: authOf(r.Context()).WorkspaceID, ContactID: in.From.ID.Value,
		Body: textHTML(body), Subject: subject, Attachments: att, At: now,
	}, body)
}

// startByContact starts a contact's conversation and answers Intercom's
// user_message (body: the text as the contact wrote it).
func (h *conversationAPI) startByContact(w http.ResponseWriter, r *http.Request, in store.ContactStart, body string) error {
	conv, err := h.st.StartByContact(r.Context(), in)
	if err != nil {
		return conversationErr(err)
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"type": "user_message", "id": conv.IDString(), "created_at": conv.CreatedAt, "body": body,
		"message_type": "inapp", "conversation_id": conv.IDString(),
	})
	return nil
}

func (h *conversationAPI) get(w http.ResponseWriter, r *http.Request) error {
	id, ok := parseConversationID(r.PathValue("id"))
	if !ok {
		return errNoSuchConversation
	}
	return h.writeConversation(w, r, id)
}

// list is GET /conversations: newest first, cursor pagination (default 20,
// at most 150).
func (h *conversationAPI) list(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	n, err := perPage(q.Get("per_page"), 20, 150)
	if err != nil {
		return err
	}
	cur, err := decodeCursor(q.Get("starting_after"))
	if err != nil {
		return err
	}
	var before int64
	if cur.After != "" {
		if before, err = strconv.ParseInt(cur.After, 10, 64); err != nil {
			return fieldErr("starting_after", "starting_after is not a cursor this API returned")
		}
	}
	list, total, err := h.st.List(r.Context(), authOf(r.Context()).WorkspaceID, before, n+1)
	if err != nil {
		return err
	}
	pages := cursorPages{Type: "pages", Page: cur.Page, PerPage: n, TotalPages: totalPages(total, n)}
	if len(list) > n {
		list = list[:n]
		pages.Next = &nextPage{PerPage: n, StartingAfter: cursor{After: list[n-1].IDString(), Page: cur.Page + 1}.encode()}
	}
	out := make([]conversation.View, len(list))
	for i, c := range list {
		out[i] = view(r, c, false)
	}
	writeJSON(w, http.StatusOK, map[string]any{"type": "conversation.list", "conversations": out, "total_count": total, "pages": pages})
	return nil
}

// customValues validates custom attribute values: strings, numbers,
// booleans, or null to remove.
func customValues(in map[string]json.RawMessage) (map[string]any, error) {
	if len(in) > maxConversationAttributes {
		return nil, fieldErr("custom_attributes", "at most %d custom attributes", maxConversationAttributes)
	}
	out := make(map[string]any, len(in))
	for k, raw := range in {
		field := "custom_attributes." + k
		if k == "" || len(k) > maxStringField || strings.ContainsRune(k, 0) {
			return nil, fieldErr("custom_attributes", "custom attribute names must be 1 to %d bytes of text", maxStringField)
		}
		var v any
		dec := json.NewDecoder(strings.NewReader(string(raw)))
		dec.UseNumber()
		if err := dec.Decode(&v); err != nil {
			return nil, fieldErr(field, "%s is not a valid value", field)
		}
		switch x := v.(type) {
		case nil, bool:
			out[k] = x
		case string:
			if len(x) > maxBody || strings.ContainsRune(x, 0) {
				return nil, fieldErr(field, "%s must be text of at most %d bytes", field, maxBody)
			}
			out[k] = x
		case json.Number:
			if i, err := x.Int64(); err == nil {
				out[k] = i
			} else if f, err := x.Float64(); err == nil {
				out[k] = f
			} else {
				return nil, fieldErr(field, "%s is not a number this API can store", field)
			}
		default:
			return nil, fieldErr(field, "%s must be a string, a number, a boolean or null", field)
		}
	}
	return out, nil
}

// update is PUT /conversations/{id}: read, title, custom_attributes, and
// (a Parley extension) priority in either version's vocabulary.
func (h *conversationAPI) update(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Read             opt[bool]                       `json:"read"`
		Title            opt[string]                     `json:"title"`
		CustomAttributes opt[map[string]json.RawMessage] `json:"custom_attributes"`
		Priority         opt[string]                     `json:"priority"`
		CompanyID        opt[string]                     `json:"company_id"`
	}
	id, err := h.decodeFor(w, r, &in)
	if err != nil {
		return err
	}
	var u conversation.Update
	if in.Read.Set {
		if in.Read.Null {
			return fieldErr("read", "read must be true or false")
		}
		u.Read = &in.Read.Value
	}
	if in.Title.Set {
		var title *string
		if err := strField("title", in.Title, &title, maxStringField); err != nil {
			return err
		}
		u.Title = &title
	}
	if in.Priority.Set {
		p, ok := conversation.ParsePriority(in.Priority.Value)
		if in.Priority.Null || !ok {
			return fieldErr("priority", "priority must be one of none, low, medium, high, urgent (or priority, not_priority)")
		}
		u.Priority = &p
	}
	if in.CompanyID.Set && !in.CompanyID.Null {
		return fieldErr("company_id", "conversations cannot be linked to companies yet")
	}
	if in.CustomAttributes.Set && !in.CustomAttributes.Null {
		vals, err := customValues(in.CustomAttributes.Value)
		if err != nil {
			return err
		}
		if u.CustomAttributes, err = h.typedCustom(r, vals); err != nil {
			return err
		}
	}
	_, err = h.st.Change(r.Context(), authOf(r.Context()).WorkspaceID, id, func(c *conversation.Conversation) (*conversation.Change, error) {
		if len(c.CustomAttributes)+len(u.CustomAttributes) > maxConversationAttributes {
			n := len(c.CustomAttributes)
			for k, v := range u.CustomAttributes {
				if _, had := c.CustomAttributes[k]; !had && v != nil {
					n++
				}
			}
			if n > maxConversationAttributes {
				return nil, &conversation.RuleError{Field: "custom_attributes", Message: "a conversation has at most " + strconv.Itoa(maxConversationAttributes) + " custom attributes"}
			}
		}
		return c.Apply(u, time.Now().Unix())
	})
	if err != nil {
		return conversationErr(err)
	}
	return h.writeConversation(w, r, id)
}

type replyInput struct {
	MessageType       opt[string]          `json:"message_type"`
	Type              opt[string]          `json:"type"`
	Body              opt[string]          `json:"body"`
	AdminID           opt[json.RawMessage] `json:"admin_id"`
	CreatedAt         opt[int64]           `json:"created_at"`
	ReplyOptions      opt[[]quickReply]    `json:"reply_options"`
	AttachmentURLs    opt[[]string]        `json:"attachment_urls"`
	AttachmentFiles   opt[json.RawMessage] `json:"attachment_files"`
	SkipNotifications opt[bool]            `json:"skip_notifications"`
	customerRef
}

type quickReply struct {
	Text string `json:"text"`
	UUID string `json:"uuid"`
}

// reply is POST /conversations/{id}/reply: an admin's comment, note or
// quick reply, or a contact's comment. The id "last" is the contact's most
// recently updated conversation.
func (h *conversationAPI) reply(w http.ResponseWriter, r *http.Request) error {
	var in replyInput
	if err := h.s.decode(w, r, &in); err != nil {
		return err
	}
	att, err := attachments(in.AttachmentURLs, in.AttachmentFiles)
	if err != nil {
		return err
	}
	now, err := partTime(in.CreatedAt)
	if err != nil {
		return err
	}
	ws := authOf(r.Context()).WorkspaceID
	var apply func(c *conversation.Conversation) (*conversation.Change, error)
	var contactID string
	switch in.Type.Value {
	case "admin":
		kind := in.MessageType.Value
		if kind != conversation.PartComment && kind != conversation.PartNote && kind != conversation.PartQuickReply {
			return fieldErr("message_type", "message_type must be comment, note or quick_reply")
		}
		body, err := messageBody(in.Body, false)
		if err != nil {
			return err
		}
		if body != "" {
			body = noteHTML(body)
		}
		var options []conversation.QuickReplyOption
		for i, o := range in.ReplyOptions.Value {
			if strings.TrimSpace(o.Text) == "" || o.UUID == "" || len(o.Text) > maxStringField || len(o.UUID) > 64 {
				return fieldErr("reply_options", "reply_options[%d] needs a text and a uuid", i)
			}
			options = append(options, conversation.QuickReplyOption{Text: o.Text, UUID: o.UUID})
		}
		if in.IntercomUserID.Set || in.UserID.Set || in.Email.Set {
			return badRequest("an admin reply does not name a contact")
		}
		admin, err := h.adminAuthor(r, "admin_id", in.AdminID)
		if err != nil {
			return err
		}
		apply = func(c *conversation.Conversation) (*conversation.Change, error) {
			return c.AdminReply(admin, kind, body, options, att, now)
		}
	case "user":
		if in.MessageType.Value != conversation.PartComment {
			return fieldErr("message_type", "a contact can only reply with message_type comment")
		}
		if in.ReplyOptions.Set || in.AdminID.Set {
			return badRequest("a contact reply takes neither reply_options nor admin_id")
		}
		body, err := messageBody(in.Body, len(att) == 0)
		if err != nil {
			return err
		}
		if body != "" {
			body = textHTML(body)
		}
		c, err := h.findContact(r, in.customerRef)
		if err != nil {
			return err
		}
		contactID = c.ID
		from := contactAuthor(c)
		apply = func(conv *conversation.Conversation) (*conversation.Change, error) {
			if !conv.HasContact(from.ID) {
				return nil, &conversation.RuleError{Field: "intercom_user_id", Message: "the contact does not take part in this conversation"}
			}
			return conv.ContactReply(from, body, att, now)
		}
	default:
		return fieldErr("type", "type must be admin or user")
	}
	var id int64
	if raw := r.PathValue("id"); raw == "last" {
		if contactID == "" {
			return badRequest("the conversation id last needs a contact reply (type user)")
		}
		if id, err = h.st.LastForContact(r.Context(), ws, contactID); err != nil {
			return conversationErr(err)
		}
	} else if id, _ = parseConversationID(raw); id == 0 {
		return errNoSuchConversation
	}
	if _, err := h.st.Change(r.Context(), ws, id, apply); err != nil {
		return conversationErr(err)
	}
	return h.writeConversation(w, r, id)
}

// manage is POST /conversations/{id}/parts: open, close, snoozed, assignment.
func (h *conversationAPI) manage(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		MessageType  opt[string]          `json:"message_type"`
		Type         opt[string]          `json:"type"`
		AdminID      opt[json.RawMessage] `json:"admin_id"`
		AssigneeID   opt[json.RawMessage] `json:"assignee_id"`
		Body         opt[string]          `json:"body"`
		SnoozedUntil opt[json.RawMessage] `json:"snoozed_until"`
	}
	id, err := h.decodeFor(w, r, &in)
	if err != nil {
		return err
	}
	body, err := messageBody(in.Body, false)
	if err != nil {
		return err
	}
	if body != "" {
		body = noteHTML(body)
	}
	if in.Type.Set && in.Type.Value != "admin" && in.MessageType.Value != "assignment" {
		return fieldErr("type", "type must be admin")
	}
	now := time.Now().Unix()
	var apply func(c *conversation.Conversation, admin conversation.Author) (*conversation.Change, error)
	switch in.MessageType.Value {
	case "open":
		apply = func(c *conversation.Conversation, admin conversation.Author) (*conversation.Change, error) {
			return c.Open(admin, now)
		}
	case "close":
		apply = func(c *conversation.Conversation, admin conversation.Author) (*conversation.Change, error) {
			return c.Close(admin, body, now)
		}
	case "snoozed":
		if !in.SnoozedUntil.Set || in.SnoozedUntil.Null {
			return missing("snoozed_until")
		}
		until, err := attribute.ParseTime(in.SnoozedUntil.Value)
		if err != nil {
			return fieldErr("snoozed_until", "snoozed_until %s", err.Error())
		}
		apply = func(c *conversation.Conversation, admin conversation.Author) (*conversation.Change, error) {
			return c.Snooze(admin, until, now)
		}
	case "assignment":
		kind := in.Type.Value
		if kind != "admin" && kind != "team" {
			return fieldErr("type", "type must be admin or team")
		}
		if !in.AssigneeID.Set || in.AssigneeID.Null {
			return missing("assignee_id")
		}
		assignee, err := parseIntID(in.AssigneeID.Value)
		if err != nil || assignee < 0 {
			return fieldErr("assignee_id", "assignee_id must be the id of a teammate or a team (0: nobody)")
		}
		if kind == "admin" && assignee != 0 {
			if _, err := h.s.workspaces.Admin(r.Context(), authOf(r.Context()).WorkspaceID, assignee); isNotFound(err) {
				return fieldErr("assignee_id", "assignee_id %d is not a teammate of this workspace", assignee)
			} else if err != nil {
				return err
			}
		}
		if kind == "team" && assignee != 0 {
			if _, err := h.s.teams.Get(r.Context(), authOf(r.Context()).WorkspaceID, assignee); store.IsMissing(err, "team") {
				return fieldErr("assignee_id", "assignee_id %d is not a team of this workspace", assignee)
			} else if err != nil {
				return err
			}
		}
		apply = func(c *conversation.Conversation, admin conversation.Author) (*conversation.Change, error) {
			return c.Assign(admin, kind, assignee, body, now)
		}
	default:
		return fieldErr("message_type", "message_type must be open, close, snoozed or assignment")
	}
	admin, err := h.adminAuthor(r, "admin_id", in.AdminID)
	if err != nil {
		return err
	}
	_, err = h.st.Change(r.Context(), authOf(r.Context()).WorkspaceID, id, func(c *conversation.Conversation) (*conversation.Change, error) {
		return apply(c, admin)
	})
	if err != nil {
		return conversationErr(err)
	}
	return h.writeConversation(w, r, id)
}

// runAssignmentRules is POST /conversations/{id}/run_assignment_rules
// (the SDK's runAssignmentRules): the rules route the conversation as if
// it had just arrived.
func (h *conversationAPI) runAssignmentRules(w http.ResponseWriter, r *http.Request) error {
	id, ok := parseConversationID(r.PathValue("id"))
	if !ok {
		return errNoSuchConversation
	}
	if _, err := h.st.RunAssignmentRules(r.Context(), authOf(r.Context()).WorkspaceID, id); err != nil {
		return conversationErr(err)
	}
	return h.writeConversation(w, r, id)
}

func tagOut(t *conversation.Tag) map[string]any {
	out := map[string]any{"type": "tag", "id": strconv.FormatInt(t.ID, 10), "name": t.Name, "applied_at": t.AppliedAt}
	if t.AppliedBy != nil {
		out["applied_by"] = map[string]any{"type": "admin", "id": strconv.FormatInt(*t.AppliedBy, 10)}
	}
	return out
}

// tag is POST /conversations/{id}/tags with {id: tag id, admin_id}.
func (h *conversationAPI) tag(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		ID      opt[json.RawMessage] `json:"id"`
		AdminID opt[json.RawMessage] `json:"admin_id"`
	}
	id, err := h.decodeFor(w, r, &in)
	if err != nil {
		return err
	}
	raw, err := optLooseID("id", in.ID)
	if err != nil {
		return err
	}
	if raw == "" {
		return missing("id")
	}
	tagID, ok := parseTagID(raw)
	if !ok {
		return notFound("tag_not_found", "Tag not found")
	}
	admin, err := h.adminAuthor(r, "admin_id", in.AdminID)
	if err != nil {
		return err
	}
	adminID, _ := strconv.ParseInt(admin.ID, 10, 64)
	t, err := h.st.AddTag(r.Context(), authOf(r.Context()).WorkspaceID, id, tagID, adminID)
	if err != nil {
		return conversationErr(err)
	}
	writeJSON(w, http.StatusOK, tagOut(t))
	return nil
}

// untag is DELETE /conversations/{id}/tags/{tag_id}.
func (h *conversationAPI) untag(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		AdminID opt[json.RawMessage] `json:"admin_id"`
	}
	id, err := h.decodeFor(w, r, &in)
	if err != nil {
		return err
	}
	if _, err := h.adminAuthor(r, "admin_id", in.AdminID); err != nil {
		return err
	}
	tagID, ok := parseTagID(r.PathValue("tag_id"))
	if !ok {
		return notFound("tag_not_found", "Tag not found")
	}
	t, err := h.st.RemoveTag(r.Context(), authOf(r.Context()).WorkspaceID, id, tagID)
	if err != nil {
		return conversationErr(err)
	}
	writeJSON(w, http.StatusOK, tagOut(t))
	return nil
}

// attach is POST /conversations/{id}/customers.
func (h *conversationAPI) attach(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		AdminID  opt[json.RawMessage] `json:"admin_id"`
		Customer opt[customerRef]     `json:"customer"`
	}
	id, err := h.decodeFor(w, r, &in)
	if err != nil {
		return err
	}
	if !in.Customer.Set || in.Customer.Null {
		return missing("customer")
	}
	admin, err := h.adminAuthor(r, "admin_id", in.AdminID)
	if err != nil {
		return err
	}
	c, err := h.findContact(r, in.Customer.Value)
	if err != nil {
		return err
	}
	if _, err := h.st.AddContact(r.Context(), authOf(r.Context()).WorkspaceID, id, admin, c.ID); err != nil {
		return conversationErr(err)
	}
	return h.writeConversation(w, r, id)
}

// detach is DELETE /conversations/{id}/customers/{contact_id}.
func (h *conversationAPI) detach(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		AdminID opt[json.RawMessage] `json:"admin_id"`
	}
	id, err := h.decodeFor(w, r, &in)
	if err != nil {
		return err
	}
	admin, err := h.adminAuthor(r, "admin_id", in.AdminID)
	if err != nil {
		return err
	}
	_, err = h.st.RemoveContact(r.Context(), authOf(r.Context()).WorkspaceID, id, admin, r.PathValue("contact_id"))
	switch {
	case errors.Is(err, conversation.ErrLastContact):
		return errf(http.StatusUnprocessableEntity, "parameter_invalid", "%s", conversation.ErrLastContact.Message)
	case errors.Is(err, conversation.ErrNotParticipant):
		return errNoSuchContact
	case err != nil:
		return conversationErr(err)
	}
	return h.writeConversation(w, r, id)
}
