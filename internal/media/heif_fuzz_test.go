package media

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// FuzzHEIF: the HEIF reader and the location stripper never panic; what
// the stripper returns has the same size (no item moves), reads the same,
// and has no location left. It runs in every build (Inspect refuses HEIF
// without libheif, so this calls the reader directly). Seeds: small files
// made by heif-enc, avifenc and exiftool, in testdata/heif.
func FuzzHEIF(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("testdata", "heif", "*"))
	for _, p := range seeds {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		size := int64(len(data))
		img, err := inspectHEIF(bytes.NewReader(data), size)
		if err != nil {
			return
		}
		info := Info{Format: img.format}
		r, n, err := StripLocation(bytes.NewReader(data), size, info)
		if err != nil {
			return
		}
		out, err := io.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		if n != size || int64(len(out)) != size {
			t.Fatalf("got %d bytes (announced %d), want %d", len(out), n, size)
		}
		after, err := inspectHEIF(bytes.NewReader(out), size)
		if err != nil {
			t.Fatalf("inspect after: %v", err)
		}
		if after != img {
			t.Fatalf("got %+v after, want %+v", after, img)
		}
		if has, err := HasLocation(bytes.NewReader(out), size, info); err != nil || has {
			t.Fatalf("HasLocation after: (%v, %v)", has, err)
		}
	})
}
