// Package querytest holds the differential test of package query: a
// contacts-like test schema, a generator of random records and random
// filters, and RunDifferential, which loads the records into a database and
// checks that for every filter the rows selected by the compiled SQL are
// exactly the records Filter.Match accepts. It runs on any database/sql
// handle, SQLite or PostgreSQL.
package querytest

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // the test time zone must exist everywhere

	"github.com/parleyhq/parley/internal/query"
)

// Zone is the workspace time zone of the test schema: it has DST
// transitions, so calendar days of 23 and 25 hours occur in the data.
const Zone = "America/New_York"

// Table names. RunDifferential creates them in the current schema and drops
// them at the end.
const (
	TableContacts  = "qt_c"
	TableTags      = "qt_tags"
	TableCompanies = "qt_companies"
)

// Fields of the test schema. The contacts table is aliased "c" in queries.
var fields = []query.Field{
	{Name: "id", Kind: query.ID, Expr: both("c.id")},
	{Name: "name", Kind: query.String, Expr: both("c.name")},
	{Name: "email", Kind: query.String, Expr: both("c.email")},
	{Name: "age", Kind: query.Integer, Expr: both("c.age")},
	{Name: "score", Kind: query.Float, Expr: both("c.score")},
	{Name: "active", Kind: query.Boolean, Expr: both("c.active")},
	{Name: "signed_up_at", Kind: query.Date, Expr: both("c.signed_up_at")},
	{Name: "last_seen_at", Kind: query.DateTime, Expr: both("c.last_seen_at")},
	attr("plan", query.String, ""),
	attr("seats", query.Integer, "::bigint"),
	attr("ratio", query.Float, "::double precision"),
	attr("vip", query.Boolean, "::boolean"),
	attr("renewal", query.Date, "::bigint"),
	{Name: "tag_id", Kind: query.ID, Ops: []string{"=", "!="}, Multi: &query.Multi{
		From: TableTags + " t", Join: "t.contact_id = c.id", Expr: both("t.tag_id"),
	}},
	{Name: "company.name", Kind: query.String, Multi: &query.Multi{
		From: TableCompanies + " co", Join: "co.contact_id = c.id", Expr: both("co.name"),
	}},
	{Name: "company.size", Kind: query.Integer, Multi: &query.Multi{
		From: TableCompanies + " co", Join: "co.contact_id = c.id", Expr: both("co.size"),
	}},
	{Name: "segment_id", Kind: query.ID, Segment: true},
}

func both(e string) [2]string { return [2]string{e, e} }

// attr is a custom attribute stored in the JSON column c.attrs; pgCast
// gives the PostgreSQL expression its SQL type.
func attr(name string, k query.Kind, pgCast string) query.Field {
	return query.Field{
		Name: "custom_attributes." + name,
		Kind: k,
		Expr: [2]string{
			query.SQLite:   `json_extract(c.attrs, '$."` + name + `"')`,
			query.Postgres: `((c.attrs->>'` + name + `')` + pgCast + `)`,
		},
	}
}

// Schema is the test schema. Segments maps segment ids to stored filters.
type Schema struct {
	Loc      *time.Location
	Segments map[string][]byte
}

// NewSchema returns the test schema in Zone with no segments.
func NewSchema() *Schema {
	loc, err := time.LoadLocation(Zone)
	if err != nil {
		panic(err) // time/tzdata is linked in
	}
	return &Schema{Loc: loc, Segments: map[string][]byte{}}
}

// Field implements query.Schema.
func (s *Schema) Field(name string) (query.Field, error) {
	for _, f := range fields {
		if f.Name == name {
			return f, nil
		}
	}
	return query.Field{}, query.UnknownField(name)
}

// Segment implements query.Schema.
func (s *Schema) Segment(id string) ([]byte, error) {
	if raw, ok := s.Segments[id]; ok {
		return raw, nil
	}
	return nil, fmt.Errorf("segment %q: not found", id)
}

