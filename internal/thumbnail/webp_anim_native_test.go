//go:build cgo && nativecodecs

package thumbnail

import (
	"bytes"
	"image"
	"image/color"
	"testing"

	"mediashare/internal/media"
	"mediashare/internal/media/mediatest"
)

// libwebp's demuxer and our Go path both give the first frame of an
// animation as it was drawn, transparency included: exactly when it is
// lossless, within the lossy coding's error when not (their VP8 decoders
// upsample chroma differently, so they are compared to the source, not to
// each other).
func TestAnimatedWebPFirstFrame(t *testing.T) {
	frame := image.NewNRGBA(image.Rect(0, 0, 200, 120))
	for y := range 120 {
		for x := range 200 {
			a := uint8(255)
			if x < 50 {
				a = 0
			}
			frame.SetNRGBA(x, y, color.NRGBA{uint8(x), uint8(2 * y), 90, a})
		}
	}
	blank := image.NewNRGBA(frame.Rect)
	for _, lossy := range []bool{false, true} {
		data := mediatest.AnimatedWebP(t, []image.Image{frame, blank}, lossy)
		native, ok, err := nativeDecode(data, media.WebP, 200, 120)
		if err != nil || !ok {
			t.Fatalf("lossy %v: native decode: handled %v, %v", lossy, ok, err)
		}
		goImg, err := decodeWebP(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		if native.Bounds() != goImg.Bounds() {
			t.Fatalf("lossy %v: native %v, Go %v", lossy, native.Bounds(), goImg.Bounds())
		}
		worst := 0
		for y := 7; y < 113; y += 7 { // the borders differ most (chroma upsampling)
			for x := 0; x < 193; x += 7 {
				if x > 40 && x < 60 {
					continue // the edge of the transparent band, which lossy coding blurs
				}
				want := frame.NRGBAAt(x, y)
				for _, img := range []image.Image{native, goImg} {
					p := color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
					if want.A == 0 {
						worst = max(worst, int(p.A))
						continue
					}
					for _, d := range []int{int(p.R) - int(want.R), int(p.G) - int(want.G), int(p.B) - int(want.B), int(p.A) - int(want.A)} {
						worst = max(worst, d, -d)
					}
				}
			}
		}
		if tol := map[bool]int{false: 1, true: 24}[lossy]; worst > tol {
			t.Errorf("lossy %v: a first frame differs from the source by up to %d levels, want at most %d", lossy, worst, tol)
		}
	}
}
