package gallery_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"mediashare/internal/apperr"
	"mediashare/internal/blob"
	"mediashare/internal/blob/fileblob"
	"mediashare/internal/events"
	"mediashare/internal/gallery"
	"mediashare/internal/media"
	"mediashare/internal/media/mediatest"
)

// spoolDir is a spool beside the service's media (one file system), with
// the files a test put there.
type spoolDir struct {
	t          *testing.T
	dir, media string
}

// newSpool makes <data>/spool and gives s its media store in <data>/media,
// as serve lays them out.
func newSpool(t *testing.T, s *gallery.Service) *spoolDir {
	data := t.TempDir()
	d := filepath.Join(data, "spool")
	if err := os.Mkdir(d, 0o750); err != nil {
		t.Fatal(err)
	}
	blobs, err := fileblob.New(filepath.Join(data, "media"))
	if err != nil {
		t.Fatal(err)
	}
	s.Blobs = blobs
	return &spoolDir{t: t, dir: d, media: filepath.Join(data, "media")}
}

// put spools data as the server does and returns the upload's input.
func (sp *spoolDir) put(data []byte, sum bool) gallery.UploadInput {
	sp.t.Helper()
	f, err := os.CreateTemp(sp.dir, "upload-*")
	if err != nil {
		sp.t.Fatal(err)
	}
	sp.t.Cleanup(func() { f.Close() })
	if _, err := f.Write(data); err != nil {
		sp.t.Fatal(err)
	}
	f.Seek(0, io.SeekStart)
	in := gallery.UploadInput{Title: "spooled", Comment: "c", Filename: "p", File: f, Size: int64(len(data)), Owner: "alice",
		Spooled: &gallery.Spooled{Path: f.Name(), Scratch: sp.scratch}}
	if sum {
		h := sha256.Sum256(data)
		in.Spooled.SHA256 = hex.EncodeToString(h[:])
	}
	return in
}

type scratchFile struct{ *os.File }

func (f scratchFile) Remove() error {
	f.Close()
	return os.Remove(f.Name())
}

func (sp *spoolDir) scratch() (gallery.Scratch, error) {
	f, err := os.CreateTemp(sp.dir, "upload-*")
	if err != nil {
		return nil, err
	}
	return scratchFile{f}, nil
}

// files lists the spool's files.
func (sp *spoolDir) files() []string {
	sp.t.Helper()
	names, err := filepath.Glob(filepath.Join(sp.dir, "*"))
	if err != nil {
		sp.t.Fatal(err)
	}
	return names
}

func ino(t *testing.T, path string) uint64 {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Sys().(*syscall.Stat_t).Ino
}

// storedBytes reads the original an upload stored and checks that the
// event's SHA-256 and size are its.
func storedBytes(t *testing.T, s *gallery.Service, store events.Store, eib string) []byte {
	t.Helper()
	evs, err := store.Load(context.Background(), eib)
	if err != nil {
		t.Fatal(err)
	}
	var p events.Uploaded
	if err := evs[0].Decode(&p); err != nil {
		t.Fatal(err)
	}
	o, err := s.Blobs.Open(context.Background(), p.Original)
	if err != nil {
		t.Fatalf("the original %s: %v", p.Original, err)
	}
	defer o.Close()
	b, err := io.ReadAll(o)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256(b)
	if got := hex.EncodeToString(h[:]); got != p.SHA256 || int64(len(b)) != p.Size {
		t.Errorf("the event says sha256 %s, %d bytes; the stored object is %s, %d bytes", p.SHA256, p.Size, got, len(b))
	}
	return b
}

func photoJPEG(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 64, 48))
	for i := range img.Pix {
		img.Pix[i] = byte(i)
	}
	b, err := mediatest.JPEGWithMetadata(img, mediatest.ExifWithGPS(6), mediatest.XMPWithLocation)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// pngWithXMP is a PNG whose XMP (iTXt) chunk carries a location: removing
