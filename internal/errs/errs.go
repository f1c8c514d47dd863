// Package errs is Switchboard's one error model. Services return *Error values that say
// what kind of failure happened, with a stable code and a message safe to show a user;
// the HTTP layer maps the kind to a status in one place and never shows the cause.
package errs

import (
	"errors"
	"fmt"
)

// Kind classifies an error by what the caller can do about it.
type Kind int

const (
	// Internal is a failure of the service itself; its cause is logged, not shown.
	Internal Kind = iota
	// Invalid means the request does not match the contract.
	Invalid
	// Unprocessable means the request is well formed but its content is not acceptable.
	Unprocessable
	// Unauthorized means the caller did not prove who it is.
	Unauthorized
	// Forbidden means the caller's proof was checked and refused.
	Forbidden
	// NotFound means no such resource exists for the caller.
	NotFound
	// Conflict means the request conflicts with what exists.
	Conflict
	// Unavailable means a dependency (the database) cannot be reached now.
	Unavailable
)

// Error is an error with a kind, a stable machine-readable code and a user-facing message.
type Error struct {
	Kind    Kind
	Code    string // stable snake_case code, e.g. "phone_number_taken"
	Message string // safe to show to the caller
	Err     error  // the cause, for logs only
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return e.Code + ": " + e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// E builds an error of the given kind and code.
func E(kind Kind, code, message string) *Error {
	return &Error{Kind: kind, Code: code, Message: message}
}

// Wrap builds an internal error around cause; message says what was being done.
func Wrap(cause error, message string) *Error {
	return &Error{Kind: Internal, Code: "internal_error", Message: message, Err: cause}
}

// As returns the *Error in err's chain, or an internal error wrapping err.
func As(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return Wrap(err, "unexpected error")
}

// Is reports whether err carries an *Error of the given kind.
func Is(err error, kind Kind) bool {
	var e *Error
	return errors.As(err, &e) && e.Kind == kind
}
