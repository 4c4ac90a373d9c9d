package thumbnail

import (
	"image"
	"math"
	"runtime"
	"sync"
)

// The resampler: a separable triangle (linear) filter whose support grows
// with the reduction, as bild's transform.Linear, in 14-bit fixed point
// on premultiplied RGBA. Rows are split between the cores for large
// images. Weights are non-negative, so a premultiplied colour never
// exceeds its alpha.

const (
	weightBits = 14
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

// clamp8 rounds a fixed-point sum to a byte.
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
	sw, sh := src.Rect.Dx(), src.Rect.Dy()
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	if w <= 0 || h <= 0 || sw <= 0 || sh <= 0 {
		return dst
	}
	// Horizontally into tmp (w × sh), then vertically into dst.
	tx := linearTaps(sw, w)
	tmp := make([]uint8, 4*w*sh)
	parallelRows(sh, w*sh*tx.n, func(y0, y1 int) {
		for y := y0; y < y1; y++ {
			in := src.Pix[y*src.Stride : y*src.Stride+4*sw]
			out := tmp[4*w*y : 4*w*(y+1)]
			for o := range w {
				wt := tx.w[o*tx.n : o*tx.n+tx.count[o]]
				p := in[4*tx.start[o] : 4*(tx.start[o]+len(wt))]
				var r, g, b, a int32
				for k, c := range wt {
					q := p[4*k : 4*k+4 : 4*k+4]
					r += int32(q[0]) * c
					g += int32(q[1]) * c
					b += int32(q[2]) * c
					a += int32(q[3]) * c
				}
				out[4*o], out[4*o+1], out[4*o+2], out[4*o+3] = clamp8(r), clamp8(g), clamp8(b), clamp8(a)
			}
		}
	})
	ty := linearTaps(sh, h)
	parallelRows(h, w*h*ty.n, func(y0, y1 int) {
		acc := make([]int32, 4*w)
		for y := y0; y < y1; y++ {
			clear(acc)
			wt := ty.w[y*ty.n : y*ty.n+ty.count[y]]
			for k, c := range wt {
				row := tmp[4*w*(ty.start[y]+k) : 4*w*(ty.start[y]+k+1)]
				for i, v := range row {
					acc[i] += int32(v) * c
				}
			}
			out := dst.Pix[y*dst.Stride : y*dst.Stride+4*w]
			for i, v := range acc {
				out[i] = clamp8(v)
			}
		}
	})
	return dst
}
