package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"mediashare/internal/events"
	"mediashare/internal/media/mediatest"
)

// instances starts two sites on one backend with the trash retention
// given: for AWS two servers on the same tables and bucket; the embedded
// backend is one process (one SQLite file), so its "second instance" is
// the same site.
func instances(t *testing.T, backend string, retention time.Duration) (a, b *site) {
	t.Helper()
	if backend == "embedded" {
		a = startSite(t, func(c *config) { c.TrashRetention = retention })
		return a, a
	}
	shared := defaultConfig(t)
	awsConfig(t, &shared)
	same := func(c *config) {
		c.Backend, c.AWS, c.AWSLeaseDuration, c.SecretFile, c.TrashRetention = shared.Backend, shared.AWS, shared.AWSLeaseDuration, shared.SecretFile, retention
	}
	return startSite(t, same), startSite(t, same)
}

func bothBackends(t *testing.T, fn func(t *testing.T, backend string)) {
	for _, b := range []string{"embedded", "aws"} {
		t.Run(b, func(t *testing.T) { fn(t, b) })
	}
}

// photoBytes reads a photo: a name in the shared photos or a path.
func photoBytes(t *testing.T, name string) []byte {
	t.Helper()
	path := name
	if !filepath.IsAbs(name) {
		path = mediatest.Photo(t, name)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// uploadOne uploads a photo as c and returns the new entry's eib.
// lessPreview is a stream's types without the PreviewGenerated that may
// come after its ThumbnailGenerated, for tests that trash an entry
// without waiting for its preview (made then, or not at all once trashed).
func lessPreview(types string) string {
	return strings.Replace(types, "ThumbnailGenerated,PreviewGenerated", "ThumbnailGenerated", 1)
}

func uploadOne(t *testing.T, s *site, c *http.Client, title string, photo []byte) string {
	t.Helper()
	before := s.cards(c)
	resp := s.post(c, "/entries", uploadParts(title, "a comment", "photo.jpg", "image/jpeg", photo), false)
	readBody(t, resp)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("upload %q: %d, want 303", title, resp.StatusCode)
	}
	for eib := range s.cards(c) {
		if before[eib] == nil {
			return eib
		}
	}
	t.Fatalf("upload %q: no new card", title)
	return ""
}

func (s *site) status(c *http.Client, method, path string) int {
	s.t.Helper()
	resp := s.do(c, method, path, nil)
	readBody(s.t, resp)
	return resp.StatusCode
}

// Delete moves an entry to the trash: out of every instance's gallery,
// in its owner's trash, blobs kept; restore puts it back with its
// thumbnail on both, no new decode; the same bytes again make no entry.
func TestTrashAndRestore(t *testing.T) { bothBackends(t, testTrashAndRestore) }

func testTrashAndRestore(t *testing.T, backend string) {
	a, b := instances(t, backend, 720*time.Hour)
	alice, bob := browser(t), browser(t)
	photo := photoBytes(t, "Storm.jpg")
	eib := uploadOne(t, a, alice, "Storm", photo)
	card := b.waitStatus(alice, eib, "ready")
	thumb := card.Find(`img[data-testid=thumbnail]`).AttrOr("src", "")
	original := "/media/" + eib + ".jpg"
	if thumb == "" {
		t.Fatal("no thumbnail on the card")
	}

	// Its owner deletes it through A.
	resp := a.post(alice, "/entries/"+eib+"/delete", nil, false)
	readBody(t, resp)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("delete: %d, want 303", resp.StatusCode)
	}
	waitFor(t, "the entry leaves B's gallery", func() bool { return b.cards(bob)[eib] == nil })
	if a.cards(alice)[eib] != nil {
		t.Error("the entry is still in A's gallery")
	}
	for _, s := range []*site{a, b} {
		doc := mustDoc(t, s.get(alice, "/trash"))
		item := doc.Find(`[data-testid=trash-item][data-eib="` + eib + `"]`)
		if item.Length() != 1 {
			t.Fatalf("%s: the entry is not in its owner's trash", s.url)
		}
		until, err := time.Parse(time.RFC3339, item.Find(`[data-testid=trash-until]`).AttrOr("datetime", ""))
		if err != nil || until.Before(time.Now().Add(719*time.Hour)) || until.After(time.Now().Add(721*time.Hour)) {
			t.Errorf("in trash until %v (%v), want in 720h", until, err)
		}
		if n := mustDoc(t, s.get(bob, "/trash")).Find(`[data-testid=trash-item]`).Length(); n != 0 {
			t.Errorf("someone else's trash lists %d entries", n)
		}
	}
	for _, key := range []string{original, thumb} {
		if code := b.status(bob, "GET", key); code != http.StatusOK {
			t.Errorf("%s of an entry in the trash: %d, want 200 (kept)", key, code)
		}
	}
	doc := mustDoc(t, b.get(alice, "/entries/"+eib))
	if doc.Find(`[data-testid=in-trash]`).Length() != 1 || doc.Find(`[data-testid=restore]`).Length() != 1 {
		t.Error("the owner's entry page does not say it is in the trash with a restore button")
	}
	if code := b.status(bob, "GET", "/entries/"+eib); code != http.StatusNotFound {
		t.Errorf("a stranger's view of an entry in the trash: %d, want 404", code)
	}

	// Hostile restores change nothing.
	for _, tt := range []struct {
		name   string
		c      *http.Client
		method string
		path   string
		header map[string]string
		code   int
	}{
		{"a stranger's restore", bob, "POST", "/entries/" + eib + "/restore", nil, http.StatusForbidden},
		{"an unknown entry", alice, "POST", "/entries/01JDNOSUCHENTRY00000000000/restore", nil, http.StatusNotFound},
		{"a malformed id", alice, "POST", "/entries/..%2f..%2fx/restore", nil, http.StatusNotFound},
		{"a GET", alice, "GET", "/entries/" + eib + "/restore", nil, 0},
		{"a PUT", alice, "PUT", "/entries/" + eib + "/restore", nil, 0},
		{"from another site", alice, "POST", "/entries/" + eib + "/restore", map[string]string{"Sec-Fetch-Site": "cross-site"}, http.StatusForbidden},
		{"with a foreign origin", alice, "POST", "/entries/" + eib + "/restore", map[string]string{"Origin": "https://evil.example"}, http.StatusForbidden},
		{"a stranger's delete now", bob, "POST", "/entries/" + eib + "/purge", nil, http.StatusForbidden},
		{"a stranger empties their own trash", bob, "POST", "/trash/empty", nil, http.StatusSeeOther},
	} {
		resp := b.do(tt.c, tt.method, tt.path, tt.header)
		readBody(t, resp)
		if tt.code != 0 && resp.StatusCode != tt.code || tt.code == 0 && (resp.StatusCode < 400 || resp.StatusCode >= 500) {
			t.Errorf("%s: %d, want %d", tt.name, resp.StatusCode, tt.code)
		}
	}
	if got := lessPreview(streamTypes(a.events(), eib)); got != "MediaUploaded,ThumbnailGenerated,MediaTrashed" {
		t.Fatalf("after the hostile requests: %s", got)
	}
	for _, cursor := range []string{"bogus", "12.", strings.Repeat("9", 300)} {
		resp := b.get(alice, "/trash?after="+cursor)
		msg := mustDoc(t, resp).Find(`[data-testid=error-message]`).Text()
		if resp.StatusCode != http.StatusBadRequest || msg == "" {
			t.Errorf("/trash?after=%.20s: %d %q, want 400 with a message", cursor, resp.StatusCode, msg)
		}
	}

	// The same bytes again, while in the trash: no new entry, a link and
	// the offer to restore it.
	files := len(a.mediaFiles())
	resp = a.post(alice, "/entries", uploadParts("again", "c", "again.jpg", "image/jpeg", photo), true)
	doc = mustDoc(t, resp)
	dup := doc.Find(`[data-testid=duplicate]`)
	if resp.StatusCode != http.StatusOK || dup.Find(`[data-testid=duplicate-link]`).AttrOr("href", "") != "/entries/"+eib || dup.Find(`[data-testid=duplicate-restore]`).Length() != 1 {
		t.Errorf("a duplicate of an entry in the trash: %d %q", resp.StatusCode, dup.Text())
	}

	// Its owner restores it through B: back on both, with its thumbnail.
	resp = b.do(alice, "POST", "/entries/"+eib+"/restore", nil)
	readBody(t, resp)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/entries/"+eib {
		t.Fatalf("restore: %d to %q, want 303 to the entry", resp.StatusCode, resp.Header.Get("Location"))
	}
	for _, s := range []*site{a, b} {
		waitFor(t, "the entry is back with its thumbnail on "+s.url, func() bool {
			c := s.cards(bob)[eib]
			return c != nil && c.AttrOr("data-status", "") == "ready" && c.Find(`img[data-testid=thumbnail]`).AttrOr("src", "") == thumb
		})
	}
	if code := a.status(bob, "GET", thumb); code != http.StatusOK {
		t.Errorf("the thumbnail after the restore: %d", code)
	}
	if got := lessPreview(streamTypes(a.events(), eib)); got != "MediaUploaded,ThumbnailGenerated,MediaTrashed,MediaRestored" {
		t.Errorf("after the restore: %s (no second thumbnail)", got)
	}
	if n := mustDoc(t, a.get(alice, "/trash")).Find(`[data-testid=trash-item]`).Length(); n != 0 {
		t.Errorf("the trash still lists %d entries", n)
	}
	if code := a.status(alice, "POST", "/entries/"+eib+"/restore"); code != http.StatusConflict {
		t.Errorf("a second restore: %d, want 409", code)
	}

	// The same bytes again, in the gallery: a link, nothing stored; from
	// someone else, an entry of their own.
	resp = a.post(alice, "/entries", uploadParts("again", "c", "again.jpg", "image/jpeg", photo), false)
	doc = mustDoc(t, resp)
	dup = doc.Find(`[data-testid=duplicate]`)
	if resp.StatusCode != http.StatusOK || dup.Find(`[data-testid=duplicate-link]`).AttrOr("href", "") != "/entries/"+eib || dup.Find(`[data-testid=duplicate-restore]`).Length() != 0 {
		t.Errorf("a duplicate of an entry in the gallery: %d %q", resp.StatusCode, dup.Text())
	}
	if got := len(a.mediaFiles()); got != files {
		t.Errorf("the duplicates stored files: %d, then %d", files, got)
	}
	theirs := uploadOne(t, a, bob, "bob's storm", photo)
	if theirs == eib {
		t.Error("another owner's identical bytes returned the first entry")
	}
	streams := map[string]bool{}
	for _, e := range a.events() {
		if e.Type == events.MediaUploaded {
			streams[e.Stream] = true
		}
	}
	if len(streams) != 2 {
		t.Errorf("%d entries, want 2 (alice's, and bob's identical bytes)", len(streams))
	}

	// History and its export show the trash and the restore.
	hist := mustDoc(t, a.get(alice, "/history?entry="+eib))
	if got := strings.Replace(historyTypes(hist), "PreviewGenerated,ThumbnailGenerated", "ThumbnailGenerated", 1); got != "MediaRestored,MediaTrashed,ThumbnailGenerated,MediaUploaded" {
		t.Errorf("history of the entry: %s", got)
	}
	resp = a.get(alice, "/history.ndjson?entry="+eib)
	body := string(readBody(t, resp))
	for _, typ := range []string{"MediaTrashed", "MediaRestored"} {
		if !strings.Contains(body, `"type":"`+typ+`"`) {
			t.Errorf("/history.ndjson lacks %s", typ)
		}
	}
}

