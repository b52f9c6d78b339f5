package email

import (
	"bytes"
	"html"
	"html/template"
	"strings"
	"time"

	"github.com/emersion/go-message/mail"

	"github.com/parleyhq/parley/internal/conversation"
)

// ReplyMarker is the line above which a contact types their reply; inbound
// replies are cut at it (and at the usual quoting lines).
const ReplyMarker = "##- Please type your reply above this line -##"

// rendered is one outgoing email.
type rendered struct {
	MessageID  string // without angle brackets
	From       string
	FromName   string
	To         string
	ReplyTo    string
	Subject    string
	References []string // earlier emails of the conversation, oldest first
	Parts      []*conversation.Part
	Date       time.Time
}

var htmlBody = template.Must(template.New("reply").Parse(`<!doctype html>
<html><body style="font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;font-size:15px;color:#1a1a1a">
<p style="color:#8a8a8a;font-size:12px">{{.Marker}}</p>
{{range .Parts}}<div style="margin:0 0 18px 0">
<p style="margin:0 0 4px 0;font-weight:600">{{.Name}}</p>
<div>{{.Body}}</div>
</div>
{{end}}<p style="color:#8a8a8a;font-size:12px">Reply to this email to continue the conversation.</p>
</body></html>
`))

type htmlPart struct {
	Name string
	Body template.HTML // a teammate's part body, stored as HTML by the API
}

func authorName(a conversation.Author) string {
	if a.Name != nil && *a.Name != "" {
		return *a.Name
	}
	return "The team"
}

// bytes renders the email: multipart/alternative with a plain-text and an
// HTML version, threaded by In-Reply-To/References.
func (m *rendered) bytes() ([]byte, error) {
	var h mail.Header
	h.SetDate(m.Date)
	h.SetAddressList("From", []*mail.Address{{Name: m.FromName, Address: m.From}})
	h.SetAddressList("To", []*mail.Address{{Address: m.To}})
	h.SetAddressList("Reply-To", []*mail.Address{{Address: m.ReplyTo}})
	h.SetSubject(m.Subject)
	h.SetMessageID(m.MessageID)
	if n := len(m.References); n > 0 {
		h.SetMsgIDList("In-Reply-To", m.References[n-1:])
		h.SetMsgIDList("References", m.References)
	}
	// Not an auto-reply: a person wrote it. Ask for no auto-replies back.
	h.Set("X-Auto-Response-Suppress", "All")

	var text strings.Builder
	text.WriteString(ReplyMarker + "\r\n\r\n")
	var parts []htmlPart
	for _, p := range m.Parts {
		body := ""
		if p.Body != nil {
			body = *p.Body
		}
		text.WriteString(authorName(p.Author) + ":\r\n")
		text.WriteString(strings.ReplaceAll(conversation.Plaintext(body), "\n", "\r\n") + "\r\n")
		for _, a := range p.Attachments {
			text.WriteString(a.Name + ": " + a.URL + "\r\n")
			body += `<p><a href="` + html.EscapeString(a.URL) + `">` + html.EscapeString(a.Name) + `</a></p>`
		}
		text.WriteString("\r\n")
		parts = append(parts, htmlPart{Name: authorName(p.Author), Body: template.HTML(body)})
	}
	text.WriteString("Reply to this email to continue the conversation.\r\n")
	var hb bytes.Buffer
	if err := htmlBody.Execute(&hb, map[string]any{"Marker": ReplyMarker, "Parts": parts}); err != nil {
		return nil, err
	}

	var buf bytes.Buffer
	w, err := mail.CreateInlineWriter(&buf, h)
	if err != nil {
		return nil, err
	}
	for _, alt := range []struct{ typ, body string }{{"text/plain", text.String()}, {"text/html", hb.String()}} {
		var ph mail.InlineHeader
		ph.SetContentType(alt.typ, map[string]string{"charset": "utf-8"})
		pw, err := w.CreatePart(ph)
		if err != nil {
			return nil, err
		}
		if _, err := pw.Write([]byte(alt.body)); err != nil {
			return nil, err
		}
		if err := pw.Close(); err != nil {
			return nil, err
		}
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// newMessageID returns a fresh Message-ID (without angle brackets).
func newMessageID(domain string) string {
	return "parley." + newToken()[:24] + "@" + domain
}
