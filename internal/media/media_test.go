package media_test

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"math/rand"
	"os"
	"strings"
	"testing"

	"mediashare/internal/apperr"
	"mediashare/internal/media"
	"mediashare/internal/media/mediatest"
)

const limit = 100_000_000

func mustOpen(t *testing.T, path string) (*os.File, int64) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	fi, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	return f, fi.Size()
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func inspectBytes(b []byte) (media.Info, error) {
	return media.Inspect(bytes.NewReader(b), int64(len(b)), media.Limits{MaxPixels: limit})
}

// testImage is a small image with a gradient, so encoders have work to do.
func testImage(w, h int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.SetNRGBA(x, y, color.NRGBA{uint8(x * 255 / w), uint8(y * 255 / h), 128, 255})
		}
	}
	return img
}

func mustPNG(t *testing.T, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func mustJPEG(t *testing.T, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func mustGIF(t *testing.T, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := gif.Encode(&b, img, nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// pngChunk encodes one PNG chunk with its CRC.
func pngChunk(typ string, data []byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
	b = append(b, typ...)
	b = append(b, data...)
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b[4:]))
}

// pngHeader is a PNG with an IHDR declaring w×h 8-bit RGB pixels, an empty
// IDAT and IEND: about 60 bytes that would decode to w×h×4 bytes.
func pngHeader(w, h uint32) []byte {
	ihdr := binary.BigEndian.AppendUint32(nil, w)
	ihdr = binary.BigEndian.AppendUint32(ihdr, h)
	ihdr = append(ihdr, 8, 2, 0, 0, 0) // depth 8, RGB, deflate, filter 0, no interlace
	b := []byte("\x89PNG\r\n\x1a\n")
	b = append(b, pngChunk("IHDR", ihdr)...)
	b = append(b, pngChunk("IDAT", []byte{0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01})...)
	return append(b, pngChunk("IEND", nil)...)
}

// jpegHeader is SOI, a baseline SOF0 declaring w×h with three components,
// an SOS header, a few bytes of scan and EOI: no tables.
func jpegHeader(w, h uint16) []byte {
	b := []byte{0xFF, 0xD8, 0xFF, 0xC0, 0, 17, 8}
	b = binary.BigEndian.AppendUint16(b, h)
	b = binary.BigEndian.AppendUint16(b, w)
	b = append(b, 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1)
	b = append(b, 0xFF, 0xDA, 0, 12, 3, 1, 0x00, 2, 0x11, 3, 0x11, 0, 63, 0)
	b = append(b, 0x12, 0x34, 0xFF, 0x00, 0x56)
	return append(b, 0xFF, 0xD9)
}

// tiffExif is a little-endian TIFF block whose IFD0 holds a dummy tag and
// then the orientation.
func tiffExif(o uint16) []byte {
	le := binary.LittleEndian
	b := []byte{'I', 'I'}
	b = le.AppendUint16(b, 42)
	b = le.AppendUint32(b, 8)
	b = le.AppendUint16(b, 2)
	b = le.AppendUint16(b, 0x010F) // Make, ASCII, 4 bytes inline
	b = le.AppendUint16(b, 2)
	b = le.AppendUint32(b, 4)
	b = append(b, 'G', 'o', '!', 0)
	b = le.AppendUint16(b, 0x0112)
	b = le.AppendUint16(b, 3)
	b = le.AppendUint32(b, 1)
	b = le.AppendUint16(b, o)
	b = le.AppendUint16(b, 0)
	return le.AppendUint32(b, 0)
}

// webpChunk encodes one RIFF chunk, padded to an even length.
func webpChunk(typ string, data []byte) []byte {
	b := append([]byte(typ), binary.LittleEndian.AppendUint32(nil, uint32(len(data)))...)
	b = append(b, data...)
	if len(data)%2 == 1 {
		b = append(b, 0)
	}
	return b
}

func riff(chunks ...[]byte) []byte {
	body := []byte("WEBP")
	for _, c := range chunks {
		body = append(body, c...)
	}
	b := append([]byte("RIFF"), binary.LittleEndian.AppendUint32(nil, uint32(len(body)))...)
	return append(b, body...)
}

// extendedWebP rewraps the image chunk of a simple lossy WebP into the
// extended format (VP8X) with the given flags and extra chunks after it.
func extendedWebP(t *testing.T, simple []byte, w, h int, flags byte, extra ...[]byte) []byte {
	t.Helper()
	if string(simple[12:16]) != "VP8 " {
		t.Fatalf("got first chunk %q, want \"VP8 \"", simple[12:16])
	}
	vp8x := []byte{flags, 0, 0, 0}
	vp8x = append(vp8x, byte(w-1), byte((w-1)>>8), byte((w-1)>>16))
	vp8x = append(vp8x, byte(h-1), byte((h-1)>>8), byte((h-1)>>16))
	chunks := [][]byte{webpChunk("VP8X", vp8x), simple[12:]}
	return riff(append(chunks, extra...)...)
}

func TestInspectPhotos(t *testing.T) {
	types := map[string][2]string{
		"jpeg": {"image/jpeg", ".jpg"},
		"png":  {"image/png", ".png"},
		"webp": {"image/webp", ".webp"},
	}
	for _, p := range mediatest.Photos() {
		t.Run(p.Name, func(t *testing.T) {
			f, size := mustOpen(t, mediatest.Photo(t, p.Name))
			got, err := media.Inspect(f, size, media.Limits{MaxPixels: limit})
			if err != nil {
				t.Fatalf("Inspect: %v", err)
			}
			want := media.Info{
				Format: p.Format, ContentType: types[p.Format][0], Ext: types[p.Format][1],
				Width: p.Width, Height: p.Height, Orientation: 1,
			}
			got.Layout = media.PixelLayout{} // TestInspectLayout checks it
			if got != want {
				t.Errorf("got %+v, want %+v", got, want)
			}
		})
	}
}

func TestInspectGenerated(t *testing.T) {
	img := testImage(64, 48)
	tests := []struct {
		name   string
		data   []byte
		format string
	}{
		{"jpeg", mustJPEG(t, img), "jpeg"},
		{"png", mustPNG(t, img), "png"},
		{"gif", mustGIF(t, img), "gif"},
		{"jpeg with trailing bytes after EOI", append(mustJPEG(t, img), "trailer"...), "jpeg"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := inspectBytes(tt.data)
			if err != nil {
				t.Fatalf("Inspect: %v", err)
			}
			if got.Format != tt.format || got.Width != 64 || got.Height != 48 || got.Orientation != 1 {
				t.Errorf("got %+v, want %s 64×48 orientation 1", got, tt.format)
			}
		})
	}
}

func TestInspectRejects(t *testing.T) {
	noise := make([]byte, 4096)
	rand.New(rand.NewSource(1)).Read(noise)
	bmp := append([]byte("BM"), make([]byte, 52)...)
	binary.LittleEndian.PutUint32(bmp[2:], 54)
	webpPhoto := mustRead(t, mediatest.Photo(t, "adwaita-l.webp"))

	tests := []struct {
		name    string
		data    []byte
		code    apperr.Code
		message string
	}{
		{"empty", nil, apperr.Invalid, "The file is empty."},
		{"HTML", []byte("<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"), apperr.Unsupported, msgUnsupported},
		{"SVG", []byte(`<svg xmlns="http://www.w3.org/2000/svg"><rect width="10" height="10"/></svg>`), apperr.Unsupported, msgUnsupported},
		{"random bytes", noise, apperr.Unsupported, msgUnsupported},
		{"BMP header", bmp, apperr.Unsupported, msgUnsupported},
		{"TIFF header", []byte("II*\x00\x08\x00\x00\x00\x00\x00\x00\x00"), apperr.Unsupported, msgUnsupported},
		{"WAV", append([]byte("RIFF\x04\x00\x00\x00WAVE"), make([]byte, 16)...), apperr.Unsupported, msgUnsupported},
		{"PNG signature cut short", []byte("\x89PN"), apperr.Invalid, "The image is truncated or damaged."},
		{"PNG signature only", []byte("\x89PNG\r\n\x1a\n"), apperr.Invalid, "The image is truncated or damaged."},
		{"PNG bomb 30000×30000", pngHeader(30000, 30000), apperr.TooLarge, "The image is 30000×30000 pixels (900 megapixels); the limit is 100 megapixels."},
		{"JPEG bomb 65535×65535", jpegHeader(65535, 65535), apperr.TooLarge, "The image is 65535×65535 pixels (4294.8 megapixels); the limit is 100 megapixels."},
		{"PNG zero width", pngHeader(0, 10), apperr.Invalid, "The image is truncated or damaged."},
		{"JPEG zero height", jpegHeader(10, 0), apperr.Invalid, "The image has no pixels (it is 10×0)."},
		{"JPEG without EOI", jpegHeader(10, 10)[:len(jpegHeader(10, 10))-2], apperr.Invalid, "The image is truncated or damaged."},
		{"JPEG with EOI before the scan", append(jpegHeader(10, 10)[:2], 0xFF, 0xD9), apperr.Invalid, "The image is truncated or damaged."},
		{"animated WebP without frames", extendedWebP(t, webpPhoto, 4096, 4096, 0x02), apperr.Invalid, "The image is truncated or damaged."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := inspectBytes(tt.data)
			if err == nil {
				t.Fatalf("got %+v, want an error", got)
			}
			if code := apperr.CodeOf(err); code != tt.code {
				t.Errorf("got code %q, want %q (%v)", code, tt.code, err)
			}
			if field := apperr.FieldOf(err); field != "file" {
				t.Errorf("got field %q, want %q", field, "file")
			}
			if msg := apperr.MessageOf(err); tt.message != "" && msg != tt.message {
				t.Errorf("got message %q, want %q", msg, tt.message)
			}
		})
	}
}

