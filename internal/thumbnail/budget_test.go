package thumbnail_test

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/png"
	"strings"
	"testing"
	"time"

	"mediashare/internal/apperr"
	"mediashare/internal/media"
	"mediashare/internal/thumbnail"
)

func inspect(t *testing.T, data []byte) media.Info {
	t.Helper()
	info, err := media.Inspect(bytes.NewReader(data), int64(len(data)), media.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	return info
}

var renditions = thumbnail.Options{MaxSide: thumbnail.DefaultMaxSide, PreviewSide: thumbnail.DefaultPreviewSide}

// A header alone says what a decode costs: the 100-megapixel 16-bit RGBA
// PNG of the issue (800 MB at full size) is read row by row into a
// reduced image, and pass by pass when interlaced; a CMYK JPEG, which only
// the Go decoder reads, whole, cannot fit.
func TestEstimateFollowsTheDecodedForm(t *testing.T) {
	png16 := media.Info{Format: media.PNG, Width: 10000, Height: 10000,
		Layout: media.PixelLayout{BitDepth: 16, Channels: 4, Alpha: true}}
	interlaced := png16
	interlaced.Layout.Progressive = true
	progressive := media.Info{Format: media.JPEG, Width: 10000, Height: 10000,
		Layout: media.PixelLayout{BitDepth: 8, Channels: 3, Subsampling: "4:2:0", Progressive: true}}
	baseline := progressive
	baseline.Layout.Progressive = false
	cmyk := media.Info{Format: media.JPEG, Width: 10000, Height: 10000, Layout: media.PixelLayout{BitDepth: 8, Channels: 4}}
	small := media.Info{Format: media.PNG, Width: 640, Height: 480, Layout: media.PixelLayout{BitDepth: 8, Channels: 3}}

	const MiB = 1 << 20
	tests := []struct {
		name     string
		info     media.Info
		min, max int64
	}{
		{"16-bit RGBA PNG, 100 MP, reduced", png16, 40 * MiB, 160 * MiB},
		{"the same interlaced, reduced pass by pass", interlaced, 40 * MiB, 160 * MiB},
		{"CMYK JPEG, 100 MP (Go, whole)", cmyk, 1100 * MiB, 1400 * MiB},
		{"small PNG", small, 1 * MiB, 16 * MiB},
	}
	if !thumbnail.Native {
		tests = append(tests,
			struct {
				name     string
				info     media.Info
				min, max int64
			}{"baseline JPEG 4:2:0, 100 MP (Go)", baseline, 150 * MiB, 260 * MiB},
			struct {
				name     string
				info     media.Info
				min, max int64
			}{"progressive JPEG 4:2:0, 100 MP (Go, with coefficients)", progressive, 750 * MiB, 900 * MiB},
		)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := thumbnail.Estimate(tt.info, 1<<20, renditions)
			if got < tt.min || got > tt.max {
				t.Errorf("got %d MiB, want %d..%d MiB", got>>20, tt.min>>20, tt.max>>20)
			}
		})
	}

	// At the upload: refused only what can never fit, with a message that
	// says why and what to do.
	opts := renditions
	opts.Limiter = thumbnail.NewBudget(2, 512*MiB)
	if err := thumbnail.Check(png16, 1<<20, opts); err != nil {
		t.Errorf("the 16-bit PNG is reduced on load, so it fits: %v", err)
	}
	if err := thumbnail.Check(interlaced, 1<<20, opts); err != nil {
		t.Errorf("interlaced, it is reduced pass by pass, so it fits: %v", err)
	}
	err := thumbnail.Check(cmyk, 1<<20, opts)
	if apperr.CodeOf(err) != apperr.TooLarge {
		t.Fatalf("CMYK: got %v, want a TooLarge error", err)
	}
	var ae *apperr.Error
	if !errors.As(err, &ae) || ae.Field != "file" || !strings.Contains(ae.Message, "512 MiB") || !strings.Contains(ae.Message, "CMYK") {
		t.Errorf("CMYK: got message %q", err)
	}
	if err := thumbnail.Check(cmyk, 1<<20, renditions); err != nil {
		t.Errorf("without a budget nothing is refused: %v", err)
	}
}

