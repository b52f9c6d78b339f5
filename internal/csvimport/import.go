// Package csvimport imports contacts from CSV files: a header row mapped to
// built-in and custom fields, rows upserted by external_id or email in
// batched transactions (a row that fails rolls back alone, under its own
// savepoint), per-row errors reported with the row's line in the file, and
// a checkpoint committed with every batch so an interrupted import resumes
// where it stopped. The file is streamed: memory does not grow with it.
package csvimport

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/parleyhq/parley/internal/attribute"
	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/ids"
	"github.com/parleyhq/parley/internal/query"
	"github.com/parleyhq/parley/internal/store"
)

// Error is a problem with the file or the mapping that stops an import:
// found before any row is written (empty file, unknown target field, …),
// or, for a runaway row (MaxRowBytes), after the rows before it. Its
// message is meant for the person running the import.
type Error struct{ Message string }

func (e *Error) Error() string { return e.Message }

// RowError is a row that was not imported. Line is the 1-based line of the
// file the row starts on (the header is line 1).
type RowError struct {
	Line    int    `json:"line"`
	Message string `json:"message"`
}

// MaxErrors is how many row errors a result keeps; Failed counts them all.
const MaxErrors = 1000

// Result is the outcome (or, while running, the progress) of an import. It
// is also the checkpoint: Rows data rows have been committed.
type Result struct {
	Rows            int        `json:"rows"`
	Created         int        `json:"created"`
	Updated         int        `json:"updated"`
	Unchanged       int        `json:"unchanged"`
	Failed          int        `json:"failed"`
	Errors          []RowError `json:"errors"`
	UnmappedColumns []string   `json:"unmapped_columns"`
	Mapping         Mapping    `json:"mapping"`
	// Error is set when the import could not run at all (see Error).
	Error string `json:"error,omitempty"`
	// Done is set once every row has been committed.
	Done bool `json:"done,omitempty"`
	// Header is the header row, in order (set by Check).
	Header []string `json:"-"`
}

// DefaultBatchSize is the number of rows committed per transaction.
const DefaultBatchSize = 1000

// Options of one import.
type Options struct {
	WorkspaceID string
	// Mapping overrides the default header mapping.
	Mapping Mapping
	// JobID, when not zero, is the job whose result is the checkpoint: every
	// batch transaction also saves the result in the job row, so rows are
	// committed exactly once however often the job is re-run.
	JobID int64
	// Resume continues an earlier run of the same file: its first
	// Resume.Rows data rows are skipped and its counts carried on.
	Resume *Result
	// Progress, if set, is called after each committed batch.
	Progress func(*Result) error
	// BatchSize is the number of rows per transaction (default 1000).
	BatchSize int
}

// Check reads the header row of r and resolves the mapping, without
// importing anything; the result carries the mapping and unmapped columns.
// Importing later with Result.Mapping plus the unmapped columns mapped to ""
// (see Resolved) maps the file the same way even if custom attributes are
// added in between.
func Check(ctx context.Context, db *store.DB, workspaceID string, r io.Reader, m Mapping) (*Result, error) {
	defs, err := contactDefs(ctx, db, workspaceID)
	if err != nil {
		return nil, err
	}
	_, p, err := open(r, m, defs)
	if err != nil {
		return nil, err
	}
	return &Result{Errors: []RowError{}, UnmappedColumns: p.unmapped, Mapping: p.mapping, Header: p.header}, nil
}

// Resolved is the complete mapping of a checked file: every header column,
// the ignored ones mapped to "".
func (r *Result) Resolved() Mapping {
	m := make(Mapping, len(r.Mapping)+len(r.UnmappedColumns))
	for _, h := range r.UnmappedColumns {
		m[h] = ""
	}
	for h, f := range r.Mapping {
		m[h] = f
	}
	return m
}

func contactDefs(ctx context.Context, db *store.DB, workspaceID string) (attribute.Defs, error) {
	list, err := store.NewAttributes(db).Custom(ctx, workspaceID, attribute.ModelContact, true)
	if err != nil {
		return nil, err
	}
	return attribute.Index(list), nil
}

// MaxRowBytes bounds one CSV record (a row with all its quoted lines), so
// that a missing closing quote cannot pull the rest of a big file into
// memory.
const MaxRowBytes = 1 << 20

