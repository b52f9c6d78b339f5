package web_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"html"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/parleyhq/parley/internal/attribute"
	"github.com/parleyhq/parley/internal/company"
	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/csvimport"
	"github.com/parleyhq/parley/internal/ids"
	"github.com/parleyhq/parley/internal/jobs"
	"github.com/parleyhq/parley/internal/store"
	"github.com/parleyhq/parley/internal/testdb"
	"github.com/parleyhq/parley/internal/web"
)

// addContact creates a contact of workspace ws with custom attributes.
func (e *env) addContact(ws, role, name, email string, custom map[string]any) *contact.Contact {
	e.t.Helper()
	c := &contact.Contact{WorkspaceID: ws, ID: ids.New(), Role: role, CustomAttributes: custom}
	if name != "" {
		c.Name = &name
	}
	if email != "" {
		c.Email = &email
	}
	if err := store.NewContacts(e.db).Create(context.Background(), c); err != nil {
		e.t.Fatal(err)
	}
	return c
}

func (e *env) addAttribute(ws, name, dataType string) {
	e.t.Helper()
	if err := store.NewAttributes(e.db).Create(context.Background(), &attribute.Attribute{WorkspaceID: ws, Model: attribute.ModelContact, Name: name, DataType: dataType}); err != nil {
		e.t.Fatal(err)
	}
}

var contactRowRe = regexp.MustCompile(`<tr data-id="([0-9a-f]{24})"`)

func contactRows(body string) []string {
	var out []string
	for _, m := range contactRowRe.FindAllStringSubmatch(body, -1) {
		out = append(out, m[1])
	}
	return out
}

// postFrom posts form to path with the CSRF token of the page at from.
func (b *browser) postFrom(path, from string, form url.Values) page {
	b.e.t.Helper()
	form.Set("csrf", b.csrf(from))
	return b.do(http.MethodPost, path, form)
}

