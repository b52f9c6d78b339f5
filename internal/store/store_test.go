package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"testing"

	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/conversation"
	"github.com/parleyhq/parley/internal/eventlog"
	"github.com/parleyhq/parley/internal/ids"
	"github.com/parleyhq/parley/internal/store"
	"github.com/parleyhq/parley/internal/testdb"
	"github.com/parleyhq/parley/internal/workspace"
)

// The conformance suite: the same assertions on SQLite and PostgreSQL.

func newWorkspace(t *testing.T, db *store.DB, name string) *workspace.Workspace {
	t.Helper()
	ws, err := store.NewWorkspaces(db).CreateWorkspace(context.Background(), name, &workspace.Admin{Name: "O", Email: "o@" + name + ".test"})
	if err != nil {
		t.Fatal(err)
	}
	return ws
}

func strp(s string) *string { return &s }

func TestMigrateIsIdempotent(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		n, err := db.Migrate(context.Background())
		if err != nil || n != 0 {
			t.Fatalf("second migrate applied %d, err %v", n, err)
		}
	})
}

func TestSentinels(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		ws := newWorkspace(t, db, "acme")
		cs := store.NewContacts(db)
		c, err := cs.Get(ctx, ws.ID, "nope")
		if c != nil || !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("missing contact: %v, %v; want nil, ErrNotFound", c, err)
		}
		a := &contact.Contact{WorkspaceID: ws.ID, ID: ids.New(), Role: contact.RoleUser, Email: strp("a@x.io"), ExternalID: strp("e1")}
		if err := cs.Create(ctx, a); err != nil {
			t.Fatal(err)
		}
		b := &contact.Contact{WorkspaceID: ws.ID, ID: ids.New(), Role: contact.RoleUser, Email: strp("b@x.io"), ExternalID: strp("e1")}
		err = cs.Create(ctx, b)
		var ce *store.ConflictError
		if !errors.Is(err, store.ErrConflict) || !errors.As(err, &ce) || ce.ExistingID != a.ID {
			t.Fatalf("duplicate external_id: %v", err)
		}
		if _, err := cs.Get(ctx, ws.ID, b.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("refused create left a row: %v", err)
		}
		if _, err := store.NewWorkspaces(db).Admin(ctx, ws.ID, 987654); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("missing admin: %v", err)
		}
		if _, err := store.NewWorkspaces(db).TokenByHash(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("missing token: %v", err)
		}
	})
}

// TestEventLogGapFree: concurrent writers produce a gap-free, duplicate-free
// per-workspace sequence, one event per change, and a failed transaction
// leaves neither its change nor its event.
func TestEventLogGapFree(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w1, w2 := newWorkspace(t, db, "one"), newWorkspace(t, db, "two")
		cs := store.NewContacts(db)
		var wg sync.WaitGroup
		errs := make(chan error, 100)
		for g := 0; g < 8; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < 10; i++ {
					ws := w1
					if i%2 == 1 {
						ws = w2
					}
					c := &contact.Contact{WorkspaceID: ws.ID, ID: ids.New(), Role: contact.RoleLead}
					if err := cs.Create(ctx, c); err != nil {
						errs <- err
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		// A transaction that fails after appending leaves nothing.
		boom := errors.New("boom")
		err := db.InTx(ctx, func(tx *store.Tx) error {
			c := &contact.Contact{WorkspaceID: w1.ID, ID: ids.New(), Role: contact.RoleLead}
			if err := cs.CreateIn(ctx, tx, c); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatal(err)
		}
		for _, ws := range []string{w1.ID, w2.ID} {
			evs, err := eventlog.Since(ctx, db.Read(), ws, 0, 1000)
			if err != nil {
				t.Fatal(err)
			}
			if len(evs) != 40 {
				t.Fatalf("workspace %s has %d events, want 40", ws, len(evs))
			}
			for i, e := range evs {
				if e.Seq != int64(i+1) {
					t.Fatalf("sequence gap: event %d has seq %d", i, e.Seq)
				}
				if e.Topic != "contact.lead.created" {
					t.Fatalf("topic %s", e.Topic)
				}
			}
			var n int
			if err := db.Read().QueryRow(ctx, `SELECT count(*) FROM contacts WHERE workspace_id = ?`, ws).Scan(&n); err != nil || n != 40 {
				t.Fatalf("workspace %s has %d contacts (%v), want 40", ws, n, err)
			}
			after, _ := eventlog.Since(ctx, db.Read(), ws, 35, 1000)
			if len(after) != 5 || after[0].Seq != 36 {
				t.Fatalf("Since(35) = %d events starting at %v", len(after), after)
			}
		}
	})
}

func TestContactStoreScopedByWorkspace(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w1, w2 := newWorkspace(t, db, "one"), newWorkspace(t, db, "two")
		cs := store.NewContacts(db)
		c := &contact.Contact{WorkspaceID: w1.ID, ID: ids.New(), Role: contact.RoleUser, Email: strp("x@y.io"), ExternalID: strp("same")}
		if err := cs.Create(ctx, c); err != nil {
			t.Fatal(err)
		}
		if _, err := cs.Get(ctx, w2.ID, c.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("other workspace got the contact: %v", err)
		}
		if _, err := cs.ByExternalID(ctx, w2.ID, "same"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("other workspace found by external id: %v", err)
		}
		if _, err := cs.Delete(ctx, w2.ID, c.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("other workspace deleted: %v", err)
		}
		list, total, err := cs.List(ctx, w2.ID, "", 10)
		if err != nil || total != 0 || len(list) != 0 {
			t.Fatalf("other workspace lists %d/%d (%v)", len(list), total, err)
		}
		// Same external id in another workspace is fine.
		d := &contact.Contact{WorkspaceID: w2.ID, ID: ids.New(), Role: contact.RoleUser, Email: strp("x@y.io"), ExternalID: strp("same")}
		if err := cs.Create(ctx, d); err != nil {
			t.Fatal(fmt.Errorf("same external id in another workspace: %w", err))
		}
	})
}

