package projections_test

import (
	"context"
	"testing"
	"time"

	"mediashare/internal/events"
	"mediashare/internal/events/eventstest"
	"mediashare/internal/projections"
)

// The view gains the preview from PreviewGenerated, after the grid
// thumbnail; an old log whose ThumbnailGenerated carried both renditions
// gives the same row.
func TestApplyPreviewGenerated(t *testing.T) {
	const eib = "01JDAPPLY0000000000000000P"
	at := func(v int, e events.Event) events.Event { e.Version = v; e.Time = time.Unix(0, 0).UTC(); return e }
	up := at(1, eventstest.MustEvent(t, events.MediaUploaded, eib, events.Uploaded{Title: "t", Comment: "c", MediaType: "image", Original: eib + ".jpg", Owner: "o", Width: 1920, Height: 1280}))
	grid := events.Thumb{Key: eib + ".jpg-tn.png", Width: 320, Height: 213}
	pv := events.Thumb{Key: eib + ".jpg-preview.jpg", Width: 1280, Height: 853}
	thumb := at(2, eventstest.MustEvent(t, events.ThumbnailGenerated, eib, events.ThumbnailsGenerated{Placeholder: "#010203", Thumbnails: []events.Thumb{grid}}))
	both := at(2, eventstest.MustEvent(t, events.ThumbnailGenerated, eib, events.ThumbnailsGenerated{Placeholder: "#010203", Thumbnails: []events.Thumb{grid, pv}}))
	preview := at(3, eventstest.MustEvent(t, events.PreviewGenerated, eib, events.PreviewMade{Preview: pv, Millis: 50}))
	trashed := at(3, eventstest.MustEvent(t, events.MediaTrashed, eib, events.Trashed{Reason: "owner", PurgeAfter: time.Unix(3600, 0).UTC()}))
	restored := at(4, eventstest.MustEvent(t, events.MediaRestored, eib, events.Restored{Reason: "owner"}))
	previewLate := at(5, preview)
	del := at(4, eventstest.MustEvent(t, events.MediaDeleted, eib, events.Deleted{Reason: "owner"}))

	fold := func(t *testing.T, evs ...events.Event) projections.Entry {
		t.Helper()
		var row projections.Entry
		for _, e := range evs {
			var err error
			if row, _, err = projections.Apply(context.Background(), nil, row, e); err != nil {
				t.Fatal(err)
			}
		}
		return row
	}
	gridOnly := fold(t, up, thumb)
	if gridOnly.Status != projections.Ready || gridOnly.Thumbnail != grid.Key || gridOnly.Preview != "" {
		t.Errorf("the grid thumbnail alone: %+v", gridOnly)
	}
	split := fold(t, up, thumb, preview)
	if split.Preview != pv.Key || split.PreviewWidth != 1280 || split.PreviewHeight != 853 || split.Thumbnail != grid.Key || split.ThumbWidth != 320 || split.Version != 3 {
		t.Errorf("after PreviewGenerated: %+v", split)
	}
	old := fold(t, up, both)
	old.Version, old.UpdatedAt = split.Version, split.UpdatedAt
	if old != split {
		t.Errorf("the old log's row differs:\nold   %+v\nsplit %+v", old, split)
	}
	if again, changed, err := projections.Apply(context.Background(), nil, split, preview); err != nil || changed || again != split {
		t.Errorf("a redelivered PreviewGenerated changed the row: %v %v", changed, err)
	}
	if r := fold(t, up, thumb, trashed, restored, previewLate); r.Preview != pv.Key || !r.Visible() {
		t.Errorf("trashed, restored, then the preview: %+v", r)
	}
	if r := fold(t, up, thumb, preview, at(4, trashed)); r.Preview != pv.Key || !r.InTrash() {
		t.Errorf("in the trash the row keeps its preview: %+v", r)
	}
	if r := fold(t, up, thumb, del, previewLate); r.Status != projections.Deleted || r.Version != 5 {
		t.Errorf("a preview after the delete moves the tombstone's version only: %+v", r)
	}
}
