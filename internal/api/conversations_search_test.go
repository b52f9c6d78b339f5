package api

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/conversation"
	"github.com/parleyhq/parley/internal/query"
	"github.com/parleyhq/parley/internal/query/querytest"
	"github.com/parleyhq/parley/internal/store"
)

// searchConversations pages through POST /conversations/search and
// returns the ids in order, checking pages, duplicates and total_count.
func (e *env) searchConversations(token, version string, q any, sort map[string]any, perPage int) []string {
	e.t.Helper()
	var out []string
	seen := map[string]bool{}
	after := ""
	headers := map[string]string{}
	if version != "" {
		headers["Intercom-Version"] = version
	}
	for page := 1; page < 1000; page++ {
		pg := map[string]any{"per_page": perPage}
		if after != "" {
			pg["starting_after"] = after
		}
		body := map[string]any{"query": q, "pagination": pg}
		if sort != nil {
			body["sort"] = sort
		}
		res := e.doAs(token, "POST", "/conversations/search", body, headers).ok(e.t)
		if res["type"] != "conversation.list" {
			e.t.Fatalf("search answered %v", res)
		}
		pages := res["pages"].(map[string]any)
		if pages["page"] != float64(page) || pages["per_page"] != float64(perPage) {
			e.t.Fatalf("page %d reports %v", page, pages)
		}
		list := res["conversations"].([]any)
		if len(list) > perPage {
			e.t.Fatalf("%d conversations on a page of %d", len(list), perPage)
		}
		for _, d := range list {
			c := d.(map[string]any)
			if c["type"] != "conversation" {
				e.t.Fatalf("item %v", c)
			}
			id := str(c["id"])
			if seen[id] {
				e.t.Fatalf("conversation %s on two pages", id)
			}
			seen[id] = true
			out = append(out, id)
		}
		next, ok := pages["next"].(map[string]any)
		if !ok {
			if total := int(res["total_count"].(float64)); total != len(out) {
				e.t.Fatalf("total_count %d but %d conversations over %d pages", total, len(out), page)
			}
			return out
		}
		after = str(next["starting_after"])
	}
	e.t.Fatal("search never ended")
	return nil
}

