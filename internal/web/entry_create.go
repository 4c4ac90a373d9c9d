package web

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"mediashare/internal/apperr"
	"mediashare/internal/gallery"
	"mediashare/internal/limits"
	"mediashare/internal/policy"
	"mediashare/internal/projections"
	"mediashare/views"
)

// uploader takes uploads.
type uploader interface {
	UploadLimits() gallery.Limits
	ValidateComment(comment string) error
	Upload(ctx context.Context, in gallery.UploadInput) (gallery.Uploaded, error)
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
	// Refusals that come before the body is read close the connection:
	// the body is never read.
	if err := s.mayUpload(r); err != nil {
		w.Header().Set("Connection", "close")
		s.uploadFailed(w, r, form, err)
		return
	}
	if err := s.Disk.Check(); err != nil {
		w.Header().Set("Connection", "close")
		s.uploadFailed(w, r, form, refused(err))
		return
	}
	if s.Limits != nil {
		release, err := s.Limits.Upload(s.clientKey(r))
		if err != nil {
			w.Header().Set("Connection", "close")
			s.uploadFailed(w, r, form, refused(err))
			return
		}
		defer release()
	}
	if r.ContentLength > limit {
		s.uploadFailed(w, r, form, tooBig)
		return
	}
	// Until it is answered the upload is foreground work, which the
	// reactor's thumbnails give way to.
	defer s.uploading(r, lim.MaxBytes)()
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	u, err := s.readUpload(r, lim.MaxBytes, lim.MaxFiles, tooBig)
	limits.Done(r)
	if err != nil {
		if apperr.CodeOf(err) == apperr.Timeout {
			// The server cancelled the request when its body timed out;
			// the answer is still written.
			r = r.WithContext(context.WithoutCancel(r.Context()))
		}
		w.Header().Set("Connection", "close") // the rest of the body is not read
		s.uploadFailed(w, r, form, err)
		return
	}
	defer u.remove()
	s.extendWriteDeadline(w)

	form.Title, form.Comment = u.fields["title"], u.fields["comment"]
	if err := s.withinQuota(r.Context(), PrincipalFrom(r.Context()), u); err != nil {
		s.uploadFailed(w, r, form, err)
		return
	}
	if len(u.files) <= 1 {
		s.uploadOne(w, r, form, u)
		return
	}
	s.uploadMany(w, r, form, u)
}

