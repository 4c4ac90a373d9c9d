package web

import (
	"bytes"
	"net/http"
	"strconv"
	"time"

	"mediashare/views"
)

// entryShow serves GET /entries/{eib}: the image, its facts and history,
// kept per version of the view and revalidated with ETags (pagecache.go).
// A page of an entry in the trash is not kept: whether it may still be
// restored depends on the time.
func (s *Server) entryShow(w http.ResponseWriter, r *http.Request) {
	head, err := s.viewVersion(r.Context())
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	eib, viewer := r.PathValue("eib"), PrincipalFrom(r.Context())
	pg := s.page(r, "")
	reported := r.URL.Query().Get("reported") == "1"
	key := pageKey("entry", eib, strconv.FormatBool(reported), viewerKey(viewer, pg))
	s.servePage(w, r, head, key, func(buf *bytes.Buffer, _ string) (bool, error) {
		e, history, err := s.Gallery.EntryFor(r.Context(), eib, viewer.OwnerID())
		if err != nil {
			return false, err
		}
		p := entryPageOf(e, history, viewer, s.policy(), time.Now())
		p.Entry.DeleteToTrash = s.Gallery.UploadLimits().TrashRetention > 0
		p.Entry.Reported = reported
		pg.Title = e.Title
		return !e.InTrash(), views.Entry(pg, p).Render(r.Context(), buf)
	})
}
