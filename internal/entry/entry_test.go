package entry_test

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"mediashare/internal/apperr"
	"mediashare/internal/entry"
	"mediashare/internal/events"
)

const eib = "01JDENTRY0000000000000001"

var t0 = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)

// ev makes an event as the store holds it: numbered, timed.
func ev(t *testing.T, v int, typ events.Type, actor events.Actor, payload any) events.Event {
	t.Helper()
	e, err := events.New("ev"+string(rune('a'+v)), typ, eib, t0.Add(time.Duration(v)*time.Second), actor, payload)
	if err != nil {
		t.Fatal(err)
	}
	e.Version = v
	return e
}

func upload(t *testing.T, v int) events.Event {
	return ev(t, v, events.MediaUploaded, events.OwnerActor("alice"), events.Uploaded{
		Title: "Harbour", Comment: "at dawn", MediaType: "image", ContentType: "image/jpeg", Size: 1234,
		SHA256: "abc", Width: 640, Height: 480, Original: eib + ".jpg", Owner: "alice", Filename: "harbour.jpg",
	})
}

func thumb(t *testing.T, v int, preview bool) events.Event {
	ts := []events.Thumb{{Key: eib + ".jpg-tn.png", Width: 320, Height: 240, ContentType: "image/png", Size: 99}}
	if preview {
		ts = append(ts, events.Thumb{Key: eib + ".jpg-preview.jpg", Width: 1280, Height: 960, ContentType: "image/jpeg", Size: 999})
	}
	return ev(t, v, events.ThumbnailGenerated, events.SystemActor, events.ThumbnailsGenerated{Thumbnails: ts, Placeholder: "#102030", Millis: 12})
}

func failed(t *testing.T, v int) events.Event {
	return ev(t, v, events.ThumbnailFailed, events.SystemActor, entry.FailureOf(entry.DecodeFailed).Payload())
}

func deleted(t *testing.T, v int, by string) events.Event {
	return ev(t, v, events.MediaDeleted, events.OwnerActor("alice"), events.Deleted{Reason: by})
}

func purged(t *testing.T, v int, keys ...string) events.Event {
	return ev(t, v, events.MediaPurged, events.SystemActor, events.Purged{Keys: keys})
}

