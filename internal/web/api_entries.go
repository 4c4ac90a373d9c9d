package web

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"mediashare/internal/apperr"
	"mediashare/internal/authstore"
	"mediashare/internal/entry"
	"mediashare/internal/gallery"
	"mediashare/internal/limits"
	"mediashare/internal/policy"
	"mediashare/internal/projections"
	"mediashare/views"
)

// apiEntry is an entry as the API shows it.
type apiEntry struct {
	EIB          string    `json:"eib"`
	Title        string    `json:"title"`
	Comment      string    `json:"comment"`
	UploadedAt   time.Time `json:"uploaded_at"`
	Owner        string    `json:"owner,omitempty"` // the account's display name; "" for anonymous uploads
	Status       string    `json:"status"`
	ContentType  string    `json:"content_type"`
	Size         int64     `json:"size"`
	Width        int       `json:"width"`
	Height       int       `json:"height"`
	URL          string    `json:"url"`
	MediaURL     string    `json:"media_url"`
	ThumbnailURL string    `json:"thumbnail_url"`
	// The preview, once made (after the grid thumbnail, at a lower priority).
	PreviewURL    string `json:"preview_url,omitempty"`
	PreviewWidth  int    `json:"preview_width,omitempty"`
	PreviewHeight int    `json:"preview_height,omitempty"`
}

// apiUploaded is one upload's result.
type apiUploaded struct {
	EIB          string `json:"eib"`
	URL          string `json:"url"`
	MediaURL     string `json:"media_url"`
	ThumbnailURL string `json:"thumbnail_url"`
	DeletionURL  string `json:"deletion_url"`
	Status       string `json:"status"`
	// Duplicate: the same owner already had these bytes; nothing was
	// stored and this is the existing entry (InTrash: in their trash).
	Duplicate bool `json:"duplicate,omitempty"`
	InTrash   bool `json:"in_trash,omitempty"`
}

// apiFileResult is one file's result in an upload of several files.
type apiFileResult struct {
	File  string          `json:"file"`
	Entry *apiUploaded    `json:"entry,omitempty"`
	Error *apiErrorDetail `json:"error,omitempty"`
}

func (s *Server) media(r *http.Request, key string) string {
	if key == "" {
		return ""
	}
	return s.abs(r, views.MediaURL(r.Context(), key))
}

// ownerNames memoises owners' display names for one answer (a page
// shows few owners many times).
type ownerNames map[string]string

func (s *Server) ownerName(r *http.Request, names ownerNames, id string) string {
	if s.API.Account == nil || id == "" {
		return ""
	}
	if n, ok := names[id]; ok {
		return n
	}
	n := ""
	if a, err := s.API.Account(r.Context(), id); err == nil && a.Exists() {
		n = a.DisplayName
	}
	names[id] = n
	return n
}

func (s *Server) apiEntryOf(r *http.Request, e projections.Entry, names ownerNames) apiEntry {
	thumb := e.Thumbnail
	if thumb == "" {
		thumb = entry.ThumbnailKey(e.Resource)
	}
	out := apiEntry{
		EIB: e.EIB, Title: e.Title, Comment: e.Comment, UploadedAt: e.Timestamp.UTC(), Status: string(e.Status),
		ContentType: e.ContentType, Size: e.Size, Width: e.Width, Height: e.Height,
		URL: s.abs(r, views.EntryURL(e.EIB)), MediaURL: s.media(r, e.Resource), ThumbnailURL: s.media(r, thumb),
	}
	if e.Preview != "" {
		out.PreviewURL, out.PreviewWidth, out.PreviewHeight = s.media(r, e.Preview), e.PreviewWidth, e.PreviewHeight
	}
	out.Owner = s.ownerName(r, names, e.Owner)
	return out
}

func (s *Server) apiUploadedOf(r *http.Request, res gallery.Uploaded) apiUploaded {
	e := res.Entry
	thumb := e.Thumbnail
	if thumb == "" {
		thumb = entry.ThumbnailKey(e.Resource)
	}
	return apiUploaded{
		EIB: e.EIB, URL: s.abs(r, views.EntryURL(e.EIB)), MediaURL: s.media(r, e.Resource), ThumbnailURL: s.media(r, thumb),
		DeletionURL: s.abs(r, s.deletionPath(e.EIB)), Status: string(e.Status),
		Duplicate: res.Duplicate, InTrash: res.InTrash,
	}
}

