package query_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"

	"github.com/parleyhq/parley/internal/query"
	"github.com/parleyhq/parley/internal/query/querytest"
)

func TestParseErrors(t *testing.T) {
	schema := querytest.NewSchema()
	schema.Segments["101"] = []byte(`{"field":"age","operator":">","value":3}`)
	schema.Segments["102"] = []byte(`{"field":"segment_id","operator":"=","value":"101"}`)
	schema.Segments["103"] = []byte(`{"field":"age","operator":"~","value":3}`)
	schema.Segments["104"] = []byte(`{"field":"age",`)

	leaf := `{"field":"age","operator":"=","value":1}`
	group := func(op string, n int, item string) string {
		return `{"operator":"` + op + `","value":[` + strings.Repeat(item+",", n-1) + item + `]}`
	}
	strs := func(n int) string { return `[` + strings.Repeat(`"a",`, n-1) + `"a"]` }

	tests := []struct {
		name, query, field, msg string
	}{
		// JSON and structure.
		{"empty", ``, "", "query is empty"},
		{"whitespace", "  \n", "", "query is empty"},
		{"bad json", `{"field":`, "", "query is not valid JSON: unexpected EOF"},
		{"syntax", `{"field" 1}`, "", "query is not valid JSON: invalid character '1' after object key (at byte 10)"},
		{"trailing", leaf + ` x`, "", "query is not valid JSON: unexpected data after the query (at byte 40)"},
		{"invalid utf8", "{\"field\":\"name\",\"operator\":\"=\",\"value\":\"\xff\"}", "", "query is not valid UTF-8"},
		{"not object", `[1]`, "", "a filter must be a JSON object, not an array"},
		{"null", `null`, "", "a filter must be a JSON object, not null"},
		{"no operator", `{"field":"age","value":1}`, "age", `filter on "age" is missing "operator"`},
		{"no operator no field", `{"value":1}`, "", `filter is missing "operator"`},
		{"operator type", `{"field":"age","operator":1,"value":1}`, "", `"operator" must be a string, not a number`},
		{"unknown operator", `{"field":"age","operator":"==","value":1}`, "age", `unknown operator "=="`},
		{"lowercase and", `{"operator":"and","value":[]}`, "", `unknown operator "and"`},
		{"no field", `{"operator":"=","value":1}`, "", `filter is missing "field"`},
		{"field type", `{"field":3,"operator":"=","value":1}`, "", `"field" must be a string, not a number`},
		{"empty field", `{"field":"","operator":"=","value":1}`, "", `"field" must not be empty`},
		{"long field", `{"field":"` + strings.Repeat("x", 201) + `","operator":"=","value":1}`, "", `"field" is longer than 200 bytes`},
		{"no value", `{"field":"age","operator":"="}`, "age", `filter on "age" is missing "value"`},
		{"unknown key", `{"field":"age","operator":"=","value":1,"zeta":1,"extra":2}`, "age", `unknown key "extra" in filter on "age"`},
		{"unknown field", `{"field":"foo","operator":"=","value":1}`, "foo", `field "foo" is not a searchable field`},
		{"unknown attribute", `{"field":"custom_attributes.nope","operator":"=","value":1}`, "custom_attributes.nope", `field "custom_attributes.nope" is not a searchable field`},

		// Groups.
		{"empty group", `{"operator":"AND","value":[]}`, "", `"AND" group must contain at least one filter`},
		{"group value type", `{"operator":"OR","value":{}}`, "", `value of "OR" must be an array of filters, not an object`},
		{"group no value", `{"operator":"OR"}`, "", `"OR" group is missing "value"`},
		{"group with field", `{"field":"age","operator":"AND","value":[]}`, "", `"AND" group takes no "field"`},
		{"group unknown key", `{"operator":"AND","value":[` + leaf + `],"x":1}`, "", `unknown key "x" in "AND" group`},
		{"group item type", `{"operator":"AND","value":[1]}`, "", `a filter must be a JSON object, not a number`},
		{"16 filters", group("AND", 16, leaf), "", "more than 15 filters in one group"},
		{"too deep", group("AND", 1, group("OR", 1, group("AND", 1, leaf))), "", "nesting deeper than 2 levels"},

		// Operators per kind.
		{"contains on integer", `{"field":"age","operator":"~","value":1}`, "age", `operator "~" is not allowed on integer field "age"`},
		{"lt on string", `{"field":"name","operator":"<","value":"a"}`, "name", `operator "<" is not allowed on string field "name"`},
		{"in on boolean", `{"field":"active","operator":"IN","value":[true]}`, "active", `operator "IN" is not allowed on boolean field "active"`},
		{"in on date", `{"field":"signed_up_at","operator":"IN","value":[1]}`, "signed_up_at", `operator "IN" is not allowed on date field "signed_up_at"`},
		{"starts with on id", `{"field":"id","operator":"^","value":"1"}`, "id", `operator "^" is not allowed on id field "id"`},
		{"in on tag_id", `{"field":"tag_id","operator":"IN","value":["1"]}`, "tag_id", `operator "IN" is not allowed on id field "tag_id"`},
		{"lt on segment", `{"field":"segment_id","operator":"<","value":"101"}`, "segment_id", `operator "<" is not allowed on segment field "segment_id"`},

		// Values.
		{"string for integer", `{"field":"age","operator":"=","value":"1"}`, "age", `value for "age" must be an integer`},
		{"fraction for integer", `{"field":"age","operator":"=","value":1.5}`, "age", `value for "age" must be an integer`},
		{"integer overflow", `{"field":"age","operator":"=","value":9223372036854775808}`, "age", `value for "age" is out of range`},
		{"huge float", `{"field":"score","operator":"=","value":1e400}`, "score", `value for "score" must be a finite number`},
		{"string for float", `{"field":"score","operator":"<","value":"1"}`, "score", `value for "score" must be a number`},
		{"number for string", `{"field":"name","operator":"=","value":1}`, "name", `value for "name" must be a string`},
		{"string for boolean", `{"field":"active","operator":"=","value":"true"}`, "active", `value for "active" must be true or false`},
		{"unknown created_at", `{"field":"created_at","operator":"=","value":1}`, "created_at", `field "created_at" is not a searchable field`},
		{"date as word", `{"field":"signed_up_at","operator":">","value":"yesterday"}`, "signed_up_at", `value for "signed_up_at" must be a Unix timestamp`},
		{"date fraction", `{"field":"last_seen_at","operator":">","value":1.5}`, "last_seen_at", `value for "last_seen_at" must be a Unix timestamp`},
		{"date range", `{"field":"last_seen_at","operator":">","value":1e15}`, "last_seen_at", `value for "last_seen_at" is out of range`},
		{"date string range", `{"field":"signed_up_at","operator":">","value":"99999999999999"}`, "signed_up_at", `value for "signed_up_at" is out of range`},
		{"id object", `{"field":"id","operator":"=","value":{}}`, "id", `value for "id" must be a string id`},
		{"id negative", `{"field":"id","operator":"=","value":-1}`, "id", `value for "id" must be a string id`},
		{"id fraction", `{"field":"tag_id","operator":"=","value":1.5}`, "tag_id", `value for "tag_id" must be a string id`},
		{"long string", `{"field":"name","operator":"=","value":"` + strings.Repeat("é", 501) + `"}`, "name", `value for "name" is longer than 1000 bytes`},
		{"nul", `{"field":"name","operator":"~","value":"a\u0000b"}`, "name", `value for "name" must not contain NUL characters`},
		{"null with lt", `{"field":"age","operator":"<","value":null}`, "age", `value for "age" must not be null with operator "<"`},
		{"null with contains", `{"field":"name","operator":"~","value":null}`, "name", `value for "name" must not be null with operator "~"`},
		{"null in", `{"field":"name","operator":"IN","value":null}`, "name", `value for "name" must not be null with operator "IN"`},
		{"in scalar", `{"field":"name","operator":"IN","value":"a"}`, "name", `value for "name" with operator "IN" must be an array, not a string`},
		{"in empty", `{"field":"name","operator":"NIN","value":[]}`, "name", `value for "name" with operator "NIN" must be a non-empty array`},
		{"in too many", `{"field":"name","operator":"IN","value":` + strs(1001) + `}`, "name", `more than 1000 values for "name"`},
		{"in element", `{"field":"age","operator":"IN","value":[1,2,"3"]}`, "age", `value[2] for "age" must be an integer`},
		{"in null element", `{"field":"name","operator":"IN","value":["a",null]}`, "name", `value[1] for "name" must be a string`},
		{"array for eq", `{"field":"name","operator":"=","value":["a"]}`, "name", `value for "name" must be a string`},
		{"too many values", group("OR", 11, `{"field":"name","operator":"IN","value":`+strs(1000)+`}`), "name", `query has more than 10000 values`},

		// Segments.
		{"unknown segment", `{"field":"segment_id","operator":"=","value":"999"}`, "segment_id", `segment "999" does not exist`},
		{"segment null", `{"field":"segment_id","operator":"=","value":null}`, "segment_id", `value for "segment_id" must be a segment id`},
		{"segment cycle", `{"field":"segment_id","operator":"=","value":"102"}`, "segment_id", `segment "102" has an invalid filter: a segment's filter cannot reference "segment_id"`},
		{"segment invalid", `{"field":"segment_id","operator":"!=","value":103}`, "segment_id", `segment "103" has an invalid filter: operator "~" is not allowed on integer field "age"`},
		{"segment bad json", `{"field":"segment_id","operator":"!=","value":"104"}`, "segment_id", `segment "104" has an invalid filter: query is not valid JSON: unexpected EOF`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := query.Parse([]byte(tt.query), schema)
			if err == nil {
				w, _ := f.SQL(query.SQLite)
				t.Fatalf("Parse succeeded, want error %q; SQL: %s", tt.msg, w)
			}
			var qe *query.Error
			if !errors.As(err, &qe) {
				t.Fatalf("error %T %v is not a *query.Error", err, err)
			}
			if qe.Message != tt.msg || qe.Error() != tt.msg {
				t.Errorf("message\n got: %s\nwant: %s", qe.Message, tt.msg)
			}
			if qe.Field != tt.field {
				t.Errorf("Field = %q, want %q", qe.Field, tt.field)
			}
		})
	}
}

