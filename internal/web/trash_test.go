package web_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"mediashare/internal/apperr"
	"mediashare/internal/events"
	"mediashare/internal/gallery"
	"mediashare/internal/policy"
	"mediashare/internal/projections"
)

func TestRestorePurgeAndEmpty(t *testing.T) {
	const eib = "01JDWEB0000000000000000001"
	for _, tt := range []struct {
		name     string
		req      *http.Request
		err      error
		code     int
		location string
		hx       string
		message  string
		calls    func(f *fakeGallery) int
	}{
		{"restore, a plain form", httptest.NewRequest("POST", "/entries/"+eib+"/restore", nil), nil, 303, "/entries/" + eib, "", "", func(f *fakeGallery) int { return len(f.restores) }},
		{"restore, htmx", htmx(httptest.NewRequest("POST", "/entries/"+eib+"/restore", nil)), nil, 200, "", "/entries/" + eib, "", func(f *fakeGallery) int { return len(f.restores) }},
		{"restore of a stranger's entry", httptest.NewRequest("POST", "/entries/"+eib+"/restore", nil), apperr.New(apperr.Forbidden, "You can only restore your own uploads."), 403, "", "", "You can only restore your own uploads.", func(f *fakeGallery) int { return len(f.restores) }},
		{"restore of a purged entry", httptest.NewRequest("POST", "/entries/"+eib+"/restore", nil), apperr.New(apperr.NotFound, "This entry was deleted for good; it can no longer be restored."), 404, "", "", "This entry was deleted for good; it can no longer be restored.", func(f *fakeGallery) int { return len(f.restores) }},
		{"restore of an entry not in the trash", httptest.NewRequest("POST", "/entries/"+eib+"/restore", nil), apperr.New(apperr.Conflict, "This entry is not in the trash."), 409, "", "", "This entry is not in the trash.", func(f *fakeGallery) int { return len(f.restores) }},
		{"restore, a store failure", httptest.NewRequest("POST", "/entries/"+eib+"/restore", nil), errors.New("dynamodb: throttled"), 500, "", "", "Something went wrong on our side. Please try again.", func(f *fakeGallery) int { return len(f.restores) }},
		{"delete now", httptest.NewRequest("POST", "/entries/"+eib+"/purge", nil), nil, 303, "/trash", "", "", func(f *fakeGallery) int { return len(f.purges) }},
		{"delete now of a stranger's entry", httptest.NewRequest("POST", "/entries/"+eib+"/purge", nil), apperr.New(apperr.Forbidden, "You can only delete your own uploads."), 403, "", "", "You can only delete your own uploads.", func(f *fakeGallery) int { return len(f.purges) }},
		{"empty the trash", httptest.NewRequest("POST", "/trash/empty", nil), nil, 303, "/trash", "", "", func(f *fakeGallery) int { return len(f.empties) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := newSite(t)
			s.fake.trashErr = tt.err
			w := s.do(t, tt.req)
			if w.Code != tt.code {
				t.Fatalf("status: got %d, want %d; body %s", w.Code, tt.code, w.Body)
			}
			if got := w.Header().Get("Location"); got != tt.location {
				t.Errorf("Location: got %q, want %q", got, tt.location)
			}
			if got := w.Header().Get("HX-Redirect"); got != tt.hx {
				t.Errorf("HX-Redirect: got %q, want %q", got, tt.hx)
			}
			if n := tt.calls(s.fake); n != 1 {
				t.Errorf("the service was asked %d times, want once", n)
			}
			for _, d := range append(append(s.fake.restores, s.fake.purges...), s.fake.deletes...) {
				if d.owner != s.owner || d.admin {
					t.Errorf("asked as %+v, want the cookie's owner %q and never an admin", d, s.owner)
				}
			}
			if len(s.fake.empties) > 0 && s.fake.empties[0] != s.owner {
				t.Errorf("emptied the trash of %q, want %q", s.fake.empties[0], s.owner)
			}
			if tt.message != "" {
				if got := strings.TrimSpace(doc(t, w).Find(`[data-testid=error-message]`).Text()); got != tt.message {
					t.Errorf("message: got %q, want %q", got, tt.message)
				}
			}
		})
	}
}

