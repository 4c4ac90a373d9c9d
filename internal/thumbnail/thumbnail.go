// Package thumbnail makes the gallery's renditions of an original: decoded
// (JPEG, PNG, the first frame of a GIF or an animated WebP, WebP, and with
// libheif HEIC and AVIF), stood upright by its EXIF (or HEIF irot/imir)
// orientation, shrunk with bild so its longest side fits, and encoded: the
// grid thumbnail as PNG, and optionally a larger preview (JPEG, or PNG when
// the image has transparency), both from one decode.
//
// Speed. Decoding the full-resolution image is most of the cost. Built with
// the tag nativecodecs (and cgo), JPEGs are decoded by libjpeg-turbo already
// scaled down in the DCT domain (1/2, 1/4, 1/8 …, never below the largest
// rendition) and WebP by libwebp with its shrink-on-load; CMYK JPEGs, damaged
// files and everything else go to the pure-Go decoders, which are also the
// whole story in a default build. PNGs much larger than the target, and
// those whose whole decode would be larger than 8-bit RGBA (16-bit), are
// read row by row (interlaced ones pass by pass) and box-reduced as they
// are read, so only the reduced image is ever held (pngreduce.go). Other
// images much larger than the target are box-averaged by a whole factor
// straight from the decoder's pixel layout, and bild's linear filter does
// the final resampling.
//
// Safety. The pixel limit is checked on the header (media.Inspect) before
// anything is decoded; the Go decoders read through the context, so a
// deadline stops them at their next read; a decoder's panic comes back as
// an error. A Limiter bounds how many thumbnails are made at once and,
// with a memory budget, admits each by the memory its decode is estimated
// to take from the header (budget.go): a decode waits for room, and one
// that could never fit is refused (Check says so at the upload).
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

	"mediashare/internal/apperr"
	"mediashare/internal/media"
)

// DefaultMaxSide is the longest side of a thumbnail when Options.MaxSide is zero.
const DefaultMaxSide = 320

// DefaultPreviewSide is the longest side of the entry page's preview that
// the application asks for.
const DefaultPreviewSide = 1280

// previewQuality is the JPEG quality of an opaque preview.
const previewQuality = 82

// Options tune Make.
type Options struct {
	MaxSide int // longest side of the grid thumbnail; zero means DefaultMaxSide; smaller images are never upscaled
	// PreviewSide, when positive, asks for a preview whose longest side is
	// at most this, made from the same decode. There is none when the
	// image is no larger than the grid thumbnail.
	PreviewSide int
	MaxPixels   int64 // refuse to decode more than this (checked on the header); zero means media.DefaultMaxPixels
	// Limiter, when set, bounds how many Make calls decode at once; share
	// one across the process.
	Limiter *Limiter

	previewOnly bool // MakePreview: stop once the preview is made (preview.go)
}

// Result is what Make makes.
type Result struct {
	PNG           []byte // the grid thumbnail: encoded PNG, 8-bit RGBA
	Width, Height int    // of the grid thumbnail, after orientation
	Placeholder   string // average colour as "#rrggbb"
	// Preview is the larger rendition, or nil (not asked for, or the
	// image is no larger than the grid thumbnail).
	Preview *Rendition
}

// Rendition is one encoded image.
type Rendition struct {
	Data          []byte
	ContentType   string // "image/jpeg" or "image/png"
	Ext           string // ".jpg" or ".png"
	Width, Height int    // after orientation
}

