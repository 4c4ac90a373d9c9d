package reactor_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"mediashare/internal/blob"
	"mediashare/internal/blob/fileblob"
	"mediashare/internal/entry"
	"mediashare/internal/events"
	"mediashare/internal/events/eventstest"
	eventsqlite "mediashare/internal/events/sqlite"
	"mediashare/internal/projections"
	viewsqlite "mediashare/internal/projections/sqlite"
	"mediashare/internal/reactor"
	"mediashare/internal/sqlitedb"
)

type reactorFixture struct {
	store *eventsqlite.Store
	view  *viewsqlite.View
	blobs *fileblob.Store
	made  atomic.Int32
	logs  *bytes.Buffer
	r     *reactor.Reactor
}

func newReactor(t *testing.T, fail error) *reactorFixture {
	f := &reactorFixture{logs: &bytes.Buffer{}}
	db, err := sqlitedb.Open(filepath.Join(t.TempDir(), "m.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if f.store, err = eventsqlite.New(context.Background(), db); err != nil {
		t.Fatal(err)
	}
	f.store.RetryDelay = 5 * time.Millisecond
	if f.view, err = viewsqlite.New(context.Background(), db); err != nil {
		t.Fatal(err)
	}
	if f.blobs, err = fileblob.New(t.TempDir()); err != nil {
		t.Fatal(err)
	}
	f.r = &reactor.Reactor{
		Feed: f.store, Events: f.store, Blobs: f.blobs, Checkpoints: f.view,
		Log: slog.New(slog.NewTextHandler(f.logs, nil)),
		Thumbnail: func(ctx context.Context, r io.ReadSeeker) (reactor.Thumbnail, error) {
			f.made.Add(1)
			if fail != nil {
				return reactor.Thumbnail{}, fail
			}
			b, _ := io.ReadAll(r)
			return reactor.Thumbnail{PNG: append([]byte("thumb of "), b...), Width: 32, Height: 24, Placeholder: "#123456"}, nil
		},
	}
	return f
}

// upload stores an original and appends its MediaUploaded.
func (f *reactorFixture) upload(t *testing.T, eib string) events.Event {
	t.Helper()
	if _, err := f.blobs.Put(context.Background(), eib+".jpg", strings.NewReader("original"), "image/jpeg"); err != nil {
		t.Fatal(err)
	}
	e := eventstest.MustEvent(t, events.MediaUploaded, eib, events.Uploaded{Title: "t", Comment: "c", MediaType: "image", Original: eib + ".jpg", Owner: "o", Width: 1920, Height: 1280})
	out, err := f.store.Append(context.Background(), eib, 0, e)
	if err != nil {
		t.Fatal(err)
	}
	return out[0]
}

func types(t *testing.T, s events.Store, eib string) string {
	t.Helper()
	evs, err := s.Load(context.Background(), eib)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range evs {
		out = append(out, string(e.Type))
	}
	return strings.Join(out, ",")
}

func exists(t *testing.T, b blob.Store, key string) bool {
	_, err := b.Stat(context.Background(), key)
	if err != nil && !errors.Is(err, blob.ErrNotFound) {
		t.Fatal(err)
	}
	return err == nil
}

func TestReactorThumbnailOnceEvenWhenRedelivered(t *testing.T) {
	f := newReactor(t, nil)
	eib := "01JDREACT00000000000000001"
	up := f.upload(t, eib)
	for i := 0; i < 3; i++ { // the feed may deliver again after a crash
		if err := f.r.Handle(context.Background(), up); err != nil {
			t.Fatalf("Handle #%d: %v", i+1, err)
		}
	}
	if got, want := types(t, f.store, eib), "MediaUploaded,ThumbnailGenerated"; got != want {
		t.Errorf("stream: got %s, want %s", got, want)
	}
	if n := f.made.Load(); n != 1 {
		t.Errorf("thumbnail made %d times, want 1", n)
	}
	if !exists(t, f.blobs, projections.ThumbnailKey(eib+".jpg")) {
		t.Error("thumbnail blob missing")
	}
}

func TestReactorRecordsFailure(t *testing.T) {
	f := newReactor(t, errors.New("invalid JPEG format: bad Huffman code"))
	eib := "01JDREACT00000000000000002"
	up := f.upload(t, eib)
	if err := f.r.Handle(context.Background(), up); err != nil {
		t.Fatal(err)
	}
	if got, want := types(t, f.store, eib), "MediaUploaded,ThumbnailFailed"; got != want {
		t.Errorf("stream: got %s, want %s", got, want)
	}
	evs, _ := f.store.Load(context.Background(), eib)
	var p events.ThumbnailFailure
	evs[1].Decode(&p)
	// The event says why safely; the raw error goes to the log only.
	if want := (events.ThumbnailFailure{Reason: "decode_failed", Message: "The image could not be decoded."}); p != want {
		t.Errorf("payload: got %+v, want %+v", p, want)
	}
	if strings.Contains(string(evs[1].Data), "Huffman") {
		t.Errorf("the raw error was recorded in the event: %s", evs[1].Data)
	}
	if !strings.Contains(f.logs.String(), "Huffman") {
		t.Errorf("the raw error was not logged; log: %s", f.logs)
	}
}

func TestReactorPurgesOnDelete(t *testing.T) {
	f := newReactor(t, nil)
	eib := "01JDREACT00000000000000003"
	up := f.upload(t, eib)
	if err := f.r.Handle(context.Background(), up); err != nil {
		t.Fatal(err)
	}
	del, err := f.store.Append(context.Background(), eib, 2, eventstest.MustEvent(t, events.MediaDeleted, eib, events.Deleted{Reason: "owner"}))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if err := f.r.Handle(context.Background(), del[0]); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := types(t, f.store, eib), "MediaUploaded,ThumbnailGenerated,MediaDeleted,MediaPurged"; got != want {
		t.Errorf("stream: got %s, want %s", got, want)
	}
	for _, k := range []string{eib + ".jpg", projections.ThumbnailKey(eib + ".jpg")} {
		if exists(t, f.blobs, k) {
			t.Errorf("%s still stored after the purge", k)
		}
	}
}

func TestReactorSkipsDeletedAndCleansUpLateThumbnail(t *testing.T) {
	f := newReactor(t, nil)
	eib := "01JDREACT00000000000000004"
	up := f.upload(t, eib)
	// Deleted (and purged) before the thumbnail reaction ran.
	if _, err := f.store.Append(context.Background(), eib, 1, eventstest.MustEvent(t, events.MediaDeleted, eib, events.Deleted{Reason: "owner"})); err != nil {
		t.Fatal(err)
	}
	if err := f.r.Handle(context.Background(), up); err != nil {
		t.Fatal(err)
	}
	if n := f.made.Load(); n != 0 {
		t.Errorf("made %d thumbnails for a deleted entry", n)
	}
	if exists(t, f.blobs, projections.ThumbnailKey(eib+".jpg")) {
		t.Error("a thumbnail was stored for a deleted entry")
	}
}

func TestReactorRemovesThumbnailWhenDeletedMeanwhile(t *testing.T) {
	f := newReactor(t, nil)
	eib := "01JDREACT00000000000000005"
	up := f.upload(t, eib)
	inner := f.r.Thumbnail
	f.r.Thumbnail = func(ctx context.Context, r io.ReadSeeker) (reactor.Thumbnail, error) {
		// The owner deletes the entry while its thumbnail is being made.
		if _, err := f.store.Append(ctx, eib, 1, eventstest.MustEvent(t, events.MediaDeleted, eib, events.Deleted{Reason: "owner"})); err != nil {
			t.Error(err)
		}
		return inner(ctx, r)
	}
	if err := f.r.Handle(context.Background(), up); err != nil {
		t.Fatal(err)
	}
	if got, want := types(t, f.store, eib), "MediaUploaded,MediaDeleted"; got != want {
		t.Errorf("stream: got %s, want %s", got, want)
	}
	if exists(t, f.blobs, projections.ThumbnailKey(eib+".jpg")) {
		t.Error("the thumbnail of an entry deleted meanwhile was left behind")
	}
}

// flaky is an event store that answers Append with a conflict (without
// storing) while conflicts > 0, and fails Load while failLoads > 0.
type flaky struct {
	events.Store
	conflicts, failLoads atomic.Int32
	appends              atomic.Int32
	onAppend             func() // run before each append, once
}

func (s *flaky) Append(ctx context.Context, stream string, expected int, evs ...events.Event) ([]events.Event, error) {
	s.appends.Add(1)
	if f := s.onAppend; f != nil {
		s.onAppend = nil
		f()
	}
	if s.conflicts.Add(-1) >= 0 {
		return nil, &events.ConflictError{Stream: stream, Expected: expected, Actual: expected + 1}
	}
	return s.Store.Append(ctx, stream, expected, evs...)
}

func (s *flaky) Load(ctx context.Context, stream string) ([]events.Event, error) {
	if s.failLoads.Add(-1) >= 0 {
		return nil, errors.New("the store is unreachable")
	}
	return s.Store.Load(ctx, stream)
}

func TestReactorRetriesAConflictWhileTheWorkIsWanted(t *testing.T) {
	f := newReactor(t, nil)
	fs := &flaky{Store: f.store}
	fs.conflicts.Store(2)
	f.r.Events = fs
	eib := "01JDREACT00000000000000008"
	up := f.upload(t, eib)
	if err := f.r.Handle(context.Background(), up); err != nil {
		t.Fatal(err)
	}
	if got, want := types(t, f.store, eib), "MediaUploaded,ThumbnailGenerated"; got != want {
		t.Errorf("stream: got %s, want %s", got, want)
	}
	if n := f.made.Load(); n != 1 {
		t.Errorf("thumbnail made %d times for one reaction, want 1", n)
	}
}

func TestReactorGivesUpAfterBoundedConflicts(t *testing.T) {
	for _, tc := range []struct {
		name string
		ev   func(f *reactorFixture, eib string) events.Event
	}{
		{"thumbnail", func(f *reactorFixture, eib string) events.Event { return f.upload(t, eib) }},
		{"purge", func(f *reactorFixture, eib string) events.Event {
			f.upload(t, eib)
			out, err := f.store.Append(context.Background(), eib, 1, eventstest.MustEvent(t, events.MediaDeleted, eib, events.Deleted{Reason: "owner"}))
			if err != nil {
				t.Fatal(err)
			}
			return out[0]
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newReactor(t, nil)
			fs := &flaky{Store: f.store}
			fs.conflicts.Store(1000) // the stream never settles
			f.r.Events, f.r.Attempts = fs, 3
			eib := "01JDREACT0000000000000000" + map[string]string{"thumbnail": "9", "purge": "A"}[tc.name]
			e := tc.ev(f, eib)
			done := make(chan error, 1)
			go func() { done <- f.r.Handle(context.Background(), e) }()
			select {
			case err := <-done:
				if err == nil {
					t.Fatal("Handle succeeded although every append conflicted")
				}
			case <-time.After(30 * time.Second):
				t.Fatal("Handle did not give up")
			}
			if n := fs.appends.Load(); n != 3 {
				t.Errorf("appends tried: got %d, want 3", n)
			}
			if tc.name == "thumbnail" {
				for _, k := range []string{entry.ThumbnailKey(eib + ".jpg"), entry.PreviewKey(eib+".jpg", ".jpg")} {
					if exists(t, f.blobs, k) {
						t.Errorf("%s left behind although no event names it", k)
					}
				}
			}
		})
	}
}

func TestReactorRemovesRenditionsWhenTheReloadFails(t *testing.T) {
	f := newReactor(t, nil)
	fs := &flaky{Store: f.store}
	f.r.Events = fs
	eib := "01JDREACT0000000000000000B"
	up := f.upload(t, eib)
	fs.conflicts.Store(1)
	// The first load (before the work) answers; every one after it fails.
	fs.onAppend = func() { fs.failLoads.Store(1000) }
	if err := f.r.Handle(context.Background(), up); err == nil {
		t.Fatal("Handle succeeded although the stream could not be read again")
	}
	for _, k := range []string{entry.ThumbnailKey(eib + ".jpg"), entry.PreviewKey(eib+".jpg", ".jpg")} {
		if exists(t, f.blobs, k) {
			t.Errorf("%s left behind although no event names it", k)
		}
	}
	// Delivered again once the store answers: the work is done then.
	fs.failLoads.Store(0)
	if err := f.r.Handle(context.Background(), up); err != nil {
		t.Fatal(err)
	}
	if got, want := types(t, f.store, eib), "MediaUploaded,ThumbnailGenerated"; got != want {
		t.Errorf("stream: got %s, want %s", got, want)
	}
	if k := entry.ThumbnailKey(eib + ".jpg"); !exists(t, f.blobs, k) {
		t.Errorf("%s missing after the redelivery", k)
	}
}

func TestReactorKeepsRenditionsAnotherWorkerRecorded(t *testing.T) {
	f := newReactor(t, nil)
	fs := &flaky{Store: f.store}
	f.r.Events = fs
	eib := "01JDREACT0000000000000000C"
	up := f.upload(t, eib)
	// Another instance (a lease handed over mid-work) records the same
	// keys first; this one's append then conflicts.
	fs.onAppend = func() {
		other := &reactor.Reactor{Events: f.store, Blobs: f.blobs, Thumbnail: f.r.Thumbnail}
		if err := other.Handle(context.Background(), up); err != nil {
			t.Error(err)
		}
	}
	if err := f.r.Handle(context.Background(), up); err != nil {
		t.Fatal(err)
	}
	if got, want := types(t, f.store, eib), "MediaUploaded,ThumbnailGenerated"; got != want {
		t.Errorf("stream: got %s, want %s", got, want)
	}
	if k := entry.ThumbnailKey(eib + ".jpg"); !exists(t, f.blobs, k) {
		t.Errorf("%s removed although the recorded event names it", k)
	}
}

func TestReactorPurgesARenditionRecordedAfterTheDelete(t *testing.T) {
	f := newReactor(t, nil)
	eib := "01JDREACT0000000000000000D"
	f.upload(t, eib)
	del, err := f.store.Append(context.Background(), eib, 1, eventstest.MustEvent(t, events.MediaDeleted, eib, events.Deleted{Reason: "owner"}))
	if err != nil {
		t.Fatal(err)
	}
	late := eib + ".jpg-preview.jpg"
	if _, err := f.blobs.Put(context.Background(), late, strings.NewReader("late"), "image/jpeg"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.Append(context.Background(), eib, 2, eventstest.MustEvent(t, events.ThumbnailGenerated, eib, events.ThumbnailsGenerated{
		Thumbnails: []events.Thumb{{Key: eib + ".jpg-tn.png"}, {Key: late}}})); err != nil {
		t.Fatal(err)
	}
	if err := f.r.Handle(context.Background(), del[0]); err != nil {
		t.Fatal(err)
	}
	if exists(t, f.blobs, late) {
		t.Error("a rendition recorded after the delete outlived the purge")
	}
	if got, want := types(t, f.store, eib), "MediaUploaded,MediaDeleted,ThumbnailGenerated,MediaPurged"; got != want {
		t.Errorf("stream: got %s, want %s", got, want)
	}
}