// Lists: role tabs, filter by a custom attribute, keyset pages with no
// repeat, sorts, the column picker remembered in a cookie, a bad filter
// is a 400 with the parser's message, saving a segment (API validation)
// and opening it with its count; another workspace never shows.
func TestContactLists(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, web.Options{})
		e.addAttribute(e.ws.ID, "plan", attribute.TypeString)
		for i := range 60 {
			plan := "free"
			if i%3 == 0 {
				plan = "pro"
			}
			e.addContact(e.ws.ID, contact.RoleUser, fmt.Sprintf("User %02d", i), fmt.Sprintf("u%02d@acme.test", i), map[string]any{"plan": plan})
		}
		lead := e.addContact(e.ws.ID, contact.RoleLead, "Lena Lead", "lena@acme.test", nil)
		other, _, _ := e.workspace("Globex")
		stranger := e.addContact(other.ID, contact.RoleUser, "Stranger", "s@globex.test", map[string]any{"plan": "pro"})

		b := e.browser()
		b.mustSignin(e.agent.Email) // agents see and edit contacts
		p := b.get("/app/contacts")
		want(t, p, http.StatusOK, `<span id="total">60</span> users`)
		first := contactRows(p.body)
		if len(first) != 50 || strings.Contains(p.body, stranger.ID) || strings.Contains(p.body, lead.ID) {
			t.Fatalf("first page: %d rows", len(first))
		}
		m := regexp.MustCompile(`href="(/app/contacts\?[^"]*after=[^"]*)" id="next"`).FindStringSubmatch(p.body)
		if m == nil {
			t.Fatal("no next page link")
		}
		p2 := b.get(html.UnescapeString(m[1]))
		second := contactRows(p2.body)
		if len(second) != 10 || slices.ContainsFunc(second, func(id string) bool { return slices.Contains(first, id) }) {
			t.Fatalf("second page: %d %v", p2.status, second)
		}
		if ids := contactRows(b.get("/app/contacts?sort=created_at&order=asc").body); ids[0] != second[len(second)-1] {
			t.Fatal("oldest first does not start with the last of newest first")
		}
		want(t, b.get("/app/contacts?role=lead"), http.StatusOK, lead.ID)

		// Filter by the custom attribute.
		filter := `{"field":"custom_attributes.plan","operator":"=","value":"pro"}`
		p = b.get("/app/contacts?" + url.Values{"filter": {filter}}.Encode())
		want(t, p, http.StatusOK, `<span id="total">20</span> users`)
		if strings.Contains(p.body, stranger.ID) {
			t.Fatal("another workspace's contact listed")
		}
		want(t, b.get("/app/contacts?"+url.Values{"filter": {`{"field":"nope","operator":"=","value":"x"}`}}.Encode()), http.StatusBadRequest, "The filter is not valid")
		want(t, b.get("/app/contacts?"+url.Values{"filter": {`{"field":`}}.Encode()), http.StatusBadRequest, "The filter is not valid")
		want(t, b.get("/app/contacts?after=zzz"), http.StatusBadRequest, "not valid")

		// Columns: picked, remembered, used by the export link.
		p = b.get("/app/contacts?pick=1&col=email&col=custom_attributes.plan")
		want(t, p, http.StatusOK, `<th scope="col">plan</th>`)
		if strings.Contains(p.body, `<th scope="col">Name</th>`) {
			t.Fatal("unpicked column shown")
		}
		want(t, b.get("/app/contacts"), http.StatusOK, `<th scope="col">plan</th>`)

		// Save as segment, with the API's validation.
		seq := e.head(e.ws.ID)
		want(t, b.postFrom("/app/contacts/segments", "/app/contacts?filter=x", url.Values{"name": {""}, "role": {"user"}, "filter": {filter}}), http.StatusBadRequest, "Segment name must not be empty")
		want(t, b.postFrom("/app/contacts/segments", "/app/contacts", url.Values{"name": {"Bad"}, "role": {"user"}, "filter": {`{"field":"segment_id","operator":"=","value":"x"}`}}), http.StatusBadRequest, "")
		if got := e.topicsSince(e.ws.ID, seq); len(got) != 0 {
			t.Fatalf("refused segments appended %v", got)
		}
		p = b.postFrom("/app/contacts/segments", "/app/contacts", url.Values{"name": {"Pro users"}, "role": {"user"}, "filter": {filter}})
		if p.status != http.StatusSeeOther {
			t.Fatalf("save segment: %d %s", p.status, p.body)
		}
		if got := e.topicsSince(e.ws.ID, seq); !slices.Equal(got, []string{"segment.created"}) {
			t.Fatalf("events %v", got)
		}
		p = b.get(p.location)
		want(t, p, http.StatusOK, `<span class="count" id="segment-count">20</span>`)
		want(t, p, http.StatusOK, "Segment saved")
		segs, _ := store.NewSegments(db).List(context.Background(), other.ID)
		if len(segs) != 0 {
			t.Fatal("segment in the other workspace")
		}
		want(t, b.get("/app/contacts?segment_id=nope"), http.StatusNotFound, "Segment not found")

		// Companies list and page; another workspace's is a 404.
		co, _, err := store.NewCompanies(db).Upsert(context.Background(), e.ws.ID, "acme-1", func(c *company.Company, created bool) error { n := "Acme Inc"; c.Name = &n; return nil })
		if err != nil {
			t.Fatal(err)
		}
		oco, _, err := store.NewCompanies(db).Upsert(context.Background(), other.ID, "glob-1", func(c *company.Company, created bool) error { return nil })
		if err != nil {
			t.Fatal(err)
		}
		p = b.get("/app/companies")
		want(t, p, http.StatusOK, "Acme Inc")
		if strings.Contains(p.body, "glob-1") {
			t.Fatal("another workspace's company listed")
		}
		p = b.get("/app/companies?pick=1&col=name&col=size")
		want(t, p, http.StatusOK, `<th scope="col">Company size</th>`)
		if strings.Contains(p.body, `<th scope="col">Plan</th>`) {
			t.Fatal("unpicked company column shown")
		}
		want(t, b.get("/app/companies"), http.StatusOK, `<th scope="col">Company size</th>`)
		want(t, b.get("/app/contacts"), http.StatusOK, `<th scope="col">plan</th>`) // each list its own choice
		want(t, b.get("/app/companies/"+co.ID), http.StatusOK, "Acme Inc")
		want(t, b.get("/app/companies/"+oco.ID), http.StatusNotFound, "Company not found")
	})
}

