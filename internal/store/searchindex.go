package store

import (
	"bytes"
	"cmp"
	"context"
	"encoding/hex"
	"errors"
	"maps"
	"math"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parleyhq/parley/internal/eventlog"
	"github.com/parleyhq/parley/internal/query"
)

// The search index answers contact searches from memory: per workspace, the
// live contacts and, column by column, the values of the fields searches
// have used, loaded from the database on first use. A search first brings
// it up to date from the event log (every change to a contact appends its
// event in the same transaction), so it sees every write committed before
// it started, like a query would; the filter is then evaluated over whole
// columns (query.Filter.Eval), each distinct value tested once. Columns and
// whole workspaces unused for the idle time are dropped.
//
// It is a cache of what the database holds, never a source of truth: every
// node keeps its own, and anything it cannot follow (an unknown event
// topic, a long backlog, an id it cannot encode) makes it start over or
// step aside for SQL.
type searchIndex struct {
	db   *DB
	idle time.Duration

	mu  sync.Mutex
	wss map[string]*wsIndex
}

// Limits of the search index.
const (
	// indexMaxCatchUp is the longest backlog of events caught up one by
	// one; a longer one (a bulk import) rebuilds the index instead.
	indexMaxCatchUp = 20000
	// indexReadChunk is the number of contacts re-read per query.
	indexReadChunk = 500
)

// indexExcluded are fields searches on which are left to SQL: unique or
// nearly unique strings, which the database indexes (email, external_id,
// id) or which would make dictionaries as large as the workspace.
var indexExcluded = map[string]bool{"id": true, "email": true, "external_id": true, "phone": true, "name": true, "avatar": true}

func newSearchIndex(db *DB, idle time.Duration) *searchIndex {
	return &searchIndex{db: db, idle: idle, wss: map[string]*wsIndex{}}
}

// wsIndex is the index of one workspace.
type wsIndex struct {
	mu sync.RWMutex
	// seq is the last event applied; built is false until the base is
	// loaded, and broken when the workspace cannot be indexed (ids that
	// are not 24 hex digits).
	seq    int64
	built  bool
	broken bool

	ids  [][12]byte // row → contact id
	pos  map[[12]byte]int32
	live query.Bitset

	single map[string]*indexCol  // by columnKey
	multi  map[string]*indexMCol // by columnKey

	used atomic.Int64 // unix nanoseconds of the last search
}

// indexCol is a single-valued field: a query.Column kept current.
type indexCol struct {
	field query.Field
	col   query.Column
	dict  map[any]uint32 // dictionary encoding: value → code
	used  atomic.Int64
}

// indexMCol is a multi-valued field.
type indexMCol struct {
	field query.Field
	vals  []any
	index map[any]int
	rows  []query.Bitset
	used  atomic.Int64
}

// columnKey identifies a field's column: its name, kind and expression (a
// custom attribute archived and re-created with another type is another
// column).
func columnKey(d query.Dialect, f query.Field) string {
	k := f.Name + "\x00" + f.Kind.String() + "\x00"
	if f.Multi != nil {
		return k + "multi\x00" + f.Multi.From + "\x00" + f.Multi.Join + "\x00" + f.Multi.Expr[d]
	}
	return k + f.Expr[d]
}

// indexable reports whether a search with filter f should use the index.
func indexable(f *query.Filter) bool {
	for _, c := range f.Columns() {
		if indexExcluded[c.Name] {
			return false
		}
	}
	return true
}

// sortableInMemory reports whether the index can order results by s the
// way SQL does: numbers, booleans and the contact id everywhere, other
// strings only on SQLite (bytewise; PostgreSQL orders them by collation).
func sortableInMemory(d query.Dialect, s SearchSort) bool {
	if s.Field.Multi != nil || s.Field.Segment {
		return false
	}
	if s.Field.Expr[d] == "c.id" {
		return true
	}
	switch s.Field.Kind {
	case query.Integer, query.Float, query.Date, query.DateTime, query.Boolean:
		return true
	}
	return d == query.SQLite && !indexExcluded[s.Field.Name]
}

