package thumbnail

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"image"
	"io"
	"math"
	"sort"

	"mediashare/internal/media"
)

// Colour management for thumbnails: originals that carry an ICC profile of
// the common matrix/TRC kind (Display P3, Adobe RGB, ProPhoto, linear
// spaces) are converted to sRGB, the space browsers assume for an image
// without a profile (our thumbnails carry none). Profiles of other kinds
// (LUT-based, CMYK, grey) are left alone.

const maxICC = 1 << 20

// iccProfile returns the ICC profile embedded in an image, or nil.
func iccProfile(r io.ReaderAt, size int64, format string) []byte {
	switch format {
	case media.JPEG:
		return jpegICC(r, size)
	case media.PNG:
		return pngICC(r, size)
	case media.WebP:
		return webpICC(r, size)
	}
	return nil
}

func jpegICC(r io.ReaderAt, size int64) []byte {
	type part struct {
		seq  int
		data []byte
	}
	var parts []part
	off := int64(2)
	var hdr [4]byte
	for off+4 <= size {
		if _, err := r.ReadAt(hdr[:], off); err != nil || hdr[0] != 0xFF {
			break
		}
		marker := hdr[1]
		if marker == 0xDA || marker == 0xD9 { // start of scan, end of image
			break
		}
		n := int64(binary.BigEndian.Uint16(hdr[2:]))
		if n < 2 || off+2+n > size {
			break
		}
		if marker == 0xE2 && n > 16 {
			seg := make([]byte, n-2)
			if _, err := r.ReadAt(seg, off+4); err == nil && bytes.HasPrefix(seg, []byte("ICC_PROFILE\x00")) {
				parts = append(parts, part{seq: int(seg[12]), data: seg[14:]})
			}
		}
		off += 2 + n
	}
	sort.SliceStable(parts, func(i, j int) bool { return parts[i].seq < parts[j].seq })
	var out []byte
	for _, p := range parts {
		if len(out)+len(p.data) > maxICC {
			return nil
		}
		out = append(out, p.data...)
	}
	return out
}

func pngICC(r io.ReaderAt, size int64) []byte {
	off := int64(8)
	var hdr [8]byte
	for off+12 <= size {
		if _, err := r.ReadAt(hdr[:], off); err != nil {
			return nil
		}
		n := int64(binary.BigEndian.Uint32(hdr[:4]))
		typ := string(hdr[4:])
		if typ == "IDAT" || typ == "IEND" || n > size-off-12 {
			return nil
		}
		if typ == "iCCP" && n < maxICC {
			data := make([]byte, n)
			if _, err := r.ReadAt(data, off+8); err != nil {
				return nil
			}
			i := bytes.IndexByte(data, 0)
			if i < 1 || i+2 > len(data) || data[i+1] != 0 {
				return nil
			}
			zr, err := zlib.NewReader(bytes.NewReader(data[i+2:]))
			if err != nil {
				return nil
			}
			prof, err := io.ReadAll(io.LimitReader(zr, maxICC))
			if err != nil {
				return nil
			}
			return prof
		}
		off += 12 + n
	}
	return nil
}

func webpICC(r io.ReaderAt, size int64) []byte {
	off := int64(12)
	var hdr [8]byte
	for off+8 <= size {
		if _, err := r.ReadAt(hdr[:], off); err != nil {
			return nil
		}
		n := int64(binary.LittleEndian.Uint32(hdr[4:]))
		if n > size-off-8 {
			return nil
		}
		if string(hdr[:4]) == "ICCP" && n < maxICC {
			prof := make([]byte, n)
			if _, err := r.ReadAt(prof, off+8); err != nil {
				return nil
			}
			return prof
		}
		off += 8 + n + n&1
	}
	return nil
}

// colourTransform maps 8-bit values of a source RGB space to sRGB.
type colourTransform struct {
	lin [3][256]float64 // source value -> linear, per channel
	m   [3][3]float64   // source linear RGB -> linear sRGB
}

// XYZ (D50) to linear sRGB, the inverse of sRGB's D50-adapted matrix.
var xyzToSRGB = [3][3]float64{
	{3.1338561, -1.6168667, -0.4906146},
	{-0.9787684, 1.9161415, 0.0334540},
	{0.0719453, -0.2289914, 1.4052427},
}

// srgbEncode maps linear light in [0, 1] (4096 steps) to 8-bit sRGB.
var srgbEncode = func() (t [4097]uint8) {
	for i := range t {
		v := float64(i) / 4096
		if v <= 0.0031308 {
			v *= 12.92
		} else {
			v = 1.055*math.Pow(v, 1/2.4) - 0.055
		}
		t[i] = uint8(math.Round(v * 255))
	}
	return t
}()

// parseICC reads a matrix/TRC RGB profile. It reports false for anything
// else, and for a profile that is sRGB already (converting would only round).
func parseICC(p []byte) (*colourTransform, bool) {
	if len(p) < 132 || string(p[16:20]) != "RGB " || string(p[20:24]) != "XYZ " {
		return nil, false
	}
	tags := map[string][]byte{}
	count := int(binary.BigEndian.Uint32(p[128:]))
	if count > 100 || 132+12*count > len(p) {
		return nil, false
	}
	for i := 0; i < count; i++ {
		e := p[132+12*i:]
		off, n := int(binary.BigEndian.Uint32(e[4:])), int(binary.BigEndian.Uint32(e[8:]))
		if off < 0 || n < 0 || off > len(p) || n > len(p)-off {
			return nil, false
		}
		tags[string(e[:4])] = p[off : off+n]
	}
	var t colourTransform
	var src [3][3]float64 // columns: the primaries' XYZ
	for c, name := range []string{"rXYZ", "gXYZ", "bXYZ"} {
		xyz, ok := readXYZ(tags[name])
		if !ok {
			return nil, false
		}
		for row := 0; row < 3; row++ {
			src[row][c] = xyz[row]
		}
	}
	for c, name := range []string{"rTRC", "gTRC", "bTRC"} {
		if !readTRC(tags[name], &t.lin[c]) {
			return nil, false
		}
	}
	for i := 0; i < 3; i++ {
		for j := 0; j < 3; j++ {
			for k := 0; k < 3; k++ {
				t.m[i][j] += xyzToSRGB[i][k] * src[k][j]
			}
		}
	}
	if t.isIdentity() {
		return nil, false
	}
	return &t, true
}

