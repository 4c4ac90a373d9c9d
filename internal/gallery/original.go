package gallery

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"mediashare/internal/apperr"
	"mediashare/internal/blob"
	"mediashare/internal/media"
)

// copyBuffer is the size of the reads and writes of an original's one
// pass: large enough that a 16 MB photo costs a few dozen system calls.
const copyBuffer = 256 << 10

// original is what an upload stores: the uploaded file as it is, or a
// copy of it without its location.
type original struct {
	sha256 string // of the bytes stored
	// path is a local file holding exactly those bytes, which the blob
	// store may take (PutFile); "" when there is none and open streams them.
	path   string
	open   func() (io.Reader, error)
	remove func() // removes the copy, if one was written
}

// original reads the upload once at most: to hash it when it is stored
// as it is (not even that when it was hashed as it arrived) or once its
// location was removed in place, or else to write its copy without
// location, hashed on the way, to a scratch file. Without a scratch file
// the copy is hashed now and made again when it is stored.
func (s *Service) original(in UploadInput, info media.Info, strip bool) (*original, error) {
	o := &original{remove: func() {}}
	if in.Spooled != nil && in.Spooled.Path == "" {
		return nil, fmt.Errorf("gallery: upload: a spooled file without its path")
	}
	if strip && in.Spooled != nil {
		// Most rewrites keep every block's length: the spooled file is
		// edited where it lies and stored as it is.
		done, err := stripInPlace(in.Spooled.Path, in.Size, info)
		if err != nil {
			return nil, err
		}
		if done {
			strip = false
			in.Spooled = &Spooled{Path: in.Spooled.Path} // its arrival hash is not the stored bytes'
		}
	}
	if !strip {
		o.open = func() (io.Reader, error) { return io.NewSectionReader(in.File, 0, in.Size), nil }
		if in.Spooled != nil {
			o.path, o.sha256 = in.Spooled.Path, in.Spooled.SHA256
		}
		if o.sha256 == "" {
			h := sha256.New()
			if _, err := io.CopyBuffer(h, onlyReader{io.NewSectionReader(in.File, 0, in.Size)}, make([]byte, copyBuffer)); err != nil {
				return nil, fmt.Errorf("gallery: upload: hash: %w", err)
			}
			o.sha256 = hex.EncodeToString(h.Sum(nil))
		}
		return o, nil
	}
	stripped := func() (io.Reader, error) {
		r, _, err := media.StripLocation(in.File, in.Size, info)
		if err != nil {
			return nil, apperr.FieldError(apperr.Invalid, "file", "The image's metadata is damaged.")
		}
		return onlyReader{r}, nil
	}
	r, err := stripped()
	if err != nil {
		return nil, err
	}
	h := sha256.New()
	if in.Spooled == nil || in.Spooled.Scratch == nil {
		if _, err := io.CopyBuffer(h, r, make([]byte, copyBuffer)); err != nil {
			return nil, fmt.Errorf("gallery: upload: hash: %w", err)
		}
		o.sha256, o.open = hex.EncodeToString(h.Sum(nil)), stripped
		return o, nil
	}
	f, err := in.Spooled.Scratch()
	if err != nil {
		return nil, fmt.Errorf("gallery: upload: a file for the copy without location: %w", err)
	}
	if _, err := io.CopyBuffer(io.MultiWriter(f, h), r, make([]byte, copyBuffer)); err != nil {
		f.Remove()
		return nil, fmt.Errorf("gallery: upload: copy without location: %w", err)
	}
	o.sha256, o.path = hex.EncodeToString(h.Sum(nil)), f.Name()
	o.remove = func() {
		if err := f.Remove(); err != nil && !errors.Is(err, fs.ErrNotExist) {
			s.log().Warn("upload: could not remove the copy without location", "file", f.Name(), "error", err)
		}
	}
	return o, nil
}

// stripInPlace removes the location from the file at path where it lies,
// when that keeps every block's length, and reports whether it did.
func stripInPlace(path string, size int64, info media.Info) (bool, error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return false, fmt.Errorf("gallery: upload: open the spooled file: %w", err)
	}
	defer f.Close()
	done, err := media.StripLocationInPlace(f, size, info)
	if err != nil && apperr.CodeOf(err) != apperr.Internal {
		return false, apperr.FieldError(apperr.Invalid, "file", "The image's metadata is damaged.")
	}
	if err != nil {
		return false, fmt.Errorf("gallery: upload: %w", err)
	}
	return done, nil
}

// onlyReader hides a reader's WriteTo (io.MultiReader's, with a buffer of
// its own), so that io.CopyBuffer uses the buffer it is given.
type onlyReader struct{ io.Reader }

// store puts the original in the blob store: the local file when there
// is one (the store may take it), else the bytes streamed, which must be
// those that were hashed.
func (s *Service) store(ctx context.Context, key, contentType string, o *original) (blob.Info, error) {
	if o.path != "" {
		return s.Blobs.PutFile(ctx, key, o.path, contentType, o.sha256)
	}
	r, err := o.open()
	if err != nil {
		return blob.Info{}, err
	}
	hashed := newHashingReader(r)
	stored, err := s.Blobs.Put(ctx, key, hashed, contentType)
	if err != nil {
		return blob.Info{}, err
	}
	if got := hashed.sum(); got != o.sha256 {
		if derr := s.Blobs.Delete(context.WithoutCancel(ctx), key); derr != nil {
			s.log().Error("upload: could not remove an original that changed while it was stored", "key", key, "error", derr)
		}
		return blob.Info{}, fmt.Errorf("the file changed while it was stored (SHA-256 %s, then %s)", o.sha256, got)
	}
	return stored, nil
}
