package query

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// cmpOp is the positive comparison of a simple filter. Negative operators
// (!=, NIN, !~, and != on a Date) are represented as the positive
// comparison with node.neg set.
type cmpOp int

const (
	opExists   cmpOp = iota // value is present (!= null; = null is its negation)
	opEq                    // v = a
	opIn                    // v IN (a…)
	opLt                    // v < a
	opLe                    // v <= a
	opGt                    // v > a
	opGe                    // v >= a
	opBetween               // a <= v < b (a calendar day)
	opContains              // v contains a, ASCII case-insensitively
	opPrefix                // v starts with a, ASCII case-insensitively
	opSuffix                // v ends with a, ASCII case-insensitively
)

// node is one element of a parsed filter: a group (group != ""), a segment
// reference (seg != nil) or a simple filter on a field.
type node struct {
	group string // "AND" or "OR"
	kids  []*node

	seg *node // root of the referenced segment's filter

	name  string    // field name as written in the query
	kind  Kind      // field kind
	expr  [2]string // single-valued field expression, by dialect
	multi *Multi    // related rows of a multi-valued field
	cmp   cmpOp
	vals  []value // operands; strings of LIKE operators are kept raw
	pat   string  // LIKE operators: the operand with ASCII letters lowered

	neg bool // negated comparison or segment reference
}

// value is one operand, or one normalized record value.
type value struct {
	s string // String, ID, and LIKE operands
	n num    // Integer, Float, Date, DateTime
	b bool   // Boolean
}

// num is an exact number: an int64 or a (finite) float64.
type num struct {
	isInt bool
	i     int64
	f     float64
}

// Unix seconds accepted for Date and DateTime values: 0001-01-01 to
// 9999-12-31 UTC.
const (
	minUnix = -62135596800
	maxUnix = 253402300799
)

// maxNameBytes bounds field names echoed in error messages.
const maxNameBytes = 200

var operators = []string{"=", "!=", "IN", "NIN", "<", ">", "<=", ">=", "~", "!~", "^", "$"}

// Parse reads a query JSON value (the `query` member of a search body) and
// validates it fully against the schema, loading referenced segments. Errors
// are *Error. Parse never panics.
func Parse(raw []byte, s Schema) (*Filter, error) {
	if s == nil {
		return nil, &Error{Message: "query: no schema"}
	}
	v, err := decodeJSON(raw)
	if err != nil {
		return nil, err
	}
	loc := s.Location()
	if loc == nil {
		loc = time.UTC
	}
	p := &parser{schema: s, loc: loc, segs: map[string]*segment{}}
	root, err := p.filter(v, 0)
	if err != nil {
		return nil, err
	}
	return &Filter{root: root, fields: p.fields}, nil
}

// decodeJSON decodes exactly one JSON value, numbers as json.Number.
func decodeJSON(raw []byte) (any, error) {
	if !utf8.Valid(raw) {
		return nil, &Error{Message: "query is not valid UTF-8"}
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &Error{Message: "query is empty"}
		}
		var syn *json.SyntaxError
		if errors.As(err, &syn) {
			return nil, &Error{Message: fmt.Sprintf("query is not valid JSON: %s (at byte %d)", syn.Error(), syn.Offset)}
		}
		return nil, &Error{Message: "query is not valid JSON: " + err.Error()}
	}
	if rest := raw[dec.InputOffset():]; len(bytes.TrimLeft(rest, " \t\r\n")) > 0 {
		return nil, &Error{Message: fmt.Sprintf("query is not valid JSON: unexpected data after the query (at byte %d)", dec.InputOffset())}
	}
	return v, nil
}

type parser struct {
	schema    Schema
	loc       *time.Location
	inSegment bool                // parsing a segment's stored filter
	segs      map[string]*segment // segments parsed so far, by id
	fields    []string
	filters   int // simple filters, segments expanded
	values    int // bound values, segments expanded
}

// segment is a parsed segment filter, cached for repeated references.
type segment struct {
	root    *node
	fields  []string
	filters int
	values  int
}

func (p *parser) addField(name string) {
	if !slices.Contains(p.fields, name) {
		p.fields = append(p.fields, name)
	}
}

