package entry_test

import (
	"slices"
	"testing"

	"mediashare/internal/entry"
	"mediashare/internal/events"
)

func previewMade(t *testing.T, v int, key string) events.Event {
	return ev(t, v, events.PreviewGenerated, events.SystemActor, events.PreviewMade{
		Preview: events.Thumb{Key: key, Width: 1280, Height: 960, ContentType: "image/jpeg", Size: 999}, Millis: 34})
}

func smallUpload(t *testing.T, v int) events.Event {
	return ev(t, v, events.MediaUploaded, events.OwnerActor("alice"), events.Uploaded{
		Title: "Icon", MediaType: "image", ContentType: "image/png", Size: 99, Width: 320, Height: 200, Original: eib + ".jpg", Owner: "alice"})
}

// The preview is made after the grid thumbnail and recorded by an event
// of its own; every decision accounts for its key whichever event named it.
func TestFoldPreview(t *testing.T) {
	orig, tn, pv := eib+".jpg", eib+".jpg-tn.png", eib+".jpg-preview.jpg"
	pvPNG := eib + ".jpg-preview.png"
	tests := []struct {
		name         string
		evs          []events.Event
		status       entry.Status
		needsPreview bool
		preview      string // the preview's key, "" for none
		purgeKeys    []string
	}{
		{name: "processing: no preview yet, none needed before the thumbnail", evs: []events.Event{upload(t, 1)},
			status: entry.Processing, purgeKeys: []string{orig, tn}},
		{name: "grid thumbnail only: the preview is due", evs: []events.Event{upload(t, 1), thumb(t, 2, false)},
			status: entry.Ready, needsPreview: true, purgeKeys: []string{orig, tn, pv, pvPNG}},
		{name: "then PreviewGenerated: done", evs: []events.Event{upload(t, 1), thumb(t, 2, false), previewMade(t, 3, pv)},
			status: entry.Ready, preview: pv, purgeKeys: []string{orig, tn, pv}},
		{name: "an old log with both renditions in ThumbnailGenerated: done as before", evs: []events.Event{upload(t, 1), thumb(t, 2, true)},
			status: entry.Ready, preview: pv, purgeKeys: []string{orig, tn, pv}},
		{name: "a PNG preview (transparency)", evs: []events.Event{upload(t, 1), thumb(t, 2, false), previewMade(t, 3, pvPNG)},
			status: entry.Ready, preview: pvPNG, purgeKeys: []string{orig, tn, pvPNG}},
		{name: "a redelivered PreviewGenerated changes nothing", evs: []events.Event{upload(t, 1), thumb(t, 2, false), previewMade(t, 3, pv), previewMade(t, 3, pvPNG)},
			status: entry.Ready, preview: pv, purgeKeys: []string{orig, tn, pv}},
		{name: "a second PreviewGenerated of the same key is one rendition", evs: []events.Event{upload(t, 1), thumb(t, 2, false), previewMade(t, 3, pv), previewMade(t, 4, pv)},
			status: entry.Ready, preview: pv, purgeKeys: []string{orig, tn, pv}},
		{name: "an original no larger than the grid thumbnail gets none", evs: []events.Event{smallUpload(t, 1), thumb(t, 2, false)},
			status: entry.Ready, purgeKeys: []string{orig, tn}},
		{name: "failed: no preview", evs: []events.Event{upload(t, 1), failed(t, 2)},
			status: entry.Failed, purgeKeys: []string{orig, tn}},
		{name: "in the trash: not now", evs: []events.Event{upload(t, 1), thumb(t, 2, false), trashed(t, 3)},
			status: entry.Trashed, purgeKeys: []string{orig, tn, pv, pvPNG}},
		{name: "restored: due again", evs: []events.Event{upload(t, 1), thumb(t, 2, false), trashed(t, 3), restored(t, 4)},
			status: entry.Ready, needsPreview: true, purgeKeys: []string{orig, tn, pv, pvPNG}},
		{name: "trashed with its preview, restored: kept", evs: []events.Event{upload(t, 1), thumb(t, 2, false), previewMade(t, 3, pv), trashed(t, 4), restored(t, 5)},
			status: entry.Ready, preview: pv, purgeKeys: []string{orig, tn, pv}},
		{name: "claimed: the preview stays due", evs: []events.Event{ev(t, 1, events.MediaUploaded, events.OwnerActor("anon"), events.Uploaded{
			MediaType: "image", ContentType: "image/jpeg", Width: 640, Height: 480, Original: orig, Owner: "anon"}), thumb(t, 2, false), claimed(t, 3, account, "anon")},
			status: entry.Ready, needsPreview: true, purgeKeys: []string{orig, tn, pv, pvPNG}},
		{name: "claimed with its preview: kept", evs: []events.Event{ev(t, 1, events.MediaUploaded, events.OwnerActor("anon"), events.Uploaded{
			MediaType: "image", ContentType: "image/jpeg", Width: 640, Height: 480, Original: orig, Owner: "anon"}), thumb(t, 2, false), previewMade(t, 3, pv), claimed(t, 4, account, "anon")},
			status: entry.Ready, preview: pv, purgeKeys: []string{orig, tn, pv}},
		{name: "deleted before its preview: none, and the purge takes where it may be", evs: []events.Event{upload(t, 1), thumb(t, 2, false), deleted(t, 3, "owner")},
			status: entry.Deleted, purgeKeys: []string{orig, tn, pv, pvPNG}},
		{name: "a preview recorded after the delete is purged too", evs: []events.Event{upload(t, 1), thumb(t, 2, false), deleted(t, 3, "owner"), previewMade(t, 4, pvPNG)},
			status: entry.Deleted, preview: pvPNG, purgeKeys: []string{orig, tn, pvPNG}},
		{name: "erased: nothing more to make, everything to remove", evs: []events.Event{upload(t, 1), thumb(t, 2, false), previewMade(t, 3, pv), erased(t, 4, "owner", "")},
			status: entry.Erased, preview: pv, purgeKeys: []string{orig, tn, pv}},
		{name: "erased before its preview", evs: []events.Event{upload(t, 1), thumb(t, 2, false), erased(t, 3, "owner", "")},
			status: entry.Erased, purgeKeys: []string{orig, tn, pv, pvPNG}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := mustFold(t, tt.evs...)
			if e.Status != tt.status {
				t.Errorf("status: got %q, want %q", e.Status, tt.status)
			}
			if got := e.NeedsPreview(); got != tt.needsPreview {
				t.Errorf("NeedsPreview: got %v, want %v", got, tt.needsPreview)
			}
			p, ok := e.Preview()
			if ok != (tt.preview != "") || p.Key != tt.preview {
				t.Errorf("Preview: got %q %v, want %q", p.Key, ok, tt.preview)
			}
			if th, ok := e.Thumbnail(); len(e.Renditions) > 0 && (!ok || th.Key != tn) {
				t.Errorf("Thumbnail: got %q %v, want %q first", th.Key, ok, tn)
			}
			if got := e.PurgeKeys(); !slices.Equal(got, tt.purgeKeys) {
				t.Errorf("PurgeKeys: got %v, want %v", got, tt.purgeKeys)
			}
			if got := e.EraseKeys(); !slices.Equal(got, tt.purgeKeys) {
				t.Errorf("EraseKeys: got %v, want %v", got, tt.purgeKeys)
			}
		})
	}
}

