// Package eventstest is the conformance suite every events.Store and
// events.Feed adapter passes. An adapter's test file is a harness and one
// call: eventstest.Run(t, func(t *testing.T) eventstest.Subject { … }).
package eventstest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"mediashare/internal/events"
	"mediashare/internal/ids"
)

// Subject is a fresh, empty store and its feed.
type Subject struct {
	Store events.Store
	Feed  events.Feed
	// Attempts is the feed's record of attempts and dead letters, and
	// Poison the rule the feed applies (its MaxAttempts is the bound the
	// suite expects; set a short RetryDelay).
	Attempts events.Attempts
	Poison   *events.Poison
}

// Run runs the suite. newSubject must return an empty store each call.
func Run(t *testing.T, newSubject func(t *testing.T) Subject) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s Subject)
	}{
		{"AppendAndLoad", testAppendAndLoad},
		{"LoadMissingStream", testLoadMissing},
		{"ConflictOnWrongVersion", testConflict},
		{"ConcurrentAppendsOneWinnerPerVersion", testConcurrent},
		{"RetriedAppendIsIdempotent", testIdempotentRetry},
		{"ReadAllResumes", testReadAll},
		{"FollowDeliversInOrderAndResumes", testFollow},
		{"FollowRedeliversAfterHandlerError", testFollowRetry},
		{"RetryOfAPartlyStoredBatchCompletesIt", testPrefixRetry},
		{"ConsumersKeepSeparatePositions", testSeparateConsumers},
		{"ClearedCheckpointStartsOver", testClearedCheckpoint},
		{"FailingEventIsRetriedThenParked", testParkFailing},
		{"CrashedAttemptsCountAcrossRestarts", testParkPoison},
		{"StoppedAttemptDoesNotCount", testStoppedAttempt},
		{"HistoryNewestFirstFilteredPaged", testHistory},
		{"StreamsListsEveryStreamOnce", testStreams},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, newSubject(t)) })
	}
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return c
}

var (
	clockMu sync.Mutex
	clock   = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
)

