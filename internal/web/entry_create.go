package web

import (
	"errors"
	"net/http"

	"mediashare/internal/apperr"
	"mediashare/internal/gallery"
	"mediashare/views"
)

// formOverhead is what a multipart body may carry besides the file: the
// title, the comment, boundaries and part headers.
const formOverhead = 64 << 10

// entryCreate serves POST /entries (multipart: title, comment, file).
func (s *Server) entryCreate(w http.ResponseWriter, r *http.Request) {
	limit := s.Gallery.Limits.MaxBytes + formOverhead
	form := views.UploadForm{MaxBytes: s.Gallery.Limits.MaxBytes}
	if r.ContentLength > limit {
		s.uploadFailed(w, r, form, s.Gallery.TooLarge())
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	if err := r.ParseMultipartForm(1 << 20); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			err = s.Gallery.TooLarge()
		} else {
			err = apperr.FieldError(apperr.Invalid, "file", "The upload could not be read. Please choose the file again.")
		}
		s.uploadFailed(w, r, form, err)
		return
	}
	defer r.MultipartForm.RemoveAll()

	form.Title, form.Comment = r.PostFormValue("title"), r.PostFormValue("comment")
	in := gallery.UploadInput{Title: form.Title, Comment: form.Comment, Owner: OwnerFrom(r.Context())}
	file, header, err := r.FormFile("file")
	switch {
	case err == nil:
		defer file.Close()
		in.File, in.Size, in.Filename = file, header.Size, header.Filename
	case !errors.Is(err, http.ErrMissingFile):
		s.uploadFailed(w, r, form, apperr.FieldError(apperr.Invalid, "file", "The file could not be read."))
		return
	}
	entry, err := s.Gallery.Upload(r.Context(), in)
	if err != nil {
		s.uploadFailed(w, r, form, err)
		return
	}
	s.Metrics.Uploads.WithLabelValues("ok").Inc()
	s.Metrics.UploadBytes.Add(float64(entry.Size))
	if htmxOf(r).Partial() {
		html(w, http.StatusCreated)
		fresh := views.UploadForm{MaxBytes: form.MaxBytes, Notice: "Uploaded “" + entry.Title + "”. The preview is on its way."}
		views.Uploaded(fresh, entry).Render(r.Context(), w)
		return
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// uploadFailed shows the form again with the values kept and the message
// beside it: the form alone for htmx, the whole gallery otherwise.
func (s *Server) uploadFailed(w http.ResponseWriter, r *http.Request, form views.UploadForm, err error) {
	code := status(err)
	if code >= 500 {
		s.log().Error("upload failed", "error", err)
	}
	s.Metrics.Uploads.WithLabelValues(string(apperr.CodeOf(err))).Inc()
	form.Error, form.Field = apperr.MessageOf(err), apperr.FieldOf(err)
	if code == http.StatusRequestEntityTooLarge {
		w.Header().Set("Connection", "close") // do not read the rest of a huge body
	}
	if htmxOf(r).Partial() {
		html(w, code)
		views.Upload(form).Render(r.Context(), w)
		return
	}
	g, gerr := s.gallery(r, form)
	if gerr != nil {
		s.renderError(w, r, gerr)
		return
	}
	html(w, code)
	views.GalleryPage(s.page(r, "Upload failed"), g).Render(r.Context(), w)
}