// indexResult is what the index answers for a search: the number of
// matches and, when paged is true, the ids of the page in order.
type indexResult struct {
	total int
	paged bool
	ids   []string
}

// search evaluates f over the workspace's index, brought up to date
// first. ok is false when the workspace cannot be indexed.
func (x *searchIndex) search(ctx context.Context, r *Reader, workspaceID string, f *query.Filter, sort SearchSort, after *Keyset, limit int) (res indexResult, ok bool, err error) {
	d := r.Dialect()
	fields := f.Columns()
	paged := sortableInMemory(d, sort)
	if paged && sort.Field.Expr[d] != "c.id" {
		fields = append(fields, sort.Field)
	}
	var kv any
	var afterID [12]byte
	if paged && after != nil {
		if kv, err = keyValue(sort.Field.Kind, after.Value, d); err != nil {
			return res, false, err
		}
		if len(after.ID) != 24 || !isLowerHex(after.ID) {
			paged = false // a cursor id unlike ours: SQL orders it
		} else {
			_, _ = hex.Decode(afterID[:], []byte(after.ID))
		}
	}
	cur, err := eventlog.Head(ctx, r, workspaceID)
	if err != nil {
		return res, false, mapErr(err)
	}
	w := x.workspace(workspaceID)
	w.used.Store(time.Now().UnixNano())

	w.mu.RLock()
	if w.built && !w.broken && w.seq >= cur && w.has(d, fields) {
		res = w.evaluate(d, f, fields, sort, paged, after != nil, kv, afterID, limit)
		w.mu.RUnlock()
		return res, true, nil
	}
	w.mu.RUnlock()

	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.refresh(ctx, r, workspaceID, cur, fields); err != nil {
		return res, false, err
	}
	if w.broken {
		return res, false, nil
	}
	return w.evaluate(d, f, fields, sort, paged, after != nil, kv, afterID, limit), true, nil
}

// workspace returns the index of a workspace, creating it (empty) and its
// eviction timer.
func (x *searchIndex) workspace(id string) *wsIndex {
	x.mu.Lock()
	defer x.mu.Unlock()
	w := x.wss[id]
	if w == nil {
		w = &wsIndex{}
		x.wss[id] = w
		time.AfterFunc(x.idle, func() { x.evict(id, w) })
	}
	return w
}

// evict drops the columns of w unused for the idle time, and w itself
// once no search has used it for that long; otherwise it checks again
// later.
func (x *searchIndex) evict(id string, w *wsIndex) {
	now := time.Now().UnixNano()
	if now-w.used.Load() >= int64(x.idle) {
		x.mu.Lock()
		if x.wss[id] == w {
			delete(x.wss, id)
		}
		x.mu.Unlock()
		// Give the memory back now rather than over the scavenger's
		// next minutes: an idle server should be small.
		debug.FreeOSMemory()
		return
	}
	w.mu.Lock()
	dropped := false
	for k, c := range w.single {
		if now-c.used.Load() >= int64(x.idle) {
			delete(w.single, k)
			dropped = true
		}
	}
	for k, c := range w.multi {
		if now-c.used.Load() >= int64(x.idle) {
			delete(w.multi, k)
			dropped = true
		}
	}
	w.mu.Unlock()
	if dropped {
		debug.FreeOSMemory()
	}
	next := time.Duration(w.used.Load() + int64(x.idle) - now)
	time.AfterFunc(max(next, time.Second), func() { x.evict(id, w) })
}

// has reports whether every field has its column loaded.
func (w *wsIndex) has(d query.Dialect, fields []query.Field) bool {
	for _, f := range fields {
		if !w.hasField(d, f) {
			return false
		}
	}
	return true
}

