package keyring

import (
	"context"
	"crypto/hkdf"
	"crypto/sha256"
	"errors"
	"fmt"
	"time"
)

// Wrap returns a Store that keeps keys in inner wrapped (AES-256-GCM)
// under a key derived from master with HKDF-SHA256, so that a copy of the
// key table alone (a database file, a table export) opens nothing: it
// takes the master secret too. The wrapped form is Seal's, bound to the
// entry. The same master is needed to read the keys for as long as they
// live: losing or changing it loses every sealed field.
func Wrap(inner Store, master []byte) (Store, error) {
	if len(master) < 16 {
		return nil, errors.New("keyring: master secret shorter than 16 bytes")
	}
	kek, err := hkdf.Key(sha256.New, master, nil, "mediashare keyring wrapping key v1", KeySize)
	if err != nil {
		return nil, fmt.Errorf("keyring: derive wrapping key: %w", err)
	}
	return &wrapped{inner: inner, kek: kek}, nil
}

type wrapped struct {
	inner Store
	kek   []byte
}

// wrappedField is the associated field name of a wrapped key.
const wrappedField = "data key"

func (w *wrapped) wrap(entry string, key []byte) ([]byte, error) {
	s, err := Seal(w.kek, entry, wrappedField, key)
	return []byte(s), err
}

func (w *wrapped) unwrap(entry string, stored []byte) ([]byte, error) {
	k, err := Open(w.kek, entry, wrappedField, string(stored))
	if err != nil {
		return nil, fmt.Errorf("keyring: unwrap the key of %s (another master secret?): %w", entry, err)
	}
	return k, nil
}

func (w *wrapped) Create(ctx context.Context, entry string, key []byte) ([]byte, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("keyring: key is %d bytes, want %d", len(key), KeySize)
	}
	wk, err := w.wrap(entry, key)
	if err != nil {
		return nil, err
	}
	stored, err := w.inner.Create(ctx, entry, wk)
	if err != nil {
		return nil, err
	}
	return w.unwrap(entry, stored)
}

func (w *wrapped) Get(ctx context.Context, entry string) ([]byte, error) {
	stored, err := w.inner.Get(ctx, entry)
	if err != nil {
		return nil, err
	}
	return w.unwrap(entry, stored)
}

func (w *wrapped) Destroy(ctx context.Context, entry string, at time.Time) error {
	return w.inner.Destroy(ctx, entry, at)
}

func (w *wrapped) Ping(ctx context.Context) error { return w.inner.Ping(ctx) }
