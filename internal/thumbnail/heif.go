package thumbnail

import (
	"context"
	"fmt"
	"image"
	"io"
	"math"

	"mediashare/internal/media"
)

// isHEIF reports whether a format is decoded by libheif.
func isHEIF(format string) bool { return format == media.HEIC || format == media.AVIF }

// loadHEIF decodes a HEIC or AVIF file whole, grid tiles assembled, as
// stored (orient turns it afterwards). Only a build with the tag nativeheif can.
func loadHEIF(ctx context.Context, r io.Reader, size int64, info media.Info) (image.Image, error) {
	data := make([]byte, size)
	if _, err := io.ReadFull(ctxReader{ctx, r}, data); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("thumbnail: read: %w", err)
	}
	img, err := safely(func() (image.Image, error) {
		// libheif's own size limit, a second net behind the header check:
		// grid tiles may overhang the image, so leave room.
		return heifDecode(data, 2*max(info.Width, info.Height)+512)
	})
	if err != nil {
		return nil, fmt.Errorf("thumbnail: decode %s: %w", info.Format, err)
	}
	if b := img.Bounds(); b.Dx() != info.Width || b.Dy() != info.Height {
		return nil, undecodable(fmt.Errorf("decoded %d×%d, the header says %d×%d", b.Dx(), b.Dy(), info.Width, info.Height))
	}
	return img, nil
}

// heifPlan is the memory a libheif decode takes: the file, libheif's
// planes at the coded bit depth (16 bits a sample above 8), its RGBA
// image, our copy of it, the reduction and the resizes.
func heifPlan(info media.Info, size int64, g geometry) plan {
	w, h := info.Width, info.Height
	px := int64(w) * int64(h)
	sample := 1.0
	if info.Layout.BitDepth > 8 {
		sample = 2
	}
	planes := int64(float64(px) * samplesPerPixel(info.Layout) * sample)
	k := g.reduction(w, h)
	oh, reduced := h, int64(0)
	if k >= 2 {
		oh = (h + k - 1) / k
		reduced = int64((w+k-1)/k) * int64(oh) * 4
	}
	return plan{decoder: decodeHEIF, bytes: size + planes + 2*px*4 + reduced + working(g, oh) + decodeOverhead}
}

// sourceColour returns the conversion of an original's colours to sRGB,
// or nil when there is nothing to convert: from its ICC profile, or for
// HEIF and AVIF from their colr property (an ICC profile or nclx code
// points).
func sourceColour(r io.ReaderAt, size int64, format string) *colourTransform {
	if !isHEIF(format) {
		t, _ := parseICC(iccProfile(r, size, format))
		return t
	}
	c, err := media.ReadHEIFColour(r, size)
	if err != nil {
		return nil
	}
	if c.ICC != nil {
		t, _ := parseICC(c.ICC)
		return t
	}
	if c.NCLX {
		return nclxTransform(c.Primaries, c.Transfer)
	}
	return nil
}

// nclxPrimaries are the chromaticities (x, y of red, green, blue, white)
// of the colour primaries code points of ITU-T H.273 we convert.
var nclxPrimaries = map[uint16][8]float64{
	1:  {0.64, 0.33, 0.30, 0.60, 0.15, 0.06, 0.3127, 0.3290},       // BT.709, sRGB
	5:  {0.64, 0.33, 0.29, 0.60, 0.15, 0.06, 0.3127, 0.3290},       // BT.470 B/G (BT.601 625)
	6:  {0.630, 0.340, 0.310, 0.595, 0.155, 0.070, 0.3127, 0.3290}, // BT.601 525, SMPTE 170M
	9:  {0.708, 0.292, 0.170, 0.797, 0.131, 0.046, 0.3127, 0.3290}, // BT.2020, BT.2100
	11: {0.680, 0.320, 0.265, 0.690, 0.150, 0.060, 0.314, 0.351},   // DCI-P3
	12: {0.680, 0.320, 0.265, 0.690, 0.150, 0.060, 0.3127, 0.3290}, // Display P3 (SMPTE EG 432-1)
}

// linear sRGB from CIE XYZ (D65).
var xyzD65ToSRGB = [3][3]float64{
	{3.2404542, -1.5371385, -0.4985314},
	{-0.9692660, 1.8760108, 0.0415560},
	{0.0556434, -0.2040259, 1.0572252},
}

