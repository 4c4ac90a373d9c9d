package media

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"mediashare/internal/apperr"
)

// HEIF (ISO/IEC 23008-12) and AVIF files are ISO base media files: a list
// of boxes, an ftyp naming the brands, a meta box describing items (the
// primary image, its grid tiles, Exif and XMP blocks) and their properties
// (ispe for the size, irot/imir for the orientation, colr, pixi), and the
// items' bytes in mdat or idat. This file reads that structure from the
// header only: no pixel is decoded.

// Format names of the ISO-BMFF image formats.
const (
	HEIC = "heic" // HEVC-coded HEIF, what phones write
	AVIF = "avif" // AV1-coded HEIF
)

// HEIF brands (ftyp) that announce a still image of either codec.
var (
	heicBrands = []string{"heic", "heix", "heim", "heis", "hevc", "hevx", "mif1", "mif2", "msf1", "MiHE", "MiHB"}
	avifBrands = []string{"avif", "avis"}
)

// Limits of the box walk, against hostile files.
const (
	maxBoxes     = 4096    // boxes in one container
	maxItems     = 4096    // items, references, properties
	maxMeta      = 4 << 20 // the meta box is read into memory whole
	maxGridTiles = 1024    // tiles of one grid (rows×columns)
)

// detectHEIF names the format an ftyp box at the start of head announces:
// AVIF when an AVIF brand is listed, HEIC for the HEIF brands, "" when head
// is no ftyp box or names none of them.
func detectHEIF(head []byte) string {
	if len(head) < 12 || string(head[4:8]) != "ftyp" {
		return ""
	}
	n := int(binary.BigEndian.Uint32(head[:4]))
	if n < 16 {
		n = 12 // a short box: the major brand only
	}
	end := min(n, len(head))
	brands := [][]byte{head[8:12]}
	for i := 16; i+4 <= end; i += 4 {
		brands = append(brands, head[i:i+4])
	}
	has := func(list []string) bool {
		for _, b := range brands {
			for _, want := range list {
				if string(b) == want {
					return true
				}
			}
		}
		return false
	}
	switch {
	case has(avifBrands):
		return AVIF
	case has(heicBrands):
		return HEIC
	}
	return ""
}

// heifItem is one entry of the item information box, with its location.
type heifItem struct {
	id          uint32
	typ         string // "hvc1", "av01", "grid", "Exif", "mime", …
	contentType string // of a mime item
	hidden      bool
	method      int // iloc construction method: 0 file offset, 1 idat
	extents     []heifExtent
	props       []int // indices into the property list, in ipma order
}

type heifExtent struct{ off, n int64 }

// heifProp is one property box of ipco.
type heifProp struct {
	typ  string
	data []byte // the box's payload (after the box header)
}

// heifFile is what the meta box says.
type heifFile struct {
	size    int64
	primary uint32
	items   map[uint32]*heifItem
	order   []uint32 // item ids in iinf order
	props   []heifProp
	refs    map[string]map[uint32][]uint32 // type → from → to
	idat    heifExtent                     // the idat payload in the file
	hasIdat bool
	locs    map[uint32]*heifItem // iloc entries, joined to items after the walk
	assoc   map[uint32][]int     // ipma: item → property indices
}

// heifImage is what Inspect needs of the primary image.
type heifImage struct {
	format        string      // HEIC or AVIF, by the codec of the coded items
	width, height int         // as stored, before irot/imir
	orientation   int         // irot/imir as an EXIF orientation, else Exif's
	layout        PixelLayout // bit depth, channels, alpha, chroma subsampling
	tiles         int         // coded images the decoder makes: 1, or a grid's tiles
	tileW, tileH  int
}

func heifDamaged(format string, args ...any) error {
	return damaged(fmt.Errorf("heif: "+format, args...))
}

// box is a box header found in a byte range.
type box struct {
	typ        string
	start, end int64 // the whole box
	body       int64 // where its payload starts
}

