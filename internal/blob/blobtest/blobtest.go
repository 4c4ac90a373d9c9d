// Package blobtest is the conformance suite every blob.Store adapter
// passes: blobtest.Run(t, newStore).
package blobtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"mediashare/internal/blob"
)

// Run runs the suite; newStore must return an empty store each call.
func Run(t *testing.T, newStore func(t *testing.T) blob.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s blob.Store)
	}{
		{"PutOpenRoundTrip", testRoundTrip},
		{"LargeStreamedPut", testLarge},
		{"SeekForRanges", testSeek},
		{"Replace", testReplace},
		{"FailedPutLeavesNothing", testFailedPut},
		{"MissingKey", testMissing},
		{"DeleteIsIdempotent", testDelete},
		{"RejectsEscapingKeys", testBadKeys},
		{"PutFileRoundTrip", testPutFile},
		{"PutFileReplaces", testPutFileReplace},
		{"PutFileRefusals", testPutFileRefusals},
		{"Ping", func(t *testing.T, s blob.Store) {
			if err := s.Ping(ctx(t)); err != nil {
				t.Errorf("Ping: %v", err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, newStore(t)) })
	}
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return c
}

func readAll(t *testing.T, s blob.Store, key string) ([]byte, blob.Info) {
	t.Helper()
	o, err := s.Open(ctx(t), key)
	if err != nil {
		t.Fatalf("Open %s: %v", key, err)
	}
	defer o.Close()
	b, err := io.ReadAll(o)
	if err != nil {
		t.Fatalf("read %s: %v", key, err)
	}
	return b, o.Info()
}

func testRoundTrip(t *testing.T, s blob.Store) {
	data := []byte("\x89PNG\r\n\x1a\n not really a png")
	key := "01JDXAMPLE0000000000000000.png-tn.png"
	info, err := s.Put(ctx(t), key, bytes.NewReader(data), "image/png")
	if err != nil {
		t.Fatalf("Put: %v", err)
	}
	if info.Size != int64(len(data)) || info.ContentType != "image/png" || info.ETag == "" || info.Key != key {
		t.Errorf("Put info: got %+v, want size %d, image/png, an ETag", info, len(data))
	}
	got, oi := readAll(t, s, key)
	if !bytes.Equal(got, data) {
		t.Errorf("content: got %q, want %q", got, data)
	}
	if oi.Size != info.Size || oi.ContentType != "image/png" || oi.ETag != info.ETag || oi.ModTime.IsZero() {
		t.Errorf("Open info: got %+v, want %+v with a mod time", oi, info)
	}
	st, err := s.Stat(ctx(t), key)
	if err != nil || st.ETag != info.ETag || st.Size != info.Size {
		t.Errorf("Stat: got %+v (%v), want %+v", st, err, info)
	}
	if !strings.HasPrefix(info.ETag, `"`) || !strings.HasSuffix(info.ETag, `"`) {
		t.Errorf("ETag %s is not quoted as HTTP wants", info.ETag)
	}
}

func testLarge(t *testing.T, s blob.Store) {
	data := make([]byte, 12<<20+123) // larger than one multipart part
	rand.Read(data)
	// Streamed: the reader hands out small pieces and has no Len or Seek.
	if _, err := s.Put(ctx(t), "big/photo.jpg", struct{ io.Reader }{bytes.NewReader(data)}, "image/jpeg"); err != nil {
		t.Fatalf("Put: %v", err)
	}
	got, info := readAll(t, s, "big/photo.jpg")
	if !bytes.Equal(got, data) || info.Size != int64(len(data)) {
		t.Errorf("large object: got %d bytes (info %d), want %d identical", len(got), info.Size, len(data))
	}
}

func testSeek(t *testing.T, s blob.Store) {
	data := []byte("0123456789abcdefghij")
	if _, err := s.Put(ctx(t), "seek.bin", bytes.NewReader(data), "application/octet-stream"); err != nil {
		t.Fatal(err)
	}
	o, err := s.Open(ctx(t), "seek.bin")
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	tests := []struct {
		name   string
		offset int64
		whence int
		want   string
	}{
		{"from start", 5, io.SeekStart, "56789"},
		{"from end", -4, io.SeekEnd, "ghij"},
		{"back to start", 0, io.SeekStart, "01234"},
	}
	for _, tt := range tests {
		if _, err := o.Seek(tt.offset, tt.whence); err != nil {
			t.Fatalf("%s: Seek: %v", tt.name, err)
		}
		buf := make([]byte, len(tt.want))
		if _, err := io.ReadFull(o, buf); err != nil || string(buf) != tt.want {
			t.Errorf("%s: read %q (%v), want %q", tt.name, buf, err, tt.want)
		}
	}
	if n, err := o.Seek(0, io.SeekEnd); err != nil || n != int64(len(data)) {
		t.Errorf("Seek to end: got %d (%v), want %d", n, err, len(data))
	}
}

func testReplace(t *testing.T, s blob.Store) {
	first, err := s.Put(ctx(t), "a/b.png", strings.NewReader("first"), "image/png")
	if err != nil {
		t.Fatal(err)
	}
	second, err := s.Put(ctx(t), "a/b.png", strings.NewReader("second!"), "image/png")
	if err != nil {
		t.Fatal(err)
	}
	if first.ETag == second.ETag {
		t.Errorf("different contents share the ETag %s", first.ETag)
	}
	if got, _ := readAll(t, s, "a/b.png"); string(got) != "second!" {
		t.Errorf("after replace: got %q, want %q", got, "second!")
	}
}

