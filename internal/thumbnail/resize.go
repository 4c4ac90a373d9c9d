package thumbnail

import (
	"image"
	"math"
	"runtime"
	"sync"
)

// The resampler: a separable triangle (linear) filter whose support grows
// with the reduction, as bild's transform.Linear, in 12-bit fixed point
// on premultiplied RGBA. Rows are split between the cores for large
// images. Weights are non-negative, so a premultiplied colour never
// exceeds its alpha.
//
// Twelve bits so that a sum of weighted bytes stays below 2^20: an opaque
// pixel's three colours are then filtered together, in 21-bit lanes of one
// uint64 (packed.go), one multiply a tap instead of three.

const (
	weightBits = 12
	weightOne  = 1 << weightBits
)

// taps are the filter weights of one axis: output i reads n inputs from
// start[i], weighted by w[i*n : i*n+n] (summing to weightOne).
type taps struct {
	start []int
	count []int // the weights of output i that are in range: w[i*n : i*n+count[i]]
	n     int
	w     []int32
}

func linearTaps(in, out int) taps {
	scale := float64(in) / float64(out)
	support := max(1, scale)
	n := int(math.Ceil(2*support)) + 1
	t := taps{start: make([]int, out), count: make([]int, out), n: n, w: make([]int32, out*n)}
	fw := make([]float64, n)
	for o := range out {
		center := (float64(o)+0.5)*scale - 0.5
		lo := max(0, int(math.Ceil(center-support)))
		hi := min(in-1, int(math.Floor(center+support)))
		if lo+n-1 < hi {
			hi = lo + n - 1
		}
		if hi < lo { // only at the edges of a tiny input
			lo, hi = min(max(0, int(math.Round(center))), in-1), min(max(0, int(math.Round(center))), in-1)
		}
		var sum float64
		for i := lo; i <= hi; i++ {
			v := 1 - math.Abs(float64(i)-center)/support
			if v < 0 {
				v = 0
			}
			fw[i-lo] = v
			sum += v
		}
		if sum == 0 { // a single input just outside every triangle
			fw[0], sum = 1, 1
		}
		t.start[o], t.count[o] = lo, hi-lo+1
		row := t.w[o*n : o*n+n]
		var total int32
		best := 0
		for i := 0; i <= hi-lo; i++ {
			row[i] = int32(math.Round(fw[i] / sum * weightOne))
			total += row[i]
			if row[i] > row[best] {
				best = i
			}
		}
		row[best] += weightOne - total // the rounding's remainder on the largest tap
	}
	return t
}

// clamp8 rounds a fixed-point sum to a byte. The weights are never
// negative and sum to weightOne, so a sum is never below 0 nor, rounded,
// above 255; the min is a guard that costs no branch.
func clamp8(v int32) uint8 {
	v = (v + weightOne/2) >> weightBits
	switch {
	case v < 0:
		return 0
	case v > 255:
		return 255
	}
	return uint8(v)
}

// parallelRows calls fn for row ranges that together cover [0, rows),
// on several goroutines when the work (pixels) is large.
func parallelRows(rows, pixels int, fn func(y0, y1 int)) {
	workers := min(runtime.GOMAXPROCS(0), rows)
	if pixels < 1<<18 || workers < 2 {
		fn(0, rows)
		return
	}
	var wg sync.WaitGroup
	step := (rows + workers - 1) / workers
	for y0 := 0; y0 < rows; y0 += step {
		wg.Go(func() { fn(y0, min(y0+step, rows)) })
	}
	wg.Wait()
}

// resizeLinear resamples src to w×h.
func resizeLinear(src *image.RGBA, w, h int) *image.RGBA {
	return (*scratch)(nil).resizeLinear(src, w, h)
}

// resizeLinear resamples src to w×h, its buffers from s. Each output row
// is the vertical pass over the horizontal passes of the source rows it
// reads, which are made once each into a ring of rows (as many as the
// vertical filter has taps): the intermediate image is never held whole,
// so what the vertical pass reads is in the cache. An opaque source is
// filtered in three channels and its alpha set, not computed.
func (s *scratch) resizeLinear(src *image.RGBA, w, h int) *image.RGBA {
	sw, sh := src.Rect.Dx(), src.Rect.Dy()
	if w <= 0 || h <= 0 || sw <= 0 || sh <= 0 {
		return image.NewRGBA(image.Rect(0, 0, max(0, w), max(0, h)))
	}
	ch := 4
	if s != nil && s.opaque || opaqueRGBA(src) {
		ch = 3
	}
	return s.resizeChannels(src, w, h, ch)
}