// readBoxes lists the boxes in [from, to) of r. A box running past to is
// damage (a truncated file); size 0 runs to the end.
func readBoxes(r io.ReaderAt, from, to int64) ([]box, error) {
	var out []box
	off := from
	var h [16]byte
	for off < to {
		if len(out) >= maxBoxes {
			return nil, heifDamaged("more than %d boxes", maxBoxes)
		}
		if to-off < 8 {
			return nil, heifDamaged("%d stray bytes at offset %d", to-off, off)
		}
		if err := readAt(r, h[:8], off); err != nil {
			return nil, damaged(err)
		}
		n := int64(binary.BigEndian.Uint32(h[:4]))
		b := box{typ: string(h[4:8]), start: off, body: off + 8}
		switch n {
		case 0:
			n = to - off
		case 1:
			if to-off < 16 {
				return nil, heifDamaged("box %q cut inside its header", b.typ)
			}
			if err := readAt(r, h[8:16], off+8); err != nil {
				return nil, damaged(err)
			}
			u := binary.BigEndian.Uint64(h[8:16])
			if u > uint64(to-off) {
				return nil, heifDamaged("box %q runs past the end of the file", b.typ)
			}
			n, b.body = int64(u), off+16
		}
		if n < b.body-off || n > to-off {
			return nil, heifDamaged("box %q (%d bytes at offset %d) runs past the end of the file", b.typ, n, off)
		}
		b.end = off + n
		out = append(out, b)
		off = b.end
	}
	return out, nil
}

// bmff reads big-endian fields from a byte slice, remembering the first
// overrun instead of panicking.
type bmff struct {
	b   []byte
	off int
	bad bool
}

func (p *bmff) take(n int) []byte {
	if p.bad || n < 0 || n > len(p.b)-p.off {
		p.bad = true
		return make([]byte, max(n, 0))
	}
	s := p.b[p.off : p.off+n]
	p.off += n
	return s
}
func (p *bmff) u8() uint8   { return p.take(1)[0] }
func (p *bmff) u16() uint16 { return binary.BigEndian.Uint16(p.take(2)) }
func (p *bmff) u32() uint32 { return binary.BigEndian.Uint32(p.take(4)) }
func (p *bmff) u64() uint64 { return binary.BigEndian.Uint64(p.take(8)) }

// uN reads an unsigned field of 0, 4 or 8 bytes (iloc's sizes).
func (p *bmff) uN(n int) uint64 {
	switch n {
	case 0:
		return 0
	case 4:
		return uint64(p.u32())
	case 8:
		return p.u64()
	}
	p.bad = true
	return 0
}

// cstring reads a NUL-terminated string.
func (p *bmff) cstring() string {
	if p.bad {
		return ""
	}
	i := bytes.IndexByte(p.b[p.off:], 0)
	if i < 0 {
		s := string(p.b[p.off:])
		p.off = len(p.b)
		return s
	}
	s := string(p.b[p.off : p.off+i])
	p.off += i + 1
	return s
}

// fullBox reads a FullBox's version and flags.
func (p *bmff) fullBox() (int, uint32) {
	v := p.u32()
	return int(v >> 24), v & 0xFFFFFF
}

// children lists the boxes inside a payload held in memory.
func children(b []byte) ([]box, error) {
	return readBoxes(bytes.NewReader(b), 0, int64(len(b)))
}

