package query

import (
	"math"
	"math/bits"
	"strings"
)

// Bitset is a set of row positions, 64 to a word.
type Bitset []uint64

// NewBitset returns an empty set able to hold rows 0..n-1.
func NewBitset(n int) Bitset { return make(Bitset, (n+63)/64) }

// Set adds row i.
func (b Bitset) Set(i int) { b[i>>6] |= 1 << (uint(i) & 63) }

// Clear removes row i.
func (b Bitset) Clear(i int) { b[i>>6] &^= 1 << (uint(i) & 63) }

// Has reports whether row i is in the set.
func (b Bitset) Has(i int) bool { return i>>6 < len(b) && b[i>>6]&(1<<(uint(i)&63)) != 0 }

// Count returns the number of rows in the set.
func (b Bitset) Count() int {
	n := 0
	for _, w := range b {
		n += bits.OnesCount64(w)
	}
	return n
}

// And keeps the rows also in o (rows beyond o's length are dropped).
func (b Bitset) And(o Bitset) {
	for i := range b {
		if i < len(o) {
			b[i] &= o[i]
		} else {
			b[i] = 0
		}
	}
}

// Or adds the rows of o that fit in b.
func (b Bitset) Or(o Bitset) {
	for i := range min(len(b), len(o)) {
		b[i] |= o[i]
	}
}

// Not complements b in place (within its length).
func (b Bitset) Not() {
	for i := range b {
		b[i] = ^b[i]
	}
}

// Each calls fn for every row of the set in increasing order until fn
// returns false.
func (b Bitset) Each(fn func(i int) bool) {
	for wi, w := range b {
		for w != 0 {
			t := bits.TrailingZeros64(w)
			if !fn(wi<<6 | t) {
				return
			}
			w &= w - 1
		}
	}
}

// EachReverse is Each in decreasing order.
func (b Bitset) EachReverse(fn func(i int) bool) {
	for wi := len(b) - 1; wi >= 0; wi-- {
		for w := b[wi]; w != 0; {
			t := 63 - bits.LeadingZeros64(w)
			if !fn(wi<<6 | t) {
				return
			}
			w &^= 1 << uint(t)
		}
	}
}

// Table is columnar data a filter can be evaluated against all at once
// (Filter.Eval): rows are positions 0..Rows()-1, and each field the filter
// references (Filter.Columns) is supplied as a Column, with values exactly
// as Record.Values would return them. Evaluating a filter over a Table
// gives, row for row, the result of Match on the same values.
type Table interface {
	// Rows is the number of rows.
	Rows() int
	// Single returns a single-valued field's column (nil: all absent).
	Single(field string) *Column
	// Multi returns a multi-valued field's distinct related values and,
	// for each, the set of rows related to it.
	Multi(field string) (vals []any, rows []Bitset)
}

// Column holds one single-valued field for every row of a Table, in one of
// two encodings:
//   - dictionary: Codes[i] is row i's code, 0 when absent, and code c
//     stands for Dict[c-1] (any kind; the natural one for strings);
//   - numeric: Present holds the rows with a value, found in Ints
//     (Integer, Date, DateTime) or Floats (Float).
//
// Other overrides both for a few rows whose value fits neither (a float in
// an integer field, say). Rows beyond the slices are absent.
type Column struct {
	Codes []uint32
	Dict  []any

	Present Bitset
	Ints    []int64
	Floats  []float64

	Other map[int]any
}

// Columns lists the fields the filter reads, as the Schema resolved them
// (referenced segments included), once each.
func (f *Filter) Columns() []Field {
	if f == nil || f.root == nil {
		return nil
	}
	seen := map[string]bool{}
	var out []Field
	var walk func(n *node)
	walk = func(n *node) {
		switch {
		case n.group != "":
			for _, k := range n.kids {
				walk(k)
			}
		case n.seg != nil:
			walk(n.seg)
		default:
			if !seen[n.name] {
				seen[n.name] = true
				out = append(out, Field{Name: n.name, Kind: n.kind, Expr: n.expr, Multi: n.multi})
			}
		}
	}
	walk(f.root)
	return out
}

// Eval returns the rows of t that satisfy the filter, with the semantics
// of Match. Rows beyond t.Rows() in the last word may be set: callers
// intersect the result with the rows they consider.
func (f *Filter) Eval(t Table) Bitset {
	if f == nil || f.root == nil {
		return NewBitset(t.Rows())
	}
	return f.root.eval(t)
}

