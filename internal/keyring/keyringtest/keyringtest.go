// Package keyringtest is the conformance suite of keyring.Store.
package keyringtest

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"mediashare/internal/keyring"
)

// Subject is a store under test.
type Subject struct {
	Store keyring.Store
	// Raw returns every byte the store holds (files, table items), for
	// the check that a destroyed key is gone from storage, not only
	// hidden. Nil skips that check.
	Raw func(t *testing.T) []byte
}

// NewSubject makes an empty store.
type NewSubject func(t *testing.T) Subject

var t0 = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

func mustKey(t *testing.T) []byte {
	t.Helper()
	k, err := keyring.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// Run runs the suite.
func Run(t *testing.T, newSubject NewSubject) {
	ctx := context.Background()
	t.Run("CreateGet", func(t *testing.T) {
		s := newSubject(t).Store
		must(t, s.Ping(ctx))
		k := mustKey(t)
		got, err := s.Create(ctx, "01ENTRYA", k)
		must(t, err)
		if !bytes.Equal(got, k) {
			t.Fatalf("Create returned another key")
		}
		got, err = s.Get(ctx, "01ENTRYA")
		must(t, err)
		if !bytes.Equal(got, k) {
			t.Fatalf("Get: got %x, want %x", got, k)
		}
		// A retry with a fresh key gets the first one.
		got, err = s.Create(ctx, "01ENTRYA", mustKey(t))
		must(t, err)
		if !bytes.Equal(got, k) {
			t.Errorf("second Create: got another key, want the first")
		}
		if _, err := s.Get(ctx, "01NOSUCHENTRY"); !errors.Is(err, keyring.ErrNotFound) {
			t.Errorf("Get of an entry without a key: got %v, want ErrNotFound", err)
		}
		other, err := s.Create(ctx, "01ENTRYB", mustKey(t))
		must(t, err)
		if bytes.Equal(other, k) {
			t.Error("two entries share a key")
		}
	})
	t.Run("Refuses", func(t *testing.T) {
		s := newSubject(t).Store
		if _, err := s.Create(ctx, "", mustKey(t)); err == nil {
			t.Error("Create with an empty entry id succeeded")
		}
		if _, err := s.Create(ctx, "01ENTRY", nil); err == nil {
			t.Error("Create with no key succeeded")
		}
		if _, err := s.Create(ctx, "01ENTRY", make([]byte, keyring.MaxStored+1)); err == nil {
			t.Error("Create with an over-long key succeeded")
		}
		if _, err := s.Get(ctx, "01ENTRY"); !errors.Is(err, keyring.ErrNotFound) {
			t.Errorf("a refused Create stored something: %v", err)
		}
	})
	t.Run("Destroy", func(t *testing.T) {
		sub := newSubject(t)
		s := sub.Store
		k := mustKey(t)
		_, err := s.Create(ctx, "01ENTRYA", k)
		must(t, err)
		keep := mustKey(t)
		_, err = s.Create(ctx, "01ENTRYB", keep)
		must(t, err)
		must(t, s.Destroy(ctx, "01ENTRYA", t0))
		_, err = s.Get(ctx, "01ENTRYA")
		var de *keyring.DestroyedError
		if !errors.As(err, &de) || !errors.Is(err, keyring.ErrDestroyed) {
			t.Fatalf("Get after Destroy: got %v, want a *DestroyedError", err)
		}
		if de.Entry != "01ENTRYA" || !de.At.Equal(t0) {
			t.Errorf("DestroyedError: %+v, want entry 01ENTRYA at %v", de, t0)
		}
		if _, err := s.Create(ctx, "01ENTRYA", mustKey(t)); !errors.Is(err, keyring.ErrDestroyed) {
			t.Errorf("Create after Destroy: got %v, want ErrDestroyed (an erased entry never gets a key again)", err)
		}
		must(t, s.Destroy(ctx, "01ENTRYA", t0.Add(time.Hour)))
		if _, err := s.Get(ctx, "01ENTRYA"); !errors.As(err, &de) || !de.At.Equal(t0) {
			t.Errorf("a second Destroy: got %v, want still destroyed at the first time", err)
		}
		got, err := s.Get(ctx, "01ENTRYB")
		must(t, err)
		if !bytes.Equal(got, keep) {
			t.Error("destroying one key changed another")
		}
		// Destroying an entry that never had a key bars it from getting one.
		must(t, s.Destroy(ctx, "01NEVER", t0))
		if _, err := s.Create(ctx, "01NEVER", mustKey(t)); !errors.Is(err, keyring.ErrDestroyed) {
			t.Errorf("Create after destroying a key never made: got %v, want ErrDestroyed", err)
		}
		if sub.Raw != nil {
			raw := sub.Raw(t)
			if bytes.Contains(raw, k) {
				t.Error("the destroyed key's bytes are still in the store's raw storage")
			}
			if !bytes.Contains(raw, keep) {
				t.Error("the raw storage does not hold the kept key either: the scan looks in the wrong place")
			}
		}
	})
	t.Run("ConcurrentCreate", func(t *testing.T) {
		s := newSubject(t).Store
		const n = 8
		keys := make([][]byte, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				keys[i], errs[i] = s.Create(ctx, "01RACE", mustKey(t))
			}()
		}
		close(start)
		wg.Wait()
		for i := range n {
			if errs[i] != nil {
				t.Fatalf("Create %d: %v", i, errs[i])
			}
			if !bytes.Equal(keys[i], keys[0]) {
				t.Fatalf("concurrent Creates returned different keys: %d sealed values would not open", i)
			}
		}
		got, err := s.Get(ctx, "01RACE")
		must(t, err)
		if !bytes.Equal(got, keys[0]) {
			t.Error("Get returns another key than the creators got")
		}
	})
	t.Run("Ring", func(t *testing.T) {
		r := keyring.New(newSubject(t).Store)
		sealed, err := r.Seal(ctx, "01ENTRYA", "title", "Holiday in Lisbon")
		must(t, err)
		if !keyring.IsSealed(sealed) || bytes.Contains([]byte(sealed), []byte("Lisbon")) {
			t.Fatalf("sealed value %q", sealed)
		}
		got, err := r.Open(ctx, "01ENTRYA", "title", sealed)
		must(t, err)
		if got != "Holiday in Lisbon" {
			t.Errorf("Open: got %q", got)
		}
		comment, err := r.Seal(ctx, "01ENTRYA", "comment", "with Ana")
		must(t, err)
		must(t, r.Erase(ctx, "01ENTRYA", t0))
		for _, v := range []string{sealed, comment} {
			if _, err := r.Open(ctx, "01ENTRYA", "title", v); !errors.Is(err, keyring.ErrDestroyed) {
				t.Errorf("Open after Erase: got %v, want ErrDestroyed", err)
			}
		}
		if _, err := r.Seal(ctx, "01ENTRYA", "title", "again"); !errors.Is(err, keyring.ErrDestroyed) {
			t.Errorf("Seal after Erase: got %v, want ErrDestroyed", err)
		}
	})
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
