package web

import (
	"net/http"
)

// trashEmpty serves POST /trash/empty: every entry in the visitor's
// trash is deleted for good.
func (s *Server) trashEmpty(w http.ResponseWriter, r *http.Request) {
	p := PrincipalFrom(r.Context())
	if err := s.policy().MayAct(p); err != nil {
		s.renderError(w, r, err)
		return
	}
	if _, err := s.Gallery.EmptyTrash(r.Context(), p.OwnerID()); err != nil {
		s.renderError(w, r, err)
		return
	}
	s.redirect(w, r, "/trash")
}
