package entry_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"mediashare/internal/apperr"
	"mediashare/internal/entry"
	"mediashare/internal/events"
)

var until = t0.Add(30 * 24 * time.Hour)

func trashed(t *testing.T, v int) events.Event {
	return ev(t, v, events.MediaTrashed, events.OwnerActor("alice"), events.Trashed{Reason: "owner", PurgeAfter: until})
}

func restored(t *testing.T, v int) events.Event {
	return ev(t, v, events.MediaRestored, events.OwnerActor("alice"), events.Restored{Reason: "owner"})
}

// Every sequence of the trash: what state it folds to and what is still
// to do.
func TestFoldTrash(t *testing.T) {
	orig, tn, pv := eib+".jpg", eib+".jpg-tn.png", eib+".jpg-preview.jpg"
	pvPNG := eib + ".jpg-preview.png" // where a preview may be before its event
	tests := []struct {
		name       string
		evs        []events.Event
		status     entry.Status
		from       entry.Status // TrashedFrom
		visible    bool
		inTrash    bool
		needsThumb bool
		needsPurge bool
		purgeKeys  []string
		check      func(t *testing.T, e entry.Entry)
	}{
		{name: "ready, trashed: out of the gallery, blobs kept", evs: []events.Event{upload(t, 1), thumb(t, 2, true), trashed(t, 3)},
			status: entry.Trashed, from: entry.Ready, inTrash: true, purgeKeys: []string{orig, tn, pv}, check: func(t *testing.T, e entry.Entry) {
				if !e.TrashUntil.Equal(until) || e.TrashedBy != "owner" || !e.TrashedAt.Equal(t0.Add(3*time.Second)) {
					t.Errorf("trash fields: %+v", e)
				}
			}},
		{name: "ready, trashed, restored: ready again with its renditions", evs: []events.Event{upload(t, 1), thumb(t, 2, true), trashed(t, 3), restored(t, 4)},
			status: entry.Ready, visible: true, purgeKeys: []string{orig, tn, pv}, check: func(t *testing.T, e entry.Entry) {
				if len(e.Renditions) != 2 || e.Placeholder != "#102030" || !e.TrashUntil.IsZero() || e.TrashedFrom != entry.None {
					t.Errorf("restored: %+v", e)
				}
			}},
		{name: "failed, trashed, restored: failed again", evs: []events.Event{upload(t, 1), failed(t, 2), trashed(t, 3), restored(t, 4)},
			status: entry.Failed, visible: true, purgeKeys: []string{orig, tn}},
		{name: "trashed while processing: the thumbnail is still wanted", evs: []events.Event{upload(t, 1), trashed(t, 2)},
			status: entry.Trashed, from: entry.Processing, inTrash: true, needsThumb: true, purgeKeys: []string{orig, tn}},
		{name: "trashed while processing, thumbnail lands in the trash, restored: ready", evs: []events.Event{upload(t, 1), trashed(t, 2), thumb(t, 3, true), restored(t, 4)},
			status: entry.Ready, visible: true, purgeKeys: []string{orig, tn, pv}},
		{name: "trashed while processing, thumbnail lands: still in the trash", evs: []events.Event{upload(t, 1), trashed(t, 2), thumb(t, 3, false)},
			status: entry.Trashed, from: entry.Ready, inTrash: true, purgeKeys: []string{orig, tn, pv, pvPNG}},
		{name: "trashed while processing, the preview fails in the trash", evs: []events.Event{upload(t, 1), trashed(t, 2), failed(t, 3)},
			status: entry.Trashed, from: entry.Failed, inTrash: true, purgeKeys: []string{orig, tn}},
		{name: "trashed, retention ends, purged", evs: []events.Event{upload(t, 1), thumb(t, 2, true), trashed(t, 3), deleted(t, 4, "retention"), purged(t, 5, orig, tn, pv)},
			status: entry.Purged, purgeKeys: []string{orig, tn, pv}, check: func(t *testing.T, e entry.Entry) {
				if e.DeletedBy != "retention" || !e.TrashUntil.IsZero() {
					t.Errorf("purged: %+v", e)
				}
			}},
		{name: "trashed, deleted now: the purge is due", evs: []events.Event{upload(t, 1), thumb(t, 2, false), trashed(t, 3), deleted(t, 4, "owner")},
			status: entry.Deleted, needsPurge: true, purgeKeys: []string{orig, tn, pv, pvPNG}},
		{name: "trashed, restored, trashed again", evs: []events.Event{upload(t, 1), thumb(t, 2, false), trashed(t, 3), restored(t, 4), trashed(t, 5)},
			status: entry.Trashed, from: entry.Ready, inTrash: true, purgeKeys: []string{orig, tn, pv, pvPNG}},
		{name: "trashed twice: the first trash stands", evs: []events.Event{upload(t, 1), thumb(t, 2, false), trashed(t, 3), trashed(t, 4)},
			status: entry.Trashed, from: entry.Ready, inTrash: true, purgeKeys: []string{orig, tn, pv, pvPNG}, check: func(t *testing.T, e entry.Entry) {
				if !e.TrashedAt.Equal(t0.Add(3 * time.Second)) {
					t.Errorf("trashed at %s, want the first", e.TrashedAt)
				}
			}},
		{name: "a restore of an entry not in the trash changes nothing", evs: []events.Event{upload(t, 1), thumb(t, 2, false), restored(t, 3)},
			status: entry.Ready, visible: true, purgeKeys: []string{orig, tn, pv, pvPNG}},
		{name: "a restore after the delete changes nothing", evs: []events.Event{upload(t, 1), trashed(t, 2), deleted(t, 3, "retention"), restored(t, 4)},
			status: entry.Deleted, needsPurge: true, purgeKeys: []string{orig, tn}},
		{name: "a trash after the purge changes nothing", evs: []events.Event{upload(t, 1), deleted(t, 2, "owner"), purged(t, 3, orig, tn), trashed(t, 4)},
			status: entry.Purged, purgeKeys: []string{orig, tn}},
		{name: "an old log: deleted then purged replays as before", evs: []events.Event{upload(t, 1), thumb(t, 2, false), deleted(t, 3, "owner"), purged(t, 4, orig, tn)},
			status: entry.Purged, purgeKeys: []string{orig, tn, pv, pvPNG}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := mustFold(t, tt.evs...)
			if e.Status != tt.status || e.TrashedFrom != tt.from {
				t.Errorf("got %q from %q, want %q from %q", e.Status, e.TrashedFrom, tt.status, tt.from)
			}
			if e.Visible() != tt.visible || e.InTrash() != tt.inTrash {
				t.Errorf("Visible, InTrash: got %v, %v, want %v, %v", e.Visible(), e.InTrash(), tt.visible, tt.inTrash)
			}
			if e.NeedsThumbnail() != tt.needsThumb || e.NeedsPurge() != tt.needsPurge {
				t.Errorf("NeedsThumbnail, NeedsPurge: got %v, %v, want %v, %v", e.NeedsThumbnail(), e.NeedsPurge(), tt.needsThumb, tt.needsPurge)
			}
			if got := e.PurgeKeys(); !slices.Equal(got, tt.purgeKeys) {
				t.Errorf("PurgeKeys: got %v, want %v", got, tt.purgeKeys)
			}
			if tt.check != nil {
				tt.check(t, e)
			}
		})
	}
}