func TestInspectPixelLimit(t *testing.T) {
	data := mustPNG(t, testImage(100, 50))
	tests := []struct {
		name      string
		maxPixels int64
		wantErr   bool
	}{
		{"under", 5001, false},
		{"exactly", 5000, false},
		{"over", 4999, true},
		{"zero means the default", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := media.Inspect(bytes.NewReader(data), int64(len(data)), media.Limits{MaxPixels: tt.maxPixels})
			if got := err != nil; got != tt.wantErr {
				t.Fatalf("got error %v, want error: %v", err, tt.wantErr)
			}
			if err != nil && apperr.CodeOf(err) != apperr.TooLarge {
				t.Errorf("got code %q, want %q", apperr.CodeOf(err), apperr.TooLarge)
			}
		})
	}
}

// A bomb is refused from its header: nothing past it is read.
func TestInspectBombReadsHeaderOnly(t *testing.T) {
	data := pngHeader(30000, 30000)
	r := &countingReaderAt{r: bytes.NewReader(data)}
	_, err := media.Inspect(r, 1<<40, media.Limits{MaxPixels: limit}) // claims a 1 TiB file
	if got, want := apperr.CodeOf(err), apperr.TooLarge; got != want {
		t.Fatalf("got code %q, want %q (%v)", got, want, err)
	}
	if r.n > int64(len(data)) {
		t.Errorf("got %d bytes read, want at most %d", r.n, len(data))
	}
}

