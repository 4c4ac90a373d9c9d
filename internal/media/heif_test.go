package media_test

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"io"
	"strings"
	"testing"

	"mediashare/internal/apperr"
	"mediashare/internal/media"
	"mediashare/internal/media/mediatest"
)

func TestDetectHEIF(t *testing.T) {
	ftyp := func(major string, compat ...string) []byte {
		b := []byte{0, 0, 0, byte(16 + 4*len(compat)), 'f', 't', 'y', 'p'}
		b = append(b, major...)
		b = append(b, 0, 0, 0, 0)
		for _, c := range compat {
			b = append(b, c...)
		}
		return b
	}
	for _, tt := range []struct {
		name string
		head []byte
		want string
	}{
		{"heic", ftyp("heic", "mif1", "heic"), media.HEIC},
		{"mif1 with heic", ftyp("mif1", "heic"), media.HEIC},
		{"avif", ftyp("avif", "mif1", "miaf"), media.AVIF},
		{"mif1 with avif", ftyp("mif1", "miaf", "avif"), media.AVIF},
		{"mp4", ftyp("isom", "iso2", "mp41"), ""},
		{"quicktime", ftyp("qt  "), ""},
		{"no ftyp", []byte("\x00\x00\x00\x18moovheic\x00\x00\x00\x00"), ""},
	} {
		if got := media.Detect(tt.head); got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestInspectHEIF(t *testing.T) {
	src := smallImage()
	plain := mediatest.HEIC(t, src)
	tests := []struct {
		name           string
		data           []byte
		format         string
		w, h, o, depth int
	}{
		{"HEIC", plain, media.HEIC, 320, 240, 1, 8},
		{"AVIF", mediatest.AVIF(t, src, 8), media.AVIF, 320, 240, 1, 8},
		{"AVIF 10-bit", mediatest.AVIF(t, src, 10), media.AVIF, 320, 240, 1, 10},
		{"AVIF 12-bit", mediatest.AVIF(t, src, 12), media.AVIF, 320, 240, 1, 12},
		{"grid", mediatest.GridHEIC(t, src, 2, 3, 0), media.HEIC, 320, 240, 1, 8},
		{"grid turned", mediatest.GridHEIC(t, src, 2, 3, 1), media.HEIC, 320, 240, 8, 8},
		{"EXIF orientation", mediatest.Exiftool(t, plain, ".heic", "-Orientation=6", "-n"), media.HEIC, 320, 240, 6, 8},
		{"irot then imir", mediatest.WithTransform(t, plain, 3, 0), media.HEIC, 320, 240, 7, 8},
		{"imir left-right", mediatest.WithTransform(t, plain, -1, 1), media.HEIC, 320, 240, 2, 8},
		{"irot 180", mediatest.WithTransform(t, plain, 2, -1), media.HEIC, 320, 240, 3, 8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info, err := media.Inspect(bytes.NewReader(tt.data), int64(len(tt.data)), media.Limits{})
			if !media.HEIFDecodable {
				if got, want := apperr.CodeOf(err), apperr.Unsupported; got != want {
					t.Fatalf("got code %q (%v), want %q in a build without libheif", got, err, want)
				}
				if msg := apperr.MessageOf(err); !strings.Contains(msg, "libheif") || !strings.Contains(msg, "nativeheif") {
					t.Errorf("got message %q, want it to say what to install", msg)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			sub := "4:2:0"
			if tt.format == media.AVIF && tt.depth > 8 {
				sub = "4:4:4" // what avifenc picks for a deeper encode of a JPEG
			}
			want := media.Info{Format: tt.format, ContentType: "image/" + tt.format, Ext: "." + tt.format,
				Width: tt.w, Height: tt.h, Orientation: tt.o,
				Layout: media.PixelLayout{BitDepth: tt.depth, Channels: 3, Subsampling: sub}}
			if info != want {
				t.Errorf("got %+v, want %+v", info, want)
			}
		})
	}
}

func TestInspectHEIFRejects(t *testing.T) {
	heic := mediatest.HEIC(t, smallImage())
	avif := mediatest.AVIF(t, smallImage(), 10)
	grid := mediatest.GridHEIC(t, smallImage(), 2, 2, 0)
	tests := []struct {
		name string
		data []byte
		code apperr.Code
		msg  string
	}{
		{"HEIC cut at the end", heic[:len(heic)-1], apperr.Invalid, "truncated or damaged"},
		{"HEIC cut in half", heic[:len(heic)/2], apperr.Invalid, "truncated or damaged"},
		{"HEIC cut in its meta box", heic[:120], apperr.Invalid, "truncated or damaged"},
		{"AVIF cut", avif[:len(avif)-10], apperr.Invalid, "truncated or damaged"},
		{"grid cut", grid[:len(grid)-40], apperr.Invalid, "truncated or damaged"},
		{"ftyp only", heic[:binary.BigEndian.Uint32(heic)], apperr.Unsupported, "no still image"},
		{"too many pixels in ispe", mediatest.WithSize(t, heic, 40000, 30000), apperr.TooLarge, "40000×30000 pixels (1200 megapixels); the limit is 100 megapixels"},
		{"grid over too few tiles", mediatest.WithSize(t, grid, 100, 100), apperr.Invalid, "truncated or damaged"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := media.Inspect(bytes.NewReader(tt.data), int64(len(tt.data)), media.Limits{})
			if got := apperr.CodeOf(err); got != tt.code {
				t.Fatalf("got code %q (%v), want %q", got, err, tt.code)
			}
			if msg := apperr.MessageOf(err); !strings.Contains(msg, tt.msg) {
				t.Errorf("got message %q, want it to contain %q", msg, tt.msg)
			}
		})
	}
}

// GPS in Exif and XMP items leaves a HEIC or AVIF original without a byte
// of pixel data changing: the same size, the orientation kept, still
// readable by libheif, and exiftool finds no location.
func TestStripLocationHEIF(t *testing.T) {
	for _, tt := range []struct {
		name, ext string
		data      []byte
	}{
		{"HEIC", ".heic", mediatest.HEIC(t, smallImage())},
		{"AVIF", ".avif", mediatest.AVIF(t, smallImage(), 10)},
		{"grid", ".heic", mediatest.GridHEIC(t, smallImage(), 2, 2, 0)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tagged := mediatest.Exiftool(t, tt.data, tt.ext, append([]string{"-Orientation=6", "-n"}, mediatest.GPSArgs...)...)
			before := mediatest.ExiftoolTags(t, tagged, tt.ext)
			if !strings.Contains(before, "GPSLatitude") || !strings.Contains(before, "Paris") {
				t.Fatalf("exiftool did not add the location:\n%s", before)
			}
			info := media.Info{Format: strings.TrimPrefix(tt.ext, ".")}
			if has, err := media.HasLocation(bytes.NewReader(tagged), int64(len(tagged)), info); err != nil || !has {
				t.Fatalf("HasLocation: got %v, %v; want true", has, err)
			}
			r, n, err := media.StripLocation(bytes.NewReader(tagged), int64(len(tagged)), info)
			if err != nil {
				t.Fatal(err)
			}
			out, err := io.ReadAll(r)
			if err != nil {
				t.Fatal(err)
			}
			if int64(len(out)) != n || len(out) != len(tagged) {
				t.Fatalf("got %d bytes (said %d), want %d", len(out), n, len(tagged))
			}
			after := mediatest.ExiftoolTags(t, out, tt.ext)
			for _, gone := range []string{"GPS", "Paris"} {
				if strings.Contains(after, gone) {
					t.Errorf("%q is still there:\n%s", gone, after)
				}
			}
			if !strings.Contains(after, "Orientation") {
				t.Errorf("the orientation went too:\n%s", after)
			}
			if has, _ := media.HasLocation(bytes.NewReader(out), int64(len(out)), info); has {
				t.Error("HasLocation is still true after stripping")
			}
			if mediatest.Convert(t, out).Bounds().Dx() == 0 {
				t.Error("heif-convert made an empty image")
			}
		})
	}
}

// smallImage is a 320×240 gradient, an easy image to encode.
func smallImage() image.Image {
	img := image.NewRGBA(image.Rect(0, 0, 320, 240))
	for y := range 240 {
		for x := range 320 {
			img.Set(x, y, color.RGBA{uint8(x * 255 / 320), uint8(y * 255 / 240), 120, 255})
		}
	}
	return img
}
