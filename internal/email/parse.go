package email

import (
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"unicode/utf8"

	_ "github.com/emersion/go-message/charset" // decode the charsets mail clients use
	"github.com/emersion/go-message/mail"

	"github.com/parleyhq/parley/internal/conversation"
)

// incoming is what Parley takes from an inbound mail.
type incoming struct {
	From      string // the From address, as written
	FromName  string
	Subject   string
	MessageID string   // without angle brackets; "" when absent
	Refs      []string // In-Reply-To, then References newest first
	Text      string   // the new text, quoted history and signature cut
	// Automatic is set for mail no person wrote: out-of-office replies,
	// list and bulk mail (RFC 3834 Auto-Submitted, Precedence, X-Autoreply).
	Automatic bool
}

// errMalformed is a mail Parley cannot read.
var errMalformed = errors.New("malformed message")

// maxParts bounds the MIME parts looked at in one mail.
const maxParts = 100

// parseMail reads a mail: headers, the first text/plain part (else the
// first text/html one, reduced to text), and cuts the reply out of it. It
// never panics; anything it cannot read is errMalformed.
func parseMail(r io.Reader) (*incoming, error) {
	mr, err := mail.CreateReader(r)
	if mr == nil {
		return nil, fmt.Errorf("%w: %v", errMalformed, err)
	}
	defer mr.Close()
	from, err := mr.Header.AddressList("From")
	if err != nil || len(from) == 0 {
		return nil, fmt.Errorf("%w: no valid From address", errMalformed)
	}
	in := &incoming{From: from[0].Address, FromName: from[0].Name}
	if in.Subject, err = mr.Header.Subject(); err != nil {
		in.Subject = mr.Header.Get("Subject")
	}
	in.Subject = strings.ToValidUTF8(in.Subject, "")
	in.MessageID, _ = mr.Header.MessageID()
	in.Automatic = automatic(mr.Header)
	replyTo, _ := mr.Header.MsgIDList("In-Reply-To")
	refs, _ := mr.Header.MsgIDList("References")
	for i := len(refs) - 1; i >= 0; i-- {
		replyTo = append(replyTo, refs[i])
	}
	for _, id := range replyTo {
		if id != "" && len(id) <= 250 && len(in.Refs) < 50 {
			in.Refs = append(in.Refs, id)
		}
	}
	var plain, htmlText string
	for n := 0; n < maxParts && (plain == "" || htmlText == ""); n++ {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if p == nil {
			return nil, fmt.Errorf("%w: %v", errMalformed, err)
		}
		h, ok := p.Header.(*mail.InlineHeader)
		if !ok {
			continue // attachments are not kept yet
		}
		t, _, _ := h.ContentType()
		if t != "text/plain" && t != "text/html" && t != "" {
			continue
		}
		b, err := io.ReadAll(io.LimitReader(p.Body, MaxMessageBytes))
		if err != nil {
			return nil, fmt.Errorf("%w: %v", errMalformed, err)
		}
		s := strings.ToValidUTF8(string(b), "\uFFFD")
		switch {
		case t == "text/html" && htmlText == "":
			htmlText = conversation.Plaintext(s)
		case t != "text/html" && plain == "":
			plain = s
		}
	}
	if plain == "" {
		plain = htmlText
	}
	in.Text = replyText(plain)
	return in, nil
}

// automatic reports whether a mail says it was sent by a program.
func automatic(h mail.Header) bool {
	if v := strings.ToLower(strings.TrimSpace(h.Get("Auto-Submitted"))); v != "" && v != "no" {
		return true
	}
	switch strings.ToLower(strings.TrimSpace(h.Get("Precedence"))) {
	case "bulk", "junk", "list", "auto_reply":
		return true
	}
	return h.Get("X-Autoreply") != "" || h.Get("X-Autorespond") != ""
}

var (
	// "On Tue, 3 Mar 2026 at 10:00, Ada <ada@example.com> wrote:" (Gmail,
	// Apple Mail, Thunderbird), possibly wrapped over two lines.
	wroteRe = regexp.MustCompile(`(?i)^\s*(on|le|am|el)\b.{0,300}(wrote|a écrit|schrieb|escribió)\s*:\s*$`)
	// Outlook's header block and the usual separators.
	separatorRe = regexp.MustCompile(`(?i)^\s*(-{2,}\s*original message\s*-{2,}|_{10,}|from:\s.+|-{2,}\s*forwarded message\s*-{2,})\s*$`)
)

// attribution reports whether a line is "On …, … wrote:" (the regular
// expression runs only on lines that end like one).
func attribution(l string) bool {
	t := strings.ToLower(strings.TrimRight(l, " \t:"))
	for _, w := range []string{"wrote", "a écrit", "schrieb", "escribió"} {
		if strings.HasSuffix(t, w) {
			return wroteRe.MatchString(l)
		}
	}
	return false
}

// replyText cuts the new text out of a reply: everything from Parley's
// reply marker, an "On … wrote:" line, an Outlook "From:" header block or
// "-----Original Message-----", or a signature ("-- " line) on is dropped,
// and so are lines quoted with ">". Line breaks are normalised to \n.
func replyText(s string) string {
	if len(s) > 4*maxBody {
		// A reply is at most maxBody; quotes are not looked through forever.
		s = strings.ToValidUTF8(s[:4*maxBody], "")
	}
	s = strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
	lines := strings.Split(s, "\n")
	var kept []string
	for i, l := range lines {
		if before, _, found := strings.Cut(l, ReplyMarker); found {
			kept = append(kept, before)
			break
		}
		t := strings.TrimSpace(l)
		if l == "-- " || t == "--" || separatorRe.MatchString(l) {
			break
		}
		if attribution(l) {
			break
		}
		// "On … <ada@example.com>" then "wrote:" on the next line.
		if i+1 < len(lines) && strings.HasPrefix(strings.ToLower(t), "on ") && attribution(l+" "+lines[i+1]) {
			break
		}
		if strings.HasPrefix(t, ">") {
			continue
		}
		kept = append(kept, strings.TrimRight(l, " \t"))
	}
	out := strings.TrimSpace(strings.Join(kept, "\n"))
	if len(out) > maxBody {
		out = out[:maxBody]
		for !utf8.ValidString(out) {
			out = out[:len(out)-1]
		}
	}
	return strings.ReplaceAll(out, "\x00", "")
}
