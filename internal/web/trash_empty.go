package web

import (
	"net/http"

	"mediashare/internal/apperr"
)

// trashEmpty serves POST /trash/empty: every entry in the visitor's
// trash is deleted for good.
func (s *Server) trashEmpty(w http.ResponseWriter, r *http.Request) {
	if p := PrincipalFrom(r.Context()); !p.SignedIn() && p.OwnerUnverified {
		s.renderError(w, r, apperr.New(apperr.Forbidden, "This browser's ownership could not be verified, so it cannot delete for now. Nothing was deleted."))
		return
	}
	if _, err := s.Gallery.EmptyTrash(r.Context(), PrincipalFrom(r.Context()).OwnerID()); err != nil {
		s.renderError(w, r, err)
		return
	}
	s.redirect(w, r, "/trash")
}