func TestLimiterAdmitsByMemory(t *testing.T) {
	big := mustEncode(t, gradient(2000, 1500), "png")
	info := inspect(t, big)
	need := thumbnail.Estimate(info, int64(len(big)), renditions)

	// Room for one such decode, and slots for four: the second waits for
	// the first's memory, not for a slot.
	l := thumbnail.NewBudget(4, need+need/2)
	opts := renditions
	opts.Limiter = l
	block, started, done := make(chan struct{}), make(chan struct{}), make(chan error)
	go func() {
		_, err := thumbnail.Make(context.Background(), &blockingReader{bytes.NewReader(big), block, started}, opts)
		done <- err
	}()
	<-started
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := thumbnail.Make(ctx, bytes.NewReader(big), opts); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("with the budget held: got %v, want context.DeadlineExceeded", err)
	}
	// A small decode fits beside it.
	small := mustEncode(t, gradient(64, 48), "png")
	ctx2, cancel2 := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel2()
	if _, err := thumbnail.Make(ctx2, bytes.NewReader(small), opts); err != nil {
		t.Errorf("a small image beside it: %v", err)
	}
	close(block)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := thumbnail.Make(context.Background(), bytes.NewReader(big), opts); err != nil {
		t.Errorf("with the budget free again: %v", err)
	}

	// One that can never fit is refused at once, without decoding.
	opts.Limiter = thumbnail.NewBudget(4, need-1)
	r := &countingReader{r: bytes.NewReader(big)}
	_, err := thumbnail.Make(context.Background(), r, opts)
	if apperr.CodeOf(err) != apperr.TooLarge {
		t.Fatalf("over the budget: got %v, want TooLarge", err)
	}
	if r.n > 64<<10 {
		t.Errorf("read %d bytes, want the header only", r.n)
	}
	if err := thumbnail.Check(info, int64(len(big)), opts); apperr.CodeOf(err) != apperr.TooLarge {
		t.Errorf("Check over the budget: got %v, want TooLarge", err)
	}
}

// A large 16-bit PNG goes through the row-by-row decoder: the thumbnail
// shows its four quadrants in their colours.
func TestMakeReducesBig16BitPNG(t *testing.T) {
	img := image.NewNRGBA64(image.Rect(0, 0, 3000, 2000))
	quads := []color.NRGBA64{{0xffff, 0, 0, 0xffff}, {0, 0xffff, 0, 0xffff}, {0, 0, 0xffff, 0xffff}, {0x8080, 0x8080, 0x8080, 0xffff}}
	for y := range 2000 {
		for x := range 3000 {
			img.SetNRGBA64(x, y, quads[(y/1000)*2+x/1500])
		}
	}
	var b bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	res, err := thumbnail.Make(context.Background(), bytes.NewReader(b.Bytes()), renditions)
	if err != nil {
		t.Fatal(err)
	}
	thumb, err := png.Decode(bytes.NewReader(res.PNG))
	if err != nil {
		t.Fatal(err)
	}
	if res.Width != 320 || res.Height != 213 {
		t.Fatalf("got %d×%d", res.Width, res.Height)
	}
	for i, at := range []image.Point{{80, 53}, {240, 53}, {80, 160}, {240, 160}} {
		r, g, bl, _ := thumb.At(at.X, at.Y).RGBA()
		want := quads[i]
		near := func(a, b uint32) bool { return a>>8+2 >= b>>8 && b>>8+2 >= a>>8 }
		if !near(r, uint32(want.R)) || !near(g, uint32(want.G)) || !near(bl, uint32(want.B)) {
			t.Errorf("quadrant %d at %v: got %d,%d,%d, want %d,%d,%d", i, at, r>>8, g>>8, bl>>8, want.R>>8, want.G>>8, want.B>>8)
		}
	}
	if res.Preview == nil || res.Preview.Width != 1280 {
		t.Errorf("preview: %+v", res.Preview)
	}
}
