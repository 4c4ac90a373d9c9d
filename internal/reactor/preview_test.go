package reactor_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"mediashare/internal/blob"
	"mediashare/internal/entry"
	"mediashare/internal/events"
	"mediashare/internal/events/eventstest"
	"mediashare/internal/foreground"
	"mediashare/internal/reactor"
)

// withPreviews gives the fixture a preview maker that counts its calls
// and runs before (when set) first.
func withPreviews(f *reactorFixture, before func()) *atomic.Int32 {
	var n atomic.Int32
	f.r.Preview = func(ctx context.Context, r io.ReadSeeker) (*reactor.Rendition, error) {
		n.Add(1)
		if before != nil {
			before()
		}
		b, err := io.ReadAll(r)
		if err != nil {
			return nil, err
		}
		return &reactor.Rendition{Data: append([]byte("preview of "), b...), ContentType: "image/jpeg", Ext: ".jpg", Width: 1280, Height: 853}, nil
	}
	return &n
}

func last(t *testing.T, s events.Store, eib string) events.Event {
	t.Helper()
	evs, err := s.Load(context.Background(), eib)
	if err != nil {
		t.Fatal(err)
	}
	return evs[len(evs)-1]
}

func mustHandle(t *testing.T, h func(context.Context, events.Event) error, e events.Event) {
	t.Helper()
	if err := h(context.Background(), e); err != nil {
		t.Fatal(err)
	}
}

func TestPreviewIsMadeAfterTheThumbnailOnce(t *testing.T) {
	f := newReactor(t, nil)
	made := withPreviews(f, nil)
	eib := "01JDPREVIEW000000000000001"
	mustHandle(t, f.r.Handle, f.upload(t, eib))
	if got, want := types(t, f.store, eib), "MediaUploaded,ThumbnailGenerated"; got != want {
		t.Fatalf("after the first job: got %s, want %s", got, want)
	}
	var tg events.ThumbnailsGenerated
	if err := last(t, f.store, eib).Decode(&tg); err != nil || len(tg.Thumbnails) != 1 {
		t.Fatalf("ThumbnailGenerated: got %+v (%v), want the grid thumbnail alone", tg, err)
	}
	if n := made.Load(); n != 0 {
		t.Errorf("the first job made %d previews", n)
	}
	thumbed := last(t, f.store, eib)
	for range 3 { // delivered again after a crash: made once
		mustHandle(t, f.r.HandlePreview, thumbed)
	}
	if got, want := types(t, f.store, eib), "MediaUploaded,ThumbnailGenerated,PreviewGenerated"; got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
	if n := made.Load(); n != 1 {
		t.Errorf("preview made %d times, want 1", n)
	}
	var p events.PreviewMade
	if err := last(t, f.store, eib).Decode(&p); err != nil {
		t.Fatal(err)
	}
	want := events.Thumb{Key: entry.PreviewKey(eib+".jpg", ".jpg"), Width: 1280, Height: 853, ContentType: "image/jpeg", Size: int64(len("preview of original"))}
	if p.Preview != want {
		t.Errorf("PreviewGenerated: got %+v, want %+v", p.Preview, want)
	}
	if !exists(t, f.blobs, want.Key) {
		t.Errorf("%s not stored", want.Key)
	}
	// The reactor's own handler and other events leave previews alone.
	mustHandle(t, f.r.Handle, last(t, f.store, eib))
	mustHandle(t, f.r.HandlePreview, last(t, f.store, eib))
	if n := made.Load(); n != 1 {
		t.Errorf("preview made %d times, want 1", n)
	}

	del, err := f.store.Append(context.Background(), eib, 3, eventstest.MustEvent(t, events.MediaDeleted, eib, events.Deleted{Reason: "owner"}))
	if err != nil {
		t.Fatal(err)
	}
	mustHandle(t, f.r.Handle, del[0])
	for _, k := range []string{eib + ".jpg", entry.ThumbnailKey(eib + ".jpg"), want.Key} {
		if exists(t, f.blobs, k) {
			t.Errorf("%s still stored after the purge", k)
		}
	}
}

