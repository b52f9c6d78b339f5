package csvimport

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/attribute"
	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/jobs"
	"github.com/parleyhq/parley/internal/query"
	"github.com/parleyhq/parley/internal/store"
	"github.com/parleyhq/parley/internal/testdb"
	"github.com/parleyhq/parley/internal/workspace"
)

type fixture struct {
	t     *testing.T
	ctx   context.Context
	db    *store.DB
	ws    string
	owner int64
}

func newFixture(t *testing.T, db *store.DB) *fixture {
	t.Helper()
	f := &fixture{t: t, ctx: context.Background(), db: db}
	f.ws, f.owner = f.workspace("Acme")
	return f
}

func (f *fixture) workspace(name string) (string, int64) {
	f.t.Helper()
	owner := &workspace.Admin{Name: "Owner", Email: "owner@" + strings.ToLower(name) + ".test"}
	w, err := store.NewWorkspaces(f.db).CreateWorkspace(f.ctx, name, owner)
	if err != nil {
		f.t.Fatal(err)
	}
	return w.ID, owner.ID
}

func (f *fixture) attr(name, dataType string, archived bool) {
	f.t.Helper()
	a := &attribute.Attribute{WorkspaceID: f.ws, Model: attribute.ModelContact, Name: name, DataType: dataType, Archived: archived}
	if err := store.NewAttributes(f.db).Create(f.ctx, a); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) run(csvText string, m Mapping) *Result {
	f.t.Helper()
	res, err := Run(f.ctx, f.db, strings.NewReader(csvText), Options{WorkspaceID: f.ws, Mapping: m, BatchSize: 3})
	if err != nil {
		f.t.Fatalf("import: %v", err)
	}
	return res
}

func (f *fixture) byExt(ext string) *contact.Contact {
	f.t.Helper()
	c, err := store.NewContacts(f.db).ByExternalID(f.ctx, f.ws, ext)
	if err != nil {
		f.t.Fatalf("contact %s: %v", ext, err)
	}
	return c
}

func (f *fixture) byEmail(email string) *contact.Contact {
	f.t.Helper()
	c, err := store.NewContacts(f.db).ByEmail(f.ctx, f.ws, email)
	if err != nil {
		f.t.Fatalf("contact %s: %v", email, err)
	}
	return c
}

func (f *fixture) count(q string, args ...any) int {
	f.t.Helper()
	var n int
	if err := f.db.Read().QueryRow(f.ctx, q, args...).Scan(&n); err != nil {
		f.t.Fatal(err)
	}
	return n
}

func (f *fixture) contacts() int {
	return f.count(`SELECT count(*) FROM contacts WHERE workspace_id = ?`, f.ws)
}

// topics counts the contact events in the workspace's log by topic.
func (f *fixture) topics() map[string]int {
	f.t.Helper()
	rows, err := f.db.Read().Query(f.ctx, `SELECT topic FROM event_log WHERE workspace_id = ? AND topic LIKE 'contact.%' ORDER BY seq`, f.ws)
	if err != nil {
		f.t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			f.t.Fatal(err)
		}
		out[s]++
	}
	return out
}

func counts(r *Result) [5]int { return [5]int{r.Rows, r.Created, r.Updated, r.Unchanged, r.Failed} }

