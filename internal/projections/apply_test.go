package projections_test

import (
	"context"
	"testing"

	"mediashare/internal/events"
	"mediashare/internal/events/eventstest"
	"mediashare/internal/projections"
)

func TestApply(t *testing.T) {
	const eib = "01JDAPPLY00000000000000001"
	at := func(v int, e events.Event) events.Event { e.Version = v; return e }
	up := at(1, eventstest.MustEvent(t, events.MediaUploaded, eib, events.Uploaded{Title: "t", Comment: "c", MediaType: "image", Original: eib + ".jpg", Owner: "o", Width: 4, Height: 3}))
	thumb := at(2, eventstest.MustEvent(t, events.ThumbnailGenerated, eib, events.ThumbnailsGenerated{Placeholder: "#010203",
		Thumbnails: []events.Thumb{{Key: eib + ".jpg-tn.png", Width: 320, Height: 240}, {Key: eib + ".jpg-preview.jpg", Width: 1280, Height: 960}}}))
	failed := at(2, eventstest.MustEvent(t, events.ThumbnailFailed, eib, events.ThumbnailFailure{Reason: "bad"}))
	del := at(3, eventstest.MustEvent(t, events.MediaDeleted, eib, events.Deleted{Reason: "owner"}))
	late := at(4, eventstest.MustEvent(t, events.ThumbnailGenerated, eib, events.ThumbnailsGenerated{Placeholder: "#ffffff"}))

	tests := []struct {
		name        string
		evs         []events.Event
		wantStatus  projections.Status
		wantVersion int
		check       func(t *testing.T, e projections.Entry)
	}{
		{"upload", []events.Event{up}, projections.Processing, 1, func(t *testing.T, e projections.Entry) {
			if e.Thumbnail != eib+".jpg-tn.png" || e.Resource != eib+".jpg" || e.Type != "image" || e.EID != up.ID {
				t.Errorf("original attributes: %+v", e)
			}
		}},
		{"thumbnail with preview", []events.Event{up, thumb}, projections.Ready, 2, func(t *testing.T, e projections.Entry) {
			if e.ThumbWidth != 320 || e.Preview != eib+".jpg-preview.jpg" || e.PreviewWidth != 1280 || e.Placeholder != "#010203" {
				t.Errorf("renditions: %+v", e)
			}
		}},
		{"failure", []events.Event{up, failed}, projections.Failed, 2, func(t *testing.T, e projections.Entry) {
			if e.FailReason != "bad" {
				t.Errorf("reason %q", e.FailReason)
			}
		}},
		{"duplicate upload changes nothing", []events.Event{up, thumb, up}, projections.Ready, 2, nil},
		{"deleted is a tombstone", []events.Event{up, thumb, del}, projections.Deleted, 3, nil},
		{"a tombstone ignores later events but records their version", []events.Event{up, thumb, del, late}, projections.Deleted, 4, func(t *testing.T, e projections.Entry) {
			if e.Placeholder != "#010203" {
				t.Errorf("a late event changed a tombstone: %+v", e)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var e projections.Entry
			for _, ev := range tt.evs {
				var err error
				if e, _, err = projections.Apply(context.Background(), nil, e, ev); err != nil {
					t.Fatal(err)
				}
			}
			if e.Status != tt.wantStatus || e.Version != tt.wantVersion || e.Visible() != (tt.wantStatus != projections.Deleted) {
				t.Errorf("got status %s v%d, want %s v%d", e.Status, e.Version, tt.wantStatus, tt.wantVersion)
			}
			if tt.check != nil {
				tt.check(t, e)
			}
		})
	}
	if _, changed, _ := projections.Apply(context.Background(), nil, projections.Entry{Version: 2}, up); changed {
		t.Error("an event at or below the row's version reported a change")
	}
	bad := at(1, events.Event{Type: "Nonsense", Stream: eib, Data: []byte("{}")})
	if _, _, err := projections.Apply(context.Background(), nil, projections.Entry{}, bad); err == nil {
		t.Error("an unknown event type applied without error")
	}
}

// An event of a stream that was never uploaded (a delete of nothing, a
// claim of nothing) makes no row: the projector neither stores an empty
// row nor fails on it, so the feed moves on.
func TestApplyWithoutAnUpload(t *testing.T) {
	const eib = "01JDAPPLY00000000000000002"
	for _, e := range []events.Event{
		eventstest.MustEvent(t, events.MediaDeleted, eib, events.Deleted{Reason: "owner"}),
		eventstest.MustEvent(t, events.EntryClaimed, eib, events.Claimed{Account: "user-x", From: "o"}),
		eventstest.MustEvent(t, events.ThumbnailGenerated, eib, events.ThumbnailsGenerated{Placeholder: "#ffffff"}),
	} {
		e.Version = 1
		got, changed, err := projections.Apply(context.Background(), nil, projections.Entry{}, e)
		if err != nil || changed || got != (projections.Entry{}) {
			t.Errorf("%s first: %+v changed=%v err=%v, want nothing", e.Type, got, changed, err)
		}
	}
}
