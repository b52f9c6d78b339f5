package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-message/mail"
	"github.com/emersion/go-smtp"

	"github.com/parleyhq/parley/internal/testdb"
)

// inbox is the contact's mail server: every message Parley sends to it.
type inbox chan []byte

func (in inbox) NewSession(*smtp.Conn) (smtp.Session, error) { return inboxSession{in}, nil }

type inboxSession struct{ in inbox }

func (inboxSession) Reset()                               {}
func (inboxSession) Logout() error                        { return nil }
func (inboxSession) Mail(string, *smtp.MailOptions) error { return nil }
func (inboxSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (s inboxSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err == nil {
		s.in <- b
	}
	return err
}

func call(t *testing.T, addr, method, path, token, body string) map[string]any {
	t.Helper()
	req, _ := http.NewRequest(method, "http://"+addr+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || json.Unmarshal(b, &out) != nil {
		t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, b)
	}
	return out
}

// TestServeRepliesByEmail: parley serve with an SMTP server and an inbound
// listener configured emails a teammate's unseen reply and takes the
// contact's emailed answer back into the conversation.
func TestServeRepliesByEmail(t *testing.T) {
	bin := buildBinary(t)
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			received := make(inbox, 10)
			mx := smtp.NewServer(received)
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			go func() { _ = mx.Serve(ln) }()
			t.Cleanup(func() { _ = mx.Close() })

			token := "bootstrap-token-email-0123456789"
			listen := freeAddr(t)
			env := []string{"PARLEY_DATA_DIR=" + t.TempDir(), "PARLEY_BOOTSTRAP_TOKEN=" + token,
				"PARLEY_SMTP_URL=smtp://" + ln.Addr().String(), "PARLEY_SMTP_LISTEN=" + listen,
				"PARLEY_EMAIL_DOMAIN=parley.test", "PARLEY_EMAIL_REPLY_DELAY=1s"}
			if db == "postgres" {
				env = append(env, "PARLEY_DATABASE_URL="+testdb.FreshPostgres(t))
			}
			p := start(t, bin, env)
			c := call(t, p.addr, "POST", "/contacts", token, `{"email":"ada@example.com","name":"Ada"}`)
			m := call(t, p.addr, "POST", "/conversations", token, `{"from":{"type":"user","id":"`+c["id"].(string)+`"},"body":"My invoice is wrong"}`)
			conv := m["conversation_id"].(string)
			call(t, p.addr, "POST", "/conversations/"+conv+"/reply", token, `{"type":"admin","message_type":"comment","body":"Fixed it"}`)

			var raw []byte
			select {
			case raw = <-received:
			case <-time.After(20 * time.Second):
				t.Fatal("the reply was not emailed")
			}
			r, err := mail.CreateReader(bytes.NewReader(raw))
			if err != nil {
				t.Fatal(err)
			}
			mid, _ := r.Header.MessageID()
			replyTo, _ := r.Header.AddressList("Reply-To")
			if mid == "" || len(replyTo) != 1 || !strings.HasSuffix(replyTo[0].Address, "@parley.test") {
				t.Fatalf("Message-ID %q Reply-To %v", mid, replyTo)
			}

			cl, err := smtp.Dial(listen)
			if err != nil {
				t.Fatal(err)
			}
			defer cl.Close()
			answer := "From: Ada <ada@example.com>\r\nTo: " + replyTo[0].Address + "\r\nSubject: Re: My invoice\r\nIn-Reply-To: <" + mid + ">\r\n\r\nThanks a lot\r\n\r\n> Fixed it\r\n"
			if err := cl.SendMail("ada@example.com", []string{replyTo[0].Address}, strings.NewReader(answer)); err != nil {
				t.Fatal(err)
			}
			got := call(t, p.addr, "GET", "/conversations/"+conv, token, "")
			parts, _ := json.Marshal(got["conversation_parts"])
			if !strings.Contains(string(parts), `"body":"\u003cp\u003eThanks a lot\u003c/p\u003e"`) && !strings.Contains(string(parts), `"body":"<p>Thanks a lot</p>"`) {
				t.Fatalf("the emailed answer is not in the conversation: %s", parts)
			}
			select {
			case extra := <-received:
				t.Fatalf("a second email was sent: %s", extra)
			default:
			}
			p.stop(t)
		})
	}
}