func (w *wsIndex) hasField(d query.Dialect, f query.Field) bool {
	k := columnKey(d, f)
	if f.Multi != nil {
		return w.multi[k] != nil
	}
	return w.single[k] != nil
}

// refresh brings w up to date with the event log (at least to seq cur) and
// loads the columns of fields it lacks. Called with w.mu held.
func (w *wsIndex) refresh(ctx context.Context, r *Reader, workspaceID string, cur int64, fields []query.Field) error {
	if w.broken {
		return nil // SQL answers this workspace's searches
	}
	if w.built && w.seq < cur {
		rebuild, err := w.catchUp(ctx, r, workspaceID)
		if err != nil {
			return err
		}
		if rebuild {
			w.reset()
		}
	}
	d := r.Dialect()
	var singles []*indexCol
	for _, f := range fields {
		if f.Multi == nil && (!w.built || !w.hasField(d, f)) {
			singles = append(singles, newIndexCol(f))
		}
	}
	if !w.built {
		// The live contacts and the single-valued columns in one scan.
		if err := w.build(ctx, r, workspaceID, cur, singles); err != nil {
			w.reset()
			return err
		}
		singles = nil
	}
	if w.broken {
		return nil
	}
	if err := w.loadSingles(ctx, r, workspaceID, singles, nil, false); err != nil {
		return err
	}
	for _, f := range fields {
		if f.Multi != nil && !w.hasField(d, f) {
			c := &indexMCol{field: f, index: map[any]int{}}
			if err := w.loadMulti(ctx, r, workspaceID, c, nil); err != nil {
				return err
			}
			c.used.Store(time.Now().UnixNano())
			w.multi[columnKey(d, f)] = c
		}
	}
	return nil
}

// reset empties w, to be built again.
func (w *wsIndex) reset() {
	w.seq, w.built, w.broken = 0, false, false
	w.ids, w.pos, w.live, w.single, w.multi = nil, nil, nil, nil, nil
}

// build loads the live contacts and the given columns. seq was read before
// the scan starts: whatever changes after it is re-read when its event is
// applied.
func (w *wsIndex) build(ctx context.Context, r *Reader, workspaceID string, seq int64, cols []*indexCol) error {
	w.seq = seq
	w.pos = map[[12]byte]int32{}
	w.single = map[string]*indexCol{}
	w.multi = map[string]*indexMCol{}
	if err := w.loadSingles(ctx, r, workspaceID, cols, nil, true); err != nil {
		return err
	}
	w.built = true // broken or not: a broken index stays so until evicted
	return nil
}

// row returns the row of a contact id, adding one if add is set (false:
// unknown id, or an id the index cannot encode).
func (w *wsIndex) row(id string, add bool) (int, bool) {
	var k [12]byte
	if len(id) != 24 || !isLowerHex(id) {
		return 0, false
	}
	if _, err := hex.Decode(k[:], []byte(id)); err != nil {
		return 0, false
	}
	if r, ok := w.pos[k]; ok {
		return int(r), true
	}
	if !add || len(w.ids) >= math.MaxInt32 {
		return 0, false
	}
	r := len(w.ids)
	w.ids = append(w.ids, k)
	w.pos[k] = int32(r)
	w.live = grow(w.live, r+1)
	return r, true
}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// grow returns b with room for n rows.
func grow(b query.Bitset, n int) query.Bitset {
	if need := (n + 63) / 64; need > len(b) {
		b = append(b, make(query.Bitset, need-len(b))...)
	}
	return b
}

// topicEffect is what an event means for the index.
type topicEffect int

const (
	effectNone     topicEffect = iota // changes nothing searchable
	effectContacts                    // changes the contacts it names
	effectTags                        // a tag disappeared: reload tag columns
	effectCompany                     // a company changed: reload company columns
	effectUnknown                     // start over
)

