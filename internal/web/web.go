// Package web serves the teammates' web app (docs/web.md): server-rendered
// pages embedded in the binary, signed in with email and password, with
// server-side sessions, CSRF protection on every form, sign-in throttling and
// roles enforced on every page and action.
package web

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"runtime/debug"
	"slices"
	"time"

	"github.com/parleyhq/parley/internal/ids"
	"github.com/parleyhq/parley/internal/realtime"
	"github.com/parleyhq/parley/internal/store"
	"github.com/parleyhq/parley/internal/workspace"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed assets/web.css
var css []byte

// Options configure the web app.
type Options struct {
	// Secure marks cookies Secure (PARLEY_PUBLIC_URL is https).
	Secure bool
	// SessionTTL is how long a session lasts after sign-in (default 14 days).
	SessionTTL time.Duration
	// MaxFailures failed sign-ins for one email or from one address within
	// FailureWindow lock further attempts until the window ends (defaults 5
	// and 15 minutes).
	MaxFailures   int
	FailureWindow time.Duration
	// Realtime, when set, serves the web app's live socket (/app/realtime).
	Realtime *realtime.Hub
	// AttachmentDir is where the Messenger stores uploads (the API's
	// AttachmentDir); the conversation page serves them to teammates.
	AttachmentDir string
	// Now is the clock (tests move it); time.Now when nil.
	Now func() time.Time
	// SMTPURL and SMTPFrom send invitation and password reset emails
	// (PARLEY_SMTP_URL, PARLEY_SMTP_FROM); without SMTPURL invitation
	// links are shown to copy. PublicURL starts the emailed links
	// (default: the request's host).
	SMTPURL, SMTPFrom, PublicURL string
	// Search is the contact search the contacts pages use (share the REST
	// API's, so one in-memory index serves both); a SQL-only search when nil.
	Search *store.Search
	// ImportDir holds uploaded CSV files until their import job runs (the
	// API's import directory); NotifyJobs, when set, wakes the job worker.
	ImportDir  string
	NotifyJobs func()
}

// Server holds what the pages need.
type Server struct {
	opts     Options
	db       *store.DB
	ws       *store.Workspaces
	sessions *store.WebSessions
	teams    *store.Teams
	convs    *store.Conversations // set by inboxRoutes
	cs       *contactsStore       // set by contactRoutes
	pages    map[string]*template.Template
	throttle *throttle
}

const (
	sessionCookie = "parley_session"
	signinCookie  = "parley_signin" // double-submit CSRF token of the sign-in form
)

// Roles that may reach settings and tokens.
var managers = []string{workspace.RoleOwner, workspace.RoleAdmin}

// New builds the web app over db.
func New(db *store.DB, opts Options) *Server {
	if opts.SessionTTL <= 0 {
		opts.SessionTTL = 14 * 24 * time.Hour
	}
	if opts.MaxFailures <= 0 {
		opts.MaxFailures = 5
	}
	if opts.FailureWindow <= 0 {
		opts.FailureWindow = 15 * time.Minute
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Server{
		opts:     opts,
		db:       db,
		ws:       store.NewWorkspaces(db),
		sessions: store.NewWebSessions(db),
		teams:    store.NewTeams(db),
		pages:    map[string]*template.Template{},
		throttle: newThrottle(opts.MaxFailures, opts.FailureWindow),
	}
	for _, name := range []string{"signin", "profile", "error"} {
		s.pages[name] = template.Must(template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html"))
	}
	return s
}

var funcs = template.FuncMap{
	"date": func(unix int64) string { return time.Unix(unix, 0).UTC().Format("2 Jan 2006") },
}

// Routes registers the web app's pages on mux, beside the API (which keeps
// "/"): /signin, /signout and everything under /app/.
func (s *Server) Routes(mux *http.ServeMux) {
	mux.Handle("GET /{$}", http.RedirectHandler("/app/inbox", http.StatusSeeOther))
	mux.Handle("GET /signin", s.public(s.signinPage))
	mux.Handle("POST /signin", s.public(s.signin))
	mux.Handle("POST /signout", s.page(nil, s.signout))
	mux.Handle("GET /app/assets/web.css", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
		w.Header().Set("Cache-Control", "public, max-age=300")
		_, _ = w.Write(css)
	}))
	mux.Handle("GET /app/{$}", http.RedirectHandler("/app/inbox", http.StatusSeeOther))
	s.inboxRoutes(mux)   // GET /app/inbox, /app/conversations/{id} and its actions (inbox.go)
	s.contactRoutes(mux) // contacts, companies, segments from lists, import and export (contacts.go)
	mux.Handle("GET /app/profile", s.page(nil, s.profilePage))
	mux.Handle("POST /app/profile", s.page(nil, s.saveProfile))
	// Invitations, password reset, token creation (accounts.go); the
	// settings hub and its pages (settings.go).
	s.settingsRoutes(mux, s.accountRoutes(mux))
	s.avatarRoutes(mux) // profile pictures (avatar.go)
	// The filter builder, /app/segments, /app/settings/assignment-rules (filter.go).
	s.filterRoutes(mux)
	mux.Handle("/app/", s.page(nil, func(w http.ResponseWriter, r *http.Request, v *visit) error {
		return pageErr(http.StatusNotFound, "Page not found", "There is no page at this address.")
	}))
}

// visit is the signed-in teammate of a request.
type visit struct {
	admin     *workspace.Admin
	ws        *workspace.Workspace
	tokenHash string
	csrf      string
}

