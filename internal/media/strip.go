package media

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
)

// edit replaces the bytes [start, end) of a file with repl (nil removes them).
type edit struct {
	start, end int64
	repl       []byte
}

// maxMetadata bounds one metadata block read into memory; a larger EXIF
// block is removed whole rather than rewritten.
const maxMetadata = 1 << 20

// XMP packet headers: the standard packet and the extended one (JPEG APP1).
var (
	xmpStandard = []byte("http://ns.adobe.com/xap/1.0/\x00")
	xmpExtended = []byte("http://ns.adobe.com/xmp/extension/\x00")
)

// StripLocation returns the file (r, of size bytes, as Inspect described it
// in info) without its location metadata, and the new size. It removes the
// GPS IFD from EXIF (JPEG APP1, PNG eXIf, WebP EXIF, HEIF Exif items) — the rest of EXIF,
// the orientation included, stays byte for byte, at the same offsets — and
// drops XMP packets, which may carry exif:GPS* and photoshop:City and the
// like (JPEG's XMP segments become comment segments of zeros and HEIF's
// XMP items are blanked, both to the same length, so that nothing moves
// and StripLocationInPlace can do it in place). Pixel data is never
// decoded or re-encoded: the result reads the untouched parts of r
// lazily, between small rewritten blocks. A file with
// nothing to remove comes back as it is. GIF is returned unchanged.
func StripLocation(r io.ReaderAt, size int64, info Info) (io.Reader, int64, error) {
	edits, err := locationEdits(r, size, info.Format)
	if err != nil {
		return nil, 0, err
	}
	var parts []io.Reader
	at, n := int64(0), size
	for _, e := range edits {
		if e.start > at {
			parts = append(parts, io.NewSectionReader(r, at, e.start-at))
		}
		if len(e.repl) > 0 {
			parts = append(parts, bytes.NewReader(e.repl))
		}
		n += int64(len(e.repl)) - (e.end - e.start)
		at = e.end
	}
	if len(parts) == 0 || at < size {
		parts = append(parts, io.NewSectionReader(r, at, size-at))
	}
	if len(parts) == 1 {
		return parts[0], n, nil
	}
	return io.MultiReader(parts...), n, nil
}

// StripLocationInPlace removes the location metadata as StripLocation
// does, writing the few rewritten blocks into f at their offsets, when
// every one keeps its length (always for JPEG, HEIC and AVIF, whose XMP
// is blanked; PNG and WebP drop theirs). It reports whether it did: when
// it did not, f is untouched and StripLocation must make a copy. After a
// write error f is damaged and must be dropped.
func StripLocationInPlace(f interface {
	io.ReaderAt
	io.WriterAt
}, size int64, info Info) (bool, error) {
	edits, err := locationEdits(f, size, info.Format)
	if err != nil {
		return false, err
	}
	for _, e := range edits {
		if int64(len(e.repl)) != e.end-e.start {
			return false, nil
		}
	}
	for _, e := range edits {
		if _, err := f.WriteAt(e.repl, e.start); err != nil {
			return false, fmt.Errorf("media: strip location in place: %w", err)
		}
	}
	return true, nil
}

// HasLocation reports whether StripLocation would remove anything: a GPS
// IFD in EXIF, or an XMP packet.
func HasLocation(r io.ReaderAt, size int64, info Info) (bool, error) {
	edits, err := locationEdits(r, size, info.Format)
	return len(edits) > 0, err
}

// locationEdits lists, in file order, the edits that remove location
// metadata.
func locationEdits(r io.ReaderAt, size int64, format string) ([]edit, error) {
	switch format {
	case JPEG:
		return jpegLocationEdits(r, size)
	case PNG:
		return pngLocationEdits(r, size)
	case WebP:
		return webpLocationEdits(r, size)
	case HEIC, AVIF:
		return heifLocationEdits(r, size)
	}
	return nil, nil
}

