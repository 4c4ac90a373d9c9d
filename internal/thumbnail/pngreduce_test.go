package thumbnail

import (
	"bytes"
	"compress/zlib"
	"context"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"math/rand/v2"
	"testing"

	"mediashare/internal/media"
)

// pngSpec describes a PNG the tests write themselves, so that every
// colour type, bit depth, filter and transparency can be made (image/png's
// encoder writes only a few of them).
type pngSpec struct {
	w, h, colourType, depth int
	palette                 int    // entries in PLTE (colour type 3)
	trns                    []byte // tRNS chunk data, nil for none
	interlace               byte
	seed                    uint64
}

func (s pngSpec) channels() int { return map[int]int{0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[s.colourType] }

func (s pngSpec) String() string {
	t := ""
	if s.trns != nil {
		t = " tRNS"
	}
	if s.interlace == 1 {
		t += " interlaced"
	}
	return fmt.Sprintf("type %d depth %d %dx%d%s", s.colourType, s.depth, s.w, s.h, t)
}

func chunk(typ string, data []byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
	b = append(b, typ...)
	b = append(b, data...)
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b[4:]))
}

// encode writes the PNG: random samples drawn from a few values (so a
// tRNS key is met), each row with the next of the five filters, in Adam7
// passes when interlaced.
func (s pngSpec) encode(t testing.TB) []byte {
	t.Helper()
	rng := rand.New(rand.NewPCG(s.seed, 7))
	ch := s.channels()
	maxSample := 1<<s.depth - 1
	if s.colourType == 3 {
		maxSample = min(maxSample, s.palette+1) // one index past the palette: opaque black, as image/png reads it
	}
	samples := make([]int, s.w*s.h*ch)
	for i := range samples {
		switch rng.IntN(4) {
		case 0:
			samples[i] = 0
		case 1:
			samples[i] = maxSample
		default:
			samples[i] = rng.IntN(maxSample + 1)
		}
	}
	// Make the tRNS key appear: every third pixel of a row is the key.
	if s.trns != nil && s.colourType != 3 {
		for y := range s.h {
			for x := 0; x < s.w; x += 3 {
				for c := range ch {
					v := int(s.trns[2*c+1])
					if s.depth == 16 {
						v = int(binary.BigEndian.Uint16(s.trns[2*c:]))
					}
					samples[(y*s.w+x)*ch+c] = v & maxSample
				}
			}
		}
	}
	passes := [][4]int{{0, 0, 1, 1}}
	if s.interlace == 1 {
		passes = adam7[:]
	}
	bitsPP := ch * s.depth
	bpp := max(1, bitsPP/8)
	var raw bytes.Buffer
	n := 0
	for _, p := range passes {
		pw, ph := (s.w-p[0]+p[2]-1)/p[2], (s.h-p[1]+p[3]-1)/p[3]
		if pw <= 0 || ph <= 0 {
			continue
		}
		rowBytes := (pw*bitsPP + 7) / 8
		prev := make([]byte, rowBytes)
		for r := range ph {
			y := p[1] + r*p[3]
			row := make([]byte, rowBytes)
			var bits uint64
			nbits, i := 0, 0
			for q := range pw {
				x := p[0] + q*p[2]
				for c := range ch {
					bits = bits<<s.depth | uint64(samples[(y*s.w+x)*ch+c])
					nbits += s.depth
					for nbits >= 8 {
						row[i] = byte(bits >> (nbits - 8))
						nbits -= 8
						i++
					}
				}
			}
			if nbits > 0 {
				row[i] = byte(bits << (8 - nbits))
			}
			f := byte(n % 5)
			n++
			out := make([]byte, rowBytes)
			for j := range row {
				var a, c byte
				if j >= bpp {
					a, c = row[j-bpp], prev[j-bpp]
				}
				b := prev[j]
				switch f {
				case 0:
					out[j] = row[j]
				case 1:
					out[j] = row[j] - a
				case 2:
					out[j] = row[j] - b
				case 3:
					out[j] = row[j] - byte((int(a)+int(b))/2)
				case 4:
					out[j] = row[j] - paeth(a, b, c)
				}
			}
			raw.WriteByte(f)
			raw.Write(out)
			prev = row
		}
	}
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write(raw.Bytes())
	zw.Close()

	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := binary.BigEndian.AppendUint32(nil, uint32(s.w))
	ihdr = binary.BigEndian.AppendUint32(ihdr, uint32(s.h))
	ihdr = append(ihdr, byte(s.depth), byte(s.colourType), 0, 0, s.interlace)
	b.Write(chunk("IHDR", ihdr))
	if s.colourType == 3 {
		pal := make([]byte, 3*s.palette)
		for i := range pal {
			pal[i] = byte(rng.IntN(256))
		}
		b.Write(chunk("PLTE", pal))
	}
	if s.trns != nil {
		b.Write(chunk("tRNS", s.trns))
	}
	b.Write(chunk("tEXt", []byte("Comment\x00an ancillary chunk to skip")))
	// The image data split over several IDAT chunks.
	data := z.Bytes()
	for len(data) > 0 {
		n := min(len(data), 97)
		b.Write(chunk("IDAT", data[:n]))
		data = data[n:]
	}
	b.Write(chunk("IEND", nil))
	return b.Bytes()
}