// Make decodes the image in r, applies its EXIF orientation, resizes it
// keeping the aspect ratio so that its longest side is opts.MaxSide (never
// upscaling), and encodes it as PNG; with opts.PreviewSide it also makes
// the preview. Transparency is kept. A panic inside a decoder comes back
// as an error; ctx bounds the whole, decoding included.
func Make(ctx context.Context, r io.ReadSeeker, opts Options) (Result, error) {
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
	// A wide-gamut original is shown in sRGB (nil: nothing to convert).
	colour := sourceColour(readerAt(r), size, info.Format)

	// Admitted by the memory the decode will take, before it starts.
	g := geometryOf(info, opts)
	p := planFor(info, size, g)
	adm, err := opts.Limiter.admit(ctx, p.bytes)
	if err != nil {
		return Result{}, err
	}
	defer adm.release()
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	s := new(scratch) // working buffers, back to their pools on return
	defer s.release()

	img, err := s.load(ctx, r, size, info, p, g.largestW, g.largestH, adm)
	if err != nil {
		return Result{}, err
	}
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	if info.Format == media.GIF {
		img = onCanvas(img, info.Width, info.Height)
	}
	// Shrink once, cheaply, to about twice the largest rendition; a
	// layout boxReduce does not read is made RGBA once, not per rendition.
	if b := img.Bounds(); g.largestW > 0 && g.largestH > 0 {
		k := g.reduction(b.Dx(), b.Dy())
		var reduced *image.RGBA
		if k >= 2 {
			reduced = s.boxReduce(img, k)
		}
		if _, ok := img.(*image.RGBA); reduced == nil && !ok {
			img = toRGBA(img)
			if k >= 2 {
				reduced = s.boxReduce(img, k)
			}
		}
		if reduced != nil {
			img = reduced
		}
	}
	// Whether the image is opaque, found once: a JPEG always is, and the
	// renditions of an opaque image are (the filters' weights sum to one).
	if rgba, ok := img.(*image.RGBA); ok {
		s.opaque = info.Format == media.JPEG || opaqueRGBA(rgba)
	}

	var res Result
	if len(g.renditions) > 1 {
		sw, sh := g.renditions[1][0], g.renditions[1][1]
		scaled := s.resize(img, sw, sh)
		// The grid thumbnail is made from the preview: a quarter of the
		// pixels to read, and the same linear filter over the whole span.
		img = scaled
		p := s.orient(scaled, info.Orientation)
		if p == scaled && colour != nil {
			p = s.cloneRGBA(scaled) // the colour conversion below works in place
		}
		if colour != nil {
			colour.apply(p)
		}
		if err := ctx.Err(); err != nil {
			return Result{}, err
		}
		rend, err := s.encodePreview(p)
		if err != nil {
			return Result{}, err
		}
		res.Preview = &rend
	}
	if opts.previewOnly {
		return res, nil
	}
	sw, sh := g.renditions[0][0], g.renditions[0][1]
	out := s.orient(s.resize(img, sw, sh), info.Orientation)
	if colour != nil {
		colour.apply(out)
	}
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	b := out.Bounds()
	res.PNG, res.Width, res.Height, res.Placeholder = encodePNG(out), b.Dx(), b.Dy(), averageColour(out)
	return res, nil
}

func (s *scratch) cloneRGBA(src *image.RGBA) *image.RGBA {
	dst := s.rgba(src.Rect.Dx(), src.Rect.Dy())
	dst.Rect = src.Rect
	copy(dst.Pix, src.Pix)
	return dst
}

// encodePreview encodes an opaque preview as JPEG, one with transparency
// as PNG.
func encodePreview(img *image.RGBA) (Rendition, error) {
	return (*scratch)(nil).encodePreview(img)
}

// encodePreview is encodePreview knowing, when s.opaque is set, that the
// image is opaque.
func (s *scratch) encodePreview(img *image.RGBA) (Rendition, error) {
	var buf bytes.Buffer
	rend := Rendition{Width: img.Rect.Dx(), Height: img.Rect.Dy()}
	if s != nil && s.opaque || img.Opaque() {
		if data, ok, err := nativeEncodeJPEG(img, previewQuality); ok {
			if err != nil {
				return Rendition{}, fmt.Errorf("thumbnail: encode preview: %w", err)
			}
			rend.Data, rend.ContentType, rend.Ext = data, "image/jpeg", ".jpg"
			return rend, nil
		}
		if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: previewQuality}); err != nil {
			return Rendition{}, fmt.Errorf("thumbnail: encode preview: %w", err)
		}
		rend.ContentType, rend.Ext = "image/jpeg", ".jpg"
		rend.Data = buf.Bytes()
	} else {
		rend.Data, rend.ContentType, rend.Ext = encodePNG(img), "image/png", ".png"
	}
	return rend, nil
}