func (n *node) eval(t Table) Bitset {
	rows := t.Rows()
	switch {
	case n.group != "":
		var acc Bitset
		for _, kid := range n.kids {
			b := kid.eval(t)
			switch {
			case acc == nil:
				acc = b
			case n.group == "AND":
				acc.And(b)
			default:
				acc.Or(b)
			}
		}
		if acc == nil {
			acc = NewBitset(rows)
		}
		return acc
	case n.seg != nil:
		b := n.seg.eval(t)
		if n.neg {
			b.Not()
		}
		return b
	case n.multi != nil:
		vals, sets := t.Multi(n.name)
		out := NewBitset(rows)
		for i, raw := range vals {
			if n.holds(raw) {
				out.Or(sets[i])
			}
		}
		if n.neg {
			out.Not()
		}
		return out
	}
	out := NewBitset(rows)
	c := t.Single(n.name)
	if c == nil {
		c = &Column{}
	}
	if c.Codes != nil || c.Dict != nil {
		// Each distinct value is tested once; hit[code] is the result.
		hit := make([]bool, len(c.Dict)+1)
		for i, raw := range c.Dict {
			hit[i+1] = n.holds(raw)
		}
		for i, code := range c.Codes[:min(len(c.Codes), rows)] {
			if hit[code] {
				out[i>>6] |= 1 << (uint(i) & 63)
			}
		}
	} else if lo, hi, ok := n.intRange(); ok && c.Ints != nil {
		// The common case, an integer compared with integers: a range
		// check per present row, no conversions.
		for wi, w := range c.Present[:min(len(c.Present), (rows+63)/64)] {
			for w != 0 {
				t := bits.TrailingZeros64(w)
				w &= w - 1
				if i := wi<<6 | t; i < len(c.Ints) {
					if v := c.Ints[i]; v >= lo && v <= hi {
						out[wi] |= 1 << uint(t)
					}
				}
			}
		}
	} else {
		c.Present.Each(func(i int) bool {
			if i >= rows {
				return false
			}
			var v value
			switch {
			case i < len(c.Ints):
				v.n = num{isInt: true, i: c.Ints[i]}
			case i < len(c.Floats):
				if math.IsNaN(c.Floats[i]) {
					return true
				}
				v.n = num{f: c.Floats[i]}
			default:
				return true
			}
			if n.test(v) {
				out.Set(i)
			}
			return true
		})
	}
	for i, raw := range c.Other {
		if i < rows {
			if n.holds(raw) {
				out.Set(i)
			} else {
				out.Clear(i)
			}
		}
	}
	// A negative operator is the exact complement of its positive
	// counterpart: absent rows satisfy it.
	if n.neg {
		out.Not()
	}
	return out
}

// intRange returns the comparison of n as an inclusive range of int64
// values, when its operands are integers and its operator one of = < <= >
// >= or a calendar day.
func (n *node) intRange() (lo, hi int64, ok bool) {
	for _, v := range n.vals {
		if !v.n.isInt {
			return 0, 0, false
		}
	}
	lo, hi = math.MinInt64, math.MaxInt64
	switch n.cmp {
	case opEq:
		lo, hi = n.vals[0].n.i, n.vals[0].n.i
	case opLt:
		if n.vals[0].n.i == math.MinInt64 {
			return 1, 0, true // empty
		}
		hi = n.vals[0].n.i - 1
	case opLe:
		hi = n.vals[0].n.i
	case opGt:
		if n.vals[0].n.i == math.MaxInt64 {
			return 1, 0, true
		}
		lo = n.vals[0].n.i + 1
	case opGe:
		lo = n.vals[0].n.i
	case opBetween:
		if n.vals[1].n.i == math.MinInt64 {
			return 1, 0, true
		}
		lo, hi = n.vals[0].n.i, n.vals[1].n.i-1
	default:
		return 0, 0, false
	}
	return lo, hi, true
}

// holds reports whether one present value satisfies the positive
// comparison of n.
func (n *node) holds(raw any) bool {
	v, ok := normalize(n.kind, raw)
	return ok && n.test(v)
}

// Compare orders two values of a field of kind k the way SQL's ORDER BY
// does for the values the Schema's expressions yield: numbers exactly,
// booleans false first, strings and ids by bytes. Values that do not fit
// the kind order as absent, before every present value; callers place
// absent values themselves.
func Compare(k Kind, a, b any) int {
	va, oka := normalize(k, a)
	vb, okb := normalize(k, b)
	switch {
	case !oka || !okb:
		return cmp3(b2i(oka), b2i(okb))
	}
	switch k {
	case String, ID:
		return strings.Compare(va.s, vb.s)
	case Boolean:
		return cmp3(b2i(va.b), b2i(vb.b))
	}
	return cmpNum(va.n, vb.n)
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}
