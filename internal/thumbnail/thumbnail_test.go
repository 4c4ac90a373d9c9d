package thumbnail_test

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"math/rand"
	"os"
	"regexp"
	"testing"

	"mediashare/internal/apperr"
	"mediashare/internal/media/mediatest"
	"mediashare/internal/thumbnail"
)

var (
	red   = color.NRGBA{255, 0, 0, 255}
	green = color.NRGBA{0, 255, 0, 255}
	blue  = color.NRGBA{0, 0, 255, 255}
	white = color.NRGBA{255, 255, 255, 255}
)

var hexColour = regexp.MustCompile(`^#[0-9a-f]{6}$`)

// quadrants is a w×h image whose quarters are tl, tr, bl and br.
func quadrants(w, h int, tl, tr, bl, br color.NRGBA) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			c := tl
			switch {
			case x >= w/2 && y < h/2:
				c = tr
			case x < w/2 && y >= h/2:
				c = bl
			case x >= w/2 && y >= h/2:
				c = br
			}
			img.SetNRGBA(x, y, c)
		}
	}
	return img
}

func gradient(w, h int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.SetNRGBA(x, y, color.NRGBA{uint8(x * 255 / w), uint8(y * 255 / h), 100, 255})
		}
	}
	return img
}

func mustEncode(t testing.TB, img image.Image, format string) []byte {
	t.Helper()
	var b bytes.Buffer
	var err error
	switch format {
	case "png":
		err = png.Encode(&b, img)
	case "jpeg":
		err = jpeg.Encode(&b, img, &jpeg.Options{Quality: 90})
	case "gif":
		err = gif.Encode(&b, img, nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func mustOrientedJPEG(t testing.TB, img image.Image, o int) []byte {
	t.Helper()
	b, err := mediatest.JPEGWithOrientation(img, o)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// mustMake makes a thumbnail and checks what every thumbnail must be: a
// PNG whose size is the one reported, with a #rrggbb placeholder. It
// returns the decoded PNG.
func mustMake(t testing.TB, data []byte, opts thumbnail.Options) (thumbnail.Result, image.Image) {
	t.Helper()
	res, err := thumbnail.Make(context.Background(), bytes.NewReader(data), opts)
	if err != nil {
		t.Fatalf("Make: %v", err)
	}
	return res, checkResult(t, res)
}

func checkResult(t testing.TB, res thumbnail.Result) image.Image {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(res.PNG))
	if err != nil {
		t.Fatalf("the thumbnail is not a PNG: %v", err)
	}
	if got, want := img.Bounds().Size(), image.Pt(res.Width, res.Height); got != want {
		t.Errorf("got a %v PNG, want the reported %v", got, want)
	}
	if !hexColour.MatchString(res.Placeholder) {
		t.Errorf("got placeholder %q, want #rrggbb", res.Placeholder)
	}
	return img
}

// near reports whether got is within tol of want on every channel.
func near(got color.Color, want color.NRGBA, tol int) bool {
	g := color.NRGBAModel.Convert(got).(color.NRGBA)
	d := func(a, b uint8) bool { return abs(int(a)-int(b)) <= tol }
	return d(g.R, want.R) && d(g.G, want.G) && d(g.B, want.B) && d(g.A, want.A)
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

func TestMakePhotos(t *testing.T) {
	for _, p := range mediatest.Photos() {
		t.Run(p.Name, func(t *testing.T) {
			if p.Slow && testing.Short() {
				t.Skip("slow to decode; skipped with -short")
			}
			f, err := os.Open(mediatest.Photo(t, p.Name))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			res, err := thumbnail.Make(context.Background(), f, thumbnail.Options{MaxSide: 320})
			if err != nil {
				t.Fatalf("Make: %v", err)
			}
			img := checkResult(t, res)
			wantW, wantH := 320, (p.Height*320+p.Width/2)/p.Width
			if p.Height > p.Width {
				wantW, wantH = (p.Width*320+p.Height/2)/p.Height, 320
			}
			if res.Width != wantW || res.Height != wantH {
				t.Errorf("got %d×%d, want %d×%d", res.Width, res.Height, wantW, wantH)
			}
			// Gulp.png is mostly transparent on purpose; the others are opaque.
			if _, _, _, a := img.At(res.Width/2, res.Height/2).RGBA(); p.Format != "png" && a != 0xffff {
				t.Errorf("got alpha %#x in the middle of a photo, want opaque", a)
			}
		})
	}
}

// The phone case: a landscape sensor image tagged "turn 90° clockwise".
func TestMakeOrientation6StandsUpright(t *testing.T) {
	src := quadrants(400, 200, red, blue, red, blue) // left half red, right half blue
	res, img := mustMake(t, mustOrientedJPEG(t, src, 6), thumbnail.Options{MaxSide: 320})
	if res.Width != 160 || res.Height != 320 {
		t.Fatalf("got %d×%d, want 160×320", res.Width, res.Height)
	}
	if got := img.At(80, 80); !near(got, red, 40) {
		t.Errorf("top: got %v, want red", got)
	}
	if got := img.At(80, 240); !near(got, blue, 40) {
		t.Errorf("bottom: got %v, want blue", got)
	}
}

func TestMakeAllOrientations(t *testing.T) {
	// Stored: red green / blue white.
	src := quadrants(60, 40, red, green, blue, white)
	tests := []struct {
		name           string
		orientation    int
		tl, tr, bl, br color.NRGBA // as displayed
	}{
		{"1 as stored", 1, red, green, blue, white},
		{"2 mirrored", 2, green, red, white, blue},
		{"3 turned 180", 3, white, blue, green, red},
		{"4 flipped", 4, blue, white, red, green},
		{"5 transposed", 5, red, blue, green, white},
		{"6 turned clockwise", 6, blue, red, white, green},
		{"7 transversed", 7, white, green, blue, red},
		{"8 turned counter-clockwise", 8, green, white, red, blue},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, img := mustMake(t, mustOrientedJPEG(t, src, tt.orientation), thumbnail.Options{})
			w, h := 60, 40
			if tt.orientation >= 5 {
				w, h = 40, 60
			}
			if res.Width != w || res.Height != h {
				t.Fatalf("got %d×%d, want %d×%d", res.Width, res.Height, w, h)
			}
			corners := []struct {
				name string
				x, y int
				want color.NRGBA
			}{
				{"top left", w / 4, h / 4, tt.tl},
				{"top right", 3 * w / 4, h / 4, tt.tr},
				{"bottom left", w / 4, 3 * h / 4, tt.bl},
				{"bottom right", 3 * w / 4, 3 * h / 4, tt.br},
			}
			for _, c := range corners {
				if got := img.At(c.x, c.y); !near(got, c.want, 40) {
					t.Errorf("%s: got %v, want %v", c.name, got, c.want)
				}
			}
		})
	}
}

func TestMakeSizes(t *testing.T) {
	tests := []struct {
		name         string
		data         []byte
		opts         thumbnail.Options
		wantW, wantH int
	}{
		{"small image is not upscaled", mustEncode(t, gradient(100, 50), "png"), thumbnail.Options{}, 100, 50},
		{"exactly the maximum", mustEncode(t, gradient(320, 100), "png"), thumbnail.Options{}, 320, 100},
		{"1x1", mustEncode(t, gradient(1, 1), "png"), thumbnail.Options{}, 1, 1},
		{"1x1 jpeg", mustEncode(t, gradient(1, 1), "jpeg"), thumbnail.Options{}, 1, 1},
		{"wide panorama 12000x300", mustEncode(t, gradient(12000, 300), "jpeg"), thumbnail.Options{}, 320, 8},
		{"tall strip 300x12000", mustEncode(t, gradient(300, 12000), "png"), thumbnail.Options{}, 8, 320},
		{"one pixel high 4000x1", mustEncode(t, gradient(4000, 1), "png"), thumbnail.Options{}, 320, 1},
		{"gif", mustEncode(t, gradient(640, 480), "gif"), thumbnail.Options{}, 320, 240},
		{"custom max side", mustEncode(t, gradient(640, 480), "jpeg"), thumbnail.Options{MaxSide: 64}, 64, 48},
		{"rotated panorama", mustOrientedJPEG(t, gradient(1200, 30), 8), thumbnail.Options{}, 8, 320},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, _ := mustMake(t, tt.data, tt.opts)
			if res.Width != tt.wantW || res.Height != tt.wantH {
				t.Errorf("got %d×%d, want %d×%d", res.Width, res.Height, tt.wantW, tt.wantH)
			}
		})
	}
}

