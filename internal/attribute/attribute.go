// Package attribute defines data attributes: the built-in attributes of
// contacts and companies, and typed custom attributes that a workspace
// creates, archives and writes through the API.
package attribute

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Models.
const (
	ModelContact = "contact"
	ModelCompany = "company"
)

// Data types as Intercom shows them. Options lists are strings with options;
// "datetime" is accepted on create and stored as "date" (both are Unix
// seconds).
const (
	TypeString  = "string"
	TypeInteger = "integer"
	TypeFloat   = "float"
	TypeBoolean = "boolean"
	TypeDate    = "date"
)

// Attribute is one data attribute definition. JSON follows Intercom's
// data_attribute object.
type Attribute struct {
	WorkspaceID       string   `json:"-"`
	ID                int64    `json:"-"`
	Model             string   `json:"model"`
	Name              string   `json:"name"`
	FullName          string   `json:"full_name"`
	Label             string   `json:"label"`
	Description       string   `json:"description"`
	DataType          string   `json:"data_type"`
	Options           []string `json:"options,omitempty"`
	APIWritable       bool     `json:"api_writable"`
	MessengerWritable bool     `json:"messenger_writable"`
	UIWritable        bool     `json:"ui_writable"`
	Custom            bool     `json:"custom"`
	Archived          bool     `json:"archived"`
	AdminID           int64    `json:"-"`
	CreatedAt         int64    `json:"-"`
	UpdatedAt         int64    `json:"-"`
}

// MarshalJSON renders the Intercom shape: id, timestamps and admin_id only
// for custom attributes.
func (a *Attribute) MarshalJSON() ([]byte, error) {
	type plain Attribute
	out := struct {
		Type string `json:"type"`
		ID   *int64 `json:"id,omitempty"`
		*plain
		CreatedAt *int64  `json:"created_at,omitempty"`
		UpdatedAt *int64  `json:"updated_at,omitempty"`
		AdminID   *string `json:"admin_id,omitempty"`
	}{Type: "data_attribute", plain: (*plain)(a)}
	if a.Custom {
		out.ID, out.CreatedAt, out.UpdatedAt = &a.ID, &a.CreatedAt, &a.UpdatedAt
		if a.AdminID != 0 {
			s := strconv.FormatInt(a.AdminID, 10)
			out.AdminID = &s
		}
	}
	return json.Marshal(out)
}

// Store persists custom attribute definitions.
type Store interface {
	// Custom lists a workspace's custom attributes of a model ("" for all).
	Custom(ctx context.Context, workspaceID, model string, includeArchived bool) ([]*Attribute, error)
	Get(ctx context.Context, workspaceID string, id int64) (*Attribute, error)
	Create(ctx context.Context, a *Attribute) error
	Update(ctx context.Context, a *Attribute) error
}

// ValidationError is a user-facing validation failure.
type ValidationError struct {
	Field   string
	Message string
	Code    string // Intercom error code, e.g. parameter_invalid
}

func (e *ValidationError) Error() string { return e.Message }

func invalid(field, format string, args ...any) *ValidationError {
	return &ValidationError{Field: field, Message: fmt.Sprintf(format, args...), Code: "parameter_invalid"}
}

