package web

import (
	"context"
	"errors"
	"fmt"
	"mime/multipart"
	"net/http"
	"strings"

	"mediashare/internal/apperr"
	"mediashare/internal/gallery"
	"mediashare/internal/projections"
	"mediashare/views"
)

// uploader takes uploads.
type uploader interface {
	UploadLimits() gallery.Limits
	ValidateComment(comment string) error
	Upload(ctx context.Context, in gallery.UploadInput) (projections.Entry, error)
}

// formOverhead is what a multipart body may carry besides the files:
// the title, the comment, boundaries and part headers.
const formOverhead = 64 << 10

// entryCreate serves POST /entries (multipart: title, comment, and one or
// more files). Each file becomes an entry. With several files a blank
// title means each entry takes its file's name.
func (s *Server) entryCreate(w http.ResponseWriter, r *http.Request) {
	lim := s.Gallery.UploadLimits()
	limit := lim.MaxRequestBytes + formOverhead
	form := views.UploadForm{MaxBytes: lim.MaxBytes}
	tooBig := apperr.FieldError(apperr.TooLarge, "file", "The upload is larger than the %s limit for one request; send fewer files at once.", views.HumanBytes(lim.MaxRequestBytes))
	if r.ContentLength > limit {
		s.uploadFailed(w, r, form, tooBig)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	if err := r.ParseMultipartForm(1 << 20); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			err = tooBig
		} else {
			err = apperr.FieldError(apperr.Invalid, "file", "The upload could not be read. Please choose the file again.")
		}
		s.uploadFailed(w, r, form, err)
		return
	}
	defer r.MultipartForm.RemoveAll()

	form.Title, form.Comment = r.PostFormValue("title"), r.PostFormValue("comment")
	files := r.MultipartForm.File["file"]
	if len(files) > lim.MaxFiles {
		s.uploadFailed(w, r, form, apperr.FieldError(apperr.Invalid, "file", "Send at most %d files at once.", lim.MaxFiles))
		return
	}
	if len(files) <= 1 {
		s.uploadOne(w, r, form, files)
		return
	}
	s.uploadMany(w, r, form, files)
}

func (s *Server) uploadOne(w http.ResponseWriter, r *http.Request, form views.UploadForm, files []*multipart.FileHeader) {
	in := gallery.UploadInput{Title: form.Title, Comment: form.Comment, Owner: OwnerFrom(r.Context()), RequestID: r.PostFormValue("request")}
	if len(files) == 1 {
		f, err := files[0].Open()
		if err != nil {
			s.uploadFailed(w, r, form, apperr.FieldError(apperr.Invalid, "file", "The file could not be read."))
			return
		}
		defer f.Close()
		in.File, in.Size, in.Filename = f, files[0].Size, files[0].Filename
	}
	entry, err := s.Gallery.Upload(r.Context(), in)
	if err != nil {
		s.uploadFailed(w, r, form, err)
		return
	}
	s.uploaded(entry)
	if htmxOf(r).Partial() {
		html(w, http.StatusCreated)
		fresh := views.UploadForm{MaxBytes: form.MaxBytes, Notice: "Uploaded “" + entry.Title + "”. The preview is on its way."}
		views.Uploaded(withRequestID(fresh), cardsOf([]projections.Entry{entry})).Render(r.Context(), w)
		return
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// uploadMany uploads each file on its own: a rejected file gets its
// message beside its name and does not stop the others.
func (s *Server) uploadMany(w http.ResponseWriter, r *http.Request, form views.UploadForm, files []*multipart.FileHeader) {
	if err := s.Gallery.ValidateComment(form.Comment); err != nil {
		s.uploadFailed(w, r, form, err)
		return
	}
	var (
		entries []projections.Entry
		failed  error
	)
	for i, fh := range files {
		title := strings.TrimSpace(form.Title)
		if title == "" {
			title = gallery.TitleFromFilename(fh.Filename)
		}
		in := gallery.UploadInput{Title: title, Comment: form.Comment, Owner: OwnerFrom(r.Context()), Filename: fh.Filename, Size: fh.Size,
			RequestID: r.PostFormValue("request"), Index: i}
		entry, err := func() (projections.Entry, error) {
			f, err := fh.Open()
			if err != nil {
				return projections.Entry{}, apperr.FieldError(apperr.Invalid, "file", "The file could not be read.")
			}
			defer f.Close()
			in.File = f
			return s.Gallery.Upload(r.Context(), in)
		}()
		if err != nil {
			s.rejected(err, fh.Filename)
			form.Files = append(form.Files, views.FileResult{Name: fh.Filename, Error: apperr.MessageOf(err)})
			if failed == nil {
				failed = err
			}
			continue
		}
		s.uploaded(entry)
		entries = append(entries, entry)
		form.Files = append(form.Files, views.FileResult{Name: fh.Filename, OK: true})
	}
	code := http.StatusCreated
	switch {
	case len(entries) == 0:
		code = status(failed)
		form.Error = "None of the files could be uploaded."
	case failed != nil:
		code = http.StatusOK
		form.Notice = fmt.Sprintf("Uploaded %d of %d files.", len(entries), len(files))
	default:
		form = views.UploadForm{MaxBytes: form.MaxBytes, Notice: fmt.Sprintf("Uploaded %d files. The previews are on their way.", len(entries))}
	}
	if code == http.StatusCreated && !htmxOf(r).Partial() {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	if htmxOf(r).Partial() {
		html(w, code)
		views.Uploaded(withRequestID(form), cardsOf(entries)).Render(r.Context(), w)
		return
	}
	s.galleryWithForm(w, r, code, "Upload", form)
}

// rejected counts (and, for our own failures, logs) an upload that did
// not make an entry.
func (s *Server) rejected(err error, filename string) {
	s.Metrics.Uploads.WithLabelValues(string(apperr.CodeOf(err))).Inc()
	if status(err) >= 500 {
		s.log().Error("upload failed", "file", filename, "error", err)
	}
}

// galleryWithForm answers with the whole gallery page and the upload form
// as given (values kept, messages shown).
func (s *Server) galleryWithForm(w http.ResponseWriter, r *http.Request, code int, title string, form views.UploadForm) {
	g, err := s.gallery(r, form)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	html(w, code)
	views.GalleryPage(s.page(r, title), g).Render(r.Context(), w)
}

func (s *Server) uploaded(e projections.Entry) {
	s.Metrics.Uploads.WithLabelValues("ok").Inc()
	s.Metrics.UploadBytes.Add(float64(e.Size))
}

// uploadFailed shows the form again with the values kept and the message
// beside it: the form alone for htmx, the whole gallery otherwise.
func (s *Server) uploadFailed(w http.ResponseWriter, r *http.Request, form views.UploadForm, err error) {
	code := status(err)
	s.rejected(err, "")
	form.Error, form.Field = apperr.MessageOf(err), apperr.FieldOf(err)
	if code == http.StatusRequestEntityTooLarge {
		w.Header().Set("Connection", "close") // do not read the rest of a huge body
	}
	if htmxOf(r).Partial() {
		html(w, code)
		views.Upload(withRequestID(form)).Render(r.Context(), w)
		return
	}
	s.galleryWithForm(w, r, code, "Upload failed", form)
}
