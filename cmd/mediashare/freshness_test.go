package main

import (
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

// Gallery and entry pages are kept per version of the view and
// revalidated: If-None-Match with the page's ETag is a 304 while nothing
// changed, for that viewer only; a change made through one instance is on
// the pages every other instance serves as soon as that instance follows
// the change log past it (one --live-poll at most), whatever the browser
// holds; and every answer's upload form has a request id of its own.
func TestPagesRevalidateAndAChangeIsVisibleAtOnceEverywhere(t *testing.T) {
	t.Run("embedded", func(t *testing.T) {
		s := startSite(t, nil)
		testFreshness(t, s, s)
	})
	t.Run("aws-two-instances", func(t *testing.T) {
		c := defaultConfig(t)
		awsConfig(t, &c)
		same := func(cfg *config) { data := cfg.Data; *cfg = c; cfg.Data = data }
		testFreshness(t, startSite(t, same), startSite(t, same))
	})
}

var requestIDRe = regexp.MustCompile(`name="request" value="([^"]+)"`)

func testFreshness(t *testing.T, a, b *site) {
	c := browser(t)
	get := func(s *site, path, etag string, header map[string]string) (*http.Response, string) {
		t.Helper()
		h := map[string]string{}
		for k, v := range header {
			h[k] = v
		}
		if etag != "" {
			h["If-None-Match"] = etag
		}
		resp := s.do(c, "GET", path, h)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp, string(body)
	}
	// An entry to look at.
	resp := a.post(c, "/entries", uploadParts("first", "c", "p.png", "image/png", smallPNG(t, 3)), true)
	first := mustDoc(t, resp).Find(`[data-testid=card]`).AttrOr("data-eib", "")
	b.waitStatus(c, first, "ready")
	// Kept pages are keyed on the position b's live poller has reached,
	// which may trail the view by one poll: compare pages once it is there.
	waitFor(t, "b's poller to reach the change log", func() bool {
		h, err := b.app.backend.Changes.LastChange(context.Background())
		at, ok := b.app.poller.Head()
		return err == nil && ok && at == h
	})

	for _, path := range []string{"/", "/entries/" + first} {
		r1, body1 := get(b, path, "", nil)
		etag := r1.Header.Get("ETag")
		if r1.StatusCode != 200 || etag == "" {
			t.Fatalf("GET %s: %d, ETag %q; want 200 with an ETag", path, r1.StatusCode, etag)
		}
		if cc := r1.Header.Get("Cache-Control"); !strings.Contains(cc, "no-cache") || !strings.Contains(cc, "private") {
			t.Errorf("GET %s: Cache-Control %q, want private, no-cache (revalidate every time)", path, cc)
		}
		vary := strings.Join(r1.Header.Values("Vary"), ",")
		if !strings.Contains(vary, "HX-Request") || !strings.Contains(vary, "Cookie") {
			t.Errorf("GET %s: Vary %q, want HX-Request and Cookie", path, vary)
		}
		r2, body2 := get(b, path, etag, nil)
		if r2.StatusCode != http.StatusNotModified || body2 != "" || r2.Header.Get("ETag") != etag {
			t.Errorf("GET %s with its ETag: %d, %d bytes, ETag %q; want 304, empty, the same ETag", path, r2.StatusCode, len(body2), r2.Header.Get("ETag"))
		}
		if r, _ := get(b, path, `W/"something-else", "another"`, nil); r.StatusCode != 200 {
			t.Errorf("GET %s with other ETags: %d, want 200", path, r.StatusCode)
		}
		// Another viewer (no cookie: a new owner) gets a page of its own.
		anon := &http.Client{}
		req, _ := http.NewRequest("GET", b.url+path, nil)
		req.Header.Set("If-None-Match", etag)
		if r, err := anon.Do(req); err != nil || r.StatusCode != 200 {
			t.Errorf("GET %s as another viewer with the first viewer's ETag: %v %v, want 200", path, r.StatusCode, err)
		} else {
			r.Body.Close()
		}
		if path == "/" {
			_, body3 := get(b, path, "", nil)
			id1, id3 := requestIDRe.FindStringSubmatch(body1), requestIDRe.FindStringSubmatch(body3)
			if id1 == nil || id3 == nil || id1[1] == id3[1] {
				t.Errorf("two answers of the same page: request ids %v and %v, want two different ones", id1, id3)
			}
			if strings.Replace(body1, id1[1], "", 1) != strings.Replace(body3, id3[1], "", 1) {
				t.Error("two answers of the same page differ in more than the request id")
			}
		}
	}

	// A change through a: once the change log has it, b serves the new
	// page within its live poll interval, and never a 304 for the old one
	// after that.
	_, before := get(b, "/", "", nil)
	rOld, _ := get(b, "/", "", nil)
	oldGallery := rOld.Header.Get("ETag")
	rEntry, _ := get(b, "/entries/"+first, "", nil)
	oldEntry := rEntry.Header.Get("ETag")
	headBefore, err := b.app.backend.Changes.LastChange(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	resp = a.post(c, "/entries", uploadParts("second", "c", "q.png", "image/png", smallPNG(t, 5)), true)
	second := mustDoc(t, resp).Find(`[data-testid=card]`).AttrOr("data-eib", "")
	waitFor(t, "the change log to move on", func() bool {
		h, err := b.app.backend.Changes.LastChange(context.Background())
		return err == nil && h != headBefore
	})
	seen := time.Now()
	var r *http.Response
	var body string
	for {
		r, body = get(b, "/", oldGallery, nil)
		if r.StatusCode == 200 && strings.Contains(body, second) && body != before {
			break
		}
		if time.Since(seen) > 5*time.Second {
			t.Fatalf("gallery on the other instance 5 s after a change, with the old ETag: %d, new entry shown %v; want 200 with it", r.StatusCode, strings.Contains(body, second))
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("the change was on the other instance's page %s after the change log had it", time.Since(seen).Round(time.Millisecond))
	if r, _ := get(b, "/", oldGallery, nil); r.StatusCode != 200 {
		t.Errorf("gallery with the old ETag after the new page was served: %d, want 200", r.StatusCode)
	}
	if r.Header.Get("ETag") == oldGallery {
		t.Error("the gallery's ETag did not change with the view")
	}
	// The first entry's page: its history did not change, but the view
	// did, so it is served again (a version of the view, not of the row).
	if r, _ := get(b, "/entries/"+first, oldEntry, nil); r.StatusCode != 200 {
		t.Errorf("entry page after a change with the old ETag: %d, want 200", r.StatusCode)
	}
	// Deleting the second entry through a: b's next entry page says so.
	b.waitStatus(c, second, "ready")
	rs, _ := get(b, "/entries/"+second, "", nil)
	etagSecond := rs.Header.Get("ETag")
	headBefore, _ = b.app.backend.Changes.LastChange(context.Background())
	del := a.do(c, "POST", "/entries/"+second+"/delete", nil)
	del.Body.Close()
	waitFor(t, "the delete in the change log", func() bool {
		h, err := b.app.backend.Changes.LastChange(context.Background())
		return err == nil && h != headBefore
	})
	waitFor(t, "the gallery without the deleted entry", func() bool {
		r, body := get(b, "/", "", nil)
		return r.StatusCode == 200 && !strings.Contains(body, `data-eib="`+second+`"`)
	})
	if r, _ := get(b, "/entries/"+second, etagSecond, nil); r.StatusCode == http.StatusNotModified {
		t.Error("deleted entry's page answered 304 with its old ETag")
	}
	// A page link we did not make is still a 400 with its message, not kept.
	for range 2 {
		if r, body := get(b, "/?after=garbage", "", nil); r.StatusCode != 400 || r.Header.Get("ETag") != "" || !strings.Contains(body, "not valid") {
			t.Errorf("GET /?after=garbage: %d, ETag %q; want 400 with a message and no ETag", r.StatusCode, r.Header.Get("ETag"))
		}
	}
	if r, _ := get(b, "/entries/NOSUCHENTRY0000000000000000", "", nil); r.StatusCode != 404 || r.Header.Get("ETag") != "" {
		t.Errorf("GET a missing entry: %d, ETag %q; want 404 without an ETag", r.StatusCode, r.Header.Get("ETag"))
	}
}
