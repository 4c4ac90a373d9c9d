package thumbnail

import (
	"bytes"
	"compress/zlib"
	"context"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math"
	"testing"
)

// D50-adapted primaries (XYZ of red, green, blue) of sRGB and Display P3.
var (
	srgbPrimaries = [3][3]float64{{0.4360747, 0.2225045, 0.0139322}, {0.3850649, 0.7168786, 0.0971045}, {0.1430804, 0.0606169, 0.7141733}}
	p3Primaries   = [3][3]float64{{0.5151, 0.2412, -0.0011}, {0.2920, 0.6922, 0.0419}, {0.1571, 0.0666, 0.7843}}
)

func s15bytes(v float64) []byte {
	return binary.BigEndian.AppendUint32(nil, uint32(int32(math.Round(v*65536))))
}

// linearTRC is a curv tag with no entries: the identity.
func linearTRC() []byte { return append([]byte("curv\x00\x00\x00\x00"), 0, 0, 0, 0) }

// srgbTRC is the sRGB tone curve as a para tag of type 3.
func srgbTRC() []byte {
	b := append([]byte("para\x00\x00\x00\x00"), 0, 3, 0, 0)
	for _, v := range []float64{2.4, 1 / 1.055, 0.055 / 1.055, 1 / 12.92, 0.04045} {
		b = append(b, s15bytes(v)...)
	}
	return b
}

// makeICC builds a matrix/TRC RGB display profile.
func makeICC(primaries [3][3]float64, trc []byte) []byte {
	type tag struct {
		sig  string
		data []byte
	}
	var tags []tag
	for i, sig := range []string{"rXYZ", "gXYZ", "bXYZ"} {
		d := []byte("XYZ \x00\x00\x00\x00")
		for _, v := range primaries[i] {
			d = append(d, s15bytes(v)...)
		}
		tags = append(tags, tag{sig, d})
	}
	for _, sig := range []string{"rTRC", "gTRC", "bTRC"} {
		tags = append(tags, tag{sig, trc})
	}
	header := make([]byte, 128)
	copy(header[12:], "mntr")
	copy(header[16:], "RGB ")
	copy(header[20:], "XYZ ")
	copy(header[36:], "acsp")
	table := binary.BigEndian.AppendUint32(nil, uint32(len(tags)))
	off := 128 + 4 + 12*len(tags)
	var data []byte
	for _, t := range tags {
		table = append(table, t.sig...)
		table = binary.BigEndian.AppendUint32(table, uint32(off+len(data)))
		table = binary.BigEndian.AppendUint32(table, uint32(len(t.data)))
		data = append(data, t.data...)
		for len(data)%4 != 0 {
			data = append(data, 0)
		}
	}
	p := append(append(header, table...), data...)
	binary.BigEndian.PutUint32(p, uint32(len(p)))
	return p
}

func solid(c color.NRGBA) image.Image {
	img := image.NewNRGBA(image.Rect(0, 0, 40, 30))
	for i := 0; i < len(img.Pix); i += 4 {
		img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = c.R, c.G, c.B, c.A
	}
	return img
}

// pngWithICC encodes img as PNG with an iCCP chunk after IHDR.
func pngWithICC(t *testing.T, img image.Image, prof []byte) []byte {
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write(prof)
	zw.Close()
	data := append([]byte("test profile\x00\x00"), z.Bytes()...)
	chunk := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
	chunk = append(chunk, "iCCP"...)
	chunk = append(chunk, data...)
	chunk = binary.BigEndian.AppendUint32(chunk, crc32.ChecksumIEEE(append([]byte("iCCP"), data...)))
	raw := b.Bytes()
	at := 8 + 25 // signature and IHDR
	return append(append(append([]byte{}, raw[:at]...), chunk...), raw[at:]...)
}

// jpegWithICC encodes img as JPEG with the profile split over two APP2
// segments (given out of order, as the sequence numbers allow).
func jpegWithICC(t *testing.T, img image.Image, prof []byte) []byte {
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 100}); err != nil {
		t.Fatal(err)
	}
	seg := func(seq int, part []byte) []byte {
		s := []byte{0xFF, 0xE2, 0, 0}
		s = append(s, "ICC_PROFILE\x00"...)
		s = append(s, byte(seq), 2)
		s = append(s, part...)
		binary.BigEndian.PutUint16(s[2:], uint16(len(s)-2))
		return s
	}
	half := len(prof) / 2
	raw := b.Bytes()
	out := append([]byte{}, raw[:2]...)
	out = append(out, seg(2, prof[half:])...)
	out = append(out, seg(1, prof[:half])...)
	return append(out, raw[2:]...)
}

func centre(t *testing.T, data []byte) color.RGBA {
	t.Helper()
	res, err := Make(context.Background(), bytes.NewReader(data), Options{MaxSide: 40})
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(res.PNG))
	if err != nil {
		t.Fatal(err)
	}
	return color.RGBAModel.Convert(img.At(20, 15)).(color.RGBA)
}

func near(a, b uint8, tol int) bool { return math.Abs(float64(a)-float64(b)) <= float64(tol) }

func TestICCProfilesAreConvertedToSRGB(t *testing.T) {
	linear := makeICC(srgbPrimaries, linearTRC())
	grey := solid(color.NRGBA{128, 128, 128, 255})
	// Linear light 128/255 is sRGB 188.
	for name, data := range map[string][]byte{"PNG": pngWithICC(t, grey, linear), "JPEG": jpegWithICC(t, grey, linear)} {
		if got := centre(t, data); !near(got.R, 188, 2) || !near(got.G, 188, 2) || !near(got.B, 188, 2) {
			t.Errorf("%s with a linear-light profile: %v, want about 188", name, got)
		}
	}
	// Without a profile nothing changes.
	var plain bytes.Buffer
	png.Encode(&plain, grey)
	if got := centre(t, plain.Bytes()); got.R != 128 {
		t.Errorf("no profile: %v, want 128", got)
	}

	p3 := makeICC(p3Primaries, srgbTRC())
	if got := centre(t, pngWithICC(t, grey, p3)); !near(got.R, 128, 2) || !near(got.G, 128, 2) || !near(got.B, 128, 2) {
		t.Errorf("Display P3 grey: %v, want grey 128", got)
	}
	// A P3 red is redder than sRGB can show: in sRGB its red stays high
	// and its green and blue fall (the picture keeps its saturation).
	red := centre(t, pngWithICC(t, solid(color.NRGBA{200, 80, 60, 255}), p3))
	if !(red.R > 200 && red.G < 80 && red.B < 60) {
		t.Errorf("Display P3 (200, 80, 60) in sRGB: %v, want more saturated", red)
	}
}

func TestParseICC(t *testing.T) {
	if _, ok := parseICC(makeICC(srgbPrimaries, srgbTRC())); ok {
		t.Error("an sRGB profile asks for a conversion")
	}
	if _, ok := parseICC(makeICC(p3Primaries, srgbTRC())); !ok {
		t.Error("a Display P3 profile was not understood")
	}
	p := makeICC(p3Primaries, srgbTRC())
	for _, cut := range []int{0, 10, 131, 140, len(p) - 5} {
		if _, ok := parseICC(p[:cut]); ok {
			t.Errorf("a profile cut at %d bytes parsed", cut)
		}
	}
	cmyk := append([]byte{}, p...)
	copy(cmyk[16:], "CMYK")
	if _, ok := parseICC(cmyk); ok {
		t.Error("a CMYK profile parsed as RGB")
	}
}
