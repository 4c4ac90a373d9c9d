package web

import (
	"context"
	"net/http"

	"mediashare/internal/apperr"
	"mediashare/internal/events"
	"mediashare/internal/projections"
	"mediashare/views"
)

// entryReader is what the entry page and its card read: a visible entry
// and its history, or a NotFound error.
type entryReader interface {
	Entry(ctx context.Context, eib string) (projections.Entry, []events.Event, error)
}

// entryCard serves GET /entries/{eib}/card: one card, which a processing
// card polls until its preview is ready. A deleted entry answers with
// nothing, so its card disappears.
func (s *Server) entryCard(w http.ResponseWriter, r *http.Request) {
	e, _, err := s.Gallery.Entry(r.Context(), r.PathValue("eib"))
	if apperr.CodeOf(err) == apperr.NotFound {
		html(w, http.StatusOK)
		return
	}
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	html(w, http.StatusOK)
	views.Card(cardOf(e), "").Render(r.Context(), w)
}