// The old log and the new one leave the same state: ThumbnailGenerated
// with both renditions, or the grid thumbnail then PreviewGenerated.
func TestOldAndNewLogsFoldAlike(t *testing.T) {
	pv := eib + ".jpg-preview.jpg"
	old := mustFold(t, upload(t, 1), thumb(t, 2, true))
	split := mustFold(t, upload(t, 1), thumb(t, 2, false), previewMade(t, 3, pv))
	if !slices.Equal(old.Renditions, split.Renditions) || old.Placeholder != split.Placeholder || old.Status != split.Status {
		t.Errorf("old %+v\nsplit %+v", old, split)
	}
	if !slices.Equal(old.PurgeKeys(), split.PurgeKeys()) {
		t.Errorf("purge keys: old %v, split %v", old.PurgeKeys(), split.PurgeKeys())
	}
}

// Renditions just written are unwanted unless the entry, as it is now,
// names them: a preview stored while the entry left the gallery goes.
func TestUnwantedPreview(t *testing.T) {
	pv := eib + ".jpg-preview.jpg"
	written := []string{pv}
	for _, tt := range []struct {
		name string
		e    entry.Entry
		want []string
	}{
		{"recorded", mustFold(t, upload(t, 1), thumb(t, 2, false), previewMade(t, 3, pv)), nil},
		{"not recorded", mustFold(t, upload(t, 1), thumb(t, 2, false)), written},
		{"trashed meanwhile", mustFold(t, upload(t, 1), thumb(t, 2, false), trashed(t, 3)), written},
		{"deleted meanwhile", mustFold(t, upload(t, 1), thumb(t, 2, false), deleted(t, 3, "owner")), written},
		{"erased meanwhile", mustFold(t, upload(t, 1), thumb(t, 2, false), erased(t, 3, "owner", "")), written},
		{"trashed with it: kept for the restore", mustFold(t, upload(t, 1), thumb(t, 2, false), previewMade(t, 3, pv), trashed(t, 4)), nil},
	} {
		if got := tt.e.Unwanted(written); !slices.Equal(got, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestReadPreviewRejectsAnEmptyOne(t *testing.T) {
	bad := ev(t, 3, events.PreviewGenerated, events.SystemActor, events.PreviewMade{})
	if _, err := entry.Fold([]events.Event{upload(t, 1), thumb(t, 2, false), bad}); err == nil {
		t.Error("a PreviewGenerated naming no preview folded without error")
	}
	junk := ev(t, 3, events.PreviewGenerated, events.SystemActor, struct{}{})
	junk.Data = []byte(`{"preview": "x"}`)
	if _, err := entry.Fold([]events.Event{upload(t, 1), thumb(t, 2, false), junk}); err == nil {
		t.Error("an unreadable PreviewGenerated folded without error")
	}
}