// filter parses a filter object; depth is the number of enclosing groups.
func (p *parser) filter(v any, depth int) (*node, error) {
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, &Error{Message: fmt.Sprintf("a filter must be a JSON object, not %s", jsonType(v))}
	}
	opv, ok := obj["operator"]
	if !ok {
		if f, ok := obj["field"].(string); ok && len(f) <= maxNameBytes {
			return nil, &Error{Field: f, Message: fmt.Sprintf("filter on %q is missing \"operator\"", f)}
		}
		return nil, &Error{Message: `filter is missing "operator"`}
	}
	op, ok := opv.(string)
	if !ok {
		return nil, &Error{Message: fmt.Sprintf(`"operator" must be a string, not %s`, jsonType(opv))}
	}
	if op == "AND" || op == "OR" {
		return p.group(obj, op, depth)
	}
	return p.simple(obj, op)
}

func (p *parser) group(obj map[string]any, op string, depth int) (*node, error) {
	if _, ok := obj["field"]; ok {
		return nil, &Error{Message: fmt.Sprintf(`%q group takes no "field"`, op)}
	}
	if k := unknownKey(obj, "operator", "value"); k != "" {
		return nil, &Error{Message: fmt.Sprintf("unknown key %s in %q group", quoteName(k), op)}
	}
	if depth >= MaxNesting {
		return nil, &Error{Message: fmt.Sprintf("nesting deeper than %d levels", MaxNesting)}
	}
	v, ok := obj["value"]
	if !ok {
		return nil, &Error{Message: fmt.Sprintf(`%q group is missing "value"`, op)}
	}
	list, ok := v.([]any)
	if !ok {
		return nil, &Error{Message: fmt.Sprintf("value of %q must be an array of filters, not %s", op, jsonType(v))}
	}
	if len(list) == 0 {
		return nil, &Error{Message: fmt.Sprintf("%q group must contain at least one filter", op)}
	}
	if len(list) > MaxGroupFilters {
		return nil, &Error{Message: fmt.Sprintf("more than %d filters in one group", MaxGroupFilters)}
	}
	n := &node{group: op, kids: make([]*node, 0, len(list))}
	for _, item := range list {
		kid, err := p.filter(item, depth+1)
		if err != nil {
			return nil, err
		}
		n.kids = append(n.kids, kid)
	}
	return n, nil
}

