package projections_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"mediashare/internal/events"
	"mediashare/internal/events/eventstest"
	"mediashare/internal/projections"
)

// trashHistory appends streams that go through the trash: trashed and
// left there, trashed and restored, trashed and deleted for good when
// the period ended, and an old log's delete and purge (before the trash).
func trashHistory(t *testing.T, s events.Store, until time.Time) (total int, want map[string]string) {
	t.Helper()
	want = map[string]string{}
	for i := 0; i < 12; i++ {
		eib := fmt.Sprintf("01JDTRASH%017d", i)
		evs := []events.Event{
			eventstest.MustEvent(t, events.MediaUploaded, eib, events.Uploaded{
				Title: fmt.Sprintf("photo %d", i), Comment: "c", MediaType: "image", ContentType: "image/jpeg",
				Size: 100, Width: 40, Height: 30, Original: eib + ".jpg", Owner: "o", SHA256: fmt.Sprintf("%064x", i%3),
			}),
			eventstest.MustEvent(t, events.ThumbnailGenerated, eib, events.ThumbnailsGenerated{
				Thumbnails: []events.Thumb{{Key: eib + ".jpg-tn.png", Width: 32, Height: 24}}, Placeholder: "#102030"}),
		}
		trash := eventstest.MustEvent(t, events.MediaTrashed, eib, events.Trashed{Reason: "owner", PurgeAfter: until})
		switch i % 4 {
		case 0:
			want[eib] = "gallery"
		case 1:
			evs = append(evs, trash)
			want[eib] = "trash"
		case 2:
			evs = append(evs, trash, eventstest.MustEvent(t, events.MediaRestored, eib, events.Restored{Reason: "owner"}))
			want[eib] = "gallery"
		case 3:
			if i == 3 { // an old log: no trash
				evs = append(evs, eventstest.MustEvent(t, events.MediaDeleted, eib, events.Deleted{Reason: "owner"}))
			} else {
				evs = append(evs, trash, eventstest.MustEvent(t, events.MediaDeleted, eib, events.Deleted{Reason: "retention"}))
			}
			evs = append(evs, eventstest.MustEvent(t, events.MediaPurged, eib, events.Purged{Keys: []string{eib + ".jpg", eib + ".jpg-tn.png"}}))
			want[eib] = "gone"
		}
		for v, e := range evs {
			if _, err := s.Append(context.Background(), eib, v, e); err != nil {
				t.Fatal(err)
			}
			total++
		}
	}
	return total, want
}

// A log with trashes, restores and purges replays to the view the live
// projector made, and each entry is where its events put it.
func TestReplayOfTheTrash(t *testing.T) {
	f := newFixture(t)
	until := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	total, want := trashHistory(t, f.store, until)
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
	read := func() (rows map[string]projections.Entry, gallery, trash fmt.Stringer) {
		rows = map[string]projections.Entry{}
		for eib := range want {
			e, err := f.view.Get(context.Background(), eib)
			if err != nil {
				t.Fatal(err)
			}
			rows[eib] = e
		}
		g, err := f.view.List(context.Background(), "", 100)
		if err != nil {
			t.Fatal(err)
		}
		tr, err := f.view.Trash(context.Background(), "o", "", 100)
		if err != nil {
			t.Fatal(err)
		}
		return rows, stringer(fmt.Sprint(g)), stringer(fmt.Sprint(tr))
	}
	live, liveGallery, liveTrash := read()
	for eib, where := range want {
		e := live[eib]
		got := "gone"
		switch {
		case e.Visible():
			got = "gallery"
		case e.InTrash():
			got = "trash"
		}
		if got != where {
			t.Errorf("%s: in the %s, want %s (%+v)", eib, got, where, e)
		}
		if where == "trash" && !e.TrashUntil.Equal(until) {
			t.Errorf("%s: in the trash until %s, want %s", eib, e.TrashUntil, until)
		}
		if where == "gone" && (e.Status != projections.Deleted || !e.TrashUntil.IsZero()) {
			t.Errorf("%s: a purged row is %+v, want a deleted tombstone as before the trash", eib, e)
		}
		if where == "gallery" && e.Status != projections.Ready {
			t.Errorf("%s: back from the trash as %q, want ready with its thumbnail", eib, e.Status)
		}
	}
	if n, err := projections.Rebuild(context.Background(), f.store, f.view, nil, projections.RebuildOptions{}); err != nil || n != total {
		t.Fatalf("Rebuild: %d events (%v), want %d", n, err, total)
	}
	rebuilt, rebuiltGallery, rebuiltTrash := read()
	if fmt.Sprint(rebuilt) != fmt.Sprint(live) {
		t.Errorf("rebuilt rows differ:\n got %v\nwant %v", rebuilt, live)
	}
	if rebuiltGallery.String() != liveGallery.String() || rebuiltTrash.String() != liveTrash.String() {
		t.Errorf("rebuilt gallery or trash differ:\n got %v %v\nwant %v %v", rebuiltGallery, rebuiltTrash, liveGallery, liveTrash)
	}
}

type stringer string

func (s stringer) String() string { return string(s) }

// An old log (MediaDeleted, then MediaPurged, no trash) projects to the
// row it always did: a deleted tombstone, out of the gallery, the trash
// and the copies.
func TestOldDeleteReplaysAsBefore(t *testing.T) {
	eib := "01JDOLDLOG0000000000000001"
	up := eventstest.MustEvent(t, events.MediaUploaded, eib, events.Uploaded{Title: "t", Comment: "c", MediaType: "image",
		ContentType: "image/png", Size: 10, Width: 2, Height: 2, Original: eib + ".png", Owner: "o", SHA256: "ab"})
	del := eventstest.MustEvent(t, events.MediaDeleted, eib, events.Deleted{Reason: "owner"})
	pur := eventstest.MustEvent(t, events.MediaPurged, eib, events.Purged{Keys: []string{eib + ".png"}})
	var e projections.Entry
	for i, ev := range []events.Event{up, del, pur} {
		ev.Version, ev.Stream = i+1, eib
		var err error
		if e, _, err = projections.Apply(context.Background(), nil, e, ev); err != nil {
			t.Fatal(err)
		}
	}
	if e.Status != projections.Deleted || e.Visible() || e.InTrash() || !e.TrashUntil.IsZero() || e.Version != 3 {
		t.Errorf("an old log's delete and purge: %+v, want a deleted tombstone at v3", e)
	}
}
