package web

import (
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/parleyhq/parley/internal/ids"
)

// resetTTL is how long a password reset link works.
const resetTTL = time.Hour

const resetSent = "If a teammate has this email, a link to choose a new password is on its way. It works once, for an hour."

func (a *accounts) resetRequestPage(w http.ResponseWriter, r *http.Request) error {
	a.s.render(w, http.StatusOK, "reset_request", &view{Title: "Reset your password", CSRF: a.formToken(w, r)})
	return nil
}

// resetRequest emails a reset link to every teammate with the email. The
// answer is the same whether or not one exists; requests are throttled per
// email and per address.
func (a *accounts) resetRequest(w http.ResponseWriter, r *http.Request) error {
	if err := a.checkForm(w, r); err != nil {
		return err
	}
	addr := strings.ToLower(strings.TrimSpace(r.PostFormValue("email")))
	if addr == "" || len(addr) > 320 {
		vw := &view{Title: "Reset your password", CSRF: a.formToken(w, r), Error: "Enter your email."}
		a.s.render(w, http.StatusBadRequest, "reset_request", vw)
		return nil
	}
	now := a.s.opts.Now()
	if wait := a.throttle.locked(now, "email:"+addr, "ip:"+clientIP(r)); wait > 0 {
		vw := &view{Title: "Reset your password", CSRF: a.formToken(w, r),
			Error: fmt.Sprintf("Too many reset requests for this email or from this network. Try again in %s.", roundUp(wait))}
		a.s.render(w, http.StatusTooManyRequests, "reset_request", vw)
		return nil
	}
	a.throttle.fail(now, "email:"+addr, "ip:"+clientIP(r))
	admins, err := a.s.sessions.AdminsByEmail(r.Context(), addr)
	if err != nil {
		return err
	}
	for _, ad := range admins {
		ws, err := a.s.ws.Workspace(r.Context(), ad.WorkspaceID)
		if err != nil {
			return err
		}
		token := ids.Secret(32)
		if err := a.store.CreateReset(r.Context(), ad.WorkspaceID, ad.ID, ids.HashToken(token), now.Unix(), now.Add(resetTTL).Unix()); err != nil {
			return err
		}
		body := "Someone asked to reset your Parley password for " + ws.Name + ".\n\n" +
			"Choose a new password here (the link works once, for an hour):\n" + a.link(r, "/reset/"+token) + "\n\n" +
			"If it was not you, ignore this email: your password stays as it is.\n"
		if err := a.send(r.Context(), ad.Name, ad.Email, "Reset your Parley password", body); err != nil {
			// Not shown: the answer must not tell whether the email exists.
			slog.Error("web: password reset email not sent", "workspace", ad.WorkspaceID, "admin", ad.ID, "err", err)
		}
	}
	a.s.render(w, http.StatusOK, "notice", &view{Title: "Check your email", Data: resetSent})
	return nil
}

type resetData struct {
	Token, Email string
}

func (a *accounts) resetInfo(r *http.Request) (resetData, error) {
	token := r.PathValue("token")
	ad, err := a.store.ResetAdmin(r.Context(), ids.HashToken(token), a.s.opts.Now().Unix())
	if err != nil {
		return resetData{}, tokenErr(err, "password reset")
	}
	return resetData{Token: token, Email: ad.Email}, nil
}

func (a *accounts) resetPage(w http.ResponseWriter, r *http.Request) error {
	d, err := a.resetInfo(r)
	if err != nil {
		return err
	}
	a.s.render(w, http.StatusOK, "reset", &view{Title: "Choose a new password", CSRF: a.formToken(w, r), Data: d})
	return nil
}

// reset sets the new password, uses up the teammate's reset links and
// signs out every session of the teammate.
func (a *accounts) reset(w http.ResponseWriter, r *http.Request) error {
	if err := a.checkForm(w, r); err != nil {
		return err
	}
	d, err := a.resetInfo(r)
	if err != nil {
		return err
	}
	if msg := checkPassword(r.PostFormValue("password"), r.PostFormValue("confirm")); msg != "" {
		a.s.render(w, http.StatusBadRequest, "reset", &view{Title: "Choose a new password", CSRF: a.formToken(w, r), Error: msg, Data: d})
		return nil
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(r.PostFormValue("password")), bcrypt.DefaultCost)
	if err != nil {
		return err
	}
	if _, err := a.store.ResetPassword(r.Context(), ids.HashToken(d.Token), string(hash), a.s.opts.Now().Unix()); err != nil {
		return tokenErr(err, "password reset")
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: a.s.opts.Secure, SameSite: http.SameSiteLaxMode})
	a.s.render(w, http.StatusOK, "notice", &view{Title: "Password changed", Data: "Your password is changed and every session of yours is signed out. Sign in with the new password."})
	return nil
}
