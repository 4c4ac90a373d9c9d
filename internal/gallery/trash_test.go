package gallery_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"mediashare/internal/apperr"
	"mediashare/internal/entry"
	"mediashare/internal/events"
	"mediashare/internal/gallery"
	"mediashare/internal/ids"
	"mediashare/internal/media/mediatest"
	"mediashare/internal/projections"
)

// newLiveService is newService with the projector running, so that the
// view follows the events (the trash and the copies are read there).
func newLiveService(t *testing.T) (*gallery.Service, events.Store) {
	t.Helper()
	s, store := newService(t)
	s.Limits.ProjectionWait = 10 * time.Second
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	p := &projections.Projector{Feed: store, View: s.View}
	go func() { done <- p.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return s, store
}

// upload uploads photo (a name in the shared photos or a path) as owner.
func upload(t *testing.T, s *gallery.Service, owner, photo string) gallery.Uploaded {
	t.Helper()
	path := photo
	if !filepath.IsAbs(photo) {
		path = mediatest.Photo(t, photo)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, _ := f.Stat()
	u, err := s.Upload(context.Background(), gallery.UploadInput{Title: "T", Comment: "c", Filename: filepath.Base(path), File: f, Size: fi.Size(), Owner: owner})
	if err != nil {
		t.Fatalf("upload of %s by %s: %v", photo, owner, err)
	}
	return u
}

func types(t *testing.T, store events.Store, eib string) []events.Type {
	t.Helper()
	evs, err := store.Load(context.Background(), eib)
	if err != nil {
		t.Fatal(err)
	}
	var out []events.Type
	for _, e := range evs {
		out = append(out, e.Type)
	}
	return out
}

func TestTrashAndRestore(t *testing.T) {
	s, store := newLiveService(t)
	ctx := context.Background()
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	s.Now = func() time.Time { return now }
	s.Limits.TrashRetention = time.Hour
	eib := upload(t, s, "alice", "Storm.jpg").Entry.EIB

	if err := s.Delete(ctx, eib, entry.Actor{Owner: "alice"}); err != nil {
		t.Fatal(err)
	}
	if got := types(t, store, eib); !slices.Equal(got, []events.Type{events.MediaUploaded, events.MediaTrashed}) {
		t.Fatalf("after the delete: %v", got)
	}
	row, err := s.Lookup(ctx, eib)
	if err != nil || !row.InTrash() || !row.TrashUntil.Equal(now.Add(time.Hour)) {
		t.Fatalf("the row after the delete: %+v (%v)", row, err)
	}
	if p, _ := s.Page(ctx, "", 10); len(p.Entries) != 0 {
		t.Errorf("the gallery lists %d entries, want none", len(p.Entries))
	}
	if p, _ := s.TrashPage(ctx, "alice", ""); len(p.Entries) != 1 || p.Entries[0].EIB != eib {
		t.Errorf("alice's trash: %+v", p.Entries)
	}
	if p, _ := s.TrashPage(ctx, "bob", ""); len(p.Entries) != 0 {
		t.Errorf("bob's trash holds alice's entry")
	}
	if _, _, err := s.EntryFor(ctx, eib, "alice"); err != nil {
		t.Errorf("its owner cannot open the entry in the trash: %v", err)
	}
	for _, viewer := range []string{"bob", ""} {
		if _, _, err := s.EntryFor(ctx, eib, viewer); apperr.CodeOf(err) != apperr.NotFound {
			t.Errorf("viewer %q opens an entry in someone's trash: %v", viewer, err)
		}
	}

	steps := []struct {
		name, op, eib, owner string
		admin                bool
		code                 apperr.Code
	}{
		{"delete again", "delete", eib, "alice", false, apperr.Conflict},
		{"a stranger's restore", "restore", eib, "bob", false, apperr.Forbidden},
		{"a restore with no owner", "restore", eib, "", false, apperr.Forbidden},
		{"a restore of an unknown entry", "restore", ids.New(now), "alice", false, apperr.NotFound},
		{"a restore of a malformed id", "restore", "../etc", "alice", false, apperr.NotFound},
		{"a stranger's delete now", "purge", eib, "bob", false, apperr.Forbidden},
		{"the owner restores", "restore", eib, "alice", false, ""},
		{"restore again", "restore", eib, "alice", false, apperr.Conflict},
		{"the owner's delete now of an entry in the gallery", "purge", eib, "alice", false, apperr.Conflict},
	}
	for _, st := range steps {
		var err error
		switch st.op {
		case "delete":
			err = s.Delete(ctx, st.eib, entry.Actor{Owner: st.owner, Admin: st.admin})
		case "restore":
			err = s.Restore(ctx, st.eib, entry.Actor{Owner: st.owner, Admin: st.admin})
		case "purge":
			err = s.Purge(ctx, st.eib, entry.Actor{Owner: st.owner, Admin: st.admin})
		}
		if got := apperr.CodeOf(err); got != st.code {
			t.Fatalf("%s: got %q (%v), want %q", st.name, got, err, st.code)
		}
	}
	want := []events.Type{events.MediaUploaded, events.MediaTrashed, events.MediaRestored}
	if got := types(t, store, eib); !slices.Equal(got, want) {
		t.Fatalf("after the restore: %v, want %v", got, want)
	}
	if p, _ := s.Page(ctx, "", 10); len(p.Entries) != 1 || p.Entries[0].EIB != eib {
		t.Errorf("the gallery after the restore: %+v", p.Entries)
	}

	// The period ends: the sweeper deletes it for good, once.
	if err := s.Delete(ctx, eib, entry.Actor{Owner: "alice"}); err != nil {
		t.Fatal(err)
	}
	if n, err := s.ExpireTrash(ctx, 10); n != 0 || err != nil {
		t.Errorf("expired before the period ended: %d (%v)", n, err)
	}
	now = now.Add(2 * time.Hour)
	if err := s.Restore(ctx, eib, entry.Actor{Owner: "alice"}); apperr.CodeOf(err) != apperr.Conflict {
		t.Errorf("a restore after the period: %v, want a conflict", err)
	}
	if n, err := s.ExpireTrash(ctx, 10); n != 1 || err != nil {
		t.Fatalf("expired: %d (%v), want 1", n, err)
	}
	if n, err := s.ExpireTrash(ctx, 10); n != 0 || err != nil {
		t.Errorf("expired again: %d (%v), want 0", n, err)
	}
	got := types(t, store, eib)
	if want := []events.Type{events.MediaUploaded, events.MediaTrashed, events.MediaRestored, events.MediaTrashed, events.MediaDeleted}; !slices.Equal(got, want) {
		t.Fatalf("after the period: %v, want %v", got, want)
	}
	evs, _ := store.Load(ctx, eib)
	if last := evs[len(evs)-1]; last.Actor != events.SystemActor || string(last.Data) != `{"reason":"retention"}` {
		t.Errorf("the end of the period recorded %s %s", last.Actor, last.Data)
	}
	if err := s.Restore(ctx, eib, entry.Actor{Owner: "alice"}); apperr.CodeOf(err) != apperr.NotFound {
		t.Errorf("a restore of a deleted entry: %v, want not found", err)
	}
}

// Two sweepers (two instances) at the same expired entries: one
// MediaDeleted each, whichever wins.
func TestTwoSweepersDeleteOnce(t *testing.T) {
	s, store := newLiveService(t)
	ctx := context.Background()
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	s.Now = func() time.Time { return now }
	s.Limits.TrashRetention = time.Minute
	var eibs []string
	for _, p := range []string{"Storm.jpg", "RainDrops.jpg"} {
		eib := upload(t, s, "alice", p).Entry.EIB
		if err := s.Delete(ctx, eib, entry.Actor{Owner: "alice"}); err != nil {
			t.Fatal(err)
		}
		eibs = append(eibs, eib)
	}
	now = now.Add(time.Hour)
	other := gallery.Service{Events: s.Events, View: s.View, Blobs: s.Blobs, Limits: s.Limits, Now: s.Now} // another instance on the same stores
	total := make(chan int, 2)
	for _, sv := range []*gallery.Service{s, &other} {
		go func() {
			n, err := sv.ExpireTrash(ctx, 10)
			if err != nil {
				t.Error(err)
			}
			total <- n
		}()
	}
	if n := <-total + <-total; n != 2 {
		t.Errorf("the sweepers deleted %d entries, want 2", n)
	}
	for _, eib := range eibs {
		deletes := 0
		for _, typ := range types(t, store, eib) {
			if typ == events.MediaDeleted {
				deletes++
			}
		}
		if deletes != 1 {
			t.Errorf("%s: %d MediaDeleted, want 1", eib, deletes)
		}
	}
}

func TestEmptyTrashAndAdminPurge(t *testing.T) {
	s, store := newLiveService(t)
	ctx := context.Background()
	var mine []string
	for _, p := range []string{"Storm.jpg", "RainDrops.jpg"} {
		eib := upload(t, s, "alice", p).Entry.EIB
		if err := s.Delete(ctx, eib, entry.Actor{Owner: "alice"}); err != nil {
			t.Fatal(err)
		}
		mine = append(mine, eib)
	}
	kept := upload(t, s, "alice", mediatest.Scaled(t, "Storm.jpg", 640)).Entry.EIB
	theirs := upload(t, s, "bob", "Storm.jpg").Entry.EIB
	if err := s.Delete(ctx, theirs, entry.Actor{Owner: "bob"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.EmptyTrash(ctx, ""); apperr.CodeOf(err) != apperr.Forbidden {
		t.Errorf("emptying no one's trash: %v", err)
	}
	n, err := s.EmptyTrash(ctx, "alice")
	if err != nil || n != 2 {
		t.Fatalf("EmptyTrash: %d (%v), want 2", n, err)
	}
	for _, eib := range mine {
		if got := types(t, store, eib); got[len(got)-1] != events.MediaDeleted {
			t.Errorf("%s after emptying the trash: %v", eib, got)
		}
	}
	if got := types(t, store, kept); len(got) != 1 {
		t.Errorf("an entry in the gallery was touched: %v", got)
	}
	if got := types(t, store, theirs); got[len(got)-1] != events.MediaTrashed {
		t.Errorf("another owner's trash was emptied: %v", got)
	}
	if p, _ := s.TrashPage(ctx, "alice", ""); len(p.Entries) != 0 {
		t.Errorf("alice's trash after emptying: %d entries", len(p.Entries))
	}
	// An admin purges at once, from the gallery or the trash.
	for _, eib := range []string{kept, theirs} {
		if err := s.Purge(ctx, eib, entry.Actor{Owner: "user-root", Admin: true, As: events.AccountActor("user-root")}); err != nil {
			t.Fatalf("an admin's purge of %s: %v", eib, err)
		}
		evs, _ := store.Load(ctx, eib)
		if last := evs[len(evs)-1]; last.Type != events.MediaDeleted || last.Actor != events.AccountActor("user-root") || string(last.Data) != `{"reason":"admin"}` {
			t.Errorf("an admin's purge recorded %s %s %s", last.Type, last.Actor, last.Data)
		}
	}
}

func TestDuplicateUploads(t *testing.T) {
	s, store := newLiveService(t)
	ctx := context.Background()
	first := upload(t, s, "alice", "Storm.jpg")
	if first.Duplicate {
		t.Fatal("the first upload is a duplicate")
	}
	again := upload(t, s, "alice", "Storm.jpg")
	if !again.Duplicate || again.InTrash || again.Entry.EIB != first.Entry.EIB || again.Entry.Title != "T" {
		t.Fatalf("the same bytes again: %+v, want the first entry as a duplicate", again)
	}
	theirs := upload(t, s, "bob", "Storm.jpg")
	if theirs.Duplicate || theirs.Entry.EIB == first.Entry.EIB {
		t.Errorf("another owner's identical bytes: %+v, want an entry of their own", theirs)
	}
	other := upload(t, s, "alice", "RainDrops.jpg")
	if other.Duplicate {
		t.Error("other bytes are a duplicate")
	}
	// In the trash: still a duplicate, and it says so.
	if err := s.Delete(ctx, first.Entry.EIB, entry.Actor{Owner: "alice"}); err != nil {
		t.Fatal(err)
	}
	inTrash := upload(t, s, "alice", "Storm.jpg")
	if !inTrash.Duplicate || !inTrash.InTrash || inTrash.Entry.EIB != first.Entry.EIB {
		t.Errorf("the same bytes while the first is in the trash: %+v", inTrash)
	}
	// Deleted for good: the bytes may come again.
	if err := s.Purge(ctx, first.Entry.EIB, entry.Actor{Owner: "alice"}); err != nil {
		t.Fatal(err)
	}
	fresh := upload(t, s, "alice", "Storm.jpg")
	if fresh.Duplicate || fresh.Entry.EIB == first.Entry.EIB {
		t.Errorf("the same bytes after the first was deleted for good: %+v", fresh)
	}
	// A retry of the same request is its own entry, not a duplicate.
	req := ids.New(time.Now())
	f, _ := os.Open(mediatest.Scaled(t, "Storm.jpg", 640))
	defer f.Close()
	fi, _ := f.Stat()
	in := gallery.UploadInput{Title: "Cat", Comment: "c", File: f, Size: fi.Size(), Owner: "alice", RequestID: req}
	one, err := s.Upload(ctx, in)
	if err != nil || one.Duplicate {
		t.Fatalf("a first sending: %+v (%v)", one, err)
	}
	two, err := s.Upload(ctx, in)
	if err != nil || two.Duplicate || two.Entry.EIB != one.Entry.EIB {
		t.Errorf("a retry of the same request: %+v (%v), want its own entry", two, err)
	}
	// Nothing was stored for the duplicates: one stream per real upload.
	streams := map[string]bool{}
	evs, _, _ := store.ReadAll(ctx, "", 1000)
	for _, e := range evs {
		if e.Type == events.MediaUploaded {
			streams[e.Stream] = true
		}
	}
	if len(streams) != 5 {
		t.Errorf("%d entries were made, want 5 (first, bob's, RainDrops, fresh, Cat)", len(streams))
	}
}

// Two sendings of the same bytes at once (a double click) on one
// instance make one entry and one duplicate.
func TestDoubleClickMakesOneEntry(t *testing.T) {
	s, store := newLiveService(t)
	ctx := context.Background()
	small := mediatest.Scaled(t, "Storm.jpg", 640)
	results := make(chan gallery.Uploaded, 2)
	for range 2 {
		go func() {
			f, err := os.Open(small)
			if err != nil {
				t.Error(err)
				results <- gallery.Uploaded{}
				return
			}
			defer f.Close()
			fi, _ := f.Stat()
			u, err := s.Upload(ctx, gallery.UploadInput{Title: "T", Comment: "c", File: f, Size: fi.Size(), Owner: "alice"})
			if err != nil {
				t.Error(err)
			}
			results <- u
		}()
	}
	a, b := <-results, <-results
	if a.Duplicate == b.Duplicate || a.Entry.EIB != b.Entry.EIB {
		t.Errorf("two sendings at once: %+v and %+v, want one entry and one duplicate of it", a, b)
	}
	evs, _, _ := store.ReadAll(ctx, "", 100)
	if n := len(evs); n != 1 {
		t.Errorf("%d events, want one upload", n)
	}
}

// An admin's trash, restore and purge of someone else's entry record
// which admin it was (the audit log shows who removed what), as an
// erase does; the payload's reason stays "admin".
func TestAdminDecisionsNameTheAdmin(t *testing.T) {
	s, store := newLiveService(t)
	ctx := context.Background()
	s.Limits.TrashRetention = time.Hour
	root := events.AccountActor("user-root")
	cases := []struct {
		name  string
		admin entry.Actor
		want  events.Actor
	}{
		{"signed in (As)", entry.Actor{Owner: "user-root", Admin: true, As: root}, root},
		{"its account, without As", entry.Actor{Owner: "user-root", Admin: true}, root},
		{"the command line", entry.Actor{Admin: true, As: events.SystemActor}, events.SystemActor},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			eib := upload(t, s, "alice", "Storm.jpg").Entry.EIB
			steps := []struct {
				do   func() error
				typ  events.Type
				data string
			}{
				{func() error { return s.Delete(ctx, eib, c.admin) }, events.MediaTrashed, `"reason":"admin"`},
				{func() error { return s.Restore(ctx, eib, c.admin) }, events.MediaRestored, `{"reason":"admin"}`},
				{func() error { return s.Purge(ctx, eib, c.admin) }, events.MediaDeleted, `{"reason":"admin"}`},
			}
			for _, st := range steps {
				if err := st.do(); err != nil {
					t.Fatalf("%s: %v", st.typ, err)
				}
				evs, err := store.Load(ctx, eib)
				if err != nil {
					t.Fatal(err)
				}
				last := evs[len(evs)-1]
				if last.Type != st.typ || last.Actor != c.want || !strings.Contains(string(last.Data), st.data) {
					t.Errorf("recorded %s by %q (%s), want %s by %q (%s)", last.Type, last.Actor, last.Data, st.typ, c.want, st.data)
				}
			}
		})
	}
}
