// Package email carries conversations over email (docs/email.md): a
// teammate's reply the contact has not seen in the Messenger within a delay
// is emailed to them (outbound), and Parley's own SMTP server turns replies
// to those emails, and mail to a workspace's inbound address, into
// conversation parts (inbound).
//
// Outbound work is durable: a scheduler reads the event log (its cursor and
// the jobs it enqueues commit together) and a job per reply sends the email
// when the delay is over, recording its Message-ID before sending so a retry
// re-sends the same message instead of a new one.
package email

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strings"
	"time"

	"github.com/parleyhq/parley/internal/store"
)

// Options configure replies by email.
type Options struct {
	// SMTPURL is the outgoing mail server: smtp://user:pass@host:port
	// (STARTTLS when the server offers it) or smtps:// (implicit TLS).
	SMTPURL string
	// From is the address emails are sent from.
	From string
	// Domain is the domain of reply addresses (reply+<token>@Domain) and
	// workspace inbound addresses (<workspace id>@Domain).
	Domain string
	// ReplyDelay is how long a reply waits to be seen in the Messenger.
	ReplyDelay time.Duration
	// Poll is how often the scheduler looks for new replies (default 2s).
	Poll time.Duration
}

// Limits of the inbound server.
const (
	MaxMessageBytes = 10 << 20
	MaxRecipients   = 20
	// maxBody is the longest reply text kept from an inbound mail (the
	// API's limit for a message body).
	maxBody = 65536
)

// staleAfter: a reply older than its delay plus this is not emailed any
// more (turning email on does not send the history; a node down for a day
// does not send day-old replies).
const staleAfter = 24 * time.Hour

// Directions of email_messages.
const (
	outbound = "out"
	inbound  = "in"
)

// newToken returns an unguessable token for a reply address: 20 random
// bytes in lowercase hex (mail systems may change the case of addresses).
func newToken() string {
	b := make([]byte, 20)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// replyPrefix starts the local part of a conversation's reply address.
const replyPrefix = "reply+"

// threadToken returns the conversation's reply token, creating it inside tx
// on first use.
func threadToken(ctx context.Context, tx *store.Tx, workspaceID string, conversationID int64) (string, error) {
	var token string
	err := tx.QueryRow(ctx, `SELECT token FROM email_threads WHERE workspace_id = ? AND conversation_id = ?`, workspaceID, conversationID).Scan(&token)
	if err = store.MapErr(err); err == nil || !errors.Is(err, store.ErrNotFound) {
		return token, err
	}
	token = newToken()
	_, err = tx.Exec(ctx, `INSERT INTO email_threads (workspace_id, conversation_id, token, created_at) VALUES (?, ?, ?, ?)`,
		workspaceID, conversationID, token, time.Now().Unix())
	return token, store.MapErr(err)
}

// threadByToken finds the conversation of a reply token.
func threadByToken(ctx context.Context, r store.Runner, token string) (workspaceID string, conversationID int64, err error) {
	err = r.QueryRow(ctx, `SELECT workspace_id, conversation_id FROM email_threads WHERE token = ?`, token).Scan(&workspaceID, &conversationID)
	return workspaceID, conversationID, store.MapErr(err)
}

// address is a recipient Parley receives for: a conversation's reply
// address or a workspace's inbound address.
type address struct {
	workspaceID    string
	conversationID int64 // 0: the workspace's inbound address
}

// splitAddress returns the lowercased local part of addr if its domain is
// domain.
func splitAddress(addr, domain string) (string, bool) {
	addr = strings.ToLower(strings.TrimSpace(addr))
	local, dom, ok := strings.Cut(addr, "@")
	if !ok || local == "" || dom != domain {
		return "", false
	}
	return local, true
}
