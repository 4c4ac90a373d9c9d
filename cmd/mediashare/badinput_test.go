package main

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"io"
	"math/rand"
	"net/http"
	"os"
	"strings"
	"testing"

	"mediashare/internal/media/mediatest"
)

// pngHeader is a tiny PNG whose IHDR declares w×h pixels: a decompression
// bomb's shape. Nothing past the header needs to exist to refuse it.
func pngHeader(w, h uint32) []byte {
	var b bytes.Buffer
	b.Write([]byte("\x89PNG\r\n\x1a\n"))
	chunk := func(typ string, data []byte) {
		binary.Write(&b, binary.BigEndian, uint32(len(data)))
		crc := crc32.NewIEEE()
		crc.Write([]byte(typ))
		crc.Write(data)
		b.WriteString(typ)
		b.Write(data)
		binary.Write(&b, binary.BigEndian, crc.Sum32())
	}
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 2 // 8-bit RGB
	chunk("IHDR", ihdr)
	chunk("IDAT", []byte{0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01})
	chunk("IEND", nil)
	return b.Bytes()
}

// Every kind of bad input gets a 4xx with a message shown next to the form,
// keeps what was typed, and leaves no file, no event and no entry behind.
func TestBadInputLeavesNothingBehind(t *testing.T) { backends(t, testBadInputLeavesNothingBehind) }