// Averaging must keep colours: a uniform image stays that colour through
// every pixel layout (YCbCr from JPEG, NRGBA and paletted PNG, GIF).
func TestMakeKeepsColour(t *testing.T) {
	orange := color.NRGBA{240, 130, 20, 255}
	uniform := quadrants(1600, 1000, orange, orange, orange, orange)
	paletted := image.NewPaletted(image.Rect(0, 0, 1600, 1000), color.Palette{orange})
	tests := []struct {
		name string
		data []byte
		tol  int
	}{
		{"png nrgba", mustEncode(t, uniform, "png"), 0},
		{"png paletted", mustEncode(t, paletted, "png"), 0},
		{"gif", mustEncode(t, paletted, "gif"), 0},
		{"jpeg", mustEncode(t, uniform, "jpeg"), 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, img := mustMake(t, tt.data, thumbnail.Options{})
			for _, p := range []image.Point{{0, 0}, {res.Width / 2, res.Height / 2}, {res.Width - 1, res.Height - 1}} {
				if got := img.At(p.X, p.Y); !near(got, orange, tt.tol) {
					t.Errorf("at %v: got %v, want %v", p, got, orange)
				}
			}
			if tt.tol == 0 && res.Placeholder != "#f08214" {
				t.Errorf("got placeholder %q, want %q", res.Placeholder, "#f08214")
			}
		})
	}
}

