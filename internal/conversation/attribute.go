package conversation

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"

	"github.com/parleyhq/parley/internal/query"
)

// Conversation attribute data types (Intercom 2.16). Intercom's
// relationship and files types are not supported.
const (
	AttrString   = "string"
	AttrInteger  = "integer"
	AttrDecimal  = "decimal"
	AttrBoolean  = "boolean"
	AttrDatetime = "datetime"
	AttrList     = "list"
)

// AttrTypes lists the supported data types.
var AttrTypes = []string{AttrString, AttrInteger, AttrList, AttrDecimal, AttrBoolean, AttrDatetime}

// AttrOption is one choice of a list attribute.
type AttrOption struct {
	ID       string `json:"id"`
	Label    string `json:"label"`
	Archived bool   `json:"archived"`
}

// Attribute defines a custom attribute of conversations: the values
// custom_attributes.<name> may hold.
type Attribute struct {
	WorkspaceID      string
	ID               int64
	Name             string
	Description      string
	DataType         string
	Required         bool
	Multiline        bool
	Archived         bool
	VisibleToTeamIDs []string
	Options          []AttrOption
	AdminID          int64
	CreatedAt        int64
	UpdatedAt        int64
}

// MarshalJSON renders Intercom's conversation_attribute object (2.16).
func (a *Attribute) MarshalJSON() ([]byte, error) {
	out := map[string]any{
		"type": "conversation_attribute", "id": a.ID, "name": a.Name, "description": a.Description,
		"data_type": a.DataType, "required": a.Required, "archived": a.Archived,
		"visible_to_team_ids": nonNil(a.VisibleToTeamIDs), "created_at": a.CreatedAt, "updated_at": a.UpdatedAt,
	}
	if a.AdminID != 0 {
		out["admin_id"] = strconv.FormatInt(a.AdminID, 10)
	}
	switch a.DataType {
	case AttrString:
		out["multiline"] = a.Multiline
	case AttrList:
		opts := a.Options
		if opts == nil {
			opts = []AttrOption{}
		}
		out["options"] = opts
	}
	return json.Marshal(out)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// Kind is the filter-language kind of the attribute's values.
func (a *Attribute) Kind() query.Kind {
	switch a.DataType {
	case AttrInteger:
		return query.Integer
	case AttrDecimal:
		return query.Float
	case AttrBoolean:
		return query.Boolean
	case AttrDatetime:
		return query.DateTime
	}
	return query.String
}

var attrNameRe = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_ \-]{0,189}$`)

// ValidAttrName reports whether name can name a conversation attribute:
// letters, digits, spaces, '-' and '_' (so that it is safe in a JSON path
// and a SQL literal), at most 190 bytes.
func ValidAttrName(name string) bool { return attrNameRe.MatchString(name) }

// MaxAttrString is the longest string value, in bytes.
const MaxAttrString = 65535

// Check validates a value (decoded JSON: string, int64, float64,
// json.Number or bool) for the attribute and returns it as stored: a
// string, an int64 (integers, datetimes as Unix seconds), a float64 or a
// bool. A list value is the label of one of its live options.
func (a *Attribute) Check(v any) (any, error) {
	if n, ok := v.(json.Number); ok {
		if i, err := n.Int64(); err == nil {
			v = i
		} else if f, err := n.Float64(); err == nil {
			v = f
		}
	}
	bad := func(want string) error {
		return fmt.Errorf("custom_attributes.%s must be %s", a.Name, want)
	}
	switch a.DataType {
	case AttrString:
		s, ok := v.(string)
		if !ok || len(s) > MaxAttrString {
			return nil, bad(fmt.Sprintf("a string of at most %d bytes", MaxAttrString))
		}
		return s, nil
	case AttrList:
		s, ok := v.(string)
		if !ok || !slices.ContainsFunc(a.Options, func(o AttrOption) bool { return !o.Archived && o.Label == s }) {
			return nil, bad("one of the attribute's options")
		}
		return s, nil
	case AttrInteger, AttrDatetime:
		switch x := v.(type) {
		case int64:
			if a.DataType == AttrDatetime && x < 0 {
				return nil, bad("a Unix timestamp in seconds")
			}
			return x, nil
		case float64:
			if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
				return int64(x), nil
			}
		}
		if a.DataType == AttrDatetime {
			return nil, bad("a Unix timestamp in seconds")
		}
		return nil, bad("an integer")
	case AttrDecimal:
		switch x := v.(type) {
		case int64:
			return float64(x), nil
		case float64:
			if !math.IsInf(x, 0) && !math.IsNaN(x) {
				return x, nil
			}
		}
		return nil, bad("a number")
	case AttrBoolean:
		if b, ok := v.(bool); ok {
			return b, nil
		}
		return nil, bad("true or false")
	}
	return nil, bad("a supported value")
}
