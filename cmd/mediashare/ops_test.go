package main

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func smallPNG(t testing.TB, i int) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, 64, 48))
	for p := 0; p < len(img.Pix); p += 4 {
		img.Pix[p], img.Pix[p+1], img.Pix[p+2], img.Pix[p+3] = uint8(i*8), 100, 200, 255
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestGalleryPagination(t *testing.T) {
	s := startSite(t, nil)
	c := browser(t)
	const n = 30
	for i := 0; i < n; i++ {
		resp := s.post(c, "/entries", uploadParts(fmt.Sprintf("picture %02d", i), "c", "p.png", "image/png", smallPNG(t, i)), false)
		readBody(t, resp)
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("upload %d: %d", i, resp.StatusCode)
		}
		time.Sleep(2 * time.Millisecond) // distinct upload times
	}
	doc := mustDoc(t, s.get(c, "/"))
	cards := doc.Find(`[data-testid=card] [data-testid=title]`)
	if cards.Length() != 24 {
		t.Fatalf("first page has %d cards, want 24", cards.Length())
	}
	if got := cards.First().Text(); got != "picture 29" {
		t.Errorf("first card %q, want the newest, picture 29", got)
	}
	more := doc.Find(`[data-testid=more]`)
	href, hxGet := more.AttrOr("href", ""), more.AttrOr("hx-get", "")
	if href == "" || href != hxGet {
		t.Fatalf("load more: href %q, hx-get %q; want the same link for both", href, hxGet)
	}
	// With htmx: the next run of cards alone, ending without another link.
	frag := mustDoc(t, s.do(c, "GET", hxGet, map[string]string{"HX-Request": "true"}))
	if frag.Find("header.site-header").Length() != 0 {
		t.Error("the htmx page of cards came as a whole page")
	}
	rest := frag.Find(`[data-testid=card] [data-testid=title]`)
	if rest.Length() != 6 || rest.First().Text() != "picture 05" || rest.Last().Text() != "picture 00" {
		t.Errorf("second page: %d cards from %q to %q, want 6 from picture 05 to picture 00", rest.Length(), rest.First().Text(), rest.Last().Text())
	}
	if frag.Find(`[data-testid=more]`).Length() != 0 {
		t.Error("the last page offers more")
	}
	// Without JavaScript the same link is a whole page.
	plain := mustDoc(t, s.get(c, href))
	if plain.Find(`[data-testid=card]`).Length() != 6 || plain.Find("header.site-header").Length() != 1 {
		t.Error("the plain second page is not a whole page with 6 cards")
	}
}

func TestHealthReadyAndMetrics(t *testing.T) {
	s := startSite(t, nil)
	c := browser(t)
	for _, path := range []string{"/healthz", "/readyz"} {
		resp := s.get(c, path)
		if body := readBody(t, resp); resp.StatusCode != 200 || strings.TrimSpace(string(body)) != "ok" {
			t.Errorf("GET %s: %d %q", path, resp.StatusCode, body)
		}
	}
	resp := s.post(c, "/entries", uploadParts("m", "c", "p.png", "image/png", smallPNG(t, 1)), false)
	readBody(t, resp)
	readBody(t, s.get(c, "/entries/not-an-id"))
	waitFor(t, "thumbnail", func() bool {
		for _, card := range s.cards(c) {
			return card.AttrOr("data-status", "") == "ready"
		}
		return false
	})
	resp = s.get(c, "/metrics")
	metrics := string(readBody(t, resp))
	for _, want := range []string{
		`mediashare_http_requests_total{code="303",method="POST",route="POST /entries"} 1`,
		`mediashare_http_requests_total{code="404",method="GET",route="GET /entries/{eib}"} 1`,
		`mediashare_http_request_duration_seconds_bucket{method="GET",route="GET /{$}"`,
		`mediashare_http_requests_in_flight 1`,
		`mediashare_uploads_total{result="ok"} 1`,
		`mediashare_upload_bytes_total`,
		`mediashare_thumbnail_duration_seconds_count 1`,
		`mediashare_events_appended_total{type="MediaUploaded"} 1`,
		`mediashare_events_appended_total{type="ThumbnailGenerated"} 1`,
		`mediashare_projection_lag_seconds{consumer="entries-view"}`,
		`go_goroutines`,
		`process_resident_memory_bytes`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if strings.Contains(metrics, "not-an-id") {
		t.Error("a raw path leaked into a metric label")
	}
	if resp.Header.Get("Set-Cookie") != "" {
		t.Error("/metrics sets a cookie")
	}
}

// The 1280 px preview, made after the grid thumbnail, is timed on
// /metrics beside it.
func TestPreviewIsTimedOnMetrics(t *testing.T) {
	s := startSite(t, nil)
	c := browser(t)
	eib := uploadOne(t, s, c, "Storm.jpg", photoBytes(t, "Storm.jpg"))
	s.waitStatus(c, eib, "ready") // and its preview
	metrics := string(readBody(t, s.get(c, "/metrics")))
	for _, want := range []string{
		`mediashare_thumbnail_duration_seconds_count 1`,
		`mediashare_preview_duration_seconds_count 1`,
		`mediashare_preview_failures_total 0`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

// SIGTERM lets an upload that is still being sent finish.
func TestShutdownLetsInFlightUploadsFinish(t *testing.T) {
	s := startSite(t, nil)
	c := browser(t)
	body, ct := multipartBody(t, uploadParts("slow", "c", "p.png", "image/png", smallPNG(t, 2)))
	raw := body.Bytes()
	pr, pw := io.Pipe()
	req, _ := http.NewRequest("POST", s.url+"/entries", pr)
	req.Header.Set("Content-Type", ct)
	req.ContentLength = int64(len(raw))
	got := make(chan *http.Response, 1)
	go func() {
		resp, err := c.Do(req)
		if err != nil {
			t.Error(err)
		}
		got <- resp
	}()
	pw.Write(raw[:len(raw)/2])
	time.Sleep(100 * time.Millisecond) // the request is in flight
	stopped := make(chan struct{})
	go func() { s.stop(); close(stopped) }()
	time.Sleep(200 * time.Millisecond) // shutdown has begun
	pw.Write(raw[len(raw)/2:])
	pw.Close()
	resp := <-got
	if resp == nil {
		t.Fatal("no response")
	}
	readBody(t, resp)
	if resp.StatusCode != http.StatusSeeOther {
		t.Errorf("in-flight upload during shutdown: %d, want 303", resp.StatusCode)
	}
	<-stopped
	if got := len(s.events()); got < 1 {
		t.Error("the in-flight upload was not recorded")
	}
}