func TestConversationSearch(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		ann := e.addAdmin(e.ws, "Ann")
		e.do("POST", "/conversations/attributes", map[string]any{"name": "seats", "data_type": "integer"}).ok(t)
		amy := e.newContact(e.token, map[string]any{"email": "amy@example.com"})
		ben := e.newContact(e.token, map[string]any{"email": "ben@example.com", "role": "lead"})
		c1 := e.startConversation(amy, "I need pricing details")
		c2 := e.startConversation(ben, "Refund, please")
		c3 := e.startConversation(amy, "Hello")
		e.do("POST", "/conversations/"+c2+"/parts", map[string]any{"message_type": "close", "type": "admin", "admin_id": ann}).ok(t)
		e.do("PUT", "/conversations/"+c3, map[string]any{"priority": "high", "custom_attributes": map[string]any{"seats": 12}}).ok(t)
		tag := e.do("POST", "/tags", map[string]any{"name": "VIP"}).ok(t)
		e.do("POST", "/conversations/"+c1+"/tags", map[string]any{"id": tag["id"]}).ok(t)
		// Another workspace's conversations never show.
		_, _, otherToken := e.newWorkspace("Other")
		theirs := e.newContact(otherToken, map[string]any{"email": "amy@example.com"})
		e.doAs(otherToken, "POST", "/conversations", map[string]any{"from": map[string]any{"type": "user", "id": theirs}, "body": "pricing"}, nil).ok(t)

		leaf := func(field, op string, v any) map[string]any {
			return map[string]any{"field": field, "operator": op, "value": v}
		}
		for _, c := range []struct {
			version string
			q       any
			want    []string
		}{
			{"", leaf("state", "=", "closed"), []string{c2}},
			{"", leaf("open", "=", true), []string{c3, c1}},
			{"", leaf("source.body", "~", "PRICING"), []string{c1}},
			{"", leaf("contact_ids", "=", amy), []string{c3, c1}},
			{"", leaf("source.author.type", "=", "lead"), []string{c2}},
			{"", leaf("tag_ids", "=", str(tag["id"])), []string{c1}},
			{"", leaf("teammate_ids", "=", strconv.FormatInt(ann, 10)), []string{c2}},
			{"", leaf("statistics.last_closed_by_id", "=", strconv.FormatInt(ann, 10)), []string{c2}},
			{"", leaf("priority", "=", "priority"), []string{c3}},
			{"2.16", leaf("priority", "IN", []string{"high", "urgent"}), []string{c3}},
			{"", leaf("custom_attributes.seats", ">", 10), []string{c3}},
			{"", leaf("created_at", ">", "1306054154"), []string{c3, c2, c1}},
			{"", map[string]any{"operator": "OR", "value": []any{leaf("id", "=", c1), map[string]any{"operator": "AND", "value": []any{leaf("read", "=", false), leaf("state", "!=", "open")}}}}, []string{c2, c1}},
		} {
			if got := e.searchConversations(e.token, c.version, c.q, nil, 2); !slices.Equal(got, c.want) {
				t.Errorf("%v (version %q): %v, want %v", c.q, c.version, got, c.want)
			}
		}
		// Sorts: ids as numbers, and any single-valued field.
		all := e.searchConversations(e.token, "", leaf("id", "!=", "0"), map[string]any{"field": "id", "order": "ascending"}, 1)
		if !slices.Equal(all, []string{c1, c2, c3}) {
			t.Fatalf("by id ascending %v", all)
		}
		if got := e.searchConversations(e.token, "", leaf("id", "!=", "0"), map[string]any{"field": "state", "order": "ascending"}, 2); !slices.Equal(got, []string{c2, c1, c3}) {
			t.Fatalf("by state %v", got)
		}
		if got := e.searchConversations(otherToken, "", leaf("contact_ids", "=", amy), nil, 5); len(got) != 0 {
			t.Fatalf("another workspace found %v", got)
		}

		for _, c := range []struct {
			body   string
			status int
			code   string
		}{
			{`{}`, 400, "parameter_not_found"},
			{`{"query":{"field":"nope","operator":"=","value":1}}`, 400, "parameter_invalid"},
			{`{"query":{"field":"source.body","operator":"=","value":"x"}}`, 400, "parameter_invalid"},
			{`{"query":{"field":"created_at","operator":">","value":"yesterday"}}`, 400, "parameter_invalid"},
			{`{"query":{"field":"custom_attributes.unknown","operator":"=","value":1}}`, 400, "parameter_invalid"},
			{`{"query":{"field":"state","operator":"=","value":"open"},"pagination":{"per_page":151}}`, 400, "parameter_invalid"},
			{`{"query":{"field":"state","operator":"=","value":"open"},"pagination":{"starting_after":"garbage"}}`, 400, "parameter_invalid"},
			{`{"query":{"field":"state","operator":"=","value":"open"},"sort":{"field":"tag_ids"}}`, 400, "parameter_invalid"},
			{`{"query":{"field":"state","operator":"=","value":"open"},"sort":{"field":"id","order":"up"}}`, 400, "invalid_sort_order"},
		} {
			e.do("POST", "/conversations/search", c.body).fails(t, c.status, c.code)
		}
		// A cursor of one sort does not continue another.
		res := e.do("POST", "/conversations/search", map[string]any{"query": leaf("id", "!=", "0"), "pagination": map[string]any{"per_page": 1}}).ok(t)
		next := str(res["pages"].(map[string]any)["next"].(map[string]any)["starting_after"])
		e.do("POST", "/conversations/search", map[string]any{"query": leaf("id", "!=", "0"), "pagination": map[string]any{"per_page": 1, "starting_after": next},
			"sort": map[string]any{"field": "updated_at"}}).fails(t, 400, "parameter_invalid")
	})
}

// convDiffFields are the fields the differential test filters on.
var convDiffFields = []string{"id", "source.id", "created_at", "updated_at", "waiting_since", "snoozed_until", "state", "open", "read",
	"priority", "admin_assignee_id", "team_assignee_id", "source.type", "source.delivered_as", "source.subject", "source.body",
	"source.url", "source.author.id", "source.author.type", "source.author.name", "source.author.email", "contact_ids",
	"teammate_ids", "tag_ids", "statistics.time_to_admin_reply", "statistics.count_reopens", "statistics.count_assignments",
	"statistics.count_conversation_parts", "statistics.first_close_at", "statistics.last_admin_reply_at",
	"statistics.last_closed_by_id", "statistics.median_time_to_reply", "conversation_rating.score", "channel_initiated",
	"ai_agent_participated", "custom_attributes.plan", "custom_attributes.seats", "custom_attributes.ratio",
	"custom_attributes.vip", "custom_attributes.due", "custom_attributes.note"}

