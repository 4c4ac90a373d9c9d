// Package keyring holds the per-entry data keys that make erasure
// possible in an append-only log (crypto-shredding): an entry's personal
// fields (title, comment, file name) are stored sealed with the entry's
// own key, and erasing the entry destroys the key, which makes every
// sealed copy unreadable at once — in the events, in backups of them, in
// exports — while the events themselves stay as they were.
//
// Store is the port (Create, Get, Destroy; destroyed is permanent and Get
// after it answers a *DestroyedError). Adapters: sqlite and dynamo;
// keyringtest is their conformance suite. Wrap decorates any Store so
// keys are kept wrapped under a master key. Ring is what the rest of the
// code uses: Seal and Open a field, Erase an entry. See docs/accounts.md.
package keyring

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"
)

// KeySize is the size of a data key: AES-256.
const KeySize = 32

// ErrNotFound is returned by Get for an entry that never had a key.
var ErrNotFound = errors.New("keyring: no key for this entry")

// ErrDestroyed matches (errors.Is) every *DestroyedError.
var ErrDestroyed = errors.New("keyring: key destroyed")

// DestroyedError says that an entry's key was destroyed: what it sealed
// is gone for good.
type DestroyedError struct {
	Entry string
	At    time.Time // when, as far as the store knows (zero if it does not)
}

func (e *DestroyedError) Error() string {
	return fmt.Sprintf("keyring: the key of entry %s was destroyed", e.Entry)
}

// Is makes errors.Is(err, ErrDestroyed) true.
func (e *DestroyedError) Is(target error) bool { return target == ErrDestroyed }

// Store keeps one data key per entry.
type Store interface {
	// Create stores key (opaque bytes: KeySize for a raw key, more when
	// Wrap wrapped it; at most MaxStored) as the entry's key unless the
	// entry has one, and returns the key the entry has: key, or on a retry
	// the one stored before. A *DestroyedError when the entry's key was
	// destroyed: an erased entry never gets a key again.
	Create(ctx context.Context, entry string, key []byte) ([]byte, error)
	// Get returns the entry's key, ErrNotFound, or a *DestroyedError.
	Get(ctx context.Context, entry string) ([]byte, error)
	// Destroy removes the entry's key for ever (whether or not it had
	// one), keeping only that it was destroyed and when. Destroying twice
	// is not an error.
	Destroy(ctx context.Context, entry string, at time.Time) error
	// Ping reports whether the store is reachable.
	Ping(ctx context.Context) error
}

// NewKey returns a fresh random data key.
func NewKey() ([]byte, error) {
	k := make([]byte, KeySize)
	if _, err := rand.Read(k); err != nil {
		return nil, fmt.Errorf("keyring: random key: %w", err)
	}
	return k, nil
}

// MaxStored bounds what a Store keeps for one entry.
const MaxStored = 1024

// Check refuses what adapters should not store: an empty or over-long
// entry id, an empty or over-long key.
func Check(entry string, key []byte) error {
	if entry == "" || len(entry) > 256 {
		return fmt.Errorf("keyring: entry id %q is empty or too long", entry)
	}
	if key != nil && (len(key) == 0 || len(key) > MaxStored) {
		return fmt.Errorf("keyring: key of %d bytes for %s", len(key), entry)
	}
	return nil
}

// sealPrefix begins every sealed value, naming the format: AES-256-GCM,
// 12-byte random nonce, then ciphertext and tag, in unpadded base64url.
const sealPrefix = "ms1:"

// IsSealed reports whether s is a value made by Seal.
func IsSealed(s string) bool { return strings.HasPrefix(s, sealPrefix) }

func aead(key []byte) (cipher.AEAD, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("keyring: key is %d bytes, want %d", len(key), KeySize)
	}
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}

// associated binds a sealed value to its entry and field: a value copied
// into another entry, or from the title into the comment, does not open.
func associated(entry, field string) []byte {
	return []byte("mediashare/sealed/v1\x00" + entry + "\x00" + field)
}

// Seal encrypts plaintext with the entry's key for one field of it, with
// a fresh random nonce (sealing one text twice gives two values).
func Seal(key []byte, entry, field string, plaintext []byte) (string, error) {
	g, err := aead(key)
	if err != nil {
		return "", err
	}
	nonce := make([]byte, g.NonceSize(), g.NonceSize()+len(plaintext)+g.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("keyring: nonce: %w", err)
	}
	return sealPrefix + base64.RawURLEncoding.EncodeToString(g.Seal(nonce, nonce, plaintext, associated(entry, field))), nil
}

// ErrCorrupt is returned by Open for a value that is not one Seal made
// with this key for this entry and field.
var ErrCorrupt = errors.New("keyring: sealed value does not open with this entry's key")

// Open decrypts a value made by Seal for the same entry and field.
func Open(key []byte, entry, field, sealed string) ([]byte, error) {
	g, err := aead(key)
	if err != nil {
		return nil, err
	}
	if !IsSealed(sealed) {
		return nil, ErrCorrupt
	}
	raw, err := base64.RawURLEncoding.DecodeString(sealed[len(sealPrefix):])
	if err != nil || len(raw) < g.NonceSize()+g.Overhead() {
		return nil, ErrCorrupt
	}
	out, err := g.Open(nil, raw[:g.NonceSize()], raw[g.NonceSize():], associated(entry, field))
	if err != nil {
		return nil, ErrCorrupt
	}
	return out, nil
}

// Ring seals and opens entries' fields with keys from a Store.
type Ring struct {
	store Store
}

// New returns a ring on store.
func New(store Store) *Ring { return &Ring{store: store} }

// Key returns the entry's key, creating it on first use (a retried upload
// gets the key of its first try). A *DestroyedError for an erased entry.
func (r *Ring) Key(ctx context.Context, entry string) ([]byte, error) {
	k, err := r.store.Get(ctx, entry)
	if errors.Is(err, ErrNotFound) {
		fresh, err := NewKey()
		if err != nil {
			return nil, err
		}
		return r.store.Create(ctx, entry, fresh)
	}
	return k, err
}

// Seal seals a field of entry with its key (created if need be).
func (r *Ring) Seal(ctx context.Context, entry, field, plaintext string) (string, error) {
	k, err := r.Key(ctx, entry)
	if err != nil {
		return "", err
	}
	return Seal(k, entry, field, []byte(plaintext))
}

// Open opens a sealed field of entry. After Erase it answers a
// *DestroyedError (errors.Is(err, ErrDestroyed)): show the field as erased.
func (r *Ring) Open(ctx context.Context, entry, field, sealed string) (string, error) {
	k, err := r.store.Get(ctx, entry)
	if err != nil {
		return "", err
	}
	b, err := Open(k, entry, field, sealed)
	return string(b), err
}

// Erase destroys the entry's key: every value sealed with it is
// unreadable from now on, wherever a copy of it lies.
func (r *Ring) Erase(ctx context.Context, entry string, at time.Time) error {
	return r.store.Destroy(ctx, entry, at)
}
