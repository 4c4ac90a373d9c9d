package gallery_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"mediashare/internal/apperr"
	"mediashare/internal/blob/fileblob"
	"mediashare/internal/entry"
	"mediashare/internal/events"
	eventsqlite "mediashare/internal/events/sqlite"
	"mediashare/internal/gallery"
	"mediashare/internal/ids"
	"mediashare/internal/media/mediatest"
	viewsqlite "mediashare/internal/projections/sqlite"
	"mediashare/internal/sqlitedb"
)

// newService is the gallery over the real SQLite stores and files; no
// projector runs, so it does not wait for the view.
func newService(t *testing.T) (*gallery.Service, *eventsqlite.Store) {
	t.Helper()
	db, err := sqlitedb.Open(filepath.Join(t.TempDir(), "m.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	store, err := eventsqlite.New(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	view, err := viewsqlite.New(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	blobs, err := fileblob.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	limits := gallery.DefaultLimits
	limits.ProjectionWait = 0
	return &gallery.Service{Events: store, View: view, Blobs: blobs, Limits: limits}, store
}

func uploadPhoto(t *testing.T, s *gallery.Service, owner, request string) (string, error) {
	t.Helper()
	f, err := os.Open(mediatest.Photo(t, "Storm.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, _ := f.Stat()
	e, err := s.Upload(context.Background(), gallery.UploadInput{Title: "Storm", Comment: "over the hills", Filename: "Storm.jpg", File: f, Size: fi.Size(), Owner: owner, RequestID: request})
	return e.Entry.EIB, err
}

func TestDeleteDecidesByTheEntry(t *testing.T) {
	s, store := newService(t)
	s.Limits.TrashRetention = 0 // deleted at once, as before the trash
	eib, err := uploadPhoto(t, s, "alice", "")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	steps := []struct {
		name          string
		eib, owner    string
		admin         bool
		code          apperr.Code
		wantActor     events.Actor
		wantEventsNow int
	}{
		{"someone else", eib, "bob", false, apperr.Forbidden, "", 1},
		{"no one", eib, "", false, apperr.Forbidden, "", 1},
		{"an entry that never was", ids.New(time.Now()), "alice", false, apperr.NotFound, "", 1},
		{"the owner", eib, "alice", false, "", events.OwnerActor("alice"), 2},
		{"the owner again", eib, "alice", false, apperr.NotFound, "", 2},
		{"an admin, after the owner", eib, "bob", true, apperr.NotFound, "", 2},
	}
	for _, st := range steps {
		err := s.Delete(ctx, st.eib, entry.Actor{Owner: st.owner, Admin: st.admin})
		if got := apperr.CodeOf(err); got != st.code {
			t.Fatalf("%s: got %q (%v), want %q", st.name, got, err, st.code)
		}
		evs, err := store.Load(ctx, eib)
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) != st.wantEventsNow {
			t.Fatalf("%s: %d events, want %d", st.name, len(evs), st.wantEventsNow)
		}
		if st.wantActor != "" && evs[len(evs)-1].Actor != st.wantActor {
			t.Errorf("%s: actor %q, want %q", st.name, evs[len(evs)-1].Actor, st.wantActor)
		}
	}

	other, err := uploadPhoto(t, s, "carol", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, other, entry.Actor{Owner: "user-dave", Admin: true}); err != nil {
		t.Fatalf("an admin's delete: %v", err)
	}
	evs, _ := store.Load(ctx, other)
	if last := evs[len(evs)-1]; last.Type != events.MediaDeleted || last.Actor != events.AccountActor("user-dave") || string(last.Data) != `{"reason":"admin"}` {
		t.Errorf("an admin's delete recorded %s %s %s", last.Type, last.Actor, last.Data)
	}
}

func TestRetriedUploadAsksTheEntry(t *testing.T) {
	s, store := newService(t)
	s.Limits.TrashRetention = 0
	ctx := context.Background()
	req := ids.New(time.Now())
	first, err := uploadPhoto(t, s, "alice", req)
	if err != nil {
		t.Fatal(err)
	}
	again, err := uploadPhoto(t, s, "alice", req)
	if err != nil || again != first {
		t.Fatalf("a retry by its owner: got %s, %v; want %s", again, err, first)
	}
	// Another owner's "retry" of the same request id is another entry
	// (ids derive from the owner), never this one.
	theirs, err := uploadPhoto(t, s, "bob", req)
	if err != nil || theirs == first {
		t.Fatalf("someone else's same request id: got %s, %v", theirs, err)
	}
	if err := s.Delete(ctx, first, entry.Actor{Owner: "alice"}); err != nil {
		t.Fatal(err)
	}
	_, err = uploadPhoto(t, s, "alice", req)
	if apperr.CodeOf(err) != apperr.Conflict || apperr.MessageOf(err) != "This upload was sent before and has since been deleted." {
		t.Errorf("a retry after the delete: got %v", err)
	}
	evs, _ := store.Load(ctx, first)
	if len(evs) != 2 {
		t.Errorf("the retries appended: %d events, want 2", len(evs))
	}
}