var errRowTooLong = errors.New("row too long")

// limitReader fails once more than max bytes were read since the last
// reset; the importer resets it after each record.
type limitReader struct {
	r      io.Reader
	n, max int
}

func (l *limitReader) Read(p []byte) (int, error) {
	if l.n >= l.max {
		return 0, errRowTooLong
	}
	if len(p) > l.max-l.n {
		p = p[:l.max-l.n]
	}
	n, err := l.r.Read(p)
	l.n += n
	return n, err
}

// source reads CSV records with their line numbers.
type source struct {
	cr    *csv.Reader
	limit *limitReader
	line  int // the line the last record read ended on
}

const readBuffer = 256 << 10

func newSource(r io.Reader) *source {
	// The limit counts what the buffer read ahead too.
	l := &limitReader{r: r, max: MaxRowBytes + readBuffer}
	cr := csv.NewReader(bufio.NewReaderSize(l, readBuffer))
	cr.ReuseRecord = true
	cr.FieldsPerRecord = -1
	return &source{cr: cr, limit: l}
}

// next returns the next record and the line it starts on. A record that is
// not valid CSV comes back as a *csv.ParseError (the reader goes on after
// it), one that is too long as an *Error.
func (s *source) next() ([]string, int, error) {
	s.limit.n = 0
	rec, err := s.cr.Read()
	if errors.Is(err, errRowTooLong) {
		return nil, 0, &Error{Message: fmt.Sprintf("the row after line %d is longer than %d bytes (is a closing quote missing?)", s.line, MaxRowBytes)}
	}
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		s.line = pe.Line
		return nil, pe.StartLine, err
	}
	if err != nil {
		return nil, 0, err
	}
	start, _ := s.cr.FieldPos(0)
	s.line, _ = s.cr.FieldPos(len(rec) - 1)
	if last := rec[len(rec)-1]; last != "" {
		s.line += strings.Count(last, "\n")
	}
	return rec, start, nil
}

// open reads the header row and resolves the mapping.
func open(r io.Reader, m Mapping, defs attribute.Defs) (*source, *plan, error) {
	src := newSource(r)
	rec, _, err := src.next()
	if errors.Is(err, io.EOF) {
		return nil, nil, &Error{Message: "the file is empty: the first line must be a header row naming the columns"}
	}
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return nil, nil, &Error{Message: "the header row is not valid CSV: " + pe.Error()}
	}
	if err != nil {
		return nil, nil, err
	}
	header := make([]string, len(rec))
	for i, h := range rec {
		if i == 0 {
			h = strings.TrimPrefix(h, "\ufeff") // byte order mark (Excel)
		}
		if !utf8.ValidString(h) {
			return nil, nil, &Error{Message: "the header row is not valid UTF-8; save the file as UTF-8 CSV"}
		}
		header[i] = strings.TrimSpace(h)
	}
	p, err := resolve(header, m, defs)
	if err != nil {
		return nil, nil, err
	}
	return src, p, nil
}

// importer is the state of one running import.
type importer struct {
	db       *store.DB
	contacts *store.Contacts
	opts     Options
	plan     *plan
	defs     attribute.Defs
	admins   map[int64]bool
	res      *Result
	saved    string // the job result as last committed (JobID imports)
	// createMany writes new contacts with their events inside tx.
	createMany func(ctx context.Context, tx *store.Tx, cs []*contact.Contact) error
	ncols      int
}

