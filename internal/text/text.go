// Package text is the one check of free text that people type: titles,
// comments, reasons, report texts, token names. It is a leaf (it imports
// only apperr) so that every package that takes such text may use it.
//
// Every variant trims the text, refuses text that is not UTF-8, refuses
// control characters (C0, DEL and C1) and counts its length in
// characters; the options say what else a field allows or requires.
package text

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"mediashare/internal/apperr"
)

// Rules are one field's variant of the check.
type Rules struct {
	Field string // the form field an error names ("title", "reason", …)
	What  string // the field as a sentence names it ("title", "token's name", …)
	Max   int    // the most characters it may hold (0: no limit)
	// Required is the message for a blank text; "" lets it be blank.
	Required string
	// Lines keeps line breaks and tabs: CRLF and a lone CR become LF (no
	// CR reaches a page or a server-sent event, where a lone CR ends a
	// line), and LF and tab are allowed. Without it the text is one line
	// and every control character is refused.
	Lines bool
	// NoInvisible also refuses invisible formatting characters (Unicode
	// category Cf: zero-width joiners, bidi overrides and isolates, BOM),
	// for names that must read as what they are.
	NoInvisible bool
}

// Clean returns s as it is to be stored (trimmed; with Lines, its line
// breaks made LF), or an Invalid error on r.Field whose message is safe
// to show.
func Clean(s string, r Rules) (string, error) {
	if r.Lines {
		s = strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
	}
	s = strings.TrimSpace(s)
	switch {
	case !utf8.ValidString(s):
		return "", apperr.FieldError(apperr.Invalid, r.Field, "The %s must be text (UTF-8).", r.What)
	case s == "" && r.Required != "":
		return "", apperr.FieldError(apperr.Invalid, r.Field, "%s", r.Required)
	case strings.ContainsFunc(s, func(c rune) bool { return IsControl(c) && !(r.Lines && (c == '\n' || c == '\t')) }):
		if r.Lines {
			return "", apperr.FieldError(apperr.Invalid, r.Field, "The %s may not hold control characters.", r.What)
		}
		return "", apperr.FieldError(apperr.Invalid, r.Field, "The %s may not hold control characters or line breaks.", r.What)
	case r.NoInvisible && strings.ContainsFunc(s, func(c rune) bool { return unicode.Is(unicode.Cf, c) }):
		return "", apperr.FieldError(apperr.Invalid, r.Field, "The %s may not hold invisible or control characters.", r.What)
	}
	if n := utf8.RuneCountInString(s); r.Max > 0 && n > r.Max {
		return "", apperr.FieldError(apperr.Invalid, r.Field, "The %s can be at most %d characters (it has %d).", r.What, r.Max, n)
	}
	return s, nil
}

// IsControl reports C0 and C1 control characters and DEL.
func IsControl(c rune) bool { return c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0) }