// Location implements query.Schema.
func (s *Schema) Location() *time.Location { return s.Loc }

// Contact is one test record. Nil fields are NULL/absent.
type Contact struct {
	ID         string
	Name       any // string
	Email      any // string
	Age        any // int64
	Score      any // float64
	Active     any // bool
	SignedUpAt any // int64
	LastSeenAt any // int64
	// Attrs are the custom attributes; a missing key is absent, a nil value
	// is stored as JSON null (also absent).
	Attrs     map[string]any
	Tags      []string
	Companies []Company
}

// Company is a company a contact belongs to.
type Company struct {
	Name any // string
	Size any // int64
}

// Values implements query.Record.
func (c *Contact) Values(field string) []any {
	one := func(v any) []any {
		if v == nil {
			return nil
		}
		return []any{v}
	}
	switch field {
	case "id":
		return []any{c.ID}
	case "name":
		return one(c.Name)
	case "email":
		return one(c.Email)
	case "age":
		return one(c.Age)
	case "score":
		return one(c.Score)
	case "active":
		return one(c.Active)
	case "signed_up_at":
		return one(c.SignedUpAt)
	case "last_seen_at":
		return one(c.LastSeenAt)
	case "tag_id":
		vs := make([]any, len(c.Tags))
		for i, t := range c.Tags {
			vs[i] = t
		}
		return vs
	case "company.name", "company.size":
		var vs []any
		for _, co := range c.Companies {
			if field == "company.name" {
				vs = append(vs, co.Name) // nil elements are absent
			} else {
				vs = append(vs, co.Size)
			}
		}
		return vs
	}
	if name, ok := strings.CutPrefix(field, "custom_attributes."); ok {
		if v, ok := c.Attrs[name]; ok {
			return []any{v} // may be []any{nil}: JSON null is absent
		}
	}
	return nil
}

// Gen generates random contacts and random filters over them. Values are
// drawn from a small alphabet and small ranges so that random filters
// often match some but not all records.
type Gen struct {
	r        *rand.Rand
	loc      *time.Location
	days     []time.Time // local midnights around which dates cluster
	strs     []string    // pool of string values
	Contacts []*Contact
	Segments map[string][]byte // generated by AddSegments
}

