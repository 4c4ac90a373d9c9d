package thumbnail

import (
	"image"
	"image/color"
)

// boxReduce shrinks img by the integer factor k, each output pixel the
// mean of a k×k block (the blocks on the right and bottom edges may be
// smaller), straight from the decoder's own pixel layout. It returns nil
// for layouts it does not handle; the caller then lets bild convert.
func boxReduce(img image.Image, k int) *image.RGBA {
	return (*scratch)(nil).boxReduce(img, k)
}

// boxReduce is boxReduce with the result's buffer from s.
func (s *scratch) boxReduce(img image.Image, k int) *image.RGBA {
	b := img.Bounds()
	if k < 2 || b.Empty() {
		return nil
	}
	ow, oh := (b.Dx()+k-1)/k, (b.Dy()+k-1)/k
	switch img.(type) {
	case *image.YCbCr, *image.RGBA, *image.NRGBA, *image.Gray, *image.Paletted:
	default:
		return nil
	}
	dst := s.rgba(ow, oh)
	switch src := img.(type) {
	case *image.RGBA:
		rgbaReduce(dst, src, k)
		return dst
	case *image.YCbCr:
		if src.Rect.Min == (image.Point{}) {
			yCbCrReduce(dst, src, k)
			return dst
		}
	}
	var px func(x0, y0, x1, y1 int) [4]uint8
	switch src := img.(type) {
	case *image.YCbCr:
		px = yCbCrBox(src)
	case *image.RGBA:
		px = rgbaBox(src.Pix, src.Stride, src.Rect, false)
	case *image.NRGBA:
		px = rgbaBox(src.Pix, src.Stride, src.Rect, true)
	case *image.Gray:
		px = grayBox(src)
	case *image.Paletted:
		px = palettedBox(src)
	default:
		return nil
	}
	for oy := range oh {
		y0 := b.Min.Y + oy*k
		y1 := min(y0+k, b.Max.Y)
		row := dst.Pix[oy*dst.Stride:]
		for ox := range ow {
			x0 := b.Min.X + ox*k
			x1 := min(x0+k, b.Max.X)
			c := px(x0, y0, x1, y1)
			copy(row[4*ox:4*ox+4], c[:])
		}
	}
	return dst
}

// rgbaReduce is boxReduce of premultiplied RGBA, row by row: the k rows
// of a block are summed column by column, then each block's columns; the
// same means and rounding as rgbaBox.
func rgbaReduce(dst, src *image.RGBA, k int) {
	sw, sh := src.Rect.Dx(), src.Rect.Dy()
	ow := dst.Rect.Dx()
	cols := make([]uint32, 4*sw)
	for oy := range dst.Rect.Dy() {
		y0, y1 := oy*k, min(oy*k+k, sh)
		if k == 2 && y1-y0 == 2 && sw >= 2 {
			halveRows(dst.Pix[oy*dst.Stride:], src.Pix[y0*src.Stride:y0*src.Stride+4*sw], src.Pix[(y0+1)*src.Stride:(y0+1)*src.Stride+4*sw])
			if sw%2 == 0 {
				continue
			}
		}
		clear(cols)
		for y := y0; y < y1; y++ {
			row := src.Pix[y*src.Stride : y*src.Stride+4*sw]
			for i, v := range row {
				cols[i] += uint32(v)
			}
		}
		out := dst.Pix[oy*dst.Stride : oy*dst.Stride+4*ow]
		ox0 := 0
		if k == 2 && y1-y0 == 2 && sw >= 2 {
			ox0 = sw / 2 // halveRows made the whole blocks
		}
		for ox := ox0; ox < ow; ox++ {
			x0, x1 := ox*k, min(ox*k+k, sw)
			var r, g, b, a uint64
			c := cols[4*x0 : 4*x1]
			for j := 0; j+4 <= len(c); j += 4 {
				q := c[j : j+4 : j+4]
				r += uint64(q[0])
				g += uint64(q[1])
				b += uint64(q[2])
				a += uint64(q[3])
			}
			n := uint64((x1 - x0) * (y1 - y0))
			av := (a + n/2) / n
			q := out[4*ox : 4*ox+4 : 4*ox+4]
			q[0], q[1], q[2], q[3] = uint8(min(av, (r+n/2)/n)), uint8(min(av, (g+n/2)/n)), uint8(min(av, (b+n/2)/n)), uint8(av)
		}
	}
}

