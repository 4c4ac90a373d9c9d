package thumbnail_test

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"testing"

	"mediashare/internal/media/mediatest"
	"mediashare/internal/thumbnail"
)

func mustPreview(t *testing.T, data []byte, opts thumbnail.Options) *thumbnail.Rendition {
	t.Helper()
	p, err := thumbnail.MakePreview(context.Background(), bytes.NewReader(data), opts)
	if err != nil {
		t.Fatalf("MakePreview: %v", err)
	}
	return p
}

// MakePreview makes the same preview that Make makes beside the grid
// thumbnail, and nothing else.
func TestMakePreviewOfAPhoto(t *testing.T) {
	data, err := os.ReadFile(mediatest.Photo(t, "Storm.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	p := mustPreview(t, data, thumbnail.Options{})
	if p == nil {
		t.Fatal("no preview of a 1920×1280 photo")
	}
	if p.Width != 1280 || p.Height != 853 || p.ContentType != "image/jpeg" || p.Ext != ".jpg" {
		t.Errorf("got %d×%d %s %s, want 1280×853 image/jpeg .jpg", p.Width, p.Height, p.ContentType, p.Ext)
	}
	img, err := jpeg.Decode(bytes.NewReader(p.Data))
	if err != nil {
		t.Fatalf("the preview is not a JPEG: %v", err)
	}
	if got := img.Bounds().Size(); got != image.Pt(p.Width, p.Height) {
		t.Errorf("got a %v JPEG, want the reported %d×%d", got, p.Width, p.Height)
	}
	both, err := thumbnail.Make(context.Background(), bytes.NewReader(data), thumbnail.Options{PreviewSide: thumbnail.DefaultPreviewSide})
	if err != nil {
		t.Fatal(err)
	}
	if both.Preview == nil || both.Preview.Width != p.Width || both.Preview.Height != p.Height || !bytes.Equal(both.Preview.Data, p.Data) {
		t.Errorf("MakePreview and Make's preview differ")
	}
	if small := mustPreview(t, data, thumbnail.Options{PreviewSide: 640}); small == nil || small.Width != 640 {
		t.Errorf("PreviewSide 640: got %+v", small)
	}
}

func TestMakePreviewStandsUpright(t *testing.T) {
	// 800×400, turned by EXIF orientation 6: upright it is 400×800, its
	// top-left quarter red.
	data := mustOrientedJPEG(t, quadrants(800, 400, blue, red, green, white), 6)
	p := mustPreview(t, data, thumbnail.Options{})
	if p == nil || p.Width != 400 || p.Height != 800 {
		t.Fatalf("got %+v, want 400×800 (never upscaled, turned upright)", p)
	}
	img, err := jpeg.Decode(bytes.NewReader(p.Data))
	if err != nil {
		t.Fatal(err)
	}
	if got := img.At(100, 200); !near(got, green, 40) {
		t.Errorf("top left after turning: got %v, want green", got)
	}
}

func TestMakePreviewKeepsTransparency(t *testing.T) {
	data := mustEncode(t, quadrants(900, 900, color.NRGBA{}, red, red, red), "png")
	p := mustPreview(t, data, thumbnail.Options{})
	if p == nil || p.ContentType != "image/png" || p.Ext != ".png" || p.Width != 900 {
		t.Fatalf("got %+v, want a 900×900 PNG", p)
	}
	img, err := png.Decode(bytes.NewReader(p.Data))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, a := img.At(100, 100).RGBA(); a != 0 {
		t.Errorf("the transparent quarter has alpha %#x", a)
	}
}

func TestMakePreviewOfASmallImageIsNone(t *testing.T) {
	data := mustEncode(t, gradient(320, 200), "jpeg")
	if p := mustPreview(t, data, thumbnail.Options{}); p != nil {
		t.Errorf("got a %d×%d preview of an image no larger than the grid thumbnail", p.Width, p.Height)
	}
}

func TestMakePreviewRefuses(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	good := mustEncode(t, gradient(800, 600), "jpeg")
	if _, err := thumbnail.MakePreview(ctx, bytes.NewReader(good), thumbnail.Options{}); err == nil {
		t.Error("a cancelled context made a preview")
	}
	if p, err := thumbnail.MakePreview(context.Background(), bytes.NewReader([]byte("this is not an image at all")), thumbnail.Options{}); err == nil {
		t.Errorf("garbage made %+v", p)
	}
	big := mustEncode(t, gradient(2000, 2000), "png")
	if _, err := thumbnail.MakePreview(context.Background(), bytes.NewReader(big), thumbnail.Options{MaxPixels: 1000 * 1000}); err == nil {
		t.Error("an image over MaxPixels made a preview")
	}
}