func effectOf(topic string) topicEffect {
	switch {
	case strings.HasPrefix(topic, "contact."), topic == "company.contact.attached", topic == "company.contact.detached":
		return effectContacts
	case topic == "tag.deleted":
		return effectTags
	case topic == "company.updated", topic == "company.deleted":
		return effectCompany
	case topic == "tag.created", topic == "tag.updated", topic == "company.created",
		strings.HasPrefix(topic, "company.tag."), strings.HasPrefix(topic, "segment."),
		strings.HasPrefix(topic, "data_attribute."), strings.HasPrefix(topic, "event."):
		return effectNone
	case topic == "conversation.user.created", topic == "conversation.user.replied":
		// The contact who wrote: its last_replied_at moved (record).
		return effectContacts
	case strings.HasPrefix(topic, "company."), strings.HasPrefix(topic, "tag."):
		// A topic of the data platform this index does not know yet:
		// start over rather than guess.
		return effectUnknown
	}
	// Other aggregates (conversations, teams, tickets, …) never change a
	// contact's searchable fields without also appending a contact event.
	return effectNone
}

// eventContactIDs extracts, per dialect, the contact ids an event item
// names: the item itself (a contact), its "contact", the two sides of a
// merge, or the author of a conversation's first message or of the reply
// the event carries.
var eventContactIDs = [2]string{
	query.SQLite: `json_extract(item, '$.id'), json_extract(item, '$.contact.id'), json_extract(item, '$.from.id'), json_extract(item, '$.into.id'),
 json_extract(item, '$.source.author.id'), json_extract(item, '$.conversation_parts.conversation_parts[0].author.id')`,
	query.Postgres: `CAST(item AS jsonb)->>'id', CAST(item AS jsonb)->'contact'->>'id', CAST(item AS jsonb)->'from'->>'id', CAST(item AS jsonb)->'into'->>'id',
 CAST(item AS jsonb)#>>'{source,author,id}', CAST(item AS jsonb)#>>'{conversation_parts,conversation_parts,0,author,id}'`,
}

