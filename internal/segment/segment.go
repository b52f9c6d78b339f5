// Package segment holds segments: named, stored filters (in the filter
// language of package query) over the contacts of one person type. A
// contact is in a segment when it has the segment's role (users for
// person_type "user", leads for "contact"), is neither archived nor merged,
// and matches the filter.
package segment

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/parleyhq/parley/internal/query"
)

// Person types, as Intercom names them.
const (
	PersonUser    = "user"    // users
	PersonContact = "contact" // leads
)

// MaxNameLength bounds segment names (bytes).
const MaxNameLength = 255

// Segment is one stored filter.
type Segment struct {
	WorkspaceID string
	ID          string
	Name        string
	PersonType  string
	// Filter is the query as the client gave it (compacted JSON).
	Filter    json.RawMessage
	CreatedAt int64
	UpdatedAt int64

	// WithCount renders "count" (Count, or null when the segment's filter
	// no longer compiles, e.g. after an attribute it uses was archived).
	WithCount bool
	Count     *int
}

// MarshalJSON renders Intercom's segment object, plus Parley's "filter".
func (s *Segment) MarshalJSON() ([]byte, error) {
	type out struct {
		Type       string          `json:"type"`
		ID         string          `json:"id"`
		Name       string          `json:"name"`
		CreatedAt  int64           `json:"created_at"`
		UpdatedAt  int64           `json:"updated_at"`
		PersonType string          `json:"person_type"`
		Filter     json.RawMessage `json:"filter"`
	}
	o := out{Type: "segment", ID: s.ID, Name: s.Name, CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt, PersonType: s.PersonType, Filter: s.Filter}
	if !s.WithCount {
		return json.Marshal(o)
	}
	return json.Marshal(struct {
		out
		Count *int `json:"count"`
	}{o, s.Count})
}

// Deleted is the answer to (and event item of) a segment deletion.
func Deleted(id string) map[string]any {
	return map[string]any{"id": id, "object": "segment", "deleted": true}
}

// Role is the contact role a person type selects.
func Role(personType string) string {
	if personType == PersonContact {
		return "lead"
	}
	return "user"
}

// Effective returns the filter that defines membership of a segment: its
// stored filter restricted to the person type's role. The restriction is
// spliced in without adding a level of nesting, so that every filter valid
// in a search stays valid as a segment:
//
//   - a simple filter F becomes AND(role, F);
//   - AND(F1…Fn) becomes AND(role, F1…Fn);
//   - OR(F1…Fn) becomes OR(AND(role, F1)…AND(role, Fn)), where an AND
//     member takes the role into its own list and an OR member is first
//     flattened into its parent (both are equivalent rewrites).
//
// The only filters that cannot be restricted are those whose rewritten
// groups would exceed query.MaxGroupFilters members; Effective refuses them
// with a *query.Error. Structurally invalid filters are passed through
// wrapped in AND(role, …) so that query.Parse reports the problem.
func Effective(filter json.RawMessage, personType string) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(filter))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, &query.Error{Message: "filter is not valid JSON: " + err.Error()}
	}
	role := map[string]any{"field": "role", "operator": "=", "value": Role(personType)}
	tooMany := func(op string) error {
		return &query.Error{Message: fmt.Sprintf("a %q group of a segment's filter may hold at most %d filters: the segment adds the condition role = %q",
			op, query.MaxGroupFilters-1, Role(personType))}
	}
	// and returns AND(role, f) without nesting a group in a group.
	and := func(f any) (any, error) {
		if g, list, ok := group(f); ok && g == "AND" {
			if len(list) >= query.MaxGroupFilters {
				return nil, tooMany("AND")
			}
			return map[string]any{"operator": "AND", "value": append([]any{role}, list...)}, nil
		}
		return map[string]any{"operator": "AND", "value": []any{role, f}}, nil
	}
	var out any
	if g, list, ok := group(v); ok && g == "OR" {
		var flat []any
		for _, kid := range list {
			if kg, kl, ok := group(kid); ok && kg == "OR" {
				flat = append(flat, kl...)
			} else {
				flat = append(flat, kid)
			}
		}
		if len(flat) > query.MaxGroupFilters {
			return nil, tooMany("OR")
		}
		kids := make([]any, len(flat))
		for i, kid := range flat {
			k, err := and(kid)
			if err != nil {
				return nil, err
			}
			kids[i] = k
		}
		out = map[string]any{"operator": "OR", "value": kids}
	} else {
		var err error
		if out, err = and(v); err != nil {
			return nil, err
		}
	}
	return json.Marshal(out)
}

// group reports whether v is a well-formed AND/OR group with a non-empty
// list of members and returns its operator and members.
func group(v any) (string, []any, bool) {
	obj, ok := v.(map[string]any)
	if !ok || len(obj) != 2 {
		return "", nil, false
	}
	op, _ := obj["operator"].(string)
	list, ok := obj["value"].([]any)
	if (op != "AND" && op != "OR") || !ok || len(list) == 0 {
		return "", nil, false
	}
	return op, list, true
}

// CleanName trims a segment name and checks it: not empty, at most
// MaxNameLength bytes, no control characters. The error is a message about
// "name".
func CleanName(name string) (string, error) {
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		return "", errors.New("name must not be empty")
	case len(name) > MaxNameLength:
		return "", fmt.Errorf("name is longer than %d bytes", MaxNameLength)
	case strings.ContainsFunc(name, func(r rune) bool { return r < ' ' }):
		return "", errors.New("name must not contain control characters")
	}
	return name, nil
}

// ErrSelfReference refuses a segment filter that uses segment_id.
var ErrSelfReference = errors.New("a segment's filter cannot reference segment_id")

// CheckFilter validates a segment's filter with parse (query.Parse against
// the workspace's schema): as given, for precise messages; without
// segment_id (ErrSelfReference); and as the membership filter of the
// person type (Effective).
func CheckFilter(filter json.RawMessage, personType string, parse func([]byte) (*query.Filter, error)) error {
	f, err := parse(filter)
	if err != nil {
		return err
	}
	if slices.Contains(f.Fields(), "segment_id") {
		return ErrSelfReference
	}
	eff, err := Effective(filter, personType)
	if err != nil {
		return err
	}
	_, err = parse(eff)
	return err
}