// After the retention the blobs are purged and MediaPurged recorded once,
// with two instances sweeping; a restore then is refused.
func TestTrashRetentionPurgesOnce(t *testing.T) { bothBackends(t, testTrashRetentionPurgesOnce) }

func testTrashRetentionPurgesOnce(t *testing.T, backend string) {
	a, b := instances(t, backend, 2*time.Second)
	alice := browser(t)
	var eibs []string
	for i, p := range []string{"Storm.jpg", "RainDrops.jpg", mediatest.Scaled(t, "Storm.jpg", 640)} {
		eib := uploadOne(t, a, alice, filepath.Base(p), photoBytes(t, p))
		b.waitStatus(alice, eib, "ready")
		if i == 0 {
			readBody(t, a.post(alice, "/entries/"+eib+"/delete", nil, false))
		} else {
			readBody(t, b.post(alice, "/entries/"+eib+"/delete", nil, false))
		}
		eibs = append(eibs, eib)
	}
	// An entry in the gallery stays put.
	kept := uploadOne(t, a, alice, "kept", smallPNG(t, 21))
	waitFor(t, "every blob purged", func() bool {
		for _, f := range a.mediaFiles() {
			for _, eib := range eibs {
				if strings.HasPrefix(f, eib) {
					return false
				}
			}
		}
		return true
	})
	waitFor(t, "MediaPurged recorded for each", func() bool {
		evs := a.events()
		for _, eib := range eibs {
			if !strings.HasSuffix(streamTypes(evs, eib), "MediaPurged") {
				return false
			}
		}
		return true
	})
	time.Sleep(3 * time.Second) // two more sweeps on each instance
	evs := a.events()
	for _, eib := range eibs {
		if got, want := lessPreview(streamTypes(evs, eib)), "MediaUploaded,ThumbnailGenerated,MediaTrashed,MediaDeleted,MediaPurged"; got != want {
			t.Errorf("%s: %s, want %s (once each)", eib, got, want)
		}
	}
	for _, e := range evs {
		if e.Type == events.MediaDeleted && (e.Actor != events.SystemActor || string(e.Data) != `{"reason":"retention"}`) {
			t.Errorf("the end of the period recorded %s %s", e.Actor, e.Data)
		}
	}
	if code := b.status(alice, "POST", "/entries/"+eibs[0]+"/restore"); code != http.StatusNotFound {
		t.Errorf("a restore of a purged entry: %d, want 404", code)
	}
	if got := lessPreview(streamTypes(evs, kept)); got != "MediaUploaded,ThumbnailGenerated" && got != "MediaUploaded" {
		t.Errorf("an entry in the gallery was touched: %s", got)
	}
	if n := mustDoc(t, a.get(alice, "/trash")).Find(`[data-testid=trash-item]`).Length(); n != 0 {
		t.Errorf("the trash lists %d entries after the period", n)
	}
	hist := historyTypes(mustDoc(t, a.get(alice, "/history?entry="+eibs[0])))
	if !strings.HasPrefix(hist, "MediaPurged,MediaDeleted,MediaTrashed") {
		t.Errorf("history: %s", hist)
	}
}

