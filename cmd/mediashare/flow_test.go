package main

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"mediashare/internal/media"
	"mediashare/internal/media/mediatest"
)

// The whole flow of the walking skeleton, over HTTP against a running
// `mediashare serve` on each backend: upload a real photo, see it
// processed, open it, fetch its media, delete it, and find its history kept.
func TestUploadBrowseOpenDelete(t *testing.T) {
	backends(t, testUploadBrowseOpenDelete)
}

func testUploadBrowseOpenDelete(t *testing.T, start func(func(*config)) *site) {
	s := start(func(c *config) { c.TrashRetention = 0 }) // deleted at once, as before the trash
	alice := browser(t)

	// An empty gallery invites the first upload.
	doc := mustDoc(t, s.get(alice, "/"))
	if doc.Find(`[data-testid=empty]`).Length() != 1 || doc.Find(`[data-testid=upload-form]`).Length() != 1 {
		t.Fatal("the empty gallery shows no invitation or no upload form")
	}

	photo, err := os.ReadFile(mediatest.Photo(t, "Storm.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	title := `Storm <script>alert("x")</script>`
	resp := s.post(alice, "/entries", uploadParts(title, "Over the sea\nat dusk", "Storm.jpg", "image/jpeg", photo), false)
	readBody(t, resp)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		t.Fatalf("plain upload: %d to %q, want 303 to /", resp.StatusCode, resp.Header.Get("Location"))
	}
	cards := s.cards(alice)
	if len(cards) != 1 {
		t.Fatalf("gallery has %d cards after one upload, want 1", len(cards))
	}
	var eib string
	for k := range cards {
		eib = k
	}

	card := s.waitStatus(alice, eib, "ready")
	if got := card.Find(`[data-testid=title]`).Text(); got != title {
		t.Errorf("card title %q, want %q (rendered escaped, read back as text)", got, title)
	}
	if href := card.Find("a").AttrOr("href", ""); href != "/entries/"+eib {
		t.Errorf("card links to %q, want /entries/%s", href, eib)
	}
	raw := readBody(t, s.get(alice, "/"))
	if bytes.Contains(raw, []byte(`<script>alert`)) {
		t.Error("the title reached the page unescaped")
	}

	// The thumbnail: a PNG whose longest side is 320, aspect kept.
	thumbURL := card.Find(`[data-testid=thumbnail]`).AttrOr("src", "")
	thumb := s.get(alice, thumbURL)
	img := decodePNG(t, thumb)
	if b := img.Bounds(); b.Dx() != 320 || b.Dy() != 213 {
		t.Errorf("thumbnail of a 1920x1280 photo is %dx%d, want 320x213", b.Dx(), b.Dy())
	}

	// The entry page.
	doc = mustDoc(t, s.get(alice, "/entries/"+eib))
	for sel, want := range map[string]string{
		"[data-testid=title]":      title,
		"[data-testid=comment]":    "Over the sea\nat dusk",
		"[data-testid=dimensions]": "1920 × 1280 px",
		"[data-testid=status]":     "ready",
	} {
		if got := strings.TrimSpace(doc.Find(sel).First().Text()); got != want {
			t.Errorf("entry page %s: got %q, want %q", sel, got, want)
		}
	}
	if got := doc.Find(`[data-testid=size]`).Text(); !strings.HasSuffix(got, "KB") && !strings.HasSuffix(got, "MB") {
		t.Errorf("entry page size %q", got)
	}
	if got := historyTypes(doc); got != "MediaUploaded,ThumbnailGenerated,PreviewGenerated" {
		t.Errorf("entry history: got %s", got)
	}
	original := doc.Find(`[data-testid=original-url]`).AttrOr("href", "")
	if preview := doc.Find(`[data-testid=preview]`); preview.Length() != 1 || !strings.Contains(preview.AttrOr("srcset", ""), "1280w") {
		t.Error("the entry page shows no 1280 px preview with a srcset")
	}

	// Media: type, nosniff, caching, ETag, ranges.
	resp = s.get(alice, original)
	body := readBody(t, resp)
	if !bytes.Equal(body, photo) {
		t.Error("the original served differs from the upload")
	}
	for h, want := range map[string]string{
		"Content-Type":           "image/jpeg",
		"X-Content-Type-Options": "nosniff",
		"Cache-Control":          "public, max-age=31536000, immutable",
	} {
		if got := resp.Header.Get(h); got != want {
			t.Errorf("original %s: got %q, want %q", h, got, want)
		}
	}
	etag := resp.Header.Get("ETag")
	if etag == "" {
		t.Error("no ETag on media")
	}
	resp = s.do(alice, "GET", original, map[string]string{"Range": "bytes=0-9"})
	if part := readBody(t, resp); resp.StatusCode != http.StatusPartialContent || !bytes.Equal(part, photo[:10]) {
		t.Errorf("range request: %d with %d bytes, want 206 with the first 10", resp.StatusCode, len(part))
	}
	resp = s.do(alice, "GET", original, map[string]string{"If-None-Match": etag})
	readBody(t, resp)
	if resp.StatusCode != http.StatusNotModified {
		t.Errorf("conditional request: %d, want 304", resp.StatusCode)
	}
	if resp := s.get(alice, "/media/nothing-here.png"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("missing media: %d, want 404", resp.StatusCode)
	}

	// Someone else may not delete it, and sees no delete button.
	bob := browser(t)
	if n := mustDoc(t, s.get(bob, "/entries/"+eib)).Find(`[data-testid=delete]`).Length(); n != 0 {
		t.Error("a visitor who does not own the entry is offered a delete button")
	}
	resp = s.post(bob, "/entries/"+eib+"/delete", nil, false)
	if msg := mustDoc(t, resp).Find(`[data-testid=error-message]`).Text(); resp.StatusCode != http.StatusForbidden || !strings.Contains(msg, "your own") {
		t.Errorf("delete by another visitor: %d %q, want 403 with a message", resp.StatusCode, msg)
	}
	if s.cards(alice)[eib] == nil {
		t.Fatal("the entry left the gallery after a refused delete")
	}

	// Its owner deletes it.
	files := s.mediaFiles()
	for _, want := range []string{eib + ".jpg", eib + ".jpg-tn.png"} {
		if !slices.Contains(files, want) {
			t.Errorf("media files before delete: %v, want %s among them", files, want)
		}
	}
	resp = s.post(alice, "/entries/"+eib+"/delete", nil, false)
	readBody(t, resp)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("owner delete: %d, want 303", resp.StatusCode)
	}
	if s.cards(alice)[eib] != nil {
		t.Error("a deleted entry is still in the gallery")
	}
	if resp := s.get(alice, "/entries/"+eib); resp.StatusCode != http.StatusNotFound {
		t.Errorf("deleted entry page: %d, want 404", resp.StatusCode)
	}
	waitFor(t, "blobs removed from disk", func() bool { return len(s.mediaFiles()) == 0 })
	waitFor(t, "MediaPurged recorded", func() bool {
		return streamTypes(s.events(), eib) == "MediaUploaded,ThumbnailGenerated,PreviewGenerated,MediaDeleted,MediaPurged"
	})
	if resp := s.get(alice, original); resp.StatusCode != http.StatusNotFound {
		t.Errorf("media of a deleted entry: %d, want 404", resp.StatusCode)
	}
}

