package thumbnail

import (
	"bytes"
	"context"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"mediashare/internal/media/mediatest"
)

// A HEIC whose colr property is an ICC profile (heif-enc keeps the
// JPEG's) is converted to sRGB like a JPEG with that profile.
func TestHEICWithICCProfile(t *testing.T) {
	if !HEIFNative {
		t.Skip("HEIC needs libheif (go test -tags nativeheif, apt-get install -y libheif-dev)")
	}
	linear := makeICC(srgbPrimaries, linearTRC())
	src := filepath.Join(t.TempDir(), "linear.jpg")
	if err := os.WriteFile(src, jpegWithICC(t, solid(color.NRGBA{128, 128, 128, 255}), linear), 0o644); err != nil {
		t.Fatal(err)
	}
	heic := mediatest.HEICFile(t, src)
	if !bytes.Contains(heic, []byte("prof")) {
		t.Fatal("heif-enc wrote no ICC profile")
	}
	res, err := Make(context.Background(), bytes.NewReader(heic), Options{})
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(res.PNG))
	if err != nil {
		t.Fatal(err)
	}
	// Linear light 128/255 is sRGB 188.
	got := color.RGBAModel.Convert(img.At(20, 15)).(color.RGBA)
	if !near(got.R, 188, 4) || !near(got.G, 188, 4) || !near(got.B, 188, 4) {
		t.Errorf("a linear-light HEIC: %v, want about 188", got)
	}
}