// toNRGBA8 turns what image/png decodes into straight 8-bit RGBA, 16-bit
// samples by their high byte.
func toNRGBA8(t testing.TB, img image.Image) *image.NRGBA {
	t.Helper()
	b := img.Bounds()
	out := image.NewNRGBA(b)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			var c color.NRGBA
			switch src := img.(type) {
			case *image.Gray:
				v := src.GrayAt(x, y).Y
				c = color.NRGBA{v, v, v, 255}
			case *image.Gray16:
				v := uint8(src.Gray16At(x, y).Y >> 8)
				c = color.NRGBA{v, v, v, 255}
			case *image.RGBA: // opaque in a PNG
				c = color.NRGBA(src.RGBAAt(x, y))
			case *image.RGBA64:
				p := src.RGBA64At(x, y)
				c = color.NRGBA{uint8(p.R >> 8), uint8(p.G >> 8), uint8(p.B >> 8), uint8(p.A >> 8)}
			case *image.NRGBA:
				c = src.NRGBAAt(x, y)
			case *image.NRGBA64:
				p := src.NRGBA64At(x, y)
				c = color.NRGBA{uint8(p.R >> 8), uint8(p.G >> 8), uint8(p.B >> 8), uint8(p.A >> 8)}
			case *image.Paletted:
				switch p := src.Palette[src.ColorIndexAt(x, y)].(type) {
				case color.RGBA:
					c = color.NRGBA(p)
				case color.NRGBA:
					c = p
				default:
					t.Fatalf("palette entry %T", p)
				}
			default:
				t.Fatalf("image/png gave a %T", img)
			}
			out.SetNRGBA(x, y, c)
		}
	}
	return out
}

// reference is image/png's decode, in 8 bits, box-reduced by k the way
// Make reduces a decoded image.
func reference(t testing.TB, data []byte, k int) *image.RGBA {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("image/png: %v", err)
	}
	n := toNRGBA8(t, img)
	if k >= 2 {
		return boxReduce(n, k)
	}
	out := image.NewRGBA(n.Rect)
	for i := 0; i < len(n.Pix); i += 4 {
		a := uint32(n.Pix[i+3])
		for j := range 3 {
			out.Pix[i+j] = uint8(min(a, (uint32(n.Pix[i+j])*a+127)/255))
		}
		out.Pix[i+3] = uint8(a)
	}
	return out
}

func samePixels(t *testing.T, got, want *image.RGBA) {
	t.Helper()
	if got.Rect != want.Rect {
		t.Fatalf("got %v, want %v", got.Rect, want.Rect)
	}
	for y := range want.Rect.Dy() {
		g := got.Pix[y*got.Stride : y*got.Stride+4*want.Rect.Dx()]
		w := want.Pix[y*want.Stride : y*want.Stride+4*want.Rect.Dx()]
		if !bytes.Equal(g, w) {
			for i := range g {
				if g[i] != w[i] {
					t.Fatalf("pixel (%d,%d) channel %d: got %d, want %d", i/4, y, i%4, g[i], w[i])
				}
			}
		}
	}
}

