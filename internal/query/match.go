package query

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
)

// Match reports whether the record satisfies the filter, with exactly the
// semantics of the SQL rendered by Filter.SQL (see the package
// documentation). A nil Record has every field absent.
func (f *Filter) Match(r Record) bool {
	if f == nil || f.root == nil {
		return false
	}
	return f.root.match(r)
}

func (n *node) match(r Record) bool {
	switch {
	case n.group == "AND":
		for _, kid := range n.kids {
			if !kid.match(r) {
				return false
			}
		}
		return true
	case n.group == "OR":
		for _, kid := range n.kids {
			if kid.match(r) {
				return true
			}
		}
		return false
	case n.seg != nil:
		return n.seg.match(r) != n.neg
	}
	var vs []any
	if r != nil {
		vs = r.Values(n.name)
	}
	if n.multi == nil && len(vs) > 1 {
		vs = vs[:1] // single-valued: extra values are ignored
	}
	// The positive comparison holds if some present value satisfies it;
	// a negative operator is its exact negation (absent satisfies it).
	pos := false
	for _, raw := range vs {
		v, ok := normalize(n.kind, raw)
		if ok && n.test(v) {
			pos = true
			break
		}
	}
	return pos != n.neg
}

// test applies the positive comparison of n to a present value.
func (n *node) test(v value) bool {
	switch n.cmp {
	case opExists:
		return true
	case opEq:
		return n.equal(v, n.vals[0])
	case opIn:
		for _, a := range n.vals {
			if n.equal(v, a) {
				return true
			}
		}
		return false
	case opLt:
		return cmpNum(v.n, n.vals[0].n) < 0
	case opLe:
		return cmpNum(v.n, n.vals[0].n) <= 0
	case opGt:
		return cmpNum(v.n, n.vals[0].n) > 0
	case opGe:
		return cmpNum(v.n, n.vals[0].n) >= 0
	case opBetween:
		return cmpNum(v.n, n.vals[0].n) >= 0 && cmpNum(v.n, n.vals[1].n) < 0
	case opContains:
		return strings.Contains(asciiLower(v.s), n.pat)
	case opPrefix:
		return strings.HasPrefix(asciiLower(v.s), n.pat)
	case opSuffix:
		return strings.HasSuffix(asciiLower(v.s), n.pat)
	}
	return false
}

func (n *node) equal(v, a value) bool {
	switch n.kind {
	case String, ID:
		return v.s == a.s // exact, case-sensitive
	case Boolean:
		return v.b == a.b
	default:
		return cmpNum(v.n, a.n) == 0
	}
}

// normalize converts a record value to the representation of kind k. A
// value that does not fit the kind counts as absent (ok false), as does a
// NaN (SQLite stores NaN as NULL).
func normalize(k Kind, v any) (value, bool) {
	switch k {
	case String:
		s, ok := v.(string)
		return value{s: s}, ok
	case ID:
		if s, ok := v.(string); ok {
			return value{s: s}, true
		}
		n, ok := toNum(v)
		if !ok {
			return value{}, false
		}
		if n.isInt {
			return value{s: strconv.FormatInt(n.i, 10)}, true
		}
		if n.f == math.Trunc(n.f) && math.Abs(n.f) <= 1<<53 {
			return value{s: strconv.FormatInt(int64(n.f), 10)}, true
		}
		return value{}, false
	case Boolean:
		switch v := v.(type) {
		case bool:
			return value{b: v}, true
		case int64: // SQLite-style 0/1
			if v == 0 || v == 1 {
				return value{b: v == 1}, true
			}
		case int:
			if v == 0 || v == 1 {
				return value{b: v == 1}, true
			}
		}
		return value{}, false
	default:
		n, ok := toNum(v)
		return value{n: n}, ok
	}
}

func toNum(v any) (num, bool) {
	switch v := v.(type) {
	case int64:
		return num{isInt: true, i: v}, true
	case int:
		return num{isInt: true, i: int64(v)}, true
	case int32:
		return num{isInt: true, i: int64(v)}, true
	case int16:
		return num{isInt: true, i: int64(v)}, true
	case int8:
		return num{isInt: true, i: int64(v)}, true
	case uint32:
		return num{isInt: true, i: int64(v)}, true
	case uint16:
		return num{isInt: true, i: int64(v)}, true
	case uint8:
		return num{isInt: true, i: int64(v)}, true
	case uint:
		if uint64(v) <= math.MaxInt64 {
			return num{isInt: true, i: int64(v)}, true
		}
		return num{f: float64(v)}, true
	case uint64:
		if v <= math.MaxInt64 {
			return num{isInt: true, i: int64(v)}, true
		}
		return num{f: float64(v)}, true
	case float64:
		return num{f: v}, !math.IsNaN(v)
	case float32:
		return num{f: float64(v)}, !math.IsNaN(float64(v))
	case json.Number:
		if i, err := strconv.ParseInt(string(v), 10, 64); err == nil {
			return num{isInt: true, i: i}, true
		}
		f, err := strconv.ParseFloat(string(v), 64)
		return num{f: f}, err == nil
	}
	return num{}, false
}

// cmpNum compares two numbers exactly, like SQLite does for an integer
// against a real.
func cmpNum(a, b num) int {
	switch {
	case a.isInt && b.isInt:
		return cmp3(a.i, b.i)
	case !a.isInt && !b.isInt:
		return cmp3(a.f, b.f)
	case a.isInt:
		return cmpIntFloat(a.i, b.f)
	default:
		return -cmpIntFloat(b.i, a.f)
	}
}

func cmp3[T int64 | float64](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// cmpIntFloat compares i and f without rounding either.
func cmpIntFloat(i int64, f float64) int {
	const two63 = 9223372036854775808.0 // 2^63, exact in float64
	switch {
	case f >= two63:
		return -1
	case f < -two63:
		return 1
	}
	t := math.Trunc(f) // in [-2^63, 2^63): int64(t) is exact
	if c := cmp3(i, int64(t)); c != 0 {
		return c
	}
	// i == trunc(f): the fraction decides.
	switch frac := f - t; {
	case frac > 0:
		return -1
	case frac < 0:
		return 1
	}
	return 0
}

// asciiLower lowercases ASCII letters only, like SQLite's lower().
func asciiLower(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if 'A' <= b[j] && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}