// parseHEIF walks the top-level boxes and reads the meta box.
func parseHEIF(r io.ReaderAt, size int64) (*heifFile, error) {
	top, err := readBoxes(r, 0, size)
	if err != nil {
		return nil, err
	}
	if len(top) == 0 || top[0].typ != "ftyp" {
		return nil, heifDamaged("no ftyp box first")
	}
	var meta *box
	for i := range top {
		if top[i].typ == "meta" {
			if meta != nil {
				return nil, heifDamaged("two meta boxes")
			}
			meta = &top[i]
		}
	}
	if meta == nil {
		return nil, fileError(apperr.Unsupported, errors.New("heif: no meta box"),
			"This HEIF file holds no still image (image sequences are not accepted).")
	}
	if meta.end-meta.body > maxMeta {
		return nil, fileError(apperr.Unsupported, nil, "This image's header is larger than %d MiB.", maxMeta>>20)
	}
	mb := make([]byte, meta.end-meta.body)
	if err := readAt(r, mb, meta.body); err != nil {
		return nil, damaged(err)
	}
	if len(mb) < 4 {
		return nil, heifDamaged("short meta box")
	}
	f := &heifFile{size: size, items: map[uint32]*heifItem{}, refs: map[string]map[uint32][]uint32{}}
	boxes, err := children(mb[4:]) // after the FullBox header
	if err != nil {
		return nil, err
	}
	payload := func(b box) []byte { return mb[4+b.body : 4+b.end] }
	var handler string
	seen := map[string]bool{}
	for _, b := range boxes {
		if seen[b.typ] && b.typ != "iref" {
			return nil, heifDamaged("two %q boxes in meta", b.typ)
		}
		seen[b.typ] = true
		p := &bmff{b: payload(b)}
		switch b.typ {
		case "hdlr":
			p.fullBox()
			p.u32() // pre_defined
			handler = string(p.take(4))
		case "pitm":
			if v, _ := p.fullBox(); v == 0 {
				f.primary = uint32(p.u16())
			} else {
				f.primary = p.u32()
			}
		case "iinf":
			err = f.readIinf(p)
		case "iloc":
			err = f.readIloc(p)
		case "iref":
			err = f.readIref(p)
		case "iprp":
			err = f.readIprp(payload(b))
		case "idat":
			f.idat = heifExtent{meta.body + 4 + b.body, b.end - b.body}
			f.hasIdat = true
		}
		if err != nil {
			return nil, err
		}
		if p.bad {
			return nil, heifDamaged("box %q is cut short", b.typ)
		}
	}
	if handler != "pict" {
		return nil, fileError(apperr.Unsupported, fmt.Errorf("heif: handler %q", handler),
			"This HEIF file holds no still image (image sequences are not accepted).")
	}
	// Every item's bytes must be in the file: a cut file fails here.
	for _, id := range f.order {
		it := f.items[id]
		if loc := f.locs[id]; loc != nil {
			it.method, it.extents = loc.method, loc.extents
		}
		it.props = f.assoc[id]
		for _, e := range it.extents {
			lo, hi := int64(0), size
			if it.method == 1 {
				if !f.hasIdat {
					return nil, heifDamaged("item %d is in an idat box there is none of", id)
				}
				lo, hi = f.idat.off, f.idat.off+f.idat.n
			}
			if e.off < 0 || e.n < 0 || e.off > hi-lo || e.n > hi-lo-e.off {
				return nil, heifDamaged("item %d's data (%d bytes at %d) lies past the end of the file", id, e.n, e.off)
			}
		}
	}
	return f, nil
}

func (f *heifFile) readIinf(p *bmff) error {
	v, _ := p.fullBox()
	var n uint32
	if v == 0 {
		n = uint32(p.u16())
	} else {
		n = p.u32()
	}
	if n > maxItems {
		return heifDamaged("%d items", n)
	}
	boxes, err := children(p.b[p.off:])
	if err != nil {
		return err
	}
	for _, b := range boxes {
		if b.typ != "infe" {
			continue
		}
		q := &bmff{b: p.b[p.off+int(b.body) : p.off+int(b.end)]}
		ver, flags := q.fullBox()
		it := &heifItem{}
		switch {
		case ver < 2:
			it.id = uint32(q.u16()) // old entries carry no type
		case ver == 2:
			it.id = uint32(q.u16())
		default:
			it.id = q.u32()
		}
		q.u16() // protection index
		if ver >= 2 {
			it.typ = string(q.take(4))
			q.cstring() // name
			if it.typ == "mime" {
				it.contentType = q.cstring()
			}
		}
		it.hidden = flags&1 != 0
		if q.bad {
			return heifDamaged("item information is cut short")
		}
		if _, dup := f.items[it.id]; dup {
			return heifDamaged("item %d is listed twice", it.id)
		}
		f.items[it.id] = it
		f.order = append(f.order, it.id)
	}
	return nil
}

// readIloc keeps the locations aside: iloc may come before iinf.
func (f *heifFile) readIloc(p *bmff) error {
	v, _ := p.fullBox()
	if v > 2 {
		return fileError(apperr.Unsupported, fmt.Errorf("heif: iloc version %d", v), "This HEIF file uses a layout we cannot read.")
	}
	a, b := p.u8(), p.u8()
	offSize, lenSize, baseSize, idxSize := int(a>>4), int(a&15), int(b>>4), int(b&15)
	if v == 0 {
		idxSize = 0
	}
	var n uint32
	if v < 2 {
		n = uint32(p.u16())
	} else {
		n = p.u32()
	}
	if n > maxItems {
		return heifDamaged("%d item locations", n)
	}
	locs := map[uint32]*heifItem{}
	for range n {
		it := &heifItem{}
		if v < 2 {
			it.id = uint32(p.u16())
		} else {
			it.id = p.u32()
		}
		if v >= 1 {
			it.method = int(p.u16() & 15)
		}
		p.u16() // data reference index
		base := p.uN(baseSize)
		ne := int(p.u16())
		for range ne {
			p.uN(idxSize)
			off, n := p.uN(offSize), p.uN(lenSize)
			if p.bad {
				break
			}
			if base > 1<<62 || off > 1<<62 || n > 1<<62 {
				return heifDamaged("item %d's location is out of range", it.id)
			}
			it.extents = append(it.extents, heifExtent{int64(base + off), int64(n)})
		}
		if p.bad {
			return heifDamaged("item locations are cut short")
		}
		if it.method > 1 {
			return fileError(apperr.Unsupported, fmt.Errorf("heif: construction method %d", it.method), "This HEIF file uses a layout we cannot read.")
		}
		locs[it.id] = it
	}
	f.locs = locs
	return nil
}