func TestMakeKeepsTransparency(t *testing.T) {
	clear := color.NRGBA{}
	half := color.NRGBA{0, 0, 255, 128}
	img := quadrants(800, 800, clear, red, half, red)

	// A GIF whose first frame covers only the middle of the logical screen.
	frame := image.NewPaletted(image.Rect(100, 100, 300, 300), color.Palette{red, color.NRGBA{}})
	for i := range frame.Pix {
		frame.Pix[i] = 0
	}
	var g bytes.Buffer
	err := gif.EncodeAll(&g, &gif.GIF{
		Image: []*image.Paletted{frame}, Delay: []int{0},
		Config: image.Config{ColorModel: frame.Palette, Width: 400, Height: 400},
	})
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name   string
		data   []byte
		points map[image.Point]color.NRGBA
	}{
		{"png with alpha", mustEncode(t, img, "png"), map[image.Point]color.NRGBA{
			{80, 80}: clear, {240, 80}: red, {80, 240}: half,
		}},
		{"gif frame on a transparent screen", g.Bytes(), map[image.Point]color.NRGBA{
			{10, 10}: clear, {160, 160}: red, {310, 310}: clear,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, out := mustMake(t, tt.data, thumbnail.Options{})
			if res.Width != 320 || res.Height != 320 {
				t.Fatalf("got %d×%d, want 320×320", res.Width, res.Height)
			}
			for p, want := range tt.points {
				got := color.NRGBAModel.Convert(out.At(p.X, p.Y)).(color.NRGBA)
				if want.A == 0 {
					if got.A != 0 {
						t.Errorf("at %v: got %v, want transparent", p, got)
					}
					continue
				}
				if !near(got, want, 3) {
					t.Errorf("at %v: got %v, want %v", p, got, want)
				}
			}
		})
	}
}

func TestMakePlaceholder(t *testing.T) {
	tests := []struct {
		name string
		img  image.Image
		want string
	}{
		{"red", quadrants(50, 50, red, red, red, red), "#ff0000"},
		{"half red half blue", quadrants(50, 50, red, blue, red, blue), "#800080"},
		{"transparent parts do not count", quadrants(50, 50, color.NRGBA{}, green, color.NRGBA{}, green), "#00ff00"},
		{"all transparent", quadrants(50, 50, color.NRGBA{}, color.NRGBA{}, color.NRGBA{}, color.NRGBA{}), "#000000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, _ := mustMake(t, mustEncode(t, tt.img, "png"), thumbnail.Options{})
			if res.Placeholder != tt.want {
				t.Errorf("got %q, want %q", res.Placeholder, tt.want)
			}
		})
	}
}