func (p *parser) simple(obj map[string]any, op string) (*node, error) {
	fv, ok := obj["field"]
	name, isString := fv.(string)
	if !slices.Contains(operators, op) {
		if !isString || len(name) > maxNameBytes {
			name = ""
		}
		return nil, &Error{Field: name, Message: fmt.Sprintf("unknown operator %s", quoteName(op))}
	}
	if !ok {
		return nil, &Error{Message: `filter is missing "field"`}
	}
	if !isString {
		return nil, &Error{Message: fmt.Sprintf(`"field" must be a string, not %s`, jsonType(fv))}
	}
	if name == "" {
		return nil, &Error{Message: `"field" must not be empty`}
	}
	if len(name) > maxNameBytes {
		return nil, &Error{Message: fmt.Sprintf(`"field" is longer than %d bytes`, maxNameBytes)}
	}
	if k := unknownKey(obj, "field", "operator", "value"); k != "" {
		return nil, &Error{Field: name, Message: fmt.Sprintf("unknown key %s in filter on %q", quoteName(k), name)}
	}
	fld, err := p.schema.Field(name)
	if err != nil {
		var qe *Error
		if errors.As(err, &qe) {
			return nil, qe
		}
		e := UnknownField(name)
		e.Err = err
		return nil, e
	}
	if err := checkField(name, fld); err != nil {
		return nil, err
	}
	if fld.Segment && p.inSegment {
		return nil, &Error{Field: name, Message: fmt.Sprintf("a segment's filter cannot reference %q", name)}
	}
	if !opAllowed(fld, op) {
		kind := fld.Kind.String()
		if fld.Segment {
			kind = "segment"
		}
		return nil, &Error{Field: name, Message: fmt.Sprintf("operator %q is not allowed on %s field %q", op, kind, name)}
	}
	v, ok := obj["value"]
	if !ok {
		return nil, &Error{Field: name, Message: fmt.Sprintf(`filter on %q is missing "value"`, name)}
	}
	p.addField(name)
	p.filters++
	if p.filters > MaxTotalFilters {
		return nil, &Error{Field: name, Message: fmt.Sprintf("query has more than %d filters", MaxTotalFilters)}
	}
	if fld.Segment {
		return p.segmentRef(name, op, v)
	}

	n := &node{name: name, kind: fld.Kind, expr: fld.Expr}
	if fld.Multi != nil {
		m := *fld.Multi
		n.multi = &m
	}
	if v == nil {
		switch op {
		case "=":
			n.cmp, n.neg = opExists, true
		case "!=":
			n.cmp = opExists
		default:
			return nil, &Error{Field: name, Message: fmt.Sprintf("value for %q must not be null with operator %q", name, op)}
		}
		return n, nil
	}

	switch op {
	case "IN", "NIN":
		list, ok := v.([]any)
		if !ok {
			return nil, &Error{Field: name, Message: fmt.Sprintf("value for %q with operator %q must be an array, not %s", name, op, jsonType(v))}
		}
		if len(list) == 0 {
			return nil, &Error{Field: name, Message: fmt.Sprintf("value for %q with operator %q must be a non-empty array", name, op)}
		}
		if len(list) > MaxListValues {
			return nil, &Error{Field: name, Message: fmt.Sprintf("more than %d values for %q", MaxListValues, name)}
		}
		n.cmp, n.neg = opIn, op == "NIN"
		n.vals = make([]value, 0, len(list))
		for i, item := range list {
			val, err := p.scalar(name, fld.Kind, fmt.Sprintf("value[%d]", i), item)
			if err != nil {
				return nil, err
			}
			n.vals = append(n.vals, val)
		}
	default:
		val, err := p.scalar(name, fld.Kind, "value", v)
		if err != nil {
			return nil, err
		}
		n.vals = []value{val}
		switch op {
		case "=":
			n.cmp = opEq
		case "!=":
			n.cmp, n.neg = opEq, true
		case "<":
			n.cmp = opLt
		case "<=":
			n.cmp = opLe
		case ">":
			n.cmp = opGt
		case ">=":
			n.cmp = opGe
		case "~":
			n.cmp = opContains
		case "!~":
			n.cmp, n.neg = opContains, true
		case "^":
			n.cmp = opPrefix
		case "$":
			n.cmp = opSuffix
		}
		switch n.cmp {
		case opContains, opPrefix, opSuffix:
			n.pat = asciiLower(val.s)
		}
		if fld.Kind == Date {
			p.dateDay(n)
		}
	}
	p.values += len(n.vals)
	if p.values > MaxTotalValues {
		return nil, &Error{Field: name, Message: fmt.Sprintf("query has more than %d values", MaxTotalValues)}
	}
	return n, nil
}

// dateDay rewrites a comparison on a Date field into a comparison of raw
// seconds against the bounds of the calendar day containing the value.
func (p *parser) dateDay(n *node) {
	start, next := dayBounds(n.vals[0].n.i, p.loc)
	lo, hi := value{n: num{isInt: true, i: start}}, value{n: num{isInt: true, i: next}}
	switch n.cmp {
	case opEq: // = and != : within the day (or not)
		n.cmp, n.vals = opBetween, []value{lo, hi}
	case opGt: // after the day: from the next midnight on
		n.cmp, n.vals = opGe, []value{hi}
	case opGe: // from the day's midnight on
		n.cmp, n.vals = opGe, []value{lo}
	case opLt: // before the day's midnight
		n.cmp, n.vals = opLt, []value{lo}
	case opLe: // before the next midnight
		n.cmp, n.vals = opLt, []value{hi}
	}
}

// dayBounds returns the first second of the calendar day containing t in
// loc, and the first second of the following day. Days may last 23 or 25
// hours (DST) or begin at 01:00 when a transition skips midnight.
func dayBounds(t int64, loc *time.Location) (start, next int64) {
	y, m, d := time.Unix(t, 0).In(loc).Date()
	start, next = firstSecond(y, m, d, loc), firstSecond(y, m, d+1, loc)
	// Defensive: time zone data where the computed day would not contain
	// t (never observed) must not produce an empty or misplaced range.
	if start > t {
		start = t
	}
	if next <= t {
		next = t + 1
	}
	return start, next
}

