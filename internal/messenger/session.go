// Package messenger holds the rules of Parley's Messenger (docs/messenger.md):
// signed session tokens, identity verification (user_hash and
// intercom_user_jwt), the Messenger's settings and office hours, anonymous
// visitors, and the visitor-safe view of conversations and their events.
package messenger

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"time"
)

// SessionTTL is how long a session token is valid; every boot issues a
// new one.
const SessionTTL = 7 * 24 * time.Hour

// Session is what a session token says: a workspace, a subject and an
// expiry. Subjects are "v:<visitor id>" (an anonymous visitor) or
// "c:<contact id>" (a lead or a user).
type Session struct {
	Workspace string `json:"w"`
	Subject   string `json:"s"`
	Expires   int64  `json:"e"`
}

// VisitorID is the visitor of a "v:" subject ("" otherwise).
func (s Session) VisitorID() string { return subject(s.Subject, "v:") }

// ContactID is the contact of a "c:" subject ("" otherwise).
func (s Session) ContactID() string { return subject(s.Subject, "c:") }

func subject(s, prefix string) string {
	if v, ok := strings.CutPrefix(s, prefix); ok {
		return v
	}
	return ""
}

// ErrSession is any token that is malformed, forged or expired.
var ErrSession = errors.New("invalid or expired Messenger session")

const sessionPrefix = "ms1."

// SignSession returns the token for s, signed with key (HMAC-SHA256).
func SignSession(key []byte, s Session) string {
	payload, _ := json.Marshal(s)
	p := base64.RawURLEncoding.EncodeToString(payload)
	return sessionPrefix + p + "." + base64.RawURLEncoding.EncodeToString(mac(key, p))
}

func mac(key []byte, p string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(sessionPrefix + p))
	return m.Sum(nil)
}

// PeekWorkspace returns the workspace a token claims, unverified, so that
// the caller can load that workspace's key.
func PeekWorkspace(token string) (string, bool) {
	s, ok := decodePayload(token)
	return s.Workspace, ok && s.Workspace != ""
}

func decodePayload(token string) (Session, bool) {
	var s Session
	rest, ok := strings.CutPrefix(token, sessionPrefix)
	if !ok || len(token) > 1024 {
		return s, false
	}
	p, _, ok := strings.Cut(rest, ".")
	if !ok {
		return s, false
	}
	raw, err := base64.RawURLEncoding.DecodeString(p)
	if err != nil || json.Unmarshal(raw, &s) != nil {
		return s, false
	}
	return s, true
}

// VerifySession checks token's signature with key and its expiry.
func VerifySession(key []byte, token string, now time.Time) (Session, error) {
	s, ok := decodePayload(token)
	if !ok {
		return Session{}, ErrSession
	}
	p, sig, _ := strings.Cut(strings.TrimPrefix(token, sessionPrefix), ".")
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(got, mac(key, p)) {
		return Session{}, ErrSession
	}
	if now.Unix() >= s.Expires || (s.VisitorID() == "" && s.ContactID() == "") {
		return Session{}, ErrSession
	}
	return s, nil
}
