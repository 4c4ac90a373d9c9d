package keyring_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"mediashare/internal/keyring"
	"mediashare/internal/keyring/keyringtest"
	"mediashare/internal/keyring/sqlite"
	"mediashare/internal/sqlitedb"
)

func mustKey(t *testing.T) []byte {
	t.Helper()
	k, err := keyring.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestSealOpen(t *testing.T) {
	k := mustKey(t)
	sealed, err := keyring.Seal(k, "01ENTRY", "title", []byte("Holiday in Lisbon"))
	if err != nil {
		t.Fatal(err)
	}
	again, _ := keyring.Seal(k, "01ENTRY", "title", []byte("Holiday in Lisbon"))
	if sealed == again {
		t.Error("sealing one text twice gave the same value: the nonce is not random")
	}
	got, err := keyring.Open(k, "01ENTRY", "title", sealed)
	if err != nil || string(got) != "Holiday in Lisbon" {
		t.Fatalf("Open: %q, %v", got, err)
	}
	empty, _ := keyring.Seal(k, "01ENTRY", "comment", nil)
	if got, err := keyring.Open(k, "01ENTRY", "comment", empty); err != nil || len(got) != 0 {
		t.Errorf("Open of a sealed empty text: %q, %v", got, err)
	}

	raw := []byte(sealed)
	flipped := append([]byte(nil), raw...)
	flipped[len(flipped)-5] ^= 1
	for _, tt := range []struct {
		name, entry, field, sealed string
		key                        []byte
	}{
		{"another entry", "01OTHER", "title", sealed, k},
		{"another field", "01ENTRY", "comment", sealed, k},
		{"another key", "01ENTRY", "title", sealed, mustKey(t)},
		{"tampered", "01ENTRY", "title", string(flipped), k},
		{"truncated", "01ENTRY", "title", sealed[:10], k},
		{"not sealed", "01ENTRY", "title", "Holiday in Lisbon", k},
		{"bad base64", "01ENTRY", "title", "ms1:!!!", k},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := keyring.Open(tt.key, tt.entry, tt.field, tt.sealed); !errors.Is(err, keyring.ErrCorrupt) {
				t.Errorf("got %v, want ErrCorrupt", err)
			}
		})
	}
	if _, err := keyring.Seal(k[:16], "01ENTRY", "title", []byte("x")); err == nil {
		t.Error("Seal with a 16-byte key: want an error (AES-256 only)")
	}
}

func openSQLite(t *testing.T) (*sqlite.Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "mediashare.db")
	db, err := sqlitedb.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	s, err := sqlite.New(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	return s, path
}

var master = []byte("0123456789abcdef0123456789abcdef")

func TestWrapConformance(t *testing.T) {
	keyringtest.Run(t, func(t *testing.T) keyringtest.Subject {
		inner, _ := openSQLite(t)
		w, err := keyring.Wrap(inner, master)
		if err != nil {
			t.Fatal(err)
		}
		return keyringtest.Subject{Store: w}
	})
}

func TestWrapKeepsKeysOutOfStorage(t *testing.T) {
	ctx := context.Background()
	inner, path := openSQLite(t)
	w, err := keyring.Wrap(inner, master)
	if err != nil {
		t.Fatal(err)
	}
	k := mustKey(t)
	if _, err := w.Create(ctx, "01ENTRY", k); err != nil {
		t.Fatal(err)
	}
	stored, err := inner.Get(ctx, "01ENTRY")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(stored, k) {
		t.Error("the inner store holds the key unwrapped")
	}
	db, _ := os.ReadFile(path)
	wal, _ := os.ReadFile(path + "-wal")
	if bytes.Contains(append(db, wal...), k) {
		t.Error("the database file holds the key unwrapped")
	}
	other, _ := keyring.Wrap(inner, []byte("another master secret, not ours"))
	if _, err := other.Get(ctx, "01ENTRY"); err == nil || !strings.Contains(err.Error(), "another master secret") {
		t.Errorf("Get with another master: got %v, want an unwrap error", err)
	}
	if _, err := keyring.Wrap(inner, []byte("short")); err == nil {
		t.Error("Wrap with a 5-byte master: want an error")
	}
}
