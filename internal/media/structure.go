package media

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"mediashare/internal/apperr"
)

// layout is what the container walk learns besides the dimensions.
type layout struct {
	orientation int
	pixels      PixelLayout
}

// maxExif bounds how much of an EXIF block is read; IFD0, which holds the
// orientation, sits at its start.
const maxExif = 64 << 10

// maxChunks bounds the chunk walk of PNG and WebP files.
const maxChunks = 4096

// structure walks the container of a file of the given format: it checks
// the trailer that a complete file ends with and finds the EXIF orientation.
// It reads headers only, never pixel data.
func structure(r io.ReaderAt, size int64, format string) (layout, error) {
	switch format {
	case JPEG:
		return jpegStructure(r, size)
	case PNG:
		return pngStructure(r, size)
	case GIF:
		return gifStructure(r, size)
	case WebP:
		return webpStructure(r, size)
	case HEIC, AVIF:
		img, err := inspectHEIF(r, size)
		return layout{orientation: img.orientation}, err
	}
	return layout{}, fileError(apperr.Unsupported, nil, msgUnsupported)
}

// truncated turns an end of file met inside a structure into a cause.
func truncated(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// readAt reads exactly len(p) bytes at off.
func readAt(r io.ReaderAt, p []byte, off int64) error {
	n, err := r.ReadAt(p, off)
	if n == len(p) {
		return nil
	}
	return truncated(err)
}

// jpegStructure walks the marker segments up to the first scan, reads the
// first APP1 Exif segment, then checks that an EOI marker follows the scan.
// Entropy-coded data never holds FF D9 (FF is stuffed as FF 00), so an EOI
// after the first SOS can only be the end of the image.
func jpegStructure(r io.ReaderAt, size int64) (layout, error) {
	l := layout{orientation: 1}
	br := bufio.NewReaderSize(io.NewSectionReader(r, 2, size-2), 8<<10)
	off := int64(2)
	exifSeen := false
	adobe, adobeTransform := false, byte(0)
	for {
		b, err := br.ReadByte()
		if err != nil {
			return l, damaged(truncated(err))
		}
		off++
		if b != 0xFF {
			return l, damaged(fmt.Errorf("jpeg: no marker at offset %d", off-1))
		}
		m := byte(0xFF)
		for m == 0xFF { // fill bytes may pad a marker
			if m, err = br.ReadByte(); err != nil {
				return l, damaged(truncated(err))
			}
			off++
		}
		switch {
		case m == 0xD8, m == 0x01, m >= 0xD0 && m <= 0xD7: // no length
			continue
		case m == 0xD9, m == 0x00:
			return l, damaged(fmt.Errorf("jpeg: marker %#x before the first scan", m))
		}
		var lb [2]byte
		if _, err := io.ReadFull(br, lb[:]); err != nil {
			return l, damaged(truncated(err))
		}
		n := int(binary.BigEndian.Uint16(lb[:])) - 2
		if n < 0 {
			return l, damaged(fmt.Errorf("jpeg: segment length %d", n+2))
		}
		off += 2 + int64(n)
		if m == 0xE1 && !exifSeen && n >= 6 || jpegSOF(m) || m == 0xEE {
			payload := make([]byte, n)
			if _, err := io.ReadFull(br, payload); err != nil {
				return l, damaged(truncated(err))
			}
			switch {
			case m == 0xE1 && bytes.HasPrefix(payload, []byte("Exif\x00\x00")):
				exifSeen = true
				l.orientation = exifOrientation(payload)
			case m == 0xEE && len(payload) >= 12 && bytes.HasPrefix(payload, []byte("Adobe")):
				adobe, adobeTransform = true, payload[11]
			case jpegSOF(m):
				l.pixels = jpegLayout(m, payload, adobe, adobeTransform)
			}
		} else if _, err := br.Discard(n); err != nil {
			return l, damaged(truncated(err))
		}
		if m == 0xDA { // SOS: the entropy-coded data starts here
			break
		}
	}
	at, err := lastIndex(r, off, size, []byte{0xFF, 0xD9})
	if err != nil {
		return l, err
	}
	if at < 0 {
		return l, damaged(errors.New("jpeg: no EOI marker after the scan"))
	}
	return l, nil
}

// jpegSOF reports whether m is a start-of-frame marker (C0..CF but for
// DHT C4, JPG C8 and DAC CC).
func jpegSOF(m byte) bool {
	return m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC
}

// jpegLayout reads a start-of-frame segment: precision, components and
// their sampling factors. A three-component image is RGB, not YCbCr, when
// an Adobe segment says so (transform 0) or its components are named R, G, B.
func jpegLayout(m byte, sof []byte, adobe bool, transform byte) PixelLayout {
	p := PixelLayout{BitDepth: 8, Channels: 3, Subsampling: "4:2:0"} // a guess for a short segment; the decoder decides
	p.Progressive = m == 0xC2 || m == 0xC6 || m == 0xCA || m == 0xCE
	if len(sof) < 6 {
		return p
	}
	p.BitDepth, p.Channels = int(sof[0]), int(sof[5])
	comps := sof[6:]
	if p.Channels != 3 || len(comps) < 9 {
		p.Subsampling = ""
		return p
	}
	if adobe && transform == 0 || comps[0] == 'R' && comps[3] == 'G' && comps[6] == 'B' {
		p.Subsampling = ""
		return p
	}
	h0, v0 := int(comps[1]>>4), int(comps[1]&15)
	h1, v1 := max(1, int(comps[4]>>4)), max(1, int(comps[4]&15))
	switch [2]int{h0 / h1, v0 / v1} {
	case [2]int{1, 1}:
		p.Subsampling = "4:4:4"
	case [2]int{2, 1}:
		p.Subsampling = "4:2:2"
	case [2]int{2, 2}:
		p.Subsampling = "4:2:0"
	case [2]int{1, 2}:
		p.Subsampling = "4:4:0"
	case [2]int{4, 1}:
		p.Subsampling = "4:1:1"
	case [2]int{4, 2}:
		p.Subsampling = "4:1:0"
	default:
		p.Subsampling = "4:4:4" // unusual factors: count full-size chroma
	}
	return p
}

// pngLayout reads an IHDR chunk's bit depth, colour type and interlace.
func pngLayout(ihdr []byte) PixelLayout {
	p := PixelLayout{BitDepth: int(ihdr[8])}
	switch ihdr[9] {
	case 0:
		p.Channels = 1
	case 2:
		p.Channels = 3
	case 3:
		p.Channels, p.Paletted = 1, true
	case 4:
		p.Channels, p.Alpha = 2, true
	case 6:
		p.Channels, p.Alpha = 4, true
	}
	p.Progressive = ihdr[12] == 1
	return p
}

// pngIEND is the complete IEND chunk: length 0, type, CRC.
var pngIEND = []byte{0, 0, 0, 0, 'I', 'E', 'N', 'D', 0xAE, 0x42, 0x60, 0x82}

// pngStructure walks the chunks before the image data for eXIf, then checks
// that an IEND chunk follows.
func pngStructure(r io.ReaderAt, size int64) (layout, error) {
	l := layout{orientation: 1}
	off := int64(8)
	var h [8]byte
	for range maxChunks {
		if err := readAt(r, h[:], off); err != nil {
			return l, damaged(err)
		}
		n := int64(binary.BigEndian.Uint32(h[:4]))
		typ := string(h[4:])
		end := off + 12 + n
		if n > 1<<31-1 || end > size {
			return l, damaged(fmt.Errorf("png: chunk %q runs past the end of the file", typ))
		}
		switch {
		case typ == "IHDR" && n == 13:
			var ihdr [13]byte
			if err := readAt(r, ihdr[:], off+8); err != nil {
				return l, damaged(err)
			}
			l.pixels = pngLayout(ihdr[:])
		case typ == "tRNS":
			l.pixels.Alpha = true
		}
		if typ == "eXIf" && l.orientation == 1 {
			payload := make([]byte, min(n, maxExif))
			if err := readAt(r, payload, off+8); err != nil {
				return l, damaged(err)
			}
			l.orientation = exifOrientation(payload)
		}
		if typ == "IDAT" || typ == "IEND" {
			break
		}
		off = end
	}
	at, err := lastIndex(r, off, size, pngIEND)
	if err != nil {
		return l, err
	}
	if at < 0 {
		return l, damaged(errors.New("png: no IEND chunk"))
	}
	return l, nil
}

// gifStructure checks the trailer byte. GIF carries no orientation.
func gifStructure(r io.ReaderAt, size int64) (layout, error) {
	l := layout{orientation: 1, pixels: PixelLayout{BitDepth: 8, Channels: 1, Paletted: true}}
	var last [1]byte
	if err := readAt(r, last[:], size-1); err != nil {
		return l, damaged(err)
	}
	if last[0] != 0x3B {
		return l, damaged(errors.New("gif: no trailer"))
	}
	return l, nil
}

// webpStructure checks that the RIFF size matches the file, walks the
// chunks for EXIF, and checks that an animation has frames (the
// thumbnail is its first).
func webpStructure(r io.ReaderAt, size int64) (layout, error) {
	l := layout{orientation: 1}
	animated, frames := false, 0
	var h [12]byte
	if err := readAt(r, h[:], 0); err != nil {
		return l, damaged(err)
	}
	if riff := int64(binary.LittleEndian.Uint32(h[4:8])); riff+8 != size {
		return l, damaged(fmt.Errorf("webp: RIFF size %d for a file of %d bytes", riff+8, size))
	}
	off := int64(12)
	for i := 0; i < maxChunks && off+8 <= size; i++ {
		if err := readAt(r, h[:8], off); err != nil {
			return l, damaged(err)
		}
		typ := string(h[:4])
		n := int64(binary.LittleEndian.Uint32(h[4:8]))
		end := off + 8 + n
		if end > size {
			return l, damaged(fmt.Errorf("webp: chunk %q runs past the end of the file", typ))
		}
		switch typ {
		case "VP8 ":
			l.pixels.BitDepth, l.pixels.Channels, l.pixels.Subsampling = 8, 3, "4:2:0"
			if l.pixels.Alpha {
				l.pixels.Channels = 4
			}
		case "VP8L":
			l.pixels = PixelLayout{BitDepth: 8, Channels: 4, Alpha: true, Lossless: true}
		case "ALPH":
			l.pixels.Alpha, l.pixels.Channels = true, 4
		case "VP8X":
			var flags [1]byte
			if n < 1 {
				return l, damaged(errors.New("webp: short VP8X chunk"))
			}
			if err := readAt(r, flags[:], off+8); err != nil {
				return l, damaged(err)
			}
			if flags[0]&0x10 != 0 {
				l.pixels.Alpha = true
			}
			if flags[0]&0x02 != 0 {
				animated = true
			}
		case "EXIF":
			payload := make([]byte, min(n, maxExif))
			if err := readAt(r, payload, off+8); err != nil {
				return l, damaged(err)
			}
			l.orientation = exifOrientation(payload)
		case "ANMF":
			frames++
		}
		off = end + n&1 // chunks are padded to an even length
	}
	if animated && frames == 0 {
		return l, damaged(errors.New("webp: an animation without frames"))
	}
	return l, nil
}

// lastIndex returns the offset of the last occurrence of pat within
// [from, to) of r, or -1. It reads backwards in windows, so a complete file
// whose trailer is at its end costs one small read.
func lastIndex(r io.ReaderAt, from, to int64, pat []byte) (int64, error) {
	const window = 64 << 10
	overlap := int64(len(pat) - 1)
	buf := make([]byte, window+overlap)
	end := to
	for end-from >= int64(len(pat)) {
		start := max(from, end-window-overlap)
		chunk := buf[:end-start]
		if err := readAt(r, chunk, start); err != nil {
			return -1, fmt.Errorf("media: read: %w", err)
		}
		if i := bytes.LastIndex(chunk, pat); i >= 0 {
			return start + int64(i), nil
		}
		end = start + overlap
	}
	return -1, nil
}
