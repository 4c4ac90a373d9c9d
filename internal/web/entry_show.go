package web

import (
	"net/http"
	"time"

	"mediashare/views"
)

// entryShow serves GET /entries/{eib}: the image, its facts and history.
func (s *Server) entryShow(w http.ResponseWriter, r *http.Request) {
	viewer := PrincipalFrom(r.Context())
	e, history, err := s.Gallery.EntryFor(r.Context(), r.PathValue("eib"), viewer.OwnerID())
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	html(w, http.StatusOK)
	p := entryPageOf(e, history, viewer, s.policy(), time.Now())
	p.Entry.DeleteToTrash = s.Gallery.UploadLimits().TrashRetention > 0
	views.Entry(s.page(r, e.Title), p).Render(r.Context(), w)
}
