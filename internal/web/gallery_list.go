package web

import (
	"bytes"
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
// next run of cards. Both are kept per version of the view and
// revalidated with ETags (see pagecache.go).
func (s *Server) galleryList(w http.ResponseWriter, r *http.Request) {
	// Read the change log's head first: the live stream replays whatever
	// changes after it, so the page plus the stream miss nothing.
	head, err := s.viewVersion(r.Context())
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	after := r.URL.Query().Get("after")
	if htmxOf(r).Partial() && r.URL.Query().Has("after") {
		s.servePage(w, r, head, pageKey("cards", after), func(buf *bytes.Buffer, _ string) (bool, error) {
			page, err := s.Gallery.Page(r.Context(), after, 0)
			if err != nil {
				return false, err
			}
			return true, views.Cards(cardsOf(page.Entries), page.Next).Render(r.Context(), buf)
		})
		return
	}
	p := s.page(r, "")
	key := pageKey("gallery", after, viewerKey(PrincipalFrom(r.Context()), p))
	s.servePage(w, r, head, key, func(buf *bytes.Buffer, token string) (bool, error) {
		g, err := s.galleryAt(r, head, views.UploadForm{MaxBytes: s.Gallery.UploadLimits().MaxBytes})
		if err != nil {
			return false, err
		}
		g.Form.RequestID = token // each answer gets its own
		return true, views.GalleryPage(p, g).Render(r.Context(), buf)
	})
}

// gallery reads what the gallery page shows, with the upload form given.
func (s *Server) gallery(r *http.Request, form views.UploadForm) (views.Gallery, error) {
	// Read the change log's head first: the live stream replays whatever
	// changes after it, so the page plus the stream miss nothing.
	head, err := s.Changes.LastChange(r.Context())
	if err != nil {
		return views.Gallery{}, err
	}
	return s.galleryAt(r, head, form)
}

// galleryAt reads the gallery page after the change log's head was read.
func (s *Server) galleryAt(r *http.Request, head string, form views.UploadForm) (views.Gallery, error) {
	page, err := s.Gallery.Page(r.Context(), r.URL.Query().Get("after"), 0)
	if err != nil {
		return views.Gallery{}, err
	}
	return views.Gallery{Entries: cardsOf(page.Entries), Next: page.Next, LiveFrom: head, Form: withRequestID(s.signInToUpload(r, form))}, nil
}