// halveRows writes the means of the whole 2×2 blocks of two RGBA rows to
// out (as rgbaBox rounds them).
func halveRows(out, r0, r1 []uint8) {
	for ox := range len(r0) / 8 {
		p := (*[8]uint8)(r0[8*ox:])
		q := (*[8]uint8)(r1[8*ox:])
		d := (*[4]uint8)(out[4*ox:])
		a := (uint32(p[3]) + uint32(p[7]) + uint32(q[3]) + uint32(q[7]) + 2) >> 2
		for c := range 3 {
			d[c] = uint8(min(a, (uint32(p[c])+uint32(p[4+c])+uint32(q[c])+uint32(q[4+c])+2)>>2))
		}
		d[3] = uint8(a)
	}
}

// yCbCrReduce is boxReduce of a YCbCr image at the origin, row by row
// like rgbaReduce: the same sums as yCbCrBox (luma over the block, chroma
// over the samples that cover it), so the same pixels.
func yCbCrReduce(dst *image.RGBA, src *image.YCbCr, k int) {
	sx, sy := subsampling(src.SubsampleRatio)
	w, h := src.Rect.Dx(), src.Rect.Dy()
	cw := (w + sx - 1) / sx
	ys := make([]uint32, w)
	cbs, crs := make([]uint32, cw), make([]uint32, cw)
	for oy := range dst.Rect.Dy() {
		y0, y1 := oy*k, min(oy*k+k, h)
		clear(ys)
		for y := y0; y < y1; y++ {
			row := src.Y[y*src.YStride : y*src.YStride+w]
			sums := ys[:len(row)]
			for x, v := range row {
				sums[x] += uint32(v)
			}
		}
		cy0, cy1 := y0/sy, (y1-1)/sy+1
		clear(cbs)
		clear(crs)
		for cy := cy0; cy < cy1; cy++ {
			cb := src.Cb[cy*src.CStride : cy*src.CStride+cw]
			cr := src.Cr[cy*src.CStride : cy*src.CStride+cw]
			cbSums, crSums := cbs[:len(cb)], crs[:len(cb)]
			cr = cr[:len(cb)]
			for x, v := range cb {
				cbSums[x] += uint32(v)
				crSums[x] += uint32(cr[x])
			}
		}
		out := dst.Pix[oy*dst.Stride:]
		for ox := range dst.Rect.Dx() {
			x0, x1 := ox*k, min(ox*k+k, w)
			var yv, cbv, crv uint64
			for _, v := range ys[x0:x1] {
				yv += uint64(v)
			}
			cx0, cx1 := x0/sx, (x1-1)/sx+1
			for x := cx0; x < cx1; x++ {
				cbv += uint64(cbs[x])
				crv += uint64(crs[x])
			}
			n := uint64((x1 - x0) * (y1 - y0))
			cn := uint64((cx1 - cx0) * (cy1 - cy0))
			r, g, b := color.YCbCrToRGB(uint8((yv+n/2)/n), uint8((cbv+cn/2)/cn), uint8((crv+cn/2)/cn))
			q := out[4*ox : 4*ox+4 : 4*ox+4]
			q[0], q[1], q[2], q[3] = r, g, b, 255
		}
	}
}

// subsampling is the horizontal and vertical chroma subsampling of r.
func subsampling(r image.YCbCrSubsampleRatio) (sx, sy int) {
	switch r {
	case image.YCbCrSubsampleRatio422:
		return 2, 1
	case image.YCbCrSubsampleRatio420:
		return 2, 2
	case image.YCbCrSubsampleRatio440:
		return 1, 2
	case image.YCbCrSubsampleRatio411:
		return 4, 1
	case image.YCbCrSubsampleRatio410:
		return 4, 2
	}
	return 1, 1
}

