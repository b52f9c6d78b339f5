package email_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-message/mail"
	"github.com/emersion/go-smtp"

	"github.com/parleyhq/parley/internal/assign"
	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/conversation"
	"github.com/parleyhq/parley/internal/email"
	"github.com/parleyhq/parley/internal/ids"
	"github.com/parleyhq/parley/internal/jobs"
	"github.com/parleyhq/parley/internal/store"
	"github.com/parleyhq/parley/internal/testdb"
	"github.com/parleyhq/parley/internal/workspace"
)

const domain = "parley.test"

// delay of the tests' replies (job times are whole seconds).
const delay = time.Second

// mailbox is an in-process SMTP server standing in for the contacts' mail
// provider: it captures what Parley sends.
type mailbox struct {
	addr string
	mu   sync.Mutex
	got  []captured
	// failNext makes the next DATA fail with a temporary error.
	failNext bool
}

type captured struct {
	from string
	to   []string
	raw  []byte
}

func newMailbox(t *testing.T) *mailbox {
	t.Helper()
	mb := &mailbox{}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &mbSession{mb: mb}, nil }))
	srv.Domain = "mx.example.com"
	srv.AllowInsecureAuth = true
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	mb.addr = ln.Addr().String()
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return mb
}

type mbSession struct {
	mb   *mailbox
	from string
	to   []string
}

func (s *mbSession) Reset()        { s.from, s.to = "", nil }
func (s *mbSession) Logout() error { return nil }
func (s *mbSession) Mail(from string, _ *smtp.MailOptions) error {
	s.from = from
	return nil
}
func (s *mbSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	if strings.HasPrefix(to, "gone@") {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such mailbox"}
	}
	s.to = append(s.to, to)
	return nil
}
func (s *mbSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.mb.mu.Lock()
	defer s.mb.mu.Unlock()
	if s.mb.failNext {
		s.mb.failNext = false
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try later"}
	}
	s.mb.got = append(s.mb.got, captured{from: s.from, to: s.to, raw: b})
	return nil
}

func (mb *mailbox) messages() []captured {
	mb.mu.Lock()
	defer mb.mu.Unlock()
	return append([]captured(nil), mb.got...)
}

// node is one Parley process: database, outbound scheduler and sender,
// job worker, inbound SMTP server.
type node struct {
	db      *store.DB
	convs   *store.Conversations
	out     *email.Outbound
	worker  *jobs.Worker
	smtp    string // inbound listener address
	stopped func()
}

// dbTarget names a database that several nodes can open in turn.
type dbTarget struct{ url, dir string }

func eachDB(t *testing.T, fn func(t *testing.T, target dbTarget)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, dbTarget{dir: t.TempDir()}) })
	t.Run("postgres", func(t *testing.T) { fn(t, dbTarget{url: testdb.FreshPostgres(t)}) })
}

func start(t *testing.T, target dbTarget, mb *mailbox) *node {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, target.url, target.dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	w := jobs.NewWorker(db)
	out, err := email.NewOutbound(db, email.Options{SMTPURL: "smtp://" + mb.addr, From: "support@" + domain, Domain: domain, ReplyDelay: delay}, w)
	if err != nil {
		t.Fatal(err)
	}
	w.Handle(email.ReplyKind, out.Handler())
	in := email.NewInbound(db, domain)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := in.Serve(sctx, ln); err != nil {
			t.Errorf("inbound server: %v", err)
		}
	}()
	n := &node{db: db, convs: store.NewConversations(db), out: out, worker: w, smtp: ln.Addr().String()}
	var once sync.Once
	n.stopped = func() {
		once.Do(func() {
			cancel()
			<-done
			db.Close()
		})
	}
	t.Cleanup(n.stopped)
	return n
}

// fixture is a workspace with a teammate, a contact with an email and a
// conversation the contact started.
type fixture struct {
	ws      *workspace.Workspace
	admin   conversation.Author
	contact *contact.Contact
	conv    int64
}

