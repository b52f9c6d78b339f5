// Package query is Parley's filter language: Intercom's search query
// ({field, operator, value} leaves combined by nested {operator: "AND"|"OR",
// value: [...]} groups). One package parses and validates a query against a
// field Schema, compiles it to a SQL boolean expression for SQLite and
// PostgreSQL, and evaluates it in memory against a single Record. The two
// evaluators agree on every record; a differential test (see querytest)
// proves it on random data and random filters.
//
// # Semantics
//
// Operators: = != IN NIN < > <= >= ~ (contains) !~ (does not contain)
// ^ (starts with) $ (ends with). Which ones a field accepts depends on its
// Kind (see KindOps) and may be narrowed further by Field.Ops.
//
// Absent values: a record whose value is absent (NULL) never matches a
// positive operator (= IN < > <= >= ~ ^ $) and always matches a negative one
// (!= NIN !~): every negative operator is exactly NOT(its positive
// counterpart), with absent counted as "no match". `= null` matches records
// where the field is absent and `!= null` those where it is present.
//
// Strings: = != IN NIN compare bytes exactly (case-sensitive). ~ !~ ^ $ are
// case-insensitive for ASCII letters: SQL compares lower(expr) LIKE
// lower(pattern) with the LIKE metacharacters of the value escaped, and Match
// folds ASCII letters only. Folding of non-ASCII letters follows the database
// (SQLite folds ASCII only, exactly like Match; PostgreSQL folds according to
// its locale), so on non-ASCII data PostgreSQL may match more than Match.
//
// Dates: a Date field holds Unix seconds and is matched by calendar day in
// the Schema's time zone. The value t selects the day D containing t; with
// start and next the midnights opening D and D+1: `=` is start <= v < next,
// `>` is v >= next, `>=` is v >= start, `<` is v < start, `<=` is v < next.
// DateTime fields compare the raw seconds.
//
// Multi-valued fields (tag_id, company.name, …) match a positive operator
// when ANY related value matches it and a negative operator when NO related
// value matches the positive counterpart. `= null` means "has no related
// value", `!= null` "has at least one".
//
// Segment references (segment_id) match when the record matches the
// segment's stored filter (=) or does not (!=). Segment filters may not
// themselves reference segments.
//
// The SQL rendered by Filter.SQL is two-valued: it never evaluates to NULL,
// so it may be negated or selected as a boolean column and still agree with
// Match.
package query

import (
	"fmt"
	"time"
)

// Dialect selects the SQL flavour rendered by Filter.SQL.
type Dialect int

// The supported SQL dialects.
const (
	SQLite Dialect = iota
	Postgres
)

func (d Dialect) String() string {
	switch d {
	case SQLite:
		return "sqlite"
	case Postgres:
		return "postgres"
	}
	return fmt.Sprintf("Dialect(%d)", int(d))
}

// Kind is the type of a searchable field.
type Kind int

// Field kinds.
const (
	// String is a text value.
	String Kind = iota
	// Integer is a whole number (int64). On PostgreSQL its Expr must be
	// bigint.
	Integer
	// Float is a floating point number (float64). On PostgreSQL its Expr
	// should be double precision.
	Float
	// Boolean is true/false. On SQLite the Expr yields 0/1, on PostgreSQL a
	// boolean.
	Boolean
	// Date is Unix seconds matched by calendar day in the workspace time
	// zone.
	Date
	// DateTime is Unix seconds compared exactly.
	DateTime
	// ID is a string identifier; only = != IN NIN apply. Numbers given as
	// values are accepted as their decimal string.
	ID
)

