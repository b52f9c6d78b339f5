package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"

	"github.com/parleyhq/parley/internal/store"
)

// POST /messages: a teammate's message to one contact starts an
// admin-initiated conversation (in-app, or email — stored the same way;
// sending the email is the email channel's work), appending
// conversation.admin.single.created; a contact's message (from a user or
// lead) starts a conversation exactly like POST /conversations.

type recipient struct {
	Type opt[string] `json:"type"`
	ID   opt[string] `json:"id"`
}

// oneRecipient reads `to`: one recipient, alone or in an array of one.
func oneRecipient(raw json.RawMessage) (recipient, error) {
	var list []recipient
	if bytes.HasPrefix(bytes.TrimSpace(raw), []byte("[")) {
		if err := strictJSON(raw, &list); err != nil {
			return recipient{}, fieldErr("to", "to must be a recipient {type, id} or an array of them")
		}
	} else {
		var one recipient
		if err := strictJSON(raw, &one); err != nil {
			return recipient{}, fieldErr("to", "to must be a recipient {type, id} or an array of them")
		}
		list = []recipient{one}
	}
	if len(list) != 1 {
		return recipient{}, fieldErr("to", "a message goes to exactly one contact")
	}
	to := list[0]
	switch to.Type.Value {
	case "user", "lead", "contact":
	default:
		return recipient{}, fieldErr("to.type", "to.type must be user, lead or contact")
	}
	if to.ID.Value == "" {
		return recipient{}, missing("to.id")
	}
	return to, nil
}

func strictJSON(raw json.RawMessage, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

func (h *conversationAPI) message(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		MessageType opt[string] `json:"message_type"`
		Subject     opt[string] `json:"subject"`
		Body        opt[string] `json:"body"`
		Template    opt[string] `json:"template"`
		From        struct {
			Type opt[string]          `json:"type"`
			ID   opt[json.RawMessage] `json:"id"`
		} `json:"from"`
		To                                    opt[json.RawMessage] `json:"to"`
		CC                                    opt[json.RawMessage] `json:"cc"`
		BCC                                   opt[json.RawMessage] `json:"bcc"`
		CreatedAt                             opt[int64]           `json:"created_at"`
		CreateConversationWithoutContactReply opt[bool]            `json:"create_conversation_without_contact_reply"`
		Referer                               opt[string]          `json:"referer"`
	}
	if err := h.s.decode(w, r, &in); err != nil {
		return err
	}
	if !in.Body.Set || in.Body.Null {
		return fieldErr("body", "Body is required")
	}
	body, err := messageBody(in.Body, true)
	if err != nil {
		return err
	}
	subject, err := messageBody(in.Subject, false)
	if err != nil {
		return err
	}
	now, err := partTime(in.CreatedAt)
	if err != nil {
		return err
	}
	ws := authOf(r.Context()).WorkspaceID
	switch in.From.Type.Value {
	case "user", "lead", "contact":
		if in.To.Set || in.CC.Set || in.BCC.Set || in.Template.Set {
			return badRequest("a contact's message takes no to, cc, bcc or template")
		}
		if in.MessageType.Set && in.MessageType.Value != "inapp" && in.MessageType.Value != "in_app" {
			return fieldErr("message_type", "a contact's message is in_app")
		}
		var id string
		if !in.From.ID.Set || json.Unmarshal(in.From.ID.Value, &id) != nil || id == "" {
			return fieldErr("from.id", "from.id must be the id of a contact")
		}
		start := store.ContactStart{WorkspaceID: ws, ContactID: id, Body: textHTML(body), Subject: subject, At: now}
		if in.Referer.Set && !in.Referer.Null && in.Referer.Value != "" {
			u, err := url.Parse(in.Referer.Value)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || len(in.Referer.Value) > 2048 {
				return fieldErr("referer", "referer must be an http(s) URL")
			}
			start.URL = in.Referer.Value
		}
		return h.startByContact(w, r, start, body)
	case "admin":
	default:
		return fieldErr("from.type", "from.type must be admin, user or lead")
	}

	sourceType, messageType := "", ""
	switch in.MessageType.Value {
	case "inapp", "in_app":
		sourceType, messageType = "conversation", "inapp"
	case "email":
		sourceType, messageType = "email", "email"
		if subject == "" {
			return errf(http.StatusUnprocessableEntity, "parameter_not_found", "No subject supplied for email message")
		}
		if in.Template.Set && in.Template.Value != "plain" && in.Template.Value != "personal" {
			return fieldErr("template", "template must be plain or personal")
		}
	default:
		return fieldErr("message_type", "message_type must be in_app or email")
	}
	if in.Template.Set && messageType != "email" {
		return fieldErr("template", "template applies to email messages only")
	}
	if !in.To.Set || in.To.Null {
		return missing("to")
	}
	to, err := oneRecipient(in.To.Value)
	if err != nil {
		return err
	}
	for name, o := range map[string]opt[json.RawMessage]{"cc": in.CC, "bcc": in.BCC} {
		if o.Set && !o.Null && string(bytes.TrimSpace(o.Value)) != "[]" {
			return fieldErr(name, "%s is not supported: a message goes to one contact", name)
		}
	}
	if !in.From.ID.Set || in.From.ID.Null {
		return missing("from.id")
	}
	admin, err := h.adminAuthor(r, "from.id", in.From.ID)
	if err != nil {
		return err
	}
	conv, err := h.st.StartByAdmin(r.Context(), store.AdminStart{WorkspaceID: ws, Admin: admin, ContactID: to.ID.Value,
		SourceType: sourceType, Subject: subject, Body: noteHTML(body), At: now})
	if err != nil {
		return conversationErr(err)
	}
	adminID, _ := strconv.ParseInt(admin.ID, 10, 64)
	a, err := h.s.workspaces.Admin(r.Context(), ws, adminID)
	if err != nil {
		return err
	}
	owner, err := h.s.adminJSON(r, a)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"type": "admin_message", "id": conv.IDString(), "created_at": conv.CreatedAt, "subject": subject, "body": body,
		"message_type": messageType, "owner": owner, "conversation_id": conv.IDString(),
	})
	return nil
}
