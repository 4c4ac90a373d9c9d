// Package mediatest helps tests that need images: JPEGs carrying an EXIF
// orientation, and the real photographs kept outside the repository.
package mediatest

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"os"
	"path/filepath"
	"testing"
)

// JPEGWithOrientation encodes img as JPEG (quality 95) and inserts an EXIF
// APP1 segment right after SOI whose IFD0 holds one entry: the orientation
// tag (0x0112, SHORT) set to orientation (1..8).
func JPEGWithOrientation(img image.Image, orientation int) ([]byte, error) {
	if orientation < 1 || orientation > 8 {
		return nil, fmt.Errorf("mediatest: orientation %d is not in 1..8", orientation)
	}
	var enc bytes.Buffer
	if err := jpeg.Encode(&enc, img, &jpeg.Options{Quality: 95}); err != nil {
		return nil, fmt.Errorf("mediatest: encode: %w", err)
	}
	b := enc.Bytes()
	if len(b) < 2 || b[0] != 0xFF || b[1] != 0xD8 {
		return nil, errors.New("mediatest: the encoder did not start with SOI")
	}
	app1 := exifSegment(uint16(orientation))
	out := make([]byte, 0, len(b)+len(app1))
	out = append(out, b[:2]...)
	out = append(out, app1...)
	out = append(out, b[2:]...)
	return out, nil
}

// exifSegment returns a complete APP1 segment (marker included) holding a
// big-endian TIFF structure with IFD0 = {Orientation: o} and no next IFD.
func exifSegment(o uint16) []byte {
	be := binary.BigEndian
	tiff := make([]byte, 0, 26)
	tiff = append(tiff, 'M', 'M')
	tiff = be.AppendUint16(tiff, 42)
	tiff = be.AppendUint32(tiff, 8)      // IFD0 right after the header
	tiff = be.AppendUint16(tiff, 1)      // one entry
	tiff = be.AppendUint16(tiff, 0x0112) // Orientation
	tiff = be.AppendUint16(tiff, 3)      // SHORT
	tiff = be.AppendUint32(tiff, 1)      // one value
	tiff = be.AppendUint16(tiff, o)      // value, left-justified in 4 bytes
	tiff = be.AppendUint16(tiff, 0)
	tiff = be.AppendUint32(tiff, 0) // no IFD1

	payload := append([]byte("Exif\x00\x00"), tiff...)
	seg := []byte{0xFF, 0xE1}
	seg = be.AppendUint16(seg, uint16(2+len(payload)))
	return append(seg, payload...)
}

// Photo returns the absolute path of the real photograph name, found by
// walking up from the working directory to one that holds shared/photos
// (the repository's sibling in a checkout laid out as <X>/<repo> and
// <X>/shared/photos). It fails the test when there is none.
func Photo(t testing.TB, name string) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatalf("mediatest: working directory: %v", err)
	}
	for {
		photos := filepath.Join(dir, "shared", "photos")
		if fi, err := os.Stat(photos); err == nil && fi.IsDir() {
			p := filepath.Join(photos, name)
			if _, err := os.Stat(p); err != nil {
				t.Fatalf("mediatest: photo %q: %v", name, err)
			}
			return p
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatalf("mediatest: no shared/photos directory above the working directory; photo %q not found", name)
		}
		dir = parent
	}
}

// PhotoFile describes one of the real photographs.
type PhotoFile struct {
	Name          string
	Format        string // as media.Info.Format
	Width, Height int
	Slow          bool // takes seconds to decode: keep it for benchmarks
}

// Photos lists the real photographs in shared/photos.
func Photos() []PhotoFile {
	return []PhotoFile{
		{Name: "Elephants_5640x3172.jpg", Format: "jpeg", Width: 5640, Height: 3172, Slow: true},
		{Name: "Elephants_5640x3172_baseline_q90.jpg", Format: "jpeg", Width: 5640, Height: 3172},
		{Name: "Elephants_3840x2160.jpg", Format: "jpeg", Width: 3840, Height: 2160},
		{Name: "RainDrops.jpg", Format: "jpeg", Width: 1920, Height: 1200},
		{Name: "Storm.jpg", Format: "jpeg", Width: 1920, Height: 1280},
		{Name: "Gulp.png", Format: "png", Width: 1920, Height: 1200},
		{Name: "adwaita-l.webp", Format: "webp", Width: 4096, Height: 4096},
	}
}

