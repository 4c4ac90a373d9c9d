package thumbnail

import (
	"context"
	"fmt"
	"runtime"

	"golang.org/x/sync/semaphore"

	"mediashare/internal/apperr"
	"mediashare/internal/media"
)

// Limiter bounds the thumbnails made at once, by count and, when it has a
// memory budget, by the memory their decodes need together. Share one
// across a process (the reactors of every shard): the count, sized to the
// cores, keeps a burst of uploads from taking every core from the web
// server; the budget keeps the process' decoding within the memory it
// has. Each Make is admitted by its estimate (see Estimate) before it
// decodes a byte, waiting while others hold the budget; one that could
// never fit is refused, never decoded.
type Limiter struct {
	slots  chan struct{}
	mem    *semaphore.Weighted // nil: no memory budget
	memory int64
}

// NewLimiter returns a Limiter allowing n thumbnails at once, with no
// memory budget; n <= 0 means runtime.GOMAXPROCS(0).
func NewLimiter(n int) *Limiter {
	if n <= 0 {
		n = runtime.GOMAXPROCS(0)
	}
	return &Limiter{slots: make(chan struct{}, n)}
}

// NewBudget returns a Limiter allowing n thumbnails at once (n <= 0 means
// runtime.GOMAXPROCS(0)) whose estimated decode memory together stays
// within memory bytes.
func NewBudget(n int, memory int64) *Limiter {
	l := NewLimiter(n)
	if memory > 0 {
		l.mem, l.memory = semaphore.NewWeighted(memory), memory
	}
	return l
}

// Memory returns the memory budget in bytes, or 0 when there is none.
func (l *Limiter) Memory() int64 {
	if l == nil {
		return 0
	}
	return l.memory
}

// admission is one Make's hold on a Limiter: a slot and some memory.
type admission struct {
	l    *Limiter
	held int64
	slot bool
}