// yCbCrBox averages luma over the block and chroma over the chroma samples
// that cover it, then converts once.
func yCbCrBox(src *image.YCbCr) func(x0, y0, x1, y1 int) [4]uint8 {
	sx, sy := subsampling(src.SubsampleRatio)
	r := src.Rect
	return func(x0, y0, x1, y1 int) [4]uint8 {
		var ys uint32
		for y := y0; y < y1; y++ {
			i := (y-r.Min.Y)*src.YStride + (x0 - r.Min.X)
			for _, v := range src.Y[i : i+x1-x0] {
				ys += uint32(v)
			}
		}
		var cbs, crs uint32
		cx0, cx1 := x0/sx, (x1-1)/sx+1
		cy0, cy1 := y0/sy, (y1-1)/sy+1
		for cy := cy0; cy < cy1; cy++ {
			i := (cy-r.Min.Y/sy)*src.CStride + (cx0 - r.Min.X/sx)
			for j := range cx1 - cx0 {
				cbs += uint32(src.Cb[i+j])
				crs += uint32(src.Cr[i+j])
			}
		}
		n := uint32((x1 - x0) * (y1 - y0))
		cn := uint32((cx1 - cx0) * (cy1 - cy0))
		cr, cg, cb := color.YCbCrToRGB(uint8((ys+n/2)/n), uint8((cbs+cn/2)/cn), uint8((crs+cn/2)/cn))
		return [4]uint8{cr, cg, cb, 255}
	}
}

// rgbaBox averages 8-bit RGBA pixels; with straight (non-premultiplied)
// alpha the colour is weighted by alpha so the result is premultiplied.
func rgbaBox(pix []uint8, stride int, r image.Rectangle, straight bool) func(x0, y0, x1, y1 int) [4]uint8 {
	return func(x0, y0, x1, y1 int) [4]uint8 {
		var s [4]uint64
		for y := y0; y < y1; y++ {
			i := (y-r.Min.Y)*stride + 4*(x0-r.Min.X)
			p := pix[i : i+4*(x1-x0)]
			for j := 0; j < len(p); j += 4 {
				a := uint64(p[j+3])
				if straight {
					s[0] += uint64(p[j]) * a
					s[1] += uint64(p[j+1]) * a
					s[2] += uint64(p[j+2]) * a
				} else {
					s[0] += uint64(p[j])
					s[1] += uint64(p[j+1])
					s[2] += uint64(p[j+2])
				}
				s[3] += a
			}
		}
		n := uint64((x1 - x0) * (y1 - y0))
		if straight {
			n *= 255
		}
		an := uint64((x1 - x0) * (y1 - y0))
		a := (s[3] + an/2) / an
		// min: premultiplied colour never exceeds alpha, whatever the rounding.
		return [4]uint8{
			uint8(min(a, (s[0]+n/2)/n)), uint8(min(a, (s[1]+n/2)/n)), uint8(min(a, (s[2]+n/2)/n)), uint8(a),
		}
	}
}

func grayBox(src *image.Gray) func(x0, y0, x1, y1 int) [4]uint8 {
	r := src.Rect
	return func(x0, y0, x1, y1 int) [4]uint8 {
		var s uint32
		for y := y0; y < y1; y++ {
			i := (y-r.Min.Y)*src.Stride + (x0 - r.Min.X)
			for _, v := range src.Pix[i : i+x1-x0] {
				s += uint32(v)
			}
		}
		n := uint32((x1 - x0) * (y1 - y0))
		v := uint8((s + n/2) / n)
		return [4]uint8{v, v, v, 255}
	}
}

// palettedBox averages a paletted image through a premultiplied copy of
// its palette.
func palettedBox(src *image.Paletted) func(x0, y0, x1, y1 int) [4]uint8 {
	var pal [256][4]uint32
	for i, c := range src.Palette {
		r, g, b, a := c.RGBA()
		pal[i] = [4]uint32{r >> 8, g >> 8, b >> 8, a >> 8}
	}
	r := src.Rect
	return func(x0, y0, x1, y1 int) [4]uint8 {
		var s [4]uint32
		for y := y0; y < y1; y++ {
			i := (y-r.Min.Y)*src.Stride + (x0 - r.Min.X)
			for _, v := range src.Pix[i : i+x1-x0] {
				p := &pal[v]
				s[0] += p[0]
				s[1] += p[1]
				s[2] += p[2]
				s[3] += p[3]
			}
		}
		n := uint32((x1 - x0) * (y1 - y0))
		a := (s[3] + n/2) / n
		return [4]uint8{uint8(min(a, (s[0]+n/2)/n)), uint8(min(a, (s[1]+n/2)/n)), uint8(min(a, (s[2]+n/2)/n)), uint8(a)}
	}
}
