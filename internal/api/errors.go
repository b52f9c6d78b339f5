package api

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/parleyhq/parley/internal/attribute"
	"github.com/parleyhq/parley/internal/query"
	"github.com/parleyhq/parley/internal/store"
)

// Error is an API error: a status, an Intercom error code and a message that
// is safe to show the client.
type Error struct {
	Status  int
	Code    string
	Message string
	Field   string
	cause   error
}

func (e *Error) Error() string {
	if e.cause != nil {
		return e.Message + ": " + e.cause.Error()
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.cause }

func errf(status int, code, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

func badRequest(format string, args ...any) *Error {
	return errf(http.StatusBadRequest, "parameter_invalid", format, args...)
}

func fieldErr(field, format string, args ...any) *Error {
	e := errf(http.StatusBadRequest, "parameter_invalid", format, args...)
	e.Field = field
	return e
}

func notFound(code, format string, args ...any) *Error {
	return errf(http.StatusNotFound, code, format, args...)
}

// toAPIError maps domain and store errors to API errors; anything unknown
// is a 500 whose cause is only logged.
func toAPIError(err error) *Error {
	var ae *Error
	if errors.As(err, &ae) {
		return ae
	}
	var ve *attribute.ValidationError
	if errors.As(err, &ve) {
		return &Error{Status: http.StatusBadRequest, Code: ve.Code, Message: ve.Message, Field: ve.Field}
	}
	var qe *query.Error
	if errors.As(err, &qe) {
		return &Error{Status: http.StatusBadRequest, Code: "parameter_invalid", Message: qe.Message, Field: qe.Field}
	}
	var ce *store.ConflictError
	if errors.As(err, &ce) {
		return &Error{Status: http.StatusConflict, Code: "resource_conflict", Message: ce.Message}
	}
	var me *store.MergeError
	if errors.As(err, &me) {
		return &Error{Status: http.StatusBadRequest, Code: "parameter_invalid", Message: me.Message}
	}
	switch {
	case errors.Is(err, store.ErrNotFound):
		return &Error{Status: http.StatusNotFound, Code: "not_found", Message: "Resource Not Found", cause: err}
	case errors.Is(err, store.ErrConflict):
		return &Error{Status: http.StatusConflict, Code: "resource_conflict", Message: "A resource matching those details already exists", cause: err}
	case errors.Is(err, store.ErrInvalid):
		return &Error{Status: http.StatusBadRequest, Code: "parameter_invalid", Message: "The request contains an invalid value", cause: err}
	}
	return &Error{Status: http.StatusInternalServerError, Code: "server_error", Message: "Internal server error", cause: err}
}

func isNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }

func isConflict(err error) bool { return errors.Is(err, store.ErrConflict) }
