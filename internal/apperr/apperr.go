// Package apperr holds the application's error codes and the message that
// is safe to show a user. Every layer wraps with %w; the web layer maps the
// code to an HTTP status in one place.
package apperr

import (
	"errors"
	"fmt"
)

// Code classifies an application error.
type Code string

const (
	Invalid     Code = "invalid"     // the request is malformed or breaks a rule
	NotFound    Code = "not_found"   // the thing asked for does not exist
	Conflict    Code = "conflict"    // the state moved on; retry may help
	Forbidden   Code = "forbidden"   // the caller may not do this
	TooLarge    Code = "too_large"   // the request body is over a limit
	Unsupported Code = "unsupported" // a media type we do not accept
	Unavailable Code = "unavailable" // a dependency is down
	Internal    Code = "internal"    // a bug or an unexpected failure
	TooMany     Code = "too_many"    // the caller is over a rate or concurrency limit
	Timeout     Code = "timeout"     // the request came too slowly
	NoSpace     Code = "no_space"    // the server has no room to store it now
)

// Error is an application error with a code and a message safe to show.
type Error struct {
	Code    Code
	Message string
	Field   string // the form field it concerns, if any
	Err     error  // the underlying cause, never shown
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// New returns an error with code and a user-safe message.
func New(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// FieldError returns an Invalid-class error about one form field.
func FieldError(code Code, field, format string, args ...any) *Error {
	return &Error{Code: code, Field: field, Message: fmt.Sprintf(format, args...)}
}

// CodeOf returns the code of the first *Error in err's chain, or Internal.
func CodeOf(err error) Code {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Internal
}

// MessageOf returns the user-safe message of err, or a generic one.
func MessageOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "Something went wrong on our side. Please try again."
}

// FieldOf returns the form field err concerns, if any.
func FieldOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Field
	}
	return ""
}
