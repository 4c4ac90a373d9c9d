// Package media inspects uploaded bytes before anything is stored: it tells
// which image format they hold from the bytes alone, reads the dimensions
// from the header without decoding pixels, refuses decompression bombs and
// truncated files, and reads the EXIF orientation.
package media

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"strconv"

	"golang.org/x/image/webp"

	"mediashare/internal/apperr"
)

// DefaultMaxPixels is the pixel limit used when Limits.MaxPixels is zero.
const DefaultMaxPixels int64 = 100_000_000

// Limits bounds what Inspect accepts.
type Limits struct {
	MaxPixels int64 // width×height; zero means DefaultMaxPixels
}

// Info describes an accepted image.
type Info struct {
	Format        string // "jpeg", "png", "gif", "webp", "heic", "avif"
	ContentType   string // "image/jpeg", "image/png", "image/gif", "image/webp", "image/heic", "image/avif"
	Ext           string // ".jpg", ".png", ".gif", ".webp", ".heic", ".avif"
	Width, Height int    // as stored (before EXIF orientation)
	Orientation   int    // EXIF orientation 1..8 (1 when absent); HEIF's irot/imir as one
	// Layout is how the pixels are stored, from the header: what a
	// decoder will hold in memory (the thumbnailer's decode budget is
	// estimated from it). Every format fills it.
	Layout PixelLayout
}

// PixelLayout is how an image's samples are stored, read from its header.
type PixelLayout struct {
	BitDepth int // bits per sample: 1, 2, 4, 8 or 16 (PNG); 8 (JPEG, GIF, WebP); 8, 10 or 12 (HEIF, AVIF)
	// Channels counts the samples of a pixel, alpha included: 1 grey (or a
	// palette index), 2 grey and alpha, 3 colour, 4 colour and alpha, or CMYK.
	Channels    int
	Alpha       bool   // transparency: an alpha channel, a PNG tRNS chunk, a WebP ALPH chunk
	Paletted    bool   // indexed colour (GIF, PNG colour type 3)
	Subsampling string // YCbCr chroma subsampling: "4:4:4", "4:2:2", "4:2:0", "4:4:0", "4:1:1", "4:1:0"; "" when not YCbCr
	Lossless    bool   // WebP: the lossless (VP8L) bitstream
	// Progressive marks files a decoder must hold whole before it has a
	// pixel: progressive JPEG (every DCT coefficient) and Adam7-interlaced
	// PNG (every pass).
	Progressive bool
}

// Pixels returns Width×Height.
func (i Info) Pixels() int64 { return int64(i.Width) * int64(i.Height) }

// Rotated reports whether the orientation swaps width and height (5..8).
func (i Info) Rotated() bool { return i.Orientation >= 5 && i.Orientation <= 8 }

// Format names.
const (
	JPEG = "jpeg"
	PNG  = "png"
	GIF  = "gif"
	WebP = "webp"
)

type format struct {
	name, contentType, ext string
	config                 func(io.Reader) (image.Config, error)
}

var knownFormats = [...]format{
	{JPEG, "image/jpeg", ".jpg", jpeg.DecodeConfig},
	{PNG, "image/png", ".png", png.DecodeConfig},
	{GIF, "image/gif", ".gif", gif.DecodeConfig},
	{WebP, "image/webp", ".webp", webp.DecodeConfig},
	{HEIC, "image/heic", ".heic", nil}, // read by inspectHEIF
	{AVIF, "image/avif", ".avif", nil},
}

func lookup(name string) (format, bool) {
	for _, f := range knownFormats {
		if f.name == name {
			return f, true
		}
	}
	return format{}, false
}

const (
	msgEmpty       = "The file is empty."
	msgUnsupported = "Only " + acceptedFormats + " images are accepted."
	msgDamaged     = "The image is truncated or damaged."
)

func fileError(code apperr.Code, cause error, format string, args ...any) *apperr.Error {
	e := apperr.FieldError(code, "file", format, args...)
	e.Err = cause
	return e
}

func damaged(cause error) *apperr.Error {
	return fileError(apperr.Invalid, cause, msgDamaged)
}

// sniffLen is how many leading bytes Detect needs at most; an ftyp box
// (HEIF, AVIF), which lists its brands after them, gets ftypSniffLen.
const (
	sniffLen     = 12
	ftypSniffLen = 64
)

// Detect names the image format whose magic number starts head ("jpeg",
// "png", "gif", "webp"; "heic" or "avif" from an ftyp box's brands), or
// returns "" when there is none. It looks at the
// bytes only, never at a name or a declared type.
func Detect(head []byte) string {
	switch {
	case bytes.HasPrefix(head, []byte{0xFF, 0xD8, 0xFF}):
		return JPEG
	case bytes.HasPrefix(head, []byte("\x89PNG\r\n\x1a\n")):
		return PNG
	case bytes.HasPrefix(head, []byte("GIF87a")), bytes.HasPrefix(head, []byte("GIF89a")):
		return GIF
	case len(head) >= 12 && string(head[0:4]) == "RIFF" && string(head[8:12]) == "WEBP":
		return WebP
	}
	return detectHEIF(head)
}