func TestImportMapsTypesAndUpserts(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		f.attr("plan", attribute.TypeString, false)
		f.attr("seats", attribute.TypeInteger, false)
		f.attr("vip", attribute.TypeBoolean, false)
		f.attr("renewal", attribute.TypeDate, false)
		f.attr("score", attribute.TypeFloat, false)

		// Default mapping: field names, aliases, custom attribute names (any
		// case); --map entries add the rest.
		csv1 := "\ufeffIntercom ID,Email,Name,PLAN,seats,VIP,custom_attributes.renewal,score,Signed up,Notes\n" +
			"u-1,ada@example.com,Ada,pro,3,yes,2024-01-15,1.5,1700000000,likes tea\n" +
			"u-2,bob@example.com,Bob,free,,no,,,2023-11-14T22:13:20Z,\n" +
			",carol@example.com,Carol,,,,,,,\n"
		res := f.run(csv1, Mapping{"Intercom ID": "external_id", "VIP": "custom_attributes.vip"})
		if got := counts(res); got != [5]int{3, 3, 0, 0, 0} {
			t.Fatalf("counts (rows, created, updated, unchanged, failed) = %v, errors %v", got, res.Errors)
		}
		wantMap := Mapping{"Intercom ID": "external_id", "Email": "email", "Name": "name", "PLAN": "custom_attributes.plan",
			"seats": "custom_attributes.seats", "VIP": "custom_attributes.vip", "custom_attributes.renewal": "custom_attributes.renewal",
			"score": "custom_attributes.score", "Signed up": "signed_up_at"}
		if len(res.Mapping) != len(wantMap) {
			t.Fatalf("mapping = %v", res.Mapping)
		}
		for h, fld := range wantMap {
			if res.Mapping[h] != fld {
				t.Fatalf("mapping[%q] = %q, want %q (%v)", h, res.Mapping[h], fld, res.Mapping)
			}
		}
		if !slices.Equal(res.UnmappedColumns, []string{"Notes"}) {
			t.Fatalf("unmapped = %v", res.UnmappedColumns)
		}
		ada := f.byExt("u-1")
		renewal := time.Date(2024, 1, 15, 0, 0, 0, 0, time.UTC).Unix()
		ca := ada.CustomAttributes
		if *ada.Email != "ada@example.com" || *ada.Name != "Ada" || ada.Role != contact.RoleUser || *ada.SignedUpAt != 1700000000 ||
			ca["plan"] != "pro" || ca["seats"] != int64(3) || ca["vip"] != true || ca["renewal"] != renewal || ca["score"] != 1.5 {
			t.Fatalf("ada = %+v, custom %v", ada, ca)
		}
		if _, ok := ca["Notes"]; ok {
			t.Fatal("unmapped column imported")
		}
		bob := f.byExt("u-2")
		if *bob.SignedUpAt != 1700000000 || bob.CustomAttributes["vip"] != false {
			t.Fatalf("bob = %+v %v", bob, bob.CustomAttributes)
		}
		if _, ok := bob.CustomAttributes["seats"]; ok {
			t.Fatal("empty cell wrote a value")
		}
		if carol := f.byEmail("carol@example.com"); carol.ExternalID != nil || *carol.Name != "Carol" {
			t.Fatalf("carol = %+v", carol)
		}
		if got := f.topics(); got["contact.user.created"] != 3 || len(got) != 1 {
			t.Fatalf("events after first import = %v", got)
		}

		// Second import: by external_id (even with a new email), by email
		// (carol gets an external_id), an identical row (unchanged, no
		// event), a lead that signs up, and empty cells leave values alone.
		lead := &contact.Contact{WorkspaceID: f.ws, ID: "aaaaaaaaaaaaaaaaaaaaaaaa", Role: contact.RoleLead, Email: ptr("dan@example.com")}
		if err := store.NewContacts(db).Create(f.ctx, lead); err != nil {
			t.Fatal(err)
		}
		csv2 := "external_id,email,name,plan,role,owner_id,City,location.country\n" +
			"u-1,ada@new.example.com,Ada L.,,,,London,United Kingdom\n" +
			"c-3,carol@example.com,,enterprise,,,,\n" +
			"u-2,bob@example.com,Bob,free,,,,\n" +
			",dan@example.com,Dan,,user," + itoa(f.owner) + ",,\n"
		res = f.run(csv2, nil)
		if got := counts(res); got != [5]int{4, 0, 3, 1, 0} {
			t.Fatalf("second import counts = %v, errors %v", got, res.Errors)
		}
		ada = f.byExt("u-1")
		if *ada.Email != "ada@new.example.com" || *ada.Name != "Ada L." || *ada.City != "London" || *ada.Country != "United Kingdom" || ada.CustomAttributes["plan"] != "pro" || ada.CustomAttributes["seats"] != int64(3) {
			t.Fatalf("ada after update = %+v %v", ada, ada.CustomAttributes)
		}
		if carol := f.byExt("c-3"); *carol.Email != "carol@example.com" || *carol.Name != "Carol" || carol.CustomAttributes["plan"] != "enterprise" {
			t.Fatalf("carol after update = %+v", carol)
		}
		dan := f.byEmail("dan@example.com")
		if dan.ID != lead.ID || dan.Role != contact.RoleUser || dan.OwnerID == nil || *dan.OwnerID != f.owner {
			t.Fatalf("dan = %+v", dan)
		}
		if n := f.contacts(); n != 4 {
			t.Fatalf("%d contacts, want 4", n)
		}
		if got := f.topics(); got["contact.user.created"] != 3 || got["contact.user.updated"] != 2 || got["contact.lead.signed_up"] != 1 {
			t.Fatalf("events after second import = %v", got)
		}
	})
}

