package thumbnail_test

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"os"
	"strings"
	"testing"

	"github.com/anthonynsimon/bild/transform"

	"mediashare/internal/apperr"
	"mediashare/internal/media"
	"mediashare/internal/media/mediatest"
	"mediashare/internal/thumbnail"
)

// meanDiff is the mean absolute difference per channel of two images of
// the same size.
func meanDiff(t *testing.T, a, b image.Image) float64 {
	t.Helper()
	if a.Bounds().Size() != b.Bounds().Size() {
		t.Fatalf("sizes differ: %v and %v", a.Bounds().Size(), b.Bounds().Size())
	}
	var sum, n float64
	ab, bb := a.Bounds(), b.Bounds()
	for y := range ab.Dy() {
		for x := range ab.Dx() {
			p := color.NRGBAModel.Convert(a.At(ab.Min.X+x, ab.Min.Y+y)).(color.NRGBA)
			q := color.NRGBAModel.Convert(b.At(bb.Min.X+x, bb.Min.Y+y)).(color.NRGBA)
			sum += float64(abs(int(p.R)-int(q.R)) + abs(int(p.G)-int(q.G)) + abs(int(p.B)-int(q.B)))
			n += 3
		}
	}
	return sum / n
}

// In the pure-Go build HEIC and AVIF are refused as unsupported, with the
// message naming libheif; never a decoder error.
func TestMakeHEIFPureBuild(t *testing.T) {
	if thumbnail.HEIFNative {
		t.Skip("this build decodes HEIF: see TestMakeHEIF")
	}
	src := quadrants(64, 48, red, green, blue, white)
	for name, data := range map[string][]byte{"heic": mediatest.HEIC(t, src), "avif": mediatest.AVIF(t, src, 8)} {
		_, err := thumbnail.Make(context.Background(), bytes.NewReader(data), thumbnail.Options{})
		if got, want := apperr.CodeOf(err), apperr.Unsupported; got != want {
			t.Fatalf("%s: got code %q, want %q (%v)", name, got, want, err)
		}
		if msg := apperr.MessageOf(err); !bytes.Contains([]byte(msg), []byte("libheif")) {
			t.Errorf("%s: got message %q, want it to name libheif", name, msg)
		}
	}
}

func TestMakeHEIF(t *testing.T) {
	if !thumbnail.HEIFNative {
		t.Skip("HEIC and AVIF need libheif (go test -tags nativeheif, apt-get install -y libheif-dev)")
	}
	src := quadrants(640, 480, red, green, blue, white)
	plain := mediatest.HEIC(t, src)
	tests := []struct {
		name           string
		data           []byte
		w, h           int // of the thumbnail
		tl, tr, bl, br color.NRGBA
	}{
		{"HEIC", plain, 320, 240, red, green, blue, white},
		{"AVIF 8-bit", mediatest.AVIF(t, src, 8), 320, 240, red, green, blue, white},
		{"AVIF 10-bit", mediatest.AVIF(t, src, 10), 320, 240, red, green, blue, white},
		{"AVIF 12-bit", mediatest.AVIF(t, src, 12), 320, 240, red, green, blue, white},
		{"grid 3×2", mediatest.GridHEIC(t, src, 2, 3, 0), 320, 240, red, green, blue, white},
		{"grid turned by irot", mediatest.GridHEIC(t, src, 2, 3, 1), 240, 320, green, white, red, blue},
		{"EXIF orientation 6", mediatest.Exiftool(t, plain, ".heic", "-Orientation=6", "-n"), 240, 320, blue, red, white, green},
		{"irot and imir", mediatest.WithTransform(t, plain, 3, 0), 240, 320, white, green, blue, red},
		{"irot wins over EXIF", mediatest.WithTransform(t, mediatest.Exiftool(t, plain, ".heic", "-Orientation=6", "-n"), 1, -1), 240, 320, green, white, red, blue},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, img := mustMake(t, tt.data, thumbnail.Options{PreviewSide: 1280})
			if res.Width != tt.w || res.Height != tt.h {
				t.Fatalf("got a %d×%d thumbnail, want %d×%d", res.Width, res.Height, tt.w, tt.h)
			}
			checkQuadrants(t, img, 24, &tt.tl, &tt.tr, &tt.bl, &tt.br)
			if res.Preview == nil || res.Preview.Width != tt.w*2 {
				t.Errorf("got preview %+v, want one %d wide", res.Preview, tt.w*2)
			}
		})
	}
}