// firstSecond returns the first second whose local date in loc is the
// calendar date y-m-d (d may overflow the month, as in time.Date), or the
// first second after it if that date was skipped entirely.
func firstSecond(y int, m time.Month, d int, loc *time.Location) int64 {
	c := time.Date(y, m, d, 0, 0, 0, 0, loc)
	// When midnight falls in a gap (clocks jump from 00:00 to 01:00),
	// time.Date may resolve it with the offset after the jump, which lands
	// before the gap, still on the previous day. The day then begins at the
	// transition, where the zone in effect at c ends.
	want := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	if cy, cm, cd := c.Date(); time.Date(cy, cm, cd, 0, 0, 0, 0, time.UTC).Before(want) {
		if _, end := c.ZoneBounds(); !end.IsZero() {
			c = end
		}
	}
	return c.Unix()
}

func (p *parser) segmentRef(name, op string, v any) (*node, error) {
	id, err := p.scalar(name, ID, "value", v)
	if err != nil {
		if v == nil {
			return nil, &Error{Field: name, Message: fmt.Sprintf("value for %q must be a segment id", name)}
		}
		return nil, err
	}
	seg, ok := p.segs[id.s]
	if !ok {
		seg, err = p.loadSegment(name, id.s)
		if err != nil {
			return nil, err
		}
		p.segs[id.s] = seg
	}
	for _, f := range seg.fields {
		p.addField(f)
	}
	p.filters += seg.filters
	p.values += seg.values
	if p.filters > MaxTotalFilters {
		return nil, &Error{Field: name, Message: fmt.Sprintf("query has more than %d filters", MaxTotalFilters)}
	}
	if p.values > MaxTotalValues {
		return nil, &Error{Field: name, Message: fmt.Sprintf("query has more than %d values", MaxTotalValues)}
	}
	return &node{name: name, seg: seg.root, neg: op == "!="}, nil
}

func (p *parser) loadSegment(name, id string) (*segment, error) {
	raw, err := p.schema.Segment(id)
	if err != nil {
		var qe *Error
		if errors.As(err, &qe) {
			return nil, qe
		}
		return nil, &Error{Field: name, Message: fmt.Sprintf("segment %s does not exist", quoteName(id)), Err: err}
	}
	sub := &parser{schema: p.schema, loc: p.loc, inSegment: true}
	wrap := func(err error) error {
		var qe *Error
		if !errors.As(err, &qe) {
			qe = &Error{Message: err.Error()}
		}
		return &Error{Field: name, Message: fmt.Sprintf("segment %s has an invalid filter: %s", quoteName(id), qe.Message), Err: qe}
	}
	v, err := decodeJSON(raw)
	if err != nil {
		return nil, wrap(err)
	}
	root, err := sub.filter(v, 0)
	if err != nil {
		return nil, wrap(err)
	}
	return &segment{root: root, fields: sub.fields, filters: sub.filters, values: sub.values}, nil
}

