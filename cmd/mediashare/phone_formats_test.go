package main

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/anthonynsimon/bild/transform"

	"mediashare/internal/media"
	"mediashare/internal/media/mediatest"
	"mediashare/internal/thumbnail"
)

// storm is the Storm photo (1920×1280) at w pixels wide, to encode quickly.
func storm(t *testing.T, w int) image.Image {
	t.Helper()
	f, err := os.Open(mediatest.Photo(t, "Storm.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := jpeg.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	b := img.Bounds()
	return transform.Resize(img, w, b.Dy()*w/b.Dx(), transform.Linear)
}

// locationOf reports whether a stored original still carries a location,
// and its orientation.
func locationOf(t *testing.T, b []byte, format string) (bool, int) {
	t.Helper()
	info := media.Info{Format: format}
	has, err := media.HasLocation(bytes.NewReader(b), int64(len(b)), info)
	if err != nil {
		t.Fatal(err)
	}
	return has, media.Orientation(bytes.NewReader(b), int64(len(b)), format)
}

// Phone formats over HTTP on both backends: a HEIC with GPS and an EXIF
// orientation, a grid-tiled HEIC, a 10-bit AVIF and an animated WebP
// become ready entries with upright thumbnails; the HEIC's original loses
// its location, is served as a download and offered so on its page.
// Damaged and oversized ones are refused with nothing stored. In a build
// without libheif HEIC and AVIF are refused with 415 naming it.
func TestPhoneFormats(t *testing.T) { backends(t, testPhoneFormats) }

func testPhoneFormats(t *testing.T, start func(func(*config)) *site) {
	s := start(nil)
	c := browser(t)
	photo := storm(t, 960) // 960×640
	heic := mediatest.Exiftool(t, mediatest.HEIC(t, photo), ".heic", append([]string{"-Orientation=6", "-n"}, mediatest.GPSArgs...)...)
	grid := mediatest.GridHEIC(t, photo, 2, 3, 0)
	avif := mediatest.AVIF(t, photo, 10)
	anim := mediatest.AnimatedWebP(t, []image.Image{photo, storm(t, 960)}, true)
	if has, _ := locationOf(t, heic, media.HEIC); !has {
		t.Fatal("the test HEIC carries no location")
	}

	if !media.HEIFDecodable {
		for name, data := range map[string][]byte{"IMG_0001.HEIC": heic, "photo.avif": avif} {
			resp := s.post(c, "/entries", uploadParts("phone", "c", name, "image/heic", data), false)
			msg := mustDoc(t, resp).Find(`[data-testid=form-error]`).Text()
			if resp.StatusCode != http.StatusUnsupportedMediaType || !strings.Contains(msg, "libheif") {
				t.Errorf("%s: got %d %q, want 415 naming libheif", name, resp.StatusCode, msg)
			}
		}
		if evs := s.events(); len(evs) != 0 {
			t.Errorf("refused uploads appended %d events", len(evs))
		}
		if files := s.mediaFiles(); len(files) != 0 {
			t.Errorf("refused uploads left files: %v", files)
		}
	}

	type upload struct {
		name, filename, ext, contentType string
		data                             []byte
		w, h                             int  // thumbnail
		skyRight                         bool // turned by its orientation: the sky on the right
	}
	uploads := []upload{{"animated WebP", "anim.webp", ".webp", "image/webp", anim, 320, 213, false}}
	if media.HEIFDecodable {
		uploads = append(uploads,
			upload{"HEIC", "IMG_0001.HEIC", ".heic", "image/heic", heic, 213, 320, true},
			upload{"grid HEIC", "IMG_0002.HEIC", ".heic", "image/heic", grid, 320, 213, false},
			upload{"10-bit AVIF", "photo.avif", ".avif", "image/avif", avif, 320, 213, false},
		)
	}
	for _, u := range uploads {
		t.Run(u.name, func(t *testing.T) {
			before := s.cards(c)
			resp := s.post(c, "/entries", uploadParts(u.name, "from a phone", u.filename, "application/octet-stream", u.data), false)
			readBody(t, resp)
			if resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("upload: %d, want 303", resp.StatusCode)
			}
			var eib string
			for k := range s.cards(c) {
				if before[k] == nil {
					eib = k
				}
			}
			card := s.waitStatus(c, eib, "ready")
			img := decodePNG(t, s.get(c, card.Find(`[data-testid=thumbnail]`).AttrOr("src", "")))
			if b := img.Bounds(); b.Dx() != u.w || b.Dy() != u.h {
				t.Errorf("thumbnail %v, want %d×%d", b.Size(), u.w, u.h)
			}
			// The storm's sky is light, its road dark: upright, the top is
			// lighter; turned by EXIF orientation 6, the right.
			b := img.Bounds()
			sky, road := luma(img.At(b.Dx()/2, 8)), luma(img.At(b.Dx()/2, b.Dy()-8))
			if u.skyRight {
				sky, road = luma(img.At(b.Dx()-8, b.Dy()/2)), luma(img.At(8, b.Dy()/2))
			}
			if sky <= road {
				t.Errorf("thumbnail turned wrong: sky luma %d, road %d (sky on the right: %v)", sky, road, u.skyRight)
			}

			doc := mustDoc(t, s.get(c, "/entries/"+eib))
			if doc.Find(`[data-testid=preview]`).Length() != 1 {
				t.Error("the entry page shows no preview")
			}
			link := doc.Find(`[data-testid=original-url]`)
			orig := s.get(c, link.AttrOr("href", ""))
			stored := readBody(t, orig)
			if u.contentType == "image/heic" {
				if _, ok := link.Attr("download"); !ok || !strings.Contains(link.Text(), "download the original (HEIC)") {
					t.Errorf("the original is offered as %q (download attribute: %v), want a HEIC download", link.Text(), ok)
				}
				if doc.Find(`[data-testid=original]`).Length() != 0 {
					t.Error("the entry page shows the HEIC original in an img")
				}
				if got := orig.Header.Get("Content-Disposition"); got != "attachment" {
					t.Errorf("original served with Content-Disposition %q, want attachment", got)
				}
			}
			if got := orig.Header.Get("Content-Type"); got != u.contentType {
				t.Errorf("original served as %q, want %q", got, u.contentType)
			}
			if len(stored) != len(u.data) {
				t.Errorf("stored original is %d bytes, uploaded %d (HEIF metadata is stripped in place)", len(stored), len(u.data))
			}
			if format := strings.TrimPrefix(u.ext, "."); format != "webp" {
				has, o := locationOf(t, stored, format)
				if has {
					t.Error("the stored original still has a location")
				}
				if bytes.Equal(u.data, heic) && o != 6 {
					t.Errorf("stored orientation %d, want 6 kept", o)
				}
			}
		})
	}

	// Damaged and oversized: a clear 4xx, nothing stored.
	files, evs := len(s.mediaFiles()), len(s.events())
	plain := mediatest.HEIC(t, storm(t, 480)) // even sides: heif-enc makes odd ones a 1×1 grid
	for _, tt := range []struct {
		name string
		data []byte
		code int
		msg  string
	}{
		{"truncated HEIC", plain[:len(plain)-500], 400, "truncated"},
		{"truncated AVIF", avif[:len(avif)/2], 400, "truncated"},
		{"HEIC declaring 1.2 gigapixels", mediatest.WithSize(t, plain, 40000, 30000), 413, "megapixels"},
	} {
		resp := s.post(c, "/entries", uploadParts("bad", "c", "x.heic", "image/heic", tt.data), false)
		msg := mustDoc(t, resp).Find(`[data-testid=form-error]`).Text()
		if resp.StatusCode != tt.code || !strings.Contains(msg, tt.msg) {
			t.Errorf("%s: got %d %q, want %d with %q", tt.name, resp.StatusCode, msg, tt.code, tt.msg)
		}
	}
	if got := len(s.mediaFiles()); got != files {
		t.Errorf("refused uploads left %d files", got-files)
	}
	if got := len(s.events()); got != evs {
		t.Errorf("refused uploads appended %d events", got-evs)
	}
}

func luma(c color.Color) int {
	r, g, b, _ := c.RGBA()
	return int(299*r+587*g+114*b) / 1000 >> 8
}

// With --keep-original-metadata a HEIC is stored byte for byte, location
// and all.
func TestHEICKeptWithMetadata(t *testing.T) {
	if !thumbnail.HEIFNative {
		t.Skip("HEIC needs libheif (go test -tags nativeheif, apt-get install -y libheif-dev)")
	}
	heic := mediatest.Exiftool(t, mediatest.HEIC(t, storm(t, 320)), ".heic", mediatest.GPSArgs...)
	s := startSite(t, func(c *config) { c.KeepMetadata = true })
	c := browser(t)
	readBody(t, s.post(c, "/entries", uploadParts("kept", "c", "IMG.HEIC", "image/heic", heic), false))
	var eib string
	for k := range s.cards(c) {
		eib = k
	}
	if stored := readBody(t, s.get(c, "/media/"+eib+".heic")); !bytes.Equal(stored, heic) {
		t.Error("with --keep-original-metadata the HEIC changed")
	}
}