func newFixture(t *testing.T, n *node, name, contactEmail string) *fixture {
	t.Helper()
	ctx := context.Background()
	owner := &workspace.Admin{Name: "Grace", Email: "grace@" + strings.ToLower(name) + ".test"}
	ws, err := store.NewWorkspaces(n.db).CreateWorkspace(ctx, name, owner)
	if err != nil {
		t.Fatal(err)
	}
	cname := "Ada Lovelace"
	c := &contact.Contact{WorkspaceID: ws.ID, ID: ids.New(), Role: contact.RoleUser, Email: &contactEmail, Name: &cname}
	if err := store.NewContacts(n.db).Create(ctx, c); err != nil {
		t.Fatal(err)
	}
	f := &fixture{ws: ws, contact: c, admin: conversation.Author{Type: conversation.AuthorAdmin, ID: "1", Name: &owner.Name, Email: owner.Email}}
	from := conversation.Author{Type: c.Role, ID: c.ID, Name: c.Name, Email: contactEmail}
	conv, ch := conversation.NewFromContact(ws.ID, from, c.ID, nil, "<p>My invoice is wrong</p>", "", nil, time.Now().Unix())
	if err := n.convs.Create(ctx, conv, ch); err != nil {
		t.Fatal(err)
	}
	f.conv = conv.ID
	return f
}

func (f *fixture) adminSays(t *testing.T, n *node, kind, body string) {
	t.Helper()
	_, err := n.convs.Change(context.Background(), f.ws.ID, f.conv, func(c *conversation.Conversation) (*conversation.Change, error) {
		return c.AdminReply(f.admin, kind, body, nil, nil, time.Now().Unix())
	})
	if err != nil {
		t.Fatal(err)
	}
}

// runDue schedules and then runs every job due by the end of the delay
// after a part created now; it returns how many jobs ran.
func runDue(t *testing.T, n *node) int {
	t.Helper()
	ctx := context.Background()
	if _, err := n.out.Schedule(ctx); err != nil {
		t.Fatal(err)
	}
	due := time.Now().Add(delay).Unix()
	for time.Now().Unix() < due {
		time.Sleep(50 * time.Millisecond)
	}
	ran := 0
	for {
		ok, err := n.worker.RunOne(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			return ran
		}
		ran++
	}
}

func parse(t *testing.T, raw []byte) (*mail.Header, string, string) {
	t.Helper()
	r, err := mail.CreateReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	var text, html string
	for {
		p, err := r.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(p.Body)
		ct := p.Header.Get("Content-Type")
		switch {
		case strings.HasPrefix(ct, "text/plain"):
			text = string(b)
		case strings.HasPrefix(ct, "text/html"):
			html = string(b)
		}
	}
	return &r.Header, text, html
}

func comments(t *testing.T, n *node, ws string, conv int64) []*conversation.Part {
	t.Helper()
	c, err := n.convs.Get(context.Background(), ws, conv)
	if err != nil {
		t.Fatal(err)
	}
	var out []*conversation.Part
	for _, p := range c.Parts {
		if p.Type == conversation.PartComment {
			out = append(out, p)
		}
	}
	return out
}

func topics(t *testing.T, db *store.DB, ws string) []string {
	t.Helper()
	rows, err := db.Read().Query(context.Background(), `SELECT topic FROM event_log WHERE workspace_id = ? ORDER BY seq`, ws)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

// send delivers a message to Parley's inbound server like a mail provider.
func send(t *testing.T, n *node, from string, to []string, msg string) error {
	t.Helper()
	c, err := smtp.Dial(n.smtp)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.SendMail(from, to, strings.NewReader(strings.ReplaceAll(msg, "\n", "\r\n"))); err != nil {
		return err
	}
	return c.Quit()
}

func smtpCode(err error) int {
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		return se.Code
	}
	return 0
}

