package web

import (
	"net/http"

	"mediashare/internal/apperr"
	"mediashare/views"
)

// status maps an application error code to its HTTP status: the one
// place where that happens.
func status(err error) int {
	switch apperr.CodeOf(err) {
	case apperr.Invalid:
		return http.StatusBadRequest
	case apperr.NotFound:
		return http.StatusNotFound
	case apperr.Conflict:
		return http.StatusConflict
	case apperr.Forbidden:
		return http.StatusForbidden
	case apperr.TooLarge:
		return http.StatusRequestEntityTooLarge
	case apperr.Unsupported:
		return http.StatusUnsupportedMediaType
	case apperr.Unavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// renderError answers with an error page (or, for htmx, the page body's
// message), logging what is not the client's fault.
func (s *Server) renderError(w http.ResponseWriter, r *http.Request, err error) {
	code := status(err)
	if code >= 500 {
		s.log().Error("request error", "method", r.Method, "path", r.URL.Path, "error", err)
	}
	msg := apperr.MessageOf(err)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	views.ErrorPage(s.page(r, http.StatusText(code)), code, msg).Render(r.Context(), w)
}

func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	s.renderError(w, r, apperr.New(apperr.NotFound, "There is nothing at this address."))
}
