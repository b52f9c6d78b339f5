package web

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"testing"

	"github.com/parleyhq/parley/internal/attribute"
	"github.com/parleyhq/parley/internal/company"
	"github.com/parleyhq/parley/internal/conversation"
	"github.com/parleyhq/parley/internal/ids"
	"github.com/parleyhq/parley/internal/query"
	"github.com/parleyhq/parley/internal/segment"
	"github.com/parleyhq/parley/internal/store"
	"github.com/parleyhq/parley/internal/team"
	"github.com/parleyhq/parley/internal/testdb"
	"github.com/parleyhq/parley/internal/workspace"
)

// Every field and operator the builder offers, with a value of the kind
// filter.js writes for it (numbers for numeric kinds and numeric options,
// Unix seconds for dates, arrays for IN/NIN, null for "is unknown" / "has
// any value"), is accepted by the model's schema — the one the API parses
// with — as one condition and inside AND/OR groups; and the builder's
// type/kind pairs are ones filter.js knows.
func TestBuilderOperatorsParse(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := New(db, Options{})
		ws, err := s.ws.CreateWorkspace(ctx, "Acme", &workspace.Admin{Name: "Olive Owner", Email: "owner@acme.test"})
		if err != nil {
			t.Fatal(err)
		}
		owner, err := s.ws.Owner(ctx, ws.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range []*attribute.Attribute{
			{Model: attribute.ModelContact, Name: "plan", DataType: attribute.TypeString},
			{Model: attribute.ModelContact, Name: "seats", DataType: attribute.TypeInteger},
			{Model: attribute.ModelContact, Name: "mrr", DataType: attribute.TypeFloat},
			{Model: attribute.ModelContact, Name: "trial", DataType: attribute.TypeBoolean},
			{Model: attribute.ModelContact, Name: "renews", DataType: attribute.TypeDate},
			{Model: attribute.ModelContact, Name: "tier", DataType: attribute.TypeString, Options: []string{"gold", "silver"}},
			{Model: attribute.ModelCompany, Name: "region", DataType: attribute.TypeString},
		} {
			a.WorkspaceID = ws.ID
			if err := store.NewAttributes(db).Create(ctx, a); err != nil {
				t.Fatal(err)
			}
		}
		if err := store.NewConversationAttributes(db).Create(ctx, &conversation.Attribute{WorkspaceID: ws.ID, Name: "urgency", DataType: conversation.AttrInteger}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := store.NewTags(db).Ensure(ctx, ws.ID, "vip"); err != nil {
			t.Fatal(err)
		}
		if err := store.NewSegments(db).Create(ctx, &segment.Segment{WorkspaceID: ws.ID, ID: ids.New(), Name: "Pro", PersonType: segment.PersonUser,
			Filter: json.RawMessage(`{"field":"custom_attributes.plan","operator":"=","value":"pro"}`)}); err != nil {
			t.Fatal(err)
		}
		if err := s.teams.Create(ctx, &team.Team{WorkspaceID: ws.ID, Name: "Sales", Distribution: team.Manual}); err != nil {
			t.Fatal(err)
		}
		v := &visit{admin: owner, ws: ws}
		types := map[string]bool{"string": true, "integer": true, "float": true, "boolean": true, "date": true, "datetime": true, "options": true}
		for _, model := range []string{modelContacts, modelCompanies, modelConversations, modelRules} {
			fields, err := s.filterFields(ctx, v, model)
			if err != nil {
				t.Fatal(err)
			}
			if len(fields) < 5 {
				t.Fatalf("%s: only %d fields", model, len(fields))
			}
			var conds []map[string]any
			for _, f := range fields {
				if !types[f.Type] || f.Kind == "" || len(f.Operators) == 0 {
					t.Fatalf("%s: field %+v", model, f)
				}
				if f.Type == "options" && len(f.Options) == 0 && f.Field != "segment_id" {
					continue // nothing to choose (e.g. no teams): the builder shows an empty menu
				}
				for _, op := range f.Operators {
					cond := map[string]any{"field": f.Field, "operator": op, "value": builderValue(f, op)}
					if op == "=null" || op == "!=null" {
						cond["operator"], cond["value"] = op[:len(op)-4], nil
					}
					raw, _ := json.Marshal(cond)
					if _, err := s.parseFilterParam(ctx, v, model, string(raw)); err != nil {
						t.Errorf("%s: the builder offers %s but the schema refuses it: %v", model, raw, err)
					}
					conds = append(conds, cond)
				}
			}
			// The same conditions inside groups, as the builder nests them.
			for i := 0; i+2 <= len(conds); i += 2 {
				raw, _ := json.Marshal(map[string]any{"operator": "AND", "value": []any{conds[i], map[string]any{"operator": "OR", "value": []any{conds[i+1]}}}})
				if _, err := s.parseFilterParam(ctx, v, model, string(raw)); err != nil {
					t.Errorf("%s: group %s: %v", model, raw, err)
				}
			}
		}
		// The companies schema compiles to SQL over companies (aliased co)
		// that both databases run, with the expected matches.
		for i, co := range []struct {
			id, name, plan, region string
			size                   int64
		}{{"c1", "Acme Inc", "pro", "eu", 50}, {"c2", "Beta LLC", "free", "us", 5}} {
			if _, _, err := store.NewCompanies(db).Upsert(ctx, ws.ID, co.id, func(c *company.Company, _ bool) error {
				c.Name, c.Plan, c.Size, c.CustomAttributes = &co.name, &co.plan, &co.size, map[string]any{"region": co.region}
				return nil
			}); err != nil {
				t.Fatal(i, err)
			}
		}
		vip, err := store.NewTags(db).Apply(ctx, ws.ID, "vip", []store.CompanyRef{{CompanyID: "c1"}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		tagID := strconv.FormatInt(vip.ID, 10)
		for raw, want := range map[string]int{
			`{"operator":"AND","value":[{"field":"plan","operator":"=","value":"pro"},{"field":"custom_attributes.region","operator":"=","value":"eu"},{"field":"tag_id","operator":"=","value":"` + tagID + `"},{"field":"size","operator":">","value":10}]}`: 1,
			`{"operator":"OR","value":[{"field":"size","operator":"<","value":10},{"field":"tag_id","operator":"=","value":"` + tagID + `"}]}`:                                                                                                                 2,
			`{"field":"name","operator":"~","value":"llc"}`:                             1,
			`{"field":"tag_id","operator":"!=","value":"` + tagID + `"}`:                1,
			`{"field":"custom_attributes.region","operator":"NIN","value":["eu","us"]}`: 0,
		} {
			f, err := s.parseFilterParam(ctx, v, modelCompanies, raw)
			if err != nil {
				t.Fatalf("%s: %v", raw, err)
			}
			where, args := f.SQL(db.Read().Dialect())
			var n int
			if err := db.Read().QueryRow(ctx, `SELECT count(*) FROM companies co WHERE co.workspace_id = ? AND `+where, append([]any{ws.ID}, args...)...).Scan(&n); err != nil {
				t.Fatalf("%s: %v", raw, err)
			}
			if n != want {
				t.Errorf("companies matching %s: %d, want %d", raw, n, want)
			}
		}

		// A bad filter is a readable *query.Error; an empty one is none.
		_, err = s.parseFilterParam(ctx, v, modelContacts, `{"field":"custom_attributes.nope","operator":"=","value":1}`)
		var qe *query.Error
		if !errors.As(err, &qe) || filterMessage(err) != `The filter is not valid: field "custom_attributes.nope" is not a searchable field` {
			t.Fatalf("unknown field: %v / %q", err, filterMessage(err))
		}
		if f, err := s.parseFilterParam(ctx, v, modelContacts, "  "); f != nil || err != nil {
			t.Fatalf("empty filter: %v %v", f, err)
		}
		if _, err := s.parseFilterParam(ctx, v, "tickets", `{}`); err == nil {
			t.Fatal("unknown model accepted")
		}
	})
}

// builderValue is the value filter.js writes for a field and operator
// (Builder.blank and Builder.typed).
func builderValue(f filterField, op string) any {
	one := func() any {
		switch {
		case f.Type == "options" && len(f.Options) > 0:
			if f.Kind == "integer" {
				n, _ := strconv.ParseInt(f.Options[0].Value, 10, 64)
				return n
			}
			return f.Options[0].Value
		case f.Type == "date" || f.Type == "datetime":
			return 1700000000
		case f.Kind == "integer":
			return 3
		case f.Kind == "float":
			return 2.5
		case f.Kind == "boolean":
			return true
		}
		return "x"
	}
	if op == "IN" || op == "NIN" {
		return []any{one(), one()}
	}
	return one()
}