// Run imports the CSV read from r into the workspace. Row failures are
// reported in the result; an error means the import could not run or
// finish (an *Error for a bad file or mapping, anything else for I/O or
// the database), in which case every batch committed so far stays
// committed and, for a job, recorded in its checkpoint. With an *Error the
// result, if not nil, counts the rows committed before it.
func Run(ctx context.Context, db *store.DB, r io.Reader, opts Options) (*Result, error) {
	if opts.BatchSize <= 0 {
		opts.BatchSize = DefaultBatchSize
	}
	defs, err := contactDefs(ctx, db, opts.WorkspaceID)
	if err != nil {
		return nil, err
	}
	admins, err := store.NewWorkspaces(db).Admins(ctx, opts.WorkspaceID)
	if err != nil {
		return nil, err
	}
	src, p, err := open(r, opts.Mapping, defs)
	if err != nil {
		return nil, err
	}
	im := &importer{db: db, contacts: store.NewContacts(db), opts: opts, plan: p, defs: defs,
		admins: make(map[int64]bool, len(admins)), ncols: len(p.cols)}
	im.createMany = im.contacts.CreateManyIn
	for _, a := range admins {
		im.admins[a.ID] = true
	}
	im.res = &Result{Errors: []RowError{}, UnmappedColumns: p.unmapped, Mapping: p.mapping}
	if opts.Resume != nil {
		prev := *opts.Resume
		im.res.Rows, im.res.Created, im.res.Updated, im.res.Unchanged, im.res.Failed = prev.Rows, prev.Created, prev.Updated, prev.Unchanged, prev.Failed
		im.res.Errors = append(im.res.Errors, prev.Errors...)
		if prev.Done {
			im.res.Done = true
			return im.res, nil
		}
	}
	if opts.JobID != 0 {
		if err := db.Read().QueryRow(ctx, `SELECT result FROM jobs WHERE workspace_id = ? AND id = ?`, opts.WorkspaceID, opts.JobID).Scan(&im.saved); err != nil {
			return nil, store.MapErr(err)
		}
	}
	// Skip the rows an earlier run committed.
	for skipped := 0; skipped < im.res.Rows; skipped++ {
		if _, _, err := src.next(); err != nil {
			if errors.Is(err, io.EOF) {
				return nil, &Error{Message: fmt.Sprintf("the file has fewer rows than the %d already imported", im.res.Rows)}
			}
			if !errors.As(err, new(*csv.ParseError)) {
				return nil, err
			}
		}
	}
	if err := im.analyze(ctx); err != nil {
		return nil, err
	}
	analyzedAt := im.res.Created
	// Reading and parsing the next batch overlaps with writing this one
	// (parse only reads the plan and definitions).
	rctx, stop := context.WithCancel(ctx)
	defer stop()
	batches := make(chan readBatch, 1)
	go im.read(rctx, src, batches)
	for b := range batches {
		if len(b.rows) > 0 {
			if err := im.commit(ctx, b.rows, b.eof); err != nil {
				return nil, err
			}
			if b.err != nil {
				return im.res, b.err // an *Error: the rows before it are committed
			}
			if opts.Progress != nil {
				if err := opts.Progress(im.res); err != nil {
					return nil, err
				}
			}
			if im.res.Created >= 2*analyzedAt+1000 {
				if err := im.analyze(ctx); err != nil {
					return nil, err
				}
				analyzedAt = im.res.Created
			}
		}
		if b.err != nil {
			var ie *Error
			if errors.As(b.err, &ie) {
				return im.res, b.err
			}
			return nil, b.err
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if !im.res.Done { // the file ended exactly on a batch boundary
		im.res.Done = true
		if opts.JobID != 0 {
			if err := db.InTx(ctx, func(tx *store.Tx) error { return im.checkpoint(ctx, tx) }); err != nil {
				return nil, err
			}
		}
	}
	return im.res, nil
}

// analyze refreshes the query planner's statistics (store.DB.Optimize).
// The contact store's per-row uniqueness checks use the right index only
// when the planner knows the table is not tiny, and an import grows it
// faster than periodic maintenance notices. Run at the start and each time
// the import has doubled what it created.
func (im *importer) analyze(ctx context.Context) error {
	return im.db.Optimize(ctx)
}

// row is one parsed data row: nil fields are left unchanged.
type row struct {
	line                                                   int
	err                                                    string
	empty                                                  bool // every cell empty: nothing to do
	role, externalID, email, phone, name, avatar, language *string
	country, region, city                                  *string
	signedUpAt, lastSeenAt, ownerID                        *int64
	unsubscribed                                           *bool
	custom                                                 map[string]any
}

// readBatch is a batch of parsed rows; eof marks the last one, err a
// reason reading stopped (after the batch's rows).
type readBatch struct {
	rows []*row
	eof  bool
	err  error
}

// read sends the file's rows in batches of opts.BatchSize until the end of
// the file, an error, or ctx ending; it closes out when it stops.
func (im *importer) read(ctx context.Context, src *source, out chan<- readBatch) {
	defer close(out)
	for {
		b := readBatch{rows: make([]*row, 0, im.opts.BatchSize)}
		for len(b.rows) < im.opts.BatchSize && b.err == nil && !b.eof {
			rec, line, err := src.next()
			var pe *csv.ParseError
			var ie *Error
			switch {
			case errors.Is(err, io.EOF):
				b.eof = true
			case errors.As(err, &pe):
				b.rows = append(b.rows, &row{line: line, err: "the row is not valid CSV: " + pe.Err.Error()})
			case errors.As(err, &ie):
				b.err = err
			case err != nil:
				b.err = fmt.Errorf("read CSV: %w", err)
			default:
				b.rows = append(b.rows, im.parse(rec, line))
			}
		}
		select {
		case out <- b:
		case <-ctx.Done():
			return
		}
		if b.eof || b.err != nil {
			return
		}
	}
}

// parse validates one record by the API's rules. A row that fails carries
// the reason in err and is never written.
func (im *importer) parse(rec []string, line int) *row {
	r := &row{line: line}
	fail := func(format string, args ...any) *row {
		r.err = fmt.Sprintf(format, args...)
		return r
	}
	empty := true
	for _, v := range rec {
		if strings.TrimSpace(v) != "" {
			empty = false
			break
		}
	}
	if empty {
		r.empty = true
		return r
	}
	for i := im.ncols; i < len(rec); i++ {
		if strings.TrimSpace(rec[i]) != "" {
			return fail("the row has %d fields but the header has %d", len(rec), im.ncols)
		}
	}
	var raw map[string]json.RawMessage
	for i, col := range im.plan.cols {
		if col == nil || i >= len(rec) {
			continue
		}
		v := strings.TrimSpace(rec[i])
		if v == "" {
			continue // empty cell: leave the field unchanged
		}
		if !utf8.ValidString(v) {
			return fail("%s is not valid UTF-8", col.header)
		}
		if strings.ContainsRune(v, 0) {
			return fail("%s contains a NUL character", col.header)
		}
		if col.def != nil {
			if raw == nil {
				raw = map[string]json.RawMessage{}
			}
			raw[col.def.Name] = cellJSON(col.def, v)
			continue
		}
		if n, ok := contact.MaxLen[col.field]; ok {
			if len(v) > n {
				return fail("%s is longer than %d bytes", col.field, n)
			}
			v = strings.Clone(v) // not a view into the whole record
		}
		switch col.field {
		case fEmail:
			if !contact.ValidEmail(v) {
				return fail("email %q is not a valid email address", v)
			}
			r.email = &v
		case fExternalID:
			r.externalID = &v
		case fName:
			r.name = &v
		case fPhone:
			r.phone = &v
		case fAvatar:
			r.avatar = &v
		case fLanguage:
			r.language = &v
		case fCountry:
			r.country = &v
		case fRegion:
			r.region = &v
		case fCity:
			r.city = &v
		case fRole:
			role := strings.ToLower(v)
			if !contact.ValidRole(role) {
				return fail("role must be user or lead, not %q", v)
			}
			r.role = &role
		case fSignedUpAt, fLastSeenAt:
			t, err := parseTime(v)
			if err != nil {
				return fail("%s %s, not %q", col.field, err.Error(), v)
			}
			if col.field == fSignedUpAt {
				r.signedUpAt = &t
			} else {
				r.lastSeenAt = &t
			}
		case fOwnerID:
			id, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return fail("owner_id must be the id of a teammate, not %q", v)
			}
			if !im.admins[id] {
				return fail("owner_id %d is not a teammate of this workspace", id)
			}
			r.ownerID = &id
		case fUnsubscribed:
			b, ok := parseBool(v)
			if !ok {
				return fail("unsubscribed_from_emails must be true or false, not %q", v)
			}
			r.unsubscribed = &b
		}
	}
	if raw != nil {
		vals, err := im.defs.Validate(raw)
		if err != nil {
			return fail("%s", err.Error())
		}
		r.custom = vals
	}
	return r
}

// CellJSON is the JSON value a non-empty text v (a CSV cell, a form
// field) is validated as for the custom attribute def (see cellJSON).
func CellJSON(def *attribute.Attribute, v string) json.RawMessage { return cellJSON(def, v) }

// cellJSON turns a cell into the JSON value its attribute expects; a cell
// that does not fit is passed as a string so that validation refuses it
// with the attribute's own message.
func cellJSON(def *attribute.Attribute, v string) json.RawMessage {
	switch def.DataType {
	case attribute.TypeInteger, attribute.TypeFloat:
		if (v[0] == '-' || (v[0] >= '0' && v[0] <= '9')) && json.Valid([]byte(v)) {
			return json.RawMessage(v)
		}
	case attribute.TypeBoolean:
		if b, ok := parseBool(v); ok {
			return json.RawMessage(strconv.FormatBool(b))
		}
	case attribute.TypeDate:
		if t, err := parseTime(v); err == nil {
			return json.RawMessage(strconv.FormatInt(t, 10))
		}
	}
	b, _ := json.Marshal(v)
	return b
}

func parseBool(v string) (bool, bool) {
	switch strings.ToLower(v) {
	case "true", "t", "yes", "y", "1":
		return true, true
	case "false", "f", "no", "n", "0":
		return false, true
	}
	return false, false
}

// Date layouts spreadsheets write, besides what attribute.ParseTime takes.
var extraLayouts = []string{"2006-01-02 15:04:05", "2006-01-02 15:04:05Z07:00", "2006-01-02 15:04:05 -0700", "2006-01-02 15:04:05 MST", "2006-01-02 15:04"}

// parseTime accepts what the API accepts (Unix seconds or ISO 8601) and a
// few spreadsheet date formats (UTC unless they carry a zone).
func parseTime(v string) (int64, error) {
	b, _ := json.Marshal(v)
	t, err := attribute.ParseTime(b)
	if err == nil {
		return t, nil
	}
	for _, layout := range extraLayouts {
		if tt, e := time.Parse(layout, v); e == nil {
			return tt.Unix(), nil
		}
	}
	return 0, err
}

// apply changes c as the row says, by the API's rules, and reports whether
// anything changed.
func (r *row) apply(c *contact.Contact) (changed bool, err error) {
	if r.role != nil && *r.role != c.Role {
		if c.Role == contact.RoleUser && *r.role == contact.RoleLead {
			return false, errors.New("a user cannot be turned back into a lead")
		}
		c.Role, changed = *r.role, true
	}
	if c.Role == "" {
		c.Role, changed = contact.RoleUser, true
	}
	setStr := func(dst **string, v *string) {
		if v != nil && (*dst == nil || **dst != *v) {
			*dst, changed = v, true
		}
	}
	setInt := func(dst **int64, v *int64) {
		if v != nil && (*dst == nil || **dst != *v) {
			*dst, changed = v, true
		}
	}
	setStr(&c.ExternalID, r.externalID)
	setStr(&c.Email, r.email)
	setStr(&c.Phone, r.phone)
	setStr(&c.Name, r.name)
	setStr(&c.Avatar, r.avatar)
	setStr(&c.LanguageOverride, r.language)
	setStr(&c.Country, r.country)
	setStr(&c.Region, r.region)
	setStr(&c.City, r.city)
	setInt(&c.SignedUpAt, r.signedUpAt)
	setInt(&c.LastSeenAt, r.lastSeenAt)
	setInt(&c.OwnerID, r.ownerID)
	if r.unsubscribed != nil && c.UnsubscribedFromEmails != *r.unsubscribed {
		c.UnsubscribedFromEmails, changed = *r.unsubscribed, true
	}
	for k, v := range r.custom {
		if v == nil {
			continue
		}
		if old, ok := c.CustomAttributes[k]; ok && sameValue(old, v) {
			continue
		}
		if c.CustomAttributes == nil {
			c.CustomAttributes = map[string]any{}
		}
		c.CustomAttributes[k], changed = v, true
	}
	if c.Role == contact.RoleUser && c.Email == nil && c.ExternalID == nil {
		return false, errors.New("a user needs an email or an external_id (or set role to lead)")
	}
	return changed, nil
}

// sameValue compares stored and imported attribute values (numbers read
// back from the database may come as int64 where the import has float64).
func sameValue(a, b any) bool {
	if a == b {
		return true
	}
	fa, okA := number(a)
	fb, okB := number(b)
	return okA && okB && fa == fb
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case int64:
		return float64(n), true
	case float64:
		return n, true
	}
	return 0, false
}