// TestUnseenReplyIsEmailed: teammate replies the contact has not seen are
// emailed once the delay is over, in one email with the right headers; a
// note in between is not in it; the replies' jobs send nothing more.
func TestUnseenReplyIsEmailed(t *testing.T) {
	eachDB(t, func(t *testing.T, target dbTarget) {
		mb := newMailbox(t)
		n := start(t, target, mb)
		f := newFixture(t, n, "Acme", "ada@example.com")
		f.adminSays(t, n, conversation.PartComment, "<p>Let me check your invoice.</p>")
		f.adminSays(t, n, conversation.PartNote, "<p>Internal: customer is on the old plan</p>")
		f.adminSays(t, n, conversation.PartComment, "<p>Fixed, sorry &amp; thanks!</p>")
		if ran := runDue(t, n); ran != 2 {
			t.Fatalf("ran %d jobs, want 2 (one per teammate comment, none for the note)", ran)
		}
		got := mb.messages()
		if len(got) != 1 {
			t.Fatalf("%d emails sent, want 1 holding both replies", len(got))
		}
		m := got[0]
		if m.from != "support@"+domain || len(m.to) != 1 || m.to[0] != "ada@example.com" {
			t.Fatalf("envelope from %q to %v", m.from, m.to)
		}
		h, text, html := parse(t, m.raw)
		from, _ := h.AddressList("From")
		replyTo, _ := h.AddressList("Reply-To")
		subject, _ := h.Subject()
		mid, _ := h.MessageID()
		if len(from) != 1 || from[0].Address != "support@"+domain || from[0].Name != "Grace from Acme" {
			t.Fatalf("From %v", from)
		}
		if len(replyTo) != 1 || !strings.HasPrefix(replyTo[0].Address, "reply+") || !strings.HasSuffix(replyTo[0].Address, "@"+domain) || len(replyTo[0].Address) < 40 {
			t.Fatalf("Reply-To %v, want an unguessable reply+<token>@%s", replyTo, domain)
		}
		if subject != "Re: My invoice is wrong" || !strings.HasSuffix(mid, "@"+domain) {
			t.Fatalf("Subject %q Message-ID %q", subject, mid)
		}
		for _, want := range []string{"Let me check your invoice.", "Fixed, sorry & thanks!", email.ReplyMarker} {
			if !strings.Contains(text, want) {
				t.Fatalf("text part lacks %q:\n%s", want, text)
			}
		}
		if strings.Contains(text, "Internal") || strings.Contains(html, "Internal") {
			t.Fatal("the note was emailed")
		}
		if !strings.Contains(html, "<p>Fixed, sorry &amp; thanks!</p>") {
			t.Fatalf("html part:\n%s", html)
		}
		// Later scans and runs send nothing again.
		if ran := runDue(t, n); ran != 0 || len(mb.messages()) != 1 {
			t.Fatalf("a second pass ran %d jobs and %d emails exist", ran, len(mb.messages()))
		}
		// A later reply threads under the first email.
		f.adminSays(t, n, conversation.PartComment, "<p>Anything else?</p>")
		runDue(t, n)
		got = mb.messages()
		if len(got) != 2 {
			t.Fatalf("%d emails, want 2", len(got))
		}
		h2, text2, _ := parse(t, got[1].raw)
		inReplyTo, _ := h2.MsgIDList("In-Reply-To")
		if len(inReplyTo) != 1 || inReplyTo[0] != mid || strings.Contains(text2, "Fixed") {
			t.Fatalf("second email In-Reply-To %v (want %s), text:\n%s", inReplyTo, mid, text2)
		}
	})
}

// TestSeenReplyIsNotEmailed: a reply the contact saw in the Messenger
// within the delay is not emailed (a visit before the reply does not
// count); a note never is.
func TestSeenReplyIsNotEmailed(t *testing.T) {
	eachDB(t, func(t *testing.T, target dbTarget) {
		mb := newMailbox(t)
		n := start(t, target, mb)
		f := newFixture(t, n, "Acme", "ada@example.com")
		f.adminSays(t, n, conversation.PartComment, "<p>Hello</p>")
		if _, err := n.convs.MarkSeenByContact(context.Background(), f.ws.ID, f.conv, f.contact.ID, time.Now().Unix()); err != nil {
			t.Fatal(err)
		}
		g := newFixture(t, n, "Beta", "bob@example.com")
		g.adminSays(t, n, conversation.PartNote, "<p>just a note</p>")
		// Seen before the reply was written: still emailed.
		h := newFixture(t, n, "Gamma", "cy@example.com")
		if _, err := n.convs.MarkSeenByContact(context.Background(), h.ws.ID, h.conv, h.contact.ID, time.Now().Unix()-10); err != nil {
			t.Fatal(err)
		}
		h.adminSays(t, n, conversation.PartComment, "<p>After you looked</p>")
		if ran := runDue(t, n); ran != 2 {
			t.Fatalf("ran %d jobs, want 2", ran)
		}
		got := mb.messages()
		if len(got) != 1 || got[0].to[0] != "cy@example.com" {
			t.Fatalf("%d emails sent, want only the one to cy@example.com", len(got))
		}
	})
}

