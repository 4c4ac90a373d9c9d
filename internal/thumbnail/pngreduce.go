package thumbnail

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"image"
	"io"
)

// decodePNGReduced decodes a PNG shrunk by the whole factor k (each output
// pixel the mean of a k×k block, the blocks on the right and bottom edges
// smaller) into premultiplied 8-bit RGBA. It reads one row at a time:
// inflate, unfilter, convert to 8-bit RGBA, add into block sums. Besides
// the reduced image it holds two rows of the file and, for a plain PNG,
// one row of sums, whatever the image's size; an Adam7-interlaced PNG,
// whose passes each cover the whole image, adds into sums for the whole
// reduced image (16 bytes a reduced pixel), pass by pass. Every colour
// type and bit depth is read (16-bit samples keep their high byte; 1, 2
// and 4 bits are scaled to 0..255), the palette and tRNS included. The
// result is what image/png followed by boxReduce gives.
func decodePNGReduced(r io.Reader, k int) (*image.RGBA, error) {
	if k < 1 {
		k = 1
	}
	d := &pngReader{r: r, crc: crc32.NewIEEE()}
	var sig [8]byte
	if _, err := io.ReadFull(r, sig[:]); err != nil {
		return nil, pngFormatError("no signature", err)
	}
	if string(sig[:]) != "\x89PNG\r\n\x1a\n" {
		return nil, pngFormatError("not a PNG file", nil)
	}
	if err := d.readHeaders(); err != nil {
		return nil, err
	}
	return d.readImage(k)
}

// pngError is a file the reducing decoder refuses; the text is for logs.
type pngError struct {
	msg string
	err error
}

func (e *pngError) Error() string {
	if e.err != nil {
		return "png: " + e.msg + ": " + e.err.Error()
	}
	return "png: " + e.msg
}

func (e *pngError) Unwrap() error { return e.err }

func pngFormatError(msg string, err error) error {
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return &pngError{msg: msg, err: err}
}

// maxPNGChunk bounds a chunk other than IDAT that is read into memory.
const maxPNGChunk = 1 << 20

type pngReader struct {
	r   io.Reader
	crc hash.Hash32

	width, height int
	depth         int // bits per sample
	colourType    int
	interlaced    bool
	palette       [256][4]uint8 // straight RGBA; missing entries opaque black, as image/png
	paletteLen    int
	trns          []byte // the tRNS chunk as read
	hasTRNS       bool

	idatLeft uint32 // bytes left in the current IDAT chunk
	done     bool   // a chunk after the IDAT run was met
}

// chunkHeader reads a chunk's length and type and starts its CRC.
func (d *pngReader) chunkHeader() (uint32, string, error) {
	var h [8]byte
	if _, err := io.ReadFull(d.r, h[:]); err != nil {
		return 0, "", pngFormatError("chunk header", err)
	}
	n := binary.BigEndian.Uint32(h[:4])
	if n > 1<<31-1 {
		return 0, "", pngFormatError("chunk length out of range", nil)
	}
	d.crc.Reset()
	d.crc.Write(h[4:])
	return n, string(h[4:]), nil
}

// checkCRC reads a chunk's CRC and compares it with what was read.
func (d *pngReader) checkCRC(typ string) error {
	var c [4]byte
	if _, err := io.ReadFull(d.r, c[:]); err != nil {
		return pngFormatError("chunk CRC", err)
	}
	if binary.BigEndian.Uint32(c[:]) != d.crc.Sum32() {
		return pngFormatError(fmt.Sprintf("chunk %q has a bad CRC", typ), nil)
	}
	return nil
}