// nclxTransform builds the conversion from an nclx colour space to sRGB,
// or returns nil when the space is sRGB's (or one we do not know, which is
// then shown as sRGB, as browsers do). PQ and HLG (HDR) are mapped with
// their reference white at sRGB white and the rest clipped: a thumbnail,
// not a tone mapper.
func nclxTransform(primaries, transfer uint16) *colourTransform {
	pr, ok := nclxPrimaries[primaries]
	if !ok {
		pr = nclxPrimaries[1]
	}
	var curve func(float64) float64
	switch transfer {
	case 1, 6, 14, 15: // BT.709 and its kin: shown as sRGB when the primaries are sRGB's
		curve = func(v float64) float64 {
			if v < 0.081 {
				return v / 4.5
			}
			return math.Pow((v+0.099)/1.099, 1/0.45)
		}
	case 4:
		curve = func(v float64) float64 { return math.Pow(v, 2.2) }
	case 5:
		curve = func(v float64) float64 { return math.Pow(v, 2.8) }
	case 8:
		curve = func(v float64) float64 { return v }
	case 16: // PQ (SMPTE ST 2084), 203 cd/m² as white
		const m1, m2, c1, c2, c3 = 0.1593017578125, 78.84375, 0.8359375, 18.8515625, 18.6875
		curve = func(v float64) float64 {
			p := math.Pow(v, 1/m2)
			return math.Pow(max(p-c1, 0)/(c2-c3*p), 1/m1) * 10000 / 203
		}
	case 18: // HLG (ARIB STD-B67), its reference white (75%) as white
		const a, b, c = 0.17883277, 0.28466892, 0.55991073
		inv := func(v float64) float64 {
			if v <= 0.5 {
				return v * v / 3
			}
			return (math.Exp((v-c)/a) + b) / 12
		}
		white := inv(0.75)
		curve = func(v float64) float64 { return inv(v) / white }
	default: // sRGB (13), unspecified (2) and the rest
		curve = func(v float64) float64 {
			if v <= 0.04045 {
				return v / 12.92
			}
			return math.Pow((v+0.055)/1.055, 2.4)
		}
	}
	if (primaries == 1 || primaries == 2 || !ok) && transfer != 4 && transfer != 5 && transfer != 8 && transfer != 16 && transfer != 18 {
		return nil // sRGB, or as good as: leave it
	}
	var t colourTransform
	for i := range 256 {
		v := curve(float64(i) / 255)
		t.lin[0][i], t.lin[1][i], t.lin[2][i] = v, v, v
	}
	src := rgbToXYZ(pr)
	for i := range 3 {
		for j := range 3 {
			for k := range 3 {
				t.m[i][j] += xyzD65ToSRGB[i][k] * src[k][j]
			}
		}
	}
	if t.isIdentity() {
		return nil
	}
	return &t
}

// rgbToXYZ is the matrix taking linear RGB of the given primaries to XYZ,
// white mapping to the white point's XYZ (Y = 1).
func rgbToXYZ(p [8]float64) [3][3]float64 {
	xyz := func(x, y float64) [3]float64 { return [3]float64{x / y, 1, (1 - x - y) / y} }
	r, g, b, w := xyz(p[0], p[1]), xyz(p[2], p[3]), xyz(p[4], p[5]), xyz(p[6], p[7])
	m := [3][3]float64{{r[0], g[0], b[0]}, {r[1], g[1], b[1]}, {r[2], g[2], b[2]}}
	s := solve3(m, w)
	for i := range 3 {
		for j := range 3 {
			m[i][j] *= s[j]
		}
	}
	return m
}

// solve3 solves m·x = v by Cramer's rule.
func solve3(m [3][3]float64, v [3]float64) [3]float64 {
	det := func(a [3][3]float64) float64 {
		return a[0][0]*(a[1][1]*a[2][2]-a[1][2]*a[2][1]) - a[0][1]*(a[1][0]*a[2][2]-a[1][2]*a[2][0]) + a[0][2]*(a[1][0]*a[2][1]-a[1][1]*a[2][0])
	}
	d := det(m)
	var x [3]float64
	for c := range 3 {
		a := m
		for r := range 3 {
			a[r][c] = v[r]
		}
		x[c] = det(a) / d
	}
	return x
}