// TestGroupCommitIsolatesFailures: many concurrent transactions (batched
// into shared commits on SQLite) each keep their own all-or-nothing result;
// a panic reaches only its own caller.
func TestGroupCommitIsolatesFailures(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		ws := newWorkspace(t, db, "gc")
		cs := store.NewContacts(db)
		boom := errors.New("boom")
		const n = 60
		var wg sync.WaitGroup
		errs := make([]error, n)
		panics := make([]any, n)
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				defer func() { panics[i] = recover() }()
				errs[i] = db.InTx(ctx, func(tx *store.Tx) error {
					c := &contact.Contact{WorkspaceID: ws.ID, ID: fmt.Sprintf("c%03d", i), Role: contact.RoleLead}
					if err := cs.CreateIn(ctx, tx, c); err != nil {
						return err
					}
					switch i % 3 {
					case 1:
						return boom
					case 2:
						if i%6 == 2 {
							panic("kaboom")
						}
					}
					return nil
				})
			}(i)
		}
		wg.Wait()
		want := 0
		for i := 0; i < n; i++ {
			switch {
			case i%3 == 1:
				if !errors.Is(errs[i], boom) {
					t.Fatalf("tx %d: err %v, want boom", i, errs[i])
				}
			case i%6 == 2:
				if panics[i] != "kaboom" {
					t.Fatalf("tx %d: panic %v, want kaboom", i, panics[i])
				}
			default:
				if errs[i] != nil || panics[i] != nil {
					t.Fatalf("tx %d: %v %v", i, errs[i], panics[i])
				}
				want++
			}
		}
		var got int
		if err := db.Read().QueryRow(ctx, `SELECT count(*) FROM contacts WHERE workspace_id = ?`, ws.ID).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Fatalf("%d contacts committed, want %d", got, want)
		}
		evs, err := eventlog.Since(ctx, db.Read(), ws.ID, 0, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) != want {
			t.Fatalf("%d events, want %d", len(evs), want)
		}
		for i, e := range evs {
			if e.Seq != int64(i+1) {
				t.Fatalf("sequence gap at %d: %d", i, e.Seq)
			}
		}
	})
}

// TestMarkSeenByContact: a participant's read receipt moves only forward,
// appends one event per move, and is refused for anyone else.
func TestMarkSeenByContact(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w, other := newWorkspace(t, db, "one"), newWorkspace(t, db, "two")
		c := &contact.Contact{WorkspaceID: w.ID, ID: ids.New(), Role: contact.RoleLead}
		if err := store.NewContacts(db).Create(ctx, c); err != nil {
			t.Fatal(err)
		}
		convs := store.NewConversations(db)
		conv, ch := conversation.NewFromContact(w.ID, conversation.Author{Type: "lead", ID: c.ID}, c.ID, nil, "hi", "", nil, 100)
		if err := convs.Create(ctx, conv, ch); err != nil {
			t.Fatal(err)
		}
		head := func() int64 {
			h, err := eventlog.Head(ctx, db.Read(), w.ID)
			if err != nil {
				t.Fatal(err)
			}
			return h
		}
		before := head()
		for _, step := range []struct {
			at   int64
			want bool
		}{{200, true}, {200, false}, {150, false}, {300, true}} {
			got, err := convs.MarkSeenByContact(ctx, w.ID, conv.ID, c.ID, step.at)
			if err != nil || got != step.want {
				t.Fatalf("seen at %d: changed=%v err=%v, want %v", step.at, got, err, step.want)
			}
		}
		if at, err := convs.ContactSeenAt(ctx, w.ID, conv.ID); err != nil || at == nil || *at != 300 {
			t.Fatalf("seen at = %v (%v), want 300", at, err)
		}
		if n := head() - before; n != 2 {
			t.Fatalf("%d events for two moves", n)
		}
		if _, err := convs.MarkSeenByContact(ctx, w.ID, conv.ID, ids.New(), 400); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("a non-participant marked it seen: %v", err)
		}
		if _, err := convs.MarkSeenByContact(ctx, other.ID, conv.ID, c.ID, 400); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("another workspace marked it seen: %v", err)
		}
	})
}

