package web

import (
	"context"
	"net/http"

	"mediashare/internal/projections"
	"mediashare/views"
)

// pager reads the gallery a page at a time.
type pager interface {
	Page(ctx context.Context, cursor string, limit int) (projections.Page, error)
}

// galleryList serves GET /: the gallery page, or with htmx and ?after= the
// next run of cards.
func (s *Server) galleryList(w http.ResponseWriter, r *http.Request) {
	if htmxOf(r).Partial() && r.URL.Query().Has("after") {
		page, err := s.Gallery.Page(r.Context(), r.URL.Query().Get("after"), 0)
		if err != nil {
			s.renderError(w, r, err)
			return
		}
		html(w, http.StatusOK)
		views.Cards(cardsOf(page.Entries), page.Next).Render(r.Context(), w)
		return
	}
	g, err := s.gallery(r, views.UploadForm{MaxBytes: s.Gallery.UploadLimits().MaxBytes})
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	html(w, http.StatusOK)
	views.GalleryPage(s.page(r, ""), g).Render(r.Context(), w)
}

// gallery reads what the gallery page shows, with the upload form given.
func (s *Server) gallery(r *http.Request, form views.UploadForm) (views.Gallery, error) {
	// Read the change log's head first: the live stream replays whatever
	// changes after it, so the page plus the stream miss nothing.
	head, err := s.Changes.LastChange(r.Context())
	if err != nil {
		return views.Gallery{}, err
	}
	page, err := s.Gallery.Page(r.Context(), r.URL.Query().Get("after"), 0)
	if err != nil {
		return views.Gallery{}, err
	}
	return views.Gallery{Entries: cardsOf(page.Entries), Next: page.Next, LiveFrom: head, Form: withRequestID(s.signInToUpload(r, form))}, nil
}