func jpegLocationEdits(r io.ReaderAt, size int64) ([]edit, error) {
	var edits []edit
	off := int64(2)
	var h [4]byte
	for off+4 <= size {
		if err := readAt(r, h[:2], off); err != nil {
			return nil, damaged(err)
		}
		if h[0] != 0xFF {
			return nil, damaged(fmt.Errorf("jpeg: no marker at offset %d", off))
		}
		m := h[1]
		if m == 0xFF { // fill byte
			off++
			continue
		}
		if m == 0xD8 || m == 0x01 || (m >= 0xD0 && m <= 0xD7) {
			off += 2
			continue
		}
		if m == 0xD9 || m == 0xDA {
			break // the scan (or the end): nothing after it is metadata we touch
		}
		if err := readAt(r, h[2:4], off+2); err != nil {
			return nil, damaged(err)
		}
		n := int64(binary.BigEndian.Uint16(h[2:4]))
		if n < 2 || off+2+n > size {
			return nil, damaged(fmt.Errorf("jpeg: segment at %d runs past the end", off))
		}
		start, end := off, off+2+n
		off = end
		if m != 0xE1 {
			continue
		}
		seg := make([]byte, end-start)
		if err := readAt(r, seg, start); err != nil {
			return nil, damaged(err)
		}
		payload := seg[4:]
		switch {
		case bytes.HasPrefix(payload, []byte("Exif\x00\x00")):
			if stripGPS(payload[6:]) {
				edits = append(edits, edit{start, end, seg})
			}
		case bytes.HasPrefix(payload, xmpStandard), bytes.HasPrefix(payload, xmpExtended):
			edits = append(edits, edit{start, end, blankJPEGSegment(seg)})
		}
	}
	return edits, nil
}

// blankJPEGSegment turns a segment (marker, length, payload) into a
// comment segment of the same length, all zeros: the XMP packet is gone
// and nothing after it moves, so the file can be rewritten in place.
func blankJPEGSegment(seg []byte) []byte {
	b := make([]byte, len(seg))
	copy(b, seg[:4])
	b[1] = 0xFE // COM
	return b
}

// pngXMPKeyword is the keyword of the text chunk that holds XMP.
const pngXMPKeyword = "XML:com.adobe.xmp\x00"

func pngLocationEdits(r io.ReaderAt, size int64) ([]edit, error) {
	var edits []edit
	off := int64(8)
	var h [8]byte
	for off+12 <= size {
		if err := readAt(r, h[:], off); err != nil {
			return nil, damaged(err)
		}
		n := int64(binary.BigEndian.Uint32(h[:4]))
		typ := string(h[4:])
		end := off + 12 + n
		if n > 1<<31-1 || end > size {
			return nil, damaged(fmt.Errorf("png: chunk %q runs past the end of the file", typ))
		}
		switch typ {
		case "eXIf":
			if n > maxMetadata {
				edits = append(edits, edit{off, end, nil})
				break
			}
			chunk := make([]byte, 12+n)
			if err := readAt(r, chunk, off); err != nil {
				return nil, damaged(err)
			}
			if stripGPS(chunk[8 : 8+n]) {
				binary.BigEndian.PutUint32(chunk[8+n:], crc32.ChecksumIEEE(chunk[4:8+n]))
				edits = append(edits, edit{off, end, chunk})
			}
		case "iTXt", "tEXt", "zTXt":
			kw := make([]byte, min(n, int64(len(pngXMPKeyword))))
			if err := readAt(r, kw, off+8); err != nil {
				return nil, damaged(err)
			}
			if string(kw) == pngXMPKeyword {
				edits = append(edits, edit{off, end, nil})
			}
		}
		if typ == "IEND" {
			break
		}
		off = end
	}
	return edits, nil
}

// webpXMPFlag is the VP8X flag saying the file has an XMP chunk.
const webpXMPFlag = 0x04