func clone(c *contact.Contact) *contact.Contact {
	cp := *c
	cp.CustomAttributes = maps.Clone(c.CustomAttributes)
	return &cp
}

// index holds the contacts a batch may update, by external_id and email.
type index struct {
	pending []*contact.Contact // created in this batch, not written yet
	byExt   map[string]*contact.Contact
	user    map[string]*contact.Contact // email → the user with it
	lead    map[string]*contact.Contact // email → the most recent lead with it
}

func (x *index) put(c *contact.Contact) {
	if c.ExternalID != nil {
		x.byExt[*c.ExternalID] = c
	}
	if c.Email != nil {
		m := x.lead
		if c.Role == contact.RoleUser {
			m = x.user
		}
		if old := m[*c.Email]; old == nil || old.ID == c.ID || (c.Role == contact.RoleLead && c.ID > old.ID) {
			m[*c.Email] = c
		}
	}
}

// drop forgets the entries of a contact whose identifiers are changing.
func (x *index) drop(c *contact.Contact) {
	if c.ExternalID != nil && x.byExt[*c.ExternalID] != nil && x.byExt[*c.ExternalID].ID == c.ID {
		delete(x.byExt, *c.ExternalID)
	}
	if c.Email != nil {
		for _, m := range []map[string]*contact.Contact{x.user, x.lead} {
			if o := m[*c.Email]; o != nil && o.ID == c.ID {
				delete(m, *c.Email)
			}
		}
	}
}

