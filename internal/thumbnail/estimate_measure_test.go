package thumbnail_test

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"os"
	"runtime"
	"testing"

	"mediashare/internal/media/mediatest"
	"mediashare/internal/thumbnail"
)

// The estimate a decode is admitted by holds what it allocates: for the
// photographs and for images of every decoded form, Make allocates (in Go,
// garbage included) no more than its estimate, and in a pure-Go build the
// estimate is not so far above that ordinary images would be refused for
// nothing. (The native codecs' own allocations, libjpeg-turbo's
// coefficients for one, are outside Go's count; the estimate includes them.)
func TestEstimateCoversWhatMakeAllocates(t *testing.T) {
	type sample struct {
		name string
		data []byte
	}
	var samples []sample
	// A progressive JPEG, a baseline one, a PNG with alpha (the larger
	// photographs take seconds each in pure Go and add nothing here).
	for _, name := range []string{"Elephants_3840x2160.jpg", "RainDrops.jpg", "Gulp.png"} {
		data, err := os.ReadFile(mediatest.Photo(t, name))
		if err != nil {
			t.Fatal(err)
		}
		samples = append(samples, sample{name, data})
	}
	enc := func(name string, img image.Image, fn func(*bytes.Buffer, image.Image) error) {
		var b bytes.Buffer
		if err := fn(&b, img); err != nil {
			t.Fatal(err)
		}
		samples = append(samples, sample{name, b.Bytes()})
	}
	pngEnc := func(b *bytes.Buffer, img image.Image) error {
		return (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(b, img)
	}
	noisy := func(pix []uint8) {
		for i := range pix {
			pix[i] = uint8(i*7 + i/13)
		}
	}
	rgba16 := image.NewNRGBA64(image.Rect(0, 0, 3000, 2000))
	noisy(rgba16.Pix)
	enc("16-bit RGBA PNG 3000×2000 (row by row)", rgba16, pngEnc)
	gray := image.NewGray(image.Rect(0, 0, 2400, 1800))
	noisy(gray.Pix)
	enc("grey PNG 2400×1800", gray, pngEnc)
	enc("grey JPEG 2400×1800", gray, func(b *bytes.Buffer, img image.Image) error { return jpeg.Encode(b, img, nil) })
	pal := image.NewPaletted(image.Rect(0, 0, 1500, 1000), color.Palette{color.Black, color.White, color.Transparent})
	for i := range pal.Pix {
		pal.Pix[i] = uint8(i % 3)
	}
	enc("paletted PNG 1500×1000", pal, pngEnc)
	enc("GIF 1500×1000", pal, func(b *bytes.Buffer, img image.Image) error { return gif.Encode(b, img, nil) })
	opaque := image.NewRGBA(image.Rect(0, 0, 2000, 1500))
	noisy(opaque.Pix)
	for i := 3; i < len(opaque.Pix); i += 4 {
		opaque.Pix[i] = 255
	}
	enc("RGB PNG 2000×1500", opaque, pngEnc)

	for _, s := range samples {
		t.Run(s.name, func(t *testing.T) {
			info := inspect(t, s.data)
			est := thumbnail.Estimate(info, int64(len(s.data)), renditions)
			measure := func() int64 {
				// Twice: two collections empty the pools of working
				// buffers (scratch.go), so that every buffer Make uses
				// is allocated afresh and counted.
				runtime.GC()
				runtime.GC()
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				if _, err := thumbnail.Make(context.Background(), bytes.NewReader(s.data), renditions); err != nil {
					t.Fatal(err)
				}
				runtime.ReadMemStats(&after)
				return int64(after.TotalAlloc - before.TotalAlloc)
			}
			alloc := measure()
			if alloc > est {
				alloc = min(alloc, measure()) // the count is the process': once more, in case something else allocated
			}
			t.Logf("%d×%d %s: estimate %d MiB, allocated %d MiB", info.Width, info.Height, info.Format, est>>20, alloc>>20)
			if alloc > est {
				t.Errorf("allocated %d MiB, more than the estimate of %d MiB", alloc>>20, est>>20)
			}
			if !thumbnail.Native && est > 2*alloc+8<<20 {
				t.Errorf("estimate %d MiB, more than twice the %d MiB allocated", est>>20, alloc>>20)
			}
		})
	}
}
