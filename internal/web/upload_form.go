package web

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"hash"
	"io"
	"net/http"
	"os"
	"strings"

	"mediashare/internal/apperr"
	"mediashare/internal/gallery"
	"mediashare/internal/limits"
)

// uploadForm is an upload request read off the wire: its text fields in
// memory, its files in the spool (each written to disk once, as it
// arrives, never to the system's tmpfs).
type uploadForm struct {
	fields map[string]string
	files  []*spooledFile
}

// spooledFile is one file of an upload request.
type spooledFile struct {
	Filename string
	Size     int64 // as sent; the spool keeps at most one byte over the file limit
	file     *limits.SpoolFile
	sha256   string // of the spooled bytes, when hashed as they arrived
}

// Buffers of the spooling: the body is read, and the spool written, in
// pieces this large rather than in the multipart reader's 4 KiB ones, so
// that a 16 MB upload costs dozens of system calls, not thousands.
const (
	bodyBuffer  = 64 << 10
	spoolBuffer = 256 << 10
)

// bufferedBody reads a request body through a larger buffer.
type bufferedBody struct {
	*bufio.Reader
	io.Closer
}

// formFields are the text fields the upload form has; others are skipped.
var formFields = map[string]bool{"title": true, "comment": true, "request": true}

// remove deletes the request's spool files.
func (u *uploadForm) remove() {
	for _, f := range u.files {
		f.file.Remove()
	}
}

// readUpload streams the multipart body: text fields up to formOverhead
// bytes in all, files into the spool. On error nothing is left in the
// spool. tooBig is the error for a body over its limit.
func (s *Server) readUpload(r *http.Request, maxFile int64, maxFiles int, tooBig error) (*uploadForm, error) {
	return s.readUploadFields(r, maxFile, maxFiles, tooBig, formFields, false)
}

// readUploadFields is readUpload with the text fields given; strict
// refuses (400) any other part, and a "file" part that is not a file.
func (s *Server) readUploadFields(r *http.Request, maxFile int64, maxFiles int, tooBig error, fields map[string]bool, strict bool) (*uploadForm, error) {
	unreadable := apperr.FieldError(apperr.Invalid, "file", "The upload could not be read. Please choose the file again.")
	if r.Body != nil {
		r.Body = bufferedBody{bufio.NewReaderSize(r.Body, bodyBuffer), r.Body}
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, unreadable
	}
	u := &uploadForm{fields: map[string]string{}}
	fail := func(err error) (*uploadForm, error) {
		u.remove()
		var mbe *http.MaxBytesError
		var ref *limits.Refusal
		switch {
		case errors.As(err, &mbe):
			return nil, tooBig
		case errors.As(err, &ref):
			return nil, refused(err)
		case apperr.CodeOf(err) != apperr.Internal:
			return nil, err
		}
		return nil, unreadable
	}
	budget := int64(formOverhead)
	spool := s.spool()
	// Files stored byte for byte are hashed as they arrive, which spares
	// the gallery a reading; otherwise it hashes the copy it rewrites.
	hashing := s.Gallery.UploadLimits().KeepOriginalMetadata
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fail(err)
		}
		name := p.FormName()
		switch {
		case name == "file" && p.FileName() != "":
			if len(u.files) == maxFiles {
				p.Close()
				return fail(apperr.FieldError(apperr.Invalid, "file", "Send at most %d files at once.", maxFiles))
			}
			f, err := spool.Create()
			if err != nil {
				return fail(err)
			}
			sf := &spooledFile{Filename: p.FileName(), file: f}
			u.files = append(u.files, sf)
			bw := bufio.NewWriterSize(f, spoolBuffer)
			var (
				w io.Writer = bw
				h hash.Hash
			)
			if hashing {
				h = sha256.New()
				w = io.MultiWriter(bw, h)
			}
			n, err := io.Copy(w, io.LimitReader(p, maxFile+1))
			if err == nil {
				err = bw.Flush()
			}
			if err != nil {
				return fail(err)
			}
			if h != nil {
				sf.sha256 = hex.EncodeToString(h.Sum(nil))
			}
			// Past the file limit the rest is counted, not kept: the
			// gallery refuses the file by its size.
			rest, err := io.Copy(io.Discard, p)
			if err != nil {
				return fail(err)
			}
			sf.Size = n + rest
			if _, err := f.Seek(0, io.SeekStart); err != nil {
				return fail(err)
			}
		case strict && name == "file" && p.FileName() == "":
			p.Close()
			return fail(apperr.FieldError(apperr.Invalid, "file", "The file field must carry a file (with a filename)."))
		case strict && (!fields[name] || p.FileName() != ""):
			p.Close()
			return fail(apperr.FieldError(apperr.Invalid, name, "Unknown field %q: send file, title and comment.", limitText(name, 64)))
		case fields[name] && p.FileName() == "":
			b, err := io.ReadAll(io.LimitReader(p, budget+1))
			if err != nil {
				return fail(err)
			}
			if budget -= int64(len(b)); budget < 0 {
				return fail(apperr.FieldError(apperr.Invalid, name, "The form's text is too long."))
			}
			u.fields[name] = string(b)
		default:
			if _, err := io.Copy(io.Discard, p); err != nil {
				return fail(err)
			}
		}
		p.Close()
	}
	return u, nil
}

// spooled tells the gallery that f lies whole in the spool: the blob
// store may take the file, and a copy without location goes beside it.
func (s *Server) spooled(f *spooledFile) *gallery.Spooled {
	return &gallery.Spooled{Path: f.file.Name(), SHA256: f.sha256, Scratch: s.scratch}
}

// scratch is a new spool file for an upload's rewritten copy.
func (s *Server) scratch() (gallery.Scratch, error) {
	f, err := s.spool().Create()
	if err != nil {
		return nil, err
	}
	return scratchFile{f}, nil
}

// scratchFile is a spool file whose refusals (the spool is full) are the
// application errors the page shows.
type scratchFile struct{ *limits.SpoolFile }

func (f scratchFile) Write(b []byte) (int, error) {
	n, err := f.SpoolFile.Write(b)
	if err != nil {
		err = refused(err)
	}
	return n, err
}

// uploading counts an upload request as foreground work until the
// returned func is called (a body of unknown length as one file of the
// largest size).
func (s *Server) uploading(r *http.Request, maxFile int64) func() {
	n := r.ContentLength
	if n <= 0 {
		n = maxFile
	}
	return s.Foreground.Upload(n)
}

// limitText cuts s (from a request) to n bytes of valid text for a message.
func limitText(s string, n int) string {
	if len(s) > n {
		s = s[:n]
	}
	return strings.ToValidUTF8(s, "")
}

// spool is where upload files wait while they are checked.
func (s *Server) spool() *limits.Spool {
	s.spoolOnce.Do(func() {
		if s.Spool != nil {
			return
		}
		// A Server made without one (tests): a private directory.
		dir, err := os.MkdirTemp("", "mediashare-spool-")
		if err == nil {
			s.Spool, err = limits.NewSpool(dir, 0)
		}
		if err != nil {
			panic("web: no spool directory: " + err.Error())
		}
	})
	return s.Spool
}