// TestSavepointsTakeBackStagedEvents: events are numbered as they are
// appended but written at commit; a rollback to a savepoint takes back the
// events after it with their numbers (no gap), in every workspace, and a
// workspace first touched after the savepoint is locked and read again.
func TestSavepointsTakeBackStagedEvents(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w1, w2 := newWorkspace(t, db, "one"), newWorkspace(t, db, "two")
		head := func(ws string) int64 {
			h, err := eventlog.Head(ctx, db.Read(), ws)
			if err != nil {
				t.Fatal(err)
			}
			return h
		}
		h1, h2 := head(w1.ID), head(w2.ID)
		var seqs []int64
		err := db.InTx(ctx, func(tx *store.Tx) error {
			add := func(ws, topic string) {
				seq, err := eventlog.Append(ctx, tx, ws, topic, 1)
				if err != nil {
					t.Fatal(err)
				}
				seqs = append(seqs, seq)
			}
			add(w1.ID, "kept.1")
			if err := tx.Savepoint(ctx, "sp_outer"); err != nil {
				return err
			}
			add(w1.ID, "dropped.1")
			add(w2.ID, "dropped.2")
			if err := tx.Savepoint(ctx, "sp_inner"); err != nil {
				return err
			}
			add(w2.ID, "dropped.3")
			if err := tx.RollbackTo(ctx, "sp_outer"); err != nil { // inner goes too
				return err
			}
			add(w2.ID, "kept.2")
			add(w1.ID, "kept.3")
			return tx.Release(ctx, "sp_outer")
		})
		if err != nil {
			t.Fatal(err)
		}
		want := []int64{h1 + 1, h1 + 2, h2 + 1, h2 + 2, h2 + 1, h1 + 2}
		if !slices.Equal(seqs, want) {
			t.Fatalf("sequences handed out %v, want %v", seqs, want)
		}
		rows, err := db.Read().Query(ctx, `SELECT workspace_id, seq, topic FROM event_log WHERE workspace_id IN (?, ?) AND seq > 0 ORDER BY workspace_id, seq`, w1.ID, w2.ID)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		got := map[string][]string{}
		for rows.Next() {
			var ws, topic string
			var seq int64
			if err := rows.Scan(&ws, &seq, &topic); err != nil {
				t.Fatal(err)
			}
			got[ws] = append(got[ws], fmt.Sprintf("%d %s", seq, topic))
		}
		w1Want := []string{fmt.Sprintf("%d kept.1", h1+1), fmt.Sprintf("%d kept.3", h1+2)}
		w2Want := []string{fmt.Sprintf("%d kept.2", h2+1)}
		if !slices.Equal(got[w1.ID][len(got[w1.ID])-2:], w1Want) || !slices.Equal(got[w2.ID][len(got[w2.ID])-1:], w2Want) {
			t.Fatalf("log: %v / %v, want … %v / … %v", got[w1.ID], got[w2.ID], w1Want, w2Want)
		}
		if head(w1.ID) != h1+2 || head(w2.ID) != h2+1 {
			t.Fatalf("heads %d, %d; want %d, %d", head(w1.ID), head(w2.ID), h1+2, h2+1)
		}
	})
}