// find returns the contact a row updates: by external_id first, then by
// email (a user, else the most recent lead; a row that says role=lead only
// matches leads). A contact found by email that has another external_id is
// not the row's contact.
func (x *index) find(r *row) *contact.Contact {
	if r.externalID != nil {
		if c := x.byExt[*r.externalID]; c != nil {
			return c
		}
	}
	if r.email == nil {
		return nil
	}
	var c *contact.Contact
	if r.role == nil || *r.role == contact.RoleUser {
		c = x.user[*r.email]
	}
	if c == nil {
		c = x.lead[*r.email]
	}
	if c == nil || (r.externalID != nil && c.ExternalID != nil) {
		return nil
	}
	return c
}

func (x *index) isPending(c *contact.Contact) bool {
	for i := len(x.pending) - 1; i >= 0; i-- { // most likely a recent row
		if x.pending[i].ID == c.ID {
			return true
		}
	}
	return false
}

// conflict returns the id of another contact of the batch's index that
// holds c's external_id, or c's email if c is a user (the store's
// uniqueness rules), or "".
func (x *index) conflict(c *contact.Contact) string {
	if c.ExternalID != nil {
		if o := x.byExt[*c.ExternalID]; o != nil && o.ID != c.ID {
			return o.ID
		}
	}
	if c.Email != nil && c.Role == contact.RoleUser {
		if o := x.user[*c.Email]; o != nil && o.ID != c.ID && o.Email != nil && *o.Email == *c.Email {
			return o.ID
		}
	}
	return ""
}

