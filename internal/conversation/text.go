package conversation

import (
	"html"
	"regexp"
	"strings"
)

var paragraphRe = regexp.MustCompile(`\n\s*\n`)

// TextHTML is how a contact's plain-text message is stored: escaped (their
// HTML is never kept), a blank line starting a paragraph and a single line
// break becoming <br>, as Intercom does. The API and inbound email share it.
func TextHTML(body string) string {
	body = strings.ReplaceAll(body, "\r\n", "\n")
	var b strings.Builder
	for _, para := range paragraphRe.Split(body, -1) {
		para = strings.TrimSpace(para)
		if para == "" {
			continue
		}
		lines := strings.Split(para, "\n")
		for i, l := range lines {
			lines[i] = html.EscapeString(strings.TrimSpace(l))
		}
		b.WriteString("<p>" + strings.Join(lines, "<br>") + "</p>")
	}
	return b.String()
}
