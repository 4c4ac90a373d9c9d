package reactor_test

import (
	"context"
	"testing"
	"time"

	"mediashare/internal/events"
	"mediashare/internal/events/eventstest"
	"mediashare/internal/projections"
)

// The trash keeps the blobs: MediaTrashed and MediaRestored call for no
// work. An entry trashed before its thumbnail still gets it (so a
// restore finds it made); the end of the period purges once.
func TestReactorAndTheTrash(t *testing.T) {
	f := newReactor(t, nil)
	ctx := context.Background()
	eib := "01JDREACT00000000000000T01"
	orig, tn := eib+".jpg", projections.ThumbnailKey(eib+".jpg")
	up := f.upload(t, eib)
	trashed, err := f.store.Append(ctx, eib, 1, eventstest.MustEvent(t, events.MediaTrashed, eib, events.Trashed{Reason: "owner", PurgeAfter: time.Now().Add(time.Hour)}))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range []events.Event{up, trashed[0], up} {
		if err := f.r.Handle(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := types(t, f.store, eib), "MediaUploaded,MediaTrashed,ThumbnailGenerated"; got != want {
		t.Errorf("trashed before its thumbnail: got %s, want %s", got, want)
	}
	if f.made.Load() != 1 {
		t.Errorf("%d thumbnails made, want 1", f.made.Load())
	}
	for _, k := range []string{orig, tn} {
		if !exists(t, f.blobs, k) {
			t.Errorf("%s is gone while the entry is in the trash", k)
		}
	}
	restored, err := f.store.Append(ctx, eib, 3, eventstest.MustEvent(t, events.MediaRestored, eib, events.Restored{Reason: "owner"}))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.r.Handle(ctx, restored[0]); err != nil {
		t.Fatal(err)
	}
	if f.made.Load() != 1 || types(t, f.store, eib) != "MediaUploaded,MediaTrashed,ThumbnailGenerated,MediaRestored" {
		t.Errorf("a restore made work: %d thumbnails, %s", f.made.Load(), types(t, f.store, eib))
	}
	// Trashed again; the period ends.
	if _, err := f.store.Append(ctx, eib, 4, eventstest.MustEvent(t, events.MediaTrashed, eib, events.Trashed{Reason: "owner", PurgeAfter: time.Now()})); err != nil {
		t.Fatal(err)
	}
	del, err := f.store.Append(ctx, eib, 5, eventstest.MustEvent(t, events.MediaDeleted, eib, events.Deleted{Reason: "retention"}))
	if err != nil {
		t.Fatal(err)
	}
	for range 2 { // redelivered
		if err := f.r.Handle(ctx, del[0]); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := types(t, f.store, eib), "MediaUploaded,MediaTrashed,ThumbnailGenerated,MediaRestored,MediaTrashed,MediaDeleted,MediaPurged"; got != want {
		t.Errorf("after the period: got %s, want %s", got, want)
	}
	for _, k := range []string{orig, tn} {
		if exists(t, f.blobs, k) {
			t.Errorf("%s still stored after the purge", k)
		}
	}
}
