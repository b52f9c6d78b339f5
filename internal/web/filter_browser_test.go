package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/parleyhq/parley/internal/attribute"
	"github.com/parleyhq/parley/internal/ids"
	"github.com/parleyhq/parley/internal/store"
	"github.com/parleyhq/parley/internal/team"
	"github.com/parleyhq/parley/internal/testdb"
	"github.com/parleyhq/parley/internal/testkit"
	"github.com/parleyhq/parley/internal/workspace"
)

// The filter builder in Chromium against a whole Parley, on the two pages
// that use it: the owner builds "plan is pro AND (tag is vip OR tag is
// beta)" with clicks and the keyboard on a new segment and on a new
// assignment rule, saves, and after the reload the builder shows the same
// conditions and the stored filter is exactly that JSON; the segment
// counts its members, and the rule assigns a new conversation of a
// matching contact to its team. The pages pass the accessibility checks
// and the builder fits 375 px.
func TestFilterBuilderInBrowser(t *testing.T) {
	chromium := testkit.Chromium(t)
	t.Run("sqlite", func(t *testing.T) { filterBrowserScenario(t, chromium, "") })
	t.Run("postgres", func(t *testing.T) { filterBrowserScenario(t, chromium, testdb.FreshPostgres(t)) })
}

func filterBrowserScenario(t *testing.T, chromium, dbURL string) {
	const pw = "Browser-Test-Password-1"
	token := "tok_" + ids.Secret(16)
	var vip, beta, sales int64
	base := serveParley(t, dbURL, pw, func(ctx context.Context, db *store.DB, ws *workspace.Workspace) error {
		owner, err := store.NewWorkspaces(db).Owner(ctx, ws.ID)
		if err != nil {
			return err
		}
		if _, err := store.NewWorkspaces(db).CreateToken(ctx, ws.ID, owner.ID, "test", ids.HashToken(token)); err != nil {
			return err
		}
		if err := store.NewAttributes(db).Create(ctx, &attribute.Attribute{WorkspaceID: ws.ID, Model: attribute.ModelContact, Name: "plan", DataType: attribute.TypeString}); err != nil {
			return err
		}
		for name, id := range map[string]*int64{"vip": &vip, "beta": &beta} {
			tag, _, err := store.NewTags(db).Ensure(ctx, ws.ID, name)
			if err != nil {
				return err
			}
			*id = tag.ID
		}
		// Dates are read in the workspace's time zone (a fixture: no
		// settings page sets it yet).
		if err := db.InTx(ctx, func(tx *store.Tx) error {
			_, err := tx.Exec(ctx, `UPDATE workspaces SET time_zone = 'America/New_York' WHERE id = ?`, ws.ID)
			return err
		}); err != nil {
			return err
		}
		tm := &team.Team{WorkspaceID: ws.ID, Name: "Sales", Distribution: team.Manual}
		err = store.NewTeams(db).Create(ctx, tm)
		sales = tm.ID
		return err
	})
	api := func(method, path string, body any) map[string]any {
		t.Helper()
		raw, _ := json.Marshal(body)
		req, _ := http.NewRequest(method, base+path, bytes.NewReader(raw))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s %s: %d %v", method, path, resp.StatusCode, out)
		}
		return out
	}
	// Contacts: pro+vip, pro+beta, pro alone, free+vip: two are in the segment.
	for _, c := range []struct {
		plan string
		tag  int64
	}{{"pro", vip}, {"pro", beta}, {"pro", 0}, {"free", vip}} {
		ct := api(http.MethodPost, "/contacts", map[string]any{"role": "user", "email": ids.Secret(4) + "@customer.test", "custom_attributes": map[string]any{"plan": c.plan}})
		if c.tag != 0 {
			api(http.MethodPost, "/contacts/"+ct["id"].(string)+"/tags", map[string]any{"id": strconv.FormatInt(c.tag, 10)})
		}
	}

	c := newChrome(t, chromium, dbURL)
	do, waitFor, eval, shot := c.do, c.waitFor, c.eval, c.shot
	do(chromedp.Navigate(base+"/signin"), chromedp.WaitVisible(chromedp.CSS("#email")))
	do(chromedp.SendKeys(chromedp.CSS("#email"), "owner@parley.test"), chromedp.SendKeys(chromedp.CSS("#password"), pw),
		chromedp.Click(chromedp.CSS("#signin")))
	waitFor("the inbox", `location.pathname === '/app/inbox'`)

	// control focuses the j-th select or input of the k-th condition.
	control := func(k, j int) {
		t.Helper()
		eval(fmt.Sprintf(`(() => { document.querySelectorAll('.fb-cond')[%d].querySelectorAll('select, input')[%d].focus(); return '' })()`, k, j))
	}
	// pick chooses an option of a condition's select with the arrow keys,
	// as a keyboard user does (each step fires change; the builder
	// re-renders and keeps the focus).
	pick := func(k, j int, label string) {
		t.Helper()
		control(k, j)
		sel := fmt.Sprintf(`document.querySelectorAll('.fb-cond')[%d].querySelectorAll('select, input')[%d]`, k, j)
		steps, _ := strconv.Atoi(eval(fmt.Sprintf(`(() => { const s = %s; const i = [...s.options].findIndex(o => o.text === %q); return String(i < 0 ? -999 : i - s.selectedIndex) })()`, sel, label)))
		if steps == -999 {
			t.Fatalf("no option %q in condition %d control %d", label, k, j)
		}
		key := kb.ArrowDown
		if steps < 0 {
			key, steps = kb.ArrowUp, -steps
		}
		for range steps {
			do(chromedp.KeyEvent(key))
		}
		waitFor("option "+label, sel+`.selectedOptions[0].text === `+strconv.Quote(label)+` && document.activeElement === `+sel)
	}
	// build makes "FIELD is pro AND (TAG is vip OR TAG is beta)" on the
	// open page's empty builder.
	build := func(planLabel, tagLabel string) {
		t.Helper()
		waitFor("the builder", `document.querySelector('.fb') && document.querySelector('.fb-json textarea')`)
		// Add a condition with the keyboard: focus the button, press Enter.
		eval(`(() => { document.querySelector('.fb > .fb-group > .fb-acts > button').focus(); return '' })()`)
		do(chromedp.KeyEvent(kb.Enter))
		waitFor("a condition", `document.querySelectorAll('.fb-cond').length === 1`)
		pick(0, 0, planLabel)
		pick(0, 1, "is")
		control(0, 2)
		do(chromedp.KeyEvent("pro"))
		// A group (OR, inside the AND) with a tag condition, then a second one.
		do(chromedp.Click(chromedp.CSS(`.fb > .fb-group > .fb-acts > button:nth-child(2)`)))
		waitFor("a group", `document.querySelectorAll('.fb-sub .fb-cond').length === 1`)
		pick(1, 0, tagLabel)
		pick(1, 2, "vip")
		do(chromedp.Click(chromedp.CSS(`.fb-sub .fb-acts > button:nth-child(1)`)))
		waitFor("a second condition in the group", `document.querySelectorAll('.fb-sub .fb-cond').length === 2`)
		pick(2, 0, tagLabel)
		pick(2, 2, "beta")
	}
	expect := func(prefix string) string {
		return fmt.Sprintf(`{"operator":"AND","value":[{"field":"%scustom_attributes.plan","operator":"=","value":"pro"},{"operator":"OR","value":[{"field":"%stag_id","operator":"=","value":"%d"},{"field":"%stag_id","operator":"=","value":"%d"}]}]}`,
			prefix, prefix, vip, prefix, beta)
	}
	// shows checks the builder shows the filter after a reload.
	shows := func(planLabel, tagLabel string) {
		t.Helper()
		got := eval(`[...document.querySelectorAll('.fb-cond')].map(c => [...c.querySelectorAll('select, input')].map(e => e.tagName === 'SELECT' ? e.selectedOptions[0].text : e.value).join('|')).join(' ; ') + ' / ' +
			[...document.querySelectorAll('.fb-head select')].map(s => s.value).join(',')`)
		if exp := planLabel + "|is|pro ; " + tagLabel + "|is|vip ; " + tagLabel + "|is|beta / AND,OR"; got != exp {
			t.Fatalf("the builder after reload shows %q, want %q", got, exp)
		}
	}

	// A segment.
	do(chromedp.Navigate(base + "/app/segments/new"))
	waitFor("the segment form", `!!document.querySelector('#segment-name')`)
	do(chromedp.SendKeys(chromedp.CSS("#segment-name"), "Pro testers"))
	build("plan", "Tag")
	if got := eval(`document.querySelector('#filter').value`); got != expect("") {
		t.Fatalf("the builder wrote %s, want %s", got, expect(""))
	}
	c.a11y("the segment form with the builder")
	do(chromedp.Click(chromedp.CSS("#save-segment")))
	waitFor("the saved segment", `location.search === '?saved=1' && document.querySelectorAll('.fb-cond').length === 3`)
	do(chromedp.Reload())
	waitFor("the reloaded builder", `document.querySelectorAll('.fb-cond').length === 3`)
	shows("plan", "Tag")
	segID := eval(`location.pathname.split('/').pop()`)
	seg := api(http.MethodGet, "/segments/"+segID+"?include_count=true", nil)
	if raw, _ := json.Marshal(seg["filter"]); string(raw) != expect("") || seg["count"] != float64(2) {
		t.Fatalf("stored segment: %s count %v", raw, seg["count"])
	}
	shot("filter-builder")
	do(chromedp.Navigate(base + "/app/segments"))
	waitFor("the segments list", `document.querySelector('tr[data-segment="`+segID+`"] .count')?.textContent === '2'`)
	shot("segments")
	c.a11y("the segments list")

	// An assignment rule to Sales.
	do(chromedp.Navigate(base + "/app/settings/assignment-rules/new"))
	waitFor("the rule form", `!!document.querySelector('#rule-name')`)
	do(chromedp.SendKeys(chromedp.CSS("#rule-name"), "Pro testers to Sales"))
	build("Contact: plan", "Contact: Tag")
	do(chromedp.SetValue(chromedp.CSS("#rule-target"), "team:"+strconv.FormatInt(sales, 10)))
	c.a11y("the rule form with the builder")
	do(chromedp.Click(chromedp.CSS("#save-rule")))
	waitFor("the saved rule", `location.search === '?saved=1' && document.querySelectorAll('.fb-cond').length === 3`)
	do(chromedp.Reload())
	waitFor("the reloaded rule builder", `document.querySelectorAll('.fb-cond').length === 3`)
	shows("Contact: plan", "Contact: Tag")
	if got := eval(`document.querySelector('#rule-target').selectedOptions[0].text`); got != "Sales" {
		t.Fatalf("rule target after reload: %q", got)
	}
	ruleID := eval(`location.pathname.split('/').pop()`)
	rule := api(http.MethodGet, "/assignment_rules/"+ruleID, nil)
	if raw, _ := json.Marshal(rule["condition"]); string(raw) != expect("contact.") || rule["team_id"] != float64(sales) {
		t.Fatalf("stored rule: %s team %v", raw, rule["team_id"])
	}
	do(chromedp.Navigate(base + "/app/settings/assignment-rules"))
	waitFor("the rules list", `document.querySelector('li[data-rule="`+ruleID+`"] .rule-target')?.textContent === 'Team Sales' && document.querySelector('li[data-rule="`+ruleID+`"] .rule-condition').textContent === 'When Contact: plan is "pro" and (Contact: Tag is vip or Contact: Tag is beta)'`)
	shot("assignment-rules")
	c.a11y("the assignment rules list")

	// The rule decides a new conversation of a matching contact, and not
	// one of a contact outside it.
	for _, tc := range []struct {
		plan string
		team any
	}{{"pro", float64(sales)}, {"free", nil}} {
		ct := api(http.MethodPost, "/contacts", map[string]any{"role": "user", "email": ids.Secret(4) + "@customer.test", "custom_attributes": map[string]any{"plan": tc.plan}})
		api(http.MethodPost, "/contacts/"+ct["id"].(string)+"/tags", map[string]any{"id": strconv.FormatInt(beta, 10)})
		created := api(http.MethodPost, "/conversations", map[string]any{"from": map[string]any{"type": "user", "id": ct["id"]}, "body": "Hello"})
		conv := api(http.MethodGet, "/conversations/"+created["conversation_id"].(string), nil)
		if conv["team_assignee_id"] != tc.team {
			t.Fatalf("plan %s: team_assignee_id %v, want %v", tc.plan, conv["team_assignee_id"], tc.team)
		}
	}

	// Dates: a stored Unix time shows as its day in the workspace's time
	// zone (03:00 UTC on 10 March is still 9 March in New York); a day
	// typed into the date picker is written as that day's midnight there.
	do(chromedp.Navigate(base + "/app/segments/new?filter=" + url.QueryEscape(`{"field":"signed_up_at","operator":">","value":1773111600}`)))
	waitFor("the date condition", `document.querySelector('.fb-cond input[type=date]')?.value === '2026-03-09' && document.querySelector('.fb-cond select:nth-of-type(2)').selectedOptions[0].text === 'is after'`)
	control(0, 2)
	do(chromedp.KeyEvent("03112026"))
	waitFor("the typed day as midnight in New York", `document.querySelector('#filter').value === '{"field":"signed_up_at","operator":">","value":1773201600}'`)

	// The builder at 375 px: no sideways scrolling.
	do(chromedp.EmulateViewport(375, 740), chromedp.Navigate(base+"/app/segments/"+segID))
	waitFor("the builder at 375 px", `document.querySelectorAll('.fb-cond').length === 3 && document.documentElement.scrollWidth <= 375`)
	shot("filter-builder-375")
}