func webpLocationEdits(r io.ReaderAt, size int64) ([]edit, error) {
	var edits []edit
	var vp8x edit // the VP8X chunk, rewritten when XMP goes
	off := int64(12)
	var h [8]byte
	for off+8 <= size {
		if err := readAt(r, h[:], off); err != nil {
			return nil, damaged(err)
		}
		typ := string(h[:4])
		n := int64(binary.LittleEndian.Uint32(h[4:8]))
		end := off + 8 + n + n&1
		if off+8+n > size {
			return nil, damaged(fmt.Errorf("webp: chunk %q runs past the end of the file", typ))
		}
		end = min(end, size)
		switch typ {
		case "VP8X":
			if n >= 1 {
				chunk := make([]byte, end-off)
				if err := readAt(r, chunk, off); err != nil {
					return nil, damaged(err)
				}
				vp8x = edit{off, end, chunk}
			}
		case "EXIF":
			if n > maxMetadata {
				edits = append(edits, edit{off, end, nil})
				break
			}
			chunk := make([]byte, end-off)
			if err := readAt(r, chunk, off); err != nil {
				return nil, damaged(err)
			}
			if stripGPS(bytes.TrimPrefix(chunk[8:8+n], []byte("Exif\x00\x00"))) {
				edits = append(edits, edit{off, end, chunk})
			}
		case "XMP ":
			edits = append(edits, edit{off, end, nil})
		}
		off = end
	}
	if len(edits) == 0 {
		return nil, nil
	}
	removed := int64(0)
	xmp := false
	for _, e := range edits {
		if e.repl == nil {
			removed += e.end - e.start
			xmp = true
		}
	}
	var head [12]byte
	if err := readAt(r, head[:], 0); err != nil {
		return nil, damaged(err)
	}
	binary.LittleEndian.PutUint32(head[4:8], uint32(int64(binary.LittleEndian.Uint32(head[4:8]))-removed))
	out := []edit{{0, 12, head[:]}}
	if xmp && vp8x.repl != nil {
		vp8x.repl[8] &^= webpXMPFlag
		out = append(out, vp8x)
	}
	out = append(out, edits...)
	// Keep file order (the VP8X chunk comes first, but do not rely on it).
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].start < out[j-1].start; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out, nil
}

// TIFF tags and types used to find and wipe the GPS IFD.
const tagGPSInfo = 0x8825

var tiffTypeSize = [...]int64{1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8}

// stripGPS removes the GPS IFD from a TIFF block in place, keeping its
// length and every other offset: the GPSInfo entry leaves IFD0 (the entries
// after it move up), and the GPS IFD's entries and values are zeroed. It
// reports whether it changed anything.
func stripGPS(t []byte) bool {
	if len(t) < 8 {
		return false
	}
	var bo binary.ByteOrder
	switch string(t[:2]) {
	case "II":
		bo = binary.LittleEndian
	case "MM":
		bo = binary.BigEndian
	default:
		return false
	}
	if bo.Uint16(t[2:4]) != 42 {
		return false
	}
	ifd := int64(bo.Uint32(t[4:8]))
	if ifd < 8 || ifd+2 > int64(len(t)) {
		return false
	}
	count := int64(bo.Uint16(t[ifd:]))
	entriesEnd := min(ifd+2+12*count+4, int64(len(t))) // with the next-IFD offset
	for i := range count {
		e := ifd + 2 + 12*i
		if e+12 > int64(len(t)) {
			return false
		}
		if bo.Uint16(t[e:]) != tagGPSInfo {
			continue
		}
		wipeIFD(t, bo, int64(bo.Uint32(t[e+8:])), [2]int64{ifd, entriesEnd})
		copy(t[e:], t[e+12:entriesEnd])
		clear(t[entriesEnd-12 : entriesEnd])
		bo.PutUint16(t[ifd:], uint16(count-1))
		return true
	}
	return false
}

// wipeIFD zeroes the IFD at off, its out-of-line values included, but
// never the bytes in keep (IFD0, which a hostile file may overlap with it).
func wipeIFD(t []byte, bo binary.ByteOrder, off int64, keep [2]int64) {
	wipe := func(from, to int64) {
		if from >= 0 && from <= to && to <= int64(len(t)) && (to <= keep[0] || from >= keep[1]) {
			clear(t[from:to])
		}
	}
	if off < 8 || off+2 > int64(len(t)) || off < keep[1] && off+2 > keep[0] {
		return
	}
	count := int64(bo.Uint16(t[off:]))
	for i := range count {
		e := off + 2 + 12*i
		if e+12 > int64(len(t)) {
			break
		}
		typ := int(bo.Uint16(t[e+2:]))
		if typ < len(tiffTypeSize) {
			if n := tiffTypeSize[typ] * int64(bo.Uint32(t[e+4:])); n > 4 {
				if v := int64(bo.Uint32(t[e+8:])); v >= 8 {
					wipe(v, v+n)
				}
			}
		}
		wipe(e, e+12)
	}
	wipe(off, off+2)
	next := off + 2 + 12*count
	wipe(next, next+4)
}
