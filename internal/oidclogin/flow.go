package oidclogin

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
)

// flow is what one sign-in keeps between Begin and Callback, in its cookie.
type flow struct {
	State    string `json:"s"`
	Nonce    string `json:"n"`
	Verifier string `json:"v"`
	ReturnTo string `json:"r"`
	Expires  int64  `json:"e"` // unix seconds
}

var b64 = base64.RawURLEncoding

// randomToken returns 32 random bytes, base64url: 43 characters.
func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b) // never fails (crypto/rand, Go 1.24+)
	return b64.EncodeToString(b)
}

// deriveKey gives flow cookies a key of their own, so the site may pass
// the key that signs its other cookies.
func deriveKey(key []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("mediashare oidclogin flow cookie v1"))
	return m.Sum(nil)
}

// cookieName binds the cookie to the flow: a callback's state picks its
// cookie, so a state that no flow of this browser made finds none.
func (rp *RP) cookieName(state string) string {
	sum := sha256.Sum256([]byte(state))
	return rp.cfg.CookieName + "_" + hex.EncodeToString(sum[:8])
}

func (rp *RP) mac(name, payload string) []byte {
	m := hmac.New(sha256.New, rp.cookieKey)
	m.Write([]byte(name))
	m.Write([]byte{0})
	m.Write([]byte(payload))
	return m.Sum(nil)
}

func (rp *RP) seal(name string, f flow) string {
	raw, _ := json.Marshal(f) // a struct of strings and an int cannot fail
	payload := b64.EncodeToString(raw)
	return payload + "." + b64.EncodeToString(rp.mac(name, payload))
}

var errBadCookie = errors.New("flow cookie does not verify")

func (rp *RP) open(name, value string) (flow, error) {
	payload, sig, ok := strings.Cut(value, ".")
	if !ok || len(value) > 4096 {
		return flow{}, errBadCookie
	}
	got, err := b64.DecodeString(sig)
	if err != nil || !hmac.Equal(got, rp.mac(name, payload)) {
		return flow{}, errBadCookie
	}
	raw, err := b64.DecodeString(payload)
	if err != nil {
		return flow{}, errBadCookie
	}
	var f flow
	if err := json.Unmarshal(raw, &f); err != nil {
		return flow{}, errBadCookie
	}
	return f, nil
}

func equal(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// validToken accepts what randomToken makes (and what a provider echoes).
func validToken(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

func validCookieName(s string) bool {
	if len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}