func TestMakeRefuses(t *testing.T) {
	noise := make([]byte, 4096)
	rand.New(rand.NewSource(7)).Read(noise)
	good := mustEncode(t, gradient(300, 200), "png")

	// A JPEG whose scan data is garbage: headers and EOI intact.
	badScan := mustEncode(t, gradient(300, 200), "jpeg")
	sos := bytes.Index(badScan, []byte{0xFF, 0xDA})
	for i := sos + 20; i+1 < len(badScan)-2; i += 2 {
		badScan[i], badScan[i+1] = 0xFF, 0xC8
	}

	// A PNG whose image data fails its CRC.
	badCRC := bytes.Clone(good)
	idat := bytes.Index(badCRC, []byte("IDAT"))
	badCRC[idat+10] ^= 0xFF

	tests := []struct {
		name string
		data []byte
		opts thumbnail.Options
		code apperr.Code
	}{
		{"random bytes", noise, thumbnail.Options{}, apperr.Unsupported},
		{"empty", nil, thumbnail.Options{}, apperr.Invalid},
		{"truncated png", good[:len(good)/2], thumbnail.Options{}, apperr.Invalid},
		{"jpeg with a garbage scan", badScan, thumbnail.Options{}, apperr.Invalid},
		{"png with a bad CRC", badCRC, thumbnail.Options{}, apperr.Invalid},
		{"over MaxPixels", good, thumbnail.Options{MaxPixels: 300*200 - 1}, apperr.TooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := thumbnail.Make(context.Background(), bytes.NewReader(tt.data), tt.opts)
			if err == nil {
				t.Fatalf("got %d×%d thumbnail, want an error", res.Width, res.Height)
			}
			t.Logf("error: %v", err)
			if got := apperr.CodeOf(err); got != tt.code {
				t.Errorf("got code %q, want %q (%v)", got, tt.code, err)
			}
		})
	}
}

func TestMakeHonoursCancellation(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := thumbnail.Make(ctx, bytes.NewReader(mustEncode(t, gradient(10, 10), "png")), thumbnail.Options{})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want context.Canceled", err)
	}
}

// readSeekOnly hides every method but Read and Seek.
type readSeekOnly struct{ r io.ReadSeeker }

func (s readSeekOnly) Read(p []byte) (int, error)                { return s.r.Read(p) }
func (s readSeekOnly) Seek(off int64, whence int) (int64, error) { return s.r.Seek(off, whence) }

func TestMakeFromPlainReadSeeker(t *testing.T) {
	data := mustOrientedJPEG(t, quadrants(400, 200, red, blue, red, blue), 6)
	res, err := thumbnail.Make(context.Background(), readSeekOnly{bytes.NewReader(data)}, thumbnail.Options{})
	if err != nil {
		t.Fatalf("Make: %v", err)
	}
	checkResult(t, res)
	if res.Width != 160 || res.Height != 320 {
		t.Errorf("got %d×%d, want 160×320", res.Width, res.Height)
	}
}

// BenchmarkMake times the grid thumbnail alone (as the reactor's first
// job makes it) and with the 1280 px preview, per photo.
func BenchmarkMake(b *testing.B) {
	for _, p := range mediatest.Photos() {
		for _, o := range []struct {
			name string
			opts thumbnail.Options
		}{
			{"thumb", thumbnail.Options{MaxSide: 320}},
			{"preview", thumbnail.Options{MaxSide: 320, PreviewSide: thumbnail.DefaultPreviewSide}},
		} {
			b.Run(p.Name+"/"+o.name, func(b *testing.B) {
				f, err := os.Open(mediatest.Photo(b, p.Name))
				if err != nil {
					b.Fatal(err)
				}
				defer f.Close()
				b.ReportAllocs()
				cpu := thumbnail.ProcessCPU()
				for b.Loop() {
					if _, err := thumbnail.Make(context.Background(), f, o.opts); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(thumbnail.ProcessCPU()-cpu)/1e6/float64(b.N), "cpu-ms/op")
			})
		}
	}
}