// scalar parses one operand of kind k; label names it in errors ("value",
// "value[3]").
func (p *parser) scalar(name string, k Kind, label string, v any) (value, error) {
	bad := func(format string, a ...any) (value, error) {
		return value{}, &Error{Field: name, Message: fmt.Sprintf("%s for %q ", label, name) + fmt.Sprintf(format, a...)}
	}
	switch k {
	case String, ID:
		var s string
		switch v := v.(type) {
		case string:
			s = v
		case json.Number:
			// Intercom ids are numeric strings and clients send them
			// either way.
			if k == ID && isDigits(string(v)) {
				s = string(v)
				break
			}
			if k == ID {
				return bad("must be a string id")
			}
			return bad("must be a string")
		default:
			if k == ID {
				return bad("must be a string id")
			}
			return bad("must be a string")
		}
		switch {
		case len(s) > MaxStringBytes:
			return bad("is longer than %d bytes", MaxStringBytes)
		case !utf8.ValidString(s):
			return bad("is not valid UTF-8")
		case strings.IndexByte(s, 0) >= 0:
			return bad("must not contain NUL characters")
		}
		return value{s: s}, nil
	case Integer:
		jn, ok := v.(json.Number)
		if !ok {
			return bad("must be an integer")
		}
		i, err := parseInteger(string(jn))
		if errors.Is(err, strconv.ErrRange) {
			return bad("is out of range")
		} else if err != nil {
			return bad("must be an integer")
		}
		return value{n: num{isInt: true, i: i}}, nil
	case Float:
		jn, ok := v.(json.Number)
		if !ok {
			return bad("must be a number")
		}
		f, err := strconv.ParseFloat(string(jn), 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return bad("must be a finite number")
		}
		return value{n: num{f: f}}, nil
	case Boolean:
		b, ok := v.(bool)
		if !ok {
			return bad("must be true or false")
		}
		return value{b: b}, nil
	case Date, DateTime:
		var s string
		switch v := v.(type) {
		case json.Number:
			s = string(v)
		case string: // clients often send timestamps as strings
			if len(v) > 30 || !isDigits(strings.TrimPrefix(v, "-")) {
				return bad("must be a Unix timestamp")
			}
			s = v
		default:
			return bad("must be a Unix timestamp")
		}
		i, err := parseInteger(s)
		if errors.Is(err, strconv.ErrRange) || err == nil && (i < minUnix || i > maxUnix) {
			return bad("is out of range")
		} else if err != nil {
			return bad("must be a Unix timestamp")
		}
		return value{n: num{isInt: true, i: i}}, nil
	}
	return bad("has an unsupported kind %v", k)
}

// parseInteger parses a JSON number that must be integral: "42", "-7",
// "1e3", "2.0". Non-integral numbers are rejected; integers outside int64
// give strconv.ErrRange. Numbers written with a fraction or exponent are
// only accepted up to 2^53, where float64 is still exact.
func parseInteger(s string) (int64, error) {
	i, err := strconv.ParseInt(s, 10, 64)
	if err == nil {
		return i, nil
	}
	if errors.Is(err, strconv.ErrRange) {
		return 0, strconv.ErrRange
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		if errors.Is(err, strconv.ErrRange) {
			return 0, strconv.ErrRange
		}
		return 0, strconv.ErrSyntax
	}
	if f != math.Trunc(f) {
		return 0, strconv.ErrSyntax
	}
	if math.Abs(f) > 1<<53 {
		return 0, strconv.ErrRange
	}
	return int64(f), nil
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// checkField rejects field definitions a Schema should not produce.
func checkField(name string, f Field) error {
	if f.Segment {
		return nil
	}
	bad := func(why string) error {
		return &Error{Field: name, Message: fmt.Sprintf("field %q cannot be searched", name), Err: errors.New("query: schema: " + why)}
	}
	if KindOps(f.Kind) == nil {
		return bad("invalid kind " + f.Kind.String())
	}
	if f.Multi != nil {
		if f.Multi.From == "" || f.Multi.Expr[SQLite] == "" || f.Multi.Expr[Postgres] == "" {
			return bad("incomplete Multi")
		}
		return nil
	}
	if f.Expr[SQLite] == "" || f.Expr[Postgres] == "" {
		return bad("missing Expr")
	}
	return nil
}

func opAllowed(f Field, op string) bool {
	kindOps := KindOps(f.Kind)
	if f.Segment {
		kindOps = []string{"=", "!="}
	}
	return slices.Contains(kindOps, op) && (f.Ops == nil || slices.Contains(f.Ops, op))
}

// unknownKey returns the alphabetically first key of obj not in allowed.
func unknownKey(obj map[string]any, allowed ...string) string {
	var unknown []string
	for k := range obj {
		if !slices.Contains(allowed, k) {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) == 0 {
		return ""
	}
	sort.Strings(unknown)
	return unknown[0]
}

func jsonType(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case json.Number:
		return "a number"
	case string:
		return "a string"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	default:
		return fmt.Sprintf("%T", v)
	}
}

// quoteName quotes user-supplied text for an error message, shortened if
// long.
func quoteName(s string) string {
	if len(s) > maxNameBytes {
		s = strings.ToValidUTF8(s[:maxNameBytes], "") + "…"
	}
	return strconv.Quote(s)
}
