package web

import (
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/parleyhq/parley/internal/ids"
)

type tokenCreated struct {
	Name, Token string
}

// createToken creates an access token of the workspace (owner and admin
// only) and shows it once: only its hash is stored.
func (a *accounts) createToken(w http.ResponseWriter, r *http.Request, v *visit) error {
	name := strings.TrimSpace(r.PostFormValue("name"))
	if name == "" || utf8.RuneCountInString(name) > 190 || !utf8.ValidString(name) {
		return pageErr(http.StatusBadRequest, "Token not created", "Give the token a name of at most 190 characters.")
	}
	token := "prl_" + ids.Secret(32)
	if _, err := a.s.ws.CreateToken(r.Context(), v.ws.ID, v.admin.ID, name, ids.HashToken(token)); err != nil {
		return err
	}
	a.s.render(w, http.StatusOK, "token_created", v.view("Access token created", "settings", tokenCreated{Name: name, Token: token}))
	return nil
}
