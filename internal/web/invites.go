package web

import (
	"errors"
	"net/http"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"

	"github.com/parleyhq/parley/internal/ids"
	"github.com/parleyhq/parley/internal/store"
	"github.com/parleyhq/parley/internal/workspace"
)

// inviteTTL is how long an invitation link works.
const inviteTTL = 7 * 24 * time.Hour

type inviteData struct {
	Name, Email, Role string
	// After sending: the link to copy when it was not emailed, and why.
	Link, Why string
}

func (a *accounts) invitePage(w http.ResponseWriter, r *http.Request, v *visit) error {
	a.s.render(w, http.StatusOK, "invite", v.view("Invite a teammate", "settings", inviteData{Role: workspace.RoleAgent}))
	return nil
}

// invite stores an invitation (owner and admin only) and emails its link,
// or shows it to copy when there is no SMTP server or sending failed.
func (a *accounts) invite(w http.ResponseWriter, r *http.Request, v *visit) error {
	d := inviteData{Name: strings.TrimSpace(r.PostFormValue("name")), Email: strings.ToLower(strings.TrimSpace(r.PostFormValue("email"))), Role: r.PostFormValue("role")}
	bad := func(msg string) error {
		vw := v.view("Invite a teammate", "settings", d)
		vw.Error = msg
		a.s.render(w, http.StatusBadRequest, "invite", vw)
		return nil
	}
	if d.Name == "" || utf8.RuneCountInString(d.Name) > 190 || !utf8.ValidString(d.Name) {
		return bad("Enter a name of at most 190 characters.")
	}
	if addr, err := mail.ParseAddress(d.Email); err != nil || addr.Address != d.Email || len(d.Email) > 320 {
		return bad("Enter a valid email address.")
	}
	if d.Role != workspace.RoleAdmin && d.Role != workspace.RoleAgent {
		return bad("Choose the role admin or agent.")
	}
	now := a.s.opts.Now()
	token := ids.Secret(32)
	err := a.store.CreateInvitation(r.Context(), &store.Invitation{TokenHash: ids.HashToken(token), WorkspaceID: v.ws.ID, Name: d.Name, Email: d.Email,
		Role: d.Role, InvitedBy: v.admin.ID, CreatedAt: now.Unix(), ExpiresAt: now.Add(inviteTTL).Unix()})
	if errors.Is(err, store.ErrAdminExists) {
		return bad("A teammate of this workspace already has this email.")
	} else if err != nil {
		return err
	}
	a.sendInvite(r, v, &d, token)
	a.s.render(w, http.StatusOK, "invite_sent", v.view("Invitation created", "settings", d))
	return nil
}

// sendInvite emails the invitation link of token, or sets d.Link and
// d.Why to show it to copy when there is no SMTP server or sending failed.
func (a *accounts) sendInvite(r *http.Request, v *visit, d *inviteData, token string) {
	link := a.link(r, "/invite/"+token)
	body := v.admin.Name + " invited you to join " + v.ws.Name + " on Parley as " + d.Role + ".\n\n" +
		"Choose your password here (the link works once, for 7 days):\n" + link + "\n"
	switch {
	case a.sender == nil:
		d.Link, d.Why = link, "No outgoing mail server is configured (PARLEY_SMTP_URL), so the invitation was not emailed. Send this link to "+d.Email+" yourself:"
	default:
		if err := a.send(r.Context(), d.Name, d.Email, "Join "+v.ws.Name+" on Parley", body); err != nil {
			d.Link, d.Why = link, "The mail server refused the invitation ("+err.Error()+"). Send this link to "+d.Email+" yourself:"
		}
	}
}

type acceptData struct {
	Token, Name, Email, Workspace string
}

// acceptInfo returns what the accept form shows for a usable invitation.
func (a *accounts) acceptInfo(r *http.Request) (acceptData, error) {
	token := r.PathValue("token")
	inv, err := a.store.Invitation(r.Context(), ids.HashToken(token), a.s.opts.Now().Unix())
	if err != nil {
		return acceptData{}, tokenErr(err, "invitation")
	}
	ws, err := a.s.ws.Workspace(r.Context(), inv.WorkspaceID)
	if err != nil {
		return acceptData{}, err
	}
	return acceptData{Token: token, Name: inv.Name, Email: inv.Email, Workspace: ws.Name}, nil
}

func (a *accounts) acceptPage(w http.ResponseWriter, r *http.Request) error {
	d, err := a.acceptInfo(r)
	if err != nil {
		return err
	}
	a.s.render(w, http.StatusOK, "accept", &view{Title: "Join " + d.Workspace, CSRF: a.formToken(w, r), Data: d})
	return nil
}

// accept sets the password and creates the teammate; the invitation is
// then used up. The new teammate signs in on the sign-in page.
func (a *accounts) accept(w http.ResponseWriter, r *http.Request) error {
	if err := a.checkForm(w, r); err != nil {
		return err
	}
	d, err := a.acceptInfo(r)
	if err != nil {
		return err
	}
	if msg := checkPassword(r.PostFormValue("password"), r.PostFormValue("confirm")); msg != "" {
		a.s.render(w, http.StatusBadRequest, "accept", &view{Title: "Join " + d.Workspace, CSRF: a.formToken(w, r), Error: msg, Data: d})
		return nil
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(r.PostFormValue("password")), bcrypt.DefaultCost)
	if err != nil {
		return err
	}
	if _, err := a.store.AcceptInvitation(r.Context(), ids.HashToken(d.Token), string(hash), a.s.opts.Now().Unix()); errors.Is(err, store.ErrAdminExists) {
		return pageErr(http.StatusConflict, "Already a teammate", "A teammate of "+d.Workspace+" already has this email. Sign in, or reset the password.")
	} else if err != nil {
		return tokenErr(err, "invitation")
	}
	a.s.render(w, http.StatusOK, "notice", &view{Title: "Welcome to " + d.Workspace, Data: "Your account is ready. Sign in with " + d.Email + " and your new password."})
	return nil
}
