package web

// The conversation page's details (docs/web.md "Conversation"): the
// contact, read state, tags, custom conversation attributes and saved
// replies; tags and attributes change through the same store code and
// rules as the REST API (Conversations.AddTag/RemoveTag, Apply with values
// checked by conversation.Attribute.Check), so the same events append.

import (
	"errors"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/parleyhq/parley/internal/conversation"
	"github.com/parleyhq/parley/internal/store"
)

// contactBrief is the contact shown in the sidebar until the contacts
// panel is wired in.
type contactBrief struct {
	ID, Name, Email string
}

// attrField is one custom conversation attribute in the form.
type attrField struct {
	Name, Type, Value, Description string
	Options                        []string
}

// maxTagName is the API's limit on tag names (bytes).
const maxTagName = 255

func (s *Server) conversationDetails(r *http.Request, v *visit, c *conversation.Conversation, d *conversationData) error {
	ctx := r.Context()
	seen, err := s.convs.ContactSeenAt(ctx, v.ws.ID, c.ID)
	if err != nil {
		return err
	}
	d.SeenAt = seen
	if len(c.Contacts) > 0 {
		d.Contact.ID = c.Contacts[0].ID
		if a := c.Source.Author; a.ID == d.Contact.ID {
			d.Contact.Name, d.Contact.Email = who(a), a.Email
		}
	}
	if d.Contact.ID != "" {
		// The contact's panel (contactpanel.go) in the sidebar; its forms
		// come back to this conversation. A contact deleted since keeps
		// the brief line.
		p, err := s.contactPanel(ctx, v, d.Contact.ID)
		switch {
		case err == nil:
			p.P, p.ReturnTo = "side-", "/app/conversations/"+c.IDString()
			d.Panel = p
		case !errors.Is(err, errNoContact):
			return err
		}
	}
	if d.AllTags, err = store.NewTags(s.db).List(ctx, v.ws.ID); err != nil {
		return err
	}
	attrs, err := store.NewConversationAttributes(s.db).List(ctx, v.ws.ID, false)
	if err != nil {
		return err
	}
	for _, a := range attrs {
		f := attrField{Name: a.Name, Type: a.DataType, Description: a.Description}
		for _, o := range a.Options {
			if !o.Archived {
				f.Options = append(f.Options, o.Label)
			}
		}
		if val, ok := c.CustomAttributes[a.Name]; ok && val != nil {
			f.Value = attrText(a.DataType, val)
		}
		d.Attrs = append(d.Attrs, f)
	}
	return s.savedReplyOptions(r, v, c, d)
}

// attrText shows a stored value in the form's input.
func attrText(kind string, val any) string {
	switch x := val.(type) {
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case float64:
		if kind == conversation.AttrDatetime {
			return time.Unix(int64(x), 0).UTC().Format("2006-01-02")
		}
		return strconv.FormatFloat(x, 'f', -1, 64)
	case int64:
		if kind == conversation.AttrDatetime {
			return time.Unix(x, 0).UTC().Format("2006-01-02")
		}
		return strconv.FormatInt(x, 10)
	}
	return ""
}

// conversationTag adds a tag by name (creating it when the workspace has
// none of that name, as Intercom's tag picker does) or removes one by id.
func (s *Server) conversationTag(w http.ResponseWriter, r *http.Request, v *visit) error {
	c, err := s.conversationOf(r, v)
	if err != nil {
		return err
	}
	var tagErr error
	if raw := r.PostFormValue("remove"); raw != "" {
		id, err := strconv.ParseInt(raw, 10, 64)
		if err != nil {
			return s.reshow(w, r, v, http.StatusBadRequest, "That tag is not on this conversation.")
		}
		_, tagErr = s.convs.RemoveTag(r.Context(), v.ws.ID, c.ID, id)
	} else {
		name, msg := tagNameOf(r.PostFormValue("tag"))
		if msg != "" {
			return s.reshow(w, r, v, http.StatusBadRequest, msg)
		}
		t, _, err := store.NewTags(s.db).Ensure(r.Context(), v.ws.ID, name)
		if err != nil {
			return err
		}
		_, tagErr = s.convs.AddTag(r.Context(), v.ws.ID, c.ID, t.ID, v.admin.ID)
	}
	if store.IsMissing(tagErr, "tag") {
		return s.reshow(w, r, v, http.StatusBadRequest, "That tag is not on this conversation.")
	}
	if msg, ok := refusal(tagErr); ok {
		return s.reshow(w, r, v, http.StatusBadRequest, msg)
	}
	if tagErr != nil {
		return tagErr
	}
	http.Redirect(w, r, "/app/conversations/"+strconv.FormatInt(c.ID, 10), http.StatusSeeOther)
	return nil
}

// tagNameOf checks a tag name as the API does; msg says what is wrong.
func tagNameOf(raw string) (name, msg string) {
	name = strings.TrimSpace(raw)
	switch {
	case name == "":
		return "", "Enter a tag name."
	case len(name) > maxTagName:
		return "", "A tag name is at most 255 bytes."
	case strings.ContainsRune(name, 0) || !utf8.ValidString(name):
		return "", "A tag name must be valid text."
	}
	return name, ""
}

