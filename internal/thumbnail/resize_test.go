package thumbnail

import (
	"bytes"
	"image"
	"image/jpeg"
	"math/rand/v2"
	"testing"

	"github.com/anthonynsimon/bild/transform"
)

// The resampler matches bild's linear filter (which it replaced) within a
// level or two on every size, reduction and enlargement, keeps a flat
// colour exact, and never lets a premultiplied colour exceed its alpha.
func TestResizeLinearMatchesBild(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	noisy := func(w, h int) *image.RGBA {
		img := image.NewRGBA(image.Rect(0, 0, w, h))
		for y := range h {
			for x := range w {
				a := uint8(128 + 127*((x/7+y/5)%2))
				i := img.PixOffset(x, y)
				// smooth gradients plus noise, premultiplied
				for c := range 3 {
					v := (x*3 + y*5 + c*40 + rng.IntN(30)) % 256
					img.Pix[i+c] = uint8(v * int(a) / 255)
				}
				img.Pix[i+3] = a
			}
		}
		return img
	}
	for _, tc := range []struct{ sw, sh, w, h int }{
		{1920, 1280, 1280, 853}, {1920, 1280, 320, 213}, {640, 427, 320, 213}, {1000, 10, 37, 3},
		{7, 5, 3, 2}, {3, 3, 1, 1}, {100, 80, 150, 120}, {1, 1, 1, 1}, {2, 300, 1, 17},
	} {
		src := noisy(tc.sw, tc.sh)
		got := resizeLinear(src, tc.w, tc.h)
		want := transform.Resize(src, tc.w, tc.h, transform.Linear)
		var sum, worst float64
		for i := range got.Pix {
			d := float64(got.Pix[i]) - float64(want.Pix[i])
			if d < 0 {
				d = -d
			}
			sum += d
			worst = max(worst, d)
		}
		if mean := sum / float64(len(got.Pix)); mean > 1.5 {
			t.Errorf("%d×%d → %d×%d: mean difference from bild %.2f levels (worst %.0f), want at most 1.5", tc.sw, tc.sh, tc.w, tc.h, mean, worst)
		}
		for i := 0; i < len(got.Pix); i += 4 {
			if a := got.Pix[i+3]; got.Pix[i] > a || got.Pix[i+1] > a || got.Pix[i+2] > a {
				t.Fatalf("%d×%d → %d×%d: premultiplied colour above alpha: %v", tc.sw, tc.sh, tc.w, tc.h, got.Pix[i:i+4])
			}
		}
	}
	// An opaque image, filtered in three channels, gives exactly what the
	// four-channel filter gives, alpha included.
	for _, tc := range []struct{ sw, sh, w, h int }{
		{1920, 1280, 1280, 853}, {1440, 960, 1280, 853}, {480, 320, 320, 213}, {705, 397, 320, 180},
		{640, 427, 320, 213}, {1000, 10, 37, 3}, {7, 5, 3, 2}, {3, 3, 1, 1}, {100, 80, 150, 120}, {1, 1, 1, 1}, {2, 300, 1, 17},
	} {
		src := noisy(tc.sw, tc.sh)
		for i := 3; i < len(src.Pix); i += 4 {
			src.Pix[i] = 255
		}
		if !opaqueRGBA(src) {
			t.Fatal("opaqueRGBA: false for an opaque image")
		}
		s := new(scratch)
		got := s.resizeLinear(src, tc.w, tc.h)
		want := s.resizeChannels(src, tc.w, tc.h, 4)
		if !bytes.Equal(got.Pix, want.Pix) {
			t.Errorf("%d×%d → %d×%d opaque: three channels differ from four", tc.sw, tc.sh, tc.w, tc.h)
		}
		s.release()
	}
	flat := image.NewRGBA(image.Rect(0, 0, 333, 222))
	for i := range flat.Pix {
		flat.Pix[i] = []uint8{90, 60, 30, 200}[i%4]
	}
	got := resizeLinear(flat, 101, 67)
	for i := range got.Pix {
		if want := []uint8{90, 60, 30, 200}[i%4]; got.Pix[i] != want {
			t.Fatalf("a flat colour changed at byte %d: %d, want %d", i, got.Pix[i], want)
		}
	}
}

func BenchmarkResizeLinear(b *testing.B) {
	src := image.NewRGBA(image.Rect(0, 0, 1920, 1280))
	for i := range src.Pix {
		src.Pix[i] = uint8(i)
	}
	b.Run("ours", func(b *testing.B) {
		for b.Loop() {
			resizeLinear(src, 1280, 853)
		}
	})
	opaque := image.NewRGBA(src.Rect)
	copy(opaque.Pix, src.Pix)
	for i := 3; i < len(opaque.Pix); i += 4 {
		opaque.Pix[i] = 255
	}
	b.Run("opaque", func(b *testing.B) {
		s := new(scratch)
		cpu := processCPU()
		for b.Loop() {
			s.resizeLinear(opaque, 1280, 853)
			s.release()
		}
		b.ReportMetric(float64(processCPU()-cpu)/1e6/float64(b.N), "cpu-ms/op")
	})
	b.Run("bild", func(b *testing.B) {
		for b.Loop() {
			transform.Resize(src, 1280, 853, transform.Linear)
		}
	})
}

// An opaque preview is a JPEG (libjpeg-turbo's in the native build,
// image/jpeg's otherwise) that decodes to the image within a few levels.
func TestEncodePreviewJPEG(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 640, 427))
	for y := range 427 {
		for x := range 640 {
			i := img.PixOffset(x, y)
			img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = uint8(x*255/639), uint8(y*255/426), uint8((x+y)%256/2+64), 255
		}
	}
	rend, err := encodePreview(img)
	if err != nil {
		t.Fatal(err)
	}
	if rend.ContentType != "image/jpeg" || rend.Ext != ".jpg" || rend.Width != 640 || rend.Height != 427 {
		t.Fatalf("preview %s %s %d×%d, want image/jpeg .jpg 640×427", rend.ContentType, rend.Ext, rend.Width, rend.Height)
	}
	dec, err := jpeg.Decode(bytes.NewReader(rend.Data))
	if err != nil {
		t.Fatalf("the preview does not decode: %v", err)
	}
	got := toRGBA(dec)
	var sum float64
	for i := range got.Pix {
		d := float64(got.Pix[i]) - float64(img.Pix[i])
		sum += max(d, -d)
	}
	if mean := sum / float64(len(got.Pix)); mean > 3 {
		t.Errorf("preview differs from the image by %.2f levels on average (native %v), want at most 3", mean, Native)
	}
}
