package web

import (
	"errors"
	"net/http"
	"strings"
	"unicode"

	"mediashare/internal/apperr"
	"mediashare/internal/people"
)

// maxAuthForm bounds the body of the account forms (names, passwords,
// an invite): nothing legitimate comes near it.
const maxAuthForm = 16 << 10

// readForm reads a URL-encoded (or multipart) form body of at most
// maxAuthForm bytes. Too big, malformed, or a field sent twice is a 4xx.
func readForm(w http.ResponseWriter, r *http.Request, fields ...string) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxAuthForm)
	if err := r.ParseForm(); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return apperr.New(apperr.TooLarge, "This form is too large.")
		}
		return apperr.New(apperr.Invalid, "This form could not be read.")
	}
	for _, f := range fields {
		if len(r.PostForm[f]) > 1 {
			return apperr.FieldError(apperr.Invalid, f, "The field %q was sent more than once.", f)
		}
	}
	return nil
}

// safeReturn is a path on this site to go to after signing in: anything
// else (another origin, a scheme, backslashes, control characters) is "/".
func safeReturn(p string) string {
	if p == "" || len(p) > 1024 || !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.ContainsAny(p, `\`) {
		return "/"
	}
	for _, c := range p {
		if unicode.IsControl(c) || unicode.IsSpace(c) {
			return "/"
		}
	}
	return p
}

// clientOf is what the session records about the browser, and the key
// its failed sign-ins count against (its address, not an account).
func (s *Server) clientOf(r *http.Request) people.Client {
	key := s.addressKey(r)
	return people.Client{Key: key, UserAgent: r.UserAgent(), IP: key}
}
