package web

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"mime"
	"net/http"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/parleyhq/parley/internal/email"
	"github.com/parleyhq/parley/internal/ids"
	"github.com/parleyhq/parley/internal/store"
)

// formCookie holds the double-submit CSRF token of the signed-out forms
// (invitation acceptance, password reset).
const formCookie = "parley_form"

// accounts serves invitations, password resets and access token creation
// (docs/web.md, "Invitations, password reset, access tokens").
type accounts struct {
	s        *Server
	store    *store.Accounts
	sender   *email.Sender // nil without PARLEY_SMTP_URL
	from     string
	throttle *throttle // password reset requests per email and address
}

// accountRoutes registers the invitation, password reset and token pages.
func (s *Server) accountRoutes(mux *http.ServeMux) *accounts {
	a := &accounts{s: s, store: store.NewAccounts(s.db), from: s.opts.SMTPFrom,
		throttle: newThrottle(s.opts.MaxFailures, s.opts.FailureWindow)}
	if s.opts.SMTPURL != "" {
		sender, err := email.NewSender(s.opts.SMTPURL, "parley")
		if err != nil {
			slog.Error("web: SMTP URL unusable; invitation and reset emails are not sent", "err", err)
		} else {
			a.sender = sender
		}
	}
	if a.from == "" {
		a.from = "parley@localhost"
	}
	for _, name := range []string{"invite", "invite_sent", "accept", "reset_request", "reset", "notice", "token_created"} {
		// settingsnav.html: the invitation and token pages show the
		// settings navigation.
		s.pages[name] = template.Must(template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/settingsnav.html", "templates/"+name+".html"))
	}
	mux.Handle("GET /app/settings/invite", s.page(managers, a.invitePage))
	mux.Handle("POST /app/settings/invite", s.page(managers, a.invite))
	mux.Handle("GET /invite/{token}", s.public(a.acceptPage))
	mux.Handle("POST /invite/{token}", s.public(a.accept))
	mux.Handle("GET /reset", s.public(a.resetRequestPage))
	mux.Handle("POST /reset", s.public(a.resetRequest))
	mux.Handle("GET /reset/{token}", s.public(a.resetPage))
	mux.Handle("POST /reset/{token}", s.public(a.reset))
	mux.Handle("POST /app/settings/tokens", s.page(managers, a.createToken))
	return a
}

// formToken returns the double-submit token of the signed-out forms,
// setting its cookie.
func (a *accounts) formToken(w http.ResponseWriter, r *http.Request) string {
	token := ""
	if c, err := r.Cookie(formCookie); err == nil && len(c.Value) == 32 {
		token = c.Value
	} else {
		token = ids.Secret(24)
	}
	http.SetCookie(w, &http.Cookie{Name: formCookie, Value: token, Path: "/", HttpOnly: true, Secure: a.s.opts.Secure, SameSite: http.SameSiteLaxMode, MaxAge: 3600})
	return token
}

// checkForm parses a signed-out form and checks its double-submit token.
func (a *accounts) checkForm(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		return pageErr(http.StatusBadRequest, "Bad form", "The form could not be read.")
	}
	c, err := r.Cookie(formCookie)
	if err != nil || !equal(r.PostFormValue("csrf"), c.Value) {
		return errCSRF
	}
	return nil
}

// checkPassword returns what is wrong with a new password, "" when fine.
// bcrypt reads at most 72 bytes, so longer passwords are refused rather
// than silently cut.
func checkPassword(pw, confirm string) string {
	switch {
	case utf8.RuneCountInString(pw) < 10:
		return "Choose a password of at least 10 characters."
	case len(pw) > 72:
		return "Choose a password of at most 72 bytes."
	case pw != confirm:
		return "The two passwords differ."
	}
	return ""
}

// link is the absolute URL of path.
func (a *accounts) link(r *http.Request, path string) string { return a.s.baseURL(r) + path }

// baseURL is Parley's address: PARLEY_PUBLIC_URL, else the request's own
// host.
func (s *Server) baseURL(r *http.Request) string {
	if s.opts.PublicURL != "" {
		return strings.TrimRight(s.opts.PublicURL, "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// send emails a plain-text message; an error when there is no SMTP server
// or it refused.
func (a *accounts) send(ctx context.Context, toName, to, subject, body string) error {
	if a.sender == nil {
		return fmt.Errorf("no SMTP server")
	}
	from, err := mail.ParseAddress(a.from)
	if err != nil {
		return err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "From: %s\r\n", (&mail.Address{Name: "Parley", Address: from.Address}).String())
	fmt.Fprintf(&b, "To: %s\r\n", (&mail.Address{Name: toName, Address: to}).String())
	fmt.Fprintf(&b, "Subject: %s\r\n", mime.QEncoding.Encode("utf-8", subject))
	fmt.Fprintf(&b, "Date: %s\r\n", time.Now().UTC().Format(time.RFC1123Z))
	domain := from.Address[strings.LastIndex(from.Address, "@")+1:]
	fmt.Fprintf(&b, "Message-ID: <%s@%s>\r\n", ids.Secret(16), domain)
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n")
	b.WriteString(strings.ReplaceAll(body, "\n", "\r\n"))
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	return a.sender.Send(ctx, from.Address, []string{to}, []byte(b.String()))
}

// tokenErr is the readable page of an unusable emailed link.
func tokenErr(err error, what string) error {
	switch {
	case errors.Is(err, store.ErrTokenUsed):
		return pageErr(http.StatusGone, "Link already used", "This "+what+" link has already been used. Each link works once.")
	case errors.Is(err, store.ErrTokenExpired):
		return pageErr(http.StatusGone, "Link expired", "This "+what+" link has expired. Ask for a new one.")
	case errors.Is(err, store.ErrNotFound):
		return pageErr(http.StatusNotFound, "Link not valid", "This "+what+" link is not valid. Check that it was copied whole.")
	}
	return err
}
