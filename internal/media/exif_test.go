package media

import (
	"encoding/binary"
	"testing"
)

// ifd0 builds a TIFF block with one IFD0 entry.
func ifd0(bo interface {
	binary.ByteOrder
	binary.AppendByteOrder
}, mark string, tag, typ uint16, count, value uint32) []byte {
	b := []byte(mark)
	b = bo.AppendUint16(b, 42)
	b = bo.AppendUint32(b, 8)
	b = bo.AppendUint16(b, 1)
	b = bo.AppendUint16(b, tag)
	b = bo.AppendUint16(b, typ)
	b = bo.AppendUint32(b, count)
	if typ == typeShort {
		b = bo.AppendUint16(b, uint16(value))
		b = bo.AppendUint16(b, 0)
	} else {
		b = bo.AppendUint32(b, value)
	}
	return bo.AppendUint32(b, 0)
}

func TestExifOrientation(t *testing.T) {
	be, le := binary.BigEndian, binary.LittleEndian
	badOffset := ifd0(be, "MM", tagOrientation, typeShort, 1, 6)
	be.PutUint32(badOffset[4:], 4000)
	tests := []struct {
		name string
		data []byte
		want int
	}{
		{"big-endian short", ifd0(be, "MM", tagOrientation, typeShort, 1, 6), 6},
		{"little-endian short", ifd0(le, "II", tagOrientation, typeShort, 1, 3), 3},
		{"long", ifd0(le, "II", tagOrientation, typeLong, 1, 8), 8},
		{"with Exif prefix", append([]byte("Exif\x00\x00"), ifd0(be, "MM", tagOrientation, typeShort, 1, 5)...), 5},
		{"other tag only", ifd0(be, "MM", 0x010F, typeShort, 1, 6), 1},
		{"zero", ifd0(be, "MM", tagOrientation, typeShort, 1, 0), 1},
		{"nine", ifd0(be, "MM", tagOrientation, typeShort, 1, 9), 1},
		{"wrong type", ifd0(be, "MM", tagOrientation, 2, 1, 6), 1},
		{"no values", ifd0(be, "MM", tagOrientation, typeShort, 0, 6), 1},
		{"byte order mark wrong", ifd0(be, "XX", tagOrientation, typeShort, 1, 6), 1},
		{"magic wrong", ifd0(le, "MM", tagOrientation, typeShort, 1, 6), 1},
		{"IFD offset past the end", badOffset, 1},
		{"cut inside the entry", ifd0(be, "MM", tagOrientation, typeShort, 1, 6)[:16], 1},
		{"empty", nil, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := exifOrientation(tt.data); got != tt.want {
				t.Errorf("got %d, want %d", got, tt.want)
			}
		})
	}
}