type countingReaderAt struct {
	r io.ReaderAt
	n int64
}

func (c *countingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	n, err := c.r.ReadAt(p, off)
	c.n += int64(n)
	return n, err
}

func TestInspectTruncated(t *testing.T) {
	img := testImage(200, 150)
	type input struct {
		name string
		data []byte // in memory, or
		path string // a real photo
	}
	tests := []input{
		{name: "jpeg", data: mustJPEG(t, img)},
		{name: "png", data: mustPNG(t, img)},
		{name: "gif", data: mustGIF(t, img)},
	}
	for _, p := range mediatest.Photos() {
		tests = append(tests, input{name: p.Name, path: mediatest.Photo(t, p.Name)})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r io.ReaderAt = bytes.NewReader(tt.data)
			size := int64(len(tt.data))
			if tt.path != "" {
				r, size = mustOpen(t, tt.path)
			}
			if _, err := media.Inspect(r, size, media.Limits{MaxPixels: limit}); err != nil {
				t.Fatalf("whole file: got %v, want no error", err)
			}
			half := size / 2
			got, err := media.Inspect(io.NewSectionReader(r, 0, half), half, media.Limits{MaxPixels: limit})
			if err == nil {
				t.Fatalf("got %+v, want an error", got)
			}
			if code := apperr.CodeOf(err); code != apperr.Invalid {
				t.Errorf("got code %q, want %q (%v)", code, apperr.Invalid, err)
			}
			if msg, want := apperr.MessageOf(err), "The image is truncated or damaged."; msg != want {
				t.Errorf("got message %q, want %q", msg, want)
			}
		})
	}
}

