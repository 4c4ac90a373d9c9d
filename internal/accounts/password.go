package accounts

import (
	_ "embed"
	"strings"
	"sync"
	"unicode/utf8"

	"mediashare/internal/apperr"
)

// MinPasswordLength is the shortest password accepted, in characters.
const MinPasswordLength = 10

// MaxPasswordLength bounds what is hashed (argon2 takes any length; a
// megabyte "password" is a denial of service, not a password).
const MaxPasswordLength = 256

//go:embed common-passwords.txt
var commonPasswordsText string

var (
	commonOnce sync.Once
	common     map[string]bool
)

func commonPasswords() map[string]bool {
	commonOnce.Do(func() {
		common = map[string]bool{}
		for _, l := range strings.Split(commonPasswordsText, "\n") {
			l = strings.TrimSpace(l)
			if l == "" || strings.HasPrefix(l, "#") {
				continue
			}
			common[strings.ToLower(l)] = true
		}
	})
	return common
}

// CheckPassword applies the password policy to a new password for the
// account named name (normalised). It refuses, with an Invalid error on
// the field "password" whose message a page can show: fewer than
// MinPasswordLength characters, more than MaxPasswordLength, a password in
// the list of common passwords and keyboard walks (compared
// case-insensitively), one character repeated, and the username itself.
func CheckPassword(password, name string) error {
	bad := func(format string, args ...any) error {
		return apperr.FieldError(apperr.Invalid, "password", format, args...)
	}
	if !utf8.ValidString(password) {
		return bad("The password is not valid text.")
	}
	n := utf8.RuneCountInString(password)
	if n < MinPasswordLength {
		return bad("Choose a password of at least %d characters.", MinPasswordLength)
	}
	if n > MaxPasswordLength {
		return bad("Choose a password of at most %d characters.", MaxPasswordLength)
	}
	lower := strings.ToLower(password)
	if commonPasswords()[lower] || commonPasswords()[strings.TrimSpace(lower)] {
		return bad("This password is one of the most common ones; choose another.")
	}
	first, _ := utf8.DecodeRuneInString(password)
	if strings.Count(password, string(first)) == n {
		return bad("A password of one character repeated is too easy to guess.")
	}
	if name != "" && strings.Contains(lower, strings.ToLower(name)) && utf8.RuneCountInString(lower)-utf8.RuneCountInString(name) < MinPasswordLength/2 {
		return bad("The password must not be (nearly) your username.")
	}
	return nil
}
