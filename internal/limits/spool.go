package limits

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Spool holds the files of upload requests while they are checked, in a
// directory of its own (under the data directory, not the system's
// tmpfs), with a cap on the bytes it holds at once.
type Spool struct {
	dir string
	max int64 // 0: no cap
	mu  sync.Mutex
	use int64
}

// spoolPrefix names spool files, so that start-up removes only ours.
const spoolPrefix = "upload-"

// NewSpool makes dir and removes what a previous process left in it.
func NewSpool(dir string, maxBytes int64) (*Spool, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("limits: spool directory %s: %w", dir, err)
	}
	old, err := filepath.Glob(filepath.Join(dir, spoolPrefix+"*"))
	if err != nil {
		return nil, err
	}
	for _, f := range old {
		os.Remove(f)
	}
	return &Spool{dir: dir, max: maxBytes}, nil
}

// Dir is the spool's directory.
func (s *Spool) Dir() string { return s.dir }

// Used is how many bytes the spool holds now.
func (s *Spool) Used() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.use
}

// ErrSpoolFull is the refusal when the spool's cap is reached.
var ErrSpoolFull = &Refusal{Status: http.StatusInsufficientStorage, RetryAfter: 30 * time.Second, Reason: ReasonSpoolFull,
	Message: "The server has no room for more uploads right now. Please try again in a little while."}

// Create returns a new, empty spool file.
func (s *Spool) Create() (*SpoolFile, error) {
	f, err := os.CreateTemp(s.dir, spoolPrefix+"*")
	if err != nil {
		return nil, fmt.Errorf("limits: spool: %w", err)
	}
	return &SpoolFile{f: f, spool: s}, nil
}

func (s *Spool) reserve(n int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.max > 0 && s.use+n > s.max {
		return false
	}
	s.use += n
	return true
}

func (s *Spool) release(n int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.use -= n
}

// SpoolFile is one spooled file. Writes count against the spool's cap;
// Remove closes and deletes it and gives its bytes back.
type SpoolFile struct {
	f       *os.File // not embedded: every write must pass Write's count
	spool   *Spool
	size    int64
	started int64 // bytes whose writeback was started
	removed bool
}

// writebackChunk is how many bytes a spool file gathers before their
// writeback is started (startWriteback): a few per 16 MB photo, none for
// a small one, which its fsync writes at once.
const writebackChunk = 4 << 20

// Write implements io.Writer; past the spool's cap it writes nothing and
// returns ErrSpoolFull.
func (f *SpoolFile) Write(b []byte) (int, error) {
	if !f.spool.reserve(int64(len(b))) {
		return 0, ErrSpoolFull
	}
	n, err := f.f.Write(b)
	f.spool.release(int64(len(b) - n))
	f.size += int64(n)
	if f.size-f.started >= writebackChunk {
		startWriteback(f.f, f.started, f.size-f.started)
		f.started = f.size
	}
	return n, err
}

// Read, ReadAt and Seek read the file back.
func (f *SpoolFile) Read(b []byte) (int, error) { return f.f.Read(b) }

func (f *SpoolFile) ReadAt(b []byte, off int64) (int, error) { return f.f.ReadAt(b, off) }

func (f *SpoolFile) Seek(off int64, whence int) (int64, error) { return f.f.Seek(off, whence) }

// Name is the file's path.
func (f *SpoolFile) Name() string { return f.f.Name() }

// Size is the bytes written.
func (f *SpoolFile) Size() int64 { return f.size }

// Remove closes and deletes the file.
func (f *SpoolFile) Remove() error {
	if f.removed {
		return nil
	}
	f.removed = true
	cerr := f.f.Close()
	err := os.Remove(f.f.Name())
	f.spool.release(f.size)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return cerr
}

// IsSpoolFile reports whether name is a spool file (for tests and tools).
func IsSpoolFile(name string) bool { return strings.HasPrefix(filepath.Base(name), spoolPrefix) }