func TestParseAccepts(t *testing.T) {
	schema := querytest.NewSchema()
	schema.Segments["101"] = []byte(`{"operator":"OR","value":[{"field":"age","operator":">","value":3},{"field":"name","operator":"=","value":"x"}]}`)
	leaf := `{"field":"age","operator":"=","value":1}`
	for _, q := range []string{
		leaf,
		`{"operator":"AND","value":[` + leaf + `]}`,
		`{"operator":"AND","value":[{"operator":"OR","value":[` + leaf + `]}]}`,
		`{"operator":"OR","value":[` + strings.Repeat(leaf+",", 14) + leaf + `]}`,
		`{"field":"age","operator":"=","value":1e3}`,
		`{"field":"age","operator":"=","value":-2.0}`,
		`{"field":"score","operator":">","value":1}`,
		`{"field":"id","operator":"IN","value":[1,"2",30]}`,
		`{"field":"tag_id","operator":"=","value":7}`,
		`{"field":"signed_up_at","operator":">","value":"1700000000"}`,
		`{"field":"signed_up_at","operator":">","value":-1}`,
		`{"field":"name","operator":"=","value":null}`,
		`{"field":"tag_id","operator":"!=","value":null}`,
		`{"field":"name","operator":"~","value":""}`,
		`{"field":"segment_id","operator":"!=","value":101}`,
		` {"value":"a","operator":"$","field":"email"} `,
	} {
		if _, err := query.Parse([]byte(q), schema); err != nil {
			t.Errorf("Parse(%s): %v", q, err)
		}
	}
}