func (f *heifFile) readIref(p *bmff) error {
	v, _ := p.fullBox()
	boxes, err := children(p.b[p.off:])
	if err != nil {
		return err
	}
	count := 0
	for _, b := range boxes {
		q := &bmff{b: p.b[p.off+int(b.body) : p.off+int(b.end)]}
		id := func() uint32 {
			if v == 0 {
				return uint32(q.u16())
			}
			return q.u32()
		}
		from := id()
		n := int(q.u16())
		if count += n; count > maxItems {
			return heifDamaged("more than %d references", maxItems)
		}
		if f.refs[b.typ] == nil {
			f.refs[b.typ] = map[uint32][]uint32{}
		}
		for range n {
			f.refs[b.typ][from] = append(f.refs[b.typ][from], id())
		}
		if q.bad {
			return heifDamaged("reference box %q is cut short", b.typ)
		}
	}
	return nil
}

func (f *heifFile) readIprp(b []byte) error {
	boxes, err := children(b)
	if err != nil {
		return err
	}
	f.assoc = map[uint32][]int{}
	for _, bx := range boxes {
		body := b[bx.body:bx.end]
		switch bx.typ {
		case "ipco":
			props, err := children(body)
			if err != nil {
				return err
			}
			if len(props) > maxItems {
				return heifDamaged("%d properties", len(props))
			}
			for _, pb := range props {
				f.props = append(f.props, heifProp{typ: pb.typ, data: body[pb.body:pb.end]})
			}
		case "ipma":
			p := &bmff{b: body}
			v, flags := p.fullBox()
			n := p.u32()
			if n > maxItems {
				return heifDamaged("%d property associations", n)
			}
			for range n {
				var id uint32
				if v < 1 {
					id = uint32(p.u16())
				} else {
					id = p.u32()
				}
				k := int(p.u8())
				for range k {
					var idx int
					if flags&1 != 0 {
						idx = int(p.u16() & 0x7FFF)
					} else {
						idx = int(p.u8() & 0x7F)
					}
					if idx > 0 {
						f.assoc[id] = append(f.assoc[id], idx-1)
					}
				}
				if p.bad {
					return heifDamaged("property associations are cut short")
				}
			}
		}
	}
	return nil
}

// prop returns the first property of the given type associated with it.
func (f *heifFile) prop(it *heifItem, typ string) *heifProp {
	for _, i := range it.props {
		if i >= 0 && i < len(f.props) && f.props[i].typ == typ {
			return &f.props[i]
		}
	}
	return nil
}

// data reads an item's bytes (at most limit of them).
func (f *heifFile) data(r io.ReaderAt, it *heifItem, limit int64) ([]byte, error) {
	var total int64
	for _, e := range it.extents {
		total += e.n
	}
	if total > limit {
		return nil, heifDamaged("item %d is %d bytes, more than %d", it.id, total, limit)
	}
	out := make([]byte, 0, total)
	for _, e := range f.fileExtents(it) {
		buf := make([]byte, e.n)
		if err := readAt(r, buf, e.off); err != nil {
			return nil, damaged(err)
		}
		out = append(out, buf...)
	}
	return out, nil
}

// fileExtents returns where an item's bytes lie in the file.
func (f *heifFile) fileExtents(it *heifItem) []heifExtent {
	if it.method == 0 {
		return it.extents
	}
	out := make([]heifExtent, len(it.extents))
	for i, e := range it.extents {
		out[i] = heifExtent{f.idat.off + e.off, e.n}
	}
	return out
}

