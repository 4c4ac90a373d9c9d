package thumbnail

import "image"

// orient returns src as it should be displayed given its EXIF orientation
// (1..8): the stored image is flipped and turned so that it stands upright.
// Orientation 1, or any value out of range, returns src itself.
//
//	1 as stored          5 transposed (mirror along the main diagonal)
//	2 mirrored left-right 6 turned 90° clockwise
//	3 turned 180°         7 transversed (mirror along the other diagonal)
//	4 mirrored top-bottom 8 turned 90° counter-clockwise
func orient(src *image.RGBA, o int) *image.RGBA {
	return (*scratch)(nil).orient(src, o)
}

// orient is orient with the turned image's buffer from s.
func (s *scratch) orient(src *image.RGBA, o int) *image.RGBA {
	if o < 2 || o > 8 {
		return src
	}
	w, h := src.Rect.Dx(), src.Rect.Dy()
	dw, dh := w, h
	if o >= 5 {
		dw, dh = h, w
	}
	// from maps a displayed pixel (x, y) to the stored one.
	var from func(x, y int) (int, int)
	switch o {
	case 2:
		from = func(x, y int) (int, int) { return w - 1 - x, y }
	case 3:
		from = func(x, y int) (int, int) { return w - 1 - x, h - 1 - y }
	case 4:
		from = func(x, y int) (int, int) { return x, h - 1 - y }
	case 5:
		from = func(x, y int) (int, int) { return y, x }
	case 6:
		from = func(x, y int) (int, int) { return y, h - 1 - x }
	case 7:
		from = func(x, y int) (int, int) { return w - 1 - y, h - 1 - x }
	case 8:
		from = func(x, y int) (int, int) { return w - 1 - y, x }
	}
	dst := s.rgba(dw, dh)
	for y := range dh {
		for x := range dw {
			sx, sy := from(x, y)
			s := src.PixOffset(src.Rect.Min.X+sx, src.Rect.Min.Y+sy)
			d := y*dst.Stride + 4*x
			copy(dst.Pix[d:d+4], src.Pix[s:s+4])
		}
	}
	return dst
}