// GPSLatitude is the latitude, as a TIFF RATIONAL triple (degrees,
// minutes, seconds), that ExifWithGPS writes; tests look for these bytes.
var GPSLatitude = []uint32{48, 1, 51, 1, 2964, 100}

// ExifWithGPS returns a big-endian TIFF block (no "Exif" prefix) whose IFD0
// holds the orientation (1..8), a Make tag and a pointer to a GPS IFD with
// latitude and longitude, as a phone writes them.
func ExifWithGPS(orientation int) []byte {
	be := binary.BigEndian
	entry := func(b []byte, tag, typ uint16, count, value uint32) []byte {
		b = be.AppendUint16(b, tag)
		b = be.AppendUint16(b, typ)
		b = be.AppendUint32(b, count)
		return be.AppendUint32(b, value)
	}
	const ifd0 = 8
	const ifd0Len = 2 + 3*12 + 4
	const gps = ifd0 + ifd0Len
	const gpsLen = 2 + 4*12 + 4
	const lat = gps + gpsLen
	const lon = lat + 24
	b := []byte{'M', 'M', 0, 42}
	b = be.AppendUint32(b, ifd0)
	b = be.AppendUint16(b, 3)
	b = entry(b, 0x010F, 2, 4, 0x476F2100)              // Make "Go!\0"
	b = entry(b, 0x0112, 3, 1, uint32(orientation)<<16) // Orientation, SHORT left-justified
	b = entry(b, 0x8825, 4, 1, gps)                     // GPSInfo
	b = be.AppendUint32(b, 0)
	b = be.AppendUint16(b, 4)
	b = entry(b, 0x0001, 2, 2, 0x4E000000) // GPSLatitudeRef "N"
	b = entry(b, 0x0002, 5, 3, lat)        // GPSLatitude
	b = entry(b, 0x0003, 2, 2, 0x45000000) // GPSLongitudeRef "E"
	b = entry(b, 0x0004, 5, 3, lon)        // GPSLongitude
	b = be.AppendUint32(b, 0)
	for _, v := range GPSLatitude {
		b = be.AppendUint32(b, v)
	}
	for _, v := range []uint32{2, 1, 17, 1, 4068, 100} {
		b = be.AppendUint32(b, v)
	}
	return b
}

// XMPWithLocation is an XMP packet carrying a GPS position and a city.
const XMPWithLocation = `<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">` +
	`<rdf:Description xmlns:exif="http://ns.adobe.com/exif/1.0/" xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/" ` +
	`exif:GPSLatitude="48,51.494N" exif:GPSLongitude="2,17.678E" photoshop:City="Paris"/></rdf:RDF></x:xmpmeta>`

// JPEGWithMetadata encodes img as JPEG (quality 95) and inserts after SOI
// an APP1 Exif segment holding tiff (when not nil) and an APP1 XMP segment
// holding xmp (when not empty).
func JPEGWithMetadata(img image.Image, tiff []byte, xmp string) ([]byte, error) {
	var enc bytes.Buffer
	if err := jpeg.Encode(&enc, img, &jpeg.Options{Quality: 95}); err != nil {
		return nil, fmt.Errorf("mediatest: encode: %w", err)
	}
	b := enc.Bytes()
	out := append([]byte{}, b[:2]...)
	if tiff != nil {
		out = append(out, app1(append([]byte("Exif\x00\x00"), tiff...))...)
	}
	if xmp != "" {
		out = append(out, app1(append([]byte("http://ns.adobe.com/xap/1.0/\x00"), xmp...))...)
	}
	return append(out, b[2:]...), nil
}

func app1(payload []byte) []byte {
	seg := []byte{0xFF, 0xE1}
	seg = binary.BigEndian.AppendUint16(seg, uint16(2+len(payload)))
	return append(seg, payload...)
}