// ispe reads an image item's size property.
func (f *heifFile) ispe(it *heifItem) (int, int, bool) {
	p := f.prop(it, "ispe")
	if p == nil {
		return 0, 0, false
	}
	q := &bmff{b: p.data}
	q.fullBox()
	w, h := q.u32(), q.u32()
	if q.bad || w > 1<<30 || h > 1<<30 {
		return 0, 0, false
	}
	return int(w), int(h), true
}

// codedFormat names the format of a coded image item, or "".
func codedFormat(typ string) string {
	switch typ {
	case "hvc1":
		return HEIC
	case "av01":
		return AVIF
	}
	return ""
}

// primaryImage describes the primary item: format, size as stored (from
// ispe, and for a grid from its descriptor, which must agree with its
// tiles), bit depth and orientation.
func (f *heifFile) primaryImage(r io.ReaderAt) (heifImage, error) {
	it := f.items[f.primary]
	if it == nil {
		return heifImage{}, heifDamaged("no primary item")
	}
	var img heifImage
	coded := []*heifItem{it}
	switch it.typ {
	case "hvc1", "av01":
		w, h, ok := f.ispe(it)
		if !ok {
			return img, heifDamaged("the primary image has no size (ispe)")
		}
		img.width, img.height, img.tiles, img.tileW, img.tileH = w, h, 1, w, h
	case "grid":
		g, err := f.data(r, it, 64)
		if err != nil {
			return img, err
		}
		p := &bmff{b: g}
		p.u8() // version
		flags := p.u8()
		rows, cols := int(p.u8())+1, int(p.u8())+1
		var w, h uint32
		if flags&1 != 0 {
			w, h = p.u32(), p.u32()
		} else {
			w, h = uint32(p.u16()), uint32(p.u16())
		}
		if p.bad || w == 0 || h == 0 || w > 1<<30 || h > 1<<30 {
			return img, heifDamaged("bad grid descriptor")
		}
		tiles := f.refs["dimg"][it.id]
		if rows*cols > maxGridTiles || len(tiles) != rows*cols {
			return img, heifDamaged("a %d×%d grid with %d tiles", cols, rows, len(tiles))
		}
		coded = coded[:0]
		for _, id := range tiles {
			t := f.items[id]
			if t == nil {
				return img, heifDamaged("grid tile %d is missing", id)
			}
			tw, th, ok := f.ispe(t)
			if !ok {
				return img, heifDamaged("grid tile %d has no size", id)
			}
			if img.tileW == 0 {
				img.tileW, img.tileH = tw, th
			} else if tw != img.tileW || th != img.tileH {
				return img, heifDamaged("grid tiles of different sizes")
			}
			coded = append(coded, t)
		}
		if int64(img.tileW)*int64(cols) < int64(w) || int64(img.tileH)*int64(rows) < int64(h) ||
			int64(img.tileW)*int64(cols-1) >= int64(w) || int64(img.tileH)*int64(rows-1) >= int64(h) {
			return img, heifDamaged("grid tiles (%d×%d of %d×%d) do not fit %d×%d", cols, rows, img.tileW, img.tileH, w, h)
		}
		if iw, ih, ok := f.ispe(it); ok && (iw != int(w) || ih != int(h)) {
			return img, heifDamaged("grid is %d×%d but its ispe says %d×%d", w, h, iw, ih)
		}
		img.width, img.height, img.tiles = int(w), int(h), len(tiles)
	default:
		return img, fileError(apperr.Unsupported, fmt.Errorf("heif: primary item of type %q", it.typ),
			"This HEIF file stores its image in a way we cannot read (%q).", printable(it.typ))
	}
	for _, c := range coded {
		ft := codedFormat(c.typ)
		if ft == "" {
			return img, fileError(apperr.Unsupported, fmt.Errorf("heif: coded item of type %q", c.typ),
				"This HEIF file stores its image in a way we cannot read (%q).", printable(c.typ))
		}
		if img.format != "" && img.format != ft {
			return img, heifDamaged("grid tiles of different codecs")
		}
		img.format = ft
		if len(c.extents) == 0 {
			return img, heifDamaged("image item %d has no data", c.id)
		}
	}
	img.layout = PixelLayout{
		BitDepth: f.bitDepth(it, coded[0]), Channels: 3,
		Subsampling: f.subsampling(coded[0]), Alpha: f.hasAlpha(it),
	}
	if img.layout.Subsampling == "" {
		img.layout.Channels = 1 // monochrome
	}
	if img.layout.Alpha {
		img.layout.Channels++
	}
	img.orientation = f.orientation(r, it)
	return img, nil
}