// conversationAttributes sets the conversation's custom attributes from
// the form: one field per live attribute; an empty field removes the
// value. Each value is checked by the attribute's definition, as the API
// checks it, and all are applied in one change (conversation.updated).
func (s *Server) conversationAttributes(w http.ResponseWriter, r *http.Request, v *visit) error {
	attrs, err := store.NewConversationAttributes(s.db).List(r.Context(), v.ws.ID, false)
	if err != nil {
		return err
	}
	vals := map[string]any{}
	for _, a := range attrs {
		raw, sent := r.PostForm["attr."+a.Name]
		if !sent || len(raw) == 0 {
			continue
		}
		text := strings.TrimSpace(raw[len(raw)-1])
		if text == "" {
			vals[a.Name] = nil
			continue
		}
		var in any = text
		switch a.DataType {
		case conversation.AttrInteger:
			n, err := strconv.ParseInt(text, 10, 64)
			if err != nil {
				return s.reshow(w, r, v, http.StatusBadRequest, a.Name+" must be a whole number.")
			}
			in = n
		case conversation.AttrDecimal:
			f, err := strconv.ParseFloat(text, 64)
			if err != nil {
				return s.reshow(w, r, v, http.StatusBadRequest, a.Name+" must be a number.")
			}
			in = f
		case conversation.AttrBoolean:
			b, err := strconv.ParseBool(text)
			if err != nil {
				return s.reshow(w, r, v, http.StatusBadRequest, a.Name+" must be yes or no.")
			}
			in = b
		case conversation.AttrDatetime:
			t, err := time.ParseInLocation("2006-01-02", text, v.ws.Location())
			if err != nil {
				return s.reshow(w, r, v, http.StatusBadRequest, a.Name+" must be a date (YYYY-MM-DD).")
			}
			in = t.Unix()
		}
		stored, err := a.Check(in)
		if err != nil {
			return s.reshow(w, r, v, http.StatusBadRequest, err.Error())
		}
		vals[a.Name] = stored
	}
	if len(vals) == 0 {
		return s.reshow(w, r, v, http.StatusBadRequest, "This workspace has no conversation attributes to set.")
	}
	return s.change(w, r, v, func(c *conversation.Conversation) (*conversation.Change, error) {
		return c.Apply(conversation.Update{CustomAttributes: vals}, time.Now().Unix())
	})
}

var errNoSavedReply = pageErr(http.StatusNotFound, "Saved reply not found", "There is no such saved reply in this workspace.")

// savedReplyOf is the saved reply named by the path's id in the workspace.
func (s *Server) savedReplyOf(r *http.Request, v *visit, raw string) (*store.SavedReply, error) {
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id <= 0 {
		return nil, errNoSavedReply
	}
	sr, err := store.NewSavedReplies(s.db).Get(r.Context(), v.ws.ID, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errNoSavedReply
	}
	return sr, err
}

// messengerFiles starts the URL of a Messenger upload (the API's
// attachmentURL); the page links such files to attachmentFile instead.
const messengerFiles = "/messenger/v1/attachments/"

// teammateURL is where a teammate's browser fetches an attachment: the
// web app's own route for Messenger uploads (the API's needs a token),
// the URL as stored for others.
func teammateURL(a conversation.Attachment) string {
	if rest, ok := strings.CutPrefix(a.URL, messengerFiles); ok {
		return "/app/attachments/" + rest
	}
	return a.URL
}

// attachmentFile is GET /app/attachments/{id}/{name}: a Messenger upload
// of the workspace, for its teammates (who see every conversation).
// Images show inline; other files download; neither can run script.
func (s *Server) attachmentFile(w http.ResponseWriter, r *http.Request, v *visit) error {
	errNo := pageErr(http.StatusNotFound, "File not found", "There is no such file in this workspace.")
	if s.opts.AttachmentDir == "" {
		return errNo
	}
	a, err := store.NewMessenger(s.db).Attachment(r.Context(), v.ws.ID, r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) {
		return errNo
	}
	if err != nil {
		return err
	}
	f, err := os.Open(filepath.Join(s.opts.AttachmentDir, v.ws.ID, filepath.Base(a.ID)))
	if errors.Is(err, os.ErrNotExist) {
		return errNo
	}
	if err != nil {
		return err
	}
	defer f.Close()
	h := w.Header()
	h.Set("Content-Type", a.ContentType)
	h.Set("Content-Security-Policy", "sandbox; default-src 'none'")
	h.Set("Cache-Control", "private, max-age=3600")
	disposition := "attachment"
	if strings.HasPrefix(a.ContentType, "image/") && a.ContentType != "image/svg+xml" {
		disposition = "inline"
	}
	h.Set("Content-Disposition", disposition+"; filename*=UTF-8''"+url.PathEscape(a.Name))
	http.ServeContent(w, r, "", time.Unix(a.CreatedAt, 0), f)
	return nil
}
