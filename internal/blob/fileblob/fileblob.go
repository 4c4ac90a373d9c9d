// Package fileblob is the embedded blob store: one file per object under
// a root directory, written to a temporary file, fsynced and renamed into
// place, with a small sidecar holding its content type and checksum.
package fileblob

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"mediashare/internal/blob"
)

var _ blob.Store = (*Store)(nil)

// Store keeps blobs under Root.
type Store struct {
	root   string
	rename func(oldpath, newpath string) error // os.Rename; tests make it fail
}

// New returns a store rooted at dir, creating it if needed.
func New(dir string) (*Store, error) {
	if err := os.MkdirAll(filepath.Join(dir, ".tmp"), 0o750); err != nil {
		return nil, fmt.Errorf("fileblob: create %s: %w", dir, err)
	}
	return &Store{root: dir, rename: os.Rename}, nil
}

type meta struct {
	ContentType string `json:"content_type"`
	SHA256      string `json:"sha256"`
}

func (s *Store) path(key string) (string, error) {
	if !blob.ValidKey(key) {
		return "", fmt.Errorf("fileblob: invalid key %q", key)
	}
	return filepath.Join(s.root, filepath.FromSlash(key)), nil
}

func metaPath(p string) string { return p + ".meta" }

// Put implements blob.Store.
func (s *Store) Put(ctx context.Context, key string, r io.Reader, contentType string) (blob.Info, error) {
	p, err := s.path(key)
	if err != nil {
		return blob.Info{}, err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
		return blob.Info{}, fmt.Errorf("fileblob: put %s: %w", key, err)
	}
	h := sha256.New()
	n, err := writeAtomic(ctx, s.root, p, io.TeeReader(r, h), nil)
	if err != nil {
		return blob.Info{}, fmt.Errorf("fileblob: put %s: %w", key, err)
	}
	m := meta{ContentType: contentType, SHA256: hex.EncodeToString(h.Sum(nil))}
	return s.finishPut(ctx, key, p, n, m)
}

// PutFile implements blob.Store. A file on the store's file system is
// fsynced and renamed into place: no byte is read or copied, and sum is
// taken as its checksum. From another file system (the rename fails with
// EXDEV) it is copied as Put copies, and sum is checked against the
// copy's. The metadata sidecar and the directory are fsynced as Put does.
func (s *Store) PutFile(ctx context.Context, key, path, contentType, sum string) (blob.Info, error) {
	p, err := s.path(key)
	if err != nil {
		return blob.Info{}, err
	}
	if !blob.ValidSHA256(sum) {
		return blob.Info{}, fmt.Errorf("fileblob: put %s: %q is not a SHA-256 in hex", key, sum)
	}
	if err := ctx.Err(); err != nil {
		return blob.Info{}, fmt.Errorf("fileblob: put %s: %w", key, err)
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
		return blob.Info{}, fmt.Errorf("fileblob: put %s: %w", key, err)
	}
	n, err := s.moveIn(path, p)
	if errors.Is(err, syscall.EXDEV) {
		n, err = s.copyIn(ctx, path, p, sum)
	}
	if err != nil {
		return blob.Info{}, fmt.Errorf("fileblob: put %s from %s: %w", key, path, err)
	}
	m := meta{ContentType: contentType, SHA256: sum}
	return s.finishPut(ctx, key, p, n, m)
}

// finishPut stores the metadata of the object just written at p and
// makes both names durable; on failure the object is removed.
func (s *Store) finishPut(ctx context.Context, key, p string, n int64, m meta) (blob.Info, error) {
	mb, _ := json.Marshal(m)
	if _, err := writeAtomic(ctx, s.root, metaPath(p), bytes.NewReader(mb), nil); err != nil {
		os.Remove(p)
		return blob.Info{}, fmt.Errorf("fileblob: put %s: metadata: %w", key, err)
	}
	if err := syncDir(filepath.Dir(p)); err != nil {
		return blob.Info{}, fmt.Errorf("fileblob: put %s: %w", key, err)
	}
	st, err := os.Stat(p)
	if err != nil {
		return blob.Info{}, fmt.Errorf("fileblob: put %s: %w", key, err)
	}
	return info(key, n, m, st), nil
}