// TestEmailSurvivesRestart: a reply scheduled on one process is emailed
// once by a process started later; a send the mail server refused is
// retried with the same Message-ID.
func TestEmailSurvivesRestart(t *testing.T) {
	eachDB(t, func(t *testing.T, target dbTarget) {
		mb := newMailbox(t)
		a := start(t, target, mb)
		f := newFixture(t, a, "Acme", "ada@example.com")
		f.adminSays(t, a, conversation.PartComment, "<p>Before the restart</p>")
		if n, err := a.out.Schedule(context.Background()); err != nil || n != 1 {
			t.Fatalf("scheduled %d, %v", n, err)
		}
		var payload string
		var runAt int64
		if err := a.db.Read().QueryRow(context.Background(), `SELECT payload, run_at FROM jobs WHERE workspace_id = ? AND kind = ? AND state = 'pending'`, f.ws.ID, email.ReplyKind).Scan(&payload, &runAt); err != nil {
			t.Fatal(err)
		}
		var p email.ReplyPayload
		if err := json.Unmarshal([]byte(payload), &p); err != nil || p.ConversationID != f.conv || runAt != p.CreatedAt+int64(delay/time.Second) {
			t.Fatalf("job %s due at %d, want the reply's time plus the delay", payload, runAt)
		}
		a.stopped() // stops before the delay is over

		mb.mu.Lock()
		mb.failNext = true
		mb.mu.Unlock()
		b := start(t, target, mb)
		if ran := runDue(t, b); ran != 1 {
			t.Fatalf("ran %d jobs, want 1", ran)
		}
		if len(mb.messages()) != 0 {
			t.Fatal("the refused send was captured")
		}
		var first string
		if err := b.db.Read().QueryRow(context.Background(), `SELECT message_id FROM email_messages WHERE workspace_id = ? AND sent_at IS NULL`, f.ws.ID).Scan(&first); err != nil {
			t.Fatalf("the message was not recorded before sending: %v", err)
		}
		// The retry is due after the backoff (4 s).
		deadline := time.Now().Add(10 * time.Second)
		for len(mb.messages()) == 0 && time.Now().Before(deadline) {
			if _, err := b.worker.RunOne(context.Background()); err != nil {
				t.Fatal(err)
			}
			time.Sleep(200 * time.Millisecond)
		}
		got := mb.messages()
		if len(got) != 1 {
			t.Fatalf("%d emails after the retry, want 1", len(got))
		}
		h, text, _ := parse(t, got[0].raw)
		if mid, _ := h.MessageID(); mid != first || !strings.Contains(text, "Before the restart") {
			t.Fatalf("retry sent Message-ID %s (recorded %s)", mid, first)
		}
		if ran := runDue(t, b); ran != 0 || len(mb.messages()) != 1 {
			t.Fatal("sent twice")
		}
	})
}

// emailed runs the fixture's first reply through to an email and returns
// its Message-ID and reply address.
func emailed(t *testing.T, n *node, mb *mailbox, f *fixture) (string, string) {
	t.Helper()
	before := len(mb.messages())
	f.adminSays(t, n, conversation.PartComment, "<p>Could you send a screenshot?</p>")
	runDue(t, n)
	got := mb.messages()
	if len(got) != before+1 {
		t.Fatalf("%d emails, want %d", len(got), before+1)
	}
	h, _, _ := parse(t, got[len(got)-1].raw)
	mid, _ := h.MessageID()
	rt, _ := h.AddressList("Reply-To")
	return mid, rt[0].Address
}