// TestUpdateWithStaleRole: the event of an update follows the role stored
// when the update commits, even if the caller loaded the contact before
// another request changed its role.
func TestUpdateWithStaleRole(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorkspace(t, db, "one")
		cs := store.NewContacts(db)
		lastTopic := func() string {
			var topic string
			if err := db.Read().QueryRow(ctx, `SELECT topic FROM event_log WHERE workspace_id = ? ORDER BY seq DESC LIMIT 1`, w.ID).Scan(&topic); err != nil {
				t.Fatal(err)
			}
			return topic
		}
		for _, loaded := range []string{contact.RoleLead, contact.RoleUser} {
			c := &contact.Contact{WorkspaceID: w.ID, ID: ids.New(), Role: contact.RoleLead}
			if err := cs.Create(ctx, c); err != nil {
				t.Fatal(err)
			}
			// Stored: lead. The caller says it loaded `loaded` and makes it a user.
			c.Role = contact.RoleUser
			if err := cs.Update(ctx, c, loaded); err != nil {
				t.Fatal(err)
			}
			if got := lastTopic(); got != "contact.lead.signed_up" {
				t.Fatalf("loaded as %s: event %s, want contact.lead.signed_up", loaded, got)
			}
		}
		if err := cs.Update(ctx, &contact.Contact{WorkspaceID: w.ID, ID: ids.New(), Role: contact.RoleUser}, contact.RoleUser); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("update of a missing contact: %v", err)
		}
	})
}

// TestConversationRelationsOneWayOrAnother: a conversation's participants,
// tags and teammates (selected with its row as JSON arrays) come back in
// the order they were made, the same loaded alone and in a list.
func TestConversationRelationsOneWayOrAnother(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorkspace(t, db, "one")
		owner, err := store.NewWorkspaces(db).Owner(ctx, w.ID)
		if err != nil {
			t.Fatal(err)
		}
		cs := store.NewContacts(db)
		var people []*contact.Contact
		for i := range 3 {
			c := &contact.Contact{WorkspaceID: w.ID, ID: ids.New(), Role: contact.RoleUser, ExternalID: strp(fmt.Sprintf("ext-%d", i))}
			if i == 1 {
				c.ExternalID = nil
			}
			if err := cs.Create(ctx, c); err != nil {
				t.Fatal(err)
			}
			people = append(people, c)
		}
		convs := store.NewConversations(db)
		conv, ch := conversation.NewFromContact(w.ID, conversation.Author{Type: "user", ID: people[2].ID}, people[2].ID, people[2].ExternalID, "hi", "", nil, 100)
		if err := convs.Create(ctx, conv, ch); err != nil {
			t.Fatal(err)
		}
		admin := conversation.Author{Type: "admin", ID: strconv.FormatInt(owner.ID, 10)}
		for _, p := range people[:2] {
			if _, err := convs.AddContact(ctx, w.ID, conv.ID, admin, p.ID); err != nil {
				t.Fatal(err)
			}
		}
		tags := store.NewTags(db)
		for _, name := range []string{"zeta", "alpha", "mid"} {
			tg, _, err := tags.Ensure(ctx, w.ID, name)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := convs.AddTag(ctx, w.ID, conv.ID, tg.ID, owner.ID); err != nil {
				t.Fatal(err)
			}
		}
		for _, who := range []string{"999", admin.ID, "999"} {
			_, err := convs.Change(ctx, w.ID, conv.ID, func(c *conversation.Conversation) (*conversation.Change, error) {
				return c.AdminReply(conversation.Author{Type: "admin", ID: who}, conversation.PartNote, "note", nil, nil, 200)
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		one, err := convs.Get(ctx, w.ID, conv.ID)
		if err != nil {
			t.Fatal(err)
		}
		list, _, err := convs.List(ctx, w.ID, 0, 10)
		if err != nil || len(list) != 1 {
			t.Fatalf("list: %d, %v", len(list), err)
		}
		many := list[0]
		if len(one.Contacts) != 3 || one.Contacts[0].ID != people[2].ID || one.Contacts[2].ID != people[1].ID || one.Contacts[2].ExternalID != nil ||
			*one.Contacts[0].ExternalID != "ext-2" {
			t.Fatalf("participants alone: %+v", one.Contacts)
		}
		if len(one.Tags) != 3 || one.Tags[0].Name != "zeta" || one.Tags[2].Name != "mid" || one.Tags[0].AppliedBy == nil || *one.Tags[0].AppliedBy != owner.ID {
			t.Fatalf("tags alone: %+v", one.Tags)
		}
		if !slices.Equal(one.Teammates, []int64{owner.ID, 999}) { // the owner added the participants first
			t.Fatalf("teammates alone: %v", one.Teammates)
		}
		show := func(c *conversation.Conversation) string {
			out := ""
			for _, r := range c.Contacts {
				out += fmt.Sprintf("contact %s %v; ", r.ID, deref(r.ExternalID))
			}
			for _, tg := range c.Tags {
				out += fmt.Sprintf("tag %d %s %d %v; ", tg.ID, tg.Name, tg.AppliedAt, deref(tg.AppliedBy))
			}
			return out + fmt.Sprint(c.Teammates)
		}
		if show(one) != show(many) {
			t.Fatalf("alone:     %s\nin a list: %s", show(one), show(many))
		}
	})
}

func deref[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}
