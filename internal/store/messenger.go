package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/conversation"
	"github.com/parleyhq/parley/internal/eventlog"
	"github.com/parleyhq/parley/internal/ids"
	"github.com/parleyhq/parley/internal/messenger"
)

// Messenger stores what the Messenger needs beside contacts and
// conversations: settings, visitors, attachments, read receipts.
type Messenger struct {
	db       *DB
	contacts *Contacts
}

// NewMessenger returns the Messenger store.
func NewMessenger(db *DB) *Messenger { return &Messenger{db: db, contacts: NewContacts(db)} }

// MessengerConfig is a workspace's Messenger settings with its secrets.
type MessengerConfig struct {
	Settings   messenger.Settings
	Secret     string // identity verification (user_hash, intercom_user_jwt)
	Enforced   bool
	SessionKey []byte // signs session tokens
	UpdatedAt  int64
}

func newSessionKey() string { return ids.Secret(32) }

// Config returns the workspace's Messenger configuration, creating the
// defaults (with a fresh secret and session key) on first use. An unknown
// workspace is ErrNotFound.
func (s *Messenger) Config(ctx context.Context, workspaceID string) (*MessengerConfig, error) {
	cfg, err := s.config(ctx, s.db.Read(), workspaceID)
	if !errors.Is(err, ErrNotFound) {
		return cfg, err
	}
	var name string
	if err := s.db.Read().QueryRow(ctx, `SELECT name FROM workspaces WHERE id = ?`, workspaceID).Scan(&name); err != nil {
		return nil, mapErr(err)
	}
	err = s.db.InTx(ctx, func(tx *Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO messenger_settings (workspace_id, settings, identity_secret, identity_enforced, session_key, updated_at)
 VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (workspace_id) DO NOTHING`,
			workspaceID, jsonText(messenger.Defaults(name)), ids.Secret(32), false, newSessionKey(), time.Now().Unix())
		return err
	})
	if err != nil {
		return nil, err
	}
	return s.config(ctx, s.db.Read(), workspaceID)
}

func (s *Messenger) config(ctx context.Context, r Runner, workspaceID string) (*MessengerConfig, error) {
	var raw, key string
	cfg := &MessengerConfig{}
	err := r.QueryRow(ctx, `SELECT settings, identity_secret, identity_enforced, session_key, updated_at FROM messenger_settings WHERE workspace_id = ?`,
		workspaceID).Scan(&raw, &cfg.Secret, &cfg.Enforced, &key, &cfg.UpdatedAt)
	if err != nil {
		return nil, mapErr(err)
	}
	if err := json.Unmarshal([]byte(raw), &cfg.Settings); err != nil {
		return nil, fmt.Errorf("messenger settings of %s: %w", workspaceID, err)
	}
	if cfg.Settings.OfficeHours.Days == nil {
		cfg.Settings.OfficeHours.Days = map[string][]messenger.Interval{}
	}
	cfg.SessionKey = []byte(key)
	return cfg, nil
}

// SettingsEvent is the item of messenger.settings.updated (no secrets).
type SettingsEvent struct {
	messenger.Settings
	IdentityVerificationEnforced bool `json:"identity_verification_enforced"`
}

// SaveConfig stores cfg (Config must have created the row); rotateKey
// replaces the session key, ending every session. Appends
// messenger.settings.updated.
func (s *Messenger) SaveConfig(ctx context.Context, workspaceID string, cfg *MessengerConfig, rotateKey bool) error {
	return s.db.InTx(ctx, func(tx *Tx) error {
		cfg.UpdatedAt = time.Now().Unix()
		key := string(cfg.SessionKey)
		if rotateKey {
			key = newSessionKey()
		}
		res, err := tx.Exec(ctx, `UPDATE messenger_settings SET settings = ?, identity_secret = ?, identity_enforced = ?, session_key = ?, updated_at = ? WHERE workspace_id = ?`,
			jsonText(cfg.Settings), cfg.Secret, cfg.Enforced, key, cfg.UpdatedAt, workspaceID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		cfg.SessionKey = []byte(key)
		_, err = eventlog.Append(ctx, tx, workspaceID, "messenger.settings.updated", SettingsEvent{cfg.Settings, cfg.Enforced})
		return err
	})
}

const visitorCols = `workspace_id, id, user_id, name, email, phone, custom_attributes, contact_id, created_at, updated_at, last_request_at`

func scanVisitor(row interface{ Scan(...any) error }) (*messenger.Visitor, error) {
	v := &messenger.Visitor{}
	var custom []byte
	if err := row.Scan(&v.WorkspaceID, &v.ID, &v.UserID, &v.Name, &v.Email, &v.Phone, &custom, &v.ContactID, &v.CreatedAt, &v.UpdatedAt, &v.LastRequestAt); err != nil {
		return nil, mapErr(err)
	}
	return v, decodeCustom(custom, &v.CustomAttributes)
}

// CreateVisitor inserts a new visitor whose token hashes to tokenHash and
// appends visitor.created.
func (s *Messenger) CreateVisitor(ctx context.Context, v *messenger.Visitor, tokenHash string) error {
	return s.db.InTx(ctx, func(tx *Tx) error { return s.CreateVisitorIn(ctx, tx, v, tokenHash) })
}

// CreateVisitorIn is CreateVisitor inside tx.
func (s *Messenger) CreateVisitorIn(ctx context.Context, tx *Tx, v *messenger.Visitor, tokenHash string) error {
	now := time.Now().Unix()
	v.ID, v.UserID = ids.New(), newUUID()
	v.CreatedAt, v.UpdatedAt, v.LastRequestAt = now, now, &now
	if v.CustomAttributes == nil {
		v.CustomAttributes = map[string]any{}
	}
	_, err := tx.Exec(ctx, `INSERT INTO visitors (workspace_id, id, user_id, token_hash, name, email, phone, custom_attributes, contact_id, created_at, updated_at, last_request_at)
 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, v.WorkspaceID, v.ID, v.UserID, tokenHash, v.Name, v.Email, v.Phone,
		encodeCustom(v.CustomAttributes), v.ContactID, v.CreatedAt, v.UpdatedAt, v.LastRequestAt)
	if err != nil {
		return mapErr(err)
	}
	_, err = eventlog.Append(ctx, tx, v.WorkspaceID, "visitor.created", v)
	return err
}

func newUUID() string { return ids.UUID() }

// VisitorByToken finds the visitor of a visitor token (by its hash) in a
// workspace.
func (s *Messenger) VisitorByToken(ctx context.Context, workspaceID, tokenHash string) (*messenger.Visitor, error) {
	return scanVisitor(s.db.Read().QueryRow(ctx, `SELECT `+visitorCols+` FROM visitors WHERE token_hash = ? AND workspace_id = ?`, tokenHash, workspaceID))
}

// VisitorBy finds a visitor by "id", "user_id" or "email" (the most recent
// with that email).
func (s *Messenger) VisitorBy(ctx context.Context, workspaceID, field, value string) (*messenger.Visitor, error) {
	return s.visitorBy(ctx, s.db.Read(), workspaceID, field, value)
}

func (s *Messenger) visitorBy(ctx context.Context, r Runner, workspaceID, field, value string) (*messenger.Visitor, error) {
	switch field {
	case "id", "user_id", "email":
	default:
		return nil, fmt.Errorf("visitor by %q", field)
	}
	return scanVisitor(r.QueryRow(ctx, `SELECT `+visitorCols+` FROM visitors WHERE workspace_id = ? AND `+field+` = ? ORDER BY created_at DESC LIMIT 1`, workspaceID, value))
}

// UpdateVisitor saves v's attributes and appends visitor.updated.
func (s *Messenger) UpdateVisitor(ctx context.Context, v *messenger.Visitor) error {
	return s.db.InTx(ctx, func(tx *Tx) error { return s.UpdateVisitorIn(ctx, tx, v) })
}

// UpdateVisitorIn is UpdateVisitor inside tx.
func (s *Messenger) UpdateVisitorIn(ctx context.Context, tx *Tx, v *messenger.Visitor) error {
	v.UpdatedAt = time.Now().Unix()
	res, err := tx.Exec(ctx, `UPDATE visitors SET name = ?, email = ?, phone = ?, custom_attributes = ?, contact_id = ?, updated_at = ? WHERE workspace_id = ? AND id = ?`,
		v.Name, v.Email, v.Phone, encodeCustom(v.CustomAttributes), v.ContactID, v.UpdatedAt, v.WorkspaceID, v.ID)
	if err != nil {
		return mapErr(err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	_, err = eventlog.Append(ctx, tx, v.WorkspaceID, "visitor.updated", v)
	return err
}

// LinkVisitorIn records, inside tx, that the visitor is now the contact c
// (a lead it became, or a user it was identified as or converted into),
// and appends visitor.signed_up (a user) or visitor.converted (a lead).
func (s *Messenger) LinkVisitorIn(ctx context.Context, tx *Tx, v *messenger.Visitor, c *contact.Contact) error {
	if v.ContactID != nil && *v.ContactID == c.ID {
		return nil
	}
	v.ContactID = &c.ID
	v.UpdatedAt = time.Now().Unix()
	if _, err := tx.Exec(ctx, `UPDATE visitors SET contact_id = ?, updated_at = ? WHERE workspace_id = ? AND id = ?`, c.ID, v.UpdatedAt, v.WorkspaceID, v.ID); err != nil {
		return mapErr(err)
	}
	topic := "visitor.converted"
	if c.Role == contact.RoleUser {
		topic = "visitor.signed_up"
	}
	_, err := eventlog.Append(ctx, tx, v.WorkspaceID, topic, map[string]any{"type": "visitor_conversion", "visitor": v, "contact": c.Reference("")})
	return err
}

// LeadFromVisitorIn creates, inside tx, the lead an anonymous visitor
// becomes (with its name, email, phone and custom attributes) and links
// the visitor to it.
func (s *Messenger) LeadFromVisitorIn(ctx context.Context, tx *Tx, v *messenger.Visitor) (*contact.Contact, error) {
	custom := map[string]any{}
	for k, val := range v.CustomAttributes {
		custom[k] = val
	}
	lead := &contact.Contact{WorkspaceID: v.WorkspaceID, ID: ids.New(), Role: contact.RoleLead, Name: v.Name, Email: v.Email, Phone: v.Phone,
		CustomAttributes: custom, LastSeenAt: v.LastRequestAt}
	if err := s.contacts.CreateIn(ctx, tx, lead); err != nil {
		return nil, err
	}
	return lead, s.LinkVisitorIn(ctx, tx, v, lead)
}

// ContactIn loads a live contact inside tx, following merges (a lead that
// was merged into a user is that user now).
func (s *Messenger) ContactIn(ctx context.Context, r Runner, workspaceID, id string) (*contact.Contact, error) {
	for range 5 {
		var merged *string
		err := r.QueryRow(ctx, `SELECT merged_into FROM contacts WHERE workspace_id = ? AND id = ?`, workspaceID, id).Scan(&merged)
		if err != nil {
			return nil, mapErr(err)
		}
		if merged == nil {
			return s.contacts.GetIn(ctx, r, workspaceID, id)
		}
		id = *merged
	}
	return nil, ErrNotFound
}

// Contact is ContactIn on the read pool.
func (s *Messenger) Contact(ctx context.Context, workspaceID, id string) (*contact.Contact, error) {
	return s.ContactIn(ctx, s.db.Read(), workspaceID, id)
}

// UserIn finds, inside tx, the user with this external id, else (when
// externalID is empty or unknown) the user with this email that has no
// other external id. ErrNotFound when there is none.
func (s *Messenger) UserIn(ctx context.Context, tx *Tx, workspaceID, externalID, email string) (*contact.Contact, error) {
	if externalID != "" {
		c, err := ScanContact(tx.QueryRow(ctx, `SELECT `+contactSelect(tx.Dialect())+` FROM contacts c WHERE c.workspace_id = ? AND c.external_id = ? AND c.merged_into IS NULL`, workspaceID, externalID))
		if !errors.Is(err, ErrNotFound) {
			return c, err
		}
	}
	if email == "" {
		return nil, ErrNotFound
	}
	q := `SELECT ` + contactSelect(tx.Dialect()) + ` FROM contacts c WHERE c.workspace_id = ? AND c.email = ? AND c.role = 'user' AND c.merged_into IS NULL`
	args := []any{workspaceID, email}
	if externalID != "" {
		q += ` AND c.external_id IS NULL`
	}
	return ScanContact(tx.QueryRow(ctx, q+` ORDER BY c.id LIMIT 1`, args...))
}

// Attachment is a file uploaded from the Messenger.
type Attachment struct {
	WorkspaceID    string
	ID             string
	Name           string
	ContentType    string
	Size           int64
	Uploader       string // session subject: v:<visitor> or c:<contact>
	ConversationID *int64
	CreatedAt      int64
}

// CreateAttachment records an uploaded file (already written to disk).
func (s *Messenger) CreateAttachment(ctx context.Context, a *Attachment) error {
	a.CreatedAt = time.Now().Unix()
	return s.db.InTx(ctx, func(tx *Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO attachments (workspace_id, id, name, content_type, size, uploader, conversation_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			a.WorkspaceID, a.ID, a.Name, a.ContentType, a.Size, a.Uploader, a.ConversationID, a.CreatedAt)
		return mapErr(err)
	})
}

// Attachment loads an attachment of the workspace.
func (s *Messenger) Attachment(ctx context.Context, workspaceID, id string) (*Attachment, error) {
	a := &Attachment{}
	err := s.db.Read().QueryRow(ctx, `SELECT workspace_id, id, name, content_type, size, uploader, conversation_id, created_at FROM attachments WHERE workspace_id = ? AND id = ?`,
		workspaceID, id).Scan(&a.WorkspaceID, &a.ID, &a.Name, &a.ContentType, &a.Size, &a.Uploader, &a.ConversationID, &a.CreatedAt)
	return a, mapErr(err)
}

// ClaimAttachments attaches unclaimed uploads of uploader to the
// conversation. It reports ErrNotFound if any is unknown, someone else's or
// already used.
func (s *Messenger) ClaimAttachmentsIn(ctx context.Context, tx *Tx, workspaceID string, ids []string, uploaders []string, conversationID int64) error {
	for _, id := range ids {
		q := `UPDATE attachments SET conversation_id = ? WHERE workspace_id = ? AND id = ? AND conversation_id IS NULL AND uploader IN (` + inList(len(uploaders)) + `)`
		args := []any{conversationID, workspaceID, id}
		for _, u := range uploaders {
			args = append(args, u)
		}
		res, err := tx.Exec(ctx, q, args...)
		if err != nil {
			return mapErr(err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return &MissingError{Kind: "attachment"}
		}
	}
	return nil
}

// IsParticipant reports whether the contact takes part in the
// conversation.
func (s *Messenger) IsParticipant(ctx context.Context, workspaceID string, conversationID int64, contactID string) (bool, error) {
	var one int
	err := s.db.Read().QueryRow(ctx, `SELECT 1 FROM conversation_contacts WHERE workspace_id = ? AND conversation_id = ? AND contact_id = ?`,
		workspaceID, conversationID, contactID).Scan(&one)
	if err = mapErr(err); errors.Is(err, ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// ConversationIDs returns the ids of the contact's conversations, most
// recently updated first (at most limit).
func (s *Messenger) ConversationIDs(ctx context.Context, workspaceID, contactID string, limit int) ([]int64, error) {
	rows, err := s.db.Read().Query(ctx, `SELECT c.id FROM conversation_contacts cc
 JOIN conversations c ON c.workspace_id = cc.workspace_id AND c.id = cc.conversation_id
 WHERE cc.workspace_id = ? AND cc.contact_id = ? ORDER BY c.updated_at DESC, c.id DESC LIMIT ?`, workspaceID, contactID, limit)
	if err != nil {
		return nil, err
	}
	var out []int64
	err = eachRow(rows, func() error {
		var id int64
		err := rows.Scan(&id)
		out = append(out, id)
		return err
	})
	return out, err
}

// SeenMarks are the read receipts of a conversation.
type SeenMarks struct {
	Contact *int64
	Admin   *int64
}

// Seen returns the conversation's read receipts.
func (s *Messenger) Seen(ctx context.Context, workspaceID string, id int64) (SeenMarks, error) {
	var m SeenMarks
	err := s.db.Read().QueryRow(ctx, `SELECT contact_seen_at, admin_seen_at FROM conversations WHERE workspace_id = ? AND id = ?`, workspaceID, id).Scan(&m.Contact, &m.Admin)
	return m, mapErr(err)
}

// SeenByAdmin is the payload of conversation.admin.seen.
type SeenByAdmin struct {
	ConversationID string `json:"conversation_id"`
	AdminID        string `json:"admin_id"`
	SeenAt         int64  `json:"seen_at"`
}

// MarkSeenByAdmin records that a teammate saw the conversation at `at`
// and appends conversation.admin.seen; false when not later than the
// stored mark.
func (s *Messenger) MarkSeenByAdmin(ctx context.Context, workspaceID string, id, adminID, at int64) (bool, error) {
	changed := false
	err := s.db.InTx(ctx, func(tx *Tx) error {
		var one int
		if err := tx.QueryRow(ctx, `SELECT 1 FROM conversations WHERE workspace_id = ? AND id = ?`, workspaceID, id).Scan(&one); err != nil {
			return mapErr(err)
		}
		res, err := tx.Exec(ctx, `UPDATE conversations SET admin_seen_at = ? WHERE workspace_id = ? AND id = ? AND (admin_seen_at IS NULL OR admin_seen_at < ?)`, at, workspaceID, id, at)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		changed = true
		_, err = eventlog.Append(ctx, tx, workspaceID, "conversation.admin.seen",
			SeenByAdmin{ConversationID: strconv.FormatInt(id, 10), AdminID: strconv.FormatInt(adminID, 10), SeenAt: at})
		return err
	})
	return changed, err
}

// Rate records a participant's rating of a closed conversation
// (conversation.Rate) and appends conversation.rating.added.
func (s *Messenger) Rate(ctx context.Context, conversations *Conversations, workspaceID string, id int64, contactID string, rating int, remark string) (*conversation.Conversation, error) {
	return conversations.Change(ctx, workspaceID, id, func(c *conversation.Conversation) (*conversation.Change, error) {
		return c.Rate(contactID, rating, remark, time.Now().Unix())
	})
}

// ReplyWithAttachments adds a contact's reply and claims its uploads in
// the same transaction; it returns the new part. A non-empty key (the
// client's Idempotency-Key) is remembered with the part, in the same
// transaction.
func (s *Messenger) ReplyWithAttachments(ctx context.Context, conversations *Conversations, workspaceID string, id int64, from conversation.Author,
	body string, att []conversation.Attachment, attachmentIDs, uploaders []string, key string) (*conversation.Part, error) {
	var part *conversation.Part
	_, err := conversations.change(ctx, workspaceID, id, func(tx *Tx, c *conversation.Conversation) (*conversation.Change, error) {
		if !c.HasContact(from.ID) {
			return nil, ErrNotFound
		}
		ch, err := c.ContactReply(from, body, att, time.Now().Unix())
		if err != nil {
			return nil, err
		}
		part = ch.Parts[len(ch.Parts)-1]
		if key != "" {
			ch.Then = func() error { return s.RememberIn(ctx, tx, workspaceID, from.ID, key, id, &part.ID) }
		}
		return ch, s.ClaimAttachmentsIn(ctx, tx, workspaceID, attachmentIDs, uploaders, id)
	})
	return part, err
}

// Repeat is what an earlier Messenger write with this idempotency key
// created: its conversation and, for a reply, its part (nil: the write
// started the conversation). found is false for a new key.
func (s *Messenger) Repeat(ctx context.Context, workspaceID, contactID, key string) (conversationID int64, partID *int64, found bool, err error) {
	err = s.db.Read().QueryRow(ctx, `SELECT conversation_id, part_id FROM messenger_requests WHERE workspace_id = ? AND contact_id = ? AND idem_key = ?`,
		workspaceID, contactID, key).Scan(&conversationID, &partID)
	if err = mapErr(err); errors.Is(err, ErrNotFound) {
		return 0, nil, false, nil
	}
	return conversationID, partID, err == nil, err
}

// RememberIn records, in the write's transaction, what the write with this
// idempotency key created. A key used twice at once is a conflict: one of
// the two writes is undone (the caller answers with the other's result).
func (s *Messenger) RememberIn(ctx context.Context, tx *Tx, workspaceID, contactID, key string, conversationID int64, partID *int64) error {
	_, err := tx.Exec(ctx, `INSERT INTO messenger_requests (workspace_id, contact_id, idem_key, conversation_id, part_id, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
		workspaceID, contactID, key, conversationID, partID, time.Now().Unix())
	return err
}
