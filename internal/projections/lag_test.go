package projections_test

import (
	"context"
	"testing"
	"time"

	"mediashare/internal/events"
	"mediashare/internal/events/eventstest"
	"mediashare/internal/projections"
)

func TestLagGrowsWhileTheViewIsBehind(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if lag, err := projections.Lag(ctx, f.store, f.view, time.Now()); err != nil || lag != 0 {
		t.Fatalf("empty store: lag %v (%v), want 0", lag, err)
	}
	const eib = "01JDLAG0000000000000000001"
	e := eventstest.MustEvent(t, events.MediaUploaded, eib, events.Uploaded{Title: "t", Comment: "c", Original: eib + ".jpg"})
	stored, err := f.store.Append(ctx, eib, 0, e)
	if err != nil {
		t.Fatal(err)
	}
	later := stored[0].Time.Add(90 * time.Second)
	lag, err := projections.Lag(ctx, f.store, f.view, later)
	if err != nil || lag != 90*time.Second {
		t.Fatalf("unprojected event 90 s old: lag %v (%v), want 90s", lag, err)
	}
	if err := (&projections.Projector{View: f.view}).Handle(ctx, stored[0]); err != nil {
		t.Fatal(err)
	}
	if lag, err := projections.Lag(ctx, f.store, f.view, later); err != nil || lag != 0 {
		t.Errorf("after projection: lag %v (%v), want 0", lag, err)
	}
}