// admit waits for a slot, then for bytes of the budget (or for ctx).
func (l *Limiter) admit(ctx context.Context, bytes int64) (*admission, error) {
	a := &admission{l: l}
	if l == nil {
		return a, nil
	}
	select {
	case l.slots <- struct{}{}:
		a.slot = true
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if err := a.reserve(ctx, bytes); err != nil {
		a.release()
		return nil, err
	}
	return a, nil
}

// reserve makes the memory held exactly bytes. It gives back what it held
// before waiting for more, so two decodes that both grow never wait on
// each other.
func (a *admission) reserve(ctx context.Context, bytes int64) error {
	l := a.l
	if l == nil || l.mem == nil {
		return nil
	}
	if bytes > l.memory {
		return overBudget(bytes, l.memory)
	}
	if a.held > 0 {
		l.mem.Release(a.held)
		a.held = 0
	}
	if err := l.mem.Acquire(ctx, bytes); err != nil {
		return err
	}
	a.held = bytes
	return nil
}

func (a *admission) release() {
	if a == nil || a.l == nil {
		return
	}
	if a.held > 0 {
		a.l.mem.Release(a.held)
		a.held = 0
	}
	if a.slot {
		<-a.l.slots
		a.slot = false
	}
}

// overBudget is the error for a decode that can never fit.
func overBudget(need, budget int64) error {
	return apperr.FieldError(apperr.TooLarge, "file",
		"Making a preview of this image needs about %s of memory, more than this server allows (%s).",
		mebibytes(need), mebibytes(budget))
}

func mebibytes(n int64) string {
	if n >= 10<<30 {
		return fmt.Sprintf("%d GiB", n>>30)
	}
	return fmt.Sprintf("%d MiB", (n+1<<20-1)>>20)
}

// Decoders a plan may choose.
const (
	decodeGo      = "go"       // the Go decoder, the whole image at full size
	decodePNGRows = "png-rows" // decodePNGReduced: row by row, reduced by a whole factor
	decodeNative  = "native"   // libjpeg-turbo or libwebp, scaled on load
	decodeHEIF    = "heif"     // libheif, the whole image (heif.go)
)

// plan is how an image will be decoded and what that costs.
type plan struct {
	decoder string
	factor  int   // png-rows: the reduction factor
	bytes   int64 // estimated peak memory of the decode and what is made from it
	// fallback is the estimate of the Go decoder, run when the native
	// codec balks at a file (0 for other plans).
	fallback int64
}

// decodeOverhead covers the fixed buffers around a decode: buffered and
// inflating readers, encoders, the ICC tables.
const decodeOverhead = 4 << 20

// geometry is the sizes Make produces for an image, as stored (before
// orientation): the renditions, and the largest of them.
type geometry struct {
	renditions         [][2]int
	largestW, largestH int
}

func geometryOf(info media.Info, opts Options) geometry {
	maxSide := opts.MaxSide
	if maxSide <= 0 {
		maxSide = DefaultMaxSide
	}
	w, h := info.Width, info.Height
	if info.Rotated() {
		w, h = h, w
	}
	gw, gh := fit(w, h, maxSide)
	pw, ph := 0, 0
	if opts.PreviewSide > 0 && (gw < w || gh < h) {
		pw, ph = fit(w, h, max(opts.PreviewSide, maxSide))
	}
	stored := func(w, h int) [2]int {
		if info.Rotated() {
			return [2]int{h, w}
		}
		return [2]int{w, h}
	}
	g := geometry{renditions: [][2]int{stored(gw, gh)}}
	if pw > 0 {
		g.renditions = append(g.renditions, stored(pw, ph))
	}
	l := stored(max(gw, pw), max(gh, ph))
	g.largestW, g.largestH = l[0], l[1]
	return g
}

// reduction is the whole factor Make box-reduces a w×h decode by: to
// about twice the largest rendition, and only when that halves it at least.
func (g geometry) reduction(w, h int) int {
	if g.largestW <= 0 || g.largestH <= 0 {
		return 1
	}
	if k := min(w/g.largestW, h/g.largestH) / 2; k >= 2 {
		return k
	}
	return 1
}

// interlacedReduction is the whole factor an interlaced PNG is reduced by
// while it is read: down to the largest rendition's size.
func (g geometry) interlacedReduction(w, h int) int {
	if g.largestW <= 0 || g.largestH <= 0 {
		return 1
	}
	return max(1, min(w/g.largestW, h/g.largestH, maxInterlacedFactor))
}

// Estimate returns the memory, in bytes, that Make needs at its peak to
// make the renditions opts asks for from an image with this header and
// file size: the decoded form it will actually hold (reduced where it
// reduces: scaled JPEG and WebP with native codecs, big PNGs row by row)
// plus the working images of the reduction, the resizes and the encoders.
// It is what the Limiter admits the decode by.
func Estimate(info media.Info, size int64, opts Options) int64 {
	return planFor(info, size, geometryOf(info, opts)).bytes
}

// Check reports, before an upload is stored, whether Make could ever make
// its renditions within the Limiter's memory budget. Its error is a
// TooLarge application error about the field "file", with the message
// to show. Without a budget every image passes.
func Check(info media.Info, size int64, opts Options) error {
	budget := opts.Limiter.Memory()
	if budget <= 0 {
		return nil
	}
	p := planFor(info, size, geometryOf(info, opts))
	if p.bytes <= budget {
		return nil
	}
	e := apperr.FieldError(apperr.TooLarge, "file",
		"This image is too large for this server to make a preview from: it needs about %s of memory to decode, and the server allows %s. %s",
		mebibytes(p.bytes), mebibytes(budget), advice(info))
	return e
}

// advice says how to make an image that decodes in less memory.
func advice(info media.Info) string {
	l := info.Layout
	switch {
	case info.Format == media.JPEG && l.Channels == 4:
		return "Save it in RGB rather than CMYK, or smaller."
	case info.Format == media.JPEG && l.Progressive:
		return "Save it as a baseline (not progressive) JPEG, or smaller."
	case l.BitDepth > 8:
		return "Save it at 8 bits per channel, or smaller."
	}
	return "Save it at a smaller size."
}

// planFor chooses the decoder for an image and estimates its memory.
func planFor(info media.Info, size int64, g geometry) plan {
	w, h := info.Width, info.Height
	px := int64(w) * int64(h)
	l := info.Layout

	if isHEIF(info.Format) {
		return heifPlan(info, size, g)
	}
	if info.Format == media.PNG && l.Progressive {
		// Interlaced: every pass covers the whole image, so the sums of
		// the whole reduced image are held (16 bytes a pixel); reduce to
		// the largest rendition's size rather than twice it.
		if k := g.interlacedReduction(w, h); k >= 2 {
			ow, oh := (w+k-1)/k, (h+k-1)/k
			bitsPP := max(1, l.Channels) * max(1, l.BitDepth)
			rows := 2*int64((w*bitsPP+7)/8+1) + 4*int64(w)
			decoded := int64(ow) * int64(oh) * (4 + 16)
			return plan{decoder: decodePNGRows, factor: k,
				bytes: decoded + rows + working(g, oh) + decodeOverhead}
		}
	}
	if info.Format == media.PNG && !l.Progressive {
		full := goDecodeCost(info)
		k := g.reduction(w, h)
		// Row by row when it shrinks the image, or when the whole decode
		// would be larger than the reduced one (16-bit and the like).
		if k >= 2 || full.bytes > px*4 {
			ow, oh := (w+k-1)/k, (h+k-1)/k
			bitsPP := max(1, l.Channels) * max(1, l.BitDepth)
			rows := 2*int64((w*bitsPP+7)/8+1) + 4*int64(w) + 32*int64(ow)
			decoded := int64(ow) * int64(oh) * 4
			return plan{decoder: decodePNGRows, factor: k,
				bytes: decoded + rows + working(g, oh) + decodeOverhead}
		}
	}

	goPlan := func(extra int64) plan {
		c := goDecodeCost(info)
		copyBytes := int64(0)
		k := g.reduction(w, h)
		if !c.reducible || (k < 2 && !c.rgba) {
			copyBytes = px * 4 // converted to RGBA once, for the reduction or the resize
		}
		ow, oh := w, h
		if k >= 2 {
			ow, oh = (w+k-1)/k, (h+k-1)/k
		}
		reduced := int64(0)
		if k >= 2 {
			reduced = int64(ow) * int64(oh) * 4
		}
		return plan{decoder: decodeGo, bytes: extra + c.bytes + copyBytes + reduced + working(g, oh) + decodeOverhead}
	}

	if Native && (info.Format == media.JPEG && l.Channels != 4 || info.Format == media.WebP) {
		var decoded, internal int64
		var sw, sh int
		if info.Format == media.JPEG {
			sw, sh = turboScaled(w, h, g.largestW, g.largestH)
			bpp := int64(4)
			if l.Channels == 1 {
				bpp = 1
			}
			decoded = int64(sw) * int64(sh) * bpp
			internal = int64(w) * 16 * 4 * 2 // a band of MCU rows
			if l.Progressive {
				internal = int64(float64(px) * samplesPerPixel(l) * 2) // every coefficient, 16 bits each
			}
		} else {
			k := max(1, min(w/max(1, g.largestW), h/max(1, g.largestH)))
			sw, sh = (w+k-1)/k, (h+k-1)/k
			decoded = int64(sw) * int64(sh) * 4
			internal = int64(w) * 64
			if l.Lossless {
				internal = px * 4 // libwebp's lossless decoder holds the whole ARGB image
			}
		}
		k := g.reduction(sw, sh)
		ow, oh := sw, sh
		reduced := int64(0)
		if k >= 2 {
			ow, oh = (sw+k-1)/k, (sh+k-1)/k
			reduced = int64(ow) * int64(oh) * 4
		}
		p := plan{decoder: decodeNative, bytes: size + decoded + internal + reduced + working(g, oh) + decodeOverhead}
		p.fallback = goPlan(size).bytes // the file stays in memory for the Go decoder
		return p
	}
	return goPlan(0)
}

// working is the memory of the resizes from a source sh rows high: for each
// rendition the horizontal pass (its width × sh), the result, the turned
// copy and the encoded bytes (twice: the buffer grows by doubling).
func working(g geometry, sh int) int64 {
	var n int64
	for _, r := range g.renditions {
		n += int64(r[0])*int64(sh)*4 + 4*int64(r[0])*int64(r[1])*4
	}
	return n
}

// cost is what a Go decoder holds for a whole image.
type cost struct {
	bytes     int64
	reducible bool // boxReduce reads its pixel layout
	rgba      bool // it is already *image.RGBA
}

// goDecodeCost estimates the Go decoder's memory for the whole image from
// its header: width × height × the bytes per pixel of the colour model it
// decodes to, plus what the decoder keeps beside (a progressive JPEG's
// coefficients, an interlaced PNG's passes).
func goDecodeCost(info media.Info) cost {
	px := float64(info.Width) * float64(info.Height)
	l := info.Layout
	var bpp float64
	c := cost{reducible: true}
	switch info.Format {
	case media.JPEG:
		switch {
		case l.Channels == 1:
			bpp = 1 // Gray
		case l.Channels == 4:
			bpp, c.reducible = 3+1+4, false // YCbCr and K planes, then CMYK
		case l.Subsampling == "":
			bpp, c.rgba = 3+4, true // RGB: the planes, then RGBA
		default:
			bpp = samplesPerPixel(l) // YCbCr at its subsampling
		}
		if l.Progressive {
			bpp += samplesPerPixel(l) * 4 // a 32-bit coefficient per sample
		}
	case media.PNG:
		bytesPerSample := 1.0
		if l.BitDepth == 16 {
			bytesPerSample = 2
			c.reducible = false // Gray16, RGBA64, NRGBA64
		}
		switch {
		case l.Paletted:
			bpp = 1
		case l.Channels == 1 && !l.Alpha:
			bpp = bytesPerSample // Gray, Gray16
		default:
			bpp = 4 * bytesPerSample // RGBA, NRGBA, their 16-bit twins
			c.rgba = l.Channels == 3 && !l.Alpha && l.BitDepth == 8
		}
		if l.Progressive {
			bpp *= 2 // each pass is decoded into an image of its own, then copied
		}
	case media.GIF:
		bpp, c.rgba = 1+4, true // the frame, then placed on an RGBA canvas
	case media.WebP:
		switch {
		case l.Lossless:
			bpp = 4 + 4 // the ARGB words, then NRGBA
		case l.Alpha:
			bpp, c.reducible = 2.5, false // NYCbCrA
		default:
			bpp = 1.5 // YCbCr 4:2:0
		}
	default: // formats this file does not know: from the layout alone
		bpp, c.reducible = max(1, float64(l.Channels))*float64(max(1, (l.BitDepth+7)/8)), false
		if l.Subsampling != "" {
			bpp = samplesPerPixel(l) * float64(max(1, (l.BitDepth+7)/8))
		}
		bpp = max(bpp, 4)
	}
	c.bytes = int64(px * bpp)
	return c
}

// samplesPerPixel is the luma and chroma samples a pixel carries at the
// layout's subsampling (3 for 4:4:4, 1.5 for 4:2:0, 1 for grey).
func samplesPerPixel(l media.PixelLayout) float64 {
	if l.Channels == 1 {
		return 1
	}
	chroma := map[string]float64{"4:4:4": 1, "4:2:2": 0.5, "4:4:0": 0.5, "4:2:0": 0.25, "4:1:1": 0.25, "4:1:0": 0.125}[l.Subsampling]
	if chroma == 0 {
		chroma = 1
	}
	n := 1 + 2*chroma
	if l.Channels == 4 {
		n++
	}
	return n
}

// turboScaled is the size libjpeg-turbo decodes a w×h JPEG to for a
// target of at least minW×minH: the smallest of its scaling factors n/8
// (n = 1..8) that keeps both sides at least that (as tj_scale chooses).
func turboScaled(w, h, minW, minH int) (int, int) {
	sw, sh := w, h
	for n := 1; n <= 8; n++ {
		x, y := (w*n+7)/8, (h*n+7)/8
		if x >= minW && y >= minH && int64(x)*int64(y) < int64(sw)*int64(sh) {
			sw, sh = x, y
		}
	}
	return sw, sh
}