// MustEvent builds an event with a fresh id.
func MustEvent(t testing.TB, typ events.Type, stream string, payload any) events.Event {
	t.Helper()
	clockMu.Lock()
	clock = clock.Add(1500 * time.Microsecond)
	at := clock
	clockMu.Unlock()
	e, err := events.New(ids.New(at), typ, stream, at, events.OwnerActor("tester"), payload)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func newStream() string { return ids.New(time.Now()) }

func uploaded(t testing.TB, stream, title string) events.Event {
	return MustEvent(t, events.MediaUploaded, stream, events.Uploaded{Title: title, Comment: "c", MediaType: "image", ContentType: "image/png", Size: 10, Width: 2, Height: 1, Original: stream + ".png", Owner: "tester"})
}

func testAppendAndLoad(t *testing.T, s Subject) {
	c := ctx(t)
	stream := newStream()
	e1 := uploaded(t, stream, "hello <b>")
	e2 := MustEvent(t, events.ThumbnailGenerated, stream, events.ThumbnailsGenerated{Placeholder: "#010203"})
	got, err := s.Store.Append(c, stream, 0, e1)
	if err != nil {
		t.Fatalf("Append v1: %v", err)
	}
	if len(got) != 1 || got[0].Version != 1 || got[0].Position == "" {
		t.Fatalf("Append returned %+v, want one event at version 1 with a position", got)
	}
	if _, err := s.Store.Append(c, stream, 1, e2); err != nil {
		t.Fatalf("Append v2: %v", err)
	}
	evs, err := s.Store.Load(c, stream)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if len(evs) != 2 {
		t.Fatalf("Load got %d events, want 2", len(evs))
	}
	for i, want := range []events.Event{e1, e2} {
		g := evs[i]
		if g.ID != want.ID || g.Type != want.Type || g.Stream != stream || g.Version != i+1 || !g.Time.Equal(want.Time) ||
			g.Actor != want.Actor || g.Schema != events.SchemaVersion || string(g.Data) != string(want.Data) {
			t.Errorf("event %d: got %+v, want %+v at version %d", i, g, want, i+1)
		}
		if g.Time.Location() != time.UTC {
			t.Errorf("event %d time zone: got %v, want UTC", i, g.Time.Location())
		}
	}
	var p events.Uploaded
	if err := evs[0].Decode(&p); err != nil || p.Title != "hello <b>" {
		t.Errorf("decoded payload: got %+v (%v), want title %q", p, err, "hello <b>")
	}
}

func testLoadMissing(t *testing.T, s Subject) {
	if _, err := s.Store.Load(ctx(t), newStream()); !errors.Is(err, events.ErrNotFound) {
		t.Fatalf("Load of a missing stream: got %v, want ErrNotFound", err)
	}
}

func testConflict(t *testing.T, s Subject) {
	c := ctx(t)
	stream := newStream()
	if _, err := s.Store.Append(c, stream, 0, uploaded(t, stream, "a")); err != nil {
		t.Fatal(err)
	}
	for _, expected := range []int{0, 2, 5} {
		_, err := s.Store.Append(c, stream, expected, MustEvent(t, events.MediaDeleted, stream, events.Deleted{Reason: "owner"}))
		var ce *events.ConflictError
		if !errors.As(err, &ce) || !events.IsConflict(err) {
			t.Fatalf("Append at expected %d: got %v, want *ConflictError", expected, err)
		}
		if ce.Actual != 1 || ce.Expected != expected || ce.Stream != stream {
			t.Errorf("conflict: got %+v, want stream %s expected %d actual 1", ce, stream, expected)
		}
	}
	evs, err := s.Store.Load(c, stream)
	if err != nil || len(evs) != 1 {
		t.Fatalf("after conflicts Load got %d events (%v), want 1", len(evs), err)
	}
}

func testConcurrent(t *testing.T, s Subject) {
	c := ctx(t)
	stream := newStream()
	const writers, versions = 20, 3
	for v := 0; v < versions; v++ {
		var (
			wg        sync.WaitGroup
			mu        sync.Mutex
			wins      int
			conflicts int
			others    []error
		)
		for w := 0; w < writers; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				var e events.Event
				if v == 0 {
					e = uploaded(t, stream, fmt.Sprintf("writer %d", w))
				} else {
					e = MustEvent(t, events.ThumbnailFailed, stream, events.ThumbnailFailure{Reason: fmt.Sprintf("writer %d", w)})
				}
				_, err := s.Store.Append(c, stream, v, e)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					wins++
				case events.IsConflict(err):
					conflicts++
				default:
					others = append(others, err)
				}
			}(w)
		}
		wg.Wait()
		if wins != 1 || conflicts != writers-1 || len(others) > 0 {
			t.Fatalf("version %d: %d wins, %d conflicts, other errors %v; want 1 win and %d conflicts", v+1, wins, conflicts, others, writers-1)
		}
	}
	evs, err := s.Store.Load(c, stream)
	if err != nil || len(evs) != versions {
		t.Fatalf("Load got %d events (%v), want %d", len(evs), err, versions)
	}
	for i, e := range evs {
		if e.Version != i+1 {
			t.Errorf("event %d has version %d", i, e.Version)
		}
	}
}

func testIdempotentRetry(t *testing.T, s Subject) {
	c := ctx(t)
	stream := newStream()
	e := uploaded(t, stream, "once")
	first, err := s.Store.Append(c, stream, 0, e)
	if err != nil {
		t.Fatal(err)
	}
	again, err := s.Store.Append(c, stream, 0, e) // the response was lost; the client retries
	if err != nil {
		t.Fatalf("retried Append: got %v, want success", err)
	}
	if len(again) != 1 || again[0].ID != e.ID || again[0].Version != 1 || again[0].Position != first[0].Position {
		t.Errorf("retried Append returned %+v, want the stored event %+v", again, first)
	}
	other := uploaded(t, stream, "different")
	if _, err := s.Store.Append(c, stream, 0, other); !events.IsConflict(err) {
		t.Errorf("a different event at a taken version: got %v, want a conflict", err)
	}
	evs, _ := s.Store.Load(c, stream)
	if len(evs) != 1 {
		t.Errorf("after a retry the stream has %d events, want 1", len(evs))
	}
}

func appendN(t *testing.T, s events.Store, n int) []events.Event {
	t.Helper()
	var out []events.Event
	for i := 0; i < n; i++ {
		stream := newStream()
		got, err := s.Append(context.Background(), stream, 0, uploaded(t, stream, fmt.Sprintf("e%d", i)))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, got...)
	}
	return out
}

