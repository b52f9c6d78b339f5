// Package dataevent holds data events: things a contact did in the
// customer's product ("placed-order"), submitted through POST /events, and
// event summaries (per event name: count, first and last time).
package dataevent

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Limits.
const (
	MaxNameLength     = 255  // characters in an event name
	MaxMetadataKeys   = 10   // keys in an event's metadata
	MaxMetadataKey    = 255  // bytes in a metadata key
	MaxMetadataString = 4096 // bytes in a metadata string value
)

// SummaryPrefix starts the event_name of the data_events rows that store
// imported summaries (POST /events/summaries): one row per contact and
// event name, event_name = SummaryPrefix + name, created_at = the summary's
// last time, metadata = {"count","first","last"}. Event names may not
// contain control characters, so these rows never collide with events;
// listings leave them out and summaries add them in.
const SummaryPrefix = "\x1fsummary:"

// Event is one data event of a contact.
type Event struct {
	WorkspaceID string
	ID          int64
	ContactID   string
	EventName   string
	CreatedAt   int64
	// Metadata is the JSON object as the client sent it (compacted, key
	// order kept).
	Metadata json.RawMessage

	// The contact's identifiers, shown with the event.
	UserID *string // external_id
	Email  *string
}

// MarshalJSON renders Intercom's data_event object.
func (e *Event) MarshalJSON() ([]byte, error) {
	md := e.Metadata
	if len(md) == 0 {
		md = json.RawMessage("{}")
	}
	return json.Marshal(struct {
		Type           string          `json:"type"`
		ID             string          `json:"id"`
		EventName      string          `json:"event_name"`
		CreatedAt      int64           `json:"created_at"`
		UserID         *string         `json:"user_id,omitempty"`
		IntercomUserID string          `json:"intercom_user_id"`
		Email          *string         `json:"email,omitempty"`
		Metadata       json.RawMessage `json:"metadata"`
	}{"event", strconv.FormatInt(e.ID, 10), e.EventName, e.CreatedAt, e.UserID, e.ContactID, e.Email, md})
}

// SummaryItem is the summary of one event name.
type SummaryItem struct {
	Name  string
	Count int64
	First int64
	Last  int64
}

// isoTime formats Unix seconds like Intercom's summaries:
// 2014-01-16T23:12:21.000+00:00.
func isoTime(t int64) string {
	return time.Unix(t, 0).UTC().Format("2006-01-02T15:04:05.000-07:00")
}

// MarshalJSON renders Intercom's data_event_summary_item.
func (s SummaryItem) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Name  string `json:"name"`
		First string `json:"first"`
		Last  string `json:"last"`
		Count int64  `json:"count"`
	}{s.Name, isoTime(s.First), isoTime(s.Last), s.Count})
}

// Merge adds o (the same event name) into s.
func (s *SummaryItem) Merge(o SummaryItem) {
	if s.Count == 0 {
		*s = o
		return
	}
	s.Count += o.Count
	s.First = min(s.First, o.First)
	s.Last = max(s.Last, o.Last)
}

// Summary is a contact's event summary.
type Summary struct {
	ContactID string
	UserID    *string
	Email     *string
	Events    []SummaryItem
}

// MarshalJSON renders Intercom's data_event_summary.
func (s *Summary) MarshalJSON() ([]byte, error) {
	events := s.Events
	if events == nil {
		events = []SummaryItem{}
	}
	return json.Marshal(struct {
		Type           string        `json:"type"`
		Email          *string       `json:"email,omitempty"`
		IntercomUserID string        `json:"intercom_user_id"`
		UserID         *string       `json:"user_id,omitempty"`
		Events         []SummaryItem `json:"events"`
	}{"event.summary", s.Email, s.ContactID, s.UserID, events})
}

// StoredSummary is the metadata of a summary row (see SummaryPrefix).
type StoredSummary struct {
	Count int64 `json:"count"`
	First int64 `json:"first"`
	Last  int64 `json:"last"`
}

// Error is a validation failure, safe to show to the client.
type Error struct {
	Field   string
	Message string
}

