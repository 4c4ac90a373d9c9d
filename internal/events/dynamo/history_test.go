package dynamo_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"mediashare/internal/events"
	"mediashare/internal/events/dynamo"
	"mediashare/internal/ids"
)

// A type filter that matches little stops after HistoryReads queries
// and returns a cursor; following the cursors finds every match, and a
// malformed cursor is ErrBadPosition.
func TestHistoryFilterReadsAreBounded(t *testing.T) {
	h := newHarness(t)
	s := dynamo.New(h.db, h.table)
	s.HistoryReads = 2
	ctx := context.Background()
	at := time.Now().Add(-time.Hour)
	var rare []string
	for i := range 30 {
		at = at.Add(time.Millisecond)
		stream := ids.New(at)
		typ := events.MediaUploaded
		if i == 0 || i == 17 {
			typ = events.MediaDeleted
			rare = append(rare, stream)
		}
		e, err := events.New(ids.New(at), typ, stream, at, events.OwnerActor("tester"), map[string]string{"n": "x"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Append(ctx, stream, 0, e); err != nil {
			t.Fatal(err)
		}
	}
	f := events.Filter{Types: []events.Type{events.MediaDeleted}}
	var found []string
	calls, before := 0, ""
	for {
		calls++
		if calls > 30 {
			t.Fatal("the cursors never reach the end")
		}
		evs, next, err := s.History(ctx, f, before, 1)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range evs {
			found = append(found, e.Stream)
		}
		if next == "" {
			break
		}
		before = next
	}
	if len(found) != 2 || found[0] != rare[1] || found[1] != rare[0] {
		t.Errorf("found %v, want %v newest first", found, []string{rare[1], rare[0]})
	}
	// Limit 1 reads two items a query: 2 queries a call reach 4 items.
	if calls < 30/4 {
		t.Errorf("%d calls for 30 events at 2 reads of 2 items: the reads are not bounded", calls)
	}
	t.Logf("30 events, 2 matches: %d History calls", calls)
	for _, bad := range []string{"garbage", "12#x", "-000000000001#x"} {
		if _, _, err := s.History(ctx, f, bad, 10); !errors.Is(err, events.ErrBadPosition) {
			t.Errorf("before %q: got %v, want ErrBadPosition", bad, err)
		}
	}
}