// apiEntryList serves GET /api/v1/entries: the gallery, newest first, a
// page at a time (?limit=, ?cursor= from the last page's next_cursor).
func (s *Server) apiEntryList(w http.ResponseWriter, r *http.Request) {
	if !s.apiQuery(w, r, "cursor", "limit") {
		return
	}
	if _, _, err := s.apiToken(r, authstore.ScopeRead, true); err != nil {
		s.apiError(w, r, err)
		return
	}
	q := r.URL.Query()
	limit, err := apiLimit(q.Get("limit"), s.Gallery.UploadLimits().MaxPageSize)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	if len(q.Get("cursor")) > 256 {
		s.apiError(w, r, apperr.New(apperr.Invalid, "That page link is not valid."))
		return
	}
	page, err := s.Gallery.Page(r.Context(), q.Get("cursor"), limit)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	out := struct {
		Entries    []apiEntry `json:"entries"`
		NextCursor string     `json:"next_cursor,omitempty"`
	}{Entries: []apiEntry{}, NextCursor: page.Next}
	names := ownerNames{}
	for _, e := range page.Entries {
		out.Entries = append(out.Entries, s.apiEntryOf(r, e, names))
	}
	s.writeJSON(w, http.StatusOK, out)
}

// apiLimit reads ?limit= (1 to max; "" is the default page).
func apiLimit(v string, max int) (int, error) {
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > max {
		return 0, apperr.New(apperr.Invalid, "limit must be a whole number from 1 to %d.", max)
	}
	return n, nil
}

// apiEntryShow serves GET /api/v1/entries/{eib}.
func (s *Server) apiEntryShow(w http.ResponseWriter, r *http.Request) {
	if !s.apiQuery(w, r) {
		return
	}
	if _, _, err := s.apiToken(r, authstore.ScopeRead, true); err != nil {
		s.apiError(w, r, err)
		return
	}
	e, _, err := s.Gallery.Entry(r.Context(), r.PathValue("eib"))
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	s.writeJSON(w, http.StatusOK, s.apiEntryOf(r, e, ownerNames{}))
}

// apiEntryDelete serves DELETE /api/v1/entries/{eib}: the token's
// account must own the entry (or be an admin).
func (s *Server) apiEntryDelete(w http.ResponseWriter, r *http.Request) {
	if !s.apiQuery(w, r) {
		return
	}
	t, acct, err := s.apiToken(r, authstore.ScopeDelete, false)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	if err := s.Gallery.Delete(r.Context(), r.PathValue("eib"), entry.Actor{Owner: t.AccountID, Admin: acct.IsAdmin()}); err != nil {
		s.apiError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNoContent)
}

// apiFields are the multipart fields POST /api/v1/entries takes.
var apiFields = map[string]bool{"title": true, "comment": true}

