package media_test

import (
	"bytes"
	"encoding/binary"
	"image/jpeg"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"testing"

	"mediashare/internal/media"
	"mediashare/internal/media/mediatest"
)

// latitude is how ExifWithGPS stores the latitude (big-endian rationals).
func latitude() []byte {
	var b []byte
	for _, v := range mediatest.GPSLatitude {
		b = binary.BigEndian.AppendUint32(b, v)
	}
	return b
}

// mustStrip strips data and checks what every result must be: the size
// announced, a file Inspect describes as before, and no location left.
func mustStrip(t *testing.T, data []byte) []byte {
	t.Helper()
	before, err := inspectBytes(data)
	if err != nil {
		t.Fatalf("Inspect before: %v", err)
	}
	r, n, err := media.StripLocation(bytes.NewReader(data), int64(len(data)), before)
	if err != nil {
		t.Fatalf("StripLocation: %v", err)
	}
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(out)) != n {
		t.Errorf("got %d bytes, want the announced %d", len(out), n)
	}
	after, err := inspectBytes(out)
	if err != nil {
		t.Fatalf("Inspect after: %v", err)
	}
	if after != before {
		t.Errorf("got %+v after, want %+v as before", after, before)
	}
	if has, err := media.HasLocation(bytes.NewReader(out), int64(len(out)), after); has || err != nil {
		t.Errorf("HasLocation after: got (%v, %v), want (false, nil)", has, err)
	}
	for _, s := range [][]byte{latitude(), []byte("Paris"), []byte("GPSLatitude")} {
		if bytes.Contains(out, s) {
			t.Errorf("%q still in the file", s)
		}
	}
	return out
}

func TestStripLocationJPEG(t *testing.T) {
	img := testImage(64, 48)
	data, err := mediatest.JPEGWithMetadata(img, mediatest.ExifWithGPS(6), mediatest.XMPWithLocation)
	if err != nil {
		t.Fatal(err)
	}
	if has, err := media.HasLocation(bytes.NewReader(data), int64(len(data)), media.Info{Format: "jpeg"}); !has || err != nil {
		t.Fatalf("HasLocation before: got (%v, %v), want (true, nil)", has, err)
	}
	out := mustStrip(t, data)
	if info, _ := inspectBytes(out); info.Orientation != 6 {
		t.Errorf("got orientation %d, want 6", info.Orientation)
	}
	if !bytes.Contains(out, []byte("Go!")) {
		t.Error("the rest of EXIF (Make) was lost")
	}
	// Pixels untouched: the file from the quantisation tables on is the same.
	dqt := []byte{0xFF, 0xDB}
	if !bytes.Equal(out[bytes.Index(out, dqt):], data[bytes.Index(data, dqt):]) {
		t.Error("the image data changed")
	}
	a, err1 := jpeg.Decode(bytes.NewReader(data))
	b, err2 := jpeg.Decode(bytes.NewReader(out))
	if err1 != nil || err2 != nil {
		t.Fatalf("decode: %v, %v", err1, err2)
	}
	if a.Bounds() != b.Bounds() {
		t.Errorf("got bounds %v, want %v", b.Bounds(), a.Bounds())
	}
}

func TestStripLocationLeavesCleanFilesAlone(t *testing.T) {
	plainJPEG := mustJPEG(t, testImage(40, 30))
	withOrientation, err := mediatest.JPEGWithOrientation(testImage(40, 30), 3)
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{
		"jpeg":                   plainJPEG,
		"jpeg with orientation":  withOrientation,
		"png":                    mustPNG(t, testImage(40, 30)),
		"gif":                    mustGIF(t, testImage(40, 30)),
		"webp photo without xmp": mustRead(t, mediatest.Photo(t, "adwaita-l.webp")),
	} {
		t.Run(name, func(t *testing.T) {
			info, err := inspectBytes(data)
			if err != nil {
				t.Fatal(err)
			}
			r, n, err := media.StripLocation(bytes.NewReader(data), int64(len(data)), info)
			if err != nil {
				t.Fatal(err)
			}
			out, _ := io.ReadAll(r)
			if n != int64(len(data)) || !bytes.Equal(out, data) {
				t.Errorf("got %d bytes (announced %d), want the %d bytes unchanged", len(out), n, len(data))
			}
		})
	}
}