func testReadAll(t *testing.T, s Subject) {
	c := ctx(t)
	want := appendN(t, s.Store, 7)
	var got []events.Event
	pos := ""
	for pages := 0; pages < 10; pages++ {
		evs, next, err := s.Store.ReadAll(c, pos, 3)
		if err != nil {
			t.Fatalf("ReadAll(%q): %v", pos, err)
		}
		if len(evs) == 0 {
			if next != pos {
				t.Errorf("an empty read moved the position from %q to %q", pos, next)
			}
			break
		}
		if len(evs) > 3 {
			t.Fatalf("ReadAll returned %d events, limit 3", len(evs))
		}
		got = append(got, evs...)
		pos = next
	}
	if len(got) != len(want) {
		t.Fatalf("ReadAll gave %d events, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i].ID != want[i].ID {
			t.Errorf("event %d: got %s, want %s (append order)", i, got[i].ID, want[i].ID)
		}
	}
	// Resuming from the end gives nothing new until something is appended.
	more := appendN(t, s.Store, 1)
	evs, _, err := s.Store.ReadAll(c, pos, 10)
	if err != nil || len(evs) != 1 || evs[0].ID != more[0].ID {
		t.Errorf("ReadAll after the end gave %v (%v), want the one new event", evs, err)
	}
}

// MemCheckpoints is an in-memory events.Checkpoints for tests.
type MemCheckpoints struct {
	mu sync.Mutex
	m  map[string]string
}

func (m *MemCheckpoints) Checkpoint(_ context.Context, name string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.m[name], nil
}

// Clear forgets every checkpoint, as a view's Reset does.
func (m *MemCheckpoints) Clear() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.m = nil
}

func (m *MemCheckpoints) SaveCheckpoint(_ context.Context, name, pos string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.m == nil {
		m.m = map[string]string{}
	}
	m.m[name] = pos
	return nil
}

// follow runs Follow until want events arrived or the deadline passes.
func follow(t *testing.T, f events.Feed, cp events.Checkpoints, name string, want int, h events.Handler) []events.Event {
	t.Helper()
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var (
		mu  sync.Mutex
		got []events.Event
	)
	done := make(chan error, 1)
	go func() {
		done <- f.Follow(c, name, cp, func(ctx context.Context, e events.Event) error {
			if h != nil {
				if err := h(ctx, e); err != nil {
					return err
				}
			}
			mu.Lock()
			got = append(got, e)
			n := len(got)
			mu.Unlock()
			if n == want {
				cancel()
			}
			return nil
		})
	}()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Follow returned %v, want context.Canceled after %d events (got %d)", err, want, len(got))
	}
	return got
}

