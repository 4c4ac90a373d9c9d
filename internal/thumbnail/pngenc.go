package thumbnail

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"hash/crc32"
	"image"
	"sync"
)

// encodePNG encodes img as an 8-bit PNG: truecolour (RGB) when it is
// opaque, truecolour with alpha (straight, as PNG wants) otherwise, the
// same pixels image/png writes. It is faster than image/png because it
// does not try all five row filters on every row (image/png's way, half
// of its time on a thumbnail): every row gets the Paeth filter, the best
// of the five on most rows of a photograph; the deflater codes without
// matching, and is reused.
func encodePNG(img *image.RGBA) []byte {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	opaque := opaqueRGBA(img)
	bpp, colourType := 4, byte(6)
	if opaque {
		bpp, colourType = 3, 2
	}
	var out bytes.Buffer
	out.Grow(w*h*bpp/2 + 1024)
	out.WriteString("\x89PNG\r\n\x1a\n")
	var ihdr [13]byte
	binary.BigEndian.PutUint32(ihdr[0:], uint32(w))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(h))
	ihdr[8], ihdr[9] = 8, colourType // bit depth; compression, filter and interlace methods 0
	writeChunk(&out, "IHDR", ihdr[:])

	idat := &chunkWriter{out: &out}
	zw := zlibWriters.Get().(*zlib.Writer)
	zw.Reset(idat)
	rowLen := 1 + w*bpp
	rows := make([]byte, 3*rowLen) // this row, the previous one, the filtered one
	cur, prev, filtered := rows[:rowLen], rows[rowLen:2*rowLen], rows[2*rowLen:]
	for y := range h {
		src := img.Pix[y*img.Stride : y*img.Stride+4*w]
		if opaque {
			for x := range w {
				s := src[4*x : 4*x+3 : 4*x+3]
				d := cur[1+3*x : 4+3*x : 4+3*x]
				d[0], d[1], d[2] = s[0], s[1], s[2]
			}
		} else {
			straight(cur[1:], src)
		}
		filtered[0] = 4 // Paeth
		paethRow(filtered[1:], cur[1:], prev[1:], bpp)
		if _, err := zw.Write(filtered); err != nil {
			panic(err) // writes to a bytes.Buffer do not fail
		}
		cur, prev = prev, cur
	}
	if err := zw.Close(); err != nil {
		panic(err)
	}
	zlibWriters.Put(zw)
	idat.flush()
	writeChunk(&out, "IEND", nil)
	return out.Bytes()
}

// zlibWriters deflate with Huffman coding only (no LZ77 matching): on the
// Paeth-filtered rows of a photograph's thumbnail it is both faster and
// smaller than deflate's fastest level (see encodePNG's commit for the
// figures); flat graphics come out larger, never more than about an
// eighth of their raw size.
var zlibWriters = sync.Pool{New: func() any {
	zw, err := zlib.NewWriterLevel(nil, zlib.HuffmanOnly)
	if err != nil {
		panic(err)
	}
	return zw
}}

// straight converts a row of premultiplied RGBA to straight alpha, as
// image/png does (color.NRGBAModel's rounding).
func straight(dst, src []byte) {
	for i := 0; i+4 <= len(src); i += 4 {
		s := (*[4]byte)(src[i : i+4])
		d := (*[4]byte)(dst[i : i+4])
		switch s[3] {
		case 0:
			*d = [4]byte{}
		case 0xff:
			*d = *s
		default:
			const m = 0x101 * 0xffff
			a := uint32(s[3]) * 0x101
			d[0] = uint8((uint32(s[0]) * m / a) >> 8)
			d[1] = uint8((uint32(s[1]) * m / a) >> 8)
			d[2] = uint8((uint32(s[2]) * m / a) >> 8)
			d[3] = s[3]
		}
	}
}

// paethRow writes cur filtered with PNG's Paeth predictor (filter type 4)
// to dst; prev is the row above (zeros for the first row).
func paethRow(dst, cur, prev []byte, bpp int) {
	dst, prev = dst[:len(cur)], prev[:len(cur)]
	for i := range bpp {
		dst[i] = cur[i] - prev[i] // a and c are 0: the predictor is b
	}
	for i := bpp; i < len(cur); i++ {
		a, b, c := int(cur[i-bpp]), int(prev[i]), int(prev[i-bpp])
		pa, pb := b-c, a-c
		pc := pa + pb
		pa, pb, pc = abs(pa), abs(pb), abs(pc)
		pred := c
		if pa <= pb && pa <= pc {
			pred = a
		} else if pb <= pc {
			pred = b
		}
		dst[i] = cur[i] - byte(pred)
	}
}

// chunkWriter collects zlib's output into IDAT chunks of up to 64 KiB.
type chunkWriter struct {
	out *bytes.Buffer
	buf []byte
}

func (c *chunkWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		if c.buf == nil {
			c.buf = make([]byte, 0, 64<<10)
		}
		k := min(len(p), cap(c.buf)-len(c.buf))
		c.buf = append(c.buf, p[:k]...)
		p = p[k:]
		if len(c.buf) == cap(c.buf) {
			c.flush()
		}
	}
	return n, nil
}

func (c *chunkWriter) flush() {
	if len(c.buf) > 0 {
		writeChunk(c.out, "IDAT", c.buf)
		c.buf = c.buf[:0]
	}
}

// writeChunk appends a PNG chunk: length, type, data, CRC of type and data.
func writeChunk(out *bytes.Buffer, typ string, data []byte) {
	var n [4]byte
	binary.BigEndian.PutUint32(n[:], uint32(len(data)))
	out.Write(n[:])
	out.WriteString(typ)
	out.Write(data)
	crc := crc32.NewIEEE()
	crc.Write([]byte(typ))
	crc.Write(data)
	binary.BigEndian.PutUint32(n[:], crc.Sum32())
	out.Write(n[:])
}