func TestFold(t *testing.T) {
	orig, tn, pv := eib+".jpg", eib+".jpg-tn.png", eib+".jpg-preview.jpg"
	pvPNG := eib + ".jpg-preview.png" // where a preview may be before its event
	oldFailure := ev(t, 2, events.ThumbnailFailed, events.SystemActor, events.ThumbnailFailure{Reason: "could not make a preview: invalid JPEG format"})
	tests := []struct {
		name       string
		evs        []events.Event
		status     entry.Status
		version    int
		visible    bool
		needsThumb bool
		needsPurge bool
		purgeKeys  []string
		renditions int
		check      func(t *testing.T, e entry.Entry)
	}{
		{name: "no events", status: entry.None},
		{name: "uploaded", evs: []events.Event{upload(t, 1)}, status: entry.Processing, version: 1, visible: true, needsThumb: true,
			purgeKeys: []string{orig, tn}, check: func(t *testing.T, e entry.Entry) {
				want := entry.Entry{EIB: eib, Version: 1, UploadID: "evb", UploadedAt: t0.Add(time.Second), UpdatedAt: t0.Add(time.Second),
					Status: entry.Processing, Owner: "alice", Title: "Harbour", Comment: "at dawn", Filename: "harbour.jpg", MediaType: "image",
					ContentType: "image/jpeg", Size: 1234, SHA256: "abc", Width: 640, Height: 480, Original: orig}
				if got, _ := json.Marshal(e); string(got) != string(must(json.Marshal(want))) {
					t.Errorf("got %+v, want %+v", e, want)
				}
			}},
		{name: "thumbnail", evs: []events.Event{upload(t, 1), thumb(t, 2, false)}, status: entry.Ready, version: 2, visible: true,
			purgeKeys: []string{orig, tn, pv, pvPNG}, renditions: 1, check: func(t *testing.T, e entry.Entry) {
				if e.Placeholder != "#102030" || e.Renditions[0].Width != 320 {
					t.Errorf("got %+v", e)
				}
			}},
		{name: "thumbnail and preview", evs: []events.Event{upload(t, 1), thumb(t, 2, true)}, status: entry.Ready, version: 2, visible: true,
			purgeKeys: []string{orig, tn, pv}, renditions: 2},
		{name: "failed", evs: []events.Event{upload(t, 1), failed(t, 2)}, status: entry.Failed, version: 2, visible: true,
			purgeKeys: []string{orig, tn}, check: func(t *testing.T, e entry.Entry) {
				if want := (entry.Failure{Code: "decode_failed", Message: "The image could not be decoded."}); e.Failure != want {
					t.Errorf("failure: got %+v, want %+v", e.Failure, want)
				}
			}},
		{name: "failed before codes: the old reason stays readable", evs: []events.Event{upload(t, 1), oldFailure}, status: entry.Failed, version: 2, visible: true,
			purgeKeys: []string{orig, tn}, check: func(t *testing.T, e entry.Entry) {
				if want := (entry.Failure{Code: entry.Unrecorded, Message: "could not make a preview: invalid JPEG format"}); e.Failure != want {
					t.Errorf("failure: got %+v, want %+v", e.Failure, want)
				}
			}},
		{name: "deleted while processing", evs: []events.Event{upload(t, 1), deleted(t, 2, "owner")}, status: entry.Deleted, version: 2,
			needsPurge: true, purgeKeys: []string{orig, tn}, check: func(t *testing.T, e entry.Entry) {
				if e.DeletedBy != "owner" {
					t.Errorf("deleted by %q", e.DeletedBy)
				}
			}},
		{name: "deleted by an admin", evs: []events.Event{upload(t, 1), thumb(t, 2, true), deleted(t, 3, "admin")}, status: entry.Deleted, version: 3,
			needsPurge: true, purgeKeys: []string{orig, tn, pv}, renditions: 2, check: func(t *testing.T, e entry.Entry) {
				if e.DeletedBy != "admin" {
					t.Errorf("deleted by %q", e.DeletedBy)
				}
			}},
		{name: "ready, deleted, purged", evs: []events.Event{upload(t, 1), thumb(t, 2, true), deleted(t, 3, "owner"), purged(t, 4, orig, tn, pv)},
			status: entry.Purged, version: 4, purgeKeys: []string{orig, tn, pv}, renditions: 2, check: func(t *testing.T, e entry.Entry) {
				if !slices.Equal(e.PurgedKeys, []string{orig, tn, pv}) {
					t.Errorf("purged keys %v", e.PurgedKeys)
				}
			}},
		{name: "failed, deleted, purged", evs: []events.Event{upload(t, 1), failed(t, 2), deleted(t, 3, "owner"), purged(t, 4, orig, tn)},
			status: entry.Purged, version: 4, purgeKeys: []string{orig, tn}},
		{name: "deleted before its thumbnail, purged", evs: []events.Event{upload(t, 1), deleted(t, 2, "owner"), purged(t, 3, orig, tn)},
			status: entry.Purged, version: 3, purgeKeys: []string{orig, tn}},
		{name: "a redelivered event changes nothing", evs: []events.Event{upload(t, 1), thumb(t, 2, false), thumb(t, 2, true), upload(t, 1)},
			status: entry.Ready, version: 2, visible: true, purgeKeys: []string{orig, tn, pv, pvPNG}, renditions: 1},
		{name: "a stale event after a newer one changes nothing", evs: []events.Event{upload(t, 1), deleted(t, 3, "owner"), thumb(t, 2, true)},
			status: entry.Deleted, version: 3, needsPurge: true, purgeKeys: []string{orig, tn}},
		{name: "a rendition recorded after the delete is purged too", evs: []events.Event{upload(t, 1), deleted(t, 2, "owner"), thumb(t, 3, true)},
			status: entry.Deleted, version: 3, needsPurge: true, purgeKeys: []string{orig, tn, pv}, renditions: 2, check: func(t *testing.T, e entry.Entry) {
				if e.Placeholder != "" {
					t.Errorf("a late thumbnail made a deleted entry ready: %+v", e)
				}
			}},
		{name: "a second outcome does not replace the first", evs: []events.Event{upload(t, 1), failed(t, 2), thumb(t, 3, false)},
			status: entry.Failed, version: 3, visible: true, purgeKeys: []string{orig, tn, pv, pvPNG}, renditions: 1},
		{name: "a second upload of the stream changes nothing", evs: []events.Event{upload(t, 1), thumb(t, 2, false), func() events.Event {
			e := upload(t, 3)
			e.Data = []byte(`{"title":"other","owner":"mallory","original_key":"x.jpg"}`)
			return e
		}()}, status: entry.Ready, version: 3, visible: true, purgeKeys: []string{orig, tn, pv, pvPNG}, renditions: 1, check: func(t *testing.T, e entry.Entry) {
			if e.Owner != "alice" || e.Title != "Harbour" {
				t.Errorf("a second upload changed the entry: %+v", e)
			}
		}},
		{name: "deleted twice", evs: []events.Event{upload(t, 1), deleted(t, 2, "owner"), deleted(t, 3, "admin")}, status: entry.Deleted, version: 3,
			needsPurge: true, purgeKeys: []string{orig, tn}, check: func(t *testing.T, e entry.Entry) {
				if e.DeletedBy != "owner" {
					t.Errorf("deleted by %q, want the first delete's owner", e.DeletedBy)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := entry.Fold(tt.evs)
			if err != nil {
				t.Fatal(err)
			}
			if e.Status != tt.status || e.Version != tt.version {
				t.Errorf("got %q v%d, want %q v%d", e.Status, e.Version, tt.status, tt.version)
			}
			if got := e.Visible(); got != tt.visible {
				t.Errorf("Visible: got %v, want %v", got, tt.visible)
			}
			if got := e.NeedsThumbnail(); got != tt.needsThumb {
				t.Errorf("NeedsThumbnail: got %v, want %v", got, tt.needsThumb)
			}
			if got := e.NeedsPurge(); got != tt.needsPurge {
				t.Errorf("NeedsPurge: got %v, want %v", got, tt.needsPurge)
			}
			if got := e.PurgeKeys(); !slices.Equal(got, tt.purgeKeys) {
				t.Errorf("PurgeKeys: got %v, want %v", got, tt.purgeKeys)
			}
			if got := len(e.Renditions); got != tt.renditions {
				t.Errorf("renditions: got %d, want %d", got, tt.renditions)
			}
			if tt.check != nil {
				tt.check(t, e)
			}
		})
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

func TestFoldRejectsWhatItCannotRead(t *testing.T) {
	bad := upload(t, 1)
	bad.Data = []byte(`{"title": 7}`)
	unknown := ev(t, 2, "Nonsense", events.SystemActor, struct{}{})
	for name, evs := range map[string][]events.Event{
		"an unreadable payload": {bad},
		"an unknown type":       {upload(t, 1), unknown},
	} {
		if _, err := entry.Fold(evs); err == nil {
			t.Errorf("%s folded without error", name)
		}
	}
}

func TestMayDelete(t *testing.T) {
	ready := mustFold(t, upload(t, 1), thumb(t, 2, false))
	gone := mustFold(t, upload(t, 1), deleted(t, 2, "owner"))
	anon := mustFold(t, ev(t, 1, events.MediaUploaded, events.OwnerActor(""), events.Uploaded{Title: "t", Original: eib + ".jpg"}))
	tests := []struct {
		name   string
		e      entry.Entry
		a      entry.Actor
		code   apperr.Code
		reason string
		actor  events.Actor
	}{
		{"the owner", ready, entry.Actor{Owner: "alice"}, "", "owner", events.OwnerActor("alice")},
		{"the owner who is also an admin", ready, entry.Actor{Owner: "alice", Admin: true}, "", "owner", events.OwnerActor("alice")},
		{"someone else", ready, entry.Actor{Owner: "bob"}, apperr.Forbidden, "", ""},
		{"no one", ready, entry.Actor{}, apperr.Forbidden, "", ""},
		{"an admin", ready, entry.Actor{Owner: "user-bob", Admin: true, As: events.AccountActor("user-bob")}, "", "admin", events.AccountActor("user-bob")},
		{"an admin by its account, without As", ready, entry.Actor{Owner: "user-bob", Admin: true}, "", "admin", events.AccountActor("user-bob")},
		{"an admin with no account", ready, entry.Actor{Admin: true}, "", "admin", "admin"},
		{"an entry with no owner, by a visitor with none", anon, entry.Actor{}, apperr.Forbidden, "", ""},
		{"already deleted", gone, entry.Actor{Owner: "alice"}, apperr.NotFound, "", ""},
		{"already deleted, by an admin", gone, entry.Actor{Admin: true}, apperr.NotFound, "", ""},
		{"never uploaded", entry.Entry{}, entry.Actor{Owner: "alice", Admin: true}, apperr.NotFound, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.e.MayDelete(tt.a)
			if got := apperr.CodeOf(err); got != tt.code {
				t.Fatalf("MayDelete: got code %q (%v), want %q", got, err, tt.code)
			}
			if err != nil && apperr.MessageOf(err) == "Something went wrong on our side. Please try again." {
				t.Errorf("no safe message: %v", err)
			}
			got, err := tt.e.Delete(tt.a, "del1", t0)
			if tt.code != "" {
				if err == nil {
					t.Errorf("Delete made %+v, want refused", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var p events.Deleted
			if err := got.Decode(&p); err != nil {
				t.Fatal(err)
			}
			if got.Type != events.MediaDeleted || got.Stream != eib || got.Actor != tt.actor || p.Reason != tt.reason || got.ID != "del1" {
				t.Errorf("got %+v %+v, want actor %q reason %q", got, p, tt.actor, tt.reason)
			}
		})
	}
}

func TestResend(t *testing.T) {
	ready := mustFold(t, upload(t, 1), thumb(t, 2, false))
	gone := mustFold(t, upload(t, 1), deleted(t, 2, "owner"))
	for _, tt := range []struct {
		name  string
		e     entry.Entry
		owner string
		code  apperr.Code
	}{
		{"the same owner", ready, "alice", ""},
		{"another owner", ready, "bob", apperr.Conflict},
		{"deleted since", gone, "alice", apperr.Conflict},
	} {
		if got := apperr.CodeOf(tt.e.Resend(tt.owner)); got != tt.code {
			t.Errorf("%s: got %q, want %q", tt.name, got, tt.code)
		}
	}
}

func TestUnwanted(t *testing.T) {
	tn, pv := eib+".jpg-tn.png", eib+".jpg-preview.jpg"
	written := []string{tn, pv}
	for _, tt := range []struct {
		name string
		e    entry.Entry
		want []string
	}{
		{"still processing: none recorded, all unwanted", mustFold(t, upload(t, 1)), written},
		{"recorded by another worker with the same keys", mustFold(t, upload(t, 1), thumb(t, 2, true)), nil},
		{"recorded without a preview", mustFold(t, upload(t, 1), thumb(t, 2, false)), []string{pv}},
		{"deleted meanwhile", mustFold(t, upload(t, 1), deleted(t, 2, "owner")), written},
		{"recorded, then deleted", mustFold(t, upload(t, 1), thumb(t, 2, true), deleted(t, 3, "owner")), written},
		{"failed meanwhile", mustFold(t, upload(t, 1), failed(t, 2)), written},
	} {
		if got := tt.e.Unwanted(written); !slices.Equal(got, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestFailureOf(t *testing.T) {
	for _, code := range []string{entry.OriginalMissing, entry.TooSlow, entry.DecodeFailed} {
		f := entry.FailureOf(code)
		if f.Code != code || f.Message == "" {
			t.Errorf("%s: got %+v", code, f)
		}
	}
	if f := entry.FailureOf("image: unknown format at /tmp/x"); f.Code != entry.Unrecorded || f.Message != "No preview could be made." {
		t.Errorf("an unknown code was kept: %+v", f)
	}
	b, _ := json.Marshal(entry.FailureOf(entry.DecodeFailed).Payload())
	if want := `{"reason":"decode_failed","message":"The image could not be decoded."}`; string(b) != want {
		t.Errorf("payload: got %s, want %s", b, want)
	}
}

func mustFold(t *testing.T, evs ...events.Event) entry.Entry {
	t.Helper()
	e, err := entry.Fold(evs)
	if err != nil {
		t.Fatal(err)
	}
	return e
}
