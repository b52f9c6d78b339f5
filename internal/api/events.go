package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/parleyhq/parley/internal/attribute"
	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/dataevent"
	"github.com/parleyhq/parley/internal/store"
)

// Data events: POST /events, GET /events, POST /events/summaries.
func (s *Server) eventRoutes() {
	events := store.NewDataEvents(s.db)
	s.handle("POST /events", func(w http.ResponseWriter, r *http.Request) error { return s.createDataEvent(w, r, events) })
	s.handle("GET /events", func(w http.ResponseWriter, r *http.Request) error { return s.listDataEvents(w, r, events) })
	s.handle("POST /events/summaries", func(w http.ResponseWriter, r *http.Request) error { return s.createEventSummaries(w, r, events) })
}

const (
	eventsPerPage    = 50
	eventsMaxPerPage = 150
)

// eventErr converts a dataevent validation error.
func eventErr(err error) error {
	var de *dataevent.Error
	if errors.As(err, &de) {
		return fieldErr(de.Field, "%s", de.Message)
	}
	return err
}

func missing(field string) error {
	e := errf(http.StatusBadRequest, "parameter_not_found", "%s is required", field)
	e.Field = field
	return e
}

// eventContact finds the contact an event is about: by Parley id, else by
// user_id (external_id), else by email (the user with it, else the most
// recent lead).
func (s *Server) eventContact(r *http.Request, id, userID, email string) (*contact.Contact, error) {
	ws := authOf(r.Context()).WorkspaceID
	var c *contact.Contact
	var err error
	switch {
	case id != "":
		c, err = s.contacts.Get(r.Context(), ws, id)
	case userID != "":
		c, err = s.contacts.ByExternalID(r.Context(), ws, userID)
	case email != "":
		c, err = s.contacts.ByEmail(r.Context(), ws, email)
	default:
		return nil, errf(http.StatusBadRequest, "parameter_not_found", "One of id, user_id or email is required to identify the contact")
	}
	if isNotFound(err) {
		return nil, notFound("not_found", "User Not Found")
	}
	return c, err
}

func (s *Server) createDataEvent(w http.ResponseWriter, r *http.Request, events *store.DataEvents) error {
	var in struct {
		EventName      opt[string]          `json:"event_name"`
		CreatedAt      opt[json.RawMessage] `json:"created_at"`
		UserID         opt[string]          `json:"user_id"`
		ID             opt[string]          `json:"id"`
		IntercomUserID opt[string]          `json:"intercom_user_id"`
		Email          opt[string]          `json:"email"`
		Metadata       opt[json.RawMessage] `json:"metadata"`
	}
	if err := s.decode(w, r, &in); err != nil {
		return err
	}
	if !in.EventName.Set || in.EventName.Null {
		return missing("event_name")
	}
	if err := dataevent.ValidateName("event_name", in.EventName.Value); err != nil {
		return eventErr(err)
	}
	if !in.CreatedAt.Set || in.CreatedAt.Null {
		return missing("created_at")
	}
	createdAt, err := attribute.ParseTime(in.CreatedAt.Value)
	if err != nil {
		return fieldErr("created_at", "created_at %s", err.Error())
	}
	md, err := dataevent.ValidateMetadata(in.Metadata.Value)
	if err != nil {
		return eventErr(err)
	}
	id := in.ID.Value
	if id == "" {
		id = in.IntercomUserID.Value
	}
	c, err := s.eventContact(r, strings.TrimSpace(id), strings.TrimSpace(in.UserID.Value), strings.TrimSpace(in.Email.Value))
	if err != nil {
		return err
	}
	e := &dataevent.Event{EventName: in.EventName.Value, CreatedAt: createdAt, Metadata: md}
	if _, err := events.Create(r.Context(), c, e); err != nil {
		return err
	}
	w.WriteHeader(http.StatusAccepted)
	return nil
}

func (s *Server) listDataEvents(w http.ResponseWriter, r *http.Request, events *store.DataEvents) error {
	q := r.URL.Query()
	if t := q.Get("type"); t != "user" {
		if t == "" {
			return missing("type")
		}
		return fieldErr("type", "type must be user")
	}
	summary := false
	if v := q.Get("summary"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fieldErr("summary", "summary must be true or false")
		}
		summary = b
	}
	n, err := perPage(q.Get("per_page"), eventsPerPage, eventsMaxPerPage)
	if err != nil {
		return err
	}
	var after *store.EventCursor
	if b := q.Get("before"); b != "" {
		if after, err = decodeEventCursor(b); err != nil {
			return err
		}
	}
	c, err := s.eventContact(r, q.Get("intercom_user_id"), q.Get("user_id"), q.Get("email"))
	if err != nil {
		return err
	}
	if summary {
		sum, err := events.Summary(r.Context(), c)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, sum)
		return nil
	}
	list, err := events.List(r.Context(), c, after, n+1)
	if err != nil {
		return err
	}
	pages := map[string]any{}
	if len(list) > n {
		list = list[:n]
		last := list[n-1]
		next := url.Values{"type": {"user"}, "intercom_user_id": {c.ID}, "per_page": {strconv.Itoa(n)}, "before": {encodeEventCursor(last)}}
		pages["next"] = baseURL(r) + "/events?" + next.Encode()
	}
	if list == nil {
		list = []*dataevent.Event{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"type": "event.list", "events": list, "pages": pages})
	return nil
}

