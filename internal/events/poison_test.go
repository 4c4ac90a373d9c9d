package events

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"
)

// memAttempts is an in-memory attempt record for the rule's unit tests (the
// durable ones are pinned by eventstest on both adapters).
type memAttempts struct {
	mu     sync.Mutex
	counts map[string]int
	parked []DeadLetter
}

func (m *memAttempts) Begin(_ context.Context, consumer, key string) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.counts == nil {
		m.counts = map[string]int{}
	}
	m.counts[consumer+"/"+key]++
	return m.counts[consumer+"/"+key], nil
}
func (m *memAttempts) Uncount(_ context.Context, consumer, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.counts[consumer+"/"+key]--
	return nil
}
func (m *memAttempts) Forget(_ context.Context, consumer, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.counts, consumer+"/"+key)
	return nil
}
func (m *memAttempts) Park(_ context.Context, d DeadLetter) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.parked = append(m.parked, d)
	return nil
}
func (m *memAttempts) DeadLetters(context.Context, string) ([]DeadLetter, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]DeadLetter(nil), m.parked...), nil
}

// An event its consumer may not skip is retried past the bound until it
// succeeds, never parked; one it may skip is parked at the bound.
func TestMayParkDecidesWhatIsSkipped(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		name       string
		may        func(Event) bool
		failures   int // before the handler succeeds
		wantParked bool
		wantCalls  int
	}{
		{"no rule: parked at the bound", nil, 10, true, 3},
		{"may park: parked at the bound", func(Event) bool { return true }, 10, true, 3},
		{"may not park: retried past the bound until it succeeds", func(Event) bool { return false }, 6, false, 7},
		{"rule by type: a delete is not skipped", func(e Event) bool { return e.Type == MediaUploaded }, 5, false, 6},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a := &memAttempts{}
			p := &Poison{MaxAttempts: 3, RetryDelay: time.Millisecond, Log: slog.New(slog.DiscardHandler)}
			if tt.may != nil {
				p.SetMayPark("c", tt.may)
			}
			calls := 0
			h := func(context.Context, Event) error {
				calls++
				if calls <= tt.failures {
					return errors.New("the store did not answer")
				}
				return nil
			}
			e := Event{ID: "e1", Type: MediaDeleted, Stream: "s", Version: 2}
			if err := p.Deliver(ctx, a, "c", "pos", e, h); err != nil {
				t.Fatalf("Deliver: %v", err)
			}
			if got := len(a.parked) > 0; got != tt.wantParked {
				t.Errorf("parked: got %v, want %v", got, tt.wantParked)
			}
			if calls != tt.wantCalls {
				t.Errorf("handler calls: got %d, want %d", calls, tt.wantCalls)
			}
		})
	}
}

// After crashes (attempts begun and never finished), an event the consumer
// may not skip is handled again rather than parked.
func TestMayNotParkAfterCrashes(t *testing.T) {
	ctx := context.Background()
	a := &memAttempts{}
	e := Event{ID: "e1", Type: MediaDeleted, Stream: "s", Version: 2}
	for range 5 { // five attempts that never finished
		if _, err := a.Begin(ctx, "c", AttemptKey(e)); err != nil {
			t.Fatal(err)
		}
	}
	p := &Poison{MaxAttempts: 3, RetryDelay: time.Millisecond, Log: slog.New(slog.DiscardHandler)}
	p.SetMayPark("c", func(Event) bool { return false })
	handled := false
	if err := p.Deliver(ctx, a, "c", "pos", e, func(context.Context, Event) error { handled = true; return nil }); err != nil {
		t.Fatal(err)
	}
	if !handled || len(a.parked) != 0 {
		t.Errorf("handled %v, parked %d; want handled and none parked", handled, len(a.parked))
	}
	p.SetMayPark("c", nil) // no rule: parked as poison
	a2 := &memAttempts{}
	for range 5 {
		a2.Begin(ctx, "c", AttemptKey(e))
	}
	if err := p.Deliver(ctx, a2, "c", "pos", e, func(context.Context, Event) error { t.Error("a poison event was handled"); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(a2.parked) != 1 || a2.parked[0].Reason != ParkPoison {
		t.Errorf("dead letters %v; want one, poison", a2.parked)
	}
}
