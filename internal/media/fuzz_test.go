package media_test

import (
	"bytes"
	"io"
	"testing"

	"mediashare/internal/media"
)

// FuzzStripLocation: whatever Inspect accepts, StripLocation returns a file
// of the announced size that Inspect still accepts, the same, with no
// location left. The seed corpus is testdata/fuzz/FuzzStripLocation.
func FuzzStripLocation(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		info, err := media.Inspect(bytes.NewReader(data), int64(len(data)), media.Limits{MaxPixels: 1 << 20})
		if err != nil {
			return
		}
		r, n, err := media.StripLocation(bytes.NewReader(data), int64(len(data)), info)
		if err != nil {
			return // damaged past what Inspect looks at
		}
		out, err := io.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		if int64(len(out)) != n {
			t.Fatalf("got %d bytes, announced %d", len(out), n)
		}
		after, err := media.Inspect(bytes.NewReader(out), n, media.Limits{MaxPixels: 1 << 20})
		if err != nil {
			t.Fatalf("Inspect after: %v", err)
		}
		if after != info {
			t.Fatalf("got %+v after, want %+v", after, info)
		}
		if has, err := media.HasLocation(bytes.NewReader(out), n, after); err != nil || has {
			t.Fatalf("HasLocation after: (%v, %v)", has, err)
		}
	})
}