// An htmx upload answers with a fresh form and the new card out of band;
// an htmx delete answers with a redirect header. Phone photos stand upright.
func TestHtmxUploadAndOrientedThumbnail(t *testing.T) {
	s := startSite(t, nil)
	c := browser(t)

	// 400x200: red left half, blue right half, stored with EXIF orientation 6
	// (rotate 90° clockwise to display): upright it is 200x400, red on top.
	src := image.NewRGBA(image.Rect(0, 0, 400, 200))
	for y := 0; y < 200; y++ {
		for x := 0; x < 400; x++ {
			col := color.RGBA{220, 20, 20, 255}
			if x >= 200 {
				col = color.RGBA{20, 20, 220, 255}
			}
			src.Set(x, y, col)
		}
	}
	jpg, err := mediatest.JPEGWithOrientation(src, 6)
	if err != nil {
		t.Fatal(err)
	}
	resp := s.post(c, "/entries", uploadParts("Phone photo", "taken sideways", "IMG_0001.JPG", "image/jpeg", jpg), true)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("htmx upload: %d, want 201", resp.StatusCode)
	}
	doc := mustDoc(t, resp)
	oob := doc.Find(`[hx-swap-oob="afterbegin:#cards"] [data-testid=card]`)
	if oob.Length() != 1 || oob.AttrOr("data-status", "") != "processing" {
		t.Fatalf("htmx upload response has no processing card out of band")
	}
	if doc.Find(`[data-testid=upload-form]`).Length() != 1 || doc.Find(`[data-testid=form-notice]`).Length() != 1 {
		t.Error("htmx upload response has no fresh form with a notice")
	}
	eib := oob.AttrOr("data-eib", "")
	card := s.waitStatus(c, eib, "ready")
	frag := mustDoc(t, s.do(c, "GET", "/entries/"+eib+"/card", map[string]string{"HX-Request": "true"}))
	if frag.Find(`[data-testid=card]`).AttrOr("data-status", "") != "ready" || frag.Find("html body header").Length() != 0 {
		t.Error("the card fragment is not a lone ready card")
	}

	img := decodePNG(t, s.get(c, card.Find(`[data-testid=thumbnail]`).AttrOr("src", "")))
	b := img.Bounds()
	if b.Dx() != 160 || b.Dy() != 320 {
		t.Fatalf("thumbnail is %dx%d, want 160x320 (upright)", b.Dx(), b.Dy())
	}
	top, bottom := img.At(80, 40), img.At(80, 280)
	if !reddish(top) || reddish(bottom) {
		t.Errorf("orientation not applied: top %v, bottom %v; want red on top, blue below", top, bottom)
	}

	resp = s.do(c, "DELETE", "/entries/"+eib, map[string]string{"HX-Request": "true"})
	readBody(t, resp)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("HX-Redirect") != "/" {
		t.Errorf("htmx delete: %d with HX-Redirect %q, want 200 and /", resp.StatusCode, resp.Header.Get("HX-Redirect"))
	}
	// A deleted entry's card fragment is empty, so a polling card vanishes.
	if body := readBody(t, s.do(c, "GET", "/entries/"+eib+"/card", map[string]string{"HX-Request": "true"})); len(bytes.TrimSpace(body)) != 0 {
		t.Errorf("card of a deleted entry: %q, want nothing", body)
	}
}