const lookupChunk = 500

// load reads the contacts the valid rows of a batch may match, with a few
// IN queries instead of one query per row.
func (im *importer) load(ctx context.Context, tx *store.Tx, batch []*row) (*index, error) {
	x := &index{byExt: map[string]*contact.Contact{}, user: map[string]*contact.Contact{}, lead: map[string]*contact.Contact{}}
	var exts, emails []any
	seenExt, seenEmail := map[string]bool{}, map[string]bool{}
	for _, r := range batch {
		if r.err != "" {
			continue
		}
		if r.externalID != nil && !seenExt[*r.externalID] {
			seenExt[*r.externalID] = true
			exts = append(exts, *r.externalID)
		}
		if r.email != nil && !seenEmail[*r.email] {
			seenEmail[*r.email] = true
			emails = append(emails, *r.email)
		}
	}
	for _, col := range []string{"external_id", "email"} {
		vals := exts
		if col == "email" {
			vals = emails
		}
		for start := 0; start < len(vals); start += lookupChunk {
			chunk := vals[start:min(start+lookupChunk, len(vals))]
			marks := strings.TrimSuffix(strings.Repeat("?, ", len(chunk)), ", ")
			q := `SELECT ` + store.ContactSelect(tx.Dialect()) + ` FROM contacts c WHERE c.workspace_id = ? AND c.merged_into IS NULL AND c.` + col + ` IN (` + marks + `)`
			args := append([]any{im.opts.WorkspaceID}, chunk...)
			if tx.Dialect() == query.SQLite {
				// SQLite prefers scanning the workspace by primary key to
				// an IN list on the column's index unless the ids come
				// from a subquery on that index.
				q = `SELECT ` + store.ContactSelect(tx.Dialect()) + ` FROM contacts c WHERE c.workspace_id = ? AND c.merged_into IS NULL AND c.id IN (SELECT e.id FROM contacts e WHERE e.workspace_id = ? AND e.` + col + ` IN (` + marks + `))`
				args = append([]any{im.opts.WorkspaceID, im.opts.WorkspaceID}, chunk...)
			}
			rows, err := tx.Query(ctx, q, args...)
			if err != nil {
				return nil, err
			}
			for rows.Next() {
				c, err := store.ScanContact(rows)
				if err != nil {
					rows.Close()
					return nil, err
				}
				x.put(c)
			}
			err = rows.Close()
			if err == nil {
				err = rows.Err()
			}
			if err != nil {
				return nil, store.MapErr(err)
			}
		}
	}
	return x, nil
}

