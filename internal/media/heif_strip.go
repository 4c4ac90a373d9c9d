package media

import (
	"bytes"
	"errors"
	"io"
	"sort"
)

// emptyXMP is an XMP packet that says nothing; a removed packet's bytes
// become this, padded with spaces to the same length, so that no offset in
// the file moves (HEIF items are found by offset: removing bytes would
// mean rewriting iloc).
var emptyXMP = [2]string{
	"<?xpacket begin=\"\xef\xbb\xbf\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?><x:xmpmeta xmlns:x=\"adobe:ns:meta/\"/>",
	"<?xpacket end=\"w\"?>",
}

// blankXMP returns an XMP packet of n bytes holding nothing.
func blankXMP(n int) []byte {
	out := make([]byte, n)
	for i := range out {
		out[i] = ' '
	}
	if n >= len(emptyXMP[0])+len(emptyXMP[1]) {
		copy(out, emptyXMP[0])
		copy(out[n-len(emptyXMP[1]):], emptyXMP[1])
	}
	return out
}

// heifLocationEdits removes the GPS IFD from the Exif items (in place: the
// rest of EXIF, the orientation included, keeps its bytes and offsets) and
// blanks the XMP items, each to the same length. Nothing else moves.
func heifLocationEdits(r io.ReaderAt, size int64) ([]edit, error) {
	f, err := parseHEIF(r, size)
	if err != nil {
		return nil, err
	}
	exif, xmp := f.metadataItems()
	var edits []edit
	spread := func(it *heifItem, b []byte) { // the new bytes, over the item's extents
		at := int64(0)
		for _, e := range f.fileExtents(it) {
			if e.n > 0 {
				edits = append(edits, edit{e.off, e.off + e.n, b[at : at+e.n]})
			}
			at += e.n
		}
	}
	for _, it := range exif {
		b, err := f.data(r, it, maxMetadata)
		if err != nil {
			return nil, err
		}
		if tiff, ok := heifTIFF(b); ok && stripGPS(tiff) {
			spread(it, b)
		}
	}
	for _, it := range xmp {
		b, err := f.data(r, it, maxMetadata)
		if err != nil {
			return nil, err
		}
		if blank := blankXMP(len(b)); len(b) > 0 && !bytes.Equal(b, blank) {
			spread(it, blank)
		}
	}
	sort.Slice(edits, func(i, j int) bool { return edits[i].start < edits[j].start })
	for i := 1; i < len(edits); i++ {
		if edits[i].start < edits[i-1].end {
			return nil, damaged(errors.New("heif: metadata items overlap"))
		}
	}
	return edits, nil
}