// TestConversationSearchDifferential runs random conversations through
// random changes, then checks that for random filters POST
// /conversations/search (SQL) returns exactly the conversations
// query.Filter.Match accepts on their conversation.Record, in both API
// versions' priority vocabulary. PARLEY_QUERYTEST_SEED replays a seed.
func TestConversationSearchDifferential(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		seed := querytest.Seed()
		t.Logf("seed %d (replay with PARLEY_QUERYTEST_SEED=%d)", seed, seed)
		r := rand.New(rand.NewPCG(seed, seed^0x9e3779b9))
		pick := func(xs ...any) any { return xs[r.IntN(len(xs))] }
		ann, bob := e.addAdmin(e.ws, "Ann"), e.addAdmin(e.ws, "Bob")
		team := str(e.do("POST", "/teams", map[string]any{"name": "Sales"}).ok(t)["id"])
		for _, a := range []map[string]any{
			{"name": "plan", "data_type": "list", "options": []any{map[string]any{"label": "free"}, map[string]any{"label": "pro"}}},
			{"name": "seats", "data_type": "integer"}, {"name": "ratio", "data_type": "decimal"}, {"name": "vip", "data_type": "boolean"},
			{"name": "due", "data_type": "datetime"}, {"name": "note", "data_type": "string"},
		} {
			e.do("POST", "/conversations/attributes", a).ok(t)
		}
		var tags []string
		for i := range 3 {
			tags = append(tags, str(e.do("POST", "/tags", map[string]any{"name": fmt.Sprintf("t%d", i)}).ok(t)["id"]))
		}
		var contacts []string
		for i := range 5 {
			body := map[string]any{"email": fmt.Sprintf("p%d@Example.test", i)}
			if i%2 == 1 {
				body["role"] = "lead"
			}
			if i != 3 {
				body["name"] = pick("Amy", "Ben", "amy b")
			}
			contacts = append(contacts, e.newContact(e.token, body))
		}
		now := time.Now().Unix()
		var ids []string
		for range 30 {
			body := pick("Pricing for teams?", "hello there", "Refund <please>", "I need SUPPORT", "ok").(string)
			starter := contacts[r.IntN(len(contacts))]
			m := e.do("POST", "/conversations", map[string]any{"from": map[string]any{"type": "user", "id": starter},
				"body": body, "created_at": now - int64(r.IntN(5000))}).ok(t)
			id := str(m["conversation_id"])
			ids = append(ids, id)
			path := "/conversations/" + id
			for range r.IntN(5) {
				switch r.IntN(10) {
				case 0:
					e.do("POST", path+"/reply", map[string]any{"type": "admin", "message_type": pick("comment", "note"), "admin_id": pick(ann, bob), "body": "on it"}).ok(t)
				case 1:
					e.do("POST", path+"/parts", map[string]any{"type": "admin", "message_type": "close", "admin_id": pick(ann, bob)}).ok(t)
				case 2:
					e.do("POST", path+"/parts", map[string]any{"type": "admin", "message_type": "snoozed", "snoozed_until": now + int64(r.IntN(9999)+100)}).ok(t)
				case 3:
					e.do("POST", path+"/parts", map[string]any{"type": "admin", "message_type": "open"}).ok(t)
				case 4:
					if r.IntN(2) == 0 {
						e.do("POST", path+"/parts", map[string]any{"type": "team", "message_type": "assignment", "assignee_id": pick(team, 0)}).ok(t)
					} else {
						e.do("POST", path+"/parts", map[string]any{"type": "admin", "message_type": "assignment", "assignee_id": pick(ann, bob, 0)}).ok(t)
					}
				case 5:
					e.do("POST", path+"/tags", map[string]any{"id": pick(anys(tags)...)}).ok(t)
				case 6:
					e.do("PUT", path, map[string]any{"priority": pick("none", "low", "high", "urgent"), "read": r.IntN(2) == 0}).ok(t)
				case 7:
					custom := map[string]any{}
					for name, v := range map[string]func() any{
						"plan": func() any { return pick("free", "pro") }, "seats": func() any { return r.IntN(7) - 2 },
						"ratio": func() any { return float64(r.IntN(9)) / 4 }, "vip": func() any { return r.IntN(2) == 0 },
						"due": func() any { return now + int64(r.IntN(3)-1)*86400 }, "note": func() any { return pick("Alpha", "beta", "alphabet") },
					} {
						if r.IntN(2) == 0 {
							custom[name] = v()
						}
					}
					e.do("PUT", path, map[string]any{"custom_attributes": custom}).ok(t)
				case 8:
					e.do("POST", path+"/customers", map[string]any{"customer": map[string]any{"intercom_user_id": pick(anys(contacts)...)}}).ok(t)
				case 9:
					e.do("POST", path+"/reply", map[string]any{"type": "user", "message_type": "comment", "intercom_user_id": starter, "body": "more"}).ok(t)
				}
			}
		}

		ctx := context.Background()
		st := store.NewConversations(e.db)
		convs := make([]*conversation.Conversation, len(ids))
		for i, id := range ids {
			n, _ := strconv.ParseInt(id, 10, 64)
			c, err := st.Get(ctx, e.ws.ID, n)
			if err != nil {
				t.Fatal(err)
			}
			convs[i] = c
		}
		attrs, err := store.NewConversationAttributes(e.db).List(ctx, e.ws.ID, false)
		if err != nil {
			t.Fatal(err)
		}

		var leaf func(schema *conversation.Schema, v216 bool) map[string]any
		leaf = func(schema *conversation.Schema, v216 bool) map[string]any {
			name := convDiffFields[r.IntN(len(convDiffFields))]
			f, err := schema.Field(name)
			if err != nil {
				t.Fatal(err)
			}
			ops := f.Ops
			if ops == nil {
				ops = query.KindOps(f.Kind)
			}
			op := ops[r.IntN(len(ops))]
			// Values: mostly ones some conversation has, sometimes others.
			value := func() any {
				var seen []any
				for _, c := range convs {
					seen = append(seen, conversation.Record{C: c, V216: v216}.Values(name)...)
				}
				if len(seen) > 0 && r.IntN(4) != 0 {
					v := seen[r.IntN(len(seen))]
					switch x := v.(type) {
					case string:
						if (op == "~" || op == "!~" || op == "^" || op == "$") && len(x) > 2 {
							i := r.IntN(len(x) - 1)
							return x[i : i+1+r.IntN(len(x)-i)]
						}
					case int64:
						if f.Kind == query.DateTime || f.Kind == query.Integer {
							return x + int64(r.IntN(3)-1)
						}
					}
					return v
				}
				switch f.Kind {
				case query.Boolean:
					return r.IntN(2) == 0
				case query.Integer, query.DateTime:
					return pick(int64(0), int64(1), now, ann)
				case query.Float:
					return pick(0.5, 1.0, 2.25)
				}
				return pick("pro", "zz", "Amy", "open", "<p>")
			}
			switch {
			case op == "IN" || op == "NIN":
				return map[string]any{"field": name, "operator": op, "value": []any{value(), value()}}
			case (op == "=" || op == "!=") && r.IntN(8) == 0:
				return map[string]any{"field": name, "operator": op, "value": nil}
			}
			return map[string]any{"field": name, "operator": op, "value": value()}
		}
		var filter func(schema *conversation.Schema, v216 bool, depth int) map[string]any
		filter = func(schema *conversation.Schema, v216 bool, depth int) map[string]any {
			if depth >= 2 || r.IntN(3) == 0 {
				return leaf(schema, v216)
			}
			var vals []any
			for range 2 + r.IntN(2) {
				vals = append(vals, filter(schema, v216, depth+1))
			}
			return map[string]any{"operator": pick("AND", "OR"), "value": vals}
		}

		partial := 0 // filters matching some but not all conversations
		for i := range 120 {
			v216 := i%2 == 1
			version := map[bool]string{false: "2.14", true: "2.16"}[v216]
			schema := conversation.NewSchema(time.UTC, attrs, v216)
			q := filter(schema, v216, 0)
			raw := e.do("POST", "/conversations/search", map[string]any{"query": q}) // validity first
			if raw.Status == 400 {
				t.Fatalf("generated filter refused: %v\n%s", q, raw.Raw)
			}
			b, _ := json.Marshal(q)
			pf, err := query.Parse(b, schema)
			if err != nil {
				t.Fatalf("parse %s: %v", b, err)
			}
			var want []string
			for _, c := range convs {
				if pf.Match(conversation.Record{C: c, V216: v216}) {
					want = append(want, c.IDString())
				}
			}
			got := e.searchConversations(e.token, version, q, map[string]any{"field": "id", "order": "ascending"}, 7)
			if !slices.Equal(got, want) {
				t.Fatalf("filter %s (version %s):\n SQL   %v\n Match %v", b, version, got, want)
			}
			if len(want) > 0 && len(want) < len(convs) {
				partial++
			}
		}
		if partial < 30 {
			t.Fatalf("only %d of 120 filters told conversations apart: the generator is too weak", partial)
		}
	})
}

func anys[T any](xs []T) []any {
	out := make([]any, len(xs))
	for i, x := range xs {
		out[i] = x
	}
	return out
}