// view is what every template gets.
type view struct {
	Title string
	Nav   string
	Admin *workspace.Admin
	WS    *workspace.Workspace
	CSRF  string
	// Manager shows the Settings link (owner and admin).
	Manager bool
	Error   string
	Data    any
}

func (v *visit) view(title, nav string, data any) *view {
	return &view{Title: title, Nav: nav, Admin: v.admin, WS: v.ws, CSRF: v.csrf, Manager: slices.Contains(managers, v.admin.Role), Data: data}
}

// httpError is an error shown to the teammate as a page with its status.
type httpError struct {
	status int
	title  string
	msg    string
}

func (e *httpError) Error() string { return e.title + ": " + e.msg }

func pageErr(status int, title, msg string) error {
	return &httpError{status: status, title: title, msg: msg}
}

var (
	errForbidden = pageErr(http.StatusForbidden, "Not allowed", "Your role does not give access to this page. Ask an owner or admin of the workspace.")
	errCSRF      = pageErr(http.StatusForbidden, "Form expired", "This form did not come from this Parley page or has expired. Go back, reload the page and try again.")
)

type pageFunc func(w http.ResponseWriter, r *http.Request, v *visit) error

// headers sets what every page sends: no framing, no third-party content,
// no caching of signed-in pages.
func headers(w http.ResponseWriter) {
	h := w.Header()
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
	h.Set("Cache-Control", "no-store")
}

// public serves a page that needs no session.
func (s *Server) public(h func(w http.ResponseWriter, r *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		headers(w)
		defer s.recover(w, r)
		if err := h(w, r); err != nil {
			s.fail(w, r, nil, err)
		}
	})
}

// page serves a page for a signed-in teammate whose role is in roles (any
// role when roles is nil); POSTs must carry the session's CSRF token.
func (s *Server) page(roles []string, h pageFunc) http.Handler {
	return s.pageMax(roles, 1<<20, h)
}

// pageMax is page for a route whose POST body may be up to maxBody bytes
// (file uploads).
func (s *Server) pageMax(roles []string, maxBody int64, h pageFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		headers(w)
		defer s.recover(w, r)
		v, err := s.visitOf(r)
		if err != nil {
			s.fail(w, r, nil, err)
			return
		}
		if v == nil {
			if r.Method == http.MethodGet || r.Method == http.MethodHead {
				http.Redirect(w, r, "/signin", http.StatusSeeOther)
				return
			}
			s.fail(w, r, nil, pageErr(http.StatusForbidden, "Signed out", "Your session has ended. Sign in again."))
			return
		}
		if roles != nil && !slices.Contains(roles, v.admin.Role) {
			s.fail(w, r, v, errForbidden)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			r.Body = http.MaxBytesReader(w, r.Body, maxBody)
			if !equal(r.PostFormValue("csrf"), v.csrf) {
				s.fail(w, r, v, errCSRF)
				return
			}
		}
		if err := h(w, r, v); err != nil {
			s.fail(w, r, v, err)
		}
	})
}

// visitOf finds the request's live session and its teammate; nil when
// there is none.
func (s *Server) visitOf(r *http.Request) (*visit, error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" || len(c.Value) > 256 {
		return nil, nil
	}
	hash := ids.HashToken(c.Value)
	sess, err := s.sessions.Get(r.Context(), hash)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if s.opts.Now().Unix() >= sess.ExpiresAt {
		return nil, nil
	}
	a, err := s.ws.Admin(r.Context(), sess.WorkspaceID, sess.AdminID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	ws, err := s.ws.Workspace(r.Context(), sess.WorkspaceID)
	if err != nil {
		return nil, err
	}
	return &visit{admin: a, ws: ws, tokenHash: hash, csrf: csrfFor(c.Value)}, nil
}

// csrfFor derives a session's CSRF token from its secret cookie value, so
// nothing more is stored and a page can never show another session's token.
func csrfFor(sessionToken string) string {
	m := hmac.New(sha256.New, []byte(sessionToken))
	m.Write([]byte("parley web csrf"))
	return hex.EncodeToString(m.Sum(nil))
}

func equal(a, b string) bool {
	return a != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

func (s *Server) recover(w http.ResponseWriter, r *http.Request) {
	if p := recover(); p != nil {
		if p == http.ErrAbortHandler {
			panic(p)
		}
		slog.Error("panic in web page", "path", r.URL.Path, "panic", p, "stack", string(debug.Stack()))
		s.fail(w, r, nil, fmt.Errorf("panic: %v", p))
	}
}

// fail renders err as a page: its own status and message for an
// httpError, else a 500 whose cause goes only to the log.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, v *visit, err error) {
	var he *httpError
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &he):
	case errors.As(err, &mbe):
		he = &httpError{status: http.StatusRequestEntityTooLarge, title: "Too large", msg: "The form sent too much data."}
	default:
		slog.Error("web page failed", "path", r.URL.Path, "err", err)
		he = &httpError{status: http.StatusInternalServerError, title: "Something went wrong", msg: "Parley could not show this page. Try again in a moment."}
	}
	vw := &view{Title: he.title, Error: he.msg}
	if v != nil {
		vw = v.view(he.title, "", nil)
		vw.Error = he.msg
	}
	s.render(w, he.status, "error", vw)
}

func (s *Server) render(w http.ResponseWriter, status int, name string, v *view) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := s.pages[name].Execute(w, v); err != nil {
		slog.Error("render web page", "page", name, "err", err)
	}
}

// simple renders a placeholder page of the shell.
func (s *Server) simple(name, title string) pageFunc {
	return func(w http.ResponseWriter, r *http.Request, v *visit) error {
		s.render(w, http.StatusOK, name, v.view(title, name, nil))
		return nil
	}
}
