package query

import "fmt"

// Sortable resolves a field that results can be sorted by: any
// single-valued field of the schema (not a multi-valued field, not a
// segment reference).
func Sortable(s Schema, name string) (Field, error) {
	f, err := s.Field(name)
	if err != nil {
		return f, err
	}
	if f.Multi != nil || f.Segment {
		return Field{}, &Error{Field: name, Message: fmt.Sprintf("results cannot be sorted by %q: it may hold several values", name)}
	}
	return f, nil
}