// commit writes one batch in one transaction and saves the checkpoint in
// the same transaction.
//
// A bad row must roll back alone. Rows are first written straight, under
// one savepoint for the batch: rows that fail validation or a conflict
// check against the batch's contacts are refused before any write, so a
// store error on a row is rare. If one happens, the batch is rolled back
// to its savepoint and written again with a savepoint per row, so that
// only that row is undone. (A savepoint per row always costs a quarter of
// the throughput on PostgreSQL.)
func (im *importer) commit(ctx context.Context, batch []*row, last bool) error {
	// Counts change only if the transaction commits.
	before := *im.res
	nErrors := len(im.res.Errors)
	reset := func() {
		*im.res = before
		im.res.Errors = im.res.Errors[:nErrors]
	}
	err := im.db.InTx(ctx, func(tx *store.Tx) error {
		reset()
		if err := tx.Savepoint(ctx, "csv_batch"); err != nil {
			return err
		}
		err := im.writeBatch(ctx, tx, batch, false)
		if errors.Is(err, errRowFailed) {
			if err := tx.RollbackTo(ctx, "csv_batch"); err != nil {
				return err
			}
			reset()
			err = im.writeBatch(ctx, tx, batch, true)
		}
		if err != nil {
			return err
		}
		if err := tx.Release(ctx, "csv_batch"); err != nil {
			return err
		}
		im.res.Rows += len(batch)
		im.res.Done = last
		return im.checkpoint(ctx, tx)
	})
	if err != nil {
		reset()
	}
	return err
}

// errRowFailed stops a batch written without row savepoints when a row
// failed in the store, possibly after part of it was written.
var errRowFailed = errors.New("a row failed in the store")

func (im *importer) writeBatch(ctx context.Context, tx *store.Tx, batch []*row, savepoints bool) error {
	x, err := im.load(ctx, tx, batch)
	if err != nil {
		return err
	}
	for _, r := range batch {
		if err := im.write(ctx, tx, x, r, savepoints); err != nil {
			return err
		}
	}
	return im.flush(ctx, tx, x)
}

// flush creates the batch's pending new contacts (with their events).
func (im *importer) flush(ctx context.Context, tx *store.Tx, x *index) error {
	if len(x.pending) == 0 {
		return nil
	}
	err := im.createMany(ctx, tx, x.pending)
	x.pending = x.pending[:0]
	if err != nil && rowError(err) {
		return errRowFailed
	}
	return err
}

