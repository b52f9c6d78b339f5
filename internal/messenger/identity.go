package messenger

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// UserHash is Intercom's legacy identity signature: hex HMAC-SHA256 of the
// user_id (or of the email when there is no user_id) keyed by the
// workspace's identity-verification secret.
func UserHash(secret, identity string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(identity))
	return hex.EncodeToString(m.Sum(nil))
}

// CheckUserHash reports whether hash signs identity (constant time).
func CheckUserHash(secret, identity, hash string) bool {
	want := UserHash(secret, identity)
	return hmac.Equal([]byte(want), []byte(strings.ToLower(strings.TrimSpace(hash))))
}

// Identity is who a verified intercom_user_jwt names.
type Identity struct {
	UserID string
	Email  string
}

type userClaims struct {
	UserID string `json:"user_id"`
	Email  string `json:"email,omitempty"`
	jwt.RegisteredClaims
}

// ErrJWT is a JWT that is malformed, wrongly signed, expired or names no
// user_id.
var ErrJWT = errors.New("intercom_user_jwt is not valid")

// VerifyJWT checks an HS256 intercom_user_jwt signed with secret (exp is
// checked when present) and returns its identity.
func VerifyJWT(secret, token string, now time.Time) (Identity, error) {
	var claims userClaims
	_, err := jwt.ParseWithClaims(token, &claims, func(*jwt.Token) (any, error) { return []byte(secret), nil },
		jwt.WithValidMethods([]string{"HS256"}), jwt.WithTimeFunc(func() time.Time { return now }))
	if err != nil || strings.TrimSpace(claims.UserID) == "" {
		return Identity{}, ErrJWT
	}
	return Identity{UserID: claims.UserID, Email: claims.Email}, nil
}
