package fileblob_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"mediashare/internal/blob"
	"mediashare/internal/blob/blobtest"
	"mediashare/internal/blob/fileblob"
)

func TestConformance(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) blob.Store {
		dir := t.TempDir()
		s, err := fileblob.New(dir)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			// Nothing may be left in the temp area once a test is over.
			left, _ := os.ReadDir(filepath.Join(dir, ".tmp"))
			if len(left) > 0 {
				t.Errorf("temporary files left behind: %v", left)
			}
		})
		return s
	})
}

// spooled writes data to a file in dir and returns its path and SHA-256.
func spooled(t *testing.T, dir string, data []byte) (string, string) {
	t.Helper()
	f, err := os.CreateTemp(dir, "upload-*")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	return f.Name(), hex.EncodeToString(sum[:])
}

func inode(t *testing.T, path string) uint64 {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Sys().(*syscall.Stat_t).Ino
}

func mustRead(t *testing.T, s *fileblob.Store, key string) []byte {
	t.Helper()
	o, err := s.Open(context.Background(), key)
	if err != nil {
		t.Fatalf("Open %s: %v", key, err)
	}
	defer o.Close()
	b, err := io.ReadAll(o)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// On the store's file system PutFile takes the file itself: the stored
// object is the same inode, and the spool holds nothing afterwards.
func TestPutFileRenamesOnOneFileSystem(t *testing.T) {
	data := t.TempDir()
	s, err := fileblob.New(filepath.Join(data, "media"))
	if err != nil {
		t.Fatal(err)
	}
	spool := filepath.Join(data, "spool")
	os.Mkdir(spool, 0o750)
	body := bytes.Repeat([]byte("photo "), 100_000)
	path, sum := spooled(t, spool, body)
	ino := inode(t, path)
	info, err := s.PutFile(context.Background(), "01JD.jpg", path, "image/jpeg", sum)
	if err != nil {
		t.Fatalf("PutFile: %v", err)
	}
	if got := inode(t, filepath.Join(data, "media", "01JD.jpg")); got != ino {
		t.Errorf("stored inode %d, want the spooled file's %d (renamed, not copied)", got, ino)
	}
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the spooled file is still there (%v), want it moved", err)
	}
	if info.ETag != `"`+sum+`"` || info.Size != int64(len(body)) {
		t.Errorf("info: got %+v, want ETag of %s and size %d", info, sum, len(body))
	}
	if got := mustRead(t, s, "01JD.jpg"); !bytes.Equal(got, body) {
		t.Errorf("content: got %d bytes, want %d", len(got), len(body))
	}
}

// exdev fails every rename as one across file systems does.
func exdev(oldpath, newpath string) error {
	return &os.LinkError{Op: "rename", Old: oldpath, New: newpath, Err: syscall.EXDEV}
}

// When the rename fails with EXDEV PutFile copies, leaving the file where
// it was for its caller to remove, and checks the checksum it was given.
func TestPutFileCopiesAcrossFileSystems(t *testing.T) {
	s, err := fileblob.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	fileblob.SetRename(s, exdev)
	body := []byte("\xff\xd8\xff a jpeg, more or less")
	path, sum := spooled(t, t.TempDir(), body)
	info, err := s.PutFile(context.Background(), "copied.jpg", path, "image/jpeg", sum)
	if err != nil {
		t.Fatalf("PutFile with EXDEV: %v", err)
	}
	if got := mustRead(t, s, "copied.jpg"); !bytes.Equal(got, body) || info.ETag != `"`+sum+`"` {
		t.Errorf("copy: got %q (ETag %s), want %q (ETag of %s)", got, info.ETag, body, sum)
	}
	if left, err := os.ReadFile(path); err != nil || !bytes.Equal(left, body) {
		t.Errorf("the source after a copy: %q (%v), want it left whole", left, err)
	}

	// A checksum that is not the file's stores nothing and keeps what was there.
	other, _ := spooled(t, t.TempDir(), []byte("other bytes"))
	if _, err := s.PutFile(context.Background(), "copied.jpg", other, "image/jpeg", sum); err == nil {
		t.Fatal("PutFile with a wrong checksum succeeded")
	}
	if got := mustRead(t, s, "copied.jpg"); !bytes.Equal(got, body) {
		t.Errorf("after a refused copy: got %q, want the first object %q", got, body)
	}
}

// Other rename failures are errors, not copies: nothing is stored.
func TestPutFileRenameFailure(t *testing.T) {
	dir := t.TempDir()
	s, err := fileblob.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	fileblob.SetRename(s, func(string, string) error { return syscall.EIO })
	path, sum := spooled(t, t.TempDir(), []byte("bytes"))
	if _, err := s.PutFile(context.Background(), "eio.jpg", path, "image/jpeg", sum); !errors.Is(err, syscall.EIO) {
		t.Fatalf("PutFile: got %v, want EIO", err)
	}
	if _, err := s.Open(context.Background(), "eio.jpg"); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Open after a failed PutFile: got %v, want ErrNotFound", err)
	}
	if left, _ := os.ReadDir(filepath.Join(dir, ".tmp")); len(left) > 0 {
		t.Errorf("temporary files left behind: %v", left)
	}
}

// A real second file system: /dev/shm (tmpfs) when it is not the temp
// directory's.
func TestPutFileFromAnotherFileSystem(t *testing.T) {
	var a, b syscall.Stat_t
	if syscall.Stat("/dev/shm", &a) != nil || syscall.Stat(os.TempDir(), &b) != nil || a.Dev == b.Dev {
		t.Skip("no /dev/shm on a file system of its own here")
	}
	src, err := os.MkdirTemp("/dev/shm", "fileblob-test-")
	if err != nil {
		t.Skipf("/dev/shm is not writable: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(src) })
	s, err := fileblob.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	body := bytes.Repeat([]byte{1, 2, 3}, 50_000)
	path, sum := spooled(t, src, body)
	if _, err := s.PutFile(context.Background(), "from/shm.bin", path, "application/octet-stream", sum); err != nil {
		t.Fatalf("PutFile across file systems: %v", err)
	}
	if got := mustRead(t, s, "from/shm.bin"); !bytes.Equal(got, body) {
		t.Errorf("content: got %d bytes, want %d", len(got), len(body))
	}
}
