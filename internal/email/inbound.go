package email

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/conversation"
	"github.com/parleyhq/parley/internal/ids"
	"github.com/parleyhq/parley/internal/store"
)

// Inbound is Parley's SMTP server: it accepts mail for reply addresses
// (reply+<token>@domain: that conversation) and workspace inbound
// addresses (<workspace id>@domain: a new conversation) and refuses every
// other recipient.
type Inbound struct {
	db         *store.DB
	domain     string
	convs      *store.Conversations
	contacts   *store.Contacts
	workspaces *store.Workspaces
	srv        *smtp.Server
	ctx        context.Context
}

// NewInbound returns the inbound server for addresses @domain.
func NewInbound(db *store.DB, domain string) *Inbound {
	in := &Inbound{db: db, domain: strings.ToLower(domain), convs: store.NewConversations(db), contacts: store.NewContacts(db),
		workspaces: store.NewWorkspaces(db), ctx: context.Background()}
	s := smtp.NewServer(in)
	s.Domain = in.domain
	s.MaxMessageBytes = MaxMessageBytes
	s.MaxRecipients = MaxRecipients
	s.ReadTimeout, s.WriteTimeout = 2*time.Minute, time.Minute
	s.ErrorLog = slogLogger{}
	s.EnableSMTPUTF8 = true
	in.srv = s
	return in
}

type slogLogger struct{}

func (slogLogger) Printf(format string, v ...any) {
	slog.Debug("smtp server: " + strings.TrimSpace(fmt.Sprintf(format, v...)))
}
func (slogLogger) Println(v ...any) { slog.Debug("smtp server", "msg", v) }

// Serve accepts connections on ln until ctx is done.
func (in *Inbound) Serve(ctx context.Context, ln net.Listener) error {
	in.ctx = ctx
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-ctx.Done():
			sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := in.srv.Shutdown(sctx); err != nil {
				_ = in.srv.Close()
			}
		case <-done:
		}
	}()
	slog.Info("smtp listening", "addr", ln.Addr().String(), "domain", in.domain)
	err := in.srv.Serve(ln)
	if errors.Is(err, smtp.ErrServerClosed) || ctx.Err() != nil {
		return nil
	}
	return err
}

// NewSession implements smtp.Backend.
func (in *Inbound) NewSession(*smtp.Conn) (smtp.Session, error) {
	return &session{in: in}, nil
}

// SMTP replies.
var (
	errUnknownRcpt = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such recipient here"}
	errRelay       = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "Relaying denied: this server only receives mail for its own domain"}
	errNoRcpt      = &smtp.SMTPError{Code: 503, EnhancedCode: smtp.EnhancedCode{5, 5, 1}, Message: "No valid recipients"}
	errNotSender   = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "The sender does not take part in this conversation"}
	errEmpty       = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "No reply text found above the quoted message"}
	errTemporary   = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Temporary failure, please try again later"}
)

func malformed(err error) error {
	return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "Malformed message: " + strings.TrimPrefix(err.Error(), errMalformed.Error()+": ")}
}

type session struct {
	in     *Inbound
	bounce bool // empty envelope sender: a delivery status notification
	rcpts  []address
}

func (s *session) Reset()        { s.rcpts, s.bounce = nil, false }
func (s *session) Logout() error { return nil }
func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	s.bounce = from == ""
	return nil
}

// Rcpt accepts only addresses Parley knows; everything else is a 5xx now,
// before the message is sent.
func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	a, err := s.in.resolve(s.in.ctx, to)
	if err != nil {
		return err
	}
	s.rcpts = append(s.rcpts, a)
	return nil
}

// resolve maps a recipient to its workspace (and conversation).
func (in *Inbound) resolve(ctx context.Context, to string) (address, error) {
	local, ok := splitAddress(to, in.domain)
	if !ok {
		return address{}, errRelay
	}
	if token, ok := strings.CutPrefix(local, replyPrefix); ok {
		ws, conv, err := threadByToken(ctx, in.db.Read(), token)
		if errors.Is(err, store.ErrNotFound) {
			return address{}, errUnknownRcpt
		}
		if err != nil {
			slog.Error("inbound email: reply address", "err", err)
			return address{}, errTemporary
		}
		return address{workspaceID: ws, conversationID: conv}, nil
	}
	w, err := in.workspaces.Workspace(ctx, local)
	if errors.Is(err, store.ErrNotFound) {
		return address{}, errUnknownRcpt
	}
	if err != nil {
		slog.Error("inbound email: workspace address", "err", err)
		return address{}, errTemporary
	}
	return address{workspaceID: w.ID}, nil
}

// Data reads the whole message (the server caps its size), parses it and
// delivers it to each recipient.
func (s *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err // too large: go-smtp's 552
	}
	if len(s.rcpts) == 0 {
		return errNoRcpt
	}
	msg, err := parseMail(bytes.NewReader(raw))
	if err != nil {
		return malformed(err)
	}
	if s.bounce || msg.Automatic {
		// Accepted and dropped: an out-of-office reply or a bounce must
		// not reopen a conversation (or start one) as if the contact wrote.
		slog.Info("inbound email: automatic mail ignored", "from", msg.From, "bounce", s.bounce)
		return nil
	}
	for _, a := range s.rcpts {
		if err := s.in.deliver(s.in.ctx, a, msg); err != nil {
			return err
		}
	}
	return nil
}