func (s *Server) uploadOne(w http.ResponseWriter, r *http.Request, form views.UploadForm, u *uploadForm) {
	in := gallery.UploadInput{Title: form.Title, Comment: form.Comment, Owner: PrincipalFrom(r.Context()).OwnerID(), RequestID: u.fields["request"]}
	if len(u.files) == 1 {
		f := u.files[0]
		in.File, in.Size, in.Filename, in.Spooled = f.file, f.Size, f.Filename, s.spooled(f)
	}
	res, err := s.Gallery.Upload(r.Context(), in)
	if err != nil {
		s.uploadFailed(w, r, form, err)
		return
	}
	entry := res.Entry
	if res.Duplicate {
		// Nothing was stored: say so, link the entry, keep nothing of the form.
		s.Metrics.Uploads.WithLabelValues("duplicate").Inc()
		fresh := views.UploadForm{MaxBytes: form.MaxBytes, Duplicate: duplicateOf(res)}
		if htmxOf(r).Partial() {
			html(w, http.StatusOK)
			views.Upload(withRequestID(fresh)).Render(r.Context(), w)
			return
		}
		s.galleryWithForm(w, r, http.StatusOK, "Already uploaded", fresh)
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
func (s *Server) uploadMany(w http.ResponseWriter, r *http.Request, form views.UploadForm, u *uploadForm) {
	files := u.files
	if err := s.Gallery.ValidateComment(form.Comment); err != nil {
		s.uploadFailed(w, r, form, err)
		return
	}
	var (
		entries    []projections.Entry
		failed     error
		duplicates int
	)
	for i, fh := range files {
		title := strings.TrimSpace(form.Title)
		if title == "" {
			title = gallery.TitleFromFilename(fh.Filename)
		}
		in := gallery.UploadInput{Title: title, Comment: form.Comment, Owner: PrincipalFrom(r.Context()).OwnerID(), Filename: fh.Filename, Size: fh.Size,
			RequestID: u.fields["request"], Index: i, File: fh.file, Spooled: s.spooled(fh)}
		res, err := s.Gallery.Upload(r.Context(), in)
		if err != nil {
			s.rejected(err, fh.Filename)
			form.Files = append(form.Files, views.FileResult{Name: fh.Filename, Error: apperr.MessageOf(err)})
			if failed == nil {
				failed = err
			}
			continue
		}
		if res.Duplicate {
			s.Metrics.Uploads.WithLabelValues("duplicate").Inc()
			form.Files = append(form.Files, views.FileResult{Name: fh.Filename, OK: true, Duplicate: duplicateOf(res)})
			duplicates++
			continue
		}
		entry := res.Entry
		s.uploaded(entry)
		entries = append(entries, entry)
		form.Files = append(form.Files, views.FileResult{Name: fh.Filename, OK: true})
	}
	code := http.StatusCreated
	switch {
	case len(entries) == 0 && failed == nil:
		code = http.StatusOK // all duplicates: nothing new, the list says where they are
		form.Notice = "You already have these images; nothing new was stored."
	case len(entries) == 0:
		code = status(failed)
		form.Error = "None of the files could be uploaded."
	case failed != nil || duplicates > 0:
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

// duplicateOf is the notice's link to the entry a duplicate upload found.
func duplicateOf(u gallery.Uploaded) *views.Duplicate {
	return &views.Duplicate{EIB: u.Entry.EIB, Title: u.Entry.Title, InTrash: u.InTrash}
}

// rejected counts (and, for our own failures, logs) an upload that did
// not make an entry.
func (s *Server) rejected(err error, filename string) {
	s.Metrics.Uploads.WithLabelValues(string(apperr.CodeOf(err))).Inc()
	s.countRefusal(err)
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
	retryAfter(w, err)
	form.Error, form.Field = apperr.MessageOf(err), apperr.FieldOf(err)
	if code == http.StatusRequestEntityTooLarge {
		w.Header().Set("Connection", "close") // do not read the rest of a huge body
	}
	if htmxOf(r).Partial() {
		html(w, code)
		views.Upload(withRequestID(s.signInToUpload(r, form))).Render(r.Context(), w)
		return
	}
	s.galleryWithForm(w, r, code, "Upload failed", form)
}

// mayUpload asks the policy whether the request's principal may upload.
func (s *Server) mayUpload(r *http.Request) error {
	if sessionRefused(r.Context()) && s.policy().Uploads != policy.UploadsAnyone {
		return apperr.FieldError(apperr.Forbidden, "file", "%s Nothing was stored.", apperr.MessageOf(notSignedIn(r.Context(), "upload")))
	}
	return s.policy().MayUpload(PrincipalFrom(r.Context()))
}

// signInToUpload marks the form for a visitor who must sign in first.
func (s *Server) signInToUpload(r *http.Request, f views.UploadForm) views.UploadForm {
	f.SignIn = s.People != nil && s.policy().Uploads != policy.UploadsAnyone && !PrincipalFrom(r.Context()).SignedIn()
	return f
}

// usageReader says how many bytes an owner keeps; the gallery service is one.
type usageReader interface {
	Usage(ctx context.Context, owner string) (int64, error)
}

// withinQuota asks the policy whether the account may store the files
// sent (413 over its quota, nothing stored).
func (s *Server) withinQuota(ctx context.Context, p policy.Principal, u *uploadForm) error {
	pol := s.policy()
	ur, ok := s.Gallery.(usageReader)
	if pol.QuotaBytes <= 0 || !p.SignedIn() || !ok {
		return nil
	}
	var size int64
	for _, f := range u.files {
		size += f.Size
	}
	used, err := ur.Usage(ctx, p.OwnerID())
	if err != nil {
		return err
	}
	return pol.MayStore(p, used, size)
}
