package projections_test

import (
	"context"
	"testing"
	"time"

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
	// Where the projection once kept rules of its own, the aggregate's hold.
	thumbAfterFail := at(3, thumb)
	upAgain := at(3, up)
	trashed := at(3, eventstest.MustEvent(t, events.MediaTrashed, eib, events.Trashed{Reason: "owner", PurgeAfter: up.Time.Add(time.Hour)}))
	trashedAgain := at(4, eventstest.MustEvent(t, events.MediaTrashed, eib, events.Trashed{Reason: "owner", PurgeAfter: up.Time.Add(2 * time.Hour)}))
	restored := at(5, eventstest.MustEvent(t, events.MediaRestored, eib, events.Restored{Reason: "owner"}))
	thumbInTrash := at(3, thumb)
	trashedFirst := at(2, trashed)
	claimOther := at(3, eventstest.MustEvent(t, events.EntryClaimed, eib, events.Claimed{Account: "user-x", From: "someone else"}))
	claim := at(4, eventstest.MustEvent(t, events.EntryClaimed, eib, events.Claimed{Account: "user-x", From: "o"}))

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
		{"a thumbnail after a failure leaves it failed", []events.Event{up, failed, thumbAfterFail}, projections.Failed, 3, func(t *testing.T, e projections.Entry) {
			if e.FailReason != "bad" || e.ThumbWidth != 0 || e.Preview != "" {
				t.Errorf("a failed entry took a thumbnail: %+v", e)
			}
		}},
		{"a second upload of the stream changes nothing but the version", []events.Event{up, thumb, upAgain}, projections.Ready, 3, func(t *testing.T, e projections.Entry) {
			if e.EID != up.ID || e.ThumbWidth != 320 {
				t.Errorf("a second upload remade the row: %+v", e)
			}
		}},
		{"a second trash keeps the first period; a restore puts it back as it was", []events.Event{up, thumb, trashed, trashedAgain, restored}, projections.Ready, 5, func(t *testing.T, e projections.Entry) {
			if !e.TrashUntil.IsZero() || e.ThumbWidth != 320 || e.Preview == "" {
				t.Errorf("after the restore: %+v", e)
			}
		}},
		{"a thumbnail made in the trash is there after the restore", []events.Event{up, trashedFirst, thumbInTrash, at(4, restored)}, projections.Ready, 4, func(t *testing.T, e projections.Entry) {
			if e.ThumbWidth != 320 || e.Placeholder != "#010203" {
				t.Errorf("after the restore: %+v", e)
			}
		}},
		{"a claim moves the owner only from the owner it names", []events.Event{up, thumb, claimOther, claim}, projections.Ready, 4, func(t *testing.T, e projections.Entry) {
			if e.Owner != "user-x" {
				t.Errorf("owner %q, want user-x", e.Owner)
			}
		}},
		{"a claim naming someone else changes no owner", []events.Event{up, thumb, claimOther}, projections.Ready, 3, func(t *testing.T, e projections.Entry) {
			if e.Owner != "o" {
				t.Errorf("owner %q, want o", e.Owner)
			}
		}},
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
