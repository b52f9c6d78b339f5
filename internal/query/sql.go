package query

import (
	"strconv"
	"strings"
)

// SQL renders the filter as a SQL boolean expression with `?` placeholders
// (for PostgreSQL too; see Rebind) and their arguments. Values only ever
// travel as arguments; the SQL text is made of fixed keywords and the
// expressions the Schema supplied.
//
// The expression never evaluates to NULL: a simple filter on a
// single-valued field is rendered as `(e IS NOT NULL AND e = ?)` or, for a
// negative operator, `(e IS NULL OR NOT (e = ?))`. It can therefore be
// negated or selected as a boolean and still agree with Match.
//
// Arguments are string, int64, float64 and, for Boolean fields, int64 0/1
// on SQLite and bool on PostgreSQL. An unknown Dialect renders as SQLite.
// The LIKE operators use the literal ESCAPE '\', which PostgreSQL reads as
// one backslash with standard_conforming_strings on (its default).
func (f *Filter) SQL(d Dialect) (where string, args []any) {
	if f == nil || f.root == nil {
		return "(1=0)", nil
	}
	r := &renderer{d: d}
	if d != Postgres {
		r.d = SQLite
	}
	r.node(f.root)
	return r.b.String(), r.args
}

type renderer struct {
	d    Dialect
	b    strings.Builder
	args []any
}

func (r *renderer) node(n *node) {
	switch {
	case n.group != "":
		r.b.WriteByte('(')
		for i, kid := range n.kids {
			if i > 0 {
				r.b.WriteString(" " + n.group + " ")
			}
			r.node(kid)
		}
		r.b.WriteByte(')')
	case n.seg != nil:
		if n.neg {
			r.b.WriteString("NOT ")
		}
		r.b.WriteByte('(')
		r.node(n.seg)
		r.b.WriteByte(')')
	case n.multi != nil:
		// Multi-valued: a positive operator holds if some related row
		// satisfies it, a negative one if none satisfies its positive
		// counterpart. Related rows with a NULL value do not count.
		m := n.multi
		if n.neg {
			r.b.WriteString("NOT ")
		}
		r.b.WriteString("EXISTS (SELECT 1 FROM ")
		r.b.WriteString(m.From)
		r.b.WriteString(" WHERE ")
		if m.Join != "" {
			r.b.WriteString("(" + m.Join + ") AND ")
		}
		e := paren(m.Expr[r.d])
		if n.cmp == opExists {
			r.b.WriteString(e + " IS NOT NULL")
		} else {
			r.cond(n, e)
		}
		r.b.WriteByte(')')
	default:
		// Single-valued. The IS [NOT] NULL guard keeps the result
		// two-valued: absent never satisfies a comparison, so a negative
		// operator (NOT of the comparison) is satisfied by absent.
		e := paren(n.expr[r.d])
		switch {
		case n.cmp == opExists && n.neg:
			r.b.WriteString("(" + e + " IS NULL)")
		case n.cmp == opExists:
			r.b.WriteString("(" + e + " IS NOT NULL)")
		case n.neg:
			r.b.WriteString("(" + e + " IS NULL OR NOT (")
			r.cond(n, e)
			r.b.WriteString("))")
		default:
			r.b.WriteString("(" + e + " IS NOT NULL AND ")
			r.cond(n, e)
			r.b.WriteByte(')')
		}
	}
}

// cond writes the positive comparison of n on the expression e.
func (r *renderer) cond(n *node, e string) {
	switch n.cmp {
	case opEq:
		r.b.WriteString(e + " = ?")
		r.arg(n.kind, n.vals[0])
	case opIn:
		r.b.WriteString(e + " IN (")
		for i, v := range n.vals {
			if i > 0 {
				r.b.WriteString(", ")
			}
			r.b.WriteByte('?')
			r.arg(n.kind, v)
		}
		r.b.WriteByte(')')
	case opLt, opLe, opGt, opGe:
		r.b.WriteString(e + " " + [...]string{opLt: "<", opLe: "<=", opGt: ">", opGe: ">="}[n.cmp] + " ?")
		r.arg(n.kind, n.vals[0])
	case opBetween:
		r.b.WriteString(e + " >= ? AND " + e + " < ?")
		r.arg(n.kind, n.vals[0])
		r.arg(n.kind, n.vals[1])
	case opContains, opPrefix, opSuffix:
		// Case-insensitive through lower() on both sides, so that the
		// database folds the value and the pattern alike. Not ILIKE: the
		// same text works on SQLite and PostgreSQL. The CAST pins the
		// parameter type for PostgreSQL's lower() overloads.
		r.b.WriteString("lower(" + e + ") LIKE lower(CAST(? AS TEXT)) ESCAPE '\\'")
		p := escapeLike(n.vals[0].s)
		switch n.cmp {
		case opContains:
			p = "%" + p + "%"
		case opPrefix:
			p += "%"
		case opSuffix:
			p = "%" + p
		}
		r.args = append(r.args, p)
	}
}

func (r *renderer) arg(k Kind, v value) {
	switch k {
	case String, ID:
		r.args = append(r.args, v.s)
	case Boolean:
		if r.d == Postgres {
			r.args = append(r.args, v.b)
		} else if v.b {
			r.args = append(r.args, int64(1))
		} else {
			r.args = append(r.args, int64(0))
		}
	default:
		if v.n.isInt {
			r.args = append(r.args, v.n.i)
		} else {
			r.args = append(r.args, v.n.f)
		}
	}
}

// escapeLike escapes the LIKE metacharacters of s for ESCAPE '\'.
func escapeLike(s string) string {
	if !strings.ContainsAny(s, `\%_`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\', '%', '_':
			b.WriteByte('\\')
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// paren wraps a schema expression in parentheses unless it is already a
// primary expression — a (qualified) column name, a function call, or a
// parenthesized expression — so that operators bind as intended whatever
// the expression contains.
func paren(e string) string {
	i := 0
	for i < len(e) && (e[i] == '_' || e[i] == '.' || 'a' <= e[i] && e[i] <= 'z' || 'A' <= e[i] && e[i] <= 'Z' || '0' <= e[i] && e[i] <= '9') {
		i++
	}
	if i == len(e) && i > 0 {
		return e
	}
	if i < len(e) && e[i] == '(' && closingParen(e, i) == len(e)-1 {
		return e
	}
	return "(" + e + ")"
}

// closingParen returns the index of the parenthesis closing the one at
// open, skipping quoted literals and identifiers, or -1.
func closingParen(e string, open int) int {
	depth := 0
	var quote byte
	for i := open; i < len(e); i++ {
		c := e[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '(':
			depth++
		case c == ')':
			if depth--; depth == 0 {
				return i
			}
		}
	}
	return -1
}

// Rebind rewrites the `?` placeholders of q as PostgreSQL's $1, $2, …
// Question marks inside single-quoted literals and double-quoted
// identifiers are left alone; SQL from Filter.SQL never puts one there.
// Schema expressions must not use PostgreSQL's jsonb `?` operators, which
// would be taken for placeholders.
func Rebind(q string) string {
	if !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 16)
	n := 0
	var quote byte // the quote character of the literal being read, or 0
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case quote != 0:
			// A doubled quote ('') closes and reopens: same result.
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '?':
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}
