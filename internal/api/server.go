// Package api serves Parley's Intercom-compatible REST API: versions,
// authentication, rate limits, errors and pagination conventions, and the
// handlers of each endpoint group.
package api

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/parleyhq/parley/internal/attribute"
	"github.com/parleyhq/parley/internal/ids"
	"github.com/parleyhq/parley/internal/realtime"
	"github.com/parleyhq/parley/internal/store"
	"github.com/parleyhq/parley/internal/workspace"
)

// Options configure the API.
type Options struct {
	// RateLimit is the number of calls a token may make per minute, spread
	// over 10-second windows (Intercom: 10,000). Zero means the default.
	RateLimit int
	// MaxBodyBytes limits JSON request bodies (default 1 MiB).
	MaxBodyBytes int64
	// MaxImportBytes limits CSV import uploads (default 1 GiB).
	MaxImportBytes int64
	// ImportDir is where uploaded CSV files wait for their job.
	ImportDir string
	// DefaultVersion answers requests without Intercom-Version (2.14).
	DefaultVersion string
	// SearchIndexIdle is how long the contact search index keeps what no
	// search has used; zero or less turns the index off (SQL only).
	SearchIndexIdle time.Duration
	// Realtime serves GET /realtime; nil turns the endpoint off.
	Realtime *realtime.Hub
	// AttachmentDir is where Messenger uploads are stored
	// (PARLEY_DATA_DIR/attachments); empty turns uploads off.
	AttachmentDir string
}

// Server holds what the handlers need.
type Server struct {
	opts       Options
	db         *store.DB
	workspaces workspace.Store
	contacts   *store.Contacts
	attributes attribute.Store
	limiter    *limiter
	tokens     sync.Map // token hash → cachedToken
	mux        *http.ServeMux
	jobs       JobQueue
	search     *store.Search
	teams      *store.Teams
	messenger  *messengerAPI

	literalRoutes []literalRoute
}

// JobQueue is how the API enqueues durable work (CSV imports).
type JobQueue interface {
	Notify()
}

type cachedToken struct {
	tok     *workspace.Token
	expires time.Time
}

// New builds the API server over db.
func New(db *store.DB, opts Options, jobs JobQueue) *Server {
	if opts.RateLimit <= 0 {
		opts.RateLimit = 10000
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = 1 << 20
	}
	if opts.MaxImportBytes <= 0 {
		opts.MaxImportBytes = 1 << 30
	}
	if opts.DefaultVersion == "" {
		opts.DefaultVersion = "2.14"
	}
	s := &Server{
		opts:       opts,
		db:         db,
		workspaces: store.NewWorkspaces(db),
		contacts:   store.NewContacts(db),
		attributes: store.NewAttributes(db),
		teams:      store.NewTeams(db),
		limiter:    newLimiter(opts.RateLimit),
		mux:        http.NewServeMux(),
		jobs:       jobs,
	}
	s.routes()
	return s
}

// handler is an endpoint: it writes a response or returns an error that is
// rendered as Intercom's error.list.
type handler func(w http.ResponseWriter, r *http.Request) error

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	for _, p := range s.literalRoutes {
		if p.match(r) {
			p.h.ServeHTTP(w, r)
			return
		}
	}
	s.mux.ServeHTTP(w, r)
}

// literalRoute is a pattern such as "GET /contacts/find_by_external_id/{external_id}"
// that http.ServeMux refuses because it overlaps "GET /contacts/{id}/tags"
// (both match /contacts/find_by_external_id/tags and neither is more
// specific). Intercom has several of these; they are matched ahead of the
// mux, literal segments first, so the literal always wins.
type literalRoute struct {
	method   string
	segments []string // literal, or "{name}" for a single-segment wildcard
	h        http.Handler
}

func (p literalRoute) match(r *http.Request) bool {
	if r.Method != p.method && !(p.method == http.MethodGet && r.Method == http.MethodHead) {
		return false
	}
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if len(parts) != len(p.segments) {
		return false
	}
	for i, seg := range p.segments {
		if strings.HasPrefix(seg, "{") {
			if parts[i] == "" {
				return false
			}
		} else if parts[i] != seg {
			return false
		}
	}
	for i, seg := range p.segments {
		if strings.HasPrefix(seg, "{") {
			r.SetPathValue(strings.Trim(seg, "{}"), parts[i])
		}
	}
	return true
}

// handle registers an authenticated API endpoint. Patterns of the form
// /a/literal/{x} are matched ahead of the mux (see literalRoute); any other
// overlap is a programming error and panics at start, which every test sees.
func (s *Server) handle(pattern string, h handler) {
	wrapped := s.wrap(h, true)
	method, path, _ := strings.Cut(pattern, " ")
	if segs := strings.Split(strings.Trim(path, "/"), "/"); len(segs) == 3 && !strings.HasPrefix(segs[1], "{") && strings.HasPrefix(segs[2], "{") {
		// "/contacts/find_by_external_id/{x}" style: always ahead of the mux,
		// so that the literal second segment wins over "/contacts/{id}/x".
		s.literalRoutes = append(s.literalRoutes, literalRoute{method: method, segments: segs, h: wrapped})
		return
	}
	s.mux.Handle(pattern, wrapped)
}

