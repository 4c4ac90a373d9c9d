package media

import (
	"bytes"
	"encoding/binary"
)

// EXIF (TIFF) constants used to find the orientation.
const (
	tagOrientation = 0x0112
	typeShort      = 3
	typeLong       = 4
)

// exifOrientation returns the orientation tag of IFD0 in an EXIF block (a
// TIFF structure, optionally preceded by "Exif\0\0"), or 1 when it is
// missing, out of range or the block is malformed.
func exifOrientation(b []byte) int {
	b = bytes.TrimPrefix(b, []byte("Exif\x00\x00"))
	if len(b) < 8 {
		return 1
	}
	var bo binary.ByteOrder
	switch string(b[:2]) {
	case "II":
		bo = binary.LittleEndian
	case "MM":
		bo = binary.BigEndian
	default:
		return 1
	}
	if bo.Uint16(b[2:4]) != 42 {
		return 1
	}
	ifd := int64(bo.Uint32(b[4:8]))
	if ifd < 8 || ifd+2 > int64(len(b)) {
		return 1
	}
	count := int64(bo.Uint16(b[ifd:]))
	for i := range count {
		e := ifd + 2 + 12*i
		if e+12 > int64(len(b)) {
			return 1
		}
		if bo.Uint16(b[e:]) != tagOrientation {
			continue
		}
		if bo.Uint32(b[e+4:]) < 1 { // value count
			return 1
		}
		var v uint32
		switch bo.Uint16(b[e+2:]) {
		case typeShort:
			v = uint32(bo.Uint16(b[e+8:]))
		case typeLong:
			v = bo.Uint32(b[e+8:])
		default:
			return 1
		}
		if v < 1 || v > 8 {
			return 1
		}
		return int(v)
	}
	return 1
}