// Thumbnails agree with libheif's own heif-convert, which assembles grids
// and applies irot/imir itself, on a real photograph.
func TestMakeHEIFMatchesHeifConvert(t *testing.T) {
	if !thumbnail.HEIFNative {
		t.Skip("HEIC and AVIF need libheif (go test -tags nativeheif, apt-get install -y libheif-dev)")
	}
	storm, err := os.ReadFile(mediatest.Photo(t, "Storm.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	_, src := mustMake(t, storm, thumbnail.Options{MaxSide: 640})
	for name, data := range map[string][]byte{
		"grid 4×3 turned": mediatest.GridHEIC(t, src, 3, 4, 3),
		"irot and imir":   mediatest.WithTransform(t, mediatest.HEIC(t, src), 1, 1),
		"AVIF 10-bit":     mediatest.AVIF(t, src, 10),
	} {
		t.Run(name, func(t *testing.T) {
			want := mediatest.Convert(t, data)
			res, got := mustMake(t, data, thumbnail.Options{MaxSide: 320})
			b := want.Bounds()
			if gw, gh := res.Width, res.Height; (gw > gh) != (b.Dx() > b.Dy()) {
				t.Fatalf("got %d×%d, heif-convert made %v", gw, gh, b.Size())
			}
			scaled := transform.Resize(want, res.Width, res.Height, transform.Linear)
			if d := meanDiff(t, got, scaled); d > 6 {
				t.Errorf("mean difference from heif-convert %.1f levels, want at most 6", d)
			}
		})
	}
}

// An AVIF tagged Display P3 (nclx) is converted to sRGB.
func TestMakeAVIFDisplayP3(t *testing.T) {
	if !thumbnail.HEIFNative {
		t.Skip("HEIC and AVIF need libheif (go test -tags nativeheif, apt-get install -y libheif-dev)")
	}
	c := color.NRGBA{200, 80, 60, 255}
	src := quadrants(64, 64, c, c, c, c)
	for name, tt := range map[string]struct {
		cicp string
		want color.NRGBA
	}{
		"sRGB":       {"1/13/6", c},
		"Display P3": {"12/13/6", color.NRGBA{218, 68, 50, 255}},
	} {
		data := mediatest.AVIF(t, src, 8, "-y", "444", "--cicp", tt.cicp)
		_, img := mustMake(t, data, thumbnail.Options{})
		if got := img.At(32, 32); !near(got, tt.want, 5) {
			t.Errorf("%s: got %v, want %v", name, got, tt.want)
		}
	}
}

// A cut or damaged HEIC is refused as damaged, never a panic or a 500.
func TestMakeHEIFDamaged(t *testing.T) {
	data := mediatest.HEIC(t, quadrants(64, 48, red, green, blue, white))
	for name, bad := range map[string][]byte{
		"truncated":         data[:len(data)-100],
		"cut in its header": data[:200],
	} {
		_, err := thumbnail.Make(context.Background(), bytes.NewReader(bad), thumbnail.Options{})
		if err == nil {
			t.Errorf("%s: got no error", name)
			continue
		}
		if code := apperr.CodeOf(err); code != apperr.Invalid && code != apperr.Unsupported {
			t.Errorf("%s: got code %q (%v), want invalid", name, code, err)
		}
	}
}

// A HEIF decode is admitted by what libheif holds: its planes at the coded
// depth, its RGBA image and our copy; one that can never fit the budget is
// refused before it starts.
func TestHEIFDecodeBudget(t *testing.T) {
	info := media.Info{Format: media.AVIF, Width: 4000, Height: 3000,
		Layout: media.PixelLayout{BitDepth: 10, Channels: 3, Subsampling: "4:4:4"}}
	px := int64(4000 * 3000)
	got := thumbnail.Estimate(info, 1<<20, thumbnail.Options{PreviewSide: 1280})
	if want := px*3*2 + 2*px*4; got < want || got > want+px*4 { // plus the resizes
		t.Errorf("estimate %d MiB, want about %d MiB (10-bit 4:4:4 planes, libheif's RGBA, our copy)", got>>20, want>>20)
	}
	eight := info
	eight.Layout = media.PixelLayout{BitDepth: 8, Channels: 3, Subsampling: "4:2:0"}
	if e := thumbnail.Estimate(eight, 1<<20, thumbnail.Options{}); e >= got {
		t.Errorf("an 8-bit 4:2:0 image is estimated at %d bytes, no less than the 10-bit 4:4:4 one (%d)", e, got)
	}
	opts := thumbnail.Options{Limiter: thumbnail.NewBudget(1, 64<<20)}
	err := thumbnail.Check(info, 1<<20, opts)
	if got, want := apperr.CodeOf(err), apperr.TooLarge; got != want {
		t.Fatalf("got code %q (%v), want %q", got, err, want)
	}
	if msg := apperr.MessageOf(err); !strings.Contains(msg, "8 bits per channel") {
		t.Errorf("got message %q, want the advice for a deep image", msg)
	}
}

// A HEIC with an alpha plane (an auxiliary image) keeps its transparency.
func TestMakeHEICWithAlpha(t *testing.T) {
	if !thumbnail.HEIFNative {
		t.Skip("HEIC needs libheif (go test -tags nativeheif, apt-get install -y libheif-dev)")
	}
	data := mediatest.HEIC(t, quadrants(640, 480, red, green, blue, color.NRGBA{}))
	info, err := media.Inspect(bytes.NewReader(data), int64(len(data)), media.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if !info.Layout.Alpha || info.Layout.Channels != 4 {
		t.Errorf("got layout %+v, want alpha and 4 channels", info.Layout)
	}
	res, img := mustMake(t, data, thumbnail.Options{PreviewSide: 1280})
	checkQuadrants(t, img, 24, &red, &green, &blue, nil)
	if res.Preview == nil || res.Preview.ContentType != "image/png" {
		t.Errorf("got preview %+v, want a PNG (it has transparency)", res.Preview)
	}
}

// heif-enc stores an image of odd sides as a 1×1 grid over a tile padded
// to even ones: the grid's size wins, the padding is cut off.
func TestMakeHEICOddSides(t *testing.T) {
	if !thumbnail.HEIFNative {
		t.Skip("HEIC needs libheif (go test -tags nativeheif, apt-get install -y libheif-dev)")
	}
	data := mediatest.HEIC(t, quadrants(321, 241, red, green, blue, white))
	if !bytes.Contains(data, []byte("grid")) {
		t.Fatal("heif-enc made no grid of an odd-sized image (this test wants one)")
	}
	res, img := mustMake(t, data, thumbnail.Options{})
	if res.Width != 320 || res.Height != 240 {
		t.Errorf("got %d×%d, want 320×240", res.Width, res.Height)
	}
	checkQuadrants(t, img, 24, &red, &green, &blue, &white)
}