// deliver adds the mail to a conversation of the recipient's workspace:
// the one its In-Reply-To/References name, else the reply address's, else
// (workspace address) a new one.
func (in *Inbound) deliver(ctx context.Context, a address, msg *incoming) error {
	if msg.MessageID != "" {
		var one int
		err := in.db.Read().QueryRow(ctx, `SELECT 1 FROM email_messages WHERE workspace_id = ? AND message_id = ?`, a.workspaceID, msg.MessageID).Scan(&one)
		if err = store.MapErr(err); err == nil {
			return nil // delivered before (a retry): accepted, nothing new
		} else if !errors.Is(err, store.ErrNotFound) {
			return in.failed(err)
		}
	}
	convID := a.conversationID
	for _, ref := range msg.Refs {
		var id int64
		err := in.db.Read().QueryRow(ctx, `SELECT conversation_id FROM email_messages WHERE workspace_id = ? AND message_id = ?`, a.workspaceID, ref).Scan(&id)
		if err = store.MapErr(err); err == nil {
			convID = id
			break
		} else if !errors.Is(err, store.ErrNotFound) {
			return in.failed(err)
		}
	}
	if msg.Text == "" {
		return errEmpty
	}
	if convID == 0 {
		return in.startConversation(ctx, a.workspaceID, msg)
	}
	return in.reply(ctx, a.workspaceID, convID, msg)
}

func (in *Inbound) failed(err error) error {
	slog.Error("inbound email", "err", err)
	return errTemporary
}

// record notes an inbound mail's Message-ID inside the transaction that
// used it, so a redelivery changes nothing and replies thread to it.
func record(ctx context.Context, tx *store.Tx, workspaceID string, conversationID int64, c *contact.Contact, msg *incoming) error {
	if msg.MessageID == "" {
		return nil
	}
	_, err := tx.Exec(ctx, `INSERT INTO email_messages (workspace_id, message_id, conversation_id, direction, contact_id, address, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		workspaceID, msg.MessageID, conversationID, inbound, c.ID, msg.From, time.Now().Unix())
	return err
}

func authorOf(c *contact.Contact) conversation.Author {
	a := conversation.Author{Type: c.Role, ID: c.ID, Name: c.Name}
	if c.Email != nil {
		a.Email = *c.Email
	}
	return a
}

// reply adds the mail as the sender's reply (conversation.user.replied):
// the sender must be a participant, found by email.
func (in *Inbound) reply(ctx context.Context, workspaceID string, convID int64, msg *incoming) error {
	c, err := in.convs.Get(ctx, workspaceID, convID)
	if errors.Is(err, store.ErrNotFound) {
		return errUnknownRcpt
	}
	if err != nil {
		return in.failed(err)
	}
	var sender *contact.Contact
	for _, ref := range c.Contacts {
		ct, err := in.contacts.Get(ctx, workspaceID, ref.ID)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return in.failed(err)
		}
		if ct.Email != nil && strings.EqualFold(*ct.Email, msg.From) {
			sender = ct
			break
		}
	}
	if sender == nil {
		return errNotSender
	}
	body := conversation.TextHTML(msg.Text)
	_, err = in.convs.ChangeTx(ctx, workspaceID, convID, func(tx *store.Tx, c *conversation.Conversation) (*conversation.Change, error) {
		if !c.HasContact(sender.ID) {
			return nil, conversation.ErrNotParticipant
		}
		ch, err := c.ContactReply(authorOf(sender), body, nil, time.Now().Unix())
		if err != nil {
			return nil, err
		}
		return ch, record(ctx, tx, workspaceID, convID, sender, msg)
	})
	switch {
	case errors.Is(err, conversation.ErrNotParticipant):
		return errNotSender
	case errors.Is(err, store.ErrNotFound):
		return errUnknownRcpt
	case err != nil:
		return in.failed(err)
	}
	return nil
}

// startConversation opens a conversation (source type "email") from the
// contact with the sender's email, creating a lead when there is none.
func (in *Inbound) startConversation(ctx context.Context, workspaceID string, msg *incoming) error {
	ct, err := in.contacts.ByEmail(ctx, workspaceID, msg.From)
	if lower := strings.ToLower(msg.From); errors.Is(err, store.ErrNotFound) && lower != msg.From {
		ct, err = in.contacts.ByEmail(ctx, workspaceID, lower)
	}
	isNew := errors.Is(err, store.ErrNotFound)
	if err != nil && !isNew {
		return in.failed(err)
	}
	if isNew {
		email := msg.From
		ct = &contact.Contact{WorkspaceID: workspaceID, ID: ids.New(), Role: contact.RoleLead, Email: &email, CustomAttributes: map[string]any{}}
		if name := strings.TrimSpace(msg.FromName); name != "" && len(name) <= 255 {
			ct.Name = &name
		}
	}
	subject := msg.Subject
	if r := []rune(subject); len(r) > 255 {
		subject = string(r[:255])
	}
	err = in.db.InTx(ctx, func(tx *store.Tx) error {
		if isNew {
			if err := in.contacts.CreateIn(ctx, tx, ct); err != nil {
				return err
			}
		}
		// The one way conversations start: routed by the assignment rules.
		conv, err := in.convs.StartByContactIn(ctx, tx, store.ContactStart{WorkspaceID: workspaceID, ContactID: ct.ID,
			Body: conversation.TextHTML(msg.Text), Subject: subject, SourceType: "email"})
		if err != nil {
			return err
		}
		if _, err := threadToken(ctx, tx, workspaceID, conv.ID); err != nil {
			return err
		}
		return record(ctx, tx, workspaceID, conv.ID, ct, msg)
	})
	if err != nil {
		return in.failed(err)
	}
	return nil
}