func allSpecs() []pngSpec {
	var specs []pngSpec
	seed := uint64(1)
	add := func(s pngSpec) {
		s.seed = seed
		seed++
		specs = append(specs, s)
	}
	for _, size := range [][3]int{{37, 23, 0}, {1, 1, 0}, {8, 3, 0}, {64, 65, 0}, {37, 23, 1}, {3, 2, 1}, {64, 65, 1}} {
		w, h, il := size[0], size[1], byte(size[2])
		for _, d := range []int{1, 2, 4, 8, 16} {
			add(pngSpec{w: w, h: h, colourType: 0, depth: d, interlace: il})
			key := []byte{0, byte(1<<min(d, 8) - 1)}
			if d == 16 {
				key = []byte{0xff, 0xff}
			}
			add(pngSpec{w: w, h: h, colourType: 0, depth: d, trns: key, interlace: il})
		}
		for _, d := range []int{1, 2, 4, 8} {
			n := min(1<<d, 200)
			add(pngSpec{w: w, h: h, colourType: 3, depth: d, palette: n, interlace: il})
			trns := make([]byte, n/2+1)
			for i := range trns {
				trns[i] = byte(i * 37)
			}
			add(pngSpec{w: w, h: h, colourType: 3, depth: d, palette: n, trns: trns, interlace: il})
		}
		for _, d := range []int{8, 16} {
			add(pngSpec{w: w, h: h, colourType: 2, depth: d, interlace: il})
			add(pngSpec{w: w, h: h, colourType: 2, depth: d, trns: []byte{0, 255, 0, 0, 0, 255}, interlace: il})
			add(pngSpec{w: w, h: h, colourType: 4, depth: d, interlace: il})
			add(pngSpec{w: w, h: h, colourType: 6, depth: d, interlace: il})
		}
	}
	return specs
}

// Every colour type and bit depth, with and without tRNS, every filter,
// plain and interlaced, several factors: the same pixels as image/png and the same box
// reduction.
func TestPNGReducedMatchesImagePNG(t *testing.T) {
	for _, s := range allSpecs() {
		data := s.encode(t)
		for _, k := range []int{1, 2, 3, 5, 16} {
			t.Run(fmt.Sprintf("%v by %d", s, k), func(t *testing.T) {
				got, err := decodePNGReduced(bytes.NewReader(data), k)
				if err != nil {
					t.Fatalf("decodePNGReduced: %v", err)
				}
				samePixels(t, got, reference(t, data, k))
			})
		}
	}
}