// TestSQLShape pins the SQL text of a few filters: placeholders only, the
// NULL guards, LIKE escaping, and dialect-specific arguments.
func TestSQLShape(t *testing.T) {
	schema := querytest.NewSchema()
	schema.Segments["101"] = []byte(`{"field":"active","operator":"=","value":true}`)
	tests := []struct {
		query          string
		sqlite, pg     string
		sqlArgs, pArgs []any
	}{
		{
			query:   `{"field":"name","operator":"~","value":"50%_o\\ff"}`,
			sqlite:  `(c.name IS NOT NULL AND lower(c.name) LIKE lower(CAST(? AS TEXT)) ESCAPE '\')`,
			sqlArgs: []any{`%50\%\_o\\ff%`},
		},
		{
			query:   `{"field":"custom_attributes.plan","operator":"!=","value":"pro"}`,
			sqlite:  `(json_extract(c.attrs, '$."plan"') IS NULL OR NOT (json_extract(c.attrs, '$."plan"') = ?))`,
			pg:      `(((c.attrs->>'plan')) IS NULL OR NOT (((c.attrs->>'plan')) = $1))`,
			sqlArgs: []any{"pro"},
		},
		{
			query:   `{"field":"custom_attributes.seats","operator":"<","value":3}`,
			sqlite:  `(json_extract(c.attrs, '$."seats"') IS NOT NULL AND json_extract(c.attrs, '$."seats"') < ?)`,
			pg:      `(((c.attrs->>'seats')::bigint) IS NOT NULL AND ((c.attrs->>'seats')::bigint) < $1)`,
			sqlArgs: []any{int64(3)},
		},
		{
			query:   `{"field":"tag_id","operator":"!=","value":5}`,
			sqlite:  `NOT EXISTS (SELECT 1 FROM qt_tags t WHERE (t.contact_id = c.id) AND t.tag_id = ?)`,
			sqlArgs: []any{"5"},
		},
		{
			query:   `{"field":"company.name","operator":"=","value":null}`,
			sqlite:  `NOT EXISTS (SELECT 1 FROM qt_companies co WHERE (co.contact_id = c.id) AND co.name IS NOT NULL)`,
			sqlArgs: nil,
		},
		{
			query:   `{"operator":"OR","value":[{"field":"age","operator":"IN","value":[1,2]},{"field":"segment_id","operator":"!=","value":"101"}]}`,
			sqlite:  `((c.age IS NOT NULL AND c.age IN (?, ?)) OR NOT ((c.active IS NOT NULL AND c.active = ?)))`,
			pg:      `((c.age IS NOT NULL AND c.age IN ($1, $2)) OR NOT ((c.active IS NOT NULL AND c.active = $3)))`,
			sqlArgs: []any{int64(1), int64(2), int64(1)},
			pArgs:   []any{int64(1), int64(2), true},
		},
		{
			// 2024-03-10 is 23 hours long in New York.
			query:   `{"field":"signed_up_at","operator":"=","value":1710086400}`,
			sqlite:  `(c.signed_up_at IS NOT NULL AND c.signed_up_at >= ? AND c.signed_up_at < ?)`,
			sqlArgs: []any{int64(1710046800), int64(1710129600)},
		},
	}
	for _, tt := range tests {
		f, err := query.Parse([]byte(tt.query), schema)
		if err != nil {
			t.Fatalf("Parse(%s): %v", tt.query, err)
		}
		where, args := f.SQL(query.SQLite)
		if where != tt.sqlite || !slices.Equal(args, tt.sqlArgs) {
			t.Errorf("%s\nSQLite got:  %s %#v\nSQLite want: %s %#v", tt.query, where, args, tt.sqlite, tt.sqlArgs)
		}
		where, args = f.SQL(query.Postgres)
		if tt.pg != "" && query.Rebind(where) != tt.pg {
			t.Errorf("%s\nPostgres got:  %s\nPostgres want: %s", tt.query, query.Rebind(where), tt.pg)
		}
		if tt.pArgs == nil {
			tt.pArgs = tt.sqlArgs
		}
		if !slices.Equal(args, tt.pArgs) {
			t.Errorf("%s: Postgres args %#v, want %#v", tt.query, args, tt.pArgs)
		}
	}
}

