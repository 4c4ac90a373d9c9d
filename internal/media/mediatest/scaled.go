package mediatest

import (
	"bytes"
	"fmt"
	"image"
	"image/jpeg"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/image/draw"
)

// Scaled returns the path of a JPEG (quality 90) made at test time from
// the real photograph name, scaled to width pixels wide with its aspect
// kept: a small real photo for tests that upload many. The same name and
// width always give the same bytes, so tests of duplicates may call it
// more than once.
func Scaled(t testing.TB, name string, width int) string {
	t.Helper()
	f, err := os.Open(Photo(t, name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	src, _, err := image.Decode(f)
	if err != nil {
		t.Fatalf("mediatest: decoding %s: %v", name, err)
	}
	b := src.Bounds()
	if width <= 0 || width > b.Dx() {
		t.Fatalf("mediatest: cannot scale %s (%d px wide) to %d px", name, b.Dx(), width)
	}
	height := max(1, b.Dy()*width/b.Dx())
	dst := image.NewRGBA(image.Rect(0, 0, width, height))
	draw.CatmullRom.Scale(dst, dst.Bounds(), src, b, draw.Src, nil)
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, dst, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), fmt.Sprintf("%s-%d.jpg", name[:len(name)-len(filepath.Ext(name))], width))
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
