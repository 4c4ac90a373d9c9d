package limits

import (
	"bytes"
	"os"
	"testing"
)

// A large spool file has its writeback started every writebackChunk
// bytes as it is written, and its bytes are still all there; a small one
// is left to its fsync.
func TestSpoolStartsWritebackOfLargeFiles(t *testing.T) {
	s, err := NewSpool(t.TempDir(), 0)
	if err != nil {
		t.Fatal(err)
	}
	small, err := s.Create()
	if err != nil {
		t.Fatal(err)
	}
	defer small.Remove()
	small.Write(make([]byte, 100<<10))
	if small.started != 0 {
		t.Errorf("a 100 KiB file had writeback started at %d bytes, want none", small.started)
	}

	f, err := s.Create()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Remove()
	piece := bytes.Repeat([]byte("0123456789abcdef"), 64<<10/16) // 64 KiB
	const pieces = 161                                           // 10 MiB and a bit
	for range pieces {
		if _, err := f.Write(piece); err != nil {
			t.Fatal(err)
		}
	}
	if want := int64(2 * writebackChunk); f.started != want {
		t.Errorf("writeback started for %d bytes of %d, want %d", f.started, f.Size(), want)
	}
	got, err := os.ReadFile(f.Name())
	if err != nil || len(got) != pieces*len(piece) || !bytes.Equal(got[:len(piece)], piece) || !bytes.Equal(got[len(got)-len(piece):], piece) {
		t.Fatalf("the file read back: %d bytes (%v), want %d", len(got), err, pieces*len(piece))
	}
}