// it moves what follows, so it is stripped into a copy.
func pngWithXMP(t *testing.T) []byte {
	t.Helper()
	img := image.NewGray(image.Rect(0, 0, 30, 10))
	for i := range img.Pix {
		img.Pix[i] = color.Gray{Y: byte(i * 7)}.Y
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	plain := buf.Bytes()
	payload := append([]byte("XML:com.adobe.xmp\x00\x00\x00\x00\x00"), mediatest.XMPWithLocation...)
	chunk := binary.BigEndian.AppendUint32(nil, uint32(len(payload)))
	chunk = append(chunk, "iTXt"...)
	chunk = append(chunk, payload...)
	chunk = binary.BigEndian.AppendUint32(chunk, crc32.ChecksumIEEE(chunk[4:]))
	return append(append(append([]byte{}, plain[:33]...), chunk...), plain[33:]...)
}

func hasLocation(t *testing.T, b []byte) bool {
	t.Helper()
	info, err := media.Inspect(bytes.NewReader(b), int64(len(b)), media.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	has, err := media.HasLocation(bytes.NewReader(b), int64(len(b)), info)
	if err != nil {
		t.Fatal(err)
	}
	return has
}

// A spooled JPEG loses its location in place and is moved into the blob
// store: the stored object is the spooled file (same inode), the spool is
// empty, the event's checksum is the stored bytes'.
func TestSpooledJPEGIsStrippedInPlaceAndMoved(t *testing.T) {
	s, store := newService(t)
	sp := newSpool(t, s)
	data := photoJPEG(t)
	in := sp.put(data, true) // the arrival hash is of the bytes before stripping
	spooledIno := ino(t, in.Spooled.Path)
	res, err := s.Upload(context.Background(), in)
	if err != nil {
		t.Fatalf("Upload: %v", err)
	}
	got := storedBytes(t, s, store, res.Entry.EIB)
	if hasLocation(t, got) || len(got) != len(data) {
		t.Errorf("stored %d bytes (location left: %v), want the %d of the upload without location", len(got), hasLocation(t, got), len(data))
	}
	if left := sp.files(); len(left) != 0 {
		t.Errorf("the spool holds %v, want the file moved", left)
	}
	if ino(t, filepath.Join(sp.media, res.Entry.Resource)) != spooledIno {
		t.Errorf("the original was copied, want the spooled file renamed into place")
	}
}

// A PNG whose XMP goes is written once, without location, to a scratch
// file that is then moved; the spooled original stays for the server to
// remove, the scratch file is gone.
func TestSpooledPNGIsCopiedOnceWithoutLocation(t *testing.T) {
	s, store := newService(t)
	sp := newSpool(t, s)
	data := pngWithXMP(t)
	in := sp.put(data, false)
	res, err := s.Upload(context.Background(), in)
	if err != nil {
		t.Fatalf("Upload: %v", err)
	}
	got := storedBytes(t, s, store, res.Entry.EIB)
	if hasLocation(t, got) || len(got) >= len(data) {
		t.Errorf("stored %d bytes (location left: %v), want fewer than %d, without location", len(got), hasLocation(t, got), len(data))
	}
	if left := sp.files(); len(left) != 1 || left[0] != in.Spooled.Path {
		t.Errorf("the spool holds %v, want only the upload %s", left, in.Spooled.Path)
	}
	if b, _ := os.ReadFile(in.Spooled.Path); !bytes.Equal(b, data) {
		t.Error("the spooled upload changed")
	}
}

// Bytes stored as they are (--keep-original-metadata) take the hash made
// on arrival and are moved; a second sending is a duplicate that stores
// nothing and leaves its spooled file alone.
func TestSpooledKeptFileIsMovedAndDuplicatesFound(t *testing.T) {
	s, store := newLiveService(t)
	s.Limits.KeepOriginalMetadata = true
	sp := newSpool(t, s)
	data := photoJPEG(t)
	first, err := s.Upload(context.Background(), sp.put(data, true))
	if err != nil {
		t.Fatal(err)
	}
	if got := storedBytes(t, s, store, first.Entry.EIB); !bytes.Equal(got, data) {
		t.Errorf("kept metadata: stored %d bytes, want the %d uploaded, identical", len(got), len(data))
	}
	again := sp.put(data, true)
	dup, err := s.Upload(context.Background(), again)
	if err != nil || !dup.Duplicate || dup.Entry.EIB != first.Entry.EIB {
		t.Fatalf("the same bytes again: got %+v, %v; want a duplicate of %s", dup, err, first.Entry.EIB)
	}
	if _, err := os.Stat(again.Spooled.Path); err != nil {
		t.Errorf("a duplicate's spooled file: %v, want it left for the server", err)
	}
	// Stripped uploads of the same photo find each other too: the checksum
	// is the stored bytes', whichever way they were made.
	s.Limits.KeepOriginalMetadata = false
	a, err := s.Upload(context.Background(), sp.put(data, false))
	if err != nil || a.Duplicate {
		t.Fatalf("stripped: got %+v, %v; want a new entry", a, err)
	}
	b, err := s.Upload(context.Background(), sp.put(data, true))
	if err != nil || !b.Duplicate || b.Entry.EIB != a.Entry.EIB {
		t.Fatalf("stripped again: got %+v, %v; want a duplicate of %s", b, err, a.Entry.EIB)
	}
}

// failingBlobs fails PutFile (after the file system may have had it).
type failingBlobs struct{ blob.Store }

func (failingBlobs) PutFile(context.Context, string, string, string, string) (blob.Info, error) {
	return blob.Info{}, errors.New("disk on fire")
}

// failingAppend fails every append.
type failingAppend struct{ events.Store }

func (failingAppend) Append(context.Context, string, int, ...events.Event) ([]events.Event, error) {
	return nil, errors.New("database on fire")
}

// Every failure leaves nothing behind: no blob, no event, no scratch
// file; the refusal of a scratch file reaches the caller as it is.
func TestSpooledFailuresLeaveNothing(t *testing.T) {
	spoolFull := apperr.New(apperr.NoSpace, "The server has no room for more uploads right now.")
	tests := []struct {
		name  string
		data  func(t *testing.T) []byte
		setup func(s *gallery.Service, in *gallery.UploadInput)
		code  apperr.Code
	}{
		{"no scratch file", pngWithXMP, func(s *gallery.Service, in *gallery.UploadInput) {
			in.Spooled.Scratch = func() (gallery.Scratch, error) { return nil, spoolFull }
		}, apperr.NoSpace},
		{"scratch write fails", pngWithXMP, func(s *gallery.Service, in *gallery.UploadInput) {
			sc := in.Spooled.Scratch
			in.Spooled.Scratch = func() (gallery.Scratch, error) {
				f, err := sc()
				return failingWrite{f, spoolFull}, err
			}
		}, apperr.NoSpace},
		{"the blob store fails", photoJPEG, func(s *gallery.Service, in *gallery.UploadInput) {
			s.Blobs = failingBlobs{s.Blobs}
		}, apperr.Internal},
		{"the copy's blob store fails", pngWithXMP, func(s *gallery.Service, in *gallery.UploadInput) {
			s.Blobs = failingBlobs{s.Blobs}
		}, apperr.Internal},
		{"the append fails", photoJPEG, func(s *gallery.Service, in *gallery.UploadInput) {
			s.Events = failingAppend{s.Events}
		}, apperr.Internal},
		{"damaged metadata", func(t *testing.T) []byte {
			b := photoJPEG(t)
			i := bytes.Index(b, []byte{0xFF, 0xE1}) // the EXIF segment runs past the end
			binary.BigEndian.PutUint16(b[i+2:], 0xFFF0)
			return b[:i+200]
		}, func(*gallery.Service, *gallery.UploadInput) {}, apperr.Invalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, store := newService(t)
			sp := newSpool(t, s)
			in := sp.put(tt.data(t), false)
			tt.setup(s, &in)
			_, err := s.Upload(context.Background(), in)
			if got := apperr.CodeOf(err); err == nil || got != tt.code {
				t.Fatalf("Upload: got %v (%s), want a %s error", err, got, tt.code)
			}
			if evs, _, err := store.ReadAll(context.Background(), "", 10); err != nil || len(evs) != 0 {
				t.Errorf("events appended: %d (%v), want none", len(evs), err)
			}
			for _, f := range sp.files() {
				if f != in.Spooled.Path {
					t.Errorf("left in the spool: %s", f)
				}
			}
			sp.mediaLeft()
		})
	}
}

type failingWrite struct {
	gallery.Scratch
	err error
}

func (f failingWrite) Write(b []byte) (int, error) {
	if f.Scratch == nil {
		return 0, f.err
	}
	f.Scratch.Write(b[:len(b)/2])
	return len(b) / 2, f.err
}

// mediaLeft fails the test for anything left in the media store.
func (sp *spoolDir) mediaLeft() {
	sp.t.Helper()
	filepath.Walk(sp.media, func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			sp.t.Errorf("left in the media store: %s", p)
		}
		return nil
	})
}