func TestImportSameContactTwiceInABatch(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		res := f.run("external_id,email,name\nu-9,nine@example.com,First\n,nine@example.com,Second\nu-9,,Third\n", nil)
		if got := counts(res); got != [5]int{3, 1, 2, 0, 0} {
			t.Fatalf("counts = %v %v", got, res.Errors)
		}
		if c := f.byExt("u-9"); *c.Name != "Third" || f.contacts() != 1 {
			t.Fatalf("contact = %+v, %d contacts", c, f.contacts())
		}
		rows, err := db.Read().Query(f.ctx, `SELECT topic, item FROM event_log WHERE workspace_id = ? AND topic LIKE 'contact.%' ORDER BY seq`, f.ws)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var got []string
		for rows.Next() {
			var topic, item string
			if err := rows.Scan(&topic, &item); err != nil {
				t.Fatal(err)
			}
			var c struct{ Name string }
			_ = json.Unmarshal([]byte(item), &c)
			got = append(got, topic+" "+c.Name)
		}
		if want := []string{"contact.user.created First", "contact.user.updated Second", "contact.user.updated Third"}; !slices.Equal(got, want) {
			t.Fatalf("events = %q, want %q", got, want)
		}
	})
}

func TestImportRowErrorsAndLines(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		f.attr("seats", attribute.TypeInteger, false)
		if _, err := store.NewContacts(db).ByEmail(f.ctx, f.ws, "x"); !errors.Is(err, store.ErrNotFound) {
			t.Fatal(err)
		}
		existing := &contact.Contact{WorkspaceID: f.ws, ID: "bbbbbbbbbbbbbbbbbbbbbbbb", Role: contact.RoleUser, Email: ptr("taken@example.com"), ExternalID: ptr("t-1")}
		if err := store.NewContacts(db).Create(f.ctx, existing); err != nil {
			t.Fatal(err)
		}
		// A trigger makes one row fail inside the database: the savepoints
		// must take back what the batch wrote before it, events included.
		poison(t, db)
		before := f.topics()

		csvText := "external_id,email,name,seats,role\n" + // 1
			"ok-1,ok1@example.com,Fine,1,\n" + // 2
			"ok-2,ok2@example.com,\"Multi\n" + // 3
			"line\nname\",2,\n" + // 4-5
			"bad-1,not-an-email,Bad,,\n" + // 6
			",,Nobody,,\n" + // 7
			"bad-3,bad3@example.com,Bad,many,\n" + // 8
			"bad-4,bad4@example.com,Bad,,admin\n" + // 9
			"bad-5,taken@example.com,Bad,,\n" + // 10: email of another user
			"bad-6,poison@example.com,POISON,,\n" + // 11: fails inside the database
			"bad-7,bad7@example.com,Bad,1,,extra\n" + // 12
			"bad-8,\"bad8@example.com\" x,Bad,,\n" + // 13
			",,Anon lead,,lead\n" + // 14
			" , ,,,\n" + // 15: nothing in it, ignored
			"ok-3,ok3@example.com,Fine,3,\n" // 16
		res := f.run(csvText, nil)
		want := []RowError{{6, ""}, {7, ""}, {8, ""}, {9, ""}, {10, ""}, {11, ""}, {12, ""}, {13, ""}}
		if len(res.Errors) != len(want) || res.Failed != len(want) {
			t.Fatalf("errors = %+v (failed %d)", res.Errors, res.Failed)
		}
		for i, e := range res.Errors {
			if e.Line != want[i].Line || e.Message == "" {
				t.Fatalf("error %d = %+v, want line %d", i, e, want[i].Line)
			}
		}
		for i, frag := range []string{"email", "email or an external_id", "seats", "role", "already exists", "", "fields", "CSV"} {
			if !strings.Contains(res.Errors[i].Message, frag) {
				t.Fatalf("error on line %d = %q, want it to mention %q", res.Errors[i].Line, res.Errors[i].Message, frag)
			}
		}
		if got := counts(res); got != [5]int{13, 4, 0, 1, 8} {
			t.Fatalf("counts = %v", got)
		}
		if c := f.byExt("ok-2"); *c.Name != "Multi\nline\nname" || c.CustomAttributes["seats"] != int64(2) {
			t.Fatalf("multi-line row = %+v", c)
		}
		// Nothing of the failed rows is left: 1 existing + 4 created.
		if n := f.contacts(); n != 5 {
			t.Fatalf("%d contacts, want 5", n)
		}
		for _, ext := range []string{"bad-1", "bad-3", "bad-4", "bad-5", "bad-6", "bad-7", "bad-8"} {
			if _, err := store.NewContacts(db).ByExternalID(f.ctx, f.ws, ext); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("failed row %s left a contact (%v)", ext, err)
			}
		}
		after := f.topics()
		if after["contact.user.created"]-before["contact.user.created"] != 3 || after["contact.lead.created"] != 1 {
			t.Fatalf("events: before %v after %v", before, after)
		}
		// The event sequence has no gap where the poisoned row was rolled back.
		if n, max := f.count(`SELECT count(*) FROM event_log WHERE workspace_id = ?`, f.ws), f.count(`SELECT max(seq) FROM event_log WHERE workspace_id = ?`, f.ws); n != max {
			t.Fatalf("event log has %d events up to seq %d", n, max)
		}
	})
}