func (k Kind) String() string {
	switch k {
	case String:
		return "string"
	case Integer:
		return "integer"
	case Float:
		return "float"
	case Boolean:
		return "boolean"
	case Date:
		return "date"
	case DateTime:
		return "datetime"
	case ID:
		return "id"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Field describes one searchable field, as resolved by a Schema.
type Field struct {
	// Name is the field as written in the query, e.g.
	// "custom_attributes.plan".
	Name string
	Kind Kind
	// Ops lists the allowed operators; nil means all operators valid for
	// Kind. A non-nil list can only narrow KindOps(Kind).
	Ops []string
	// Expr is, for a single-valued field, the SQL expression (indexed by
	// Dialect) yielding the value or NULL, e.g. "c.email",
	// `json_extract(c.custom_attributes,'$."plan"')` on SQLite,
	// `(c.custom_attributes->>'plan')` on PostgreSQL. For JSON-backed
	// numeric or boolean fields it must already be of the right SQL type.
	// Expressions for PostgreSQL must not use the jsonb `?` operators (use
	// jsonb_exists and friends), because Rebind turns every `?` outside
	// quotes into a placeholder.
	Expr [2]string
	// Multi, when non-nil, makes the field multi-valued (e.g. tag_id,
	// company.name): it matches a positive operator when ANY related row
	// matches, and a negative operator (!=, NIN, !~) when NO related row
	// matches the corresponding positive operator.
	Multi *Multi
	// Segment marks a segment reference (segment_id): the condition is
	// "record matches the segment's filter" (=) or not (!=). Kind, Expr and
	// Multi are ignored.
	Segment bool
}

// Multi describes the related rows of a multi-valued field, e.g.
//
//	Multi{From: "contact_tags t",
//	      Join: "t.workspace_id = c.workspace_id AND t.contact_id = c.id",
//	      Expr: [2]string{"t.tag_id", "t.tag_id"}}
type Multi struct {
	From string
	Join string
	Expr [2]string // indexed by Dialect
}

// Schema resolves the fields a query may reference.
type Schema interface {
	// Field resolves a field name; unknown fields → error. Returning an
	// *Error (e.g. UnknownField(name)) controls the message shown to the
	// user; any other error is reported as `field "x" is not a searchable
	// field` and wrapped.
	Field(name string) (Field, error)
	// Segment returns the raw stored filter JSON of a segment id (for
	// segment_id); error if unknown. An *Error is passed through; any other
	// error is reported as `segment "x" does not exist` and wrapped, so
	// callers can tell a storage failure apart with errors.Is/As.
	Segment(id string) ([]byte, error)
	// Location is the workspace time zone for Date fields.
	Location() *time.Location
}

// Record is one item evaluated in memory by Filter.Match.
type Record interface {
	// Values returns the field's value(s): for single-valued fields zero or
	// one value (extra values are ignored); for Multi fields all related
	// values. Values are string, int64, float64 or bool (other Go integer
	// and float types and json.Number are accepted too); nil elements and a
	// nil slice mean absent. A value whose type does not fit the field's
	// Kind counts as absent, like a NULL would in SQL.
	Values(field string) []any
}

// Error is a validation error of a query. Message is precise and safe to
// show to the user.
type Error struct {
	// Field is the query field the error concerns, or "" when the error is
	// about the query's structure.
	Field   string
	Message string
	// Err is the underlying error returned by the Schema, if any.
	Err error
}

func (e *Error) Error() string { return e.Message }

// Unwrap returns the Schema error behind e, if any.
func (e *Error) Unwrap() error { return e.Err }

// UnknownField is the error a Schema returns for a field it does not know.
func UnknownField(name string) *Error {
	return &Error{Field: name, Message: fmt.Sprintf("field %s is not a searchable field", quoteName(name))}
}

// Limits enforced by Parse.
const (
	MaxGroupFilters = 15    // filters in one AND/OR group
	MaxNesting      = 2     // levels of nested AND/OR groups
	MaxListValues   = 1000  // values in one IN/NIN array
	MaxStringBytes  = 1000  // bytes in one string value
	MaxTotalValues  = 10000 // bound values in a whole query, segments included
	MaxTotalFilters = 5000  // simple filters in a whole query, segments included
)

// Filter is a parsed, validated query. It is immutable and safe for
// concurrent use.
type Filter struct {
	root   *node
	fields []string
}

// Fields lists the distinct field names the filter references, in order of
// first appearance, including the fields used by referenced segments.
func (f *Filter) Fields() []string {
	return append([]string(nil), f.fields...)
}

// KindOps returns the operators valid for a kind.
func KindOps(k Kind) []string {
	switch k {
	case String:
		return []string{"=", "!=", "IN", "NIN", "~", "!~", "^", "$"}
	case Integer, Float:
		return []string{"=", "!=", "IN", "NIN", "<", ">", "<=", ">="}
	case Boolean:
		return []string{"=", "!="}
	case Date, DateTime:
		return []string{"=", "!=", "<", ">", "<=", ">="}
	case ID:
		return []string{"=", "!=", "IN", "NIN"}
	}
	return nil
}