func TestPreviewOnlyWhenTheEntryWantsOne(t *testing.T) {
	f := newReactor(t, nil)
	made := withPreviews(f, nil)
	// Small: no larger than the grid thumbnail.
	small := "01JDPREVIEW000000000000002"
	if _, err := f.blobs.Put(context.Background(), small+".png", strings.NewReader("small"), "image/png"); err != nil {
		t.Fatal(err)
	}
	up, err := f.store.Append(context.Background(), small, 0, eventstest.MustEvent(t, events.MediaUploaded, small, events.Uploaded{
		MediaType: "image", Original: small + ".png", Owner: "o", Width: 300, Height: 200}))
	if err != nil {
		t.Fatal(err)
	}
	mustHandle(t, f.r.Handle, up[0])
	mustHandle(t, f.r.HandlePreview, last(t, f.store, small))
	if got, want := types(t, f.store, small), "MediaUploaded,ThumbnailGenerated"; got != want {
		t.Errorf("small: got %s, want %s", got, want)
	}

	// Trashed before its preview: none while in the trash; the restore
	// asks again.
	eib := "01JDPREVIEW000000000000003"
	mustHandle(t, f.r.Handle, f.upload(t, eib))
	thumbed := last(t, f.store, eib)
	if _, err := f.store.Append(context.Background(), eib, 2, eventstest.MustEvent(t, events.MediaTrashed, eib, events.Trashed{Reason: "owner", PurgeAfter: time.Now().Add(time.Hour)})); err != nil {
		t.Fatal(err)
	}
	mustHandle(t, f.r.HandlePreview, thumbed)
	if n := made.Load(); n != 0 {
		t.Fatalf("made %d previews for a small entry and one in the trash", n)
	}
	res, err := f.store.Append(context.Background(), eib, 3, eventstest.MustEvent(t, events.MediaRestored, eib, events.Restored{Reason: "owner"}))
	if err != nil {
		t.Fatal(err)
	}
	mustHandle(t, f.r.HandlePreview, res[0])
	if got, want := types(t, f.store, eib), "MediaUploaded,ThumbnailGenerated,MediaTrashed,MediaRestored,PreviewGenerated"; got != want {
		t.Errorf("restored: got %s, want %s", got, want)
	}
}

func TestPreviewRemovedWhenTheEntryLeavesMeanwhile(t *testing.T) {
	for _, tc := range []struct {
		name string
		ev   func(eib string) events.Event
	}{
		{"deleted", func(eib string) events.Event {
			return eventstest.MustEvent(t, events.MediaDeleted, eib, events.Deleted{Reason: "owner"})
		}},
		{"trashed", func(eib string) events.Event {
			return eventstest.MustEvent(t, events.MediaTrashed, eib, events.Trashed{Reason: "owner", PurgeAfter: time.Now().Add(time.Hour)})
		}},
		{"erased", func(eib string) events.Event {
			return eventstest.MustEvent(t, events.MediaErased, eib, events.Erased{By: "owner"})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newReactor(t, nil)
			eib := "01JDPREVIEW00000000000000" + map[string]string{"deleted": "4", "trashed": "5", "erased": "6"}[tc.name]
			withPreviews(f, func() {
				if _, err := f.store.Append(context.Background(), eib, 2, tc.ev(eib)); err != nil {
					t.Error(err)
				}
			})
			mustHandle(t, f.r.Handle, f.upload(t, eib))
			thumbed := last(t, f.store, eib)
			mustHandle(t, f.r.HandlePreview, thumbed)
			if got := types(t, f.store, eib); strings.Contains(got, "PreviewGenerated") {
				t.Errorf("stream: got %s, want no preview recorded", got)
			}
			if k := entry.PreviewKey(eib+".jpg", ".jpg"); exists(t, f.blobs, k) {
				t.Errorf("%s left behind for an entry %s meanwhile", k, tc.name)
			}
		})
	}
}