func s15(b []byte) float64 { return float64(int32(binary.BigEndian.Uint32(b))) / 65536 }

func readXYZ(b []byte) ([3]float64, bool) {
	if len(b) < 20 || string(b[:4]) != "XYZ " {
		return [3]float64{}, false
	}
	return [3]float64{s15(b[8:]), s15(b[12:]), s15(b[16:])}, true
}

// readTRC fills lut with the tone curve of a curv or para tag.
func readTRC(b []byte, lut *[256]float64) bool {
	if len(b) < 12 {
		return false
	}
	switch string(b[:4]) {
	case "curv":
		n := int(binary.BigEndian.Uint32(b[8:]))
		if n > (len(b)-12)/2 {
			return false
		}
		for i := range lut {
			x := float64(i) / 255
			switch n {
			case 0:
				lut[i] = x
			case 1:
				lut[i] = math.Pow(x, float64(binary.BigEndian.Uint16(b[12:]))/256)
			default:
				pos := x * float64(n-1)
				j := min(int(pos), n-2)
				a := float64(binary.BigEndian.Uint16(b[12+2*j:])) / 65535
				c := float64(binary.BigEndian.Uint16(b[14+2*j:])) / 65535
				lut[i] = a + (c-a)*(pos-float64(j))
			}
		}
		return true
	case "para":
		fn := int(binary.BigEndian.Uint16(b[8:]))
		need := []int{1, 3, 4, 5, 7}
		if fn > 4 || len(b) < 12+4*need[fn] {
			return false
		}
		var g [7]float64
		for k := 0; k < need[fn]; k++ {
			g[k] = s15(b[12+4*k:])
		}
		gamma, a, bb, c, d, e, f := g[0], g[1], g[2], g[3], g[4], g[5], g[6]
		pow := func(v float64) float64 {
			if v <= 0 {
				return 0
			}
			return math.Pow(v, gamma)
		}
		for i := range lut {
			x := float64(i) / 255
			var y float64
			switch fn {
			case 0:
				y = pow(x)
			case 1:
				if a != 0 && x >= -bb/a {
					y = pow(a*x + bb)
				}
			case 2:
				y = c
				if a != 0 && x >= -bb/a {
					y = pow(a*x+bb) + c
				}
			case 3:
				y = c * x
				if x >= d {
					y = pow(a*x + bb)
				}
			case 4:
				y = c*x + f
				if x >= d {
					y = pow(a*x+bb) + e
				}
			}
			lut[i] = y
		}
		return true
	}
	return false
}

// isIdentity reports whether the transform leaves every 8-bit colour of a
// coarse grid within one step: the profile is sRGB already.
func (t *colourTransform) isIdentity() bool {
	for r := 0; r < 256; r += 17 {
		for g := 0; g < 256; g += 17 {
			for b := 0; b < 256; b += 17 {
				o := t.convert(uint8(r), uint8(g), uint8(b))
				if absDiff(o[0], uint8(r)) > 1 || absDiff(o[1], uint8(g)) > 1 || absDiff(o[2], uint8(b)) > 1 {
					return false
				}
			}
		}
	}
	return true
}

func absDiff(a, b uint8) uint8 {
	if a > b {
		return a - b
	}
	return b - a
}

func (t *colourTransform) convert(r, g, b uint8) [3]uint8 {
	in := [3]float64{t.lin[0][r], t.lin[1][g], t.lin[2][b]}
	var out [3]uint8
	for i := 0; i < 3; i++ {
		v := t.m[i][0]*in[0] + t.m[i][1]*in[1] + t.m[i][2]*in[2]
		v = min(max(v, 0), 1)
		out[i] = srgbEncode[int(v*4096+0.5)]
	}
	return out
}

// apply converts img to sRGB in place (straight colour; premultiplied
// pixels are divided out and multiplied back).
func (t *colourTransform) apply(img *image.RGBA) {
	for i := 0; i+3 < len(img.Pix); i += 4 {
		a := img.Pix[i+3]
		if a == 0 {
			continue
		}
		r, g, b := img.Pix[i], img.Pix[i+1], img.Pix[i+2]
		if a != 255 {
			r, g, b = unmul(r, a), unmul(g, a), unmul(b, a)
		}
		o := t.convert(r, g, b)
		if a != 255 {
			o = [3]uint8{mul(o[0], a), mul(o[1], a), mul(o[2], a)}
		}
		img.Pix[i], img.Pix[i+1], img.Pix[i+2] = o[0], o[1], o[2]
	}
}

func unmul(c, a uint8) uint8 { return uint8(min(255, (int(c)*255+int(a)/2)/int(a))) }
func mul(c, a uint8) uint8   { return uint8((int(c)*int(a) + 127) / 255) }
