package projections_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"mediashare/internal/events"
	"mediashare/internal/events/eventstest"
	eventsqlite "mediashare/internal/events/sqlite"
	"mediashare/internal/projections"
	viewsqlite "mediashare/internal/projections/sqlite"
	"mediashare/internal/sqlitedb"
)

type fixture struct {
	store *eventsqlite.Store
	view  *viewsqlite.View
}

func newFixture(t *testing.T) fixture {
	t.Helper()
	db, err := sqlitedb.Open(filepath.Join(t.TempDir(), "m.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	store, err := eventsqlite.New(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	store.RetryDelay = 5 * time.Millisecond
	view, err := viewsqlite.New(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	return fixture{store, view}
}

// history appends a realistic mix: uploads, thumbnails, failures, deletes.
func history(t *testing.T, s events.Store, streams int) int {
	t.Helper()
	n := 0
	for i := 0; i < streams; i++ {
		eib := fmt.Sprintf("01JDTEST%018d", i)
		evs := []events.Event{eventstest.MustEvent(t, events.MediaUploaded, eib, events.Uploaded{
			Title: fmt.Sprintf("photo %d", i), Comment: "c", MediaType: "image", ContentType: "image/jpeg",
			Size: 100, Width: 40, Height: 30, Original: eib + ".jpg", Owner: "o",
		})}
		switch i % 4 {
		case 1:
			evs = append(evs, eventstest.MustEvent(t, events.ThumbnailGenerated, eib, events.ThumbnailsGenerated{
				Thumbnails: []events.Thumb{{Key: eib + ".jpg-tn.png", Width: 32, Height: 24}}, Placeholder: "#102030"}))
		case 2:
			evs = append(evs, eventstest.MustEvent(t, events.ThumbnailFailed, eib, events.ThumbnailFailure{Reason: "bad"}))
		case 3:
			evs = append(evs,
				eventstest.MustEvent(t, events.ThumbnailGenerated, eib, events.ThumbnailsGenerated{Thumbnails: []events.Thumb{{Key: eib + ".jpg-tn.png", Width: 32, Height: 24}}}),
				eventstest.MustEvent(t, events.MediaDeleted, eib, events.Deleted{Reason: "owner"}),
				eventstest.MustEvent(t, events.MediaPurged, eib, events.Purged{Keys: []string{eib + ".jpg"}}))
		}
		for v, e := range evs {
			if _, err := s.Append(context.Background(), eib, v, e); err != nil {
				t.Fatal(err)
			}
			n++
		}
	}
	return n
}

// crashingView stores rows but "crashes" (fails, as a killed process
// would stop) at chosen points, and counts the rows it really changed.
type crashingView struct {
	projections.View
	mu            sync.Mutex
	stored        int
	failPutAfter  int // fail the Put after this many stored rows (0: never)
	failSaveAfter int // fail the checkpoint save after this many saves (0: never)
	saves         int
	crashed       chan struct{}
	once          sync.Once
}

func (c *crashingView) crash() { c.once.Do(func() { close(c.crashed) }) }

func (c *crashingView) Put(ctx context.Context, e projections.Entry) (bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.failPutAfter > 0 && c.stored >= c.failPutAfter {
		c.crash()
		return false, errors.New("killed before the write")
	}
	ok, err := c.View.Put(ctx, e)
	if ok {
		c.stored++
	}
	return ok, err
}

func (c *crashingView) SaveCheckpoint(ctx context.Context, name, pos string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.failSaveAfter > 0 && c.saves >= c.failSaveAfter {
		c.crash()
		return errors.New("killed after the write, before the checkpoint")
	}
	c.saves++
	return c.View.SaveCheckpoint(ctx, name, pos)
}

func runUntil(t *testing.T, p *projections.Projector, stop <-chan struct{}) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	select {
	case <-stop:
	case <-time.After(20 * time.Second):
		t.Error("projector did not reach the stop point")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
}

func snapshot(t *testing.T, v projections.View, streams int) map[string]projections.Entry {
	t.Helper()
	out := map[string]projections.Entry{}
	for i := 0; i < streams; i++ {
		eib := fmt.Sprintf("01JDTEST%018d", i)
		e, err := v.Get(context.Background(), eib)
		if err != nil {
			t.Fatalf("Get %s: %v", eib, err)
		}
		out[eib] = e
	}
	return out
}

func TestProjectorKilledAnywhereLosesAndDuplicatesNothing(t *testing.T) {
	tests := []struct {
		name          string
		failPutAfter  int
		failSaveAfter int
	}{
		{"killed before a write", 7, 0},
		{"killed between write and checkpoint", 0, 9},
		{"killed at the first event", 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			const streams = 12
			total := history(t, f.store, streams)
			cv := &crashingView{View: f.view, failPutAfter: tt.failPutAfter, failSaveAfter: tt.failSaveAfter, crashed: make(chan struct{})}
			runUntil(t, &projections.Projector{Feed: f.store, View: cv}, cv.crashed)

			// Restart with a healthy view over the same storage.
			healthy := &crashingView{View: f.view, crashed: make(chan struct{})}
			caughtUp := make(chan struct{})
			var once sync.Once
			p := &projections.Projector{Feed: f.store, View: healthy}
			go func() {
				for {
					time.Sleep(20 * time.Millisecond)
					if pos, _ := f.view.Checkpoint(context.Background(), projections.ViewConsumer); pos == fmt.Sprint(total) {
						once.Do(func() { close(caughtUp) })
						return
					}
				}
			}()
			runUntil(t, p, caughtUp)

			if got := cv.stored + healthy.stored; got != total {
				t.Errorf("rows changed %d times over both runs, want exactly %d (one per event)", got, total)
			}
			want := projectAll(t, f.store, streams)
			if got := snapshot(t, f.view, streams); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("view after restart differs from a clean projection:\n got %v\nwant %v", got, want)
			}
		})
	}
}

// projectAll projects the whole log in memory with Apply alone.
func projectAll(t *testing.T, s events.Store, streams int) map[string]projections.Entry {
	t.Helper()
	out := map[string]projections.Entry{}
	evs, _, err := s.ReadAll(context.Background(), "", 10000)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range evs {
		next, _, err := projections.Apply(context.Background(), nil, out[e.Stream], e)
		if err != nil {
			t.Fatal(err)
		}
		out[e.Stream] = next
	}
	if len(out) != streams {
		t.Fatalf("projected %d streams, want %d", len(out), streams)
	}
	return out
}

func TestReplayRebuildsTheLiveView(t *testing.T) {
	f := newFixture(t)
	const streams = 20
	total := history(t, f.store, streams)
	p := &projections.Projector{Feed: f.store, View: f.view}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	for deadline := time.Now().Add(20 * time.Second); ; {
		if pos, _ := f.view.Checkpoint(ctx, projections.ViewConsumer); pos == fmt.Sprint(total) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("live projector did not catch up")
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	<-done
	live := snapshot(t, f.view, streams)
	livePage, _ := f.view.List(context.Background(), "", 100)

	n, err := projections.Rebuild(context.Background(), f.store, f.view, nil, projections.RebuildOptions{})
	if err != nil {
		t.Fatalf("Rebuild: %v", err)
	}
	if n != total {
		t.Errorf("Rebuild applied %d events, want %d", n, total)
	}
	if got := snapshot(t, f.view, streams); fmt.Sprint(got) != fmt.Sprint(live) {
		t.Errorf("rebuilt view differs from the live one:\n got %v\nwant %v", got, live)
	}
	rebuiltPage, _ := f.view.List(context.Background(), "", 100)
	if fmt.Sprint(rebuiltPage) != fmt.Sprint(livePage) {
		t.Errorf("rebuilt gallery differs:\n got %v\nwant %v", rebuiltPage, livePage)
	}
	if len(livePage.Entries) != streams-streams/4 {
		t.Errorf("gallery lists %d entries, want %d (deleted ones gone)", len(livePage.Entries), streams-streams/4)
	}
}

func TestCatchUpBesideALiveView(t *testing.T) {
	f := newFixture(t)
	const streams = 16
	history(t, f.store, streams)
	want := projectAll(t, f.store, streams)
	// The view has lost some rows and has others half done, as after
	// records trimmed from a stream.
	for eib, e := range want {
		if eib[len(eib)-1]%3 == 0 {
			continue // lost
		}
		half := e
		if e.Version > 1 {
			evs, _ := f.store.Load(context.Background(), eib)
			half, _, _ = projections.Apply(context.Background(), nil, projections.Entry{}, evs[0])
		}
		if _, err := f.view.Put(context.Background(), half); err != nil {
			t.Fatal(err)
		}
	}
	n, err := projections.CatchUp(context.Background(), f.store, f.store, f.view, nil, 4)
	if err != nil {
		t.Fatalf("CatchUp: %v", err)
	}
	if n == 0 {
		t.Error("CatchUp applied nothing")
	}
	if got := snapshot(t, f.view, streams); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("after CatchUp:\n got %v\nwant %v", got, want)
	}
}

// interleaved appends the events of streams round-robin, so that each
// stream's events lie far apart in the global order (across rebuild pages).
func interleaved(t *testing.T, s events.Store, streams int) int {
	t.Helper()
	ctx := context.Background()
	n := 0
	for step := 0; step < 5; step++ {
		for i := 0; i < streams; i++ {
			eib := fmt.Sprintf("01JDMIXED%017d", i)
			var e events.Event
			switch {
			case step == 0:
				e = eventstest.MustEvent(t, events.MediaUploaded, eib, events.Uploaded{
					Title: fmt.Sprintf("mixed %d", i), Comment: "c", MediaType: "image", ContentType: "image/png",
					Size: 10, Width: 4, Height: 3, Original: eib + ".png", Owner: "o",
				})
			case step == 1 && i%3 == 0:
				e = eventstest.MustEvent(t, events.ThumbnailFailed, eib, events.ThumbnailFailure{Reason: "decode_failed", Message: "no preview"})
			case step == 1:
				e = eventstest.MustEvent(t, events.ThumbnailGenerated, eib, events.ThumbnailsGenerated{
					Thumbnails: []events.Thumb{{Key: eib + ".png-tn.png", Width: 4, Height: 3}}, Placeholder: "#010203"})
			case step == 2 && i%4 == 1:
				e = eventstest.MustEvent(t, events.MediaDeleted, eib, events.Deleted{Reason: "owner"})
			case step == 3 && i%4 == 1:
				e = eventstest.MustEvent(t, events.MediaPurged, eib, events.Purged{Keys: []string{eib + ".png"}})
			case step == 4 && i%5 == 2:
				// A type this build cannot read: both skip it alike.
				e = eventstest.MustEvent(t, events.MediaDeleted, eib, events.Deleted{Reason: "owner"})
				e.Type = "SomethingNew"
			default:
				continue
			}
			evs, err := s.Load(ctx, eib)
			if err != nil && !errors.Is(err, events.ErrNotFound) {
				t.Fatal(err)
			}
			if _, err := s.Append(ctx, eib, len(evs), e); err != nil {
				t.Fatal(err)
			}
			n++
		}
	}
	return n
}

// The batched rebuild (a page of events folded in memory, one write per
// page) gives the view the live projector gives, event by event, with a
// stream's events spread over many pages, and also once the rows kept in
// memory are forgotten and read back from the view.
func TestBatchedRebuildMatchesTheLiveProjector(t *testing.T) {
	for _, tc := range []struct {
		name       string
		page, rows int
	}{
		{"one page", 10000, 100000},
		{"small pages", 7, 100000},
		{"small pages, rows forgotten", 7, 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			const streams = 23
			total := interleaved(t, f.store, streams)
			ctx := context.Background()
			// The live projector's view: every event through Handle, in order.
			p := &projections.Projector{View: f.view}
			evs, _, err := f.store.ReadAll(ctx, "", 10000)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range evs {
				if err := p.Handle(ctx, e); err != nil {
					t.Fatal(err)
				}
			}
			live := snapshotMixed(t, f.view, streams)
			livePage, _ := f.view.List(ctx, "", 100)
			before, _ := f.view.LastChange(ctx)

			defer projections.SetRebuildBatch(tc.page, tc.rows)()
			n, err := projections.Rebuild(ctx, f.store, f.view, nil, projections.RebuildOptions{})
			if err != nil {
				t.Fatalf("Rebuild: %v", err)
			}
			if n != total {
				t.Errorf("Rebuild read %d events, want %d", n, total)
			}
			got := snapshotMixed(t, f.view, streams)
			if len(got) != streams || fmt.Sprint(got) != fmt.Sprint(live) {
				t.Errorf("rebuilt view differs from the live projector's:\n got %v\nwant %v", got, live)
			}
			page, _ := f.view.List(ctx, "", 100)
			if fmt.Sprint(page) != fmt.Sprint(livePage) {
				t.Errorf("rebuilt gallery differs:\n got %v\nwant %v", page, livePage)
			}
			// Every row the rebuild stored is in the change log, after the
			// live projector's changes.
			changes, err := f.view.Changes(ctx, before, 10000)
			if err != nil {
				t.Fatal(err)
			}
			last := map[string]int{}
			for _, c := range changes {
				last[c.EIB] = c.Version
			}
			for eib, e := range got {
				if last[eib] != e.Version {
					t.Errorf("change log after the rebuild has %s at v%d, want v%d", eib, last[eib], e.Version)
				}
			}
		})
	}
}

func snapshotMixed(t *testing.T, v projections.View, streams int) map[string]projections.Entry {
	t.Helper()
	out := map[string]projections.Entry{}
	for i := 0; i < streams; i++ {
		eib := fmt.Sprintf("01JDMIXED%017d", i)
		e, err := v.Get(context.Background(), eib)
		if err != nil {
			t.Fatalf("Get %s: %v", eib, err)
		}
		out[eib] = e
	}
	return out
}
