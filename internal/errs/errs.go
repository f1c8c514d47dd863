// Package errs is Switchboard's one error model. Services return *Error values with a
// stable code from the closed list in codes.go and a message safe to show a user; the code
// decides the kind of failure, the HTTP layer maps the kind to a status in one place, and
// the cause is logged, never shown.
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
	// MethodNotAllowed means the resource exists but not with this method.
	MethodNotAllowed
	// Conflict means the request conflicts with what exists.
	Conflict
	// TooLarge means the request's body is larger than the operation accepts.
	TooLarge
	// UnsupportedMediaType means the request's body is of a type the operation does not take.
	UnsupportedMediaType
	// TooMany means the caller holds as many of something as it may; it may retry once it
	// holds fewer.
	TooMany
	// Unavailable means a dependency (the database) cannot be reached now.
	Unavailable
	// PreconditionFailed means the request's If-Match names a version that is no longer
	// current: someone changed the resource since the caller read it.
	PreconditionFailed
	// PreconditionRequired means a change that must name the version it was made
	// against (If-Match) named none.
	PreconditionRequired
)

// Error is an error with a kind, a stable machine-readable code and a user-facing message.
type Error struct {
	Kind    Kind
	Code    Code   // from the closed list in codes.go
	Message string // safe to show to the caller
	Err     error  // the cause, for logs only
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return string(e.Code) + ": " + e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// New builds an error with the given code; its kind is the code's.
func New(code Code, message string) *Error {
	return &Error{Kind: code.Kind(), Code: code, Message: message}
}

// NewCause builds an error with the given code around cause, which is logged, not shown.
func NewCause(code Code, message string, cause error) *Error {
	return &Error{Kind: code.Kind(), Code: code, Message: message, Err: cause}
}

// Wrap builds an internal error around cause; message says what was being done.
func Wrap(cause error, message string) *Error {
	return NewCause(CodeInternal, message, cause)
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
