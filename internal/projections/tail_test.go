package projections_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"mediashare/internal/events"
	"mediashare/internal/events/eventstest"
	eventsqlite "mediashare/internal/events/sqlite"
	"mediashare/internal/projections"
	viewsqlite "mediashare/internal/projections/sqlite"
)

// lateStore is an event store whose global read shows some events late,
// as an index read eventually consistently does.
type lateStore struct {
	*eventsqlite.Store
	hidden   map[string]bool // positions not shown yet
	revealed atomic.Bool
}

func (s *lateStore) ReadAll(ctx context.Context, after string, limit int) ([]events.Event, string, error) {
	evs, next, err := s.Store.ReadAll(ctx, after, limit)
	if s.revealed.Load() {
		return evs, next, err
	}
	var shown []events.Event
	for _, e := range evs {
		if s.hidden[e.Position] {
			break // nothing after a hidden event shows either
		}
		shown = append(shown, e)
	}
	if len(shown) < len(evs) {
		next = after
		if len(shown) > 0 {
			next = shown[len(shown)-1].Position
		}
	}
	return shown, next, err
}

// loadHook runs before its view's first Load what a live projector does
// meanwhile.
type loadHook struct {
	*viewsqlite.View
	before func()
	done   bool
}

func (l *loadHook) Load(ctx context.Context, rows []projections.Entry) error {
	if !l.done {
		l.done = true
		l.before()
	}
	return l.View.Load(ctx, rows)
}

// Events appended while a rebuild loads its rows, which a live projector
// applied (or dropped: the row was not loaded yet), end up in the view:
// those the store shows at once by the tail read after the load, and one
// the store shows late by the second tail read after Settle.
func TestRebuildAppliesWhatCameInMeanwhile(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	const streams = 8
	history(t, f.store, streams)
	store := &lateStore{Store: f.store, hidden: map[string]bool{}}
	live := &projections.Projector{View: f.view}
	appendLive := func(eib string, e events.Event, late bool) {
		evs, err := f.store.Load(ctx, eib)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.store.Append(ctx, eib, len(evs), e); err != nil {
			t.Fatal(err)
		}
		evs, _ = f.store.Load(ctx, eib)
		if late {
			store.hidden[evs[len(evs)-1].Position] = true
		}
		if err := live.Handle(ctx, evs[len(evs)-1]); err != nil {
			t.Fatal(err)
		}
	}
	// Entries 0 and 4 are only uploaded, 1 and 5 ready (history's mix).
	trash := func(eib string) events.Event {
		return eventstest.MustEvent(t, events.MediaTrashed, eib, events.Trashed{Reason: "owner", PurgeAfter: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)})
	}
	first, second := fmt.Sprintf("01JDTEST%018d", 1), fmt.Sprintf("01JDTEST%018d", 5)
	v := &loadHook{View: f.view, before: func() {
		appendLive(first, trash(first), false)
		appendLive(second, trash(second), true)
		time.AfterFunc(300*time.Millisecond, func() { store.revealed.Store(true) })
	}}
	if _, err := projections.Rebuild(ctx, store, v, nil, projections.RebuildOptions{Settle: time.Second}); err != nil {
		t.Fatal(err)
	}
	for _, eib := range []string{first, second} {
		if e, err := f.view.Get(ctx, eib); err != nil || !e.InTrash() {
			t.Errorf("%s, trashed during the rebuild: %+v (%v), want in the trash", eib, e, err)
		}
	}
	want := projectAll(t, f.store, streams)
	if got := snapshot(t, f.view, streams); len(got) != len(want) {
		t.Fatalf("rebuilt %d rows, want %d", len(got), len(want))
	} else {
		for eib, w := range want {
			if fmt.Sprint(got[eib]) != fmt.Sprint(w) {
				t.Errorf("row %s:\n got %+v\nwant %+v", eib, got[eib], w)
			}
		}
	}
}
