package thumbnail_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"mediashare/internal/apperr"
	"mediashare/internal/thumbnail"
)

func mustReadFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// resembles reports whether got is recognisably want, a primary colour or
// white: the channels want has at full are the strongest by a margin.
func resembles(got, want color.NRGBA) bool {
	g, w := [3]int{int(got.R), int(got.G), int(got.B)}, [3]uint8{want.R, want.G, want.B}
	lowest, highest := 255, 0
	for i := range 3 {
		if w[i] == 255 {
			lowest = min(lowest, g[i])
		} else {
			highest = max(highest, g[i])
		}
	}
	return lowest >= 160 && lowest-highest >= 50
}

// checkQuadrants checks the colours at the middle of each quarter of img
// (nil wants transparent), within tol on each channel, or when tol is
// negative only recognisably (see resembles).
func checkQuadrants(t *testing.T, img image.Image, tol int, tl, tr, bl, br *color.NRGBA) {
	t.Helper()
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	for _, c := range []struct {
		name string
		x, y int
		want *color.NRGBA
	}{
		{"top left", w / 4, h / 4, tl}, {"top right", 3 * w / 4, h / 4, tr},
		{"bottom left", w / 4, 3 * h / 4, bl}, {"bottom right", 3 * w / 4, 3 * h / 4, br},
	} {
		got := color.NRGBAModel.Convert(img.At(b.Min.X+c.x, b.Min.Y+c.y)).(color.NRGBA)
		if c.want == nil {
			if got.A != 0 {
				t.Errorf("%s: got %v, want transparent", c.name, got)
			}
			continue
		}
		if tol < 0 && !resembles(got, *c.want) || tol >= 0 && !near(got, *c.want, tol) {
			t.Errorf("%s: got %v, want %v", c.name, got, *c.want)
		}
	}
}

func TestMakeFormats(t *testing.T) {
	// 16-bit PNG with straight alpha: left half transparent.
	deep := image.NewNRGBA64(image.Rect(0, 0, 800, 600))
	// Paletted PNG whose palette has a transparent entry (tRNS).
	pal := image.NewPaletted(image.Rect(0, 0, 800, 600), color.Palette{color.NRGBA{}, red, green, blue, white})
	for y := range 600 {
		for x := range 800 {
			c, i := color.NRGBA64{}, uint8(0)
			switch {
			case x >= 400 && y < 300:
				c, i = color.NRGBA64{0, 0xffff, 0, 0xffff}, 2
			case x >= 400:
				c, i = color.NRGBA64{0xffff, 0xffff, 0xffff, 0xffff}, 4
			}
			deep.SetNRGBA64(x, y, c)
			pal.SetColorIndex(x, y, i)
		}
	}
	tests := []struct {
		name           string
		data           []byte
		w, h           int
		tol            int
		tl, tr, bl, br *color.NRGBA
	}{
		// Without colour management CMYK comes out recognisable, not exact.
		{"cmyk jpeg", mustReadFile(t, "cmyk.jpg"), 64, 48, -1, &red, &green, &blue, &white},
		{"progressive jpeg", mustReadFile(t, "progressive.jpg"), 64, 48, 40, &red, &green, &blue, &white},
		{"lossy webp", mustReadFile(t, "lossy.webp"), 64, 48, 40, &red, &green, &blue, &white},
		{"lossless webp with alpha", mustReadFile(t, "alpha_lossless.webp"), 64, 48, 3, nil, &green, nil, &white},
		{"16-bit png with alpha", mustEncode(t, deep, "png"), 320, 240, 3, nil, &green, nil, &white},
		{"paletted png with tRNS", mustEncode(t, pal, "png"), 320, 240, 3, nil, &green, nil, &white},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, img := mustMake(t, tt.data, thumbnail.Options{})
			if res.Width != tt.w || res.Height != tt.h {
				t.Fatalf("got %d×%d, want %d×%d", res.Width, res.Height, tt.w, tt.h)
			}
			checkQuadrants(t, img, tt.tol, tt.tl, tt.tr, tt.bl, tt.br)
		})
	}
}

func TestMakePreview(t *testing.T) {
	big := quadrants(2000, 1000, red, green, blue, white)
	clear := color.NRGBA{}
	tests := []struct {
		name           string
		data           []byte
		gridW, gridH   int
		prevW, prevH   int // 0: no preview
		contentType    string
		tl, tr, bl, br *color.NRGBA
	}{
		{"jpeg", mustEncode(t, big, "jpeg"), 320, 160, 1280, 640, "image/jpeg", &red, &green, &blue, &white},
		{"turned clockwise", mustOrientedJPEG(t, big, 6), 160, 320, 640, 1280, "image/jpeg", &blue, &red, &white, &green},
		{"transparency keeps PNG", mustEncode(t, quadrants(2000, 1000, clear, green, clear, white), "png"), 320, 160, 1280, 640, "image/png", nil, &green, nil, &white},
		{"smaller than the preview", mustEncode(t, big.SubImage(image.Rect(0, 0, 1000, 500)), "png"), 320, 160, 1000, 500, "image/jpeg", &red, &red, &red, &red},
		{"no larger than the grid: no preview", mustEncode(t, quadrants(300, 200, red, green, blue, white), "png"), 300, 200, 0, 0, "", nil, nil, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, grid := mustMake(t, tt.data, thumbnail.Options{PreviewSide: thumbnail.DefaultPreviewSide})
			if res.Width != tt.gridW || res.Height != tt.gridH {
				t.Errorf("grid: got %d×%d, want %d×%d", res.Width, res.Height, tt.gridW, tt.gridH)
			}
			if tt.prevW == 0 {
				if res.Preview != nil {
					t.Errorf("got a %d×%d preview, want none", res.Preview.Width, res.Preview.Height)
				}
				return
			}
			p := res.Preview
			if p == nil {
				t.Fatal("got no preview")
			}
			if p.Width != tt.prevW || p.Height != tt.prevH || p.ContentType != tt.contentType {
				t.Errorf("preview: got %d×%d %s, want %d×%d %s", p.Width, p.Height, p.ContentType, tt.prevW, tt.prevH, tt.contentType)
			}
			wantExt := map[string]string{"image/jpeg": ".jpg", "image/png": ".png"}[tt.contentType]
			if p.Ext != wantExt {
				t.Errorf("got ext %q, want %q", p.Ext, wantExt)
			}
			img, _, err := image.Decode(bytes.NewReader(p.Data))
			if err != nil {
				t.Fatalf("preview does not decode: %v", err)
			}
			if got := img.Bounds().Size(); got != image.Pt(p.Width, p.Height) {
				t.Errorf("got a %v preview, want the reported %d×%d", got, p.Width, p.Height)
			}
			if tt.tl != nil || tt.tr != nil {
				checkQuadrants(t, img, 40, tt.tl, tt.tr, tt.bl, tt.br)
				checkQuadrants(t, grid, 40, tt.tl, tt.tr, tt.bl, tt.br)
			}
		})
	}
}