func TestPreviewFailureRecordsNothing(t *testing.T) {
	f := newReactor(t, nil)
	eib := "01JDPREVIEW000000000000007"
	f.r.Preview = func(ctx context.Context, r io.ReadSeeker) (*reactor.Rendition, error) {
		return nil, errors.New("cannot decode")
	}
	mustHandle(t, f.r.Handle, f.upload(t, eib))
	mustHandle(t, f.r.HandlePreview, last(t, f.store, eib))
	if got, want := types(t, f.store, eib), "MediaUploaded,ThumbnailGenerated"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	if !strings.Contains(f.logs.String(), "preview failed") {
		t.Errorf("the failure was not logged: %s", f.logs)
	}
	// The original gone: nothing to retry either.
	if err := f.blobs.Delete(context.Background(), eib+".jpg"); err != nil {
		t.Fatal(err)
	}
	withPreviews(f, nil)
	mustHandle(t, f.r.HandlePreview, last(t, f.store, eib))
	if got, want := types(t, f.store, eib), "MediaUploaded,ThumbnailGenerated"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

// A preview waits while the foreground is busy, and starts once it has
// been idle PreviewQuiet; a foreground that never rests holds it back no
// longer than PreviewDelay after its ThumbnailGenerated.
func TestPreviewGivesWayToTheForeground(t *testing.T) {
	f := newReactor(t, nil)
	made := withPreviews(f, nil)
	fg := &foreground.Tracker{}
	f.r.Foreground, f.r.PreviewQuiet, f.r.PreviewDelay = fg, 50*time.Millisecond, time.Hour
	eib := "01JDPREVIEW000000000000008"
	mustHandle(t, f.r.Handle, f.upload(t, eib))
	if n := fg.InFlight(); n != 0 {
		t.Fatalf("the thumbnail left %d pieces of foreground work counted", n)
	}
	end := fg.Begin() // an upload being received
	done := make(chan error, 1)
	go func() { done <- f.r.HandlePreview(context.Background(), last(t, f.store, eib)) }()
	select {
	case err := <-done:
		t.Fatalf("the preview did not wait for the upload in flight (%v)", err)
	case <-time.After(300 * time.Millisecond):
	}
	if n := made.Load(); n != 0 {
		t.Fatalf("made %d previews while the foreground was busy", n)
	}
	end()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the preview did not start once the foreground was idle")
	}
	if n := made.Load(); n != 1 {
		t.Errorf("made %d previews, want 1", n)
	}

	// Never idle: made anyway once PreviewDelay has passed.
	eib = "01JDPREVIEW000000000000009"
	mustHandle(t, f.r.Handle, f.upload(t, eib))
	defer fg.Begin()()
	f.r.PreviewDelay = 200 * time.Millisecond
	go func() { done <- f.r.HandlePreview(context.Background(), last(t, f.store, eib)) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("a busy foreground starved the preview past PreviewDelay")
	}
	if got, want := types(t, f.store, eib), "MediaUploaded,ThumbnailGenerated,PreviewGenerated"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

// The previews consumer follows the feed with a checkpoint of its own: a
// process stopped after the grid thumbnail and before the preview (even
// while the preview waited) makes it when it runs again.
func TestPreviewsConsumerMakesWhatACrashLeft(t *testing.T) {
	f := newReactor(t, nil)
	eib := "01JDPREVIEW00000000000000A"
	mustHandle(t, f.r.Handle, f.upload(t, eib)) // the first job, then the process stops

	// A first run stopped while the preview waits for a busy foreground.
	fg := &foreground.Tracker{}
	end := fg.Begin()
	f.r.Foreground, f.r.PreviewQuiet, f.r.PreviewDelay = fg, 20*time.Millisecond, time.Hour
	made := withPreviews(f, nil)
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan error, 1)
	go func() { stopped <- f.r.RunPreviews(ctx) }()
	time.Sleep(200 * time.Millisecond)
	cancel()
	if err := <-stopped; err != nil {
		t.Fatalf("RunPreviews: %v", err)
	}
	if n := made.Load(); n != 0 {
		t.Fatalf("made %d previews while the foreground was busy", n)
	}
	end()

	// The next run makes it.
	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	go func() { stopped <- f.r.RunPreviews(ctx) }()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.HasSuffix(types(t, f.store, eib), "PreviewGenerated") {
		if time.Now().After(deadline) {
			t.Fatalf("no preview after the restart: %s", types(t, f.store, eib))
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if err := <-stopped; err != nil {
		t.Fatalf("RunPreviews: %v", err)
	}
	if n := made.Load(); n != 1 {
		t.Errorf("made %d previews, want 1", n)
	}
}

// failingPuts is a blob store whose Put fails for keys with the suffix.
type failingPuts struct {
	blob.Store
	suffix string
}

func (b failingPuts) Put(ctx context.Context, key string, r io.Reader, contentType string) (blob.Info, error) {
	if strings.HasSuffix(key, b.suffix) {
		return blob.Info{}, errors.New("the disk is full")
	}
	return b.Store.Put(ctx, key, r, contentType)
}

// The poison rule holds for the previews as for the reactor: a preview
// that keeps failing is parked after the attempts allowed and the feed
// moves on to the next entry's; the entry stays ready, nothing recorded.
func TestPreviewsConsumerParksAPreviewThatKeepsFailing(t *testing.T) {
	f := newReactor(t, nil)
	f.store.Poison = &events.Poison{MaxAttempts: 2, RetryDelay: 5 * time.Millisecond}
	bad, good := "01JDPREVIEW00000000000000B", "01JDPREVIEW00000000000000C"
	mustHandle(t, f.r.Handle, f.upload(t, bad))
	mustHandle(t, f.r.Handle, f.upload(t, good))
	made := withPreviews(f, nil)
	f.r.Blobs = failingPuts{Store: f.blobs, suffix: bad + ".jpg-preview.jpg"}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stopped := make(chan error, 1)
	go func() { stopped <- f.r.RunPreviews(ctx) }()
	// Done once the good one has its preview and the bad one is parked
	// (in a batch the good one may be made before the bad one is tried
	// alone).
	parked := func() int {
		dl, err := f.store.DeadLetters(context.Background(), reactor.PreviewConsumer)
		if err != nil {
			t.Fatal(err)
		}
		return len(dl)
	}
	deadline := time.Now().Add(20 * time.Second)
	for !strings.HasSuffix(types(t, f.store, good), "PreviewGenerated") || parked() == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the feed did not move on past the failing preview: %s, %d parked", types(t, f.store, good), parked())
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
	if n := parked(); n != 1 {
		t.Errorf("%d dead letters of the previews, want the bad one's", n)
	}
	if got, want := types(t, f.store, bad), "MediaUploaded,ThumbnailGenerated"; got != want {
		t.Errorf("the parked entry: got %s, want %s (ready, no preview, no failure)", got, want)
	}
	// The SQLite feed delivers batches: the bad preview fails once in
	// its batch (that attempt is taken back, as for the reactor), then
	// twice alone, the two attempts allowed.
	if n := made.Load(); n != 4 {
		t.Errorf("previews made %d times, want 3 at the bad one (its batch, then 2 attempts alone) and 1 at the good one", n)
	}
}