func TestTrashDecisions(t *testing.T) {
	ready := mustFold(t, upload(t, 1), thumb(t, 2, false))
	inTrash := mustFold(t, upload(t, 1), thumb(t, 2, false), trashed(t, 3))
	gone := mustFold(t, upload(t, 1), trashed(t, 2), deleted(t, 3, "retention"))
	purgedE := mustFold(t, upload(t, 1), deleted(t, 2, "owner"), purged(t, 3, eib+".jpg"))
	alice, bob, admin := entry.Actor{Owner: "alice"}, entry.Actor{Owner: "bob"}, entry.Actor{Owner: "user-root", Admin: true, As: events.AccountActor("user-root")}
	nobody := entry.Actor{Admin: true} // an admin with no account and no As
	before, after := until.Add(-time.Second), until
	tests := []struct {
		name   string
		decide func() (events.Event, error)
		code   apperr.Code
		typ    events.Type
		actor  events.Actor
		reason string
	}{
		{"trash by the owner", func() (events.Event, error) { return ready.Trash(alice, until, "x", t0) }, "", events.MediaTrashed, events.OwnerActor("alice"), "owner"},
		{"trash by an admin", func() (events.Event, error) { return ready.Trash(admin, until, "x", t0) }, "", events.MediaTrashed, events.AccountActor("user-root"), "admin"},
		{"trash by a stranger", func() (events.Event, error) { return ready.Trash(bob, until, "x", t0) }, apperr.Forbidden, "", "", ""},
		{"trash of an entry in the trash", func() (events.Event, error) { return inTrash.Trash(alice, until, "x", t0) }, apperr.Conflict, "", "", ""},
		{"trash of a deleted entry", func() (events.Event, error) { return gone.Trash(alice, until, "x", t0) }, apperr.NotFound, "", "", ""},
		{"trash with a period that has already ended", func() (events.Event, error) { return ready.Trash(alice, t0, "x", t0) }, apperr.Internal, "", "", ""},
		{"restore by the owner", func() (events.Event, error) { return inTrash.Restore(alice, "x", before) }, "", events.MediaRestored, events.OwnerActor("alice"), "owner"},
		{"restore by an admin", func() (events.Event, error) { return inTrash.Restore(admin, "x", before) }, "", events.MediaRestored, events.AccountActor("user-root"), "admin"},
		{"restore by a stranger", func() (events.Event, error) { return inTrash.Restore(bob, "x", before) }, apperr.Forbidden, "", "", ""},
		{"restore by no one", func() (events.Event, error) { return inTrash.Restore(entry.Actor{}, "x", before) }, apperr.Forbidden, "", "", ""},
		{"restore once the period has ended", func() (events.Event, error) { return inTrash.Restore(alice, "x", after) }, apperr.Conflict, "", "", ""},
		{"restore of an entry in the gallery", func() (events.Event, error) { return ready.Restore(alice, "x", before) }, apperr.Conflict, "", "", ""},
		{"restore of a deleted entry", func() (events.Event, error) { return gone.Restore(alice, "x", before) }, apperr.NotFound, "", "", ""},
		{"restore of a purged entry", func() (events.Event, error) { return purgedE.Restore(alice, "x", before) }, apperr.NotFound, "", "", ""},
		{"restore of an unknown entry", func() (events.Event, error) { return entry.Entry{}.Restore(alice, "x", before) }, apperr.NotFound, "", "", ""},
		{"delete now from the trash by the owner", func() (events.Event, error) { return inTrash.Purge(alice, "x", t0) }, "", events.MediaDeleted, events.OwnerActor("alice"), "owner"},
		{"delete now from the trash by a stranger", func() (events.Event, error) { return inTrash.Purge(bob, "x", t0) }, apperr.Forbidden, "", "", ""},
		{"delete now of an entry in the gallery by the owner", func() (events.Event, error) { return ready.Purge(alice, "x", t0) }, apperr.Conflict, "", "", ""},
		{"an admin purges an entry in the gallery", func() (events.Event, error) { return ready.Purge(admin, "x", t0) }, "", events.MediaDeleted, events.AccountActor("user-root"), "admin"},
		{"an admin purges an entry in the trash", func() (events.Event, error) { return inTrash.Purge(admin, "x", t0) }, "", events.MediaDeleted, events.AccountActor("user-root"), "admin"},
		{"an admin with no account trashes", func() (events.Event, error) { return ready.Trash(nobody, until, "x", t0) }, "", events.MediaTrashed, "admin", "admin"},
		{"an admin with no account restores", func() (events.Event, error) { return inTrash.Restore(nobody, "x", before) }, "", events.MediaRestored, "admin", "admin"},
		{"an admin with no account purges", func() (events.Event, error) { return inTrash.Purge(nobody, "x", t0) }, "", events.MediaDeleted, "admin", "admin"},
		{"the command line purges", func() (events.Event, error) {
			return inTrash.Purge(entry.Actor{Admin: true, As: events.SystemActor}, "x", t0)
		}, "", events.MediaDeleted, events.SystemActor, "admin"},
		{"purge of a deleted entry", func() (events.Event, error) { return gone.Purge(admin, "x", t0) }, apperr.NotFound, "", "", ""},
		{"the period ends", func() (events.Event, error) { return inTrash.Expire("x", after) }, "", events.MediaDeleted, events.SystemActor, "retention"},
		{"the period has not ended", func() (events.Event, error) { return inTrash.Expire("x", before) }, apperr.Conflict, "", "", ""},
		{"the period of an entry restored meanwhile", func() (events.Event, error) { return ready.Expire("x", after) }, apperr.Conflict, "", "", ""},
		{"the period of an entry deleted meanwhile", func() (events.Event, error) { return gone.Expire("x", after) }, apperr.Conflict, "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.decide()
			if c := apperr.CodeOf(err); c != tt.code {
				t.Fatalf("got code %q (%v), want %q", c, err, tt.code)
			}
			if err != nil {
				if tt.code != apperr.Internal && apperr.MessageOf(err) == apperr.MessageOf(apperr.New(apperr.Internal, "")) {
					t.Errorf("no safe message: %v", err)
				}
				return
			}
			var p struct {
				Reason     string    `json:"reason"`
				PurgeAfter time.Time `json:"purge_after"`
			}
			if err := got.Decode(&p); err != nil {
				t.Fatal(err)
			}
			if got.Type != tt.typ || got.Actor != tt.actor || p.Reason != tt.reason || got.Stream != eib || got.ID != "x" {
				t.Errorf("got %s by %s (%+v), want %s by %s reason %q", got.Type, got.Actor, p, tt.typ, tt.actor, tt.reason)
			}
			if got.Type == events.MediaTrashed && !p.PurgeAfter.Equal(until) {
				t.Errorf("purge_after %s, want %s", p.PurgeAfter, until)
			}
		})
	}
	if inTrash.Expired(before) || !inTrash.Expired(after) || ready.Expired(after) {
		t.Error("Expired does not follow the trash period")
	}
	if err := inTrash.MayDelete(alice); apperr.CodeOf(err) != apperr.Conflict {
		t.Errorf("MayDelete of an entry in the trash: %v, want a conflict", err)
	}
	if got := apperr.CodeOf(inTrash.Resend("alice")); got != apperr.Conflict {
		t.Errorf("Resend of a request whose entry is in the trash: %q, want conflict", got)
	}
}

