package email

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/url"
	"sync/atomic"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Sender delivers messages to the outgoing mail server of an smtp:// or
// smtps:// URL.
type Sender struct {
	addr      string
	host      string
	implicit  bool // smtps://: TLS from the first byte
	user      string
	pass      string
	helo      string
	startTLS  atomic.Int32 // 0 unknown, 1 offered, 2 not offered
	timeout   time.Duration
	tlsConfig *tls.Config
}

// NewSender parses the server URL; helo is the name Parley greets with.
func NewSender(rawURL, helo string) (*Sender, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "smtp" && u.Scheme != "smtps") || u.Hostname() == "" {
		return nil, fmt.Errorf("SMTP URL must be smtp://[user:pass@]host[:port] or smtps://…")
	}
	s := &Sender{host: u.Hostname(), implicit: u.Scheme == "smtps", helo: helo, timeout: 30 * time.Second}
	port := u.Port()
	if port == "" {
		port = "587"
		if s.implicit {
			port = "465"
		}
	}
	s.addr = net.JoinHostPort(s.host, port)
	if u.User != nil {
		s.user = u.User.Username()
		s.pass, _ = u.User.Password()
	}
	s.tlsConfig = &tls.Config{ServerName: s.host, MinVersion: tls.VersionTLS12}
	return s, nil
}

// dial opens a client: implicit TLS for smtps://; for smtp://, STARTTLS
// when the server offers it (learnt on the first connection).
func (s *Sender) dial(ctx context.Context) (*smtp.Client, error) {
	d := &net.Dialer{Timeout: s.timeout}
	if s.implicit {
		conn, err := (&tls.Dialer{NetDialer: d, Config: s.tlsConfig}).DialContext(ctx, "tcp", s.addr)
		if err != nil {
			return nil, err
		}
		return s.hello(smtp.NewClient(conn))
	}
	conn, err := d.DialContext(ctx, "tcp", s.addr)
	if err != nil {
		return nil, err
	}
	if s.startTLS.Load() == 1 {
		c, err := smtp.NewClientStartTLS(conn, s.tlsConfig)
		if err != nil {
			conn.Close()
			return nil, err
		}
		c.CommandTimeout, c.SubmissionTimeout = s.timeout, 2*s.timeout
		return c, nil
	}
	c, err := s.hello(smtp.NewClient(conn))
	if err != nil {
		return nil, err
	}
	if ok, _ := c.Extension("STARTTLS"); !ok {
		s.startTLS.Store(2)
		return c, nil
	}
	// Offered: start again with STARTTLS (go-smtp upgrades only a fresh
	// client), and from now on straight away.
	s.startTLS.Store(1)
	_ = c.Quit()
	return s.dial(ctx)
}

func (s *Sender) hello(c *smtp.Client) (*smtp.Client, error) {
	c.CommandTimeout, c.SubmissionTimeout = s.timeout, 2*s.timeout
	if err := c.Hello(s.helo); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// Send delivers one message to the recipients.
func (s *Sender) Send(ctx context.Context, from string, to []string, msg []byte) error {
	c, err := s.dial(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	// Shutting down interrupts a send in progress (the job is retried).
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	if s.user != "" {
		if err := c.Auth(sasl.NewPlainClient("", s.user, s.pass)); err != nil {
			return err
		}
	}
	if err := c.SendMail(from, to, bytes.NewReader(msg)); err != nil {
		return err
	}
	return c.Quit()
}
