package email

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestReplyText: the new text of a reply is kept; quoted history, Parley's
// marker, signatures and Outlook's header block are cut.
func TestReplyText(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"plain", "Thanks!\r\n\r\nAda", "Thanks!\n\nAda"},
		{"gmail", "Yes please.\n\nOn Tue, 3 Mar 2026 at 10:00, Grace <support@parley.test> wrote:\n> Shall I?\n", "Yes please."},
		{"wrapped attribution", "Yes.\n\nOn Tue, 3 Mar 2026 at 10:00, Grace from Acme\n<support@parley.test> wrote:\n> Shall I?", "Yes."},
		{"signature", "Done.\n-- \nAda Lovelace\nAnalytical Engines Ltd", "Done."},
		{"marker mid-line", "Works now " + ReplyMarker + " old stuff", "Works now"},
		{"outlook", "Fine by me\n\n-----Original Message-----\nFrom: Grace\nSent: today", "Fine by me"},
		{"outlook from block", "Ok\n\nFrom: Grace <support@parley.test>\nSent: Tuesday", "Ok"},
		{"interleaved quotes", "> question one\nanswer one\n> question two\nanswer two", "answer one\nanswer two"},
		{"only quote", "> all quoted\n>more", ""},
		{"french", "Merci\n\nLe mar. 3 mars 2026 à 10:00, Grace a écrit :\n> x", "Merci"},
	}
	for _, tc := range cases {
		if got := replyText(tc.in); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

// TestParseMail: headers, threading ids and the text part of a multipart
// mail in another charset.
func TestParseMail(t *testing.T) {
	raw := "From: =?utf-8?q?Ad=C3=A1?= <ADA@Example.com>\r\nSubject: =?iso-8859-1?q?R=E9ponse?=\r\nMessage-ID: <m1@x>\r\n" +
		"In-Reply-To: <p3@parley.test>\r\nReferences: <p1@parley.test> <p2@parley.test> <p3@parley.test>\r\n" +
		"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=outer\r\n\r\n--outer\r\n" +
		"Content-Type: multipart/alternative; boundary=inner\r\n\r\n--inner\r\nContent-Type: text/plain; charset=iso-8859-1\r\n" +
		"Content-Transfer-Encoding: quoted-printable\r\n\r\nD=E9j=E0 vu\r\n--inner\r\nContent-Type: text/html\r\n\r\n<p>ignored</p>\r\n--inner--\r\n" +
		"--outer\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=a.pdf\r\n\r\nxx\r\n--outer--\r\n"
	in, err := parseMail(strings.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if in.From != "ADA@Example.com" || in.FromName != "Adá" || in.Subject != "Réponse" || in.MessageID != "m1@x" {
		t.Fatalf("%+v", in)
	}
	if strings.Join(in.Refs, " ") != "p3@parley.test p3@parley.test p2@parley.test p1@parley.test" || in.Text != "Déjà vu" {
		t.Fatalf("refs %v text %q", in.Refs, in.Text)
	}
	if _, err := parseMail(strings.NewReader("Subject: no sender\r\n\r\nhi")); !errors.Is(err, errMalformed) {
		t.Fatalf("no From: %v", err)
	}
}

// FuzzParseMail: no input makes the inbound parser panic, and what it
// returns is valid UTF-8 within the body limit.
func FuzzParseMail(f *testing.F) {
	f.Add("From: a@b.c\r\nSubject: hi\r\n\r\nhello\r\n> quoted\r\n")
	f.Add("From: a@b.c\r\nContent-Type: multipart/alternative; boundary=x\r\n\r\n--x\r\nContent-Type: text/html\r\n\r\n<p>hi</p>\r\n--x--\r\n")
	f.Add("From: a@b.c\r\nContent-Type: text/plain; charset=koi8-r\r\nContent-Transfer-Encoding: base64\r\n\r\n8OLP\r\n")
	f.Add("From: a@b.c\r\nIn-Reply-To: <x@y\r\nReferences: <<<>>>\r\n\r\nx")
	f.Add("From: \r\n\r\n")
	f.Fuzz(func(t *testing.T, raw string) {
		in, err := parseMail(strings.NewReader(raw))
		if err != nil {
			if !errors.Is(err, errMalformed) {
				t.Fatalf("error %v is not errMalformed", err)
			}
			return
		}
		if !utf8.ValidString(in.Text) || len(in.Text) > maxBody || strings.ContainsRune(in.Text, 0) {
			t.Fatalf("text %q", in.Text)
		}
		if in.From == "" {
			t.Fatal("accepted without a From address")
		}
	})
}