// resizeChannels is resizeLinear filtering ch channels: 4, or 3 (packed)
// for an opaque source.
func (s *scratch) resizeChannels(src *image.RGBA, w, h, ch int) *image.RGBA {
	if ch == 3 {
		return s.resizePacked(src, w, h)
	}
	sw, sh := src.Rect.Dx(), src.Rect.Dy()
	dst := s.rgba(w, h)
	tx, ty := linearTaps(sw, w), linearTaps(sh, h)
	parallelRows(h, w*sh*tx.n+w*h*ty.n, func(y0, y1 int) {
		rw := 4 * w // bytes of one filtered row
		ring := s.bytes(ty.n * rw)
		have := make([]int, ty.n) // the source row each slot holds
		for i := range have {
			have[i] = -1
		}
		acc := make([]int32, rw)
		rows := make([][]uint8, ty.n)
		for y := y0; y < y1; y++ {
			cnt := ty.count[y]
			for k := range cnt {
				r := ty.start[y] + k
				slot := r % ty.n
				row := ring[slot*rw : (slot+1)*rw]
				if have[slot] != r {
					in := src.Pix[r*src.Stride : r*src.Stride+4*sw]
					horizontal4(in, row, &tx)
					have[slot] = r
				}
				rows[k] = row
			}
			vertical(acc, rows[:cnt], ty.w[y*ty.n:y*ty.n+cnt])
			out := dst.Pix[y*dst.Stride : y*dst.Stride+4*w]
			for i, v := range acc {
				out[i] = clamp8(v)
			}
		}
	})
	return dst
}

// opaqueRGBA reports whether every pixel of img has full alpha.
func opaqueRGBA(img *image.RGBA) bool {
	w := img.Rect.Dx()
	for y := range img.Rect.Dy() {
		row := img.Pix[y*img.Stride : y*img.Stride+4*w]
		for i := 3; i < len(row); i += 4 {
			if row[i] != 255 {
				return false
			}
		}
	}
	return true
}

// horizontal4 filters one RGBA row into out (4 bytes an output pixel).
func horizontal4(in, out []uint8, t *taps) {
	for o := range len(out) / 4 {
		wt := t.w[o*t.n : o*t.n+t.count[o]]
		p := in[4*t.start[o] : 4*(t.start[o]+len(wt))]
		var r, g, b, a int32
		for k, c := range wt {
			q := p[4*k : 4*k+4 : 4*k+4]
			r += int32(q[0]) * c
			g += int32(q[1]) * c
			b += int32(q[2]) * c
			a += int32(q[3]) * c
		}
		q := out[4*o : 4*o+4 : 4*o+4]
		q[0], q[1], q[2], q[3] = clamp8(r), clamp8(g), clamp8(b), clamp8(a)
	}
}

// vertical sets acc to the weighted sum of rows, four rows a pass over acc.
func vertical(acc []int32, rows [][]uint8, wt []int32) {
	n := len(acc)
	k := 0
	switch {
	case len(rows) >= 2:
		r0, r1 := rows[0][:n], rows[1][:n]
		c0, c1 := wt[0], wt[1]
		for i := range acc {
			acc[i] = int32(r0[i])*c0 + int32(r1[i])*c1
		}
		k = 2
	case len(rows) == 1:
		r0, c0 := rows[0][:n], wt[0]
		for i := range acc {
			acc[i] = int32(r0[i]) * c0
		}
		return
	default:
		clear(acc)
		return
	}
	for ; k+4 <= len(rows); k += 4 {
		r0, r1, r2, r3 := rows[k][:n], rows[k+1][:n], rows[k+2][:n], rows[k+3][:n]
		c0, c1, c2, c3 := wt[k], wt[k+1], wt[k+2], wt[k+3]
		for i := range acc {
			acc[i] += int32(r0[i])*c0 + int32(r1[i])*c1 + int32(r2[i])*c2 + int32(r3[i])*c3
		}
	}
	for ; k+2 <= len(rows); k += 2 {
		r0, r1 := rows[k][:n], rows[k+1][:n]
		c0, c1 := wt[k], wt[k+1]
		for i := range acc {
			acc[i] += int32(r0[i])*c0 + int32(r1[i])*c1
		}
	}
	if k < len(rows) {
		r0, c0 := rows[k][:n], wt[k]
		for i := range acc {
			acc[i] += int32(r0[i]) * c0
		}
	}
}
