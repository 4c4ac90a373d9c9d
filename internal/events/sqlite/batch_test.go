package sqlite_test

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"mediashare/internal/events"
	"mediashare/internal/events/eventstest"
	"mediashare/internal/events/sqlite"
	"mediashare/internal/sqlitedb"
)

type memCheckpoints struct {
	mu  sync.Mutex
	pos map[string]string
}

func (m *memCheckpoints) Checkpoint(_ context.Context, name string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.pos[name], nil
}

func (m *memCheckpoints) SaveCheckpoint(_ context.Context, name, pos string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.pos[name] = pos
	return nil
}

func newBatchStore(t *testing.T) *sqlite.Store {
	t.Helper()
	db, err := sqlitedb.Open(filepath.Join(t.TempDir(), "events.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	s, err := sqlite.New(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	s.RetryDelay, s.PollInterval = 10*time.Millisecond, 20*time.Millisecond
	s.Poison = &events.Poison{MaxAttempts: 3, RetryDelay: 5 * time.Millisecond}
	return s
}

func appendOne(t *testing.T, s *sqlite.Store, stream string, expected int) events.Event {
	t.Helper()
	out, err := s.Append(context.Background(), stream, expected, eventstest.MustEvent(t, events.MediaUploaded, stream, events.Uploaded{Title: "t"}))
	if err != nil {
		t.Fatal(err)
	}
	return out[0]
}

// FollowBatches delivers what is there in one batch and saves the
// checkpoint after it. An event whose earlier attempts never finished
// (the process died in its batch) goes alone with the rest of its stream:
// past the bound it is parked, and its neighbours in the batch are
// handled, not parked. A failed event is retried alone until it succeeds.
func TestFollowBatchesKeepsThePoisonRulePerEvent(t *testing.T) {
	s := newBatchStore(t)
	a := appendOne(t, s, "stream-a", 0)
	b1 := appendOne(t, s, "stream-b", 0)
	b2 := appendOne(t, s, "stream-b", 1)
	c := appendOne(t, s, "stream-c", 0)
	// b1 was attempted three times and each attempt killed the process.
	for range 3 {
		if _, err := s.Begin(context.Background(), "batch", events.AttemptKey(b1)); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	var calls [][]string
	failedOnce := false
	cp := &memCheckpoints{pos: map[string]string{}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- s.FollowBatches(ctx, "batch", cp, 10, func(ctx context.Context, evs []events.Event) []error {
			mu.Lock()
			defer mu.Unlock()
			var names []string
			errs := make([]error, len(evs))
			for i, e := range evs {
				names = append(names, e.Stream+"/"+string(rune('0'+e.Version)))
				if e.Stream == "stream-c" && !failedOnce {
					failedOnce = true
					errs[i] = errors.New("transient")
				}
			}
			calls = append(calls, names)
			return errs
		})
	}()
	for deadline := time.Now().Add(20 * time.Second); ; {
		if pos, _ := cp.Checkpoint(ctx, "batch"); pos == c.Position {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("checkpoint did not reach the last event; calls %v", calls)
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("FollowBatches: %v", err)
	}
	want := [][]string{{"stream-a/1", "stream-c/1"}, {"stream-b/2"}, {"stream-c/1"}}
	if !slices.EqualFunc(calls, want, slices.Equal) {
		t.Errorf("handler calls %v, want %v (a and c together; b1 parked, b2 alone; c again alone)", calls, want)
	}
	dead, err := s.DeadLetters(context.Background(), "batch")
	if err != nil {
		t.Fatal(err)
	}
	if len(dead) != 1 || dead[0].Key != events.AttemptKey(b1) || dead[0].Reason != events.ParkPoison {
		t.Errorf("dead letters %+v, want b1 alone, as poison", dead)
	}
	// Nothing is left counted.
	for _, e := range []events.Event{a, b1, b2, c} {
		n, err := s.Begin(context.Background(), "batch", events.AttemptKey(e))
		if err != nil || n != 1 {
			t.Errorf("attempts of %s after the batch: %d (%v), want none left", events.AttemptKey(e), n-1, err)
		}
	}
}