// catchUp applies the events after w.seq: the contacts they name are
// re-read. rebuild is true when the backlog is too long or holds an event
// the index cannot follow.
func (w *wsIndex) catchUp(ctx context.Context, r *Reader, workspaceID string) (rebuild bool, err error) {
	d := r.Dialect()
	rows, err := r.Query(ctx, `SELECT seq, topic, `+eventContactIDs[d]+` FROM event_log WHERE workspace_id = ? AND seq > ? ORDER BY seq LIMIT ?`,
		workspaceID, w.seq, indexMaxCatchUp+1)
	if err != nil {
		return false, err
	}
	defer rows.Close()
	changed := map[string]bool{}
	var last int64
	n := 0
	for rows.Next() {
		var topic string
		var ids [6]*string
		if err := rows.Scan(&last, &topic, &ids[0], &ids[1], &ids[2], &ids[3], &ids[4], &ids[5]); err != nil {
			return false, mapErr(err)
		}
		if n++; n > indexMaxCatchUp {
			return true, nil
		}
		switch effectOf(topic) {
		case effectContacts:
			if strings.HasPrefix(topic, "company.") || strings.HasPrefix(topic, "conversation.") || strings.Contains(topic, ".tag.") || strings.Contains(topic, ".note.") {
				ids[0] = nil // the item is not the contact itself
			}
			for _, id := range ids {
				if id != nil {
					changed[*id] = true
				}
			}
		case effectTags:
			w.dropColumns(func(f query.Field) bool { return f.Name == "tag_id" })
		case effectCompany:
			w.dropColumns(func(f query.Field) bool { return strings.HasPrefix(f.Name, "company.") })
		case effectUnknown:
			return true, nil
		}
	}
	if err := rows.Err(); err != nil {
		return false, mapErr(err)
	}
	rows.Close()
	ids := make([]string, 0, len(changed))
	for id := range changed {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for chunk := range slices.Chunk(ids, indexReadChunk) {
		if err := w.reread(ctx, r, workspaceID, chunk); err != nil {
			return false, err
		}
		if w.broken {
			return true, nil
		}
	}
	w.seq = last
	return false, nil
}

func (w *wsIndex) dropColumns(match func(query.Field) bool) {
	for k, c := range w.single {
		if match(c.field) {
			delete(w.single, k)
		}
	}
	for k, c := range w.multi {
		if match(c.field) {
			delete(w.multi, k)
		}
	}
}

// reread loads the current state of some contacts: whether they are live,
// and their value in every loaded column.
func (w *wsIndex) reread(ctx context.Context, r *Reader, workspaceID string, ids []string) error {
	// Forget what is known of these contacts…
	for _, id := range ids {
		row, ok := w.row(id, false)
		if !ok {
			continue // never indexed
		}
		w.live.Clear(row)
		for _, c := range w.single {
			c.set(row, nil)
		}
		for _, c := range w.multi {
			for _, b := range c.rows {
				if row>>6 < len(b) {
					b.Clear(row)
				}
			}
		}
	}
	// …then read back the live ones (new ones get a row) in one scan of
	// every single-valued column, and their related values.
	if err := w.loadSingles(ctx, r, workspaceID, slices.Collect(maps.Values(w.single)), ids, true); err != nil || w.broken {
		return err
	}
	for _, c := range w.multi {
		if err := w.loadMulti(ctx, r, workspaceID, c, ids); err != nil {
			return err
		}
	}
	return nil
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// loadSingles reads the values of single-valued columns, in one scan,
// for the live contacts (ids nil: all of them, and the columns are then
// new and added to w) or for the given ones. With add, the contacts read
// are marked live, getting a row if new (building, re-reading); otherwise
// contacts the index does not know are skipped: they are newer than its
// sequence and will be read when their event is applied.
func (w *wsIndex) loadSingles(ctx context.Context, r *Reader, workspaceID string, cols []*indexCol, ids []string, add bool) error {
	if len(cols) == 0 && !add {
		return nil
	}
	d := r.Dialect()
	q := `SELECT c.id`
	for _, c := range cols {
		q += `, ` + c.field.Expr[d]
	}
	q += ` FROM contacts c WHERE ` + liveContacts
	order := ""
	if add && ids == nil { // building
		// Rows numbered in id order, which is creation order: top-k by
		// creation time (the default sort) then rejects most rows at
		// the first comparison.
		order = ` ORDER BY c.id`
	}
	err := scanLive(ctx, r, q, order, workspaceID, ids, len(cols), func(id string, vals []any) error {
		row, ok := w.row(id, add)
		if !ok {
			if add {
				w.broken = true
				return errBroken
			}
			return nil
		}
		if add {
			w.live.Set(row)
		}
		for i, c := range cols {
			c.set(row, vals[i])
		}
		return nil
	})
	if errors.Is(err, errBroken) {
		return nil
	}
	if err != nil {
		return err
	}
	if ids == nil {
		now := time.Now().UnixNano()
		for _, c := range cols {
			c.used.Store(now)
			w.single[columnKey(d, c.field)] = c
		}
	}
	return nil
}

// loadMulti reads a multi-valued column for the live contacts (ids nil)
// or the given ones.
func (w *wsIndex) loadMulti(ctx context.Context, r *Reader, workspaceID string, c *indexMCol, ids []string) error {
	d := r.Dialect()
	f := c.field
	q := `SELECT c.id, ` + f.Multi.Expr[d] + ` FROM contacts c, ` + f.Multi.From + ` WHERE ` + liveContacts + ` AND (` + f.Multi.Join + `)`
	return scanLive(ctx, r, q, "", workspaceID, ids, 1, func(id string, vals []any) error {
		if row, ok := w.row(id, false); ok && vals[0] != nil {
			c.add(row, vals[0])
		}
		return nil
	})
}

// errBroken stops a scan that met an id the index cannot encode.
var errBroken = errors.New("search index: contact id cannot be indexed")

// scanLive runs q (selecting c.id and n values from live contacts, its
// arguments those of liveContacts), restricted to ids when given, then
// order, and calls fn for each row with the values ([]byte turned into
// string).
func scanLive(ctx context.Context, r *Reader, q, order, workspaceID string, ids []string, n int, fn func(id string, vals []any) error) error {
	args := []any{workspaceID, false}
	if ids != nil {
		q += ` AND c.id IN (` + placeholders(len(ids)) + `)`
		for _, id := range ids {
			args = append(args, id)
		}
	}
	rows, err := r.Query(ctx, q+order, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	var id string
	vals := make([]any, n)
	dest := append([]any{&id}, make([]any, n)...)
	for i := range vals {
		dest[i+1] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return mapErr(err)
		}
		for i, v := range vals {
			if b, ok := v.([]byte); ok {
				vals[i] = string(b)
			}
		}
		if err := fn(id, vals); err != nil {
			return err
		}
	}
	return mapErr(rows.Err())
}

func newIndexCol(f query.Field) *indexCol {
	c := &indexCol{field: f}
	switch f.Kind {
	case query.Integer, query.Date, query.DateTime:
		c.col.Ints = []int64{}
	case query.Float:
		c.col.Floats = []float64{}
	default:
		c.col.Codes = []uint32{}
		c.dict = map[any]uint32{}
	}
	return c
}

// set stores row's value (nil: absent).
func (c *indexCol) set(row int, v any) {
	col := &c.col
	delete(col.Other, row)
	if col.Codes != nil {
		col.Codes = growTo(col.Codes, row+1)
		col.Codes[row] = 0
		if v != nil {
			code, ok := c.dict[v]
			if !ok {
				col.Dict = append(col.Dict, v)
				code = uint32(len(col.Dict))
				c.dict[v] = code
			}
			col.Codes[row] = code
		}
		return
	}
	// Numeric: an int64 in Ints, a float64 (or an int64 it holds
	// exactly) in Floats; anything else is kept aside in Other.
	var i int64
	var f float64
	fits := false
	switch x := v.(type) {
	case int64:
		i, f = x, float64(x)
		fits = col.Ints != nil || (int64(f) == x && math.Abs(f) <= 1<<53)
	case float64:
		f, fits = x, col.Floats != nil
	}
	col.Present = grow(col.Present, row+1)
	col.Present.Clear(row)
	if col.Ints != nil {
		col.Ints = growTo(col.Ints, row+1)
		col.Ints[row] = i
	} else {
		col.Floats = growTo(col.Floats, row+1)
		col.Floats[row] = f
	}
	switch {
	case v == nil:
	case fits:
		col.Present.Set(row)
	default:
		c.other(row, v)
	}
}

// growTo returns s with at least n elements.
func growTo[T any](s []T, n int) []T {
	if n > len(s) {
		s = append(s, make([]T, n-len(s))...)
	}
	return s
}

func (c *indexCol) other(row int, v any) {
	if c.col.Other == nil {
		c.col.Other = map[int]any{}
	}
	c.col.Other[row] = v
}

// value returns row's value, nil when absent.
func (c *indexCol) value(row int) any {
	col := &c.col
	if v, ok := col.Other[row]; ok {
		return v
	}
	switch {
	case col.Ints != nil:
		if col.Present.Has(row) {
			return col.Ints[row]
		}
	case col.Floats != nil:
		if col.Present.Has(row) {
			return col.Floats[row]
		}
	default:
		if row < len(col.Codes) && col.Codes[row] != 0 {
			return col.Dict[col.Codes[row]-1]
		}
	}
	return nil
}

func (c *indexMCol) add(row int, v any) {
	k, ok := c.index[v]
	if !ok {
		k = len(c.vals)
		c.index[v] = k
		c.vals = append(c.vals, v)
		c.rows = append(c.rows, nil)
	}
	c.rows[k] = grow(c.rows[k], row+1)
	c.rows[k].Set(row)
}

// tableView is the query.Table of one search: the workspace's columns for
// the fields it reads, by name.
type tableView struct {
	rows   int
	single map[string]*indexCol
	multi  map[string]*indexMCol
}

func (t *tableView) Rows() int { return t.rows }

func (t *tableView) Single(field string) *query.Column {
	if c := t.single[field]; c != nil {
		return &c.col
	}
	return nil
}

func (t *tableView) Multi(field string) ([]any, []query.Bitset) {
	if c := t.multi[field]; c != nil {
		return c.vals, c.rows
	}
	return nil, nil
}

// evaluate runs the search over w (read-locked at least).
func (w *wsIndex) evaluate(d query.Dialect, f *query.Filter, fields []query.Field, sort SearchSort, paged, hasAfter bool, kv any, afterID [12]byte, limit int) indexResult {
	now := time.Now().UnixNano()
	t := &tableView{rows: len(w.ids), single: map[string]*indexCol{}, multi: map[string]*indexMCol{}}
	for _, fl := range fields {
		k := columnKey(d, fl)
		if fl.Multi != nil {
			c := w.multi[k]
			c.used.Store(now)
			t.multi[fl.Name] = c
		} else {
			c := w.single[k]
			c.used.Store(now)
			t.single[fl.Name] = c
		}
	}
	m := f.Eval(t)
	m.And(w.live)
	res := indexResult{total: m.Count(), paged: paged}
	if !paged {
		return res
	}
	var sortCol *indexCol
	if sort.Field.Expr[d] != "c.id" {
		sortCol = t.single[sort.Field.Name]
	}
	o := newRowOrder(w, sortCol, sort.Field.Kind, sort.Desc)
	if hasAfter {
		o.setKey(kv, afterID)
	}
	top := &topK{o: o, limit: limit}
	visit := func(row int) bool {
		if !hasAfter || o.afterKey(row) {
			top.offer(row)
		}
		return true
	}
	// Rows are numbered roughly in creation order: visiting them in the
	// sort's direction makes most rows lose to the current last of the
	// page at the first comparison when sorting by creation.
	if sort.Desc {
		m.EachReverse(visit)
	} else {
		m.Each(visit)
	}
	for _, row := range top.rows {
		res.ids = append(res.ids, hex.EncodeToString(w.ids[row][:]))
	}
	return res
}

// rowOrder is the order of search results over the rows of an index: by
// the sort column's value, absent values last in both directions, then
// by id, in the sort's direction. Comparisons read the column's typed
// storage (dictionary codes are ranked once) and allocate nothing.
type rowOrder struct {
	w    *wsIndex
	col  *query.Column // nil: by id alone
	c    *indexCol
	kind query.Kind
	desc bool
	// rank[code] orders a dictionary's values; generic is set when some
	// values sit in Column.Other and must be compared boxed.
	rank    []uint32
	generic bool

	// The keyset position: its value (nil: absent) and id, with, for a
	// dictionary, each code's comparison to the value.
	kv    any
	kid   [12]byte
	kvCmp []int8
}

func newRowOrder(w *wsIndex, c *indexCol, kind query.Kind, desc bool) *rowOrder {
	o := &rowOrder{w: w, c: c, kind: kind, desc: desc}
	if c == nil {
		return o
	}
	o.col = &c.col
	o.generic = len(o.col.Other) > 0
	if o.col.Codes != nil && !o.generic {
		dict := o.col.Dict
		byValue := make([]int, len(dict))
		for i := range byValue {
			byValue[i] = i
		}
		slices.SortFunc(byValue, func(a, b int) int { return query.Compare(kind, dict[a], dict[b]) })
		o.rank = make([]uint32, len(dict)+1)
		r := uint32(0)
		for i, d := range byValue {
			if i == 0 || query.Compare(kind, dict[byValue[i-1]], dict[d]) != 0 {
				r++
			}
			o.rank[d+1] = r
		}
	}
	return o
}

// setKey sets the keyset position rows are compared to by afterKey.
func (o *rowOrder) setKey(kv any, id [12]byte) {
	o.kv, o.kid = kv, id
	if o.rank != nil && kv != nil {
		o.kvCmp = make([]int8, len(o.col.Dict)+1)
		for i, v := range o.col.Dict {
			o.kvCmp[i+1] = int8(query.Compare(o.kind, v, kv))
		}
	}
}

func (o *rowOrder) present(row int) bool {
	switch {
	case o.generic:
		return o.c.value(row) != nil
	case o.col.Codes != nil:
		return row < len(o.col.Codes) && o.col.Codes[row] != 0
	}
	return o.col.Present.Has(row)
}

// cmpValues compares the present values of rows a and b.
func (o *rowOrder) cmpValues(a, b int) int {
	switch {
	case o.generic:
		return query.Compare(o.kind, o.c.value(a), o.c.value(b))
	case o.rank != nil:
		return cmp.Compare(o.rank[o.col.Codes[a]], o.rank[o.col.Codes[b]])
	case o.col.Ints != nil:
		return cmp.Compare(o.col.Ints[a], o.col.Ints[b])
	}
	return cmp.Compare(o.col.Floats[a], o.col.Floats[b])
}

// direct turns an ascending comparison into the sort's direction.
func (o *rowOrder) direct(c int) int {
	if o.desc {
		return -c
	}
	return c
}

// compare orders rows a and b: negative when a comes first.
func (o *rowOrder) compare(a, b int) int {
	if o.col != nil {
		pa, pb := o.present(a), o.present(b)
		switch {
		case pa && !pb:
			return -1
		case !pa && pb:
			return 1
		case pa:
			if c := o.cmpValues(a, b); c != 0 {
				return o.direct(c)
			}
		}
	}
	return o.direct(bytes.Compare(o.w.ids[a][:], o.w.ids[b][:]))
}

// afterKey reports whether row comes after the keyset position.
func (o *rowOrder) afterKey(row int) bool {
	if o.col != nil {
		p := o.present(row)
		switch {
		case p && o.kv == nil:
			return false // present values come before the absent position
		case !p && o.kv != nil:
			return true // absent values come after every present one
		case p:
			var c int
			switch {
			case o.kvCmp != nil:
				c = int(o.kvCmp[o.col.Codes[row]])
			case !o.generic && o.col.Ints != nil:
				if k, ok := o.kv.(int64); ok {
					c = cmp.Compare(o.col.Ints[row], k)
				} else {
					c = query.Compare(o.kind, o.col.Ints[row], o.kv)
				}
			case !o.generic && o.col.Floats != nil:
				if k, ok := o.kv.(float64); ok {
					c = cmp.Compare(o.col.Floats[row], k)
				} else {
					c = query.Compare(o.kind, o.col.Floats[row], o.kv)
				}
			default:
				c = query.Compare(o.kind, o.c.value(row), o.kv)
			}
			if c != 0 {
				return o.direct(c) > 0
			}
		}
	}
	return o.direct(bytes.Compare(o.w.ids[row][:], o.kid[:])) > 0
}

// topK keeps the first limit rows in a rowOrder.
type topK struct {
	o     *rowOrder
	limit int
	rows  []int // in order, at most limit
}

func (t *topK) offer(row int) {
	if t.limit <= 0 || (len(t.rows) == t.limit && t.o.compare(row, t.rows[len(t.rows)-1]) >= 0) {
		return
	}
	i, _ := slices.BinarySearchFunc(t.rows, row, t.o.compare)
	t.rows = slices.Insert(t.rows, i, row)
	if len(t.rows) > t.limit {
		t.rows = t.rows[:t.limit]
	}
}