// TestInboundReplyThreads: a reply to the email lands in the conversation
// as the contact's reply, by In-Reply-To or by the reply address, with the
// quoted history and signature cut; a redelivery adds nothing.
func TestInboundReplyThreads(t *testing.T) {
	eachDB(t, func(t *testing.T, target dbTarget) {
		mb := newMailbox(t)
		n := start(t, target, mb)
		f := newFixture(t, n, "Acme", "ada@example.com")
		mid, replyAddr := emailed(t, n, mb, f)

		// By In-Reply-To, sent to the workspace address.
		msg := "From: Ada Lovelace <Ada@Example.com>\nTo: " + f.ws.ID + "@" + domain + "\nSubject: Re: My invoice is wrong\n" +
			"Message-ID: <reply-1@mail.example.com>\nIn-Reply-To: <" + mid + ">\nContent-Type: text/plain; charset=utf-8\n\n" +
			"Here it is.\nSecond line <b>not html</b>\n\n-- \nAda\n\nOn Tue, 3 Mar 2026 at 10:00, Grace from Acme <support@parley.test> wrote:\n> Could you send a screenshot?\n"
		if err := send(t, n, "ada@example.com", []string{f.ws.ID + "@" + domain}, msg); err != nil {
			t.Fatal(err)
		}
		// By the reply address only, quoted-printable HTML from a client.
		msg2 := "From: ada@example.com\nTo: " + replyAddr + "\nSubject: Re: again\nMessage-ID: <reply-2@mail.example.com>\n" +
			"MIME-Version: 1.0\nContent-Type: multipart/alternative; boundary=b\n\n--b\nContent-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n" +
			"<div>Caf=C3=A9 works now</div><div>" + email.ReplyMarker + "</div><p>old</p>\n--b--\n"
		if err := send(t, n, "ada@example.com", []string{replyAddr}, msg2); err != nil {
			t.Fatal(err)
		}
		// The provider delivers the first reply again.
		if err := send(t, n, "ada@example.com", []string{f.ws.ID + "@" + domain}, msg); err != nil {
			t.Fatal(err)
		}
		cs := comments(t, n, f.ws.ID, f.conv)
		var bodies []string
		for _, p := range cs {
			if p.Author.Type == contact.RoleUser {
				if p.Author.ID != f.contact.ID {
					t.Fatalf("reply authored by %+v", p.Author)
				}
				bodies = append(bodies, *p.Body)
			}
		}
		want := []string{"<p>Here it is.<br>Second line &lt;b&gt;not html&lt;/b&gt;</p>", "<p>Café works now</p>"}
		if strings.Join(bodies, "|") != strings.Join(want, "|") {
			t.Fatalf("contact replies %q, want %q", bodies, want)
		}
		replied := 0
		for _, tp := range topics(t, n.db, f.ws.ID) {
			if tp == "conversation.user.replied" {
				replied++
			}
		}
		if replied != 2 {
			t.Fatalf("%d conversation.user.replied events, want 2", replied)
		}
		// Parley's next email threads under the contact's last reply.
		f.adminSays(t, n, conversation.PartComment, "<p>Great</p>")
		runDue(t, n)
		got := mb.messages()
		h, _, _ := parse(t, got[len(got)-1].raw)
		refs, _ := h.MsgIDList("References")
		if strings.Join(refs, " ") != mid+" reply-1@mail.example.com reply-2@mail.example.com" {
			t.Fatalf("References %v", refs)
		}
	})
}

// TestInboundNewConversation: mail to the workspace's inbound address
// starts a conversation (source type email) from the contact with that
// email, a new lead when there is none.
func TestInboundNewConversation(t *testing.T) {
	eachDB(t, func(t *testing.T, target dbTarget) {
		mb := newMailbox(t)
		n := start(t, target, mb)
		f := newFixture(t, n, "Acme", "ada@example.com")
		// Mail about steam goes to the teammate: conversations started by
		// email are routed by the assignment rules like any other.
		adminID, _ := strconv.ParseInt(f.admin.ID, 10, 64)
		rule := &assign.Rule{WorkspaceID: f.ws.ID, Name: "steam", Priority: 1, AdminID: adminID,
			Condition: json.RawMessage(`{"field":"source.body","operator":"~","value":"steam"}`)}
		if err := store.NewAssignmentRules(n.db).Create(context.Background(), rule); err != nil {
			t.Fatal(err)
		}
		to := strings.ToUpper(f.ws.ID) + "@PARLEY.test"
		msg := "From: \"Charles Babbage\" <charles@example.org>\nTo: " + to + "\nSubject: Engine question\nMessage-ID: <new-1@example.org>\n\nDoes it run on steam?\n"
		if err := send(t, n, "charles@example.org", []string{to}, msg); err != nil {
			t.Fatal(err)
		}
		msg = "From: ADA@example.com\nTo: " + to + "\nSubject: Another thing\n\nA second topic.\n"
		if err := send(t, n, "ada@example.com", []string{to}, msg); err != nil {
			t.Fatal(err)
		}
		list, total, err := n.convs.List(context.Background(), f.ws.ID, 0, 10)
		if err != nil || total != 3 {
			t.Fatalf("%d conversations, %v", total, err)
		}
		lead, err := store.NewContacts(n.db).ByEmail(context.Background(), f.ws.ID, "charles@example.org")
		if err != nil || lead.Role != contact.RoleLead || lead.Name == nil || *lead.Name != "Charles Babbage" {
			t.Fatalf("lead %+v, %v", lead, err)
		}
		first, second := list[1], list[0]
		if first.Source.Type != "email" || first.Source.Subject != "Engine question" || first.Source.Body != "<p>Does it run on steam?</p>" ||
			first.Contacts[0].ID != lead.ID || first.Source.Author.Type != contact.RoleLead {
			t.Fatalf("new conversation %+v", first.Source)
		}
		if second.Contacts[0].ID != f.contact.ID || second.Source.Type != "email" {
			t.Fatalf("known contact's conversation went to %s", second.Contacts[0].ID)
		}
		if first.AdminAssigneeID == nil || *first.AdminAssigneeID != adminID || second.AdminAssigneeID != nil {
			t.Fatalf("routing: steam mail assigned to %v, other mail to %v; want %d and nobody", first.AdminAssigneeID, second.AdminAssigneeID, adminID)
		}
		var leads, created int
		for _, tp := range topics(t, n.db, f.ws.ID) {
			switch tp {
			case "contact.lead.created":
				leads++
			case "conversation.user.created":
				created++
			}
		}
		if leads != 1 || created != 3 {
			t.Fatalf("%d contact.lead.created, %d conversation.user.created", leads, created)
		}
	})
}