// readChunk reads a small chunk's data and checks its CRC.
func (d *pngReader) readChunk(n uint32, typ string) ([]byte, error) {
	if n > maxPNGChunk {
		return nil, pngFormatError(fmt.Sprintf("chunk %q of %d bytes", typ, n), nil)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(d.r, b); err != nil {
		return nil, pngFormatError("chunk "+typ, err)
	}
	d.crc.Write(b)
	return b, d.checkCRC(typ)
}

// skipChunk passes over a chunk's data, still checking its CRC.
func (d *pngReader) skipChunk(n uint32, typ string) error {
	if _, err := io.CopyN(d.crc, d.r, int64(n)); err != nil {
		return pngFormatError("chunk "+typ, err)
	}
	return d.checkCRC(typ)
}

// readHeaders reads the chunks up to the first IDAT.
func (d *pngReader) readHeaders() error {
	for seen := 0; ; seen++ {
		n, typ, err := d.chunkHeader()
		if err != nil {
			return err
		}
		if seen == 0 && typ != "IHDR" {
			return pngFormatError("the first chunk is not IHDR", nil)
		}
		switch typ {
		case "IHDR":
			if seen != 0 || n != 13 {
				return pngFormatError("bad IHDR", nil)
			}
			b, err := d.readChunk(n, typ)
			if err != nil {
				return err
			}
			if err := d.parseIHDR(b); err != nil {
				return err
			}
		case "PLTE":
			b, err := d.readChunk(n, typ)
			if err != nil {
				return err
			}
			if len(b)%3 != 0 || len(b) == 0 || len(b) > 3*256 || d.paletteLen > 0 {
				return pngFormatError("bad PLTE", nil)
			}
			d.paletteLen = len(b) / 3
			for i := range 256 {
				d.palette[i] = [4]uint8{0, 0, 0, 255}
			}
			for i := range d.paletteLen {
				d.palette[i] = [4]uint8{b[3*i], b[3*i+1], b[3*i+2], 255}
			}
		case "tRNS":
			b, err := d.readChunk(n, typ)
			if err != nil {
				return err
			}
			if err := d.parseTRNS(b); err != nil {
				return err
			}
		case "IDAT":
			if d.colourType == 3 && d.paletteLen == 0 {
				return pngFormatError("no palette before the image data", nil)
			}
			d.idatLeft = n
			return nil
		case "IEND":
			return pngFormatError("no image data", nil)
		default:
			if err := d.skipChunk(n, typ); err != nil {
				return err
			}
		}
	}
}

func (d *pngReader) parseIHDR(b []byte) error {
	w, h := binary.BigEndian.Uint32(b[0:4]), binary.BigEndian.Uint32(b[4:8])
	if w == 0 || h == 0 || w > 1<<31-1 || h > 1<<31-1 || uint64(w)*uint64(h) > 1<<40 {
		return pngFormatError(fmt.Sprintf("dimensions %d×%d", w, h), nil)
	}
	d.width, d.height, d.depth, d.colourType = int(w), int(h), int(b[8]), int(b[9])
	if b[10] != 0 || b[11] != 0 {
		return pngFormatError("unknown compression or filter method", nil)
	}
	switch b[12] {
	case 0:
	case 1:
		d.interlaced = true
	default:
		return pngFormatError("unknown interlace method", nil)
	}
	ok := false
	switch d.colourType {
	case 0:
		ok = d.depth == 1 || d.depth == 2 || d.depth == 4 || d.depth == 8 || d.depth == 16
	case 3:
		ok = d.depth == 1 || d.depth == 2 || d.depth == 4 || d.depth == 8
	case 2, 4, 6:
		ok = d.depth == 8 || d.depth == 16
	}
	if !ok {
		return pngFormatError(fmt.Sprintf("colour type %d at bit depth %d", d.colourType, d.depth), nil)
	}
	return nil
}

func (d *pngReader) parseTRNS(b []byte) error {
	switch d.colourType {
	case 0:
		if len(b) != 2 {
			return pngFormatError("bad tRNS for greyscale", nil)
		}
	case 2:
		if len(b) != 6 {
			return pngFormatError("bad tRNS for truecolour", nil)
		}
	case 3:
		if d.paletteLen == 0 || len(b) > 256 {
			return pngFormatError("bad tRNS for the palette", nil)
		}
		for i, a := range b {
			d.palette[i][3] = a
		}
	default:
		return pngFormatError("tRNS with an alpha channel", nil)
	}
	d.trns, d.hasTRNS = b, true
	return nil
}

// Read gives the concatenated data of the IDAT chunks to the inflater.
func (d *pngReader) Read(p []byte) (int, error) {
	for d.idatLeft == 0 {
		if d.done {
			return 0, io.EOF
		}
		if err := d.checkCRC("IDAT"); err != nil {
			return 0, err
		}
		n, typ, err := d.chunkHeader()
		if err != nil {
			return 0, err
		}
		if typ != "IDAT" {
			d.done = true
			return 0, io.EOF
		}
		d.idatLeft = n
	}
	p = p[:min(len(p), int(d.idatLeft))]
	n, err := d.r.Read(p)
	d.crc.Write(p[:n])
	d.idatLeft -= uint32(n)
	if err == io.EOF && d.idatLeft > 0 {
		err = io.ErrUnexpectedEOF
	}
	if err == io.EOF {
		err = nil
	}
	return n, err
}

// maxInterlacedFactor keeps an interlaced image's 32-bit block sums from
// overflowing (k² × 255 × 255 < 2³²).
const maxInterlacedFactor = 256

// readImage inflates and reduces the rows.
func (d *pngReader) readImage(k int) (*image.RGBA, error) {
	zr, err := zlib.NewReader(bufio.NewReaderSize(d, 32<<10))
	if err != nil {
		return nil, pngFormatError("image data", err)
	}
	defer zr.Close()
	var dst *image.RGBA
	if d.interlaced {
		dst, err = d.readPasses(zr, k)
	} else {
		dst, err = d.readRows(zr, k)
	}
	if err != nil {
		return nil, err
	}
	// The stream must end here: its checksum is checked at its end, and
	// more data than the rows is as wrong for us as it is for image/png.
	var extra [1]byte
	if n, err := io.ReadFull(zr, extra[:]); n > 0 {
		return nil, pngFormatError("more image data than the rows", nil)
	} else if err != io.EOF {
		return nil, pngFormatError("image data", err)
	}
	return dst, nil
}

func (d *pngReader) bitsPerPixel() int {
	return map[int]int{0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[d.colourType] * d.depth
}

// readRows reads a plain PNG, reducing each band of k rows as it ends.
func (d *pngReader) readRows(zr io.Reader, k int) (*image.RGBA, error) {
	bitsPP := d.bitsPerPixel()
	rowBytes := (d.width*bitsPP + 7) / 8
	filterBPP := max(1, bitsPP/8) // bytes to the corresponding byte of the previous pixel
	ow, oh := (d.width+k-1)/k, (d.height+k-1)/k
	dst := image.NewRGBA(image.Rect(0, 0, ow, oh))
	cur, prev := make([]byte, 1+rowBytes), make([]byte, 1+rowBytes)
	px := make([]uint8, 4*d.width) // one row as straight 8-bit RGBA
	sums := make([]uint64, 4*ow)   // premultiplied block sums of the output row
	convert := d.converter(d.width)
	for y := range d.height {
		if _, err := io.ReadFull(zr, cur); err != nil {
			return nil, pngFormatError("image data", err)
		}
		if err := unfilter(cur[0], cur[1:], prev[1:], filterBPP); err != nil {
			return nil, err
		}
		convert(cur[1:], px)
		for x := range d.width {
			p := px[4*x : 4*x+4 : 4*x+4]
			a := uint64(p[3])
			s := sums[4*(x/k) : 4*(x/k)+4 : 4*(x/k)+4]
			s[0] += uint64(p[0]) * a
			s[1] += uint64(p[1]) * a
			s[2] += uint64(p[2]) * a
			s[3] += a
		}
		if last := y == d.height-1; last || (y+1)%k == 0 {
			rows := y%k + 1
			out := dst.Pix[(y/k)*dst.Stride:]
			for ox := range ow {
				bw := min(k, d.width-ox*k)
				an := uint64(bw * rows)
				n := an * 255
				s := sums[4*ox : 4*ox+4 : 4*ox+4]
				a := (s[3] + an/2) / an
				out[4*ox] = uint8(min(a, (s[0]+n/2)/n))
				out[4*ox+1] = uint8(min(a, (s[1]+n/2)/n))
				out[4*ox+2] = uint8(min(a, (s[2]+n/2)/n))
				out[4*ox+3] = uint8(a)
				s[0], s[1], s[2], s[3] = 0, 0, 0, 0
			}
		}
		cur, prev = prev, cur
	}
	return dst, nil
}

// adam7 is the interlacing's seven passes: first column and row, steps.
var adam7 = [7][4]int{{0, 0, 8, 8}, {4, 0, 8, 8}, {0, 4, 4, 8}, {2, 0, 4, 4}, {0, 2, 2, 4}, {1, 0, 2, 2}, {0, 1, 1, 2}}

// readPasses reads an interlaced PNG pass by pass into block sums for the
// whole reduced image.
func (d *pngReader) readPasses(zr io.Reader, k int) (*image.RGBA, error) {
	if k > maxInterlacedFactor {
		return nil, pngFormatError(fmt.Sprintf("reduction by %d", k), nil)
	}
	bitsPP := d.bitsPerPixel()
	filterBPP := max(1, bitsPP/8)
	ow, oh := (d.width+k-1)/k, (d.height+k-1)/k
	sums := make([]uint32, 4*ow*oh)
	maxRow := (d.width*bitsPP + 7) / 8
	cur, prev := make([]byte, 1+maxRow), make([]byte, 1+maxRow)
	px := make([]uint8, 4*d.width)
	for _, p := range adam7 {
		x0, y0, dx, dy := p[0], p[1], p[2], p[3]
		pw, ph := (d.width-x0+dx-1)/dx, (d.height-y0+dy-1)/dy
		if pw <= 0 || ph <= 0 {
			continue // an empty pass has no rows, not even filter bytes
		}
		rowBytes := (pw*bitsPP + 7) / 8
		cur, prev := cur[:1+rowBytes], prev[:1+rowBytes]
		clear(prev)
		convert := d.converter(pw)
		for r := range ph {
			if _, err := io.ReadFull(zr, cur); err != nil {
				return nil, pngFormatError("image data", err)
			}
			if err := unfilter(cur[0], cur[1:], prev[1:], filterBPP); err != nil {
				return nil, err
			}
			convert(cur[1:], px)
			y := y0 + r*dy
			line := sums[4*ow*(y/k):]
			for i := range pw {
				q := px[4*i : 4*i+4 : 4*i+4]
				a := uint32(q[3])
				o := 4 * ((x0 + i*dx) / k)
				s := line[o : o+4 : o+4]
				s[0] += uint32(q[0]) * a
				s[1] += uint32(q[1]) * a
				s[2] += uint32(q[2]) * a
				s[3] += a
			}
			cur, prev = prev, cur
		}
	}
	dst := image.NewRGBA(image.Rect(0, 0, ow, oh))
	for oy := range oh {
		bh := min(k, d.height-oy*k)
		for ox := range ow {
			bw := min(k, d.width-ox*k)
			an := uint64(bw * bh)
			n := an * 255
			s := sums[4*(oy*ow+ox) : 4*(oy*ow+ox)+4 : 4*(oy*ow+ox)+4]
			a := (uint64(s[3]) + an/2) / an
			o := dst.Pix[oy*dst.Stride+4*ox : oy*dst.Stride+4*ox+4 : oy*dst.Stride+4*ox+4]
			o[0] = uint8(min(a, (uint64(s[0])+n/2)/n))
			o[1] = uint8(min(a, (uint64(s[1])+n/2)/n))
			o[2] = uint8(min(a, (uint64(s[2])+n/2)/n))
			o[3] = uint8(a)
		}
	}
	return dst, nil
}

// unfilter reverses a row's filter in place; prev is the previous row,
// already unfiltered (zeros before the first).
func unfilter(filter byte, cur, prev []byte, bpp int) error {
	switch filter {
	case 0:
	case 1: // Sub
		for i := bpp; i < len(cur); i++ {
			cur[i] += cur[i-bpp]
		}
	case 2: // Up
		for i := range cur {
			cur[i] += prev[i]
		}
	case 3: // Average
		for i := range min(bpp, len(cur)) {
			cur[i] += prev[i] / 2
		}
		for i := bpp; i < len(cur); i++ {
			cur[i] += uint8((int(cur[i-bpp]) + int(prev[i])) / 2)
		}
	case 4: // Paeth
		for i := range min(bpp, len(cur)) {
			cur[i] += prev[i] // a and c are zero: Paeth picks b
		}
		for i := bpp; i < len(cur); i++ {
			cur[i] += paeth(cur[i-bpp], prev[i], prev[i-bpp])
		}
	default:
		return pngFormatError(fmt.Sprintf("unknown row filter %d", filter), nil)
	}
	return nil
}

// paeth predicts a byte from its left (a), upper (b) and upper-left (c)
// neighbours.
func paeth(a, b, c uint8) uint8 {
	p := int(a) + int(b) - int(c)
	pa, pb, pc := abs(p-int(a)), abs(p-int(b)), abs(p-int(c))
	switch {
	case pa <= pb && pa <= pc:
		return a
	case pb <= pc:
		return b
	}
	return c
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// converter returns the function that turns one unfiltered row into
// straight 8-bit RGBA.
func (d *pngReader) converter(w int) func(row []byte, px []uint8) {
	switch d.colourType {
	case 0: // greyscale
		if d.depth == 16 {
			tr, key := d.hasTRNS, [2]byte{}
			if tr {
				key = [2]byte{d.trns[0], d.trns[1]}
			}
			return func(row []byte, px []uint8) {
				for x := range w {
					v, a := row[2*x], uint8(255)
					if tr && row[2*x] == key[0] && row[2*x+1] == key[1] {
						a = 0
					}
					px[4*x], px[4*x+1], px[4*x+2], px[4*x+3] = v, v, v, a
				}
			}
		}
		depth, tr := d.depth, d.hasTRNS
		scale := uint8(255 / (1<<depth - 1))
		var key uint8
		if tr {
			key = d.trns[1] * scale // the low byte, scaled, as image/png compares
		}
		perByte := 8 / depth
		mask := byte(1<<depth - 1)
		return func(row []byte, px []uint8) {
			for x := range w {
				shift := uint(8 - depth*(x%perByte+1))
				v := ((row[x/perByte] >> shift) & mask) * scale
				a := uint8(255)
				if tr && v == key {
					a = 0
				}
				px[4*x], px[4*x+1], px[4*x+2], px[4*x+3] = v, v, v, a
			}
		}
	case 2: // truecolour
		if d.depth == 16 {
			tr, key := d.hasTRNS, d.trns
			return func(row []byte, px []uint8) {
				for x := range w {
					p := row[6*x : 6*x+6]
					a := uint8(255)
					if tr && bytes.Equal(p, key) {
						a = 0
					}
					px[4*x], px[4*x+1], px[4*x+2], px[4*x+3] = p[0], p[2], p[4], a
				}
			}
		}
		tr, key := d.hasTRNS, [3]byte{}
		if tr {
			key = [3]byte{d.trns[1], d.trns[3], d.trns[5]} // the low bytes, as image/png compares
		}
		return func(row []byte, px []uint8) {
			for x := range w {
				r, g, b := row[3*x], row[3*x+1], row[3*x+2]
				a := uint8(255)
				if tr && r == key[0] && g == key[1] && b == key[2] {
					a = 0
				}
				px[4*x], px[4*x+1], px[4*x+2], px[4*x+3] = r, g, b, a
			}
		}
	case 3: // palette
		depth, pal := d.depth, &d.palette
		perByte := 8 / depth
		mask := byte(1<<depth - 1)
		return func(row []byte, px []uint8) {
			for x := range w {
				var i byte
				if depth == 8 {
					i = row[x]
				} else {
					i = (row[x/perByte] >> uint(8-depth*(x%perByte+1))) & mask
				}
				copy(px[4*x:4*x+4], pal[i][:])
			}
		}
	case 4: // greyscale and alpha
		step := 2 * d.depth / 8
		return func(row []byte, px []uint8) {
			for x := range w {
				v, a := row[step*x], row[step*x+step/2]
				px[4*x], px[4*x+1], px[4*x+2], px[4*x+3] = v, v, v, a
			}
		}
	default: // 6, truecolour and alpha
		if d.depth == 16 {
			return func(row []byte, px []uint8) {
				for x := range w {
					p := row[8*x : 8*x+8]
					px[4*x], px[4*x+1], px[4*x+2], px[4*x+3] = p[0], p[2], p[4], p[6]
				}
			}
		}
		return func(row []byte, px []uint8) { copy(px, row[:4*w]) }
	}
}
