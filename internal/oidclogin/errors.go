package oidclogin

import (
	"errors"
	"fmt"

	"mediashare/internal/apperr"
)

// Reason says why a sign-in failed. It is stable: tests and the web layer
// may switch on it. The message a person sees comes from the *apperr.Error
// that wraps every error this package returns (apperr.CodeOf, MessageOf).
type Reason string

const (
	// BadState: the callback's state is missing, malformed, does not match
	// a flow started in this browser, or the flow cookie is forged or
	// expired. A replayed callback lands here once the cookie is gone.
	BadState Reason = "bad_state"
	// BadNonce: the ID token's nonce is not the one this flow sent.
	BadNonce Reason = "bad_nonce"
	// BadIssuer: the provider's discovery document, the callback's iss
	// parameter or the ID token names an issuer other than the configured one.
	BadIssuer Reason = "bad_issuer"
	// BadToken: no ID token, or one whose signature, audience or expiry is
	// wrong, or user info about another subject.
	BadToken Reason = "bad_token"
	// BadRequest: the callback is malformed (no code, repeated or
	// over-long parameters).
	BadRequest Reason = "bad_request"
	// BadReturnTo: Begin was given a return path that is not a local path.
	BadReturnTo Reason = "bad_return_to"
	// ProviderError: the provider answered the callback with an error
	// (access_denied when the person refused, for example).
	ProviderError Reason = "provider_error"
	// ExchangeFailed: the token endpoint refused the code (used twice,
	// expired, wrong verifier, wrong client secret).
	ExchangeFailed Reason = "exchange_failed"
	// Unavailable: the provider could not be reached (discovery, token or
	// user info endpoint down or too slow).
	Unavailable Reason = "unavailable"
)

// Error carries the Reason and the underlying cause (never shown to users).
type Error struct {
	Reason Reason
	Err    error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("oidclogin: %s: %v", e.Reason, e.Err)
	}
	return "oidclogin: " + string(e.Reason)
}

func (e *Error) Unwrap() error { return e.Err }

// ReasonOf returns the Reason in err's chain, or "" when there is none.
func ReasonOf(err error) Reason {
	var e *Error
	if errors.As(err, &e) {
		return e.Reason
	}
	return ""
}

// fail builds the error this package returns: an *apperr.Error (code and
// safe message, for the web layer's status table) wrapping an *Error
// (reason and cause, for logs and tests).
func fail(code apperr.Code, reason Reason, cause error, message string) error {
	return &apperr.Error{Code: code, Message: message, Err: &Error{Reason: reason, Err: cause}}
}

const (
	msgStartAgain  = "This sign-in could not be completed. Please start again."
	msgUnavailable = "Signing in with the identity provider is not possible right now. Please try again later."
)