// load decodes the image as the plan says: scaled down on load to no
// less than minW×minH where a native codec can, reduced row by row for a
// PNG, else in full with the Go decoders. When a native codec balks, the
// Go decoder's larger estimate is admitted before it runs. The native
// decoders' file and image buffers come from s.
func (s *scratch) load(ctx context.Context, r io.ReadSeeker, size int64, info media.Info, p plan, minW, minH int, adm *admission) (image.Image, error) {
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("thumbnail: rewind: %w", err)
	}
	switch p.decoder {
	case decodePNGRows:
		br := bufio.NewReaderSize(ctxReader{ctx, r}, 64<<10)
		img, err := safely(func() (image.Image, error) { return decodePNGReduced(br, p.factor) })
		if err != nil && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if err != nil {
			return nil, fmt.Errorf("thumbnail: decode png: %w", err)
		}
		return img, nil
	case decodeHEIF:
		return loadHEIF(ctx, r, size, info)
	case decodeNative:
	default:
		return decode(ctx, r, info.Format)
	}
	// The native codecs want the whole file in memory.
	data := s.bytes(int(size))
	if _, err := io.ReadFull(ctxReader{ctx, r}, data); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("thumbnail: read: %w", err)
	}
	var handled bool
	img, err := safely(func() (image.Image, error) {
		img, ok, err := s.nativeDecode(data, info.Format, minW, minH)
		handled = ok
		return img, err
	})
	if err == nil && handled {
		return img, nil
	}
	// Not for the native codec, or it balked: the Go decoder decides,
	// once its memory is admitted.
	img = nil
	if err := adm.reserve(ctx, p.fallback); err != nil {
		return nil, err
	}
	return decode(ctx, bytes.NewReader(data), info.Format)
}

// toRGBA converts img to an RGBA image at the origin.
func toRGBA(img image.Image) *image.RGBA {
	b := img.Bounds()
	dst := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(dst, dst.Bounds(), img, b.Min, draw.Src)
	return dst
}

// ctxReader stops reading once its context is done, which stops a Go
// decoder at its next read.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// decode decodes the first image in r with the Go decoders, turning a
// decoder's panic into an error and stopping when ctx is done.
func decode(ctx context.Context, r io.Reader, format string) (image.Image, error) {
	br := bufio.NewReaderSize(ctxReader{ctx, r}, 64<<10)
	img, err := safely(func() (image.Image, error) {
		switch format {
		case media.JPEG:
			return jpeg.Decode(br)
		case media.PNG:
			return png.Decode(br)
		case media.GIF:
			return gif.Decode(br) // the first frame
		case media.WebP:
			return decodeWebP(br) // the first frame of an animation
		}
		return nil, fmt.Errorf("unknown format %q", format)
	})
	if err != nil && ctx.Err() != nil {
		return nil, ctx.Err() // the deadline, not the file
	}
	if err != nil {
		return nil, fmt.Errorf("thumbnail: decode %s: %w", format, err)
	}
	return img, nil
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
// (cheap, and it spares the resizer a full-size RGBA copy); resizeLinear
// (bild's linear filter, faster) does the rest. Its buffers come from s.
func (s *scratch) resize(img image.Image, w, h int) *image.RGBA {
	b := img.Bounds()
	if b.Dx() == w && b.Dy() == h {
		if src, ok := img.(*image.RGBA); ok {
			dst := s.rgba(w, h)
			for y := range h {
				copy(dst.Pix[y*dst.Stride:y*dst.Stride+4*w], src.Pix[src.PixOffset(b.Min.X, b.Min.Y+y):])
			}
			return dst
		}
		dst := image.NewRGBA(image.Rect(0, 0, w, h))
		draw.Draw(dst, dst.Bounds(), img, b.Min, draw.Src)
		return dst
	}
	if k := min(b.Dx()/w, b.Dy()/h) / 2; k >= 2 {
		if reduced := s.boxReduce(img, k); reduced != nil {
			img = reduced
		}
	}
	rgba, ok := img.(*image.RGBA)
	if !ok {
		rgba = toRGBA(img)
	}
	return s.resizeLinear(rgba, w, h)
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
