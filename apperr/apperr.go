// Package apperr is the error vocabulary shared by the domain packages and the HTTP layer: an
// error carries the status, a stable snake_case code, a message safe to show to a client and
// optionally the offending field — API.md's error shape. Anything else reaching the HTTP layer
// is an internal error whose text is logged, never sent.
package apperr

import (
	"errors"
	"fmt"
	"net/http"
)

// Error is a client-facing error.
type Error struct {
	Status  int
	Code    string
	Message string
	Field   string
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s (%s): %s", e.Code, e.Field, e.Message)
	}
	return e.Code + ": " + e.Message
}

// As finds an *Error in err's chain.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// Invalid is a 422 about one field.
func Invalid(field, code, format string, args ...any) *Error {
	return &Error{Status: http.StatusUnprocessableEntity, Code: code, Message: fmt.Sprintf(format, args...), Field: field}
}

// BadRequest is a 400 (malformed request).
func BadRequest(code, format string, args ...any) *Error {
	return &Error{Status: http.StatusBadRequest, Code: code, Message: fmt.Sprintf(format, args...)}
}

// NotFound is a 404; also what another unit's id answers.
func NotFound(what string) *Error {
	return &Error{Status: http.StatusNotFound, Code: "not_found", Message: what + " not found"}
}

// Conflict is a 409.
func Conflict(code, format string, args ...any) *Error {
	return &Error{Status: http.StatusConflict, Code: code, Message: fmt.Sprintf(format, args...)}
}

// Forbidden is a 403.
func Forbidden(code, format string, args ...any) *Error {
	return &Error{Status: http.StatusForbidden, Code: code, Message: fmt.Sprintf(format, args...)}
}

// Unavailable is a 503 (a dependency is down; the client may retry).
func Unavailable(code, format string, args ...any) *Error {
	return &Error{Status: http.StatusServiceUnavailable, Code: code, Message: fmt.Sprintf(format, args...)}
}