func (e *Error) Error() string { return e.Message }

func invalid(field, format string, args ...any) *Error {
	return &Error{Field: field, Message: fmt.Sprintf(format, args...)}
}

// ValidateName checks an event name: 1 to 255 characters, not only
// spaces, no control characters.
func ValidateName(field, name string) error {
	switch {
	case strings.TrimSpace(name) == "":
		return invalid(field, "%s must not be empty", field)
	case !utf8.ValidString(name):
		return invalid(field, "%s is not valid UTF-8", field)
	case utf8.RuneCountInString(name) > MaxNameLength:
		return invalid(field, "%s is longer than %d characters", field, MaxNameLength)
	case strings.ContainsFunc(name, func(r rune) bool { return r < ' ' || r == 0x7f }):
		return invalid(field, "%s must not contain control characters", field)
	}
	return nil
}

// ValidateMetadata checks event metadata and returns it compacted, keys in
// the order given. Absent or null metadata is {}. At most MaxMetadataKeys
// keys; values are strings, numbers, booleans, null, or Intercom's rich
// values: a link {"url","value"} or a monetary amount {"amount","currency"}
// (amount an integer number of cents). Nested structures otherwise are
// refused, as Intercom does not support them.
func ValidateMetadata(raw json.RawMessage) (json.RawMessage, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return json.RawMessage("{}"), nil
	}
	if raw[0] != '{' {
		return nil, invalid("metadata", "metadata must be an object")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if _, err := dec.Token(); err != nil { // {
		return nil, invalid("metadata", "metadata is not valid JSON")
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, invalid("metadata", "metadata is not valid JSON")
		}
		key, _ := tok.(string)
		field := "metadata." + key
		switch {
		case key == "":
			return nil, invalid("metadata", "metadata keys must not be empty")
		case len(key) > MaxMetadataKey:
			return nil, invalid("metadata", "metadata key %q is longer than %d bytes", strings.ToValidUTF8(key[:32], "")+"…", MaxMetadataKey)
		case seen[key]:
			return nil, invalid(field, "metadata key %q is given twice", key)
		}
		seen[key] = true
		if len(seen) > MaxMetadataKeys {
			return nil, invalid("metadata", "metadata has more than %d keys", MaxMetadataKeys)
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, invalid(field, "metadata is not valid JSON")
		}
		if err := checkValue(field, v); err != nil {
			return nil, err
		}
	}
	if _, err := dec.Token(); err != nil { // }
		return nil, invalid("metadata", "metadata is not valid JSON")
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, invalid("metadata", "metadata is not valid JSON")
	}
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return nil, invalid("metadata", "metadata is not valid JSON")
	}
	return b.Bytes(), nil
}

func checkValue(field string, v json.RawMessage) error {
	switch v[0] {
	case '"':
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return invalid(field, "%s is not a valid string", field)
		}
		if len(s) > MaxMetadataString {
			return invalid(field, "%s is longer than %d bytes", field, MaxMetadataString)
		}
		return nil
	case '[':
		return invalid(field, "%s must be a string, a number, a boolean, a link {url, value} or an amount {amount, currency}, not an array", field)
	case '{':
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(v, &obj); err != nil {
			return invalid(field, "%s is not a valid object", field)
		}
		str := func(k string) bool {
			var s string
			return json.Unmarshal(obj[k], &s) == nil && len(s) <= MaxMetadataString
		}
		switch {
		case len(obj) == 2 && obj["url"] != nil && obj["value"] != nil:
			if str("url") && str("value") {
				return nil
			}
			return invalid(field, "%s: a link needs string url and value", field)
		case len(obj) == 2 && obj["amount"] != nil && obj["currency"] != nil:
			var amount int64
			if json.Unmarshal(obj["amount"], &amount) == nil && str("currency") {
				return nil
			}
			return invalid(field, "%s: an amount needs an integer amount (in cents) and a string currency", field)
		}
		return invalid(field, "%s must be a string, a number, a boolean, a link {url, value} or an amount {amount, currency}; other objects are not supported", field)
	}
	return nil // number, true, false, null
}