// moveIn makes the regular file src durable and renames it to dst,
// returning its size. Across file systems the error is EXDEV and src is
// left as it was.
func (s *Store) moveIn(src, dst string) (int64, error) {
	f, err := os.OpenFile(src, os.O_RDWR, 0)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	if !st.Mode().IsRegular() {
		return 0, fmt.Errorf("%s is not a regular file", src)
	}
	if err := f.Sync(); err != nil {
		return 0, err
	}
	if err := s.rename(src, dst); err != nil {
		return 0, err
	}
	return st.Size(), nil
}

// copyIn copies src to dst as Put does and checks its checksum.
func (s *Store) copyIn(ctx context.Context, src, dst, sum string) (int64, error) {
	f, err := os.Open(src)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	h := sha256.New()
	return writeAtomic(ctx, s.root, dst, io.TeeReader(f, h), func() error {
		if got := hex.EncodeToString(h.Sum(nil)); got != sum {
			return fmt.Errorf("the file's SHA-256 is %s, not the %s given", got, sum)
		}
		return nil
	})
}

type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// writeAtomic writes r to a temporary file under root/.tmp, fsyncs it and
// renames it to dst; check, when given, may refuse what was written
// before it is renamed. On any failure nothing is left behind.
func writeAtomic(ctx context.Context, root, dst string, r io.Reader, check func() error) (int64, error) {
	f, err := os.CreateTemp(filepath.Join(root, ".tmp"), "put-*")
	if err != nil {
		return 0, err
	}
	tmp := f.Name()
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(tmp)
		}
	}()
	n, err := io.Copy(f, ctxReader{ctx, r})
	if err != nil {
		return 0, err
	}
	if err := f.Sync(); err != nil {
		return 0, err
	}
	if err := f.Close(); err != nil {
		return 0, err
	}
	if check != nil {
		if err := check(); err != nil {
			return 0, err
		}
	}
	if err := os.Rename(tmp, dst); err != nil {
		return 0, err
	}
	ok = true
	return n, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

func info(key string, size int64, m meta, st fs.FileInfo) blob.Info {
	return blob.Info{Key: key, Size: size, ContentType: m.ContentType, ETag: `"` + m.SHA256 + `"`, ModTime: st.ModTime().UTC()}
}

func (s *Store) readMeta(p string) (meta, error) {
	b, err := os.ReadFile(metaPath(p))
	if err != nil {
		return meta{}, err
	}
	var m meta
	if err := json.Unmarshal(b, &m); err != nil {
		return meta{}, err
	}
	return m, nil
}

type object struct {
	*os.File
	info blob.Info
}

func (o *object) Info() blob.Info { return o.info }

// Open implements blob.Store.
func (s *Store) Open(ctx context.Context, key string) (blob.Object, error) {
	p, err := s.path(key)
	if err != nil {
		return nil, blob.ErrNotFound
	}
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, blob.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("fileblob: open %s: %w", key, err)
	}
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		f.Close()
		return nil, blob.ErrNotFound
	}
	m, err := s.readMeta(p)
	if err != nil {
		f.Close()
		if errors.Is(err, fs.ErrNotExist) {
			return nil, blob.ErrNotFound
		}
		return nil, fmt.Errorf("fileblob: open %s: metadata: %w", key, err)
	}
	return &object{File: f, info: info(key, st.Size(), m, st)}, nil
}

// Stat implements blob.Store.
func (s *Store) Stat(ctx context.Context, key string) (blob.Info, error) {
	o, err := s.Open(ctx, key)
	if err != nil {
		return blob.Info{}, err
	}
	defer o.Close()
	return o.Info(), nil
}

// Delete implements blob.Store.
func (s *Store) Delete(ctx context.Context, key string) error {
	p, err := s.path(key)
	if err != nil {
		return err
	}
	for _, q := range []string{p, metaPath(p)} {
		if err := os.Remove(q); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("fileblob: delete %s: %w", key, err)
		}
	}
	return nil
}

// Ping implements blob.Store: the root must be a writable directory.
func (s *Store) Ping(ctx context.Context) error {
	f, err := os.CreateTemp(filepath.Join(s.root, ".tmp"), "ping-*")
	if err != nil {
		return fmt.Errorf("fileblob: ping %s: %w", s.root, err)
	}
	f.Close()
	return os.Remove(f.Name())
}
