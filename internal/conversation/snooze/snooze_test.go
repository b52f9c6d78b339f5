package snooze_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/conversation"
	"github.com/parleyhq/parley/internal/conversation/snooze"
	"github.com/parleyhq/parley/internal/ids"
	"github.com/parleyhq/parley/internal/jobs"
	"github.com/parleyhq/parley/internal/store"
	"github.com/parleyhq/parley/internal/testdb"
	"github.com/parleyhq/parley/internal/workspace"
)

// node is one Parley process's view of the database: opened, migrated,
// with the conversation store wired to the snooze timers.
type node struct {
	db     *store.DB
	convs  *store.Conversations
	worker *jobs.Worker
}

func start(t *testing.T, dbURL, dir string) *node {
	t.Helper()
	db, err := store.Open(context.Background(), dbURL, dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	convs := store.NewConversations(db)
	convs.OnSnooze = snooze.Schedule
	w := jobs.NewWorker(db)
	w.Handle(snooze.Kind, snooze.Handler(convs))
	return &node{db: db, convs: convs, worker: w}
}

func topics(t *testing.T, db *store.DB, ws string) []string {
	t.Helper()
	rows, err := db.Read().Query(context.Background(), `SELECT topic FROM event_log WHERE workspace_id = ? AND topic LIKE 'conversation.%' ORDER BY seq`, ws)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

// runDue runs every job that is due, after waiting until the second after
// until has begun (job times are Unix seconds).
func runDue(t *testing.T, n *node, until int64) int {
	t.Helper()
	for time.Now().Unix() <= until {
		time.Sleep(50 * time.Millisecond)
	}
	ran := 0
	for {
		ok, err := n.worker.RunOne(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			return ran
		}
		ran++
	}
}

// TestSnoozeReopensAcrossRestart: a conversation snoozed on one process
// reopens when its time comes on a process started later over the same
// database; stale timers (re-snoozed, opened by hand) do nothing.
func TestSnoozeReopensAcrossRestart(t *testing.T) {
	run := func(t *testing.T, dbURL, dir string) {
		ctx := context.Background()
		a := start(t, dbURL, dir)
		owner := &workspace.Admin{Name: "Owner", Email: "owner@acme.test"}
		ws, err := store.NewWorkspaces(a.db).CreateWorkspace(ctx, "Acme", owner)
		if err != nil {
			t.Fatal(err)
		}
		email := "ada@example.com"
		c := &contact.Contact{WorkspaceID: ws.ID, ID: ids.New(), Role: contact.RoleUser, Email: &email}
		if err := store.NewContacts(a.db).Create(ctx, c); err != nil {
			t.Fatal(err)
		}
		admin := conversation.Author{Type: conversation.AuthorAdmin, ID: "1", Name: &owner.Name, Email: owner.Email}
		newConv := func() int64 {
			conv, ch := conversation.NewFromContact(ws.ID, conversation.Author{Type: "user", ID: c.ID}, c.ID, nil, "<p>hi</p>", "", nil, time.Now().Unix())
			if err := a.convs.Create(ctx, conv, ch); err != nil {
				t.Fatal(err)
			}
			return conv.ID
		}
		snoozeFor := func(n *node, id, until int64) {
			if _, err := n.convs.Change(ctx, ws.ID, id, func(c *conversation.Conversation) (*conversation.Change, error) {
				return c.Snooze(admin, until, time.Now().Unix())
			}); err != nil {
				t.Fatal(err)
			}
		}
		timed, resnoozed, opened := newConv(), newConv(), newConv()
		until := time.Now().Unix() + 2
		snoozeFor(a, timed, until)
		snoozeFor(a, resnoozed, until)
		snoozeFor(a, resnoozed, until+3600) // the first timer is stale now
		snoozeFor(a, opened, until)
		if _, err := a.convs.Change(ctx, ws.ID, opened, func(c *conversation.Conversation) (*conversation.Change, error) {
			return c.Open(admin, time.Now().Unix())
		}); err != nil {
			t.Fatal(err)
		}
		// The process stops before any timer is due.
		if err := a.db.Close(); err != nil {
			t.Fatal(err)
		}

		b := start(t, dbURL, dir)
		defer b.db.Close()
		if ran := runDue(t, b, until); ran != 3 {
			t.Fatalf("ran %d due jobs, want 3 (the re-snooze's second timer is not due)", ran)
		}
		got, err := b.convs.Get(ctx, ws.ID, timed)
		if err != nil {
			t.Fatal(err)
		}
		last := got.Parts[len(got.Parts)-1]
		if got.State != conversation.StateOpen || got.SnoozedUntil != nil || last.Type != conversation.PartTimerUnsnooze || last.Author.ID != admin.ID {
			t.Fatalf("timed conversation: state %s snoozed_until %v last part %+v", got.State, got.SnoozedUntil, last)
		}
		if got, _ := b.convs.Get(ctx, ws.ID, resnoozed); got.State != conversation.StateSnoozed || *got.SnoozedUntil != until+3600 {
			t.Fatalf("re-snoozed conversation: %s %v", got.State, got.SnoozedUntil)
		}
		if got, _ := b.convs.Get(ctx, ws.ID, opened); got.State != conversation.StateOpen || len(got.Parts) != 2 {
			t.Fatalf("opened conversation: %s, %d parts", got.State, len(got.Parts))
		}
		n := 0
		for _, tp := range topics(t, b.db, ws.ID) {
			if tp == "conversation.admin.unsnoozed" {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("%d conversation.admin.unsnoozed events, want 1", n)
		}
		// Every timer job completed: the stale ones record why they did nothing.
		rows, err := b.db.Read().Query(ctx, `SELECT state, result FROM jobs WHERE workspace_id = ? AND kind = ? ORDER BY id`, ws.ID, snooze.Kind)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var reopened []bool
		for rows.Next() {
			var state, result string
			if err := rows.Scan(&state, &result); err != nil {
				t.Fatal(err)
			}
			var r snooze.Result
			_ = json.Unmarshal([]byte(result), &r)
			if state == jobs.Completed {
				reopened = append(reopened, r.Reopened)
			}
		}
		if len(reopened) != 3 || !reopened[0] || reopened[1] || reopened[2] {
			t.Fatalf("completed timers reopened %v, want [true false false]", reopened)
		}
	}
	t.Run("sqlite", func(t *testing.T) { run(t, "", t.TempDir()) })
	t.Run("postgres", func(t *testing.T) { run(t, testdb.FreshPostgres(t), "") })
}