func reddish(c color.Color) bool {
	r, g, b, _ := c.RGBA()
	return r > 2*b && r > 2*g
}

func decodePNG(t *testing.T, resp *http.Response) image.Image {
	t.Helper()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("thumbnail: %d %s, want 200 image/png", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	img, err := png.Decode(bytes.NewReader(readBody(t, resp)))
	if err != nil {
		t.Fatalf("thumbnail is not a PNG: %v", err)
	}
	return img
}

// Several files at once: each becomes an entry named after its file; a
// rejected one gets its message and the others are uploaded.
func TestSeveralFilesAtOnce(t *testing.T) { backends(t, testSeveralFilesAtOnce) }

func testSeveralFilesAtOnce(t *testing.T, start func(func(*config)) *site) {
	s := start(nil)
	c := browser(t)
	for i, htmx := range []bool{true, false} {
		// Other bytes each time: the same bytes again would be duplicates.
		parts := []part{
			{name: "title", data: nil},
			{name: "comment", data: []byte("holiday")},
			{name: "file", filename: "beach_day.png", contentType: "image/png", data: smallPNG(t, 5+2*i)},
			{name: "file", filename: "notes.txt", contentType: "image/png", data: []byte("not an image at all")},
			{name: "file", filename: "sunset-2.png", contentType: "image/png", data: smallPNG(t, 6+2*i)},
		}
		resp := s.post(c, "/entries", parts, htmx)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("htmx=%v: mixed result status %d, want 200", htmx, resp.StatusCode)
		}
		doc := mustDoc(t, resp)
		if got := doc.Find(`[data-testid=file-ok]`).Length(); got != 2 {
			t.Errorf("htmx=%v: %d files reported uploaded, want 2", htmx, got)
		}
		bad := doc.Find(`[data-testid=file-error]`)
		if bad.Length() != 1 || bad.AttrOr("data-file", "") != "notes.txt" || !strings.Contains(bad.Text(), "Only JPEG, PNG, GIF") {
			t.Errorf("htmx=%v: the rejected file's message: %q", htmx, bad.Text())
		}
		if htmx && doc.Find(`[hx-swap-oob="afterbegin:#cards"] [data-testid=card]`).Length() != 2 {
			t.Errorf("the htmx answer does not carry the two new cards")
		}
	}
	var titles []string
	for _, card := range s.cards(c) {
		titles = append(titles, card.Find(`[data-testid=title]`).Text())
	}
	sort.Strings(titles)
	if want := "beach day,beach day,sunset 2,sunset 2"; strings.Join(titles, ",") != want {
		t.Errorf("titles %v, want %s", titles, want)
	}
}

