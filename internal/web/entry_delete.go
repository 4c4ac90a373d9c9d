package web

import (
	"context"
	"net/http"

	"mediashare/internal/entry"
)

// deleter deletes an entry for its owner (or an admin).
type deleter interface {
	Delete(ctx context.Context, eib string, a entry.Actor) error
}

// entryDelete serves DELETE /entries/{eib} (htmx) and
// POST /entries/{eib}/delete (a plain form). Only the owner may delete.
func (s *Server) entryDelete(w http.ResponseWriter, r *http.Request) {
	eib := r.PathValue("eib")
	p := PrincipalFrom(r.Context())
	if err := s.policy().MayAct(p); err != nil {
		s.renderError(w, r, err)
		return
	}
	if err := s.Gallery.Delete(r.Context(), eib, p.Actor()); err != nil {
		s.renderError(w, r, err)
		return
	}
	if htmxOf(r).Request {
		w.Header().Set("HX-Redirect", "/")
		w.WriteHeader(http.StatusOK)
		return
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
}
