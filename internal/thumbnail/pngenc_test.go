package thumbnail

import (
	"bytes"
	"image"
	"image/png"
	"math/rand/v2"
	"testing"
)

// encodePNG writes a PNG that decodes to exactly the pixels image/png's
// encoding of the same image decodes to, in the colour type image/png
// chooses (RGB when opaque, straight RGBA otherwise), for sizes from one
// pixel to rows longer than an IDAT chunk.
func TestEncodePNGMatchesImagePNG(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, tc := range []struct {
		name   string
		w, h   int
		opaque bool
	}{
		{"1×1 opaque", 1, 1, true}, {"1×1 alpha", 1, 1, false},
		{"3×2 opaque", 3, 2, true}, {"320×213 opaque", 320, 213, true},
		{"320×213 alpha", 320, 213, false}, {"wide alpha", 20000, 3, false}, {"tall opaque", 2, 500, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			img := image.NewRGBA(image.Rect(0, 0, tc.w, tc.h))
			for i := 0; i < len(img.Pix); i += 4 {
				a := uint8(255)
				if !tc.opaque {
					a = []uint8{0, 1, 77, 128, 254, 255}[rng.IntN(6)]
				}
				for c := range 3 {
					// smooth with noise, premultiplied
					img.Pix[i+c] = uint8((i/4*3 + c*50 + rng.IntN(9)) % 256 * int(a) / 255)
				}
				img.Pix[i+3] = a
			}
			got := encodePNG(img)
			var ref bytes.Buffer
			if err := png.Encode(&ref, img); err != nil {
				t.Fatal(err)
			}
			gotImg, err := png.Decode(bytes.NewReader(got))
			if err != nil {
				t.Fatalf("our PNG does not decode: %v", err)
			}
			refImg, err := png.Decode(bytes.NewReader(ref.Bytes()))
			if err != nil {
				t.Fatal(err)
			}
			if g, r := gotImg.ColorModel(), refImg.ColorModel(); g != r {
				t.Errorf("colour model %v, image/png's %v", g, r)
			}
			if !bytes.Equal(toRGBA(gotImg).Pix, toRGBA(refImg).Pix) {
				t.Error("pixels differ from image/png's")
			}
			if gotImg.Bounds() != img.Bounds() {
				t.Errorf("bounds %v, want %v", gotImg.Bounds(), img.Bounds())
			}
		})
	}
}