// poison makes inserting a contact named POISON fail with a check
// violation inside the database, after the rows before it in the same
// batch were written and their events staged: the retry of the batch must
// neither lose nor repeat them.
func poison(t *testing.T, db *store.DB) {
	t.Helper()
	stmts := []string{`CREATE TRIGGER poison BEFORE INSERT ON contacts WHEN NEW.name = 'POISON' BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: poison'); END`}
	if db.Dialect == query.Postgres {
		stmts = []string{
			`CREATE FUNCTION poison() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NEW.name = 'POISON' THEN RAISE EXCEPTION 'poison' USING ERRCODE = 'check_violation'; END IF; RETURN NEW; END $$`,
			`CREATE TRIGGER poison BEFORE INSERT ON contacts FOR EACH ROW EXECUTE FUNCTION poison()`,
		}
	}
	for _, s := range stmts {
		if err := db.InTx(context.Background(), func(tx *store.Tx) error { _, err := tx.Exec(context.Background(), s); return err }); err != nil {
			t.Fatal(err)
		}
	}
}

func TestImportRefusesBadMappingBeforeWriting(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		f.attr("plan", attribute.TypeString, false)
		f.attr("old", attribute.TypeString, true)
		body := "Email,Plan,Old,Other\nada@example.com,pro,x,y\n"
		for _, c := range []struct {
			name string
			csv  string
			m    Mapping
			frag string
		}{
			{"unknown field", body, Mapping{"Other": "favourite_colour"}, "favourite_colour"},
			{"unknown custom attribute", body, Mapping{"Other": "custom_attributes.nope"}, "nope"},
			{"archived attribute", body, Mapping{"Old": "custom_attributes.old"}, "archived"},
			{"missing column", body, Mapping{"Emial": "email"}, "Emial"},
			{"two columns one field", body, Mapping{"Other": "email"}, "both mapped"},
			{"nothing mapped", "A,B\n1,2\n", nil, "no column"},
			{"empty file", "", nil, "empty"},
		} {
			_, err := Run(f.ctx, db, strings.NewReader(c.csv), Options{WorkspaceID: f.ws, Mapping: c.m})
			var ie *Error
			if !errors.As(err, &ie) || !strings.Contains(ie.Message, c.frag) {
				t.Fatalf("%s: err = %v, want an *Error mentioning %q", c.name, err, c.frag)
			}
		}
		if n := f.contacts(); n != 0 {
			t.Fatalf("refused imports wrote %d contacts", n)
		}
		// Mapping a column to nothing ignores it.
		res := f.run(body, Mapping{"Plan": "", "Other": "name"})
		if res.Created != 1 || !slices.Equal(res.UnmappedColumns, []string{"Plan", "Old"}) {
			t.Fatalf("result = %+v", res)
		}
		if c := f.byEmail("ada@example.com"); c.CustomAttributes["plan"] != nil || *c.Name != "y" {
			t.Fatalf("contact = %+v", c)
		}
	})
}