// prefixOfMagic reports whether head, shorter than a magic number, could be
// the start of one: a file cut before its signature ends.
func prefixOfMagic(head []byte) bool {
	for _, m := range []string{"\xFF\xD8\xFF", "\x89PNG\r\n\x1a\n", "GIF87a", "GIF89a", "RIFF"} {
		if len(head) < len(m) && bytes.HasPrefix([]byte(m), head) {
			return true
		}
	}
	return false
}

// Inspect examines an uploaded file of the given size. It detects the type
// from the bytes, reads the dimensions from the header only, refuses images
// over lim.MaxPixels before anything is decoded, refuses truncated files by
// their trailer, and reads the EXIF orientation. Every error is an
// *apperr.Error about the field "file".
func Inspect(r io.ReaderAt, size int64, lim Limits) (Info, error) {
	if size <= 0 {
		return Info{}, fileError(apperr.Invalid, nil, msgEmpty)
	}
	head := make([]byte, min(size, sniffLen))
	if _, err := r.ReadAt(head, 0); err != nil && !errors.Is(err, io.EOF) {
		return Info{}, fmt.Errorf("media: inspect: read header: %w", err)
	}
	if len(head) == sniffLen && string(head[4:8]) == "ftyp" && size > sniffLen {
		head = make([]byte, min(size, ftypSniffLen))
		if _, err := r.ReadAt(head, 0); err != nil && !errors.Is(err, io.EOF) {
			return Info{}, fmt.Errorf("media: inspect: read header: %w", err)
		}
	}
	name := Detect(head)
	if name == "" {
		if prefixOfMagic(head) {
			return Info{}, damaged(errors.New("file shorter than its signature"))
		}
		return Info{}, fileError(apperr.Unsupported, nil, msgUnsupported)
	}
	f, _ := lookup(name)

	var (
		cfg  image.Config
		heif heifImage
		err  error
	)
	if f.config == nil {
		if heif, err = inspectHEIF(r, size); err != nil {
			return Info{}, err
		}
		f, _ = lookup(heif.format) // the codec decides, whatever the brands said
		cfg = image.Config{Width: heif.width, Height: heif.height}
	} else if cfg, err = f.config(io.NewSectionReader(r, 0, size)); err != nil {
		return Info{}, configError(name, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return Info{}, fileError(apperr.Invalid, nil, "The image has no pixels (it is %d×%d).", cfg.Width, cfg.Height)
	}
	maxPixels := lim.MaxPixels
	if maxPixels <= 0 {
		maxPixels = DefaultMaxPixels
	}
	if px := int64(cfg.Width) * int64(cfg.Height); px > maxPixels {
		got, limit, unit := megapixels(px), megapixels(maxPixels), "megapixels"
		if got == limit { // too close to tell apart in megapixels
			got, limit, unit = strconv.FormatInt(px, 10), strconv.FormatInt(maxPixels, 10), "pixels"
		}
		return Info{}, fileError(apperr.TooLarge, nil,
			"The image is %d×%d pixels (%s %s); the limit is %s %s.",
			cfg.Width, cfg.Height, got, unit, limit, unit)
	}

	if f.config == nil {
		if err := heifBuildSupport(f.name); err != nil {
			return Info{}, err
		}
		return Info{
			Format: f.name, ContentType: f.contentType, Ext: f.ext,
			Width: cfg.Width, Height: cfg.Height, Orientation: heif.orientation, Layout: heif.layout,
		}, nil
	}

	st, err := structure(r, size, name)
	if err != nil {
		return Info{}, err
	}
	return Info{
		Format:      f.name,
		ContentType: f.contentType,
		Ext:         f.ext,
		Width:       cfg.Width,
		Height:      cfg.Height,
		Orientation: st.orientation,
		Layout:      st.pixels,
	}, nil
}

// Orientation returns the EXIF orientation (1..8) of an image of the given
// format ("jpeg", "png", "webp"; GIF has none; for "heic" and "avif" their
// irot/imir, else their Exif's), or 1 when it has none or
// the file cannot be read.
func Orientation(r io.ReaderAt, size int64, format string) int {
	st, err := structure(r, size, format)
	if err != nil {
		return 1
	}
	return st.orientation
}

// configError classifies an error from a DecodeConfig function.
func configError(format string, err error) error {
	var (
		jpegUnsupported jpeg.UnsupportedError
		pngUnsupported  png.UnsupportedError
	)
	if errors.As(err, &jpegUnsupported) || errors.As(err, &pngUnsupported) {
		return fileError(apperr.Unsupported, err, "This %s file uses a feature we cannot read.", displayName(format))
	}
	return damaged(err)
}

func displayName(format string) string {
	if format == WebP {
		return "WebP"
	}
	return string(bytes.ToUpper([]byte(format)))
}

// megapixels formats a pixel count in megapixels, with one decimal when it
// matters ("900", "17.9").
func megapixels(px int64) string {
	mp := float64(px) / 1e6
	if mp == float64(int64(mp)) {
		return strconv.FormatFloat(mp, 'f', 0, 64)
	}
	return strconv.FormatFloat(mp, 'f', 1, 64)
}