// slowReader hands out a few bytes at a time, slowly.
type slowReader struct{ r *bytes.Reader }

func (s slowReader) Read(p []byte) (int, error) {
	time.Sleep(time.Millisecond)
	return s.r.Read(p[:min(len(p), 256)])
}
func (s slowReader) Seek(off int64, whence int) (int64, error) { return s.r.Seek(off, whence) }

// The deadline stops a decoder in the middle, for each way of decoding.
func TestMakeStopsAtTheDeadline(t *testing.T) {
	for _, format := range []string{"png", "jpeg"} {
		t.Run(format, func(t *testing.T) {
			data := mustEncode(t, gradient(2000, 2000), format)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
			defer cancel()
			start := time.Now()
			_, err := thumbnail.Make(ctx, slowReader{bytes.NewReader(data)}, thumbnail.Options{})
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("got %v, want context.DeadlineExceeded", err)
			}
			if took := time.Since(start); took > time.Second {
				t.Errorf("took %v to stop", took)
			}
		})
	}
}

// pngChunk encodes one PNG chunk with its CRC.
func pngChunk(typ string, data []byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
	b = append(b, typ...)
	b = append(b, data...)
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b[4:]))
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r *bytes.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
func (c *countingReader) Seek(off int64, whence int) (int64, error) { return c.r.Seek(off, whence) }

// A decompression bomb: a 30000×30000 PNG in a 3 MB file, refused from its
// header without reading the rest.
func TestMakeRefusesBombCheaply(t *testing.T) {
	ihdr := binary.BigEndian.AppendUint32(nil, 30000)
	ihdr = binary.BigEndian.AppendUint32(ihdr, 30000)
	ihdr = append(ihdr, 8, 6, 0, 0, 0)
	data := []byte("\x89PNG\r\n\x1a\n")
	data = append(data, pngChunk("IHDR", ihdr)...)
	data = append(data, pngChunk("IDAT", make([]byte, 3<<20))...)
	data = append(data, pngChunk("IEND", nil)...)
	r := &countingReader{r: bytes.NewReader(data)}
	start := time.Now()
	_, err := thumbnail.Make(context.Background(), r, thumbnail.Options{})
	if got := apperr.CodeOf(err); got != apperr.TooLarge {
		t.Fatalf("got code %q (%v), want %q", got, err, apperr.TooLarge)
	}
	if r.n > 64<<10 {
		t.Errorf("read %d bytes, want the header only", r.n)
	}
	if took := time.Since(start); took > 100*time.Millisecond {
		t.Errorf("took %v", took)
	}
}

func TestMakeWaitsForTheLimiter(t *testing.T) {
	l := thumbnail.NewLimiter(1)
	data := mustEncode(t, gradient(100, 100), "png")
	// Fill the one slot with a Make stuck on a reader that blocks.
	block := make(chan struct{})
	started := make(chan struct{})
	done := make(chan error)
	go func() {
		_, err := thumbnail.Make(context.Background(), &blockingReader{bytes.NewReader(data), block, started}, thumbnail.Options{Limiter: l})
		done <- err
	}()
	<-started
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := thumbnail.Make(ctx, bytes.NewReader(data), thumbnail.Options{Limiter: l}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("with the slot taken: got %v, want context.DeadlineExceeded", err)
	}
	close(block)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := thumbnail.Make(context.Background(), bytes.NewReader(data), thumbnail.Options{Limiter: l}); err != nil {
		t.Errorf("with the slot free again: %v", err)
	}
}

// blockingReader blocks its first read after a rewind (the decode, once
// Inspect is done and the Limiter's slot taken) until block is closed.
type blockingReader struct {
	r       *bytes.Reader
	block   chan struct{}
	started chan struct{}
}

func (b *blockingReader) ReadAt(p []byte, off int64) (int, error) { return b.r.ReadAt(p, off) }
func (b *blockingReader) Read(p []byte) (int, error) {
	if b.started != nil {
		close(b.started)
		b.started = nil
		<-b.block
	}
	return b.r.Read(p)
}
func (b *blockingReader) Seek(off int64, whence int) (int64, error) { return b.r.Seek(off, whence) }

var _ io.ReadSeeker = (*blockingReader)(nil)