func TestRebind(t *testing.T) {
	for in, want := range map[string]string{
		``:                                   ``,
		`a = ?`:                              `a = $1`,
		`a IN (?, ?) AND b = ?`:              `a IN ($1, $2) AND b = $3`,
		`a = '?' AND b = ?`:                  `a = '?' AND b = $1`,
		`a = 'it''s?' AND "q?" = ?`:          `a = 'it''s?' AND "q?" = $1`,
		`lower(a) LIKE ? ESCAPE '\' AND b=?`: `lower(a) LIKE $1 ESCAPE '\' AND b=$2`,
	} {
		if got := query.Rebind(in); got != want {
			t.Errorf("Rebind(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestFields(t *testing.T) {
	schema := querytest.NewSchema()
	schema.Segments["101"] = []byte(`{"operator":"AND","value":[{"field":"age","operator":">","value":3},{"field":"tag_id","operator":"=","value":"1"}]}`)
	f, err := query.Parse([]byte(`{"operator":"OR","value":[
		{"field":"name","operator":"=","value":"x"},
		{"field":"age","operator":"=","value":1},
		{"field":"segment_id","operator":"=","value":"101"},
		{"field":"name","operator":"~","value":"y"}]}`), schema)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := f.Fields(), []string{"name", "age", "segment_id", "tag_id"}; !slices.Equal(got, want) {
		t.Errorf("Fields() = %v, want %v", got, want)
	}
}

// TestSchemaErrors checks how errors returned by a Schema surface.
func TestSchemaErrors(t *testing.T) {
	boom := errors.New("db down")
	s := funcSchema{
		field: func(name string) (query.Field, error) {
			switch name {
			case "custom":
				return query.Field{}, &query.Error{Field: name, Message: "attribute is archived"}
			case "segment_id":
				return query.Field{Name: name, Segment: true}, nil
			case "broken":
				return query.Field{Name: name, Kind: query.String, Expr: [2]string{"x", ""}}, nil
			}
			return query.Field{}, boom
		},
		segment: func(string) ([]byte, error) { return nil, boom },
	}
	for q, want := range map[string]string{
		`{"field":"custom","operator":"=","value":"a"}`:     "attribute is archived",
		`{"field":"other","operator":"=","value":"a"}`:      `field "other" is not a searchable field`,
		`{"field":"segment_id","operator":"=","value":"1"}`: `segment "1" does not exist`,
		`{"field":"broken","operator":"=","value":"a"}`:     `field "broken" cannot be searched`,
	} {
		_, err := query.Parse([]byte(q), s)
		var qe *query.Error
		if !errors.As(err, &qe) || qe.Message != want {
			t.Errorf("Parse(%s) = %v, want %q", q, err, want)
		}
		if want != "attribute is archived" && want != `field "broken" cannot be searched` && !errors.Is(err, boom) {
			t.Errorf("Parse(%s): error does not wrap the schema's error", q)
		}
	}
}

type funcSchema struct {
	field   func(string) (query.Field, error)
	segment func(string) ([]byte, error)
}

func (s funcSchema) Field(name string) (query.Field, error) { return s.field(name) }
func (s funcSchema) Segment(id string) ([]byte, error)      { return s.segment(id) }
func (s funcSchema) Location() *time.Location               { return nil }

// semanticContacts are hand-made records for TestSemantics.
func semanticContacts(loc *time.Location) []*querytest.Contact {
	day := func(d, h, m int) int64 { return time.Date(2024, 3, d, h, m, 0, 0, loc).Unix() }
	return []*querytest.Contact{
		{
			ID: "1", Name: "Alice", Email: "alice@example.com", Age: int64(30), Score: 1.5, Active: true,
			SignedUpAt: day(10, 0, 0), LastSeenAt: int64(1000),
			Attrs:     map[string]any{"plan": "Pro", "seats": int64(5), "vip": true, "ratio": 0.25, "renewal": day(9, 23, 59)},
			Tags:      []string{"1", "2"},
			Companies: []querytest.Company{{Name: "Acme", Size: int64(10)}},
		},
		{
			ID: "2", Name: "bob", Score: 2.0, Active: false, SignedUpAt: day(10, 23, 30), LastSeenAt: int64(1001),
			Attrs:     map[string]any{"plan": nil, "seats": int64(-1)},
			Companies: []querytest.Company{{}},
		},
		{
			ID: "3", Name: `50%_off\`, Email: "", Age: int64(31), SignedUpAt: day(11, 0, 0),
			Attrs:     map[string]any{"ratio": 2.0},
			Tags:      []string{"2"},
			Companies: []querytest.Company{{Name: "acme corp", Size: int64(3)}, {Name: "Zeta"}},
		},
		{ID: "4"},
	}
}

// TestSemantics states the filter semantics on hand-made records and checks
// them in memory and on SQLite (and PostgreSQL when available).
func TestSemantics(t *testing.T) {
	segments := map[string][]byte{"101": []byte(`{"field":"age","operator":">","value":29}`)}
	noon := strconv.FormatInt(time.Date(2024, 3, 10, 12, 0, 0, 0, querytest.NewSchema().Loc).Unix(), 10)
	tests := []struct{ query, want string }{
		{`{"field":"name","operator":"=","value":"Alice"}`, "1"},
		{`{"field":"name","operator":"=","value":"alice"}`, ""}, // = is case-sensitive
		{`{"field":"name","operator":"!=","value":"Alice"}`, "2 3 4"},
		{`{"field":"name","operator":"IN","value":["Alice","bob","x"]}`, "1 2"},
		{`{"field":"name","operator":"NIN","value":["Alice","bob"]}`, "3 4"},
		{`{"field":"name","operator":"~","value":"LIC"}`, "1"},
		{`{"field":"name","operator":"!~","value":"lic"}`, "2 3 4"},
		{`{"field":"name","operator":"^","value":"a"}`, "1"},
		{`{"field":"name","operator":"$","value":"B"}`, "2"},
		{`{"field":"name","operator":"~","value":"%"}`, "3"},
		{`{"field":"name","operator":"~","value":"_"}`, "3"},
		{`{"field":"name","operator":"$","value":"\\"}`, "3"},
		{`{"field":"name","operator":"~","value":"0%_O"}`, "3"},
		{`{"field":"name","operator":"~","value":"a%e"}`, ""},
		{`{"field":"name","operator":"~","value":""}`, "1 2 3"},
		{`{"field":"name","operator":"=","value":null}`, "4"},
		{`{"field":"name","operator":"!=","value":null}`, "1 2 3"},
		{`{"field":"email","operator":"=","value":""}`, "3"},
		{`{"field":"age","operator":">","value":30}`, "3"},
		{`{"field":"age","operator":"<=","value":30}`, "1"},
		{`{"field":"age","operator":"!=","value":30}`, "2 3 4"},
		{`{"field":"age","operator":"NIN","value":[30, 99]}`, "2 3 4"},
		{`{"field":"score","operator":"=","value":2}`, "2"},
		{`{"field":"score","operator":">","value":1.5}`, "2"},
		{`{"field":"score","operator":">=","value":1.5}`, "1 2"},
		{`{"field":"active","operator":"=","value":true}`, "1"},
		{`{"field":"active","operator":"=","value":false}`, "2"},
		{`{"field":"active","operator":"!=","value":true}`, "2 3 4"},
		// Dates by calendar day in New York; 2024-03-10 has 23 hours.
		{`{"field":"signed_up_at","operator":"=","value":` + noon + `}`, "1 2"},
		{`{"field":"signed_up_at","operator":"!=","value":"` + noon + `"}`, "3 4"},
		{`{"field":"signed_up_at","operator":">","value":` + noon + `}`, "3"},
		{`{"field":"signed_up_at","operator":">=","value":` + noon + `}`, "1 2 3"},
		{`{"field":"signed_up_at","operator":"<","value":` + noon + `}`, ""},
		{`{"field":"signed_up_at","operator":"<=","value":` + noon + `}`, "1 2"},
		{`{"field":"custom_attributes.renewal","operator":"<","value":` + noon + `}`, "1"},
		{`{"field":"last_seen_at","operator":"=","value":1000}`, "1"},
		{`{"field":"last_seen_at","operator":">","value":1000}`, "2"},
		// JSON null counts as absent.
		{`{"field":"custom_attributes.plan","operator":"=","value":null}`, "2 3 4"},
		{`{"field":"custom_attributes.plan","operator":"~","value":"pr"}`, "1"},
		{`{"field":"custom_attributes.seats","operator":"<","value":5}`, "2"},
		{`{"field":"custom_attributes.ratio","operator":"=","value":2}`, "3"},
		{`{"field":"custom_attributes.vip","operator":"!=","value":true}`, "2 3 4"},
		// Multi-valued fields: any related value for positive operators,
		// none for negative ones.
		{`{"field":"tag_id","operator":"=","value":"2"}`, "1 3"},
		{`{"field":"tag_id","operator":"=","value":1}`, "1"},
		{`{"field":"tag_id","operator":"!=","value":"2"}`, "2 4"},
		{`{"field":"tag_id","operator":"=","value":null}`, "2 4"},
		{`{"field":"tag_id","operator":"!=","value":null}`, "1 3"},
		{`{"field":"company.name","operator":"~","value":"ACME"}`, "1 3"},
		{`{"field":"company.name","operator":"!~","value":"acme"}`, "2 4"},
		{`{"field":"company.name","operator":"=","value":null}`, "2 4"},
		{`{"field":"company.name","operator":"NIN","value":["Zeta"]}`, "1 2 4"},
		{`{"field":"company.size","operator":">","value":5}`, "1"},
		{`{"field":"company.size","operator":"<","value":5}`, "3"},
		// Segments.
		{`{"field":"segment_id","operator":"=","value":"101"}`, "1 3"},
		{`{"field":"segment_id","operator":"!=","value":101}`, "2 4"},
		// Groups.
		{`{"operator":"OR","value":[{"operator":"AND","value":[{"field":"name","operator":"~","value":"a"},{"field":"age","operator":">","value":10}]},{"field":"tag_id","operator":"=","value":"2"}]}`, "1 3"},
		{`{"operator":"AND","value":[{"field":"segment_id","operator":"!=","value":"101"},{"field":"name","operator":"!=","value":null}]}`, "2"},
	}

	check := func(t *testing.T, db *sql.DB, d query.Dialect, rebind func(string) string) {
		ctx := context.Background()
		schema := querytest.NewSchema()
		env, err := querytest.NewEnv(ctx, db, d, rebind, semanticContacts(schema.Loc), segments)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { env.DropTables(context.Background()) })
		for _, tt := range tests {
			f, err := query.Parse([]byte(tt.query), env.Schema)
			if err != nil {
				t.Errorf("Parse(%s): %v", tt.query, err)
				continue
			}
			var got []string
			for _, c := range env.Contacts {
				if f.Match(c) {
					got = append(got, c.ID)
				}
			}
			if strings.Join(got, " ") != tt.want {
				t.Errorf("%s: Match selects [%s], want [%s]", tt.query, strings.Join(got, " "), tt.want)
			}
			if _, err := env.Check(ctx, f); err != nil {
				t.Errorf("%s: %v", tt.query, err)
			}
		}
	}
	t.Run("sqlite", func(t *testing.T) { check(t, openSQLite(t), query.SQLite, nil) })
	t.Run("postgres", func(t *testing.T) { check(t, openPostgres(t), query.Postgres, query.Rebind) })
}

func TestDifferentialSQLite(t *testing.T) {
	querytest.RunDifferential(t, openSQLite(t), query.SQLite, nil)
}

func TestDifferentialPostgres(t *testing.T) {
	querytest.RunDifferential(t, openPostgres(t), query.Postgres, query.Rebind)
}

// openSQLite opens a private in-memory SQLite database.
func openSQLite(t testing.TB) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1) // every connection would get its own database
	t.Cleanup(func() { db.Close() })
	return db
}

// openPostgres connects to PARLEY_TEST_POSTGRES_URL with a fresh schema as
// search_path, dropped at the end. Without the variable the test is skipped,
// unless CI=true.
func openPostgres(t testing.TB) *sql.DB {
	t.Helper()
	dsn := os.Getenv("PARLEY_TEST_POSTGRES_URL")
	if dsn == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("PARLEY_TEST_POSTGRES_URL must be set when CI=true")
		}
		t.Skip("PARLEY_TEST_POSTGRES_URL is not set")
	}
	ctx := context.Background()
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	if err := admin.PingContext(ctx); err != nil {
		t.Fatalf("PostgreSQL at PARLEY_TEST_POSTGRES_URL is unreachable: %v", err)
	}
	schema := fmt.Sprintf("qt_%d_%08x", os.Getpid(), rand.Uint32())
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := admin.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	// Every pooled connection gets the schema through the DSN.
	if u, err := url.Parse(dsn); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		q := u.Query()
		q.Set("search_path", schema)
		u.RawQuery = q.Encode()
		dsn = u.String()
	} else {
		dsn += " search_path=" + schema
	}
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// emptyRecord has no values at all.
type emptyRecord struct{}

func (emptyRecord) Values(string) []any { return nil }

// FuzzParse feeds arbitrary bytes to Parse. Every input must either fail
// with a *query.Error or yield a Filter that renders for both dialects with
// one argument per placeholder, matches in memory without panicking, and
// selects on SQLite exactly the records Match accepts.
func FuzzParse(f *testing.F) {
	seeds := []string{
		``, `null`, `[]`, `{}`, `"x"`, `{"field":"age"}`,
		`{"field":"age","operator":"=","value":1}`,
		`{"field":"age","operator":"IN","value":[1,2e0,-3.0]}`,
		`{"field":"score","operator":"<=","value":-0.25}`,
		`{"field":"name","operator":"~","value":"%_\\"}`,
		`{"field":"name","operator":"!~","value":"Ab"}`,
		`{"field":"email","operator":"^","value":"a"}`,
		`{"field":"email","operator":"$","value":"B@"}`,
		`{"field":"name","operator":"=","value":null}`,
		`{"field":"active","operator":"!=","value":true}`,
		`{"field":"signed_up_at","operator":">","value":"1710086400"}`,
		`{"field":"signed_up_at","operator":"=","value":1730613600}`,
		`{"field":"last_seen_at","operator":"<","value":1710086400}`,
		`{"field":"custom_attributes.plan","operator":"NIN","value":["a","b"]}`,
		`{"field":"custom_attributes.renewal","operator":"<=","value":1710000000}`,
		`{"field":"custom_attributes.vip","operator":"=","value":false}`,
		`{"field":"tag_id","operator":"!=","value":3}`,
		`{"field":"company.name","operator":"!=","value":null}`,
		`{"field":"company.size","operator":">=","value":0}`,
		`{"field":"segment_id","operator":"!=","value":"102"}`,
		`{"operator":"AND","value":[{"field":"age","operator":">","value":1},{"operator":"OR","value":[{"field":"name","operator":"^","value":"a"},{"field":"tag_id","operator":"=","value":"1"}]}]}`,
		`{"operator":"OR","value":[{"operator":"OR","value":[{"operator":"OR","value":[]}]}]}`,
		`{"field":"age","operator":"=","value":1e400}`,
		`{"field":"id","operator":"IN","value":[1,"2",{}]}`,
		`{"field":"name","operator":"=","value":"\ud800"}`,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	g := querytest.NewGen(1, querytest.NewSchema().Loc)
	contacts := g.Generate(40)
	for range 30 {
		f.Add(g.Query())
	}
	db, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		f.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	defer db.Close()
	env, err := querytest.NewEnv(context.Background(), db, query.SQLite, nil, contacts, g.AddSegments(4))
	if err != nil {
		f.Fatal(err)
	}

	f.Fuzz(func(t *testing.T, raw []byte) {
		flt, err := query.Parse(raw, env.Schema)
		if err != nil {
			var qe *query.Error
			if !errors.As(err, &qe) || qe.Message == "" {
				t.Fatalf("error %T %q is not a *query.Error with a message", err, err)
			}
			return
		}
		for _, d := range []query.Dialect{query.SQLite, query.Postgres} {
			where, args := flt.SQL(d)
			if n := strings.Count(where, "?"); n != len(args) {
				t.Fatalf("%v: %d placeholders, %d args: %s", d, n, len(args), where)
			}
			for _, a := range args {
				switch a.(type) {
				case string, int64, float64:
				case bool:
					if d != query.Postgres {
						t.Fatalf("bool argument on %v", d)
					}
				default:
					t.Fatalf("argument of type %T", a)
				}
			}
		}
		flt.Match(emptyRecord{})
		flt.Match(nil)
		if len(flt.Fields()) == 0 {
			t.Fatal("a valid filter references no field")
		}
		if _, err := env.Check(context.Background(), flt); err != nil {
			t.Fatalf("%s\nquery: %s", err, raw)
		}
		if !json.Valid(raw) {
			t.Fatal("Parse accepted invalid JSON")
		}
	})
}
