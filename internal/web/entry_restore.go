package web

import (
	"context"
	"net/http"

	"mediashare/internal/entry"
	"mediashare/views"
)

// restorer takes an entry out of the trash.
type restorer interface {
	Restore(ctx context.Context, eib string, a entry.Actor) error
}

// entryRestore serves POST /entries/{eib}/restore (the trash page, the
// entry page, a duplicate's notice): the entry goes back to the gallery
// and the browser to its page.
func (s *Server) entryRestore(w http.ResponseWriter, r *http.Request) {
	eib := r.PathValue("eib")
	p := PrincipalFrom(r.Context())
	if err := s.policy().MayAct(p); err != nil {
		s.renderError(w, r, err)
		return
	}
	if err := s.Gallery.Restore(r.Context(), eib, p.Actor()); err != nil {
		s.renderError(w, r, err)
		return
	}
	s.redirect(w, r, views.EntryURL(eib))
}

// redirect answers a form's POST: 303 to url, or for htmx HX-Redirect.
func (s *Server) redirect(w http.ResponseWriter, r *http.Request, url string) {
	if htmxOf(r).Request {
		w.Header().Set("HX-Redirect", url)
		w.WriteHeader(http.StatusOK)
		return
	}
	http.Redirect(w, r, url, http.StatusSeeOther)
}