func testBadInputLeavesNothingBehind(t *testing.T, start func(func(*config)) *site) {
	s := start(func(c *config) { c.MaxUploadBytes = 4 << 20 })
	c := browser(t)
	photo, err := os.ReadFile(mediatest.Photo(t, "Storm.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	pngPhoto, err := os.ReadFile(mediatest.Photo(t, "Gulp.png"))
	if err != nil {
		t.Fatal(err)
	}
	noise := make([]byte, 5000)
	rand.New(rand.NewSource(1)).Read(noise)
	huge := make([]byte, 4<<20+1)
	copy(huge, photo)

	tests := []struct {
		name     string
		parts    []part
		code     int
		message  string
		keepText bool
	}{
		{"blank title", uploadParts("   ", "c", "a.jpg", "image/jpeg", photo), 400, "give the image a title", true},
		{"blank comment", uploadParts("t", "", "a.jpg", "image/jpeg", photo), 400, "write a comment", true},
		{"title too long", uploadParts(strings.Repeat("é", 201), "c", "a.jpg", "image/jpeg", photo), 400, "at most 200 characters", true},
		{"comment too long", uploadParts("t", strings.Repeat("x", 2001), "a.jpg", "image/jpeg", photo), 400, "at most 2000 characters", true},
		{"no file", uploadParts("t", "c", "", "", nil), 400, "choose an image", true},
		{"empty file", uploadParts("t", "c", "a.jpg", "image/jpeg", []byte{}), 400, "empty", true},
		{"HTML named .jpg", uploadParts("t", "c", "cat.jpg", "image/jpeg", []byte("<!DOCTYPE html><html><body><script>alert(1)</script></body></html>")), 415, "Only JPEG, PNG, GIF", true},
		{"SVG", uploadParts("t", "c", "x.svg", "image/svg+xml", []byte(`<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect width="10" height="10"/></svg>`)), 415, "Only JPEG, PNG, GIF", true},
		{"random bytes", uploadParts("t", "c", "x.png", "image/png", noise), 415, "Only JPEG, PNG, GIF", true},
		{"truncated JPEG", uploadParts("t", "c", "a.jpg", "image/jpeg", photo[:len(photo)/2]), 400, "truncated", true},
		{"truncated PNG", uploadParts("t", "c", "a.png", "image/png", pngPhoto[:len(pngPhoto)/3]), 400, "truncated", true},
		{"over the size limit", uploadParts("t", "c", "big.jpg", "image/jpeg", huge), 413, "larger than the 4 MiB limit", false},
		{"pixel bomb", uploadParts("t", "c", "bomb.png", "image/png", pngHeader(30000, 30000)), 413, "megapixel", true},
	}
	for _, tt := range tests {
		for _, htmx := range []bool{false, true} {
			name := tt.name
			if htmx {
				name += " (htmx)"
			}
			t.Run(name, func(t *testing.T) {
				resp := s.post(c, "/entries", tt.parts, htmx)
				if resp.StatusCode != tt.code {
					t.Errorf("status %d, want %d", resp.StatusCode, tt.code)
				}
				doc := mustDoc(t, resp)
				msg := doc.Find(`[data-testid=form-error]`).Text()
				if !strings.Contains(msg, tt.message) {
					t.Errorf("message %q, want it to contain %q", msg, tt.message)
				}
				if htmx && doc.Find("header.site-header").Length() != 0 {
					t.Error("the htmx answer is a whole page, want the form alone")
				}
				if !htmx && doc.Find(`[data-testid=gallery]`).Length() != 1 {
					t.Error("the plain answer is not the gallery page with the form")
				}
				if tt.keepText {
					title := string(tt.parts[0].data)
					if got, _ := doc.Find(`input[name=title]`).Attr("value"); got != title {
						t.Errorf("title not kept: got %q, want %q", got, title)
					}
					if got := doc.Find(`textarea[name=comment]`).Text(); got != string(tt.parts[1].data) {
						t.Errorf("comment not kept: got %d chars, want %d", len(got), len(tt.parts[1].data))
					}
				}
			})
		}
	}

	// A streamed (chunked) body over the limit, with no Content-Length.
	t.Run("over the size limit, chunked", func(t *testing.T) {
		body, ct := multipartBody(t, uploadParts("t", "c", "big.jpg", "image/jpeg", huge))
		req, _ := http.NewRequest("POST", s.url+"/entries", io.MultiReader(body))
		req.Header.Set("Content-Type", ct)
		req.ContentLength = -1
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if msg := mustDoc(t, resp).Find(`[data-testid=form-error]`).Text(); resp.StatusCode != 413 || !strings.Contains(msg, "limit") {
			t.Errorf("got %d %q, want 413 with the limit", resp.StatusCode, msg)
		}
	})

	if evs := s.events(); len(evs) != 0 {
		t.Errorf("bad input appended %d events, want none: %v", len(evs), evs)
	}
	if files := s.mediaFiles(); len(files) != 0 {
		t.Errorf("bad input left files behind: %v", files)
	}
	if cards := s.cards(c); len(cards) != 0 {
		t.Errorf("bad input made %d gallery entries", len(cards))
	}
}

func TestUnknownEntriesAre404Pages(t *testing.T) {
	s := startSite(t, nil)
	c := browser(t)
	for _, path := range []string{"/entries/01ARZ3NDEKTSV4RRFFQ69G5FAV", "/entries/not-an-id", "/entries/..%2F..%2Fetc", "/nowhere", "/?after=garbage"} {
		resp := s.get(c, path)
		doc := mustDoc(t, resp)
		want := http.StatusNotFound
		if strings.HasPrefix(path, "/?") {
			want = http.StatusBadRequest
		}
		if resp.StatusCode != want || doc.Find(`[data-testid=error-message]`).Text() == "" {
			t.Errorf("GET %s: %d, want %d with a message page", path, resp.StatusCode, want)
		}
	}
	for _, path := range []string{"/entries/01ARZ3NDEKTSV4RRFFQ69G5FAV/delete"} {
		resp := s.post(c, path, nil, false)
		readBody(t, resp)
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("POST %s: %d, want 404", path, resp.StatusCode)
		}
	}
}

// State changes from another site are refused (CSRF).
func TestCrossSiteRequestsAreRefused(t *testing.T) {
	s := startSite(t, nil)
	c := browser(t)
	photo, _ := os.ReadFile(mediatest.Photo(t, "Storm.jpg"))
	body, ct := multipartBody(t, uploadParts("t", "c", "a.jpg", "image/jpeg", photo))
	req, _ := http.NewRequest("POST", s.url+"/entries", body)
	req.Header.Set("Content-Type", ct)
	req.Header.Set("Origin", "https://evil.example")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	readBody(t, resp)
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site upload: %d, want 403", resp.StatusCode)
	}
	if len(s.events()) != 0 {
		t.Error("a cross-site upload was recorded")
	}
}
