package email

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// selfSigned returns a server certificate for 127.0.0.1 and a pool that
// trusts it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "mx.test"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pool
}

// relay is a submission server requiring AUTH PLAIN as parley/secret.
type relay struct {
	mu  sync.Mutex
	got []delivery
}

type delivery struct {
	tls  bool
	user string
	to   []string
	data string
}

type relaySession struct {
	r    *relay
	conn *smtp.Conn
	user string
	to   []string
}

func (r *relay) NewSession(c *smtp.Conn) (smtp.Session, error) {
	return &relaySession{r: r, conn: c}, nil
}

func (s *relaySession) AuthMechanisms() []string { return []string{sasl.Plain} }
func (s *relaySession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != "parley" || pass != "s3cret:/@" {
			return errors.New("bad credentials")
		}
		s.user = user
		return nil
	}), nil
}
func (s *relaySession) Reset()        { s.to = nil }
func (s *relaySession) Logout() error { return nil }
func (s *relaySession) Mail(string, *smtp.MailOptions) error {
	if s.user == "" {
		return &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "Authentication required"}
	}
	return nil
}
func (s *relaySession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}
func (s *relaySession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	_, isTLS := s.conn.TLSConnectionState()
	s.r.mu.Lock()
	defer s.r.mu.Unlock()
	s.r.got = append(s.r.got, delivery{tls: isTLS, user: s.user, to: s.to, data: string(b)})
	return nil
}

// TestSenderTLSAndAuth: smtp:// upgrades with STARTTLS when the server
// offers it, smtps:// speaks TLS from the start; both authenticate with
// the URL's (escaped) credentials; wrong credentials are an error.
func TestSenderTLSAndAuth(t *testing.T) {
	cert, pool := selfSigned(t)
	tlsConfig := &tls.Config{Certificates: []tls.Certificate{cert}}
	for _, implicit := range []bool{false, true} {
		r := &relay{}
		srv := smtp.NewServer(r)
		srv.Domain = "mx.test"
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		scheme := "smtp"
		if implicit {
			scheme = "smtps"
			ln = tls.NewListener(ln, tlsConfig)
		} else {
			srv.TLSConfig = tlsConfig // offers STARTTLS
		}
		go func() { _ = srv.Serve(ln) }()
		defer srv.Close()

		s, err := NewSender(scheme+"://parley:s3cret%3A%2F%40@"+ln.Addr().String(), "parley.test")
		if err != nil {
			t.Fatal(err)
		}
		s.tlsConfig.RootCAs = pool
		for i := 0; i < 2; i++ { // the second send goes straight to STARTTLS
			if err := s.Send(context.Background(), "support@parley.test", []string{"ada@example.com"}, []byte("Subject: hi\r\n\r\nhello\r\n")); err != nil {
				t.Fatalf("%s send %d: %v", scheme, i, err)
			}
		}
		r.mu.Lock()
		got := r.got
		r.mu.Unlock()
		if len(got) != 2 || !got[0].tls || !got[1].tls || got[0].user != "parley" || got[0].to[0] != "ada@example.com" || !strings.Contains(got[0].data, "hello") {
			t.Fatalf("%s: deliveries %+v", scheme, got)
		}

		bad, _ := NewSender(scheme+"://parley:wrong@"+ln.Addr().String(), "parley.test")
		bad.tlsConfig.RootCAs = pool
		if err := bad.Send(context.Background(), "support@parley.test", []string{"ada@example.com"}, []byte("Subject: hi\r\n\r\nx\r\n")); err == nil {
			t.Fatalf("%s: wrong password accepted", scheme)
		}
		// An untrusted certificate is refused.
		untrusted, _ := NewSender(scheme+"://parley:s3cret%3A%2F%40@"+ln.Addr().String(), "parley.test")
		if err := untrusted.Send(context.Background(), "support@parley.test", []string{"ada@example.com"}, []byte("Subject: hi\r\n\r\nx\r\n")); err == nil {
			t.Fatalf("%s: untrusted certificate accepted", scheme)
		}
	}
}