// TestInboundRefusals: unknown and forged addresses, senders who do not
// take part, other workspaces and malformed mail get clean SMTP errors
// and change nothing.
func TestInboundRefusals(t *testing.T) {
	eachDB(t, func(t *testing.T, target dbTarget) {
		mb := newMailbox(t)
		n := start(t, target, mb)
		a := newFixture(t, n, "Acme", "ada@example.com")
		b := newFixture(t, n, "Beta", "bob@example.com")
		midA, replyA := emailed(t, n, mb, a)
		midB, _ := emailed(t, n, mb, b)
		headA := topics(t, n.db, a.ws.ID)
		headB := topics(t, n.db, b.ws.ID)
		body := func(from, to, extra string) string {
			return "From: " + from + "\nTo: " + to + "\nSubject: hi\n" + extra + "\nhello there\n"
		}
		forged := strings.Replace(replyA, "reply+", "reply+0", 1)
		cases := []struct {
			name, from, to, msg string
			code                int
		}{
			{"forged reply address", "ada@example.com", forged, body("ada@example.com", forged, ""), 550},
			{"unknown workspace", "ada@example.com", "nosuchws@" + domain, body("ada@example.com", "x@"+domain, ""), 550},
			{"other domain", "ada@example.com", "ada@elsewhere.test", body("ada@example.com", "ada@elsewhere.test", ""), 550},
			{"not a participant", "mallory@example.com", replyA, body("mallory@example.com", replyA, ""), 550},
			{"B's contact on A's reply address", "bob@example.com", replyA, body("bob@example.com", replyA, "In-Reply-To: <"+midB+">\n"), 550},
			{"no From", "ada@example.com", replyA, "To: " + replyA + "\nSubject: x\n\nhello\n", 550},
			{"broken MIME", "ada@example.com", replyA, "From: ada@example.com\nContent-Type: multipart/mixed; boundary=\"\n\n--\n", 550},
			{"only quoted text", "ada@example.com", replyA, body("ada@example.com", replyA, "") + "\n> old\n", 550},
		}
		cases[len(cases)-1].msg = "From: ada@example.com\nTo: " + replyA + "\n\n> only the quote\n"
		for _, tc := range cases {
			err := send(t, n, tc.from, []string{tc.to}, tc.msg)
			if code := smtpCode(err); code != tc.code {
				t.Errorf("%s: SMTP %d (%v), want %d", tc.name, code, err, tc.code)
			}
		}
		big := body("ada@example.com", replyA, "") + strings.Repeat(strings.Repeat("x", 99)+"\n", email.MaxMessageBytes/100+1)
		if code := smtpCode(send(t, n, "ada@example.com", []string{replyA}, big)); code != 552 {
			t.Errorf("oversized mail: SMTP %d, want 552", code)
		}
		// An out-of-office reply and a bounce are accepted and dropped.
		if err := send(t, n, "ada@example.com", []string{replyA}, body("ada@example.com", replyA, "Auto-Submitted: auto-replied\n")); err != nil {
			t.Errorf("auto-reply: %v", err)
		}
		if err := send(t, n, "", []string{replyA}, body("mailer-daemon@example.com", replyA, "")); err != nil {
			t.Errorf("bounce: %v", err)
		}
		if got := topics(t, n.db, a.ws.ID); len(got) != len(headA) {
			t.Fatalf("workspace A changed: %v", got[len(headA):])
		}
		// A's Message-ID mailed to B's inbound address starts a conversation
		// in B, never a reply in A.
		if err := send(t, n, "bob@example.com", []string{b.ws.ID + "@" + domain}, body("bob@example.com", b.ws.ID+"@"+domain, "In-Reply-To: <"+midA+">\n")); err != nil {
			t.Fatal(err)
		}
		if got := topics(t, n.db, a.ws.ID); len(got) != len(headA) {
			t.Fatalf("workspace A changed: %v", got[len(headA):])
		}
		if got := topics(t, n.db, b.ws.ID); len(got) != len(headB)+1 || got[len(got)-1] != "conversation.user.created" {
			t.Fatalf("workspace B: %v", got[len(headB):])
		}
	})
}