// The profile: shown with its parts; edits with the API's validation
// append the API's events; bad values are a 400 with the message and
// change nothing; tags and notes; another workspace's contact is a 404 for
// every route.
func TestContactProfile(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, web.Options{})
		e.addAttribute(e.ws.ID, "seats", attribute.TypeInteger)
		c := e.addContact(e.ws.ID, contact.RoleUser, "Ann", "ann@acme.test", map[string]any{"seats": int64(3)})
		e.addContact(e.ws.ID, contact.RoleUser, "Bob", "bob@acme.test", nil)
		tag, _, err := store.NewTags(db).Ensure(context.Background(), e.ws.ID, "VIP")
		if err != nil {
			t.Fatal(err)
		}
		other, _, _ := e.workspace("Globex")
		stranger := e.addContact(other.ID, contact.RoleUser, "Stranger", "s@globex.test", nil)
		otag, _, _ := store.NewTags(db).Ensure(context.Background(), other.ID, "Secret")

		b := e.browser()
		b.mustSignin(e.agent.Email)
		path := "/app/contacts/" + c.ID
		p := b.get(path)
		want(t, p, http.StatusOK, `value="3"`)
		want(t, p, http.StatusOK, "ann@acme.test")

		edit := func(fields url.Values) page { return b.postFrom(path+"/edit", path, fields) }
		seq := e.head(e.ws.ID)
		want(t, edit(url.Values{"custom_attributes.seats": {"many"}}), http.StatusBadRequest, "Custom attribute &#39;seats&#39; must be an integer")
		want(t, edit(url.Values{"email": {"not an email"}}), http.StatusBadRequest, "is not a valid email address")
		want(t, edit(url.Values{"role": {"lead"}}), http.StatusBadRequest, "cannot be turned back into a lead")
		want(t, edit(url.Values{"email": {""}}), http.StatusBadRequest, "A user needs an email or an external_id")
		want(t, edit(url.Values{"email": {"bob@acme.test"}}), http.StatusConflict, "Another contact already has")
		want(t, edit(url.Values{"custom_attributes.ghost": {"x"}}), http.StatusBadRequest, "does not exist")
		if got := e.topicsSince(e.ws.ID, seq); len(got) != 0 {
			t.Fatalf("refused edits appended %v", got)
		}
		p = edit(url.Values{"name": {" Ann Smith "}, "custom_attributes.seats": {"12"}, "return_to": {"/app/inbox"}})
		if p.status != http.StatusSeeOther || p.location != "/app/inbox" {
			t.Fatalf("edit: %d %s", p.status, p.location)
		}
		p = edit(url.Values{"name": {"Ann Smith"}, "return_to": {"https://evil.test/"}})
		if p.location != path {
			t.Fatalf("return_to elsewhere: %s", p.location)
		}
		got, _ := store.NewContacts(db).Get(context.Background(), e.ws.ID, c.ID)
		if *got.Name != "Ann Smith" || got.CustomAttributes["seats"] != int64(12) {
			t.Fatalf("saved %v %v", *got.Name, got.CustomAttributes)
		}
		if topics := e.topicsSince(e.ws.ID, seq); !slices.Equal(topics, []string{"contact.user.updated", "contact.user.updated"}) {
			t.Fatalf("events %v", topics)
		}

		// Tags and notes.
		seq = e.head(e.ws.ID)
		p = b.postFrom(path+"/tags", path, url.Values{"tag_id": {itoa(tag.ID)}})
		if p.status != http.StatusSeeOther {
			t.Fatalf("tag: %d %s", p.status, p.body)
		}
		want(t, b.postFrom(path+"/tags", path, url.Values{"tag_id": {itoa(otag.ID)}}), http.StatusBadRequest, "no such tag")
		want(t, b.postFrom(path+"/notes", path, url.Values{"body": {"  "}}), http.StatusBadRequest, "Write a note")
		b.postFrom(path+"/notes", path, url.Values{"body": {"Called <b>her</b>"}})
		p = b.get(path)
		want(t, p, http.StatusOK, `<span class="tag">VIP</span>`)
		want(t, p, http.StatusOK, "Called &lt;b&gt;her&lt;/b&gt;")
		if topics := e.topicsSince(e.ws.ID, seq); !slices.Equal(topics, []string{"contact.user.tag.created", "contact.note.created"}) {
			t.Fatalf("events %v", topics)
		}
		b.postFrom(path+"/tags", path, url.Values{"remove": {itoa(tag.ID)}})
		if strings.Contains(b.get(path).body, `<span class="tag">VIP</span>`) {
			t.Fatal("tag not removed")
		}

		// Another workspace's contact: 404 everywhere, nothing changed.
		seq = e.head(other.ID)
		spath := "/app/contacts/" + stranger.ID
		want(t, b.get(spath), http.StatusNotFound, "Contact not found")
		want(t, b.postFrom(spath+"/edit", path, url.Values{"name": {"Owned"}}), http.StatusNotFound, "Contact not found")
		want(t, b.postFrom(spath+"/tags", path, url.Values{"tag_id": {itoa(otag.ID)}}), http.StatusNotFound, "Contact not found")
		want(t, b.postFrom(spath+"/notes", path, url.Values{"body": {"hi"}}), http.StatusNotFound, "Contact not found")
		if topics := e.topicsSince(other.ID, seq); len(topics) != 0 {
			t.Fatalf("other workspace changed: %v", topics)
		}
		// CSRF is checked.
		want(t, b.do(http.MethodPost, path+"/edit", url.Values{"name": {"X"}}), http.StatusForbidden, "Form expired")
	})
}

