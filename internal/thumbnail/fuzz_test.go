package thumbnail_test

import (
	"bytes"
	"context"
	"image/png"
	"testing"
	"time"

	"mediashare/internal/thumbnail"
)

// FuzzMake feeds arbitrary bytes to the pipeline's entry point: it must
// never panic or hang, and what it returns must be what it says. The seed
// corpus is testdata/fuzz/FuzzMake; `go test` runs it every time, and
// `go tool task fuzz` explores further.
func FuzzMake(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		opts := thumbnail.Options{MaxSide: 32, PreviewSide: 64, MaxPixels: 4 << 20}
		res, err := thumbnail.Make(ctx, bytes.NewReader(data), opts)
		if err != nil {
			return
		}
		img, err := png.Decode(bytes.NewReader(res.PNG))
		if err != nil {
			t.Fatalf("the thumbnail is not a PNG: %v", err)
		}
		if b := img.Bounds(); b.Dx() != res.Width || b.Dy() != res.Height || max(b.Dx(), b.Dy()) > 32 || min(b.Dx(), b.Dy()) < 1 {
			t.Fatalf("got a %v thumbnail reported as %d×%d", b, res.Width, res.Height)
		}
		if p := res.Preview; p != nil && (max(p.Width, p.Height) > 64 || len(p.Data) == 0) {
			t.Fatalf("got a %d×%d preview", p.Width, p.Height)
		}
	})
}