var nameRe = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_ \-]{0,189}$`)

// NormalizeType maps a requested data_type to the stored one.
func NormalizeType(t string, hasOptions bool) (string, error) {
	switch t {
	case TypeString, TypeInteger, TypeFloat, TypeBoolean, TypeDate:
		return t, nil
	case "datetime":
		return TypeDate, nil
	case "options":
		return TypeString, nil
	}
	return "", fmt.Errorf("data_type must be one of string, integer, float, boolean, date, datetime, options")
}

// ValidateDefinition checks a new custom attribute definition.
func ValidateDefinition(a *Attribute) error {
	if a.Model != ModelContact && a.Model != ModelCompany {
		return invalid("model", "model must be contact or company")
	}
	if !nameRe.MatchString(a.Name) || strings.Contains(a.Name, ".") {
		return invalid("name", "name must be 1 to 190 letters, digits, spaces, '-' or '_' and may not contain '.' or '$'")
	}
	if IsBuiltin(a.Model, a.Name) {
		return &ValidationError{Field: "name", Message: fmt.Sprintf("%q is a standard attribute", a.Name), Code: "parameter_invalid"}
	}
	if len(a.Description) > 1000 {
		return invalid("description", "description is longer than 1000 characters")
	}
	if a.Options != nil {
		if a.DataType != TypeString {
			return invalid("options", "options are only allowed for options (list) attributes")
		}
		if len(a.Options) < 2 {
			return invalid("options", "an options attribute needs at least two options")
		}
		seen := map[string]bool{}
		for _, o := range a.Options {
			if o == "" || len(o) > 255 || seen[o] {
				return invalid("options", "options must be distinct, non-empty strings of at most 255 characters")
			}
			seen[o] = true
		}
	}
	return nil
}

// Defs indexes a workspace's custom attribute definitions of one model by
// name (archived ones included, so writes to them can be refused clearly).
type Defs map[string]*Attribute

// Index builds Defs from a list.
func Index(list []*Attribute) Defs {
	d := make(Defs, len(list))
	for _, a := range list {
		d[a.Name] = a
	}
	return d
}

// MaxStringValue is the longest custom attribute string value accepted.
const MaxStringValue = 255 * 4

// Validate checks raw JSON custom attribute values against the definitions
// and returns the typed values (string, int64, float64, bool; dates as Unix
// seconds int64). A nil value in the result means "remove the attribute".
func (d Defs) Validate(raw map[string]json.RawMessage) (map[string]any, error) {
	out := make(map[string]any, len(raw))
	for name, v := range raw {
		field := "custom_attributes." + name
		def, ok := d[name]
		if !ok {
			return nil, &ValidationError{Field: field, Code: "parameter_not_found",
				Message: fmt.Sprintf("Custom attribute '%s' does not exist", name)}
		}
		if def.Archived {
			return nil, invalid(field, "Custom attribute '%s' is archived and cannot be written", name)
		}
		val, err := def.Coerce(v)
		if err != nil {
			return nil, invalid(field, "Custom attribute '%s' %s", name, err.Error())
		}
		out[name] = val
	}
	return out, nil
}

// Coerce converts one raw JSON value to the attribute's type.
func (a *Attribute) Coerce(v json.RawMessage) (any, error) {
	v = bytes.TrimSpace(v)
	if len(v) == 0 || string(v) == "null" {
		return nil, nil
	}
	switch a.DataType {
	case TypeString:
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return nil, fmt.Errorf("must be a string")
		}
		if !utf8.ValidString(s) || len(s) > MaxStringValue {
			return nil, fmt.Errorf("must be valid UTF-8 of at most %d bytes", MaxStringValue)
		}
		if len(a.Options) > 0 {
			for _, o := range a.Options {
				if o == s {
					return s, nil
				}
			}
			return nil, fmt.Errorf("must be one of %s", strings.Join(a.Options, ", "))
		}
		return s, nil
	case TypeInteger:
		n, err := jsonNumber(v)
		if err != nil {
			return nil, fmt.Errorf("must be an integer")
		}
		i, err := n.Int64()
		if err != nil {
			return nil, fmt.Errorf("must be an integer in the 64-bit range")
		}
		return i, nil
	case TypeFloat:
		n, err := jsonNumber(v)
		if err != nil {
			return nil, fmt.Errorf("must be a number")
		}
		f, err := n.Float64()
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return nil, fmt.Errorf("must be a finite number")
		}
		return f, nil
	case TypeBoolean:
		var b bool
		if err := json.Unmarshal(v, &b); err != nil {
			return nil, fmt.Errorf("must be true or false")
		}
		return b, nil
	case TypeDate:
		return ParseTime(v)
	}
	return nil, fmt.Errorf("has an unknown data type")
}

func jsonNumber(v json.RawMessage) (json.Number, error) {
	if len(v) == 0 || !(v[0] == '-' || (v[0] >= '0' && v[0] <= '9')) {
		return "", fmt.Errorf("not a number")
	}
	var n json.Number
	if err := json.Unmarshal(v, &n); err != nil {
		return "", err
	}
	return n, nil
}

// ParseTime accepts a Unix timestamp (integer, or a string of digits) or an
// RFC 3339 / ISO 8601 date string and returns Unix seconds.
func ParseTime(v json.RawMessage) (int64, error) {
	if n, err := jsonNumber(v); err == nil {
		if i, err := n.Int64(); err == nil && i >= -62135596800 && i <= 253402300799 {
			return i, nil
		}
		if f, err := n.Float64(); err == nil && f == math.Trunc(f) && f >= -62135596800 && f <= 253402300799 {
			return int64(f), nil
		}
		return 0, fmt.Errorf("must be a Unix timestamp in seconds")
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return 0, fmt.Errorf("must be a Unix timestamp or an ISO 8601 date")
	}
	if i, err := strconv.ParseInt(s, 10, 64); err == nil && i >= -62135596800 && i <= 253402300799 {
		return i, nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.Unix(), nil
		}
	}
	return 0, fmt.Errorf("must be a Unix timestamp or an ISO 8601 date")
}
