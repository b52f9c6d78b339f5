package web_test

import (
	"context"
	"encoding/csv"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/parleyhq/parley/internal/attribute"
	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/ids"
	"github.com/parleyhq/parley/internal/store"
	"github.com/parleyhq/parley/internal/testdb"
	"github.com/parleyhq/parley/internal/testkit"
	"github.com/parleyhq/parley/internal/workspace"
)

// Contacts in Chromium against a whole Parley, as an agent: list users,
// pick a column, filter by a custom attribute (typed as JSON), save the
// segment and see its count, open a contact, edit an attribute (a bad
// value is refused with the message), add a tag and a note, export the
// filtered list, import a CSV with one bad row and read the report.
func TestContactsInBrowser(t *testing.T) {
	chromium := testkit.Chromium(t)
	t.Run("sqlite", func(t *testing.T) { contactsBrowserScenario(t, chromium, "") })
	t.Run("postgres", func(t *testing.T) { contactsBrowserScenario(t, chromium, testdb.FreshPostgres(t)) })
}

func contactsBrowserScenario(t *testing.T, chromium, dbURL string) {
	const pw = "Browser-Test-Password-1"
	base := serveParley(t, dbURL, pw, func(ctx context.Context, db *store.DB, ws *workspace.Workspace) error {
		attrs := store.NewAttributes(db)
		for name, typ := range map[string]string{"plan": attribute.TypeString, "seats": attribute.TypeInteger} {
			if err := attrs.Create(ctx, &attribute.Attribute{WorkspaceID: ws.ID, Model: attribute.ModelContact, Name: name, DataType: typ}); err != nil {
				return err
			}
		}
		if _, _, err := store.NewTags(db).Ensure(ctx, ws.ID, "VIP"); err != nil {
			return err
		}
		for i, who := range []string{"Ann Pro", "Bob Free", "Cid Pro", "Dee Free", "Eve Free"} {
			name, email := who, strings.ToLower(strings.Fields(who)[0])+"@customer.test"
			plan := strings.ToLower(strings.Fields(who)[1])
			c := &contact.Contact{WorkspaceID: ws.ID, ID: ids.New(), Role: contact.RoleUser, Name: &name, Email: &email,
				CustomAttributes: map[string]any{"plan": plan, "seats": int64(i + 1)}}
			if err := store.NewContacts(db).Create(ctx, c); err != nil {
				return err
			}
		}
		return nil
	})
	c := newChrome(t, chromium, dbURL)
	do, waitFor, eval, shot := c.do, c.waitFor, c.eval, c.shot
	do(chromedp.Navigate(base+"/signin"), chromedp.WaitVisible(chromedp.CSS("#email")))
	do(chromedp.SendKeys(chromedp.CSS("#email"), "agent@parley.test"), chromedp.SendKeys(chromedp.CSS("#password"), pw),
		chromedp.Click(chromedp.CSS("#signin")))
	waitFor("the inbox", `location.pathname === '/app/inbox'`)

	// The users list, then a picked column.
	do(chromedp.Click(chromedp.CSS(`nav a[href="/app/contacts"]`)))
	waitFor("the users", `document.querySelectorAll('#contacts tbody tr[data-id]').length === 5 && document.querySelector('#total').textContent === '5'`)
	waitFor("the filter builder", `!!document.querySelector('.filter-builder.fb-on')`)
	c.a11y("the users list")
	do(chromedp.Click(chromedp.CSS(".picker summary")), chromedp.Click(chromedp.CSS(`input[value="custom_attributes.plan"]`)), chromedp.Click(chromedp.CSS("#show-columns")))
	waitFor("the plan column", `[...document.querySelectorAll('#contacts th')].some(th => th.textContent === 'plan') && document.querySelector('#contacts tbody').textContent.includes('pro')`)

	// Filter by the custom attribute, save it as a segment.
	do(chromedp.SetValue(chromedp.CSS("#filter"), `{"field":"custom_attributes.plan","operator":"=","value":"pro"}`), chromedp.Click(chromedp.CSS("#apply")))
	waitFor("the filtered list", `document.querySelector('#total')?.textContent === '2' && document.querySelectorAll('#contacts tbody tr[data-id]').length === 2`)
	waitFor("the filter builder showing the filter", `!!document.querySelector('.filter-builder.fb-on') && document.querySelectorAll('.filter-builder select, .filter-builder input').length > 1`)
	shot("contacts-filtered")
	c.a11y("the filtered list")
	exportURL := eval(`document.querySelector('#export').href`)
	do(chromedp.SendKeys(chromedp.CSS("#segment-name"), "Pro customers"), chromedp.Click(chromedp.CSS("#save-segment")))
	waitFor("the segment with its count", `document.querySelector('h1')?.textContent.includes('Pro customers') && document.querySelector('#segment-count')?.textContent === '2'`)
	c.a11y("a segment")

	// A contact: a bad value is refused with the message; a good one saved.
	do(chromedp.Click(chromedp.CSS(`#contacts tbody tr[data-id] a`)))
	waitFor("a contact", `location.pathname.startsWith('/app/contacts/') && !!document.querySelector('#edit-contact')`)
	c.a11y("a contact")
	seats := chromedp.CSS(`[name="custom_attributes.seats"]`)
	do(chromedp.SetValue(seats, "lots"), chromedp.Click(chromedp.CSS("#save-contact")))
	waitFor("the refusal", `document.querySelector('#panel-error')?.textContent.includes("Custom attribute 'seats' must be an integer")`)
	do(chromedp.SetValue(seats, "42"), chromedp.Click(chromedp.CSS("#save-contact")))
	waitFor("the saved value", `!document.querySelector('#panel-error') && document.querySelector('[name="custom_attributes.seats"]').value === '42'`)
	do(chromedp.Click(chromedp.CSS("#add-tag-button")))
	waitFor("the tag", `document.querySelector('#tags')?.textContent.includes('VIP')`)
	do(chromedp.SendKeys(chromedp.CSS("#note-body"), "Wants an invoice in euros"), chromedp.Click(chromedp.CSS("#add-note")))
	waitFor("the note", `document.querySelector('#notes')?.textContent.includes('Wants an invoice in euros') && document.querySelector('#notes').textContent.includes('Alan Agent')`)
	shot("contact")

	// The export of the filtered list, fetched with the session's cookie.
	jar, _ := cookiejar.New(nil)
	hb := &browser{e: &env{t: t, url: base}, client: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	hb.mustSigninWith("agent@parley.test", pw)
	u, _ := url.Parse(exportURL)
	p := hb.get(u.RequestURI())
	recs, err := csv.NewReader(strings.NewReader(p.body)).ReadAll()
	if err != nil || p.status != http.StatusOK || len(recs) != 3 || recs[0][len(recs[0])-1] != "custom_attributes.plan" || recs[1][len(recs[1])-1] != "pro" {
		t.Fatalf("export: %d %v %q", p.status, err, p.body)
	}

	// Import a CSV with one bad row.
	file := filepath.Join(t.TempDir(), "people.csv")
	if err := os.WriteFile(file, []byte("Email,Name,Seats,Plan (old)\nfay@customer.test,Fay New,3,gold\ngus@customer.test,Gus New,many,gold\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	do(chromedp.Navigate(base + "/app/contacts/import"))
	waitFor("the import page", `!!document.querySelector('#file')`)
	c.a11y("the import page")
	do(chromedp.SetUploadFiles(chromedp.CSS("#file"), []string{file}), chromedp.Click(chromedp.CSS("#upload-button")))
	// Columns named like a field are preset; the teammate maps the other.
	waitFor("the mapping", `document.querySelector('#map2')?.value === 'custom_attributes.seats' && document.querySelector('#map3').value === ''`)
	c.a11y("the column mapping")
	do(chromedp.SetValue(chromedp.CSS("#map3"), "custom_attributes.plan"), chromedp.Click(chromedp.CSS("#run-import")))
	waitFor("the report", `document.querySelector('#import-state')?.textContent === 'Finished' && document.querySelector('#created').textContent === '1' && document.querySelector('#import-errors')?.textContent.includes("3Custom attribute 'seats' must be an integer")`)
	shot("import-report")
	if p := hb.get("/app/contacts?" + url.Values{"filter": {`{"field":"custom_attributes.plan","operator":"=","value":"gold"}`}}.Encode()); !strings.Contains(p.body, `<span id="total">1</span>`) {
		t.Fatalf("the mapped column was not imported: %s", p.body)
	}
	c.a11y("the import report")

	do(chromedp.Navigate(base + "/app/companies"))
	waitFor("the companies", `location.pathname === '/app/companies' && document.querySelector('#total')?.textContent === '0'`)
	c.a11y("the companies list")

	// Phone-sized: the lists and a contact fit 375 px.
	do(chromedp.EmulateViewport(375, 740), chromedp.Navigate(base+"/app/contacts"))
	waitFor("the users at 375 px", `document.querySelector('#total')?.textContent === '6' && document.documentElement.scrollWidth <= 375`)
	shot("contacts-375")
	do(chromedp.Click(chromedp.CSS(`#contacts tbody tr[data-id] a`)))
	waitFor("a contact at 375 px", `!!document.querySelector('#edit-contact') && document.documentElement.scrollWidth <= 375`)
}
