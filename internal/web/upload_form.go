package web

import (
	"errors"
	"io"
	"net/http"
	"os"
	"strings"

	"mediashare/internal/apperr"
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
			n, err := io.Copy(f, io.LimitReader(p, maxFile+1))
			if err != nil {
				return fail(err)
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