func TestImportStopsAtARunawayRow(t *testing.T) {
	db := testdb.SQLite(t)
	f := newFixture(t, db)
	// A quote that never closes would make the rest of the file one row.
	text := "email,name\na@example.com,A\nb@example.com,\"B\n" + strings.Repeat("x,y\n", MaxRowBytes/2)
	res, err := Run(f.ctx, db, strings.NewReader(text), Options{WorkspaceID: f.ws})
	var ie *Error
	if !errors.As(err, &ie) || !strings.Contains(ie.Message, "after line 2") || !strings.Contains(ie.Message, "quote") {
		t.Fatalf("err = %v", err)
	}
	if res == nil || res.Created != 1 || f.contacts() != 1 {
		t.Fatalf("rows before the runaway row: result %+v, %d contacts", res, f.contacts())
	}
}

func TestParseMappings(t *testing.T) {
	m, err := ParseMap("Intercom ID=external_id, Plan = custom_attributes.plan,a=b=c,Skip=")
	if err != nil {
		t.Fatal(err)
	}
	if len(m) != 4 || m["Intercom ID"] != "external_id" || m["Plan"] != "custom_attributes.plan" || m["a=b"] != "c" || m["Skip"] != "" {
		t.Fatalf("ParseMap = %v", m)
	}
	if _, err := ParseMap("just a header"); err == nil {
		t.Fatal("a pair without = was accepted")
	}
	m, err = ParseMapFile([]byte("# comment\n\nUser, with comma=external_id\nPlan=custom_attributes.plan\n"))
	if err != nil || m["User, with comma"] != "external_id" || len(m) != 2 {
		t.Fatalf("lines: %v %v", m, err)
	}
	m, err = ParseMapFile([]byte(` {"User ID": "external_id", "E-mail": "email"}`))
	if err != nil || m["E-mail"] != "email" || len(m) != 2 {
		t.Fatalf("JSON: %v %v", m, err)
	}
	if _, err := ParseMapFile([]byte("{\"a\": 1}")); err == nil {
		t.Fatal("a JSON mapping with a number was accepted")
	}
	if _, err := ParseMapFile([]byte("ok=email\nbroken\n")); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Fatalf("bad line: %v", err)
	}
}

// enqueue writes an import job for csvText the way the API does.
func enqueue(t *testing.T, f *fixture, dir, csvText string) int64 {
	t.Helper()
	var id int64
	err := f.db.InTx(f.ctx, func(tx *store.Tx) (err error) {
		id, err = jobs.Enqueue(f.ctx, tx, f.ws, Kind, Payload{})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, FileName(id)), []byte(csvText), 0o600); err != nil {
		t.Fatal(err)
	}
	return id
}

func jobResult(t *testing.T, f *fixture, id int64) (*jobs.Job, *Result) {
	t.Helper()
	j, err := jobs.Get(f.ctx, f.db.Read(), f.ws, id)
	if err != nil {
		t.Fatal(err)
	}
	var r Result
	if err := json.Unmarshal(j.Result, &r); err != nil {
		t.Fatal(err)
	}
	return j, &r
}

func TestImportJobResumesAfterInterruption(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		dir := t.TempDir()
		var b strings.Builder
		b.WriteString("external_id,email,name\n")
		for i := 1; i <= 10; i++ {
			b.WriteString("u-" + itoa(int64(i)) + ",u" + itoa(int64(i)) + "@example.com,\"User\n" + itoa(int64(i)) + "\"\n")
		}
		b.WriteString("u-11,broken,Eleven\n") // line 22
		id := enqueue(t, f, dir, b.String())

		// First run: dies after its second batch was committed (the
		// process stops before the queue hears of it).
		stop := errors.New("killed")
		batches := 0
		_, err := Run(f.ctx, db, strings.NewReader(b.String()), Options{WorkspaceID: f.ws, JobID: id, BatchSize: 3,
			Progress: func(*Result) error {
				if batches++; batches == 2 {
					return stop
				}
				return nil
			}})
		if !errors.Is(err, stop) {
			t.Fatalf("err = %v", err)
		}
		if _, cp := jobResult(t, f, id); cp.Rows != 6 || cp.Created != 6 || cp.Done {
			t.Fatalf("checkpoint = %+v", cp)
		}

		// Second run: a batch fails inside the database midway (a fatal
		// error, not a row error): nothing of that batch stays.
		failing := fatalTrigger(t, db, "u8@example.com")
		w := jobs.NewWorker(db)
		w.Handle(Kind, Handler(db, dir))
		if ran, err := w.RunOne(f.ctx); !ran || err != nil {
			t.Fatalf("RunOne = %v %v", ran, err)
		}
		if j, cp := jobResult(t, f, id); j.State != jobs.Pending || cp.Rows != 6 || f.contacts() != 6 {
			t.Fatalf("after failed batch: state %s checkpoint %+v, %d contacts", j.State, cp, f.contacts())
		}
		failing()

		// Third run (the queue retries later; make it due now): resumes
		// after row 6 and finishes.
		if err := db.InTx(f.ctx, func(tx *store.Tx) error {
			_, err := tx.Exec(f.ctx, `UPDATE jobs SET run_at = 0 WHERE id = ?`, id)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if ran, err := w.RunOne(f.ctx); !ran || err != nil {
			t.Fatalf("RunOne = %v %v", ran, err)
		}
		j, res := jobResult(t, f, id)
		if j.State != jobs.Completed || counts(res) != [5]int{11, 10, 0, 0, 1} || len(res.Errors) != 1 || res.Errors[0].Line != 22 {
			t.Fatalf("final: state %s result %+v", j.State, res)
		}
		if got := f.topics(); got["contact.user.created"] != 10 || len(got) != 1 {
			t.Fatalf("events = %v (each row must be imported once)", got)
		}
		if _, err := os.Stat(filepath.Join(dir, FileName(id))); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("uploaded file not removed: %v", err)
		}
	})
}