// Export streams the filtered list with the chosen columns, every page;
// import maps columns, runs as a job and reports the bad row's line.
func TestContactExportImport(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		dir := t.TempDir()
		e := newEnv(t, db, web.Options{ImportDir: dir})
		e.addAttribute(e.ws.ID, "plan", attribute.TypeString)
		e.addAttribute(e.ws.ID, "seats", attribute.TypeInteger)
		var many []*contact.Contact // more than one export page
		for i := range 1100 {
			plan := "free"
			if i%2 == 0 {
				plan = "pro"
			}
			name, email := fmt.Sprintf("=User %d", i), fmt.Sprintf("u%d@acme.test", i)
			many = append(many, &contact.Contact{WorkspaceID: e.ws.ID, ID: ids.New(), Role: contact.RoleUser, Name: &name, Email: &email, CustomAttributes: map[string]any{"plan": plan}})
		}
		if err := db.InTx(context.Background(), func(tx *store.Tx) error { return store.NewContacts(db).CreateManyIn(context.Background(), tx, many) }); err != nil {
			t.Fatal(err)
		}
		other, _, _ := e.workspace("Globex")
		e.addContact(other.ID, contact.RoleUser, "Stranger", "s@globex.test", map[string]any{"plan": "pro"})
		b := e.browser()
		b.mustSignin(e.agent.Email)
		filter := `{"field":"custom_attributes.plan","operator":"=","value":"pro"}`
		p := b.get("/app/contacts/export.csv?" + url.Values{"filter": {filter}, "cols": {"name,email,custom_attributes.plan"}}.Encode())
		if p.status != http.StatusOK || !strings.HasPrefix(p.header.Get("Content-Type"), "text/csv") {
			t.Fatalf("export: %d %s", p.status, p.body[:min(200, len(p.body))])
		}
		recs, err := csv.NewReader(strings.NewReader(p.body)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(recs[0], []string{"id", "name", "email", "custom_attributes.plan"}) || len(recs) != 551 {
			t.Fatalf("export header %v, %d rows", recs[0], len(recs))
		}
		seen := map[string]bool{}
		for _, r := range recs[1:] {
			if r[3] != "pro" || seen[r[0]] || !strings.HasPrefix(r[1], "'=User") || r[2] == "s@globex.test" {
				t.Fatalf("export row %v", r)
			}
			seen[r[0]] = true
		}
		want(t, b.get("/app/contacts/export.csv?filter=%7B"), http.StatusBadRequest, "The filter is not valid")

		// Import: upload, map, run, report.
		file := "Email,Full name,Seats,Comment\nnew1@acme.test,New One,4,hi\nnew2@acme.test,New Two,lots,x\n"
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		_ = mw.WriteField("csrf", b.csrf("/app/contacts/import"))
		fw, _ := mw.CreateFormFile("file", "people.csv")
		_, _ = io.WriteString(fw, file)
		mw.Close()
		req, _ := http.NewRequest(http.MethodPost, e.url+"/app/contacts/import", &body)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		resp, err := b.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		mapping := string(raw)
		if resp.StatusCode != http.StatusOK || !strings.Contains(mapping, `<option value="email" selected>`) {
			t.Fatalf("mapping page: %d %s", resp.StatusCode, mapping)
		}
		up := regexp.MustCompile(`name="upload" value="([0-9a-f]+)"`).FindStringSubmatch(mapping)[1]
		// Two columns into one field: refused with the mapping shown again.
		want(t, b.postFrom("/app/contacts/import/run", "/app/contacts/import", url.Values{"upload": {up}, "map0": {"email"}, "map1": {"email"}}), http.StatusBadRequest, "both mapped to email")
		// Another workspace cannot run the upload.
		ob := e.browser()
		ob.mustSignin("agent@globex.test")
		want(t, ob.postFrom("/app/contacts/import/run", "/app/contacts/import", url.Values{"upload": {up}, "map0": {"email"}}), http.StatusNotFound, "Upload not found")
		p = b.postFrom("/app/contacts/import/run", "/app/contacts/import", url.Values{"upload": {up}, "map0": {"email"}, "map1": {"name"}, "map2": {"custom_attributes.seats"}, "map3": {""}})
		if p.status != http.StatusSeeOther {
			t.Fatalf("run: %d %s", p.status, p.body)
		}
		jobPath := p.location
		want(t, b.get(jobPath), http.StatusOK, "Waiting to start")
		w := jobs.NewWorker(db)
		w.Handle(csvimport.Kind, csvimport.Handler(db, dir))
		if ran, err := w.RunOne(context.Background()); !ran || err != nil {
			t.Fatalf("job: %v %v", ran, err)
		}
		p = b.get(jobPath)
		want(t, p, http.StatusOK, "Finished")
		want(t, p, http.StatusOK, `<dd id="created">1</dd>`)
		want(t, p, http.StatusOK, `<tr><td>3</td><td>Custom attribute &#39;seats&#39; must be an integer</td></tr>`)
		if c, err := store.NewContacts(db).ByEmail(context.Background(), e.ws.ID, "new1@acme.test"); err != nil || *c.Name != "New One" {
			t.Fatalf("imported: %v", err)
		}
		want(t, ob.get(jobPath), http.StatusNotFound, "Import not found")
	})
}
