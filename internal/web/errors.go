package web

import (
	"errors"
	"net/http"
	"strconv"

	"mediashare/internal/apperr"
	"mediashare/internal/limits"
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
	case apperr.TooMany:
		return http.StatusTooManyRequests
	case apperr.Timeout:
		return http.StatusRequestTimeout
	case apperr.NoSpace:
		return http.StatusInsufficientStorage
	}
	return http.StatusInternalServerError
}

// renderError answers with an error page (or, for htmx, the page body's
// message), logging what is not the client's fault.
func (s *Server) renderError(w http.ResponseWriter, r *http.Request, err error) {
	if isAPI(r) {
		s.apiError(w, r, err)
		return
	}
	code := status(err)
	if code >= 500 {
		s.log().Error("request error", "method", r.Method, "path", r.URL.Path, "error", err)
	}
	msg := apperr.MessageOf(err)
	retryAfter(w, err)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	views.ErrorPage(s.page(r, http.StatusText(code)), code, msg).Render(r.Context(), w)
}

func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	s.renderError(w, r, apperr.New(apperr.NotFound, "There is nothing at this address."))
}

// refused turns a limit's refusal into an application error (its code
// chosen by the refusal's status), keeping the refusal in the chain for
// retryAfter.
func refused(err error) error {
	var r *limits.Refusal
	if !errors.As(err, &r) {
		return err
	}
	code := apperr.Unavailable
	switch r.Status {
	case http.StatusTooManyRequests:
		code = apperr.TooMany
	case http.StatusRequestTimeout:
		code = apperr.Timeout
	case http.StatusInsufficientStorage:
		code = apperr.NoSpace
	case http.StatusRequestEntityTooLarge:
		code = apperr.TooLarge
	}
	return &apperr.Error{Code: code, Message: r.Message, Field: "file", Err: r}
}

// retryAfter sets Retry-After when err is a refusal that names one.
func retryAfter(w http.ResponseWriter, err error) {
	var r *limits.Refusal
	if errors.As(err, &r) && r.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(r.RetryAfterSeconds()))
	}
}

// countRefusal counts err by its limit's reason, if it is a refusal.
func (s *Server) countRefusal(err error) {
	var r *limits.Refusal
	if errors.As(err, &r) && s.Metrics != nil && s.Metrics.Refused != nil {
		s.Metrics.Refused.WithLabelValues(r.Reason).Inc()
	}
}
