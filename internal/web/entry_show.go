package web

import (
	"net/http"

	"mediashare/views"
)

// entryShow serves GET /entries/{eib}: the image, its facts and history.
func (s *Server) entryShow(w http.ResponseWriter, r *http.Request) {
	e, history, err := s.Gallery.Entry(r.Context(), r.PathValue("eib"))
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	html(w, http.StatusOK)
	views.Entry(s.page(r, e.Title), entryPageOf(e, history, OwnerFrom(r.Context()))).Render(r.Context(), w)
}