func TestImportJobSkipsCheckpointedRows(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		dir := t.TempDir()
		id := enqueue(t, f, dir, "email\na@example.com\nb@example.com\nc@example.com\n")
		// A checkpoint says two rows were committed (by a run whose writes
		// we pretend happened): they must not be processed again.
		if err := db.InTx(f.ctx, func(tx *store.Tx) error {
			_, err := tx.Exec(f.ctx, `UPDATE jobs SET result = ? WHERE id = ?`, `{"rows":2,"created":2,"errors":[]}`, id)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		w := jobs.NewWorker(db)
		w.Handle(Kind, Handler(db, dir))
		if ran, err := w.RunOne(f.ctx); !ran || err != nil {
			t.Fatalf("RunOne = %v %v", ran, err)
		}
		_, res := jobResult(t, f, id)
		if counts(res) != [5]int{3, 3, 0, 0, 0} || f.contacts() != 1 || f.topics()["contact.user.created"] != 1 {
			t.Fatalf("result %+v, %d contacts, events %v", res, f.contacts(), f.topics())
		}
		f.byEmail("c@example.com")

		// A refused file completes the job with the reason and removes the file.
		id = enqueue(t, f, dir, "Nothing,Useful\n1,2\n")
		if ran, err := w.RunOne(f.ctx); !ran || err != nil {
			t.Fatalf("RunOne = %v %v", ran, err)
		}
		if j, res := jobResult(t, f, id); j.State != jobs.Completed || !strings.Contains(res.Error, "no column") {
			t.Fatalf("refused job: %s %+v", j.State, res)
		}
		if _, err := os.Stat(filepath.Join(dir, FileName(id))); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("refused file not removed: %v", err)
		}
	})
}

// fatalTrigger makes inserting the contact with that email fail with an
// error that is not about the row; the returned func removes it.
func fatalTrigger(t *testing.T, db *store.DB, email string) func() {
	t.Helper()
	stmts := []string{`CREATE TRIGGER fatal BEFORE INSERT ON contacts WHEN NEW.email = '` + email + `' BEGIN SELECT RAISE(ABORT, 'disk on fire'); END`}
	drop := []string{`DROP TRIGGER fatal`}
	if db.Dialect == query.Postgres {
		stmts = []string{
			`CREATE FUNCTION fatal() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NEW.email = '` + email + `' THEN RAISE EXCEPTION 'disk on fire'; END IF; RETURN NEW; END $$`,
			`CREATE TRIGGER fatal BEFORE INSERT ON contacts FOR EACH ROW EXECUTE FUNCTION fatal()`,
		}
		drop = []string{`DROP TRIGGER fatal ON contacts`}
	}
	exec := func(list []string) {
		for _, s := range list {
			if err := db.InTx(context.Background(), func(tx *store.Tx) error { _, err := tx.Exec(context.Background(), s); return err }); err != nil {
				t.Fatal(err)
			}
		}
	}
	exec(stmts)
	return func() { exec(drop) }
}

func ptr(s string) *string { return &s }

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