// subsampling reads the chroma subsampling of a coded item from hvcC or
// av1C: "4:2:0", "4:2:2", "4:4:4", or "" for monochrome. Unknown: 4:2:0,
// what encoders write.
func (f *heifFile) subsampling(coded *heifItem) string {
	if p := f.prop(coded, "hvcC"); p != nil && len(p.data) > 16 {
		return [4]string{"", "4:2:0", "4:2:2", "4:4:4"}[p.data[16]&3]
	}
	if p := f.prop(coded, "av1C"); p != nil && len(p.data) > 2 {
		b := p.data[2]
		switch {
		case b&0x10 != 0:
			return ""
		case b&0x08 != 0 && b&0x04 != 0:
			return "4:2:0"
		case b&0x08 != 0:
			return "4:2:2"
		default:
			return "4:4:4"
		}
	}
	return "4:2:0"
}

// hasAlpha reports whether an auxiliary alpha image belongs to the item.
func (f *heifFile) hasAlpha(it *heifItem) bool {
	for from, to := range f.refs["auxl"] {
		for _, id := range to {
			aux := f.items[from]
			if id != it.id || aux == nil {
				continue
			}
			if p := f.prop(aux, "auxC"); p != nil && (bytes.Contains(p.data, []byte("alpha")) || bytes.Contains(p.data, []byte("auxid:1"))) {
				return true
			}
		}
	}
	return false
}

// printable keeps a four-character code fit for a message.
func printable(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c < 0x20 || c > 0x7E {
			b[i] = '?'
		}
	}
	return string(b)
}

// bitDepth reads the bits per channel from pixi, else from the codec
// configuration (hvcC, av1C); 8 when neither says.
func (f *heifFile) bitDepth(it, coded *heifItem) int {
	for _, c := range []*heifItem{it, coded} {
		if p := f.prop(c, "pixi"); p != nil {
			q := &bmff{b: p.data}
			q.fullBox()
			n, d := int(q.u8()), 0
			for range n {
				d = max(d, int(q.u8()))
			}
			if !q.bad && d > 0 && d <= 16 {
				return d
			}
		}
	}
	if p := f.prop(coded, "hvcC"); p != nil && len(p.data) > 17 {
		return int(p.data[17]&7) + 8 // bitDepthLumaMinus8
	}
	if p := f.prop(coded, "av1C"); p != nil && len(p.data) > 2 {
		switch {
		case p.data[2]&0x40 == 0: // high_bitdepth
			return 8
		case p.data[2]&0x20 != 0: // twelve_bit
			return 12
		default:
			return 10
		}
	}
	return 8
}

// orientation composes the item's irot and imir, in the order of its
// properties, into an EXIF orientation. HEIF readers apply these and ignore
// EXIF; only when the item has neither does the Exif block's orientation
// (what a tool may have written) stand.
func (f *heifFile) orientation(r io.ReaderAt, it *heifItem) int {
	m := [4]int{1, 0, 0, 1} // stored → displayed, y pointing down
	transformed := false
	for _, i := range it.props {
		if i < 0 || i >= len(f.props) {
			continue
		}
		p := f.props[i]
		if len(p.data) < 1 {
			continue
		}
		var t [4]int
		switch p.typ {
		case "irot": // anticlockwise quarter turns
			switch p.data[0] & 3 {
			case 0:
				t = [4]int{1, 0, 0, 1}
			case 1:
				t = [4]int{0, 1, -1, 0}
			case 2:
				t = [4]int{-1, 0, 0, -1}
			case 3:
				t = [4]int{0, -1, 1, 0}
			}
		case "imir": // 0: top and bottom swap; 1: left and right (HEIF 2nd edition, as libheif reads it)
			if p.data[0]&1 == 0 {
				t = [4]int{1, 0, 0, -1}
			} else {
				t = [4]int{-1, 0, 0, 1}
			}
		default:
			continue
		}
		transformed = true
		m = [4]int{
			t[0]*m[0] + t[1]*m[2], t[0]*m[1] + t[1]*m[3],
			t[2]*m[0] + t[3]*m[2], t[2]*m[1] + t[3]*m[3],
		}
	}
	if transformed {
		for o, want := range exifMatrices {
			if want == m {
				return o + 1
			}
		}
		return 1
	}
	return f.exifOrientation(r)
}

