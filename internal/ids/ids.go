// Package ids makes identifiers that sort by creation time: 48 bits of
// Unix milliseconds and 80 random bits, in Crockford base32 (26 characters),
// the layout of a ULID.
package ids

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"strings"
	"time"
)

const alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// New returns a fresh identifier for time t.
func New(t time.Time) string {
	var b [16]byte
	ms := uint64(t.UnixMilli())
	binary.BigEndian.PutUint16(b[0:2], uint16(ms>>32))
	binary.BigEndian.PutUint32(b[2:6], uint32(ms))
	if _, err := rand.Read(b[6:]); err != nil {
		panic("ids: crypto/rand failed: " + err.Error())
	}
	return encode(b)
}

func encode(b [16]byte) string {
	hi := binary.BigEndian.Uint64(b[0:8])
	lo := binary.BigEndian.Uint64(b[8:16])
	var out [26]byte
	// 128 bits as 26 groups of 5 bits, the first group holding 3 bits.
	for i := 25; i >= 0; i-- {
		out[i] = alphabet[lo&31]
		lo = lo>>5 | hi<<59
		hi >>= 5
	}
	return string(out[:])
}

// Valid reports whether s has the shape of an identifier made by New.
func Valid(s string) bool {
	if len(s) != 26 || s[0] > '7' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z' && c != 'I' && c != 'L' && c != 'O' && c != 'U')
		if !ok {
			return false
		}
	}
	return true
}

// Derive makes an identifier from another and some parts, the same every
// time for the same inputs: the time of base, then 80 bits of a SHA-256 of
// base and parts. A retried request derives the ids it derived before.
func Derive(base string, parts ...string) string {
	h := sha256.New()
	h.Write([]byte(base))
	for _, p := range parts {
		h.Write([]byte{0})
		h.Write([]byte(p))
	}
	sum := h.Sum(nil)
	var b [16]byte
	// The 48 time bits of base, decoded from its first 10 characters.
	var t uint64
	for i := 0; i < 10 && i < len(base); i++ {
		t = t<<5 | uint64(strings.IndexByte(alphabet, base[i])&31)
	}
	binary.BigEndian.PutUint16(b[0:2], uint16(t>>32))
	binary.BigEndian.PutUint32(b[2:6], uint32(t))
	copy(b[6:], sum[:10])
	return encode(b)
}