// NewGen returns a generator seeded with seed.
func NewGen(seed uint64, loc *time.Location) *Gen {
	g := &Gen{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), loc: loc}
	// Regular days and both DST transitions of 2024 in New York.
	for _, d := range [][3]int{{2024, 1, 15}, {2024, 3, 9}, {2024, 3, 10}, {2024, 3, 11}, {2024, 11, 2}, {2024, 11, 3}, {2024, 11, 4}} {
		g.days = append(g.days, time.Date(d[0], time.Month(d[1]), d[2], 0, 0, 0, 0, loc))
	}
	// LIKE metacharacters and the escape character, upper and lower case
	// ASCII, a space and a lowercase non-ASCII letter (non-ASCII case
	// folding is database-specific and not tested).
	alphabet := []string{"a", "b", "A", "B", "%", "_", `\`, " ", "é", "x"}
	for range 14 {
		var b strings.Builder
		for range g.r.IntN(5) {
			b.WriteString(alphabet[g.r.IntN(len(alphabet))])
		}
		g.strs = append(g.strs, b.String())
	}
	return g
}

func (g *Gen) chance(p float64) bool { return g.r.Float64() < p }

func (g *Gen) str() string { return g.strs[g.r.IntN(len(g.strs))] }

func (g *Gen) int() int64 {
	switch g.r.IntN(20) {
	case 0:
		return math.MaxInt64 - g.r.Int64N(3)
	case 1:
		return math.MinInt64 + g.r.Int64N(3)
	}
	return g.r.Int64N(15) - 4
}

// float returns a multiple of 1/4: exact in binary and short in decimal,
// so JSON round trips through every database are exact.
func (g *Gen) float() float64 { return float64(g.r.IntN(41)-20) / 4 }

// timestamp returns Unix seconds near one of the generator's days: often
// exactly at a midnight or just before it, otherwise anywhere in the day.
func (g *Gen) timestamp() int64 {
	d := g.days[g.r.IntN(len(g.days))].Unix()
	switch g.r.IntN(4) {
	case 0:
		return d
	case 1:
		return d - 1
	}
	return d + g.r.Int64N(26*3600) - 3600
}

// Generate creates n contacts with ids "1".."n".
func (g *Gen) Generate(n int) []*Contact {
	maybe := func(p float64, v func() any) any {
		if g.chance(p) {
			return nil
		}
		return v()
	}
	g.Contacts = make([]*Contact, n)
	for i := range g.Contacts {
		c := &Contact{
			ID:         strconv.Itoa(i + 1),
			Name:       maybe(0.15, func() any { return g.str() }),
			Email:      maybe(0.15, func() any { return g.str() + "@" + g.str() }),
			Age:        maybe(0.15, func() any { return g.int() }),
			Score:      maybe(0.15, func() any { return g.float() }),
			Active:     maybe(0.2, func() any { return g.chance(0.5) }),
			SignedUpAt: maybe(0.15, func() any { return g.timestamp() }),
			LastSeenAt: maybe(0.15, func() any { return g.timestamp() }),
			Attrs:      map[string]any{},
		}
		for _, a := range []struct {
			name string
			v    func() any
		}{
			{"plan", func() any { return g.str() }},
			{"seats", func() any { return g.int() }},
			{"ratio", func() any { return g.float() }},
			{"vip", func() any { return g.chance(0.5) }},
			{"renewal", func() any { return g.timestamp() }},
		} {
			switch g.r.IntN(6) {
			case 0: // absent
			case 1:
				c.Attrs[a.name] = nil // JSON null
			default:
				c.Attrs[a.name] = a.v()
			}
		}
		for range g.r.IntN(4) {
			t := strconv.Itoa(1 + g.r.IntN(6))
			if !slices.Contains(c.Tags, t) {
				c.Tags = append(c.Tags, t)
			}
		}
		for range g.r.IntN(3) {
			c.Companies = append(c.Companies, Company{
				Name: maybe(0.2, func() any { return g.str() }),
				Size: maybe(0.2, func() any { return g.int() }),
			})
		}
		g.Contacts[i] = c
	}
	return g.Contacts
}

// AddSegments generates n segments with ids "101", "102", … whose filters
// do not reference segments, and returns them (also kept in g.Segments).
func (g *Gen) AddSegments(n int) map[string][]byte {
	g.Segments = map[string][]byte{}
	for i := range n {
		g.Segments[strconv.Itoa(101+i)] = g.marshal(g.filter(0, false))
	}
	return g.Segments
}

// Query returns a random valid query: random nesting (at most two levels
// of groups), fields, operators and values, referencing g.Segments.
func (g *Gen) Query() []byte { return g.marshal(g.filter(0, true)) }

func (g *Gen) marshal(v any) []byte {
	raw, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return raw
}

func (g *Gen) filter(depth int, segments bool) any {
	if depth < query.MaxNesting && g.chance([]float64{0.6, 0.35}[depth]) {
		op := "AND"
		if g.chance(0.5) {
			op = "OR"
		}
		n := 1 + g.r.IntN(4)
		if g.chance(0.03) {
			n = query.MaxGroupFilters
		}
		kids := make([]any, n)
		for i := range kids {
			kids[i] = g.filter(depth+1, segments)
		}
		return map[string]any{"operator": op, "value": kids}
	}
	for {
		f := fields[g.r.IntN(len(fields))]
		if f.Segment {
			if !segments || len(g.Segments) == 0 {
				continue
			}
			id := strconv.Itoa(101 + g.r.IntN(len(g.Segments)))
			var v any = id
			if g.chance(0.3) {
				v = json.Number(id)
			}
			return map[string]any{"field": f.Name, "operator": []string{"=", "!="}[g.r.IntN(2)], "value": v}
		}
		ops := query.KindOps(f.Kind)
		if f.Ops != nil {
			ops = f.Ops
		}
		op := ops[g.r.IntN(len(ops))]
		var v any
		switch {
		case (op == "=" || op == "!=") && g.chance(0.1):
			v = nil
		case op == "IN" || op == "NIN":
			list := make([]any, 1+g.r.IntN(4))
			for i := range list {
				list[i] = g.value(f, op)
			}
			v = list
		default:
			v = g.value(f, op)
		}
		return map[string]any{"field": f.Name, "operator": op, "value": v}
	}
}

// value returns a filter operand for f: usually a value some contact has
// (adjusted to the operator), otherwise a fresh random one.
func (g *Gen) value(f query.Field, op string) any {
	var v any
	if len(g.Contacts) > 0 && g.chance(0.75) {
		vs := g.Contacts[g.r.IntN(len(g.Contacts))].Values(f.Name)
		if len(vs) > 0 {
			v = vs[g.r.IntN(len(vs))]
		}
	}
	switch f.Kind {
	case query.String:
		s, ok := v.(string)
		if !ok {
			s = g.str()
		}
		if op == "~" || op == "!~" || op == "^" || op == "$" {
			// A piece of the value, with ASCII case flipped at random.
			if len(s) > 0 {
				i := g.r.IntN(len(s) + 1)
				j := i + g.r.IntN(len(s)-i+1)
				s = strings.ToValidUTF8(s[i:j], "")
			}
			b := []byte(s)
			for i, c := range b {
				if ('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') && g.chance(0.5) {
					b[i] ^= 0x20
				}
			}
			s = string(b)
		}
		return s
	case query.ID:
		s, ok := v.(string)
		if !ok && f.Name == "tag_id" {
			s = strconv.Itoa(1 + g.r.IntN(7))
		} else if !ok {
			s = strconv.Itoa(1 + g.r.IntN(len(g.Contacts)+1))
		}
		if g.chance(0.3) {
			return json.Number(s) // numeric ids may be sent as numbers
		}
		return s
	case query.Integer:
		i, ok := v.(int64)
		if !ok || g.chance(0.2) {
			i = g.int()
		}
		if g.chance(0.1) && math.Abs(float64(i)) < 1<<50 {
			return json.Number(strconv.FormatInt(i, 10) + ".0") // integral, written as a float
		}
		return i
	case query.Float:
		x, ok := v.(float64)
		if !ok || g.chance(0.2) {
			x = g.float()
		}
		return x
	case query.Boolean:
		return g.chance(0.5)
	case query.Date, query.DateTime:
		t, ok := v.(int64)
		if !ok || g.chance(0.2) {
			t = g.timestamp()
		}
		if f.Kind == query.Date && g.chance(0.5) {
			t += g.r.Int64N(7200) - 3600 // same day or a neighbour
		}
		if g.chance(0.2) {
			return strconv.FormatInt(t, 10) // clients often send strings
		}
		return t
	}
	panic("querytest: unknown kind")
}

// Env is a database loaded with contacts, ready to check filters.
type Env struct {
	DB       *sql.DB
	Dialect  query.Dialect
	Rebind   func(string) string
	Schema   *Schema
	Contacts []*Contact
}

// NewEnv creates the qt_ tables in the current schema of db (dropping
// leftovers first) and inserts the contacts. The Env's Schema holds the
// given segments. rebind converts `?` placeholders for the database (nil:
// unchanged).
func NewEnv(ctx context.Context, db *sql.DB, d query.Dialect, rebind func(string) string, contacts []*Contact, segments map[string][]byte) (*Env, error) {
	if rebind == nil {
		rebind = func(s string) string { return s }
	}
	schema := NewSchema()
	if segments != nil {
		schema.Segments = segments
	}
	e := &Env{DB: db, Dialect: d, Rebind: rebind, Schema: schema, Contacts: contacts}
	if err := e.DropTables(ctx); err != nil {
		return nil, err
	}
	ddl := []string{
		`CREATE TABLE qt_c (id TEXT PRIMARY KEY, name TEXT, email TEXT, age BIGINT, score DOUBLE PRECISION,
			active BOOLEAN, signed_up_at BIGINT, last_seen_at BIGINT, attrs JSONB)`,
		`CREATE TABLE qt_tags (contact_id TEXT NOT NULL, tag_id TEXT NOT NULL)`,
		`CREATE TABLE qt_companies (contact_id TEXT NOT NULL, name TEXT, size BIGINT)`,
		`CREATE INDEX qt_tags_contact ON qt_tags (contact_id)`,
		`CREATE INDEX qt_companies_contact ON qt_companies (contact_id)`,
	}
	if d == query.SQLite {
		ddl[0] = `CREATE TABLE qt_c (id TEXT PRIMARY KEY, name TEXT, email TEXT, age INTEGER, score REAL,
			active INTEGER, signed_up_at INTEGER, last_seen_at INTEGER, attrs TEXT)`
		ddl[2] = `CREATE TABLE qt_companies (contact_id TEXT NOT NULL, name TEXT, size INTEGER)`
	}
	for _, q := range ddl {
		if _, err := db.ExecContext(ctx, q); err != nil {
			return nil, fmt.Errorf("querytest: %s: %w", q, err)
		}
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback() //nolint:errcheck // after Commit: no-op
	for _, c := range contacts {
		attrs, err := json.Marshal(c.Attrs)
		if err != nil {
			return nil, err
		}
		if c.Attrs == nil {
			attrs = []byte("{}")
		}
		active := c.Active
		if b, ok := active.(bool); ok && d == query.SQLite {
			active = map[bool]int64{false: 0, true: 1}[b]
		}
		if _, err := tx.ExecContext(ctx, rebind(`INSERT INTO qt_c VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`),
			c.ID, c.Name, c.Email, c.Age, c.Score, active, c.SignedUpAt, c.LastSeenAt, string(attrs)); err != nil {
			return nil, fmt.Errorf("querytest: insert contact: %w", err)
		}
		for _, t := range c.Tags {
			if _, err := tx.ExecContext(ctx, rebind(`INSERT INTO qt_tags VALUES (?, ?)`), c.ID, t); err != nil {
				return nil, fmt.Errorf("querytest: insert tag: %w", err)
			}
		}
		for _, co := range c.Companies {
			if _, err := tx.ExecContext(ctx, rebind(`INSERT INTO qt_companies VALUES (?, ?, ?)`), c.ID, co.Name, co.Size); err != nil {
				return nil, fmt.Errorf("querytest: insert company: %w", err)
			}
		}
	}
	return e, tx.Commit()
}

// DropTables drops the qt_ tables if they exist.
func (e *Env) DropTables(ctx context.Context) error {
	for _, t := range []string{TableContacts, TableTags, TableCompanies} {
		if _, err := e.DB.ExecContext(ctx, "DROP TABLE IF EXISTS "+t); err != nil {
			return fmt.Errorf("querytest: drop %s: %w", t, err)
		}
	}
	return nil
}

// Check runs f's SQL, and its negation, against the database and compares
// the selected ids with the contacts f.Match accepts. It returns the number
// of matching contacts, and a descriptive error on any disagreement.
func (e *Env) Check(ctx context.Context, f *query.Filter) (int, error) {
	where, args := f.SQL(e.Dialect)
	want := map[string]bool{}
	for _, c := range e.Contacts {
		if f.Match(c) {
			want[c.ID] = true
		}
	}
	// The columnar evaluator over the same records must agree with Match.
	recs := make([]query.Record, len(e.Contacts))
	for i, c := range e.Contacts {
		recs[i] = c
	}
	evaluated := f.Eval(NewRecordTable(recs, f.Columns()))
	for i, c := range e.Contacts {
		if evaluated.Has(i) != want[c.ID] {
			raw, _ := json.Marshal(c)
			return 0, fmt.Errorf("Eval and Match disagree on contact %s: Eval=%v Match=%v record=%s", c.ID, evaluated.Has(i), want[c.ID], raw)
		}
	}
	for _, negate := range []bool{false, true} {
		q := "SELECT c.id FROM qt_c c WHERE " + where
		if negate {
			// The SQL is two-valued, so NOT selects the exact complement.
			q = "SELECT c.id FROM qt_c c WHERE NOT (" + where + ")"
		}
		got, err := e.ids(ctx, e.Rebind(q), args)
		if err != nil {
			return 0, fmt.Errorf("%w\nSQL: %s\nargs: %#v", err, q, args)
		}
		var diff []string
		for _, c := range e.Contacts {
			if got[c.ID] != (want[c.ID] != negate) {
				diff = append(diff, e.describe(c, got[c.ID], want[c.ID]))
			}
		}
		if len(got) > len(e.Contacts) {
			diff = append(diff, "SQL returned unknown ids")
		}
		if len(diff) > 0 {
			if len(diff) > 5 {
				diff = append(diff[:5], fmt.Sprintf("… and %d more", len(diff)-5))
			}
			return 0, fmt.Errorf("SQL and Match disagree (negated=%v)\nSQL: %s\nargs: %#v\n%s", negate, q, args, strings.Join(diff, "\n"))
		}
	}
	return len(want), nil
}

func (e *Env) ids(ctx context.Context, q string, args []any) (map[string]bool, error) {
	rows, err := e.DB.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	got := map[string]bool{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		got[id] = true
	}
	return got, rows.Err()
}

func (e *Env) describe(c *Contact, sqlHas, matchHas bool) string {
	raw, _ := json.Marshal(c)
	return fmt.Sprintf("contact %s: SQL=%v Match=%v record=%s", c.ID, sqlHas, matchHas, raw)
}

// Seed returns the seed for a differential run: PARLEY_QUERYTEST_SEED if
// set, otherwise a fresh one.
func Seed() uint64 {
	if s, err := strconv.ParseUint(os.Getenv("PARLEY_QUERYTEST_SEED"), 10, 64); err == nil {
		return s
	}
	return uint64(time.Now().UnixNano())
}

// Differential run sizes.
const (
	NumContacts = 300
	NumFilters  = 2000
	NumSegments = 6
)

// RunDifferential creates the qt_ tables in the current schema of db, loads
// NumContacts random contacts, and checks NumFilters random filters: the
// ids selected by `SELECT c.id FROM qt_c c WHERE <sql>` (and by its NOT)
// must be exactly the contacts Filter.Match accepts. The tables are dropped
// at the end. rebind converts placeholders (query.Rebind for PostgreSQL,
// nil for SQLite). Set PARLEY_QUERYTEST_SEED to replay a logged seed.
func RunDifferential(t testing.TB, db *sql.DB, d query.Dialect, rebind func(string) string) {
	t.Helper()
	ctx := context.Background()
	seed := Seed()
	t.Logf("querytest seed %d (replay with PARLEY_QUERYTEST_SEED=%d)", seed, seed)
	g := NewGen(seed, NewSchema().Loc)
	contacts := g.Generate(NumContacts)
	e, err := NewEnv(ctx, db, d, rebind, contacts, g.AddSegments(NumSegments))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := e.DropTables(context.Background()); err != nil {
			t.Error(err)
		}
	})
	var none, all, some, failures int
	for i := range NumFilters {
		raw := g.Query()
		f, err := query.Parse(raw, e.Schema)
		if err != nil {
			t.Fatalf("filter %d: generated query does not parse: %v\n%s", i, err, raw)
		}
		n, err := e.Check(ctx, f)
		if err != nil {
			t.Errorf("filter %d (seed %d): %s\nquery: %s", i, seed, err, raw)
			if failures++; failures >= 5 {
				t.FailNow()
			}
			continue
		}
		switch n {
		case 0:
			none++
		case len(e.Contacts):
			all++
		default:
			some++
		}
	}
	t.Logf("%d filters: %d matched some contacts, %d none, %d all", NumFilters, some, none, all)
	// Guard against a generator that degenerates into trivial filters, which
	// would make the comparison prove nothing.
	if some < NumFilters/3 {
		t.Errorf("only %d of %d filters selected a proper subset of the contacts", some, NumFilters)
	}
}

// RecordTable is a query.Table over records, its columns built from
// Record.Values: what Filter.Eval sees must give, row for row, what Match
// gives on the records. Numeric fields use the numeric encoding (values
// that do not fit go to Column.Other), the others the dictionary.
type RecordTable struct {
	n      int
	single map[string]*query.Column
	multi  map[string]multiCol
}

type multiCol struct {
	vals []any
	rows []query.Bitset
}

// NewRecordTable builds the columns of fields over recs (row i is recs[i]).
func NewRecordTable(recs []query.Record, fields []query.Field) *RecordTable {
	t := &RecordTable{n: len(recs), single: map[string]*query.Column{}, multi: map[string]multiCol{}}
	for _, f := range fields {
		index := map[any]int{}
		if f.Multi == nil {
			c := &query.Column{Other: map[int]any{}}
			numeric := f.Kind == query.Integer || f.Kind == query.Date || f.Kind == query.DateTime || f.Kind == query.Float
			if numeric {
				c.Present = query.NewBitset(len(recs))
				if f.Kind == query.Float {
					c.Floats = make([]float64, len(recs))
				} else {
					c.Ints = make([]int64, len(recs))
				}
			} else {
				c.Codes = make([]uint32, len(recs))
			}
			for i, r := range recs {
				vs := r.Values(f.Name)
				if len(vs) == 0 || vs[0] == nil {
					continue
				}
				v := vs[0]
				if numeric {
					switch x := v.(type) {
					case int64:
						if c.Ints != nil {
							c.Ints[i] = x
							c.Present.Set(i)
							continue
						}
					case float64:
						if c.Floats != nil {
							c.Floats[i] = x
							c.Present.Set(i)
							continue
						}
					}
					c.Other[i] = v
					continue
				}
				c.Codes[i] = uint32(intern(index, &c.Dict, v) + 1)
			}
			t.single[f.Name] = c
			continue
		}
		var c multiCol
		for i, r := range recs {
			for _, v := range r.Values(f.Name) {
				if v == nil {
					continue
				}
				k := intern(index, &c.vals, v)
				if k == len(c.rows) {
					c.rows = append(c.rows, query.NewBitset(len(recs)))
				}
				c.rows[k].Set(i)
			}
		}
		t.multi[f.Name] = c
	}
	return t
}

// intern returns v's position in vals, appending it if new.
func intern(index map[any]int, vals *[]any, v any) int {
	k, ok := index[v]
	if !ok {
		k = len(*vals)
		index[v] = k
		*vals = append(*vals, v)
	}
	return k
}

// Rows implements query.Table.
func (t *RecordTable) Rows() int { return t.n }

// Single implements query.Table.
func (t *RecordTable) Single(field string) *query.Column { return t.single[field] }

// Multi implements query.Table.
func (t *RecordTable) Multi(field string) ([]any, []query.Bitset) {
	c := t.multi[field]
	return c.vals, c.rows
}