func testFollow(t *testing.T, s Subject) {
	cp := &MemCheckpoints{}
	first := appendN(t, s.Store, 3)
	got := follow(t, s.Feed, cp, "p", 3, nil)
	for i := range first {
		if got[i].ID != first[i].ID {
			t.Errorf("delivery %d: got %s, want %s", i, got[i].ID, first[i].ID)
		}
	}
	// Events appended while nobody follows arrive on the next Follow, and
	// nothing before the checkpoint is delivered again.
	later := appendN(t, s.Store, 2)
	got = follow(t, s.Feed, cp, "p", 2, nil)
	for i := range later {
		if got[i].ID != later[i].ID {
			t.Errorf("resumed delivery %d: got %s, want %s", i, got[i].ID, later[i].ID)
		}
	}
	// Events appended while following arrive promptly.
	c, cancel := context.WithCancel(context.Background())
	defer cancel()
	arrived := make(chan events.Event, 1)
	go s.Feed.Follow(c, "p", cp, func(_ context.Context, e events.Event) error { arrived <- e; return nil })
	time.Sleep(100 * time.Millisecond)
	live := appendN(t, s.Store, 1)
	select {
	case e := <-arrived:
		if e.ID != live[0].ID {
			t.Errorf("live delivery: got %s, want %s", e.ID, live[0].ID)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("an event appended while following did not arrive within 10 s")
	}
}

func testFollowRetry(t *testing.T, s Subject) {
	cp := &MemCheckpoints{}
	want := appendN(t, s.Store, 3)
	failed := false
	got := follow(t, s.Feed, cp, "r", 3, func(_ context.Context, e events.Event) error {
		if e.ID == want[1].ID && !failed {
			failed = true
			return errors.New("transient")
		}
		return nil
	})
	for i := range want {
		if got[i].ID != want[i].ID {
			t.Errorf("delivery %d: got %s, want %s (the failed event again, then the rest)", i, got[i].ID, want[i].ID)
		}
	}
}

func testHistory(t *testing.T, s Subject) {
	c := ctx(t)
	a, ok := s.Store.(events.Auditor)
	if !ok {
		t.Fatalf("%T does not implement events.Auditor (the audit log reads it)", s.Store)
	}
	// Two streams: a is uploaded, thumbnailed, deleted; b is uploaded.
	sa, sb := newStream(), newStream()
	var all []events.Event
	add := func(stream string, v int, e events.Event) {
		out, err := s.Store.Append(c, stream, v, e)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, out...)
	}
	add(sa, 0, uploaded(t, sa, "a"))
	add(sb, 0, uploaded(t, sb, "b"))
	add(sa, 1, MustEvent(t, events.ThumbnailGenerated, sa, events.ThumbnailsGenerated{}))
	add(sa, 2, MustEvent(t, events.MediaDeleted, sa, events.Deleted{Reason: "owner"}))

	read := func(f events.Filter, limit int) []string {
		var ids []string
		before := ""
		for pages := 0; pages < 20; pages++ {
			evs, next, err := a.History(c, f, before, limit)
			if err != nil {
				t.Fatalf("History(%+v, %q): %v", f, before, err)
			}
			if len(evs) > limit {
				t.Fatalf("History returned %d events, limit %d", len(evs), limit)
			}
			for _, e := range evs {
				ids = append(ids, e.ID)
			}
			if next == "" {
				return ids
			}
			before = next
		}
		t.Fatal("History never ended")
		return nil
	}
	want := func(keep func(events.Event) bool) []string {
		var ids []string
		for i := len(all) - 1; i >= 0; i-- {
			if keep(all[i]) {
				ids = append(ids, all[i].ID)
			}
		}
		return ids
	}
	mine := func(e events.Event) bool { return e.Stream == sa || e.Stream == sb }
	only := func(ids []string, keep map[string]bool) []string {
		var out []string
		for _, id := range ids {
			if keep[id] {
				out = append(out, id)
			}
		}
		return out
	}
	ours := map[string]bool{}
	for _, e := range all {
		ours[e.ID] = true
	}
	tests := []struct {
		name  string
		f     events.Filter
		limit int
		keep  func(events.Event) bool
	}{
		{"everything, in pages of 1", events.Filter{}, 1, mine},
		{"everything, in pages of 3", events.Filter{}, 3, mine},
		{"one entry", events.Filter{Stream: sa}, 2, func(e events.Event) bool { return e.Stream == sa }},
		{"one type", events.Filter{Types: []events.Type{events.MediaUploaded}}, 10, func(e events.Event) bool { return mine(e) && e.Type == events.MediaUploaded }},
		{"type and entry", events.Filter{Types: []events.Type{events.MediaDeleted, events.ThumbnailGenerated}, Stream: sa}, 10, func(e events.Event) bool {
			return e.Stream == sa && (e.Type == events.MediaDeleted || e.Type == events.ThumbnailGenerated)
		}},
	}
	for _, tt := range tests {
		got := only(read(tt.f, tt.limit), ours) // other subtests may share the store
		if w := want(tt.keep); fmt.Sprint(got) != fmt.Sprint(w) {
			t.Errorf("%s:\n got %v\nwant %v", tt.name, got, w)
		}
	}
}

func testStreams(t *testing.T, s Subject) {
	c := ctx(t)
	l, ok := s.Store.(events.StreamLister)
	if !ok {
		t.Fatalf("%T does not implement events.StreamLister (rebuilds read it)", s.Store)
	}
	want := map[string]bool{}
	for i := 0; i < 12; i++ {
		stream := newStream()
		if _, err := s.Store.Append(c, stream, 0, uploaded(t, stream, "s")); err != nil {
			t.Fatal(err)
		}
		if i%3 == 0 { // streams with several events are listed once
			if _, err := s.Store.Append(c, stream, 1, MustEvent(t, events.ThumbnailFailed, stream, events.ThumbnailFailure{Reason: "x"})); err != nil {
				t.Fatal(err)
			}
		}
		want[stream] = true
	}
	var mu sync.Mutex
	seen := map[string]int{}
	if err := l.Streams(c, 3, func(_ context.Context, stream string) error {
		mu.Lock()
		defer mu.Unlock()
		seen[stream]++
		return nil
	}); err != nil {
		t.Fatalf("Streams: %v", err)
	}
	for stream := range want {
		if seen[stream] != 1 {
			t.Errorf("stream %s listed %d times, want once", stream, seen[stream])
		}
	}
	stop := errors.New("stop")
	if err := l.Streams(c, 2, func(context.Context, string) error { return stop }); !errors.Is(err, stop) {
		t.Errorf("an error from fn: Streams returned %v, want it back", err)
	}
}