func (s *Server) routes() {
	s.mux.Handle("GET /healthz", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := s.db.Ping(ctx); err != nil {
			http.Error(w, "database unavailable", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write([]byte("ok\n"))
	}))
	// Anything else that no route matches: an Intercom-style 404.
	s.mux.Handle("/", s.wrap(func(w http.ResponseWriter, r *http.Request) error {
		return notFound("not_found", "The requested resource %s %s does not exist", r.Method, r.URL.Path)
	}, true))
	s.adminRoutes()
	s.contactRoutes()
	s.attributeRoutes()
	s.companyRoutes()
	s.tagRoutes()
	s.noteRoutes()
	s.eventRoutes()
	s.segmentRoutes()
	s.searchRoutes()
	s.importRoutes()
	s.teamRoutes()
	s.conversationRoutes()
	s.realtimeRoutes()
	s.messengerRoutes()
}

// versions accepted in Intercom-Version.
var versions = func() map[string]bool {
	m := map[string]bool{"Unstable": true, "Preview": true}
	for _, v := range []string{"1.0", "1.1", "1.2", "1.3", "1.4"} {
		m[v] = true
	}
	for i := 0; i <= 16; i++ {
		m[fmt.Sprintf("2.%d", i)] = true
	}
	return m
}()

// Auth is the authenticated caller of a request.
type Auth struct {
	WorkspaceID string
	AdminID     int64
	TokenID     int64
	Version     string
}

// AtLeast reports whether the request's version is at least 2.minor
// (Unstable and Preview count as the newest).
func (a *Auth) AtLeast(minor int) bool {
	if a.Version == "Unstable" || a.Version == "Preview" {
		return true
	}
	major, rest, _ := strings.Cut(a.Version, ".")
	if major != "2" {
		return false
	}
	n, err := strconv.Atoi(rest)
	return err == nil && n >= minor
}

func authOf(ctx context.Context) *Auth {
	a, _ := ctx.Value(keyAuth).(*Auth)
	return a
}

// wrap applies the API conventions around h: request id, panic recovery,
// version negotiation, bearer authentication, rate limiting, body limits.
func (s *Server) wrap(h handler, authenticate bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := context.WithValue(r.Context(), keyRequestID, newRequestID())
		r = r.WithContext(ctx)
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				slog.Error("panic in handler", "path", r.URL.Path, "panic", p, "stack", string(debug.Stack()))
				writeError(w, r, fmt.Errorf("panic: %v", p))
			}
		}()
		version := strings.TrimSpace(r.Header.Get("Intercom-Version"))
		if version == "" {
			version = s.opts.DefaultVersion
		}
		if !versions[version] {
			writeError(w, r, errf(http.StatusBadRequest, "intercom_version_invalid",
				"The requested version %q is not valid; use one of 1.0–1.4, 2.0–2.16, Unstable or Preview", version))
			return
		}
		auth := &Auth{Version: version}
		if authenticate {
			tok, err := s.authenticate(r)
			if err != nil {
				writeError(w, r, err)
				return
			}
			auth.WorkspaceID, auth.AdminID, auth.TokenID = tok.WorkspaceID, tok.AdminID, tok.ID
			limit, remaining, reset, ok := s.limiter.take(tok.ID, time.Now())
			w.Header().Set("X-RateLimit-Limit", fmt.Sprint(limit))
			w.Header().Set("X-RateLimit-Remaining", fmt.Sprint(remaining))
			w.Header().Set("X-RateLimit-Reset", fmt.Sprint(reset))
			if !ok {
				writeError(w, r, errf(http.StatusTooManyRequests, "rate_limit_exceeded", "Rate limit exceeded: at most %d calls a minute, spread over 10-second windows", limit))
				return
			}
		}
		r = r.WithContext(context.WithValue(r.Context(), keyAuth, auth))
		if err := h(w, r); err != nil {
			writeError(w, r, err)
		}
	})
}

var errUnauthorized = errf(http.StatusUnauthorized, "unauthorized", "Access Token Invalid")

func (s *Server) authenticate(r *http.Request) (*workspace.Token, error) {
	h := r.Header.Get("Authorization")
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return nil, errUnauthorized
	}
	return s.tokenFor(r.Context(), token)
}

// tokenFor checks an access token's value.
func (s *Server) tokenFor(ctx context.Context, token string) (*workspace.Token, error) {
	if strings.TrimSpace(token) == "" || len(token) > 512 {
		return nil, errUnauthorized
	}
	hash := ids.HashToken(strings.TrimSpace(token))
	now := time.Now()
	if c, ok := s.tokens.Load(hash); ok && now.Before(c.(cachedToken).expires) {
		return c.(cachedToken).tok, nil
	}
	tok, err := s.workspaces.TokenByHash(ctx, hash)
	if err != nil {
		if err == store.ErrNotFound {
			return nil, errUnauthorized
		}
		return nil, err
	}
	s.tokens.Store(hash, cachedToken{tok: tok, expires: now.Add(10 * time.Second)})
	return tok, nil
}
