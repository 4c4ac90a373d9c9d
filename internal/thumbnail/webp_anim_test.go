package thumbnail_test

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"testing"

	"mediashare/internal/apperr"
	"mediashare/internal/media"
	"mediashare/internal/media/mediatest"
	"mediashare/internal/thumbnail"
)

// An animated WebP (made by img2webp) is accepted and its first frame is
// the thumbnail, transparency kept, in both the lossless (VP8L) and the
// lossy (VP8 with ALPH) kinds.
func TestMakeAnimatedWebP(t *testing.T) {
	first := quadrants(400, 300, red, green, blue, color.NRGBA{})
	second := quadrants(400, 300, white, white, white, white)
	for _, lossy := range []bool{false, true} {
		data := mediatest.AnimatedWebP(t, []image.Image{first, second}, lossy)
		if kind := map[bool]string{false: "VP8L", true: "ALPH"}[lossy]; !bytes.Contains(data, []byte(kind)) {
			t.Fatalf("lossy %v: img2webp wrote no %s chunk", lossy, kind)
		}
		info, err := media.Inspect(bytes.NewReader(data), int64(len(data)), media.Limits{})
		if err != nil {
			t.Fatalf("lossy %v: Inspect: %v", lossy, err)
		}
		if info.Format != media.WebP || info.Width != 400 || info.Height != 300 {
			t.Errorf("lossy %v: got %+v, want a 400×300 WebP", lossy, info)
		}
		res, img := mustMake(t, data, thumbnail.Options{PreviewSide: 1280})
		if res.Width != 320 || res.Height != 240 {
			t.Errorf("lossy %v: got %d×%d, want 320×240", lossy, res.Width, res.Height)
		}
		checkQuadrants(t, img, 24, &red, &green, &blue, nil)
		if res.Preview == nil || res.Preview.ContentType != "image/png" {
			t.Errorf("lossy %v: got preview %+v, want a PNG (it has transparency)", lossy, res.Preview)
		}
	}
}

// A first frame that lies outside the canvas, or is cut, is refused as
// damaged, never a panic.
func TestMakeAnimatedWebPDamaged(t *testing.T) {
	data := mediatest.AnimatedWebP(t, []image.Image{quadrants(64, 48, red, green, blue, white), quadrants(64, 48, white, white, white, white)}, false)
	i := bytes.Index(data, []byte("ANMF"))
	if i < 0 {
		t.Fatal("no ANMF chunk")
	}
	outside := bytes.Clone(data)
	outside[i+8] = 100 // X offset: 200 pixels into a 64-pixel canvas
	garbled := bytes.Clone(data)
	for k := i + 8 + 16 + 8; k < i+8+16+40 && k < len(garbled); k++ {
		garbled[k] = 0xFF
	}
	for name, bad := range map[string][]byte{"frame outside the canvas": outside, "bitstream garbled": garbled} {
		_, err := thumbnail.Make(context.Background(), bytes.NewReader(bad), thumbnail.Options{})
		if err == nil {
			t.Errorf("%s: got no error", name)
			continue
		}
		if code := apperr.CodeOf(err); code != apperr.Invalid {
			t.Errorf("%s: got code %q (%v), want invalid", name, code, err)
		}
	}
}
