package projections_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"sync/atomic"
	"testing"

	"mediashare/internal/blob"
	"mediashare/internal/blob/fileblob"
	"mediashare/internal/events"
	"mediashare/internal/events/eventstest"
	"mediashare/internal/projections"
)

type reactorFixture struct {
	fixture
	blobs *fileblob.Store
	made  atomic.Int32
	r     *projections.Reactor
}

func newReactor(t *testing.T, fail error) *reactorFixture {
	f := &reactorFixture{fixture: newFixture(t)}
	var err error
	if f.blobs, err = fileblob.New(t.TempDir()); err != nil {
		t.Fatal(err)
	}
	f.r = &projections.Reactor{
		Feed: f.store, Events: f.store, Blobs: f.blobs, Checkpoints: f.view,
		Thumbnail: func(ctx context.Context, r io.ReadSeeker) (projections.Thumbnail, error) {
			f.made.Add(1)
			if fail != nil {
				return projections.Thumbnail{}, fail
			}
			b, _ := io.ReadAll(r)
			return projections.Thumbnail{PNG: append([]byte("thumb of "), b...), Width: 32, Height: 24, Placeholder: "#123456"}, nil
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
	e := eventstest.MustEvent(t, events.MediaUploaded, eib, events.Uploaded{Title: "t", Comment: "c", MediaType: "image", Original: eib + ".jpg", Owner: "o"})
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
	if !strings.Contains(p.Reason, "Huffman") {
		t.Errorf("reason %q does not say why", p.Reason)
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
	f.r.Thumbnail = func(ctx context.Context, r io.ReadSeeker) (projections.Thumbnail, error) {
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

// withPreview makes the fixture's thumbnail maker also return a preview.
func withPreview(f *reactorFixture) {
	inner := f.r.Thumbnail
	f.r.Thumbnail = func(ctx context.Context, r io.ReadSeeker) (projections.Thumbnail, error) {
		t, err := inner(ctx, r)
		t.Preview = &projections.Rendition{Data: []byte("preview"), ContentType: "image/jpeg", Ext: ".jpg", Width: 1280, Height: 720}
		return t, err
	}
}

func TestReactorStoresPreviewSecondAndPurgesIt(t *testing.T) {
	f := newReactor(t, nil)
	withPreview(f)
	eib := "01JDREACT00000000000000006"
	up := f.upload(t, eib)
	if err := f.r.Handle(context.Background(), up); err != nil {
		t.Fatal(err)
	}
	evs, err := f.store.Load(context.Background(), eib)
	if err != nil {
		t.Fatal(err)
	}
	var p events.ThumbnailsGenerated
	if err := evs[1].Decode(&p); err != nil {
		t.Fatal(err)
	}
	want := []events.Thumb{
		{Key: eib + ".jpg-tn.png", Width: 32, Height: 24, ContentType: "image/png", Size: int64(len("thumb of original"))},
		{Key: eib + ".jpg-preview.jpg", Width: 1280, Height: 720, ContentType: "image/jpeg", Size: int64(len("preview"))},
	}
	if len(p.Thumbnails) != len(want) {
		t.Fatalf("got thumbnails %+v, want %+v", p.Thumbnails, want)
	}
	for i := range want {
		if p.Thumbnails[i] != want[i] {
			t.Errorf("thumbnail %d: got %+v, want %+v", i, p.Thumbnails[i], want[i])
		}
		if !exists(t, f.blobs, want[i].Key) {
			t.Errorf("%s not stored", want[i].Key)
		}
	}
	if got := projections.PreviewKey(eib+".jpg", ".jpg"); got != want[1].Key {
		t.Errorf("PreviewKey: got %q, want %q", got, want[1].Key)
	}

	del, err := f.store.Append(context.Background(), eib, 2, eventstest.MustEvent(t, events.MediaDeleted, eib, events.Deleted{Reason: "owner"}))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.r.Handle(context.Background(), del[0]); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{eib + ".jpg", want[0].Key, want[1].Key} {
		if exists(t, f.blobs, k) {
			t.Errorf("%s still stored after the purge", k)
		}
	}
}

func TestReactorRemovesPreviewWhenDeletedMeanwhile(t *testing.T) {
	f := newReactor(t, nil)
	withPreview(f)
	eib := "01JDREACT00000000000000007"
	up := f.upload(t, eib)
	inner := f.r.Thumbnail
	f.r.Thumbnail = func(ctx context.Context, r io.ReadSeeker) (projections.Thumbnail, error) {
		if _, err := f.store.Append(ctx, eib, 1, eventstest.MustEvent(t, events.MediaDeleted, eib, events.Deleted{Reason: "owner"})); err != nil {
			t.Error(err)
		}
		return inner(ctx, r)
	}
	if err := f.r.Handle(context.Background(), up); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{projections.ThumbnailKey(eib + ".jpg"), projections.PreviewKey(eib+".jpg", ".jpg")} {
		if exists(t, f.blobs, k) {
			t.Errorf("%s left behind for an entry deleted meanwhile", k)
		}
	}
}