func TestOrientationJPEG(t *testing.T) {
	img := testImage(40, 20)
	for o := 1; o <= 8; o++ {
		t.Run(string(rune('0'+o)), func(t *testing.T) {
			data, err := mediatest.JPEGWithOrientation(img, o)
			if err != nil {
				t.Fatal(err)
			}
			info, err := inspectBytes(data)
			if err != nil {
				t.Fatalf("Inspect: %v", err)
			}
			if info.Orientation != o {
				t.Errorf("got orientation %d, want %d", info.Orientation, o)
			}
			if info.Width != 40 || info.Height != 20 {
				t.Errorf("got %d×%d, want 40×20 (as stored)", info.Width, info.Height)
			}
			if got := media.Orientation(bytes.NewReader(data), int64(len(data)), "jpeg"); got != o {
				t.Errorf("Orientation: got %d, want %d", got, o)
			}
		})
	}
}

func TestOrientationOtherContainers(t *testing.T) {
	plain := mustPNG(t, testImage(30, 10))
	// eXIf goes between IHDR (8+25 bytes) and the image data.
	withExif := append(append(append([]byte{}, plain[:33]...), pngChunk("eXIf", tiffExif(8))...), plain[33:]...)
	webpPhoto := mustRead(t, mediatest.Photo(t, "adwaita-l.webp"))

	tests := []struct {
		name   string
		data   []byte
		format string
		want   int
	}{
		{"png without eXIf", plain, "png", 1},
		{"png with eXIf", withExif, "png", 8},
		{"webp without EXIF", webpPhoto, "webp", 1},
		{"webp with EXIF chunk", extendedWebP(t, webpPhoto, 4096, 4096, 0x08, webpChunk("EXIF", tiffExif(6))), "webp", 6},
		{"webp with Exif-prefixed EXIF chunk", extendedWebP(t, webpPhoto, 4096, 4096, 0x08, webpChunk("EXIF", append([]byte("Exif\x00\x00"), tiffExif(3)...))), "webp", 3},
		{"webp with EXIF out of range", extendedWebP(t, webpPhoto, 4096, 4096, 0x08, webpChunk("EXIF", tiffExif(9))), "webp", 1},
		{"gif", mustGIF(t, testImage(10, 10)), "gif", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info, err := inspectBytes(tt.data)
			if err != nil {
				t.Fatalf("Inspect: %v", err)
			}
			if info.Format != tt.format || info.Orientation != tt.want {
				t.Errorf("got %s orientation %d, want %s orientation %d", info.Format, info.Orientation, tt.format, tt.want)
			}
		})
	}
}

func TestDetect(t *testing.T) {
	tests := []struct {
		name string
		head string
		want string
	}{
		{"jpeg", "\xFF\xD8\xFF\xE0", "jpeg"},
		{"png", "\x89PNG\r\n\x1a\n", "png"},
		{"gif87a", "GIF87a", "gif"},
		{"gif89a", "GIF89a", "gif"},
		{"webp", "RIFF\x00\x00\x00\x00WEBP", "webp"},
		{"html", "<html>", ""},
		{"svg", "<svg xmlns=", ""},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := media.Detect([]byte(tt.head)); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestMessagesNameTheLimit(t *testing.T) {
	_, err := inspectBytes(pngHeader(20000, 10000))
	if msg := apperr.MessageOf(err); !strings.Contains(msg, "200 megapixels") || !strings.Contains(msg, "20000×10000") {
		t.Errorf("got message %q, want the dimensions and megapixels named", msg)
	}
}

// msgUnsupported is the refusal of an unknown type; it lists HEIC and AVIF
// when the build decodes them.
var msgUnsupported = map[bool]string{
	false: "Only JPEG, PNG, GIF and WebP images are accepted.",
	true:  "Only JPEG, PNG, GIF, WebP, HEIC and AVIF images are accepted.",
}[media.HEIFDecodable]