// Emptying the trash and "delete now" delete for good at once.
func TestEmptyTrash(t *testing.T) {
	s := startSite(t, nil) // the default retention, 720h
	alice := browser(t)
	var eibs []string
	for i := range 3 {
		eib := uploadOne(t, s, alice, "p", smallPNG(t, 30+i))
		s.waitStatus(alice, eib, "ready")
		readBody(t, s.post(alice, "/entries/"+eib+"/delete", nil, false))
		eibs = append(eibs, eib)
	}
	if code := s.status(alice, "POST", "/entries/"+eibs[0]+"/purge"); code != http.StatusSeeOther {
		t.Fatalf("delete now: %d", code)
	}
	if code := s.status(alice, "POST", "/trash/empty"); code != http.StatusSeeOther {
		t.Fatalf("empty the trash: %d", code)
	}
	waitFor(t, "all purged", func() bool {
		evs := s.events()
		return !slices.ContainsFunc(eibs, func(eib string) bool { return !strings.HasSuffix(streamTypes(evs, eib), "MediaDeleted,MediaPurged") })
	})
	if n := len(s.mediaFiles()); n != 0 {
		t.Errorf("%d media files left: %v", n, s.mediaFiles())
	}
	if n := mustDoc(t, s.get(alice, "/trash")).Find(`[data-testid=trash-item]`).Length(); n != 0 {
		t.Errorf("the trash lists %d entries after emptying", n)
	}
	if code := s.status(alice, "POST", "/entries/"+eibs[1]+"/restore"); code != http.StatusNotFound {
		t.Errorf("a restore after emptying: %d, want 404", code)
	}
}

