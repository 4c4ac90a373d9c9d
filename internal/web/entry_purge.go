package web

import (
	"context"
	"net/http"

	"mediashare/internal/entry"
)

// purger deletes entries for good now.
type purger interface {
	Purge(ctx context.Context, eib string, a entry.Actor) error
	EmptyTrash(ctx context.Context, owner string) (int, error)
}

// entryPurge serves POST /entries/{eib}/purge: "delete now" of an entry
// in the visitor's trash. The blobs go, the history stays.
func (s *Server) entryPurge(w http.ResponseWriter, r *http.Request) {
	p := PrincipalFrom(r.Context())
	if err := s.policy().MayAct(p); err != nil {
		s.renderError(w, r, err)
		return
	}
	if err := s.Gallery.Purge(r.Context(), r.PathValue("eib"), p.Actor()); err != nil {
		s.renderError(w, r, err)
		return
	}
	s.redirect(w, r, "/trash")
}