// Hostile requests to the trash's routes: from another site, with a
// forged cookie, with the wrong method. None reaches the service.
func TestTrashRoutesRefuseHostileRequests(t *testing.T) {
	const eib = "01JDWEB0000000000000000001"
	for _, path := range []string{"/entries/" + eib + "/restore", "/entries/" + eib + "/purge", "/trash/empty"} {
		for _, tt := range []struct {
			name   string
			method string
			header map[string]string
			forged bool
			code   int
		}{
			{"from another site", "POST", map[string]string{"Sec-Fetch-Site": "cross-site"}, false, 403},
			{"with a foreign origin", "POST", map[string]string{"Origin": "https://evil.example"}, false, 403},
			{"with a forged owner cookie", "POST", nil, true, 403},
			{"GET", "GET", nil, false, 0},
			{"PUT", "PUT", nil, false, 0},
			{"DELETE", "DELETE", nil, false, 0},
		} {
			t.Run(path+" "+tt.name, func(t *testing.T) {
				s := newSite(t)
				r := httptest.NewRequest(tt.method, path, nil)
				for k, v := range tt.header {
					r.Header.Set(k, v)
				}
				var w *httptest.ResponseRecorder
				if tt.forged {
					r.AddCookie(&http.Cookie{Name: "mediashare_owner", Value: s.owner + ".forgedsignature"})
					w = httptest.NewRecorder()
					s.handler.ServeHTTP(w, r)
				} else {
					w = s.do(t, r)
				}
				if tt.code != 0 && w.Code != tt.code || w.Code < 400 || w.Code >= 500 {
					t.Errorf("status %d, want a refusal (%d)", w.Code, tt.code)
				}
				msg := strings.TrimSpace(doc(t, w).Find(`[data-testid=error-message]`).Text())
				if msg == "" {
					t.Error("the refusal has no message on the page")
				}
				if tt.forged {
					// The policy decides (one place), and its message is the page's.
					want := apperr.MessageOf(policy.Policy{}.MayAct(policy.Principal{Owner: s.owner, OwnerUnverified: true}))
					if want == "" || msg != want {
						t.Errorf("message %q, want the policy's %q", msg, want)
					}
				}
				if n := len(s.fake.restores) + len(s.fake.purges) + len(s.fake.empties) + len(s.fake.deletes); n != 0 {
					t.Errorf("a hostile request reached the service (%d calls)", n)
				}
			})
		}
	}
}

func TestTrashPageAndEntryInTrash(t *testing.T) {
	s := newSite(t)
	const mine, theirs = "01JDWEB0000000000000000001", "01JDWEB0000000000000000002"
	until := time.Date(2026, 12, 31, 10, 0, 0, 0, time.UTC)
	trash := func(eib string) events.Event {
		return event(t, 2, events.MediaTrashed, eib, events.OwnerActor(s.owner), events.Trashed{Reason: "owner", PurgeAfter: until})
	}
	entryWith(t, s.fake, mine, s.owner, trash(mine))
	entryWith(t, s.fake, theirs, "someone-else", trash(theirs))

	w := s.do(t, httptest.NewRequest("GET", "/trash", nil))
	if w.Code != 200 {
		t.Fatalf("/trash: %d", w.Code)
	}
	d := doc(t, w)
	items := d.Find(`[data-testid=trash-item]`)
	if items.Length() != 1 || items.AttrOr("data-eib", "") != mine {
		t.Fatalf("the trash lists %d items (%s), want only mine", items.Length(), items.AttrOr("data-eib", ""))
	}
	if got := items.Find(`[data-testid=trash-until]`).AttrOr("datetime", ""); got != "2026-12-31T10:00:00Z" {
		t.Errorf("in trash until %q", got)
	}
	for _, b := range []string{"restore", "purge"} {
		if items.Find(`[data-testid=`+b+`]`).Length() != 1 {
			t.Errorf("no %s button", b)
		}
	}
	if d.Find(`[data-testid=empty]`).Length() != 1 || !strings.Contains(d.Find(`.hint`).Text(), "30 days") {
		t.Errorf("no empty button or retention: %s", d.Find(`[data-testid=trash]`).Text())
	}

	w = s.do(t, httptest.NewRequest("GET", "/entries/"+mine, nil))
	d = doc(t, w)
	if w.Code != 200 || d.Find(`[data-testid=in-trash]`).Length() != 1 || d.Find(`[data-testid=restore]`).Length() != 1 {
		t.Errorf("the owner's page of an entry in the trash: %d, no notice or restore button", w.Code)
	}
	if got := d.Find(`[data-testid=trash-until]`).AttrOr("datetime", ""); got != "2026-12-31T10:00:00Z" {
		t.Errorf("entry page: in trash until %q", got)
	}
	if d.Find(`[data-testid=delete-form]`).Length() != 0 {
		t.Error("an entry in the trash offers a delete (to the trash)")
	}
	if got := d.Find(`[data-testid=event][data-type=MediaTrashed] td`).Eq(4).Text(); !strings.Contains(got, "moved to the trash by owner") {
		t.Errorf("the history row of the trash says %q", got)
	}
	if w := s.do(t, httptest.NewRequest("GET", "/entries/"+theirs, nil)); w.Code != 404 {
		t.Errorf("someone else's entry in the trash: %d, want 404", w.Code)
	}
	// An empty trash says so.
	other := newSite(t)
	if d := doc(t, other.do(t, httptest.NewRequest("GET", "/trash", nil))); d.Find(`[data-testid=trash-empty]`).Length() != 1 {
		t.Error("an empty trash does not say so")
	}
}

