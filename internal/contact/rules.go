package contact

import (
	"encoding/json"
	"fmt"
	"net/mail"
	"strings"

	"github.com/parleyhq/parley/internal/attribute"
)

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

// Changes are the changes a write asks for (the REST API's create and
// update bodies, the web app's contact form). A nil field is left as it
// is; a string that is empty once trimmed, or a JSON null, clears it.
type Changes struct {
	Role                                                     *string
	ExternalID, Email, Phone, Name, Avatar, LanguageOverride *string
	SignedUpAt, LastSeenAt                                   json.RawMessage
	// OwnerID is resolved by Owner (the caller knows the teammates).
	OwnerID                json.RawMessage
	UnsubscribedFromEmails *bool
	CustomAttributes       map[string]json.RawMessage
}

func invalid(field, format string, args ...any) error {
	return &attribute.ValidationError{Field: field, Code: "parameter_invalid", Message: fmt.Sprintf(format, args...)}
}

// Apply validates ch and applies it to c, with the rules of every contact
// write: roles user or lead and never user → lead, trimmed strings within
// MaxLen without NUL, a valid email, timestamps as attribute.ParseTime
// takes them, custom attributes validated by defs, and a user keeps an
// email or an external_id. owner resolves a non-null OwnerID (nil: owner_id
// is refused). Errors are *attribute.ValidationError naming the field.
func (c *Contact) Apply(ch *Changes, defs attribute.Defs, owner func(raw json.RawMessage) (int64, error)) error {
	if ch.Role != nil {
		if !ValidRole(*ch.Role) {
			return invalid("role", "role must be user or lead")
		}
		if c.Role == RoleUser && *ch.Role == RoleLead {
			return invalid("role", "a user cannot be turned back into a lead")
		}
		c.Role = *ch.Role
	}
	if c.Role == "" {
		c.Role = RoleUser
	}
	for _, f := range []struct {
		name string
		in   *string
		dst  **string
	}{{"external_id", ch.ExternalID, &c.ExternalID}, {"email", ch.Email, &c.Email}} {
		if err := setString(f.name, f.in, f.dst); err != nil {
			return err
		}
	}
	if c.Email != nil && !ValidEmail(*c.Email) {
		return invalid("email", "email %q is not a valid email address", *c.Email)
	}
	for _, f := range []struct {
		name string
		in   *string
		dst  **string
	}{{"phone", ch.Phone, &c.Phone}, {"name", ch.Name, &c.Name}, {"avatar", ch.Avatar, &c.Avatar}, {"language_override", ch.LanguageOverride, &c.LanguageOverride}} {
		if err := setString(f.name, f.in, f.dst); err != nil {
			return err
		}
	}
	if err := setTime("signed_up_at", ch.SignedUpAt, &c.SignedUpAt); err != nil {
		return err
	}
	if err := setTime("last_seen_at", ch.LastSeenAt, &c.LastSeenAt); err != nil {
		return err
	}
	if ch.OwnerID != nil {
		if string(ch.OwnerID) == "null" {
			c.OwnerID = nil
		} else {
			if owner == nil {
				return invalid("owner_id", "owner_id cannot be set here")
			}
			id, err := owner(ch.OwnerID)
			if err != nil {
				return err
			}
			c.OwnerID = &id
		}
	}
	if ch.UnsubscribedFromEmails != nil {
		c.UnsubscribedFromEmails = *ch.UnsubscribedFromEmails
	}
	if ch.CustomAttributes != nil {
		vals, err := defs.Validate(ch.CustomAttributes)
		if err != nil {
			return err
		}
		if c.CustomAttributes == nil {
			c.CustomAttributes = map[string]any{}
		}
		for k, v := range vals {
			if v == nil {
				delete(c.CustomAttributes, k)
			} else {
				c.CustomAttributes[k] = v
			}
		}
	}
	if c.Role == RoleUser && c.Email == nil && c.ExternalID == nil {
		return invalid("", "A user needs an email or an external_id")
	}
	return nil
}

func setString(name string, in *string, dst **string) error {
	if in == nil {
		return nil
	}
	v := strings.TrimSpace(*in)
	if len(v) > MaxLen[name] {
		return invalid(name, "%s is longer than %d bytes", name, MaxLen[name])
	}
	if strings.ContainsRune(v, 0) {
		return invalid(name, "%s contains a NUL character", name)
	}
	if v == "" {
		*dst = nil
		return nil
	}
	*dst = &v
	return nil
}

func setTime(name string, raw json.RawMessage, dst **int64) error {
	if raw == nil {
		return nil
	}
	if string(raw) == "null" {
		*dst = nil
		return nil
	}
	t, err := attribute.ParseTime(raw)
	if err != nil {
		return invalid(name, "%s %s", name, err.Error())
	}
	*dst = &t
	return nil
}