// Originals lose their location metadata by default (orientation kept,
// pixels untouched); with --keep-original-metadata they are stored byte
// for byte.
func TestOriginalsLoseLocationUnlessKept(t *testing.T) {
	src := image.NewRGBA(image.Rect(0, 0, 40, 20))
	jpg, err := mediatest.JPEGWithMetadata(src, mediatest.ExifWithGPS(6), `<x:xmpmeta xmlns:x="adobe:ns:meta/"><exif:GPSLatitude>48,51.5N</exif:GPSLatitude></x:xmpmeta>`)
	if err != nil {
		t.Fatal(err)
	}
	hasLocation := func(b []byte) bool {
		info, err := media.Inspect(bytes.NewReader(b), int64(len(b)), media.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		has, err := media.HasLocation(bytes.NewReader(b), int64(len(b)), info)
		if err != nil {
			t.Fatal(err)
		}
		if info.Orientation != 6 {
			t.Errorf("orientation %d, want 6 kept", info.Orientation)
		}
		return has
	}
	if !hasLocation(jpg) {
		t.Fatal("the test image carries no location")
	}
	for _, keep := range []bool{false, true} {
		s := startSite(t, func(c *config) { c.KeepMetadata = keep })
		c := browser(t)
		readBody(t, s.post(c, "/entries", uploadParts("where", "c", "gps.jpg", "image/jpeg", jpg), false))
		var eib string
		for k := range s.cards(c) {
			eib = k
		}
		stored := readBody(t, s.get(c, "/media/"+eib+".jpg"))
		if got := hasLocation(stored); got != keep {
			t.Errorf("keep=%v: the served original has location metadata: %v", keep, got)
		}
		if keep && !bytes.Equal(stored, jpg) {
			t.Error("with --keep-original-metadata the original changed")
		}
		if !keep && bytes.Contains(stored, []byte("GPSLatitude")) {
			t.Error("the XMP location survived")
		}
	}
}

// A retried upload (the response was lost, the button pressed twice)
// with the same request id makes its entry once.
func TestRetriedUploadMakesOneEntry(t *testing.T) { backends(t, testRetriedUploadMakesOneEntry) }

func testRetriedUploadMakesOneEntry(t *testing.T, start func(func(*config)) *site) {
	s := start(nil)
	c := browser(t)
	form := mustDoc(t, s.get(c, "/"))
	request := form.Find(`input[name=request]`).AttrOr("value", "")
	if request == "" {
		t.Fatal("the upload form carries no request id")
	}
	parts := append(uploadParts("once", "c", "p.png", "image/png", smallPNG(t, 1)), part{name: "request", data: []byte(request)})
	var eibs []string
	for i := 0; i < 3; i++ {
		resp := s.post(c, "/entries", parts, true)
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("attempt %d: %d", i+1, resp.StatusCode)
		}
		eibs = append(eibs, mustDoc(t, resp).Find(`[data-testid=card]`).AttrOr("data-eib", ""))
	}
	if eibs[0] == "" || eibs[1] != eibs[0] || eibs[2] != eibs[0] {
		t.Errorf("retries answered with entries %v, want one", eibs)
	}
	if n := len(s.cards(c)); n != 1 {
		t.Errorf("the gallery has %d entries after three tries of one request, want 1", n)
	}
	uploads := 0
	for _, e := range s.events() {
		if e.Type == "MediaUploaded" {
			uploads++
		}
	}
	if uploads != 1 {
		t.Errorf("%d MediaUploaded events, want 1", uploads)
	}
	// Someone else replaying the request id gets an entry of their own.
	resp := s.post(browser(t), "/entries", parts, true)
	other := mustDoc(t, resp).Find(`[data-testid=card]`).AttrOr("data-eib", "")
	if resp.StatusCode != http.StatusCreated || other == eibs[0] {
		t.Errorf("another visitor with the same request id: %d, entry %s (the first was %s)", resp.StatusCode, other, eibs[0])
	}
	// A fresh form has a fresh request id.
	if again := mustDoc(t, s.get(c, "/")).Find(`input[name=request]`).AttrOr("value", ""); again == request {
		t.Error("the form's request id did not change")
	}
}

// With --media-url, pages and live messages point browsers at the bucket
// or CDN, and the page's CSP allows images from there.
func TestMediaFromAnotherOrigin(t *testing.T) {
	s := startSite(t, func(c *config) { c.MediaURL = "https://cdn.example.net/m" })
	c := browser(t)
	sc := openLive(t, s, c, "")
	readBody(t, s.post(c, "/entries", uploadParts("elsewhere", "c", "p.png", "image/png", smallPNG(t, 1)), false))
	var eib string
	for k := range s.cards(c) {
		eib = k
	}
	card := s.waitStatus(c, eib, "ready")
	if src := card.Find(`[data-testid=thumbnail]`).AttrOr("src", ""); src != "https://cdn.example.net/m/"+eib+".png-tn.png" {
		t.Errorf("thumbnail src %q", src)
	}
	resp := s.get(c, "/entries/"+eib)
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "img-src 'self' data: blob: https://cdn.example.net;") {
		t.Errorf("CSP %q does not allow the media origin", csp)
	}
	if href := mustDoc(t, resp).Find(`[data-testid=original-url]`).AttrOr("href", ""); href != "https://cdn.example.net/m/"+eib+".png" {
		t.Errorf("original link %q", href)
	}
	for {
		ev := sc.next(5 * time.Second)
		if strings.Contains(ev.data, `data-status="ready"`) {
			if !strings.Contains(ev.data, `src="https://cdn.example.net/m/`+eib) {
				t.Errorf("the live card does not use the media URL: %s", ev.data)
			}
			break
		}
	}
}