// TestSchedulersOnTwoNodes: two processes scheduling over the same
// database at the same time enqueue exactly one job per reply.
func TestSchedulersOnTwoNodes(t *testing.T) {
	eachDB(t, func(t *testing.T, target dbTarget) {
		mb := newMailbox(t)
		a, b := start(t, target, mb), start(t, target, mb)
		f := newFixture(t, a, "Acme", "ada@example.com")
		var wg sync.WaitGroup
		errs := make(chan error, 100)
		for i := 0; i < 20; i++ {
			f.adminSays(t, a, conversation.PartComment, "<p>reply</p>")
			for _, n := range []*node{a, b} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if _, err := n.out.Schedule(context.Background()); err != nil {
						errs <- err
					}
				}()
			}
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		var jobsN int
		if err := a.db.Read().QueryRow(context.Background(), `SELECT count(*) FROM jobs WHERE workspace_id = ? AND kind = ?`, f.ws.ID, email.ReplyKind).Scan(&jobsN); err != nil {
			t.Fatal(err)
		}
		if jobsN != 20 {
			t.Fatalf("%d jobs for 20 replies", jobsN)
		}
	})
}

// TestRefusedAddressIsNotRetried: a mailbox the contact's mail server
// refuses for good (5xx) ends the job with the refusal recorded, instead
// of retrying; the reply is not emailed again.
func TestRefusedAddressIsNotRetried(t *testing.T) {
	eachDB(t, func(t *testing.T, target dbTarget) {
		mb := newMailbox(t)
		n := start(t, target, mb)
		f := newFixture(t, n, "Acme", "gone@example.com")
		f.adminSays(t, n, conversation.PartComment, "<p>Hello?</p>")
		if ran := runDue(t, n); ran != 1 {
			t.Fatalf("ran %d jobs", ran)
		}
		ctx := context.Background()
		var state, result string
		if err := n.db.Read().QueryRow(ctx, `SELECT state, result FROM jobs WHERE workspace_id = ? AND kind = ?`, f.ws.ID, email.ReplyKind).Scan(&state, &result); err != nil {
			t.Fatal(err)
		}
		var res email.ReplyResult
		_ = json.Unmarshal([]byte(result), &res)
		if state != jobs.Completed || len(res.Refused) != 1 || !strings.Contains(res.Refused[0], "550") || len(res.Sent) != 0 {
			t.Fatalf("job %s %s", state, result)
		}
		var failed *string
		if err := n.db.Read().QueryRow(ctx, `SELECT error FROM email_messages WHERE workspace_id = ?`, f.ws.ID).Scan(&failed); err != nil || failed == nil {
			t.Fatalf("refusal not recorded: %v %v", failed, err)
		}
		// A later reply is tried on its own (the refused one is not resent).
		f.adminSays(t, n, conversation.PartComment, "<p>Still there?</p>")
		runDue(t, n)
		var count int
		if err := n.db.Read().QueryRow(ctx, `SELECT count(*) FROM email_parts WHERE workspace_id = ?`, f.ws.ID).Scan(&count); err != nil || count != 2 {
			t.Fatalf("%d email_parts, %v", count, err)
		}
		if len(mb.messages()) != 0 {
			t.Fatal("captured a refused email")
		}
	})
}