// The rule of idempotent retries: a stored prefix of the batch counts and
// the rest is appended; anything else at those versions is a conflict.
func testPrefixRetry(t *testing.T, s Subject) {
	c := ctx(t)
	stream := newStream()
	e1 := uploaded(t, stream, "batch")
	e2 := MustEvent(t, events.ThumbnailFailed, stream, events.ThumbnailFailure{Reason: "x"})
	e3 := MustEvent(t, events.MediaDeleted, stream, events.Deleted{Reason: "owner"})
	if _, err := s.Store.Append(c, stream, 0, e1); err != nil { // the first event of the batch landed
		t.Fatal(err)
	}
	got, err := s.Store.Append(c, stream, 0, e1, e2) // the retry of the whole batch
	if err != nil {
		t.Fatalf("retry of a batch whose first event is stored: got %v, want success", err)
	}
	if len(got) != 2 || got[0].ID != e1.ID || got[1].ID != e2.ID || got[1].Version != 2 {
		t.Errorf("retry returned %+v, want e1 at v1 and e2 at v2", got)
	}
	if again, err := s.Store.Append(c, stream, 0, e1, e2); err != nil || len(again) != 2 {
		t.Errorf("a second retry of the whole batch: got %d events (%v), want the 2 stored", len(again), err)
	}
	if _, err := s.Store.Append(c, stream, 0, e1, e3); !events.IsConflict(err) {
		t.Errorf("a batch that matches only its first event, where another event is stored next: got %v, want a conflict", err)
	}
	other := uploaded(t, stream, "other")
	if _, err := s.Store.Append(c, stream, 0, other, e2); !events.IsConflict(err) {
		t.Errorf("a batch whose first event is not the stored one: got %v, want a conflict", err)
	}
	evs, _ := s.Store.Load(c, stream)
	if len(evs) != 2 {
		t.Errorf("after the retries the stream has %d events, want 2", len(evs))
	}
}

func testSeparateConsumers(t *testing.T, s Subject) {
	cp := &MemCheckpoints{}
	want := appendN(t, s.Store, 3)
	a := follow(t, s.Feed, cp, "a", 3, nil)
	b := follow(t, s.Feed, cp, "b", 3, nil)
	for i := range want {
		if a[i].ID != want[i].ID || b[i].ID != want[i].ID {
			t.Errorf("delivery %d: a got %s, b got %s, want %s for both", i, a[i].ID, b[i].ID, want[i].ID)
		}
	}
}

// A consumer whose checkpoint is cleared (a rebuild's Reset) is given
// every event again, on every feed.
func testClearedCheckpoint(t *testing.T, s Subject) {
	cp := &MemCheckpoints{}
	want := appendN(t, s.Store, 2)
	follow(t, s.Feed, cp, "z", 2, nil)
	cp.Clear()
	got := follow(t, s.Feed, cp, "z", 2, nil)
	for i := range want {
		if got[i].ID != want[i].ID {
			t.Errorf("after clearing the checkpoint, delivery %d: got %s, want %s (from the start again)", i, got[i].ID, want[i].ID)
		}
	}
	// And the new position holds: nothing again, then only what is new.
	more := appendN(t, s.Store, 1)
	got = follow(t, s.Feed, cp, "z", 1, nil)
	if got[0].ID != more[0].ID {
		t.Errorf("resumed after the restart: got %s, want the new event %s", got[0].ID, more[0].ID)
	}
}

func maxAttempts(s Subject) int {
	if s.Poison == nil || s.Poison.MaxAttempts <= 0 {
		return events.DefaultMaxAttempts
	}
	return s.Poison.MaxAttempts
}

// parkLog records the park hook's calls.
type parkLog struct {
	mu    sync.Mutex
	calls []string // "<event id> <reason>"
}

func (p *parkLog) hook(_ context.Context, e events.Event, reason events.ParkReason) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls = append(p.calls, e.ID+" "+string(reason))
	return nil
}

func (p *parkLog) got() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.calls...)
}

func checkDeadLetter(t *testing.T, s Subject, consumer string, bad events.Event, reason events.ParkReason) {
	t.Helper()
	ds, err := s.Attempts.DeadLetters(ctx(t), consumer)
	if err != nil {
		t.Fatalf("DeadLetters: %v", err)
	}
	if len(ds) != 1 || ds[0].EventID != bad.ID || ds[0].Stream != bad.Stream || ds[0].Version != 1 || ds[0].Reason != reason ||
		ds[0].Type != bad.Type || ds[0].Where == "" || ds[0].Attempts != maxAttempts(s) {
		t.Errorf("dead letters: got %+v, want one for %s v1 with reason %s after %d attempts", ds, bad.Stream, reason, maxAttempts(s))
	}
}