func testFailedPut(t *testing.T, s blob.Store) {
	r := io.MultiReader(strings.NewReader("partial data"), iotest.ErrReader(errors.New("client went away")))
	if _, err := s.Put(ctx(t), "broken.jpg", r, "image/jpeg"); err == nil {
		t.Fatal("Put from a failing reader succeeded")
	}
	if _, err := s.Open(ctx(t), "broken.jpg"); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("after a failed Put Open: got %v, want ErrNotFound", err)
	}
}

func testMissing(t *testing.T, s blob.Store) {
	if _, err := s.Open(ctx(t), "nope.png"); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Open: got %v, want ErrNotFound", err)
	}
	if _, err := s.Stat(ctx(t), "nope.png"); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Stat: got %v, want ErrNotFound", err)
	}
}

func testDelete(t *testing.T, s blob.Store) {
	if _, err := s.Put(ctx(t), "gone.gif", strings.NewReader("GIF89a"), "image/gif"); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if err := s.Delete(ctx(t), "gone.gif"); err != nil {
			t.Fatalf("Delete #%d: %v", i+1, err)
		}
	}
	if _, err := s.Open(ctx(t), "gone.gif"); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("after Delete Open: got %v, want ErrNotFound", err)
	}
}

func testBadKeys(t *testing.T, s blob.Store) {
	for _, key := range []string{"", "../escape.png", "a/../../b", "/abs.png", "a//b", "a/", "sp ace.png", "x\x00y"} {
		if _, err := s.Put(ctx(t), key, strings.NewReader("x"), "image/png"); err == nil {
			t.Errorf("Put(%q) succeeded, want an error", key)
		}
	}
}

// localFile writes data to a new file of the test's and returns its path
// and SHA-256.
func localFile(t *testing.T, data []byte) (string, string) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "upload-spooled")
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	return p, hex.EncodeToString(sum[:])
}

func testPutFile(t *testing.T, s blob.Store) {
	data := make([]byte, 12<<20+321) // larger than one multipart part
	rand.Read(data)
	path, sum := localFile(t, data)
	info, err := s.PutFile(ctx(t), "files/photo.jpg", path, "image/jpeg", sum)
	if err != nil {
		t.Fatalf("PutFile: %v", err)
	}
	if info.Size != int64(len(data)) || info.ContentType != "image/jpeg" || info.ETag == "" || info.Key != "files/photo.jpg" {
		t.Errorf("PutFile info: got %+v, want size %d, image/jpeg, an ETag", info, len(data))
	}
	got, oi := readAll(t, s, "files/photo.jpg")
	if !bytes.Equal(got, data) {
		t.Errorf("content: got %d bytes, want the %d of the file", len(got), len(data))
	}
	if oi.Size != info.Size || oi.ETag != info.ETag || oi.ContentType != "image/jpeg" {
		t.Errorf("Open info: got %+v, want %+v", oi, info)
	}
	// The file was taken or left whole; the caller removes what is left,
	// and the stored object does not depend on it.
	if left, err := os.ReadFile(path); err == nil && !bytes.Equal(left, data) {
		t.Errorf("the file left at %s changed: %d bytes", path, len(left))
	}
	os.Remove(path)
	if got, _ := readAll(t, s, "files/photo.jpg"); !bytes.Equal(got, data) {
		t.Errorf("after the caller removed its file: got %d bytes, want %d", len(got), len(data))
	}
}

func testPutFileReplace(t *testing.T, s blob.Store) {
	first, err := s.Put(ctx(t), "a/c.png", strings.NewReader("first"), "image/png")
	if err != nil {
		t.Fatal(err)
	}
	path, sum := localFile(t, []byte("second, from a file"))
	second, err := s.PutFile(ctx(t), "a/c.png", path, "image/png", sum)
	if err != nil {
		t.Fatalf("PutFile over an object: %v", err)
	}
	if first.ETag == second.ETag {
		t.Errorf("different contents share the ETag %s", first.ETag)
	}
	if got, _ := readAll(t, s, "a/c.png"); string(got) != "second, from a file" {
		t.Errorf("after replace: got %q, want the file's bytes", got)
	}
}

func testPutFileRefusals(t *testing.T, s blob.Store) {
	path, sum := localFile(t, []byte("GIF89a and more"))
	tests := []struct {
		name, key, path, sum string
	}{
		{"missing file", "missing.gif", filepath.Join(t.TempDir(), "nope"), sum},
		{"a directory", "dir.gif", t.TempDir(), sum},
		{"escaping key", "../escape.gif", path, sum},
		{"empty sum", "nosum.gif", path, ""},
		{"sum not hex", "badsum.gif", path, strings.Repeat("z", 64)},
		{"upper-case sum", "upper.gif", path, strings.ToUpper(sum)},
		{"short sum", "short.gif", path, sum[:63]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := s.PutFile(ctx(t), tt.key, tt.path, "image/gif", tt.sum); err == nil {
				t.Fatalf("PutFile(%q, %q, sum %q) succeeded, want an error", tt.key, tt.path, tt.sum)
			}
			if blob.ValidKey(tt.key) {
				if _, err := s.Open(ctx(t), tt.key); !errors.Is(err, blob.ErrNotFound) {
					t.Errorf("after a refused PutFile Open: got %v, want ErrNotFound", err)
				}
			}
		})
	}
	// A cancelled context stores nothing either.
	c, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.PutFile(c, "cancelled.gif", path, "image/gif", sum); err == nil {
		t.Error("PutFile with a cancelled context succeeded")
	}
	if _, err := s.Open(ctx(t), "cancelled.gif"); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("after a cancelled PutFile Open: got %v, want ErrNotFound", err)
	}
}