// A purge cut short by a crash finishes once: on AWS two processes sweep
// the trash and the one purging is killed (the other takes over its
// lease); on the embedded backend the process is killed and started
// again on its data. Each entry ends with one MediaDeleted and one
// MediaPurged, and its blobs are gone.
func TestTrashPurgeSurvivesAKill(t *testing.T) { bothBackends(t, testTrashPurgeSurvivesAKill) }

func testTrashPurgeSurvivesAKill(t *testing.T, backend string) {
	c := defaultConfig(t)
	c.Backend = backend
	if backend == "aws" {
		awsConfig(t, &c)
	} else {
		c.SecretFile = filepath.Join(t.TempDir(), "secret.key")
		if err := os.WriteFile(c.SecretFile, []byte("a test key of thirty-two bytes!!"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	retention := []string{"--trash-retention", "3s"}
	a := startProcess(t, c, retention...)
	b := a.site
	if backend == "aws" {
		time.Sleep(500 * time.Millisecond) // A takes the stream's lease first
		b = startProcess(t, c, retention...).site
	}
	alice := browser(t)
	const n = 12
	var eibs []string
	for i := range n {
		eibs = append(eibs, uploadOne(t, a.site, alice, fmt.Sprint("p", i), smallPNG(t, 40+i)))
	}
	for _, eib := range eibs {
		a.waitStatus(alice, eib, "ready")
	}
	for _, eib := range eibs {
		readBody(t, a.post(alice, "/entries/"+eib+"/delete", nil, false))
	}
	purged := func(evs []events.Event) int {
		k := 0
		for _, eib := range eibs {
			if strings.HasSuffix(streamTypes(evs, eib), "MediaPurged") {
				k++
			}
		}
		return k
	}
	var k int
	waitFor(t, "the purge begins", func() bool { k = purged(b.events()); return k > 0 })
	a.kill()
	if k == n {
		t.Logf("every purge had finished before the kill: the takeover was not exercised this time")
	} else {
		t.Logf("killed with %d of %d entries purged", k, n)
	}
	if backend == "embedded" {
		b = startProcess(t, c, retention...).site
	}
	deadline := time.Now().Add(60 * time.Second)
	for purged(b.events()) < n {
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d purged a minute after the kill", purged(b.events()), n)
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(2 * time.Second) // more sweeps and redeliveries, if any were to double
	evs := b.events()
	for _, eib := range eibs {
		if got, want := lessPreview(streamTypes(evs, eib)), "MediaUploaded,ThumbnailGenerated,MediaTrashed,MediaDeleted,MediaPurged"; got != want {
			t.Errorf("%s: %s, want %s", eib, got, want)
		}
	}
	for _, f := range b.mediaFiles() {
		if !strings.HasPrefix(f, ".") && !strings.HasPrefix(f, "tmp") {
			t.Errorf("a blob is left: %s", f)
		}
	}
}

// `mediashare purge EIB...` deletes for good as an admin, from the
// gallery or the trash; the running site's reactor removes the files.
func TestPurgeCommand(t *testing.T) {
	s := startSite(t, nil)
	alice := browser(t)
	inGallery := uploadOne(t, s, alice, "in the gallery", smallPNG(t, 60))
	inTrash := uploadOne(t, s, alice, "in the trash", smallPNG(t, 61))
	s.waitStatus(alice, inGallery, "ready")
	s.waitStatus(alice, inTrash, "ready")
	readBody(t, s.post(alice, "/entries/"+inTrash+"/delete", nil, false))

	var out, errOut strings.Builder
	if err := run(t.Context(), []string{"purge", "--data", s.data, inGallery, inTrash}, &out, &errOut); err != nil {
		t.Fatalf("purge: %v\n%s", err, errOut.String())
	}
	if n := strings.Count(out.String(), "for good"); n != 2 {
		t.Errorf("purge said %q", out.String())
	}
	waitFor(t, "both purged and their files gone", func() bool {
		evs := s.events()
		return strings.HasSuffix(streamTypes(evs, inGallery), "MediaDeleted,MediaPurged") &&
			strings.HasSuffix(streamTypes(evs, inTrash), "MediaTrashed,MediaDeleted,MediaPurged") && len(s.mediaFiles()) == 0
	})
	for _, e := range s.events() {
		if e.Type == events.MediaDeleted && (e.Actor != events.SystemActor || string(e.Data) != `{"reason":"admin"}`) {
			t.Errorf("the purge recorded %s %s", e.Actor, e.Data)
		}
	}
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"no entry named", []string{"purge", "--data", s.data}, "name the entries"},
		{"an unknown entry", []string{"purge", "--data", s.data, "01JDNOSUCHENTRY00000000000"}, "There is no such entry."},
		{"a malformed id", []string{"purge", "--data", s.data, "../../etc"}, "There is no such entry."},
		{"already deleted", []string{"purge", "--data", s.data, inGallery}, "already been deleted"},
	} {
		err := run(t.Context(), tt.args, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want an error saying %q", tt.name, err, tt.want)
		}
	}
}
