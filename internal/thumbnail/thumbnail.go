// Package thumbnail makes the gallery's preview of an original: decoded
// (JPEG, PNG, the first frame of a GIF, WebP), stood upright by its EXIF
// orientation, shrunk with bild so its longest side fits, encoded as PNG.
package thumbnail

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/draw"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"sync"

	"github.com/anthonynsimon/bild/transform"
	"golang.org/x/image/webp"

	"mediashare/internal/apperr"
	"mediashare/internal/media"
)

// DefaultMaxSide is the longest side of a thumbnail when Options.MaxSide is zero.
const DefaultMaxSide = 320

// Options tune Make.
type Options struct {
	MaxSide   int   // longest side of the output; zero means DefaultMaxSide; smaller images are never upscaled
	MaxPixels int64 // refuse to decode more than this (checked on the header); zero means media.DefaultMaxPixels
}

// Result is a thumbnail.
type Result struct {
	PNG           []byte // encoded PNG, 8-bit RGBA
	Width, Height int    // of the thumbnail, after orientation
	Placeholder   string // average colour as "#rrggbb"
}

// Make decodes the image in r, applies its EXIF orientation, resizes it
// keeping the aspect ratio so that its longest side is opts.MaxSide (never
// upscaling), and encodes it as PNG. Transparency is kept. A panic inside a
// decoder comes back as an error; ctx is checked between steps.
func Make(ctx context.Context, r io.ReadSeeker, opts Options) (Result, error) {
	maxSide := opts.MaxSide
	if maxSide <= 0 {
		maxSide = DefaultMaxSide
	}
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	size, err := r.Seek(0, io.SeekEnd)
	if err != nil {
		return Result{}, fmt.Errorf("thumbnail: size: %w", err)
	}
	info, err := media.Inspect(readerAt(r), size, media.Limits{MaxPixels: opts.MaxPixels})
	if err != nil {
		return Result{}, fmt.Errorf("thumbnail: inspect: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return Result{}, fmt.Errorf("thumbnail: rewind: %w", err)
	}
	img, err := decode(r, info.Format)
	if err != nil {
		return Result{}, fmt.Errorf("thumbnail: decode %s: %w", info.Format, err)
	}
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	img = onCanvas(img, info.Width, info.Height)

	w, h := info.Width, info.Height // as displayed
	if info.Rotated() {
		w, h = h, w
	}
	tw, th := fit(w, h, maxSide)
	if info.Rotated() { // resize as stored, then turn
		tw, th = th, tw
	}
	small := resize(img, tw, th)
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	out := orient(small, info.Orientation)

	var buf bytes.Buffer
	if err := png.Encode(&buf, out); err != nil {
		return Result{}, fmt.Errorf("thumbnail: encode: %w", err)
	}
	b := out.Bounds()
	return Result{PNG: buf.Bytes(), Width: b.Dx(), Height: b.Dy(), Placeholder: averageColour(out)}, nil
}

// decode decodes the first image in r, turning a decoder's panic into an
// error.
func decode(r io.Reader, format string) (image.Image, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	return safely(func() (image.Image, error) {
		switch format {
		case media.JPEG:
			return jpeg.Decode(br)
		case media.PNG:
			return png.Decode(br)
		case media.GIF:
			return gif.Decode(br) // the first frame
		case media.WebP:
			return webp.Decode(br)
		}
		return nil, fmt.Errorf("unknown format %q", format)
	})
}

// safely runs a decoder, turning an error or a panic into an Invalid
// application error about the file.
func safely(fn func() (image.Image, error)) (img image.Image, err error) {
	defer func() {
		if p := recover(); p != nil {
			img, err = nil, undecodable(fmt.Errorf("decoder panic: %v", p))
		}
	}()
	img, err = fn()
	if err != nil {
		return nil, undecodable(err)
	}
	return img, nil
}

func undecodable(cause error) error {
	e := apperr.FieldError(apperr.Invalid, "file", "The image could not be decoded.")
	e.Err = cause
	return e
}

// onCanvas places img on a transparent w×h canvas at the origin when its
// bounds are not already that (a GIF's first frame may cover only part of
// the logical screen).
func onCanvas(img image.Image, w, h int) image.Image {
	want := image.Rect(0, 0, w, h)
	if img.Bounds() == want {
		return img
	}
	dst := image.NewRGBA(want)
	draw.Draw(dst, img.Bounds(), img, img.Bounds().Min, draw.Src)
	return dst
}

// fit returns the size of a w×h image shrunk so its longest side is
// maxSide, keeping the aspect ratio; smaller images keep their size. Each
// side is at least 1.
func fit(w, h, maxSide int) (int, int) {
	if w <= maxSide && h <= maxSide {
		return w, h
	}
	if w >= h {
		return maxSide, max(1, int((int64(h)*int64(maxSide)+int64(w)/2)/int64(w)))
	}
	return max(1, int((int64(w)*int64(maxSide)+int64(h)/2)/int64(h))), maxSide
}

// resize returns img as a w×h RGBA image anchored at the origin. Images
// much larger than the target are first box-averaged by an integer factor
// (cheap, and it spares bild a full-size RGBA copy); bild's linear filter
// does the rest.
func resize(img image.Image, w, h int) *image.RGBA {
	b := img.Bounds()
	if b.Dx() == w && b.Dy() == h {
		dst := image.NewRGBA(image.Rect(0, 0, w, h))
		draw.Draw(dst, dst.Bounds(), img, b.Min, draw.Src)
		return dst
	}
	if k := min(b.Dx()/w, b.Dy()/h) / 2; k >= 2 {
		if reduced := boxReduce(img, k); reduced != nil {
			img = reduced
		}
	}
	return transform.Resize(img, w, h, transform.Linear)
}

// averageColour returns the mean colour of the visible pixels of img as
// "#rrggbb" (black when nothing is visible).
func averageColour(img *image.RGBA) string {
	var r, g, b, a uint64
	for y := range img.Rect.Dy() {
		row := img.Pix[y*img.Stride : y*img.Stride+4*img.Rect.Dx()]
		for i := 0; i < len(row); i += 4 {
			r += uint64(row[i]) // premultiplied: weighted by alpha already
			g += uint64(row[i+1])
			b += uint64(row[i+2])
			a += uint64(row[i+3])
		}
	}
	if a == 0 {
		return "#000000"
	}
	c := func(v uint64) uint64 { return min(255, (v*255+a/2)/a) }
	return fmt.Sprintf("#%02x%02x%02x", c(r), c(g), c(b))
}

// readerAt gives random access to r: directly when it offers it, else by
// seeking (which moves r's offset; Make rewinds before decoding).
func readerAt(r io.ReadSeeker) io.ReaderAt {
	if ra, ok := r.(io.ReaderAt); ok {
		return ra
	}
	return &seekReaderAt{r: r}
}

type seekReaderAt struct {
	mu sync.Mutex
	r  io.ReadSeeker
}

func (s *seekReaderAt) ReadAt(p []byte, off int64) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.r.Seek(off, io.SeekStart); err != nil {
		return 0, err
	}
	n, err := io.ReadFull(s.r, p)
	if errors.Is(err, io.ErrUnexpectedEOF) {
		err = io.EOF
	}
	return n, err
}
