// Package snooze reopens snoozed conversations when their time comes, through
// the durable job queue: one job per snooze, enqueued in the transaction that
// snoozed, so a snooze survives restarts and is run by whichever node claims it.
package snooze

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/parleyhq/parley/internal/conversation"
	"github.com/parleyhq/parley/internal/jobs"
	"github.com/parleyhq/parley/internal/store"
)

// Kind is the job kind of a snooze timer.
const Kind = "conversation.unsnooze"

// Payload names the conversation and the snooze the job ends. A job whose
// snooze is no longer current (the conversation was opened, closed or
// snoozed to another time since) does nothing.
type Payload struct {
	ConversationID int64               `json:"conversation_id"`
	Until          int64               `json:"snoozed_until"`
	By             conversation.Author `json:"by"` // the teammate who snoozed
}

// Result is what a finished job records.
type Result struct {
	Reopened bool   `json:"reopened"`
	Reason   string `json:"reason,omitempty"`
}

// Schedule is store.Conversations.OnSnooze: it enqueues the reopen inside
// the snoozing transaction.
func Schedule(ctx context.Context, tx *store.Tx, c *conversation.Conversation, part *conversation.Part) error {
	_, err := jobs.EnqueueAt(ctx, tx, c.WorkspaceID, Kind, Payload{ConversationID: c.ID, Until: *c.SnoozedUntil, By: part.Author}, *c.SnoozedUntil)
	return err
}

// Handler runs snooze timers: the conversation reopens (a timer_unsnooze
// part and conversation.admin.unsnoozed) if it is still snoozed until then.
func Handler(convs *store.Conversations) jobs.Handler {
	return func(ctx context.Context, job *jobs.Job, _ func(any) error) (any, error) {
		var p Payload
		if err := json.Unmarshal(job.Payload, &p); err != nil {
			return &Result{Reason: "unreadable payload: " + err.Error()}, nil
		}
		reopened := false
		_, err := convs.Change(ctx, job.WorkspaceID, p.ConversationID, func(c *conversation.Conversation) (*conversation.Change, error) {
			ch := c.Unsnooze(p.By, p.Until, time.Now().Unix())
			reopened = !ch.Empty()
			return ch, nil
		})
		if errors.Is(err, store.ErrNotFound) {
			return &Result{Reason: "the conversation no longer exists"}, nil
		}
		if err != nil {
			return nil, err
		}
		if !reopened {
			return &Result{Reason: "no longer snoozed until then"}, nil
		}
		return &Result{Reopened: true}, nil
	}
}
