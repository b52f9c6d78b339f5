package contact

import "net/mail"

// MaxLen is the longest value, in bytes, accepted for each built-in string
// field of a contact, wherever it is written from (API, CSV import).
var MaxLen = map[string]int{
	"external_id": 255, "email": 255, "phone": 64, "name": 255, "avatar": 2048,
	"language_override": 16, "location.country": 255, "location.region": 255, "location.city": 255,
}

// ValidEmail reports whether s is exactly one plain email address.
func ValidEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	return err == nil && a.Address == s
}

// ValidRole reports whether r is a contact role.
func ValidRole(r string) bool { return r == RoleUser || r == RoleLead }