// createOneByOne is the default createMany: the store's CreateIn per
// contact. A store method creating many contacts (and their events) in a
// few statements can take its place: it is what creating a million
// contacts a minute needs.
func (im *importer) createOneByOne(ctx context.Context, tx *store.Tx, cs []*contact.Contact) error {
	for _, c := range cs {
		if err := im.contacts.CreateIn(ctx, tx, c); err != nil {
			return err
		}
	}
	return nil
}

func (im *importer) fail(line int, msg string) {
	im.res.Failed++
	if len(im.res.Errors) < MaxErrors {
		im.res.Errors = append(im.res.Errors, RowError{Line: line, Message: msg})
	}
}

// write upserts one row. Row failures are recorded and leave nothing
// behind; the error returned stops the batch: errRowFailed when a row
// failed in the store without its own savepoint, anything else stops the
// import.
func (im *importer) write(ctx context.Context, tx *store.Tx, x *index, r *row, savepoint bool) error {
	if r.err != "" {
		im.fail(r.line, r.err)
		return nil
	}
	if r.empty {
		im.res.Unchanged++
		return nil
	}
	found := x.find(r)
	var c *contact.Contact
	prevRole := ""
	if found != nil {
		c, prevRole = clone(found), found.Role
	} else {
		c = &contact.Contact{WorkspaceID: im.opts.WorkspaceID, ID: ids.New()}
	}
	changed, err := r.apply(c)
	if err != nil {
		im.fail(r.line, err.Error())
		return nil
	}
	if !changed {
		im.res.Unchanged++
		return nil
	}
	if other := x.conflict(c); other != "" {
		// What the store would refuse, refused before writing.
		im.fail(r.line, "A contact matching those details already exists with id="+other)
		return nil
	}
	if savepoint {
		if err := tx.Savepoint(ctx, "csv_row"); err != nil {
			return err
		}
	}
	if !savepoint {
		if found == nil {
			// New contacts are written together at the end of the batch.
			x.pending = append(x.pending, c)
			im.res.Created++
			x.put(c)
			return nil
		}
		if x.isPending(found) {
			if err := im.flush(ctx, tx, x); err != nil {
				return err
			}
		}
	}
	if found != nil {
		err = im.contacts.UpdateIn(ctx, tx, c, prevRole)
	} else {
		err = im.contacts.CreateIn(ctx, tx, c)
	}
	if err != nil {
		if !rowError(err) {
			return err
		}
		if !savepoint {
			return errRowFailed
		}
		if err := tx.RollbackTo(ctx, "csv_row"); err != nil {
			return err
		}
		if err := tx.Release(ctx, "csv_row"); err != nil {
			return err
		}
		im.fail(r.line, rowMessage(err))
		return nil
	}
	if savepoint {
		if err := tx.Release(ctx, "csv_row"); err != nil {
			return err
		}
	}
	if found != nil {
		x.drop(found)
		im.res.Updated++
	} else {
		im.res.Created++
	}
	x.put(c)
	return nil
}

// rowError reports whether err is about the row (a conflict or a value the
// database refuses) rather than the database being unusable.
func rowError(err error) bool {
	var ve *attribute.ValidationError
	return errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrInvalid) || errors.As(err, &ve)
}

func rowMessage(err error) string {
	var ce *store.ConflictError
	if errors.As(err, &ce) {
		return ce.Message
	}
	if errors.Is(err, store.ErrConflict) {
		return "a contact matching those details already exists"
	}
	return err.Error()
}

// checkpoint saves the result in the job row inside tx. It only succeeds
// if the job still holds what this run last saved, so two runs of one job
// (a lease that ran out under a live worker) never both commit a batch.
func (im *importer) checkpoint(ctx context.Context, tx *store.Tx) error {
	if im.opts.JobID == 0 {
		return nil
	}
	b, err := json.Marshal(im.res)
	if err != nil {
		return err
	}
	res, err := tx.Exec(ctx, `UPDATE jobs SET result = ?, updated_at = ? WHERE workspace_id = ? AND id = ? AND result = ?`,
		string(b), time.Now().Unix(), im.opts.WorkspaceID, im.opts.JobID, im.saved)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return errors.New("import job checkpoint moved: another run of this job is ahead")
	}
	im.saved = string(b)
	return nil
}