func testParkFailing(t *testing.T, s Subject) {
	if s.Poison == nil || s.Attempts == nil {
		t.Fatal("the subject must give its feed's Poison and Attempts")
	}
	parks := &parkLog{}
	s.Poison.SetPark("pf", parks.hook)
	evs := appendN(t, s.Store, 2)
	bad, good := evs[0], evs[1]
	var mu sync.Mutex
	tries := 0
	got := follow(t, s.Feed, &MemCheckpoints{}, "pf", 1, func(_ context.Context, e events.Event) error {
		if e.ID == bad.ID {
			mu.Lock()
			tries++
			mu.Unlock()
			return errors.New("cannot handle this one")
		}
		return nil
	})
	if len(got) != 1 || got[0].ID != good.ID {
		t.Errorf("deliveries: got %v, want only the good event after the bad one was parked", got)
	}
	if tries != maxAttempts(s) {
		t.Errorf("the failing event was tried %d times, want %d", tries, maxAttempts(s))
	}
	if want := []string{bad.ID + " failed"}; fmt.Sprint(parks.got()) != fmt.Sprint(want) {
		t.Errorf("park hook calls: got %v, want %v", parks.got(), want)
	}
	checkDeadLetter(t, s, "pf", bad, events.ParkFailed)
}

// An attempt that never returns (the process died in it) still counts:
// after MaxAttempts of them, the next Follow parks the event without
// handing it to the handler again.
func testParkPoison(t *testing.T, s Subject) {
	if s.Poison == nil || s.Attempts == nil {
		t.Fatal("the subject must give its feed's Poison and Attempts")
	}
	parks := &parkLog{}
	s.Poison.SetPark("pp", parks.hook)
	cp := &MemCheckpoints{}
	evs := appendN(t, s.Store, 2)
	bad, good := evs[0], evs[1]
	tries := 0
	for run := 1; run <= maxAttempts(s); run++ {
		c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err := s.Feed.Follow(c, "pp", cp, func(_ context.Context, e events.Event) error {
			if e.ID == bad.ID {
				tries++
				cancel() // the crash: the process is gone in the middle of the attempt
				return errors.New("killed")
			}
			return nil
		})
		cancel()
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("run %d: Follow returned %v, want context.Canceled", run, err)
		}
	}
	got := follow(t, s.Feed, cp, "pp", 1, func(_ context.Context, e events.Event) error {
		if e.ID == bad.ID {
			tries++
		}
		return nil
	})
	if len(got) != 1 || got[0].ID != good.ID {
		t.Errorf("after %d crashed attempts: got %v, want the bad event parked and the good one delivered", maxAttempts(s), got)
	}
	if tries != maxAttempts(s) {
		t.Errorf("the handler saw the poison event %d times, want %d (none after the bound)", tries, maxAttempts(s))
	}
	if want := []string{bad.ID + " poison"}; fmt.Sprint(parks.got()) != fmt.Sprint(want) {
		t.Errorf("park hook calls: got %v, want %v", parks.got(), want)
	}
	checkDeadLetter(t, s, "pp", bad, events.ParkPoison)
}

// A handler stopped by a clean shutdown (it returns the context's error)
// does not use up an attempt.
func testStoppedAttempt(t *testing.T, s Subject) {
	if s.Poison == nil || s.Attempts == nil {
		t.Fatal("the subject must give its feed's Poison and Attempts")
	}
	cp := &MemCheckpoints{}
	evs := appendN(t, s.Store, 1)
	for run := 0; run <= maxAttempts(s); run++ {
		c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err := s.Feed.Follow(c, "ps", cp, func(ctx context.Context, e events.Event) error {
			cancel()
			<-ctx.Done()
			return ctx.Err()
		})
		cancel()
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("run %d: Follow returned %v, want context.Canceled", run, err)
		}
	}
	got := follow(t, s.Feed, cp, "ps", 1, nil)
	if len(got) != 1 || got[0].ID != evs[0].ID {
		t.Errorf("after %d stopped attempts: got %v, want the event delivered, not parked", maxAttempts(s)+1, got)
	}
	if ds, err := s.Attempts.DeadLetters(ctx(t), "ps"); err != nil || len(ds) != 0 {
		t.Errorf("dead letters: got %+v (%v), want none", ds, err)
	}
}