// Event listings are cut by keyset: pages.next carries, in "before", the
// position (created_at and id) of the last event shown.

func encodeEventCursor(e *dataevent.Event) string {
	return cursor{After: strconv.FormatInt(e.CreatedAt, 10) + ":" + strconv.FormatInt(e.ID, 10), Page: 1}.encode()
}

func decodeEventCursor(s string) (*store.EventCursor, error) {
	bad := fieldErr("before", "before is not a cursor this API returned")
	cur, err := decodeCursor(s)
	if err != nil {
		return nil, bad
	}
	created, id, ok := strings.Cut(cur.After, ":")
	var after store.EventCursor
	var e1, e2 error
	after.CreatedAt, e1 = strconv.ParseInt(created, 10, 64)
	after.ID, e2 = strconv.ParseInt(id, 10, 64)
	if !ok || e1 != nil || e2 != nil {
		return nil, bad
	}
	return &after, nil
}

// baseURL is the scheme and host the client called, for links in
// responses.
func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https") {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func (s *Server) createEventSummaries(w http.ResponseWriter, r *http.Request, events *store.DataEvents) error {
	var in struct {
		UserID         opt[string]     `json:"user_id"`
		EventSummaries json.RawMessage `json:"event_summaries"`
	}
	if err := s.decode(w, r, &in); err != nil {
		return err
	}
	if !in.UserID.Set || in.UserID.Null || strings.TrimSpace(in.UserID.Value) == "" {
		return missing("user_id")
	}
	// Intercom's description has one summary object; a list of them is
	// accepted too.
	var raws []json.RawMessage
	switch raw := strings.TrimSpace(string(in.EventSummaries)); {
	case raw == "" || raw == "null":
		return missing("event_summaries")
	case raw[0] == '[':
		if err := json.Unmarshal([]byte(raw), &raws); err != nil {
			return fieldErr("event_summaries", "event_summaries must be an object or an array of objects")
		}
		if len(raws) == 0 {
			return fieldErr("event_summaries", "event_summaries must not be empty")
		}
	default:
		raws = []json.RawMessage{json.RawMessage(raw)}
	}
	var items []dataevent.SummaryItem
	for _, raw := range raws {
		var es struct {
			EventName opt[string]          `json:"event_name"`
			Count     opt[int64]           `json:"count"`
			First     opt[json.RawMessage] `json:"first"`
			Last      opt[json.RawMessage] `json:"last"`
		}
		if err := decodeJSON(raw, &es); err != nil {
			var ae *Error
			if errors.As(err, &ae) && ae.Field != "" {
				ae.Field = "event_summaries." + ae.Field
			}
			return err
		}
		if !es.EventName.Set || es.EventName.Null {
			return missing("event_summaries.event_name")
		}
		if err := dataevent.ValidateName("event_summaries.event_name", es.EventName.Value); err != nil {
			return eventErr(err)
		}
		if !es.Count.Set || es.Count.Null {
			return missing("event_summaries.count")
		}
		if es.Count.Value < 1 || es.Count.Value > 1<<53 {
			return fieldErr("event_summaries.count", "event_summaries.count must be a positive integer up to 2^53")
		}
		it := dataevent.SummaryItem{Name: es.EventName.Value, Count: es.Count.Value}
		var hasFirst, hasLast bool
		for _, t := range []struct {
			name string
			o    opt[json.RawMessage]
			dst  *int64
			has  *bool
		}{{"first", es.First, &it.First, &hasFirst}, {"last", es.Last, &it.Last, &hasLast}} {
			if !t.o.Set || t.o.Null {
				continue
			}
			v, err := attribute.ParseTime(t.o.Value)
			if err != nil {
				return fieldErr("event_summaries."+t.name, "event_summaries.%s %s", t.name, err.Error())
			}
			*t.dst, *t.has = v, true
		}
		switch {
		case !hasFirst && !hasLast:
			return missing("event_summaries.last")
		case !hasFirst:
			it.First = it.Last
		case !hasLast:
			it.Last = it.First
		}
		if it.First > it.Last {
			return fieldErr("event_summaries.first", "event_summaries.first must not be after last")
		}
		items = append(items, it)
	}
	c, err := s.eventContact(r, "", strings.TrimSpace(in.UserID.Value), "")
	if err != nil {
		return err
	}
	if err := events.SetSummaries(r.Context(), c, items); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}