func TestDuplicateUploadLinksTheEntry(t *testing.T) {
	const eib = "01JDWEB0000000000000000001"
	for _, inTrash := range []bool{false, true} {
		for _, hx := range []bool{false, true} {
			s := newSite(t)
			s.fake.duplicate = &gallery.Uploaded{Entry: projections.Entry{EIB: eib, Title: "Harbour"}, Duplicate: true, InTrash: inTrash}
			r := post(t, part{"title", "", "t"}, part{"comment", "", "c"}, part{"file", "a.jpg", "x"})
			if hx {
				r = htmx(r)
			}
			w := s.do(t, r)
			if w.Code != 200 {
				t.Fatalf("trash %v htmx %v: status %d, want 200", inTrash, hx, w.Code)
			}
			d := doc(t, w)
			n := d.Find(`[data-testid=duplicate]`)
			if n.Length() != 1 || n.Find(`[data-testid=duplicate-link]`).AttrOr("href", "") != "/entries/"+eib {
				t.Fatalf("trash %v htmx %v: no notice linking the entry: %s", inTrash, hx, w.Body)
			}
			if !strings.Contains(n.Text(), "Nothing new was stored") {
				t.Errorf("the notice does not say nothing was stored: %q", n.Text())
			}
			restore := n.Find(`[data-testid=duplicate-restore]`)
			if got := restore.Length() == 1; got != inTrash {
				t.Errorf("trash %v: restore offered %v", inTrash, got)
			}
			if inTrash {
				form := d.Find("form#" + restore.AttrOr("form", "none"))
				if form.AttrOr("action", "") != "/entries/"+eib+"/restore" || form.AttrOr("method", "") != "post" {
					t.Errorf("the restore button's form: %v", form.Nodes)
				}
			}
			if hx && d.Find(`[data-testid=card]`).Length() != 0 {
				t.Error("a duplicate adds a card")
			}
		}
	}
	// Several files, one a duplicate: each says what became of it.
	s := newSite(t)
	s.fake.uploadErr = func(in gallery.UploadInput) error {
		if in.Filename == "b.jpg" {
			s.fake.duplicate = &gallery.Uploaded{Entry: projections.Entry{EIB: eib, Title: "Harbour"}, Duplicate: true}
		} else {
			s.fake.duplicate = nil
		}
		return nil
	}
	w := s.do(t, htmx(post(t, part{"comment", "", "c"}, part{"file", "a.jpg", "x"}, part{"file", "b.jpg", "y"})))
	d := doc(t, w)
	if w.Code != 200 || d.Find(`[data-testid=file-ok]`).Length() != 1 || d.Find(`[data-testid=file-duplicate] [data-testid=duplicate-link]`).AttrOr("href", "") != "/entries/"+eib {
		t.Errorf("several files with a duplicate: %d %s", w.Code, w.Body)
	}
}
