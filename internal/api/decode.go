package api

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"
)

// maxStringField is the longest ordinary string field (names, plans, …)
// accepted; contacts' fields have their own limits in contact.MaxLen.
const maxStringField = 255

// readBody reads a request body within the size limit and checks it is UTF-8.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.opts.MaxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, errf(http.StatusRequestEntityTooLarge, "request_too_large", "Request body is larger than %d bytes", mbe.Limit)
		}
		return nil, errf(http.StatusBadRequest, "bad_request", "Could not read the request body")
	}
	if !utf8.Valid(body) {
		return nil, errf(http.StatusBadRequest, "bad_request", "Request body is not valid UTF-8")
	}
	return body, nil
}

// decode reads a JSON object body into v, refusing unknown fields and values
// of the wrong type with a precise message. An empty body decodes as {}.
func (s *Server) decode(w http.ResponseWriter, r *http.Request, v any) error {
	body, err := s.readBody(w, r)
	if err != nil {
		return err
	}
	return decodeJSON(body, v)
}

func decodeJSON(body []byte, v any) error {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		body = []byte("{}")
	}
	if body[0] != '{' {
		return errf(http.StatusBadRequest, "bad_request", "Request body must be a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if dec.More() {
		return errf(http.StatusBadRequest, "bad_request", "Request body has data after the JSON object")
	}
	return nil
}

func jsonError(err error) error {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	var ae *Error
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			return errf(http.StatusBadRequest, "bad_request", "Request body has a %s where %s was expected", te.Value, typeName(te.Type.String()))
		}
		return fieldErr(field, "%s must be %s, not %s", field, typeName(te.Type.String()), te.Value)
	case errors.As(err, &se):
		return errf(http.StatusBadRequest, "bad_request", "Malformed JSON at byte %d: %s", se.Offset, se.Error())
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return fieldErr(name, "%s is not a known field", name)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return errf(http.StatusBadRequest, "bad_request", "Malformed JSON: unexpected end of input")
	}
	return errf(http.StatusBadRequest, "bad_request", "Malformed JSON: %s", err.Error())
}

func typeName(t string) string {
	t = strings.TrimPrefix(t, "*")
	t = strings.TrimPrefix(t, "api.opt[")
	t = strings.TrimSuffix(t, "]")
	switch {
	case t == "string":
		return "a string"
	case strings.HasPrefix(t, "int"):
		return "an integer"
	case strings.HasPrefix(t, "float"):
		return "a number"
	case t == "bool":
		return "a boolean"
	case strings.HasPrefix(t, "[]"):
		return "an array"
	case strings.HasPrefix(t, "map"), strings.HasPrefix(t, "struct"), strings.HasPrefix(t, "api."):
		return "an object"
	}
	return "a " + t
}

// opt is a field that may be absent, null or a value.
type opt[T any] struct {
	Set   bool
	Null  bool
	Value T
}

func (o *opt[T]) UnmarshalJSON(b []byte) error {
	o.Set = true
	if string(b) == "null" {
		o.Null = true
		return nil
	}
	return json.Unmarshal(b, &o.Value)
}

// ptr returns the value as a pointer (nil when null).
func (o opt[T]) ptr() *T {
	if o.Null || !o.Set {
		return nil
	}
	v := o.Value
	return &v
}

// Pagination.

type nextPage struct {
	PerPage       int    `json:"per_page"`
	StartingAfter string `json:"starting_after"`
}

type cursorPages struct {
	Type       string    `json:"type"`
	Page       int       `json:"page"`
	PerPage    int       `json:"per_page"`
	TotalPages int       `json:"total_pages"`
	Next       *nextPage `json:"next,omitempty"`
}

func totalPages(total, perPage int) int {
	if total == 0 {
		return 0
	}
	return (total + perPage - 1) / perPage
}

// cursor is what starting_after carries: the position after which the next
// page starts and that page's number.
type cursor struct {
	After  string `json:"a,omitempty"`
	Offset int    `json:"o,omitempty"`
	Page   int    `json:"p"`
}

func (c cursor) encode() string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string) (cursor, error) {
	c := cursor{Page: 1}
	if s == "" {
		return c, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || json.Unmarshal(b, &c) != nil || c.Page < 1 || c.Offset < 0 {
		return c, fieldErr("starting_after", "starting_after is not a cursor this API returned")
	}
	return c, nil
}

// perPage parses a per_page value with a default and a maximum.
func perPage(raw string, def, maxN int) (int, error) {
	if raw == "" {
		return def, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < 1 {
		return 0, fieldErr("per_page", "per_page must be a positive integer")
	}
	if n > maxN {
		return 0, fieldErr("per_page", "per_page must be at most %d", maxN)
	}
	return n, nil
}