// exifMatrices are the EXIF orientations 1..8 as matrices taking stored
// coordinates to displayed ones (y pointing down).
var exifMatrices = [8][4]int{
	{1, 0, 0, 1},   // 1
	{-1, 0, 0, 1},  // 2 mirrored left-right
	{-1, 0, 0, -1}, // 3 turned 180°
	{1, 0, 0, -1},  // 4 mirrored top-bottom
	{0, 1, 1, 0},   // 5 transposed
	{0, -1, 1, 0},  // 6 turned 90° clockwise
	{0, -1, -1, 0}, // 7 transversed
	{0, 1, -1, 0},  // 8 turned 90° anticlockwise
}

// exifItems lists the items of a type ("Exif", or XMP's "mime") in the file.
func (f *heifFile) metadataItems() (exif, xmp []*heifItem) {
	for _, id := range f.order {
		it := f.items[id]
		switch {
		case it.typ == "Exif":
			exif = append(exif, it)
		case it.typ == "mime" && (it.contentType == "application/rdf+xml" || bytes.HasPrefix([]byte(it.contentType), []byte("application/rdf+xml;"))):
			xmp = append(xmp, it)
		}
	}
	return exif, xmp
}

// exifOrientation reads the orientation of the first Exif item.
func (f *heifFile) exifOrientation(r io.ReaderAt) int {
	exif, _ := f.metadataItems()
	if len(exif) == 0 {
		return 1
	}
	b, err := f.data(r, exif[0], maxExif)
	if err != nil {
		return 1
	}
	if tiff, ok := heifTIFF(b); ok {
		return exifOrientation(tiff)
	}
	return 1
}

// heifTIFF returns the TIFF structure inside an Exif item's data: a
// 32-bit offset to it, then (usually) "Exif\0\0".
func heifTIFF(b []byte) ([]byte, bool) {
	if len(b) < 4 {
		return nil, false
	}
	off := int64(binary.BigEndian.Uint32(b)) + 4
	if off > int64(len(b)) {
		return nil, false
	}
	return b[off:], true
}

// inspectHEIF reads what Inspect needs from a HEIF or AVIF file.
func inspectHEIF(r io.ReaderAt, size int64) (heifImage, error) {
	f, err := parseHEIF(r, size)
	if err != nil {
		return heifImage{}, err
	}
	return f.primaryImage(r)
}

// HEIFColour is the colour description of a HEIF or AVIF primary image:
// an ICC profile, or nclx code points (ITU-T H.273), or neither.
type HEIFColour struct {
	ICC                         []byte
	NCLX                        bool
	Primaries, Transfer, Matrix uint16
	FullRange                   bool
}

// ReadHEIFColour returns the colr property of the primary image (for a
// grid, of the grid or else of its first tile).
func ReadHEIFColour(r io.ReaderAt, size int64) (HEIFColour, error) {
	f, err := parseHEIF(r, size)
	if err != nil {
		return HEIFColour{}, err
	}
	it := f.items[f.primary]
	if it == nil {
		return HEIFColour{}, heifDamaged("no primary item")
	}
	cands := []*heifItem{it}
	if tiles := f.refs["dimg"][it.id]; len(tiles) > 0 && f.items[tiles[0]] != nil {
		cands = append(cands, f.items[tiles[0]])
	}
	var c HEIFColour
	for _, cand := range cands {
		for _, i := range cand.props {
			if i < 0 || i >= len(f.props) || f.props[i].typ != "colr" || len(f.props[i].data) < 4 {
				continue
			}
			d := f.props[i].data
			switch string(d[:4]) {
			case "nclx":
				if len(d) >= 11 && !c.NCLX {
					c.NCLX = true
					c.Primaries = binary.BigEndian.Uint16(d[4:])
					c.Transfer = binary.BigEndian.Uint16(d[6:])
					c.Matrix = binary.BigEndian.Uint16(d[8:])
					c.FullRange = d[10]&0x80 != 0
				}
			case "prof", "rICC":
				if c.ICC == nil {
					c.ICC = d[4:]
				}
			}
		}
		if c.NCLX || c.ICC != nil {
			return c, nil
		}
	}
	return c, nil
}
