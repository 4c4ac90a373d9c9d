package web

import (
	"net/http"

	"mediashare/views"
)

// galleryList serves GET /: the gallery page, or with htmx and ?after= the
// next run of cards.
func (s *Server) galleryList(w http.ResponseWriter, r *http.Request) {
	page, err := s.Gallery.Page(r.Context(), r.URL.Query().Get("after"), 0)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	viewer := OwnerFrom(r.Context())
	if htmxOf(r).Partial() && r.URL.Query().Has("after") {
		html(w, http.StatusOK)
		views.Cards(page.Entries, page.Next, viewer).Render(r.Context(), w)
		return
	}
	html(w, http.StatusOK)
	views.GalleryPage(s.page(r, ""), views.Gallery{
		Entries: page.Entries, Next: page.Next, Viewer: viewer,
		Form: views.UploadForm{MaxBytes: s.Gallery.Limits.MaxBytes},
	}).Render(r.Context(), w)
}
