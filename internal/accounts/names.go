// Package accounts is the account domain: what makes a username valid and
// when two names are the same, the password policy, password hashing with
// argon2id, and the account aggregate, which folds an account's events
// (internal/events: AccountRegistered, …) into its state and decides what
// the account may do and what may be done to it.
//
// An account's id is the id of its event stream, derived from the
// normalised name (StreamID), so that registering a name is an Append at
// version 0 and two sign-ups racing for one name conflict. Credentials
// (the password hash) are kept out of the events, in
// internal/authstore's credentials record; see docs/accounts.md.
package accounts

import (
	"crypto/sha256"
	"encoding/base32"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"

	"mediashare/internal/apperr"
	"mediashare/internal/events"
)

// MaxNameLength is the longest username, in characters after normalisation.
const MaxNameLength = 32

// maxNameBytes bounds the raw input before any Unicode work is done on it.
const maxNameBytes = 256

// reserved names would read as something else in the audit log.
var reserved = map[string]bool{"system": true, "anonymous": true}

// Name is a username checked and normalised.
type Name struct {
	Normalised string // NFKC and case-folded: names equal here are the same name
	Display    string // as typed, trimmed and NFC-normalised: what pages show
}

// ParseName checks a username as typed and returns it normalised. Names
// that differ only by case or by Unicode normalisation (full-width
// letters, ligatures, composed and decomposed accents) normalise to the
// same Name. It refuses, with an Invalid error on the field "username"
// whose message a page can show: a blank name, a name over MaxNameLength
// characters, invalid UTF-8, and characters other than letters, digits,
// combining marks and the separators '.', '_' and '-' (which may not begin
// or end a name).
func ParseName(s string) (Name, error) {
	bad := func(format string, args ...any) (Name, error) {
		return Name{}, apperr.FieldError(apperr.Invalid, "username", format, args...)
	}
	if len(s) > maxNameBytes {
		return bad("Choose a username of at most %d characters.", MaxNameLength)
	}
	if !utf8.ValidString(s) {
		return bad("The username is not valid text.")
	}
	s = strings.TrimSpace(s)
	if s == "" {
		return bad("Choose a username.")
	}
	display := norm.NFC.String(s)
	// NFKC, then full case folding, then NFKC again: folding can undo a
	// normal form (and NFKC can expose more to fold).
	n := norm.NFKC.String(cases.Fold().String(norm.NFKC.String(display)))
	if utf8.RuneCountInString(n) > MaxNameLength || utf8.RuneCountInString(display) > MaxNameLength {
		return bad("Choose a username of at most %d characters.", MaxNameLength)
	}
	for _, r := range n {
		switch {
		case unicode.IsLetter(r), unicode.IsDigit(r), unicode.Is(unicode.Mn, r), unicode.Is(unicode.Mc, r):
		case r == '.' || r == '_' || r == '-':
		case unicode.IsSpace(r):
			return bad("A username cannot contain spaces.")
		case unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || unicode.Is(unicode.Co, r) || unicode.Is(unicode.Cs, r) || r == utf8.RuneError:
			return bad("The username contains an invisible or control character.")
		default:
			return bad("A username may contain letters, digits, '.', '_' and '-', not %q.", string(r))
		}
	}
	first, _ := utf8.DecodeRuneInString(n)
	last, _ := utf8.DecodeLastRuneInString(n)
	if strings.ContainsRune("._-", first) || strings.ContainsRune("._-", last) {
		return bad("A username must begin and end with a letter or a digit.")
	}
	if unicode.Is(unicode.Mn, first) || unicode.Is(unicode.Mc, first) {
		return bad("A username must begin and end with a letter or a digit.")
	}
	if reserved[n] {
		return bad("The username %q is reserved.", display)
	}
	return Name{Normalised: n, Display: display}, nil
}

// StreamID is the event stream (and the account id) of a normalised name:
// events.AccountStreamPrefix and the unpadded lowercase base32 of the
// name's SHA-256.
func StreamID(normalised string) string {
	sum := sha256.Sum256([]byte(normalised))
	return events.AccountStreamPrefix + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(sum[:]))
}

// ID returns the account id (and stream id) of n.
func (n Name) ID() string { return StreamID(n.Normalised) }