func TestStripLocationPNG(t *testing.T) {
	plain := mustPNG(t, testImage(30, 10))
	xmp := append([]byte("XML:com.adobe.xmp\x00\x00\x00\x00\x00"), mediatest.XMPWithLocation...)
	var data []byte
	data = append(data, plain[:33]...) // signature and IHDR
	data = append(data, pngChunk("eXIf", mediatest.ExifWithGPS(8))...)
	data = append(data, pngChunk("iTXt", xmp)...)
	data = append(data, plain[33:]...)

	out := mustStrip(t, data)
	if info, _ := inspectBytes(out); info.Orientation != 8 {
		t.Errorf("got orientation %d, want 8", info.Orientation)
	}
	if _, err := png.Decode(bytes.NewReader(out)); err != nil {
		t.Errorf("the stripped PNG does not decode (CRC?): %v", err)
	}
}

func TestStripLocationWebP(t *testing.T) {
	photo := mustRead(t, mediatest.Photo(t, "adwaita-l.webp"))
	data := extendedWebP(t, photo, 4096, 4096, 0x08|0x04,
		webpChunk("EXIF", mediatest.ExifWithGPS(6)), webpChunk("XMP ", []byte(mediatest.XMPWithLocation)))
	out := mustStrip(t, data)
	if info, _ := inspectBytes(out); info.Orientation != 6 {
		t.Errorf("got orientation %d, want 6", info.Orientation)
	}
	if flags := out[20]; flags&0x04 != 0 || flags&0x08 == 0 {
		t.Errorf("got VP8X flags %#x, want EXIF (0x08) without XMP (0x04)", flags)
	}
}

// A file whose Exif block is damaged still comes back whole.
func TestStripLocationDamagedExif(t *testing.T) {
	tiff := mediatest.ExifWithGPS(1)
	binary.BigEndian.PutUint32(tiff[4:], 60000) // IFD0 past the end
	data, err := mediatest.JPEGWithMetadata(testImage(20, 20), tiff, "")
	if err != nil {
		t.Fatal(err)
	}
	info, err := inspectBytes(data)
	if err != nil {
		t.Fatal(err)
	}
	r, n, err := media.StripLocation(bytes.NewReader(data), int64(len(data)), info)
	if err != nil {
		t.Fatal(err)
	}
	out, _ := io.ReadAll(r)
	if n != int64(len(data)) || !bytes.Equal(out, data) {
		t.Error("a file with an unreadable Exif block was changed")
	}
}

// inPlace writes data to a file, strips it in place and returns whether
// it was done and what the file holds then.
func inPlace(t *testing.T, data []byte) (bool, []byte) {
	t.Helper()
	info, err := inspectBytes(data)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "spooled")
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(p, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	done, err := media.StripLocationInPlace(f, int64(len(data)), info)
	if err != nil {
		t.Fatalf("StripLocationInPlace: %v", err)
	}
	out, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return done, out
}

// A JPEG's location goes in place, giving the very bytes StripLocation
// gives (its XMP a comment of zeros of the same length); a PNG's XMP is
// dropped, which moves what follows, so the file is left for a copy.
func TestStripLocationInPlace(t *testing.T) {
	jpg, err := mediatest.JPEGWithMetadata(testImage(64, 48), mediatest.ExifWithGPS(6), mediatest.XMPWithLocation)
	if err != nil {
		t.Fatal(err)
	}
	done, out := inPlace(t, jpg)
	if !done {
		t.Fatal("a JPEG with EXIF GPS and XMP was not stripped in place")
	}
	if want := mustStrip(t, jpg); !bytes.Equal(out, want) {
		t.Errorf("in place: got %d bytes, want the %d StripLocation gives, identical", len(out), len(want))
	}
	if len(out) != len(jpg) {
		t.Errorf("in place: got %d bytes, want the %d of the upload", len(out), len(jpg))
	}
	if _, err := jpeg.Decode(bytes.NewReader(out)); err != nil {
		t.Errorf("the JPEG stripped in place does not decode: %v", err)
	}

	plain := mustPNG(t, testImage(30, 10))
	xmp := append([]byte("XML:com.adobe.xmp\x00\x00\x00\x00\x00"), mediatest.XMPWithLocation...)
	pngData := append(append(append([]byte{}, plain[:33]...), pngChunk("iTXt", xmp)...), plain[33:]...)
	done, out = inPlace(t, pngData)
	if done || !bytes.Equal(out, pngData) {
		t.Errorf("PNG with XMP: got done=%v and %d bytes, want not done and the file untouched", done, len(out))
	}

	clean := mustPNG(t, testImage(8, 8))
	if done, out := inPlace(t, clean); !done || !bytes.Equal(out, clean) {
		t.Errorf("a clean PNG: got done=%v, changed=%v; want done (nothing to do), unchanged", done, !bytes.Equal(out, clean))
	}
}