// apiEntryCreate serves POST /api/v1/entries (multipart: file, several
// allowed, title and comment). The checks, limits and messages are the
// upload form's. One file answers 201 with its entry (200 with the
// existing one and "duplicate": true when the account already had the
// bytes); several answer with one result a file (201 when every file has
// its entry, 200 when some were refused, the first refusal's status when
// all were).
func (s *Server) apiEntryCreate(w http.ResponseWriter, r *http.Request) {
	if !s.apiQuery(w, r) {
		return
	}
	t, acct, err := s.apiToken(r, authstore.ScopeUpload, false)
	var who policy.Principal
	if err == nil {
		// The token's account, as the policy sees a signed-in account.
		who = policy.Principal{AccountID: t.AccountID, Name: acct.DisplayName, Admin: acct.IsAdmin()}
		err = s.policy().MayUpload(who)
	}
	if err != nil {
		w.Header().Set("Connection", "close") // the body is not read
		s.apiError(w, r, err)
		return
	}
	lim := s.Gallery.UploadLimits()
	limit := lim.MaxRequestBytes + formOverhead
	tooBig := apperr.FieldError(apperr.TooLarge, "file", "The upload is larger than the %s limit for one request; send fewer files at once.", views.HumanBytes(lim.MaxRequestBytes))
	fail := func(err error) {
		s.rejected(err, "")
		if status(err) == http.StatusRequestEntityTooLarge {
			w.Header().Set("Connection", "close")
		}
		s.apiError(w, r, err)
	}
	if err := s.Disk.Check(); err != nil {
		w.Header().Set("Connection", "close")
		fail(refused(err))
		return
	}
	if s.Limits != nil {
		// The token's account is the client, as a signed-in page's is.
		release, err := s.Limits.Upload("account:" + t.AccountID)
		if err != nil {
			w.Header().Set("Connection", "close")
			fail(refused(err))
			return
		}
		defer release()
	}
	if r.ContentLength > limit {
		fail(tooBig)
		return
	}
	// Until it is answered the upload is foreground work, which the
	// reactor's thumbnails give way to.
	defer s.uploading(r, lim.MaxBytes)()
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	u, err := s.readUploadFields(r, lim.MaxBytes, lim.MaxFiles, tooBig, apiFields, true)
	limits.Done(r)
	if err != nil {
		if apperr.CodeOf(err) == apperr.Timeout {
			r = r.WithContext(context.WithoutCancel(r.Context()))
		}
		w.Header().Set("Connection", "close")
		fail(err)
		return
	}
	defer u.remove()
	s.extendWriteDeadline(w)
	if err := s.withinQuota(r.Context(), who, u); err != nil {
		fail(err)
		return
	}

	title, comment := u.fields["title"], u.fields["comment"]
	if len(u.files) <= 1 {
		in := gallery.UploadInput{Title: title, Comment: comment, Owner: t.AccountID}
		if len(u.files) == 1 {
			f := u.files[0]
			in.File, in.Size, in.Filename, in.Spooled = f.file, f.Size, f.Filename, s.spooled(f)
		}
		res, err := s.Gallery.Upload(r.Context(), in)
		if err != nil {
			fail(err)
			return
		}
		if res.Duplicate {
			s.Metrics.Uploads.WithLabelValues("duplicate").Inc()
			s.writeJSON(w, http.StatusOK, s.apiUploadedOf(r, res))
			return
		}
		s.uploaded(res.Entry)
		s.writeJSON(w, http.StatusCreated, s.apiUploadedOf(r, res))
		return
	}
	if err := s.Gallery.ValidateComment(comment); err != nil {
		fail(err)
		return
	}
	out := struct {
		Error   *apiErrorDetail `json:"error,omitempty"` // when none was stored
		Results []apiFileResult `json:"results"`
	}{}
	var failed error
	stored := 0
	for _, f := range u.files {
		ft := strings.TrimSpace(title)
		if ft == "" {
			ft = gallery.TitleFromFilename(f.Filename)
		}
		res, err := s.Gallery.Upload(r.Context(), gallery.UploadInput{Title: ft, Comment: comment, Owner: t.AccountID,
			Filename: f.Filename, Size: f.Size, File: f.file, Spooled: s.spooled(f)})
		if err != nil {
			s.rejected(err, f.Filename)
			if failed == nil {
				failed = err
			}
			out.Results = append(out.Results, apiFileResult{File: f.Filename, Error: &apiErrorDetail{
				Code: string(apperr.CodeOf(err)), Message: apperr.MessageOf(err), Field: apperr.FieldOf(err)}})
			continue
		}
		if res.Duplicate {
			s.Metrics.Uploads.WithLabelValues("duplicate").Inc()
		} else {
			s.uploaded(res.Entry)
		}
		stored++
		up := s.apiUploadedOf(r, res)
		out.Results = append(out.Results, apiFileResult{File: f.Filename, Entry: &up})
	}
	code := http.StatusCreated
	switch {
	case stored == 0:
		code = status(failed)
		retryAfter(w, failed)
		out.Error = &apiErrorDetail{Code: string(apperr.CodeOf(failed)), Message: "None of the files could be uploaded."}
	case failed != nil:
		code = http.StatusOK
	}
	s.writeJSON(w, code, out)
}