// image/png's own encodings, and a real photograph, read the same too.
func TestPNGReducedMatchesEncoderOutput(t *testing.T) {
	r := image.Rect(0, 0, 300, 200)
	imgs := map[string]image.Image{
		"nrgba":   image.NewNRGBA(r),
		"nrgba64": image.NewNRGBA64(r),
		"gray16":  image.NewGray16(r),
		"rgba64":  image.NewRGBA64(r),
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for _, img := range imgs {
		switch p := img.(type) {
		case *image.NRGBA:
			for i := range p.Pix {
				p.Pix[i] = uint8(rng.IntN(256))
			}
		case *image.NRGBA64:
			for i := range p.Pix {
				p.Pix[i] = uint8(rng.IntN(256))
			}
		case *image.Gray16:
			for i := range p.Pix {
				p.Pix[i] = uint8(rng.IntN(256))
			}
		case *image.RGBA64:
			for i := range p.Pix {
				p.Pix[i] = uint8(rng.IntN(256))
				if i%8 >= 6 {
					p.Pix[i] = 0xff
				}
			}
		}
	}
	for name, img := range imgs {
		var b bytes.Buffer
		if err := png.Encode(&b, img); err != nil {
			t.Fatal(err)
		}
		for _, k := range []int{1, 4} {
			t.Run(fmt.Sprintf("%s by %d", name, k), func(t *testing.T) {
				got, err := decodePNGReduced(bytes.NewReader(b.Bytes()), k)
				if err != nil {
					t.Fatal(err)
				}
				samePixels(t, got, reference(t, b.Bytes(), k))
			})
		}
	}
}

// Damaged files fail with an error, never a panic or a partial image.
func TestPNGReducedDamaged(t *testing.T) {
	good := pngSpec{w: 40, h: 30, colourType: 6, depth: 16, seed: 9}.encode(t)
	if _, err := decodePNGReduced(bytes.NewReader(good), 3); err != nil {
		t.Fatalf("the intact file: %v", err)
	}
	// Truncated at every length.
	for n := 0; n < len(good)-12; n += max(1, len(good)/300) {
		if _, err := decodePNGReduced(bytes.NewReader(good[:n]), 3); err == nil {
			t.Fatalf("truncated to %d of %d bytes: no error", n, len(good))
		}
	}
	corrupt := func(name string, edit func([]byte) []byte) {
		t.Run(name, func(t *testing.T) {
			b := edit(bytes.Clone(good))
			if _, err := decodePNGReduced(bytes.NewReader(b), 3); err == nil {
				t.Fatal("no error")
			}
		})
	}
	idat := bytes.Index(good, []byte("IDAT"))
	corrupt("bad signature", func(b []byte) []byte { b[1] = 'X'; return b })
	corrupt("bad IHDR CRC", func(b []byte) []byte { b[29] ^= 1; return b })
	corrupt("bad IDAT CRC", func(b []byte) []byte { b[idat+4] ^= 0x40; return b })
	corrupt("zero width", func(b []byte) []byte {
		copy(b[16:20], []byte{0, 0, 0, 0})
		return fixCRC(b, 8)
	})
	corrupt("bad depth", func(b []byte) []byte { b[24] = 3; return fixCRC(b, 8) })
	corrupt("bad colour type", func(b []byte) []byte { b[25] = 5; return fixCRC(b, 8) })
	corrupt("no IDAT", func(b []byte) []byte { return append(b[:33], chunk("IEND", nil)...) })
	corrupt("palette missing", func(b []byte) []byte { b[25] = 3; b[24] = 8; return fixCRC(b, 8) })
	corrupt("bad filter byte", func(b []byte) []byte {
		// A stored (uncompressed) zlib stream whose first row has filter 9.
		row := make([]byte, 1+40*8)
		row[0] = 9
		var z bytes.Buffer
		zw, _ := zlib.NewWriterLevel(&z, zlib.NoCompression)
		for range 30 {
			zw.Write(row)
		}
		zw.Close()
		return append(append(b[:33:33], chunk("IDAT", z.Bytes())...), chunk("IEND", nil)...)
	})
	corrupt("too much data", func(b []byte) []byte {
		var z bytes.Buffer
		zw := zlib.NewWriter(&z)
		zw.Write(make([]byte, 31*(1+40*8)))
		zw.Close()
		return append(append(b[:33:33], chunk("IDAT", z.Bytes())...), chunk("IEND", nil)...)
	})
	corrupt("too little data", func(b []byte) []byte {
		var z bytes.Buffer
		zw := zlib.NewWriter(&z)
		zw.Write(make([]byte, 29*(1+40*8)))
		zw.Close()
		return append(append(b[:33:33], chunk("IDAT", z.Bytes())...), chunk("IEND", nil)...)
	})
}

// fixCRC recomputes the CRC of the chunk at off.
func fixCRC(b []byte, off int) []byte {
	n := int(binary.BigEndian.Uint32(b[off:]))
	binary.BigEndian.PutUint32(b[off+8+n:], crc32.ChecksumIEEE(b[off+4:off+8+n]))
	return b
}

// FuzzPNGReduced: never a panic; whenever both decoders read a file they
// agree. Seeds: one file of every colour type and depth.
func FuzzPNGReduced(f *testing.F) {
	for i, s := range allSpecs() {
		if s.w == 37 && i%2 == 0 {
			f.Add(s.encode(f), uint8(3))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte, k uint8) {
		if len(data) > 1<<16 {
			return
		}
		cfg, err := png.DecodeConfig(bytes.NewReader(data))
		if err != nil || cfg.Width*cfg.Height > 1<<20 {
			return
		}
		got, err := decodePNGReduced(bytes.NewReader(data), int(k%8)+1)
		if err != nil {
			return
		}
		if _, err := png.Decode(bytes.NewReader(data)); err != nil {
			return // image/png is stricter here and there (ancillary chunks)
		}
		samePixels(t, got, reference(t, data, int(k%8)+1))
	})
}

// A large interlaced PNG is planned pass by pass, reduced, and Make reads
// it so: the same pixels as image/png's whole decode, reduced alike.
func TestMakeReadsInterlacedPassByPass(t *testing.T) {
	data := pngSpec{w: 2600, h: 1800, colourType: 6, depth: 16, interlace: 1, seed: 5}.encode(t)
	info, err := media.Inspect(bytes.NewReader(data), int64(len(data)), media.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{MaxSide: DefaultMaxSide, PreviewSide: DefaultPreviewSide}
	p := planFor(info, int64(len(data)), geometryOf(info, opts))
	if p.decoder != decodePNGRows || p.factor != 2 {
		t.Fatalf("plan %+v, want the row decoder reducing by 2", p)
	}
	got, err := decodePNGReduced(bytes.NewReader(data), p.factor)
	if err != nil {
		t.Fatal(err)
	}
	samePixels(t, got, reference(t, data, p.factor))
	if _, err := Make(context.Background(), bytes.NewReader(data), opts); err != nil {
		t.Fatalf("Make: %v", err)
	}
}