func TestHoldsCopy(t *testing.T) {
	ready := mustFold(t, upload(t, 1), thumb(t, 2, false))
	inTrash := mustFold(t, upload(t, 1), trashed(t, 2))
	gone := mustFold(t, upload(t, 1), trashed(t, 2), deleted(t, 3, "owner"))
	for _, tt := range []struct {
		name        string
		e           entry.Entry
		owner, hash string
		want        bool
	}{
		{"same owner, same bytes, in the gallery", ready, "alice", "abc", true},
		{"same owner, same bytes, in the trash", inTrash, "alice", "abc", true},
		{"same owner, same bytes, deleted", gone, "alice", "abc", false},
		{"another owner's copy", ready, "bob", "abc", false},
		{"other bytes", ready, "alice", "abd", false},
		{"no owner", ready, "", "abc", false},
		{"no hash", ready, "alice", "", false},
	} {
		if got := tt.e.HoldsCopy(tt.owner, tt.hash); got != tt.want {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestReadTrashFacts(t *testing.T) {
	f, err := entry.Read(context.Background(), trashed(t, 3), nil)
	if err != nil || f.TrashedBy != "owner" || !f.PurgeAfter.Equal(until) {
		t.Errorf("MediaTrashed: %+v (%v)", f, err)
	}
	if f, err := entry.Read(context.Background(), restored(t, 4), nil); err != nil || f.RestoredBy != "owner" {
		t.Errorf("MediaRestored: %+v (%v)", f, err)
	}
	bad := trashed(t, 3)
	bad.Data = []byte(`{"purge_after": "soon"}`)
	if _, err := entry.Read(context.Background(), bad, nil); err == nil {
		t.Error("an unreadable MediaTrashed was read")
	}
}
