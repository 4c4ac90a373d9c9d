package main

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"

	"mediashare/internal/events"
)

// The entry page's history opens the sealed fields (the keyring is on by
// default): the MediaUploaded row names the title, for a visible entry and
// for its owner's entry in the trash alike, while the stored event keeps
// it sealed.
func TestEntryPageHistoryShowsTheTitle(t *testing.T) {
	s := startSite(t, func(c *config) { c.TrashRetention = 720 * time.Hour })
	alice := browser(t)
	const title = "Storm over the hills"
	eib := uploadOne(t, s, alice, title, photoBytes(t, "Storm.jpg"))

	for _, ev := range s.events() {
		if ev.Stream == eib && ev.Type == events.MediaUploaded && bytes.Contains(ev.Data, []byte(title)) {
			t.Fatalf("the stored MediaUploaded holds the title in the clear: %s", ev.Data)
		}
	}
	uploadedRow := func(when string) {
		t.Helper()
		doc := mustDoc(t, s.get(alice, "/entries/"+eib))
		row := doc.Find(`[data-testid=history] [data-testid=event][data-type=MediaUploaded]`)
		if row.Length() != 1 {
			t.Fatalf("%s: %d MediaUploaded rows in the entry's history, want 1", when, row.Length())
		}
		if got := row.Text(); !strings.Contains(got, title) {
			t.Errorf("%s: the MediaUploaded row reads %q, want it to name %q", when, strings.Join(strings.Fields(got), " "), title)
		}
	}
	uploadedRow("visible")

	resp := s.post(alice, "/entries/"+eib+"/delete", nil, false)
	readBody(t, resp)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("delete: %d, want 303", resp.StatusCode)
	}
	waitFor(t, "the entry in its owner's trash", func() bool {
		return mustDoc(t, s.get(alice, "/trash")).Find(`[data-testid=trash-item][data-eib="`+eib+`"]`).Length() == 1
	})
	uploadedRow("in the trash")
}

// An admin's delete (to the trash), restore and "delete now" of someone
// else's entry are recorded under the admin's account, so the audit log
// shows which admin removed what; the payloads still say "admin".
func TestAdminTrashRestorePurgeNameTheAdmin(t *testing.T) {
	s := startSite(t, func(c *config) { c.TrashRetention = 720 * time.Hour })
	root, alice := browser(t), browser(t)
	s.signUp(root, "root", "a long admin password 1", "")
	eib := uploadOne(t, s, alice, "Storm", photoBytes(t, "Storm.jpg"))
	s.waitStatus(alice, eib, "ready") // its thumbnail and preview recorded: the admin's events come last

	var admin events.Actor
	for _, ev := range s.events() {
		if ev.Type == events.AccountRegistered {
			admin = events.AccountActor(ev.Stream)
		}
	}
	if admin == "" {
		t.Fatal("no AccountRegistered for the admin")
	}
	for _, step := range []struct {
		path string
		typ  events.Type
	}{
		{"/delete", events.MediaTrashed},
		{"/restore", events.MediaRestored},
		{"/purge", events.MediaDeleted},
	} {
		resp := s.post(root, "/entries/"+eib+step.path, nil, false)
		readBody(t, resp)
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("the admin's %s: %d, want 303", step.path, resp.StatusCode)
		}
		var last events.Event // the step's event (the reactor's MediaPurged may follow a purge at once)
		for _, ev := range s.events() {
			if ev.Stream == eib && ev.Type == step.typ {
				last = ev
			}
		}
		if last.Type != step.typ || last.Actor != admin || !strings.Contains(string(last.Data), `"reason":"admin"`) {
			t.Errorf("the admin's %s recorded %s by %q (%s), want %s by %q", step.path, last.Type, last.Actor, last.Data, step.typ, admin)
		}
	}
}
