package web

import (
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/parleyhq/parley/internal/ids"
	"github.com/parleyhq/parley/internal/store"
	"github.com/parleyhq/parley/internal/workspace"
)

// dummyHash is compared against when no teammate has the email, so that an
// unknown email takes as long as a wrong password.
var dummyHash, _ = bcrypt.GenerateFromPassword([]byte("parley-no-such-admin"), bcrypt.DefaultCost)

type signinData struct {
	Email string
}

// signinPage shows the form (or the inbox to a signed-in teammate). The
// form carries a random token also set as a cookie (double submit), so a
// third-party page cannot sign a browser into an account of its choosing.
func (s *Server) signinPage(w http.ResponseWriter, r *http.Request) error {
	if v, err := s.visitOf(r); err != nil {
		return err
	} else if v != nil {
		http.Redirect(w, r, "/app/inbox", http.StatusSeeOther)
		return nil
	}
	s.showSignin(w, r, http.StatusOK, "", "")
	return nil
}

func (s *Server) showSignin(w http.ResponseWriter, r *http.Request, status int, email, msg string) {
	token := ""
	if c, err := r.Cookie(signinCookie); err == nil && len(c.Value) == 32 {
		token = c.Value
	} else {
		token = ids.Secret(24) // 32 characters
	}
	http.SetCookie(w, &http.Cookie{Name: signinCookie, Value: token, Path: "/signin", HttpOnly: true, Secure: s.opts.Secure, SameSite: http.SameSiteLaxMode, MaxAge: 3600})
	s.render(w, status, "signin", &view{Title: "Sign in", CSRF: token, Error: msg, Data: signinData{Email: email}})
}

// signin checks the email and password, throttled per email and per
// address, and starts a session.
func (s *Server) signin(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		return pageErr(http.StatusBadRequest, "Bad form", "The sign-in form could not be read.")
	}
	c, err := r.Cookie(signinCookie)
	if err != nil || !equal(r.PostFormValue("csrf"), c.Value) {
		return pageErr(http.StatusForbidden, "Form expired", "This sign-in form did not come from this Parley page or has expired. Open the sign-in page again.")
	}
	email := strings.ToLower(strings.TrimSpace(r.PostFormValue("email")))
	password := r.PostFormValue("password")
	if email == "" || password == "" || len(email) > 320 || len(password) > 1024 {
		s.showSignin(w, r, http.StatusBadRequest, email, "Enter your email and password.")
		return nil
	}
	now := s.opts.Now()
	ip := clientIP(r)
	if wait := s.throttle.locked(now, "email:"+email, "ip:"+ip); wait > 0 {
		s.showSignin(w, r, http.StatusTooManyRequests, email,
			fmt.Sprintf("Too many failed sign-ins for this email or from this network. Try again in %s.", roundUp(wait)))
		return nil
	}
	admin, err := s.check(r, email, password)
	if err != nil {
		return err
	}
	if admin == nil {
		s.throttle.fail(now, "email:"+email, "ip:"+ip)
		s.showSignin(w, r, http.StatusUnauthorized, email, "That email and password do not match a teammate.")
		return nil
	}
	s.throttle.clear("email:" + email)
	token := ids.Secret(32)
	sess := &store.WebSession{TokenHash: ids.HashToken(token), WorkspaceID: admin.WorkspaceID, AdminID: admin.ID,
		CreatedAt: now.Unix(), ExpiresAt: now.Add(s.opts.SessionTTL).Unix()}
	if err := s.sessions.Create(r.Context(), sess); err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: token, Path: "/", HttpOnly: true, Secure: s.opts.Secure,
		SameSite: http.SameSiteLaxMode, MaxAge: int(s.opts.SessionTTL / time.Second)})
	http.SetCookie(w, &http.Cookie{Name: signinCookie, Value: "", Path: "/signin", MaxAge: -1, HttpOnly: true, Secure: s.opts.Secure})
	http.Redirect(w, r, "/app/inbox", http.StatusSeeOther)
	return nil
}

// check returns the teammate with this email and password, nil when none
// matches. An email may be a teammate of several workspaces; the first
// whose password matches is signed in.
func (s *Server) check(r *http.Request, email, password string) (*workspace.Admin, error) {
	admins, err := s.sessions.AdminsByEmail(r.Context(), email)
	if err != nil {
		return nil, err
	}
	if len(admins) == 0 {
		_ = bcrypt.CompareHashAndPassword(dummyHash, []byte(password))
		return nil, nil
	}
	for _, a := range admins {
		if a.PasswordHash != "" && bcrypt.CompareHashAndPassword([]byte(a.PasswordHash), []byte(password)) == nil {
			return a, nil
		}
	}
	return nil, nil
}

// signout ends the session: its row is deleted, so the cookie is worthless
// even if kept.
func (s *Server) signout(w http.ResponseWriter, r *http.Request, v *visit) error {
	if err := s.sessions.Delete(r.Context(), v.tokenHash); err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: s.opts.Secure, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, "/signin", http.StatusSeeOther)
	return nil
}

// clientIP is the peer address; forwarded headers are not trusted (a
// client could pick any value and escape the per-address limit).
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func roundUp(d time.Duration) string {
	m := int((d + time.Minute - 1) / time.Minute)
	if m <= 1 {
		return "a minute"
	}
	return fmt.Sprintf("%d minutes", m)
}

// throttle counts failed sign-ins per key (an email, an address) in a
// window that starts at the first failure; at max failures the key is
// locked until the window ends.
type throttle struct {
	mu     sync.Mutex
	max    int
	window time.Duration
	keys   map[string]*failures
}

type failures struct {
	start time.Time
	n     int
}

func newThrottle(max int, window time.Duration) *throttle {
	return &throttle{max: max, window: window, keys: map[string]*failures{}}
}

// locked returns how long the most locked of keys stays locked (0: free).
func (t *throttle) locked(now time.Time, keys ...string) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	var wait time.Duration
	for _, k := range keys {
		f := t.keys[k]
		if f == nil {
			continue
		}
		left := f.start.Add(t.window).Sub(now)
		if left <= 0 {
			delete(t.keys, k)
			continue
		}
		if f.n >= t.max && left > wait {
			wait = left
		}
	}
	return wait
}

func (t *throttle) fail(now time.Time, keys ...string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.keys) > 100000 { // bound memory under a spray of emails
		for k, f := range t.keys {
			if !now.Before(f.start.Add(t.window)) {
				delete(t.keys, k)
			}
		}
	}
	for _, k := range keys {
		f := t.keys[k]
		if f == nil || !now.Before(f.start.Add(t.window)) {
			f = &failures{start: now}
			t.keys[k] = f
		}
		f.n++
	}
}

func (t *throttle) clear(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.keys, key)
}
