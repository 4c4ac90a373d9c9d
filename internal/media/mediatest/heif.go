package mediatest

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"image"
	"image/draw"
	"image/jpeg"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Phone formats for tests, made at test time by Debian's tools: heif-enc
// (libheif-examples), avifenc (libavif-bin), exiftool
// (libimage-exiftool-perl) and img2webp (webp). heif-enc 1.15 cannot
// write a grid-tiled image, so GridHEIC composes one from tiles it
// encoded, by writing the grid item's boxes itself.

// RequireEnv names the variable that turns a missing tool from a skip into
// a failure (CI sets it).
const RequireEnv = "MEDIASHARE_REQUIRE_INTEGRATION"

// Tool returns the path of an external program, skipping the test when it
// is missing, or failing it when RequireEnv is 1. pkg names the Debian
// package that has it.
func Tool(t testing.TB, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	msg := fmt.Sprintf("%s is missing: apt-get install -y %s", name, pkg)
	if os.Getenv(RequireEnv) == "1" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// run runs a program, failing the test with its output when it fails.
func run(t testing.TB, name, pkg string, args ...string) {
	t.Helper()
	cmd := exec.Command(Tool(t, name, pkg), args...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
}

// writeJPEG writes img as a JPEG in dir and returns the path.
func writeJPEG(t testing.TB, dir, name string, img image.Image) string {
	t.Helper()
	p := filepath.Join(dir, name)
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// Source returns a path to an image file for the encoders: src itself when
// it is a path, else img written as JPEG.
func sourceFile(t testing.TB, dir string, img image.Image) string {
	t.Helper()
	if rgba, ok := img.(interface{ Opaque() bool }); ok && !rgba.Opaque() {
		p := filepath.Join(dir, "src.png")
		var buf bytes.Buffer
		if err := png.Encode(&buf, img); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	return writeJPEG(t, dir, "src.jpg", img)
}

// HEIC encodes img with heif-enc (quality 80; extra args go before the
// input).
func HEIC(t testing.TB, img image.Image, args ...string) []byte {
	t.Helper()
	dir := t.TempDir()
	out := filepath.Join(dir, "out.heic")
	run(t, "heif-enc", "libheif-examples", append(append([]string{"-q", "80"}, args...), "-o", out, sourceFile(t, dir, img))...)
	return mustRead(t, out)
}

// Convert decodes a HEIF or AVIF file with heif-convert (libheif's own
// tool, which applies irot/imir and assembles grids) into a PNG.
func Convert(t testing.TB, heif []byte) image.Image {
	t.Helper()
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.heic"), filepath.Join(dir, "out.png")
	if err := os.WriteFile(in, heif, 0o644); err != nil {
		t.Fatal(err)
	}
	run(t, "heif-convert", "libheif-examples", in, out)
	img, err := png.Decode(bytes.NewReader(mustRead(t, out)))
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// HEICFile encodes an image file (a JPEG or PNG path) with heif-enc.
func HEICFile(t testing.TB, path string) []byte {
	t.Helper()
	out := filepath.Join(t.TempDir(), "out.heic")
	run(t, "heif-enc", "libheif-examples", "-q", "80", "-o", out, path)
	return mustRead(t, out)
}

// AVIF encodes img with avifenc at the given bit depth (8, 10 or 12);
// extra args go before the input (e.g. "--cicp", "12/13/1").
func AVIF(t testing.TB, img image.Image, depth int, args ...string) []byte {
	t.Helper()
	dir := t.TempDir()
	out := filepath.Join(dir, "out.avif")
	run(t, "avifenc", "libavif-bin", append(append([]string{"-d", fmt.Sprint(depth), "-s", "8", "--min", "0", "--max", "20"}, args...), sourceFile(t, dir, img), out)...)
	return mustRead(t, out)
}

// Exiftool returns data (a file of the given extension, ".heic") rewritten
// by exiftool with args, e.g. "-GPSLatitude=48.8584", "-Orientation=6", "-n".
func Exiftool(t testing.TB, data []byte, ext string, args ...string) []byte {
	t.Helper()
	p := filepath.Join(t.TempDir(), "in"+ext)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	run(t, "exiftool", "libimage-exiftool-perl", append(append([]string{"-q", "-overwrite_original"}, args...), p)...)
	return mustRead(t, p)
}

// ExiftoolTags lists every tag exiftool finds in data (a file of the given
// extension), one "[group] name : value" a line.
func ExiftoolTags(t testing.TB, data []byte, ext string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "in"+ext)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(Tool(t, "exiftool", "libimage-exiftool-perl"), "-a", "-G1", "-s", p).CombinedOutput()
	if err != nil {
		t.Fatalf("exiftool: %v\n%s", err, out)
	}
	return string(out)
}

// GPSArgs are exiftool arguments that add a location, in EXIF and XMP.
var GPSArgs = []string{
	"-GPSLatitude=48.8584", "-GPSLatitudeRef=N", "-GPSLongitude=2.2945", "-GPSLongitudeRef=E",
	"-XMP:City=Paris", "-XMP:GPSLatitude=48.8584N",
}

// AnimatedWebP makes an animated WebP of the frames with img2webp (each
// frame shown 100 ms; lossless unless lossy).
func AnimatedWebP(t testing.TB, frames []image.Image, lossy bool) []byte {
	t.Helper()
	dir := t.TempDir()
	args := []string{"-loop", "0", "-d", "100"}
	if lossy {
		args = append(args, "-lossy")
	}
	for i, f := range frames {
		p := filepath.Join(dir, fmt.Sprintf("f%d.png", i))
		var buf bytes.Buffer
		if err := png.Encode(&buf, f); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		args = append(args, p)
	}
	out := filepath.Join(dir, "anim.webp")
	run(t, "img2webp", "webp", append(args, "-o", out)...)
	return mustRead(t, out)
}

func mustRead(t testing.TB, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// GridHEIC cuts img into rows×cols tiles of equal size (the last row and
// column overhang the image, as phones' tiles do), encodes them into one
// file with heif-enc, and makes a grid item of img's size over them the
// primary image. irot, when 1..3, turns the grid by that many quarter
// turns anticlockwise. Keep tiles at least 64 pixels a side: heif-enc
// stores smaller images as more than one item.
func GridHEIC(t testing.TB, img image.Image, rows, cols, irot int) []byte {
	t.Helper()
	b := img.Bounds()
	tw, th := (b.Dx()+cols-1)/cols, (b.Dy()+rows-1)/rows
	tw, th = tw+tw%2, th+th%2 // even tiles, as encoders like them
	dir := t.TempDir()
	args := []string{"-q", "90", "-o", filepath.Join(dir, "tiles.heic")}
	for r := range rows {
		for c := range cols {
			tile := image.NewRGBA(image.Rect(0, 0, tw, th))
			draw.Draw(tile, tile.Rect, img, b.Min.Add(image.Pt(c*tw, r*th)), draw.Src)
			args = append(args, writeJPEG(t, dir, fmt.Sprintf("t%d_%d.jpg", r, c), tile))
		}
	}
	run(t, "heif-enc", "libheif-examples", args...)
	tiles := mustRead(t, filepath.Join(dir, "tiles.heic"))
	out, err := composeGrid(tiles, rows, cols, b.Dx(), b.Dy(), irot)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// WithTransform adds irot (quarter turns anticlockwise, 0..3; -1 for none)
// and imir (0 swaps top and bottom, 1 left and right; -1 for none) to the primary image of a HEIF file.
func WithTransform(t testing.TB, heif []byte, irot, imir int) []byte {
	t.Helper()
	out, err := editMeta(heif, func(m *metaBoxes) error {
		m.addProps(m.primary, irot, imir)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// WithSize rewrites the size (ispe) of every image item of a HEIF file in
// place, as a crafted header declaring too many pixels would.
func WithSize(t testing.TB, heif []byte, w, h uint32) []byte {
	t.Helper()
	out := bytes.Clone(heif)
	n := 0
	for i := 0; ; {
		j := bytes.Index(out[i:], []byte("ispe"))
		if j < 0 {
			break
		}
		at := i + j + 4 + 4 // after the type and the FullBox header
		if at+8 > len(out) {
			break
		}
		binary.BigEndian.PutUint32(out[at:], w)
		binary.BigEndian.PutUint32(out[at+4:], h)
		n++
		i = at + 8
	}
	if n == 0 {
		t.Fatal("mediatest: no ispe box")
	}
	return out
}

// rawBox is one box: its type and payload (32-bit sizes only, as heif-enc
// writes them).
type rawBox struct {
	typ  string
	body []byte
}

func (b rawBox) bytes() []byte {
	out := binary.BigEndian.AppendUint32(nil, uint32(8+len(b.body)))
	return append(append(out, b.typ...), b.body...)
}

func splitBoxes(b []byte) ([]rawBox, error) {
	var out []rawBox
	for len(b) > 0 {
		if len(b) < 8 {
			return nil, fmt.Errorf("mediatest: %d stray bytes", len(b))
		}
		n := int(binary.BigEndian.Uint32(b))
		if n < 8 || n > len(b) {
			return nil, fmt.Errorf("mediatest: box %q of size %d", b[4:8], n)
		}
		out = append(out, rawBox{string(b[4:8]), b[8:n]})
		b = b[n:]
	}
	return out, nil
}

func joinBoxes(bs []rawBox) []byte {
	var out []byte
	for _, b := range bs {
		out = append(out, b.bytes()...)
	}
	return out
}

// metaBoxes is a meta box taken apart enough to add items and properties.
type metaBoxes struct {
	children []rawBox
	primary  uint16
	nextID   uint16
	props    []rawBox           // ipco
	assoc    map[uint16][]uint8 // ipma (version 0, 7-bit indices)
	order    []uint16           // ipma entry order
	iinf     []rawBox           // infe boxes
	iloc     rawBox
	refs     []rawBox // iref children (version 0)
	extra    []byte   // bytes appended after the file, for new items
	extraAt  int      // where extra's payload starts in the file
}

func (m *metaBoxes) child(typ string) *rawBox {
	for i := range m.children {
		if m.children[i].typ == typ {
			return &m.children[i]
		}
	}
	return nil
}

func (m *metaBoxes) addProps(item uint16, irot, imir int) {
	if irot >= 0 {
		m.props = append(m.props, rawBox{"irot", []byte{byte(irot & 3)}})
		m.assoc[item] = append(m.assoc[item], uint8(len(m.props))|0x80)
	}
	if imir >= 0 {
		m.props = append(m.props, rawBox{"imir", []byte{byte(imir & 1)}})
		m.assoc[item] = append(m.assoc[item], uint8(len(m.props))|0x80)
	}
}

// editMeta takes the meta box of a heif-enc file apart, lets fn change it,
// and writes the file again: the old meta box becomes a free box of the
// same size (so no offset moves), the items' new bytes go in an mdat box
// after the old end, and the new meta box comes last.
func editMeta(file []byte, fn func(*metaBoxes) error) ([]byte, error) {
	top, err := splitBoxes(file)
	if err != nil {
		return nil, err
	}
	mi := -1
	for i, b := range top {
		if b.typ == "meta" {
			mi = i
		}
	}
	if mi < 0 {
		return nil, fmt.Errorf("mediatest: no meta box")
	}
	kids, err := splitBoxes(top[mi].body[4:])
	if err != nil {
		return nil, err
	}
	m := &metaBoxes{children: kids, assoc: map[uint16][]uint8{}, extraAt: len(file) + 8}
	if p := m.child("pitm"); p == nil || p.body[0] != 0 {
		return nil, fmt.Errorf("mediatest: want a version 0 pitm")
	} else {
		m.primary = binary.BigEndian.Uint16(p.body[4:])
	}
	inf := m.child("iinf")
	if inf == nil || inf.body[0] != 0 {
		return nil, fmt.Errorf("mediatest: want a version 0 iinf")
	}
	if m.iinf, err = splitBoxes(inf.body[6:]); err != nil {
		return nil, err
	}
	for _, e := range m.iinf {
		if id := binary.BigEndian.Uint16(e.body[4:]); id >= m.nextID {
			m.nextID = id + 1
		}
	}
	m.iloc = *m.child("iloc")
	if r := m.child("iref"); r != nil {
		if r.body[0] != 0 {
			return nil, fmt.Errorf("mediatest: want a version 0 iref")
		}
		if m.refs, err = splitBoxes(r.body[4:]); err != nil {
			return nil, err
		}
	}
	prp := m.child("iprp")
	if prp == nil {
		return nil, fmt.Errorf("mediatest: no iprp")
	}
	pk, err := splitBoxes(prp.body)
	if err != nil {
		return nil, err
	}
	for _, b := range pk {
		switch b.typ {
		case "ipco":
			if m.props, err = splitBoxes(b.body); err != nil {
				return nil, err
			}
		case "ipma":
			if b.body[0] != 0 || b.body[3]&1 != 0 {
				return nil, fmt.Errorf("mediatest: want a version 0 ipma with 7-bit indices")
			}
			n := int(binary.BigEndian.Uint32(b.body[4:]))
			p := b.body[8:]
			for range n {
				id, k := binary.BigEndian.Uint16(p), int(p[2])
				m.order = append(m.order, id)
				m.assoc[id] = append([]uint8(nil), p[3:3+k]...)
				p = p[3+k:]
			}
		}
	}
	if err := fn(m); err != nil {
		return nil, err
	}

	// Write the meta box again.
	var ipma []byte
	ipma = binary.BigEndian.AppendUint32(ipma, 0)
	ipma = binary.BigEndian.AppendUint32(ipma, uint32(len(m.order)))
	for _, id := range m.order {
		ipma = binary.BigEndian.AppendUint16(ipma, id)
		ipma = append(ipma, byte(len(m.assoc[id])))
		ipma = append(ipma, m.assoc[id]...)
	}
	iprp := rawBox{"iprp", joinBoxes([]rawBox{{"ipco", joinBoxes(m.props)}, {"ipma", ipma}})}
	iinf := rawBox{"iinf", append([]byte{0, 0, 0, 0, byte(len(m.iinf) >> 8), byte(len(m.iinf))}, joinBoxes(m.iinf)...)}
	pitm := rawBox{"pitm", binary.BigEndian.AppendUint16([]byte{0, 0, 0, 0}, m.primary)}
	out := []rawBox{}
	for _, c := range m.children {
		switch c.typ {
		case "pitm":
			out = append(out, pitm)
		case "iinf":
			out = append(out, iinf)
		case "iloc":
			out = append(out, m.iloc)
		case "iprp":
			out = append(out, iprp)
		case "iref":
		default:
			out = append(out, c)
		}
	}
	if len(m.refs) > 0 {
		out = append(out, rawBox{"iref", append([]byte{0, 0, 0, 0}, joinBoxes(m.refs)...)})
	}
	meta := rawBox{"meta", append([]byte{0, 0, 0, 0}, joinBoxes(out)...)}
	res := bytes.Clone(file)
	at := 0
	for i, b := range top { // the old meta box becomes free space
		if i == mi {
			copy(res[at+4:], "free")
		}
		at += 8 + len(b.body)
	}
	if len(m.extra) > 0 {
		res = append(res, rawBox{"mdat", m.extra}.bytes()...)
	}
	return append(res, meta.bytes()...), nil
}

// composeGrid turns a heif-enc file of rows×cols images into a grid image
// of w×h over them (in row-major order), the new primary item.
func composeGrid(tiles []byte, rows, cols, w, h, irot int) ([]byte, error) {
	return editMeta(tiles, func(m *metaBoxes) error {
		if len(m.iinf) != rows*cols {
			return fmt.Errorf("mediatest: %d items for %d tiles", len(m.iinf), rows*cols)
		}
		var ids []uint16
		for i := range m.iinf {
			e := &m.iinf[i]
			if string(e.body[8:12]) != "hvc1" {
				return fmt.Errorf("mediatest: item of type %q", e.body[8:12])
			}
			e.body = bytes.Clone(e.body)
			e.body[3] |= 1 // hidden: only the grid is an image to show
			ids = append(ids, binary.BigEndian.Uint16(e.body[4:]))
		}
		grid := m.nextID
		m.primary = grid
		// infe version 2: id, protection index, type, empty name.
		m.iinf = append(m.iinf, rawBox{"infe", []byte{2, 0, 0, 0, byte(grid >> 8), byte(grid), 0, 0, 'g', 'r', 'i', 'd', 0}})
		// The grid descriptor: version, flags (16-bit sizes), rows-1, columns-1, width, height.
		desc := []byte{0, 0, byte(rows - 1), byte(cols - 1)}
		desc = binary.BigEndian.AppendUint16(desc, uint16(w))
		desc = binary.BigEndian.AppendUint16(desc, uint16(h))
		off := m.extraAt + len(m.extra)
		m.extra = append(m.extra, desc...)
		if err := m.addLocation(grid, off, len(desc)); err != nil {
			return err
		}
		dimg := binary.BigEndian.AppendUint16(nil, grid)
		dimg = binary.BigEndian.AppendUint16(dimg, uint16(len(ids)))
		for _, id := range ids {
			dimg = binary.BigEndian.AppendUint16(dimg, id)
		}
		m.refs = append(m.refs, rawBox{"dimg", dimg})
		ispe := binary.BigEndian.AppendUint32([]byte{0, 0, 0, 0}, uint32(w))
		ispe = binary.BigEndian.AppendUint32(ispe, uint32(h))
		m.props = append(m.props, rawBox{"ispe", ispe})
		m.order = append(m.order, grid)
		m.assoc[grid] = []uint8{uint8(len(m.props))}
		if irot > 0 {
			m.addProps(grid, irot, -1)
		}
		return nil
	})
}

// addLocation appends an iloc entry: one extent at a file offset.
func (m *metaBoxes) addLocation(id uint16, off, n int) error {
	b := bytes.Clone(m.iloc.body)
	v := b[0]
	offSize, lenSize, baseSize, idxSize := int(b[4]>>4), int(b[4]&15), int(b[5]>>4), int(b[5]&15)
	if v > 1 || offSize == 0 || lenSize == 0 {
		return fmt.Errorf("mediatest: iloc version %d, sizes %d/%d", v, offSize, lenSize)
	}
	count := binary.BigEndian.Uint16(b[6:])
	binary.BigEndian.PutUint16(b[6:], count+1)
	put := func(size int, x uint64) {
		switch size {
		case 4:
			b = binary.BigEndian.AppendUint32(b, uint32(x))
		case 8:
			b = binary.BigEndian.AppendUint64(b, x)
		}
	}
	b = binary.BigEndian.AppendUint16(b, id)
	if v == 1 {
		b = binary.BigEndian.AppendUint16(b, 0) // construction method 0
	}
	b = binary.BigEndian.AppendUint16(b, 0) // data reference
	put(baseSize, 0)
	b = binary.BigEndian.AppendUint16(b, 1) // one extent
	if v == 1 {
		put(idxSize, 0)
	}
	put(offSize, uint64(off))
	put(lenSize, uint64(n))
	m.iloc.body = b
	return nil
}
