package thumbnail

import (
	"encoding/binary"
	"image"
)

// The opaque resampler. A pixel's red, green and blue are held in one
// uint64, in lanes 21 bits apart; multiplying it by a 12-bit weight
// multiplies each lane, and a sum of weighted bytes whose weights sum to
// weightOne (at most 255 × 2^12 < 2^20) never carries into the next lane.
// It gives exactly the sums, and so the bytes, of the four-channel filter.

const (
	laneBits  = 21
	laneBytes = 0xff | 0xff<<laneBits | 0xff<<(2*laneBits) // the low byte of each lane
	laneHalf  = (weightOne / 2) * (1 | 1<<laneBits | 1<<(2*laneBits))
)

// packRow packs a row of RGBA pixels, dropping alpha.
func packRow(dst []uint64, pix []uint8) {
	pix = pix[:4*len(dst)]
	for x := range dst {
		v := uint64(binary.LittleEndian.Uint32(pix[4*x:]))
		dst[x] = v&0xff | (v&0xff00)<<(laneBits-8) | (v&0xff0000)<<(2*laneBits-16)
	}
}

// round8 rounds each lane of a weighted sum to a byte, in place.
func round8(v uint64) uint64 { return (v + laneHalf) >> weightBits & laneBytes }

// resizePacked is resizeLinear for an opaque src: the same ring of
// horizontally filtered rows, each pixel packed.
func (s *scratch) resizePacked(src *image.RGBA, w, h int) *image.RGBA {
	sw, sh := src.Rect.Dx(), src.Rect.Dy()
	dst := s.rgba(w, h)
	tx, ty := linearTaps(sw, w), linearTaps(sh, h)
	wx, wy := make([]uint64, len(tx.w)), make([]uint64, len(ty.w))
	for i, c := range tx.w {
		wx[i] = uint64(c)
	}
	for i, c := range ty.w {
		wy[i] = uint64(c)
	}
	parallelRows(h, w*sh*tx.n+w*h*ty.n, func(y0, y1 int) {
		in := make([]uint64, sw) // one source row, packed
		ring := make([]uint64, ty.n*w)
		have := make([]int, ty.n) // the source row each slot holds
		for i := range have {
			have[i] = -1
		}
		acc := make([]uint64, w)
		rows := make([][]uint64, ty.n)
		for y := y0; y < y1; y++ {
			cnt := ty.count[y]
			for k := range cnt {
				r := ty.start[y] + k
				slot := r % ty.n
				row := ring[slot*w : (slot+1)*w]
				if have[slot] != r {
					pix := src.Pix[r*src.Stride : r*src.Stride+4*sw]
					packRow(in, pix)
					horizontalPacked(in, row, &tx, wx)
					have[slot] = r
				}
				rows[k] = row
			}
			verticalPacked(acc, rows[:cnt], wy[y*ty.n:y*ty.n+cnt])
			out := dst.Pix[y*dst.Stride : y*dst.Stride+4*w]
			for o, v := range acc {
				q := out[4*o : 4*o+4 : 4*o+4]
				v = round8(v)
				q[0], q[1], q[2], q[3] = uint8(v), uint8(v>>laneBits), uint8(v>>(2*laneBits)), 255
			}
		}
	})
	return dst
}

// horizontalPacked filters one packed row into out, rounded to bytes in
// each lane. The usual filter lengths have unrolled loops; the outputs
// whose taps would run past the row's end take the general one (the
// weights past an output's count are zero).
func horizontalPacked(in, out []uint64, t *taps, wt []uint64) {
	w := len(out)
	o := 0
	switch t.n {
	case 3:
		for ; o < w && t.start[o]+3 <= len(in); o++ {
			c := (*[3]uint64)(wt[o*3:])
			p := (*[3]uint64)(in[t.start[o]:])
			out[o] = round8(p[0]*c[0] + p[1]*c[1] + p[2]*c[2])
		}
	case 4:
		for ; o < w && t.start[o]+4 <= len(in); o++ {
			c := (*[4]uint64)(wt[o*4:])
			p := (*[4]uint64)(in[t.start[o]:])
			out[o] = round8(p[0]*c[0] + p[1]*c[1] + p[2]*c[2] + p[3]*c[3])
		}
	case 5:
		for ; o < w && t.start[o]+5 <= len(in); o++ {
			c := (*[5]uint64)(wt[o*5:])
			p := (*[5]uint64)(in[t.start[o]:])
			out[o] = round8(p[0]*c[0] + p[1]*c[1] + p[2]*c[2] + p[3]*c[3] + p[4]*c[4])
		}
	case 6:
		for ; o < w && t.start[o]+6 <= len(in); o++ {
			c := (*[6]uint64)(wt[o*6:])
			p := (*[6]uint64)(in[t.start[o]:])
			out[o] = round8(p[0]*c[0] + p[1]*c[1] + p[2]*c[2] + p[3]*c[3] + p[4]*c[4] + p[5]*c[5])
		}
	}
	for ; o < w; o++ {
		c := wt[o*t.n : o*t.n+t.count[o]]
		p := in[t.start[o] : t.start[o]+len(c)]
		var v uint64
		for k, q := range p {
			v += q * c[k]
		}
		out[o] = round8(v)
	}
}

// verticalPacked sets acc to the weighted sum of rows, up to four rows a
// pass over acc.
func verticalPacked(acc []uint64, rows [][]uint64, wt []uint64) {
	n := len(acc)
	if len(rows) == 0 {
		clear(acc)
		return
	}
	r0, c0 := rows[0][:n], wt[0]
	for i := range acc {
		acc[i] = r0[i] * c0
	}
	k := 1
	for ; k+3 <= len(rows); k += 3 {
		r0, r1, r2 := rows[k][:n], rows[k+1][:n], rows[k+2][:n]
		c0, c1, c2 := wt[k], wt[k+1], wt[k+2]
		for i := range acc {
			acc[i] += r0[i]*c0 + r1[i]*c1 + r2[i]*c2
		}
	}
	for ; k < len(rows); k++ {
		r0, c0 := rows[k][:n], wt[k]
		for i := range acc {
			acc[i] += r0[i] * c0
		}
	}
}
