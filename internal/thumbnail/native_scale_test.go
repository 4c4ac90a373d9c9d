//go:build cgo && nativecodecs

package thumbnail

import (
	"bytes"
	"image"
	"image/jpeg"
	"os"
	"testing"

	"mediashare/internal/media/mediatest"
)

// libjpeg-turbo decodes at exactly the size turboScaled chooses, the size
// the decode budget's estimate counts, for the grid thumbnail alone and
// with a preview: the smallest M/8 scale no smaller than the largest
// rendition.
func TestTurboDecodesAtTheEstimatedScale(t *testing.T) {
	photo, err := os.ReadFile(mediatest.Photo(t, "Storm.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	odd := new(bytes.Buffer) // sides that no scale divides evenly
	if err := jpeg.Encode(odd, image.NewGray(image.Rect(0, 0, 1001, 667)), nil); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name         string
		data         []byte
		w, h         int // of the JPEG
		minW, minH   int
		wantW, wantH int
	}{
		{"Storm, grid thumbnail", photo, 1920, 1280, 320, 213, 480, 320},          // 2/8; 1/8 is 240 wide
		{"Storm, with preview", photo, 1920, 1280, 1280, 853, 1440, 960},          // 6/8
		{"Storm, no reduction fits", photo, 1920, 1280, 1921, 1, 1920, 1280},      // 8/8
		{"odd sides, grid thumbnail", odd.Bytes(), 1001, 667, 320, 213, 376, 251}, // 3/8, rounded up
		{"odd sides, tiny", odd.Bytes(), 1001, 667, 10, 10, 126, 84},              // 1/8, rounded up
	} {
		img, ok, err := turboDecode(tc.data, tc.minW, tc.minH)
		if err != nil || !ok {
			t.Fatalf("%s: %v (handled %v)", tc.name, err, ok)
		}
		b := img.Bounds()
		sw, sh := turboScaled(tc.w, tc.h, tc.minW, tc.minH)
		if b.Dx() != tc.wantW || b.Dy() != tc.wantH || sw != b.Dx() || sh != b.Dy() {
			t.Errorf("%s: decoded %d×%d, turboScaled %d×%d, want %d×%d", tc.name, b.Dx(), b.Dy(), sw, sh, tc.wantW, tc.wantH)
		}
	}
}
