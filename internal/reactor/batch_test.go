package reactor_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"mediashare/internal/events"
	"mediashare/internal/events/eventstest"
	"mediashare/internal/reactor"
)

// On a batch feed the reactor makes the thumbnails of different entries
// at once (up to Workers), each entry's events in order, and every entry
// ends with exactly one outcome.
func TestReactorMakesThumbnailsConcurrently(t *testing.T) {
	f := newReactor(t, nil)
	const uploads, workers = 12, 3
	var inFlight, most, calls atomic.Int32
	both := make(chan struct{})
	var once sync.Once
	plain := f.r.Thumbnail
	f.r.Workers = workers
	f.r.Thumbnail = func(ctx context.Context, r io.ReadSeeker) (reactor.Thumbnail, error) {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for {
			m := most.Load()
			if n <= m || most.CompareAndSwap(m, n) {
				break
			}
		}
		if n >= workers {
			once.Do(func() { close(both) })
		}
		if calls.Add(1) <= workers {
			select { // hold the first ones until the workers are all busy
			case <-both:
			case <-time.After(5 * time.Second):
			}
		}
		return plain(ctx, r)
	}
	for i := range uploads {
		f.upload(t, fmt.Sprintf("01JDBATCH%017d", i))
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.r.Run(ctx) }()
	deadline := time.Now().Add(30 * time.Second)
	for i := 0; i < uploads; {
		eib := fmt.Sprintf("01JDBATCH%017d", i)
		if types(t, f.store, eib) == "MediaUploaded,ThumbnailGenerated" {
			i++
			continue
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %s after 30 s, want a thumbnail", eib, types(t, f.store, eib))
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := most.Load(); got != workers {
		t.Errorf("at most %d thumbnails at once, want %d (Workers)", got, workers)
	}
	if got := f.made.Load(); got != uploads {
		t.Errorf("made %d thumbnails for %d uploads", got, uploads)
	}
}

// HandleBatch handles an entry's events in order and, after one fails,
// leaves the entry's later events unhandled; other entries go on.
func TestReactorBatchStopsAnEntryAtItsFailure(t *testing.T) {
	f := newReactor(t, nil)
	f.r.Workers = 2
	a := f.upload(t, "01JDBATCHA0000000000000000")
	b := f.upload(t, "01JDBATCHB0000000000000000")
	// A MediaDeleted on a in the same batch as its upload: the purge must
	// not run before the upload's work.
	del := eventstest.MustEvent(t, events.MediaDeleted, a.Stream, events.Deleted{Reason: "owner"})
	stored, err := f.store.Append(context.Background(), a.Stream, 1, del)
	if err != nil {
		t.Fatal(err)
	}
	errs := f.r.HandleBatch(context.Background(), []events.Event{a, b, stored[0]})
	if len(errs) != 3 || errs[0] != nil || errs[1] != nil || errs[2] != nil {
		t.Fatalf("HandleBatch = %v, want three nils", errs)
	}
	if got := types(t, f.store, a.Stream); got != "MediaUploaded,MediaDeleted,MediaPurged" {
		t.Errorf("a: %s, want the upload, the delete and the purge in order", got)
	}
	if got := types(t, f.store, b.Stream); got != "MediaUploaded,ThumbnailGenerated" {
		t.Errorf("b: %s", got)
	}
	// Now a failure: a stream whose first event fails leaves the second.
	c := f.upload(t, "01JDBATCHC0000000000000000")
	f.r.Events = &failingLoads{Store: f.store, stream: c.Stream}
	delC := eventstest.MustEvent(t, events.MediaDeleted, c.Stream, events.Deleted{Reason: "owner"})
	storedC, err := f.store.Append(context.Background(), c.Stream, 1, delC)
	if err != nil {
		t.Fatal(err)
	}
	errs = f.r.HandleBatch(context.Background(), []events.Event{c, storedC[0]})
	if errs[0] == nil || !errors.Is(errs[1], events.ErrNotHandled) {
		t.Errorf("HandleBatch after a failure = %v, want the error, then ErrNotHandled", errs)
	}
}

// failingLoads fails every Load of one stream.
type failingLoads struct {
	events.Store
	stream string
}

func (s *failingLoads) Load(ctx context.Context, stream string) ([]events.Event, error) {
	if stream == s.stream {
		return nil, errors.New("store down")
	}
	return s.Store.Load(ctx, stream)
}
