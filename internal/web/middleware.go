package web

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"mediashare/internal/apperr"
)

// statusWriter remembers the status code. Unwrap lets
// http.ResponseController reach the Flusher of the real writer.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// instrument counts requests and their durations by route pattern (never
// the raw path, which would make a label per entry).
func (s *Server) instrument(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Live streams stay open for as long as a page does: they are
		// counted by mediashare_live_clients, not as requests in flight,
		// so that the in-flight gauge measures load (scaling tracks it).
		if r.URL.Path != "/live" {
			s.Metrics.InFlight.Inc()
			defer s.Metrics.InFlight.Dec()
		}
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		var route string
		next.ServeHTTP(sw, r.WithContext(context.WithValue(r.Context(), patternKey{}, &route)))
		if route == "" || route == "/" {
			route = "unmatched"
		}
		code := sw.code
		if code == 0 {
			code = http.StatusOK
		}
		s.Metrics.Requests.WithLabelValues(route, r.Method, strconv.Itoa(code)).Inc()
		s.Metrics.RequestDuration.WithLabelValues(route, r.Method).Observe(time.Since(start).Seconds())
		if code >= 500 {
			s.log().Error("request failed", "method", r.Method, "route", route, "code", code, "duration", time.Since(start))
		}
	})
}

type patternKey struct{}

// recordPattern wraps the mux and hands the matched route pattern back to
// instrument, which runs outside middleware that copies the request.
func recordPattern(mux http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mux.ServeHTTP(w, r)
		if p, ok := r.Context().Value(patternKey{}).(*string); ok {
			*p = r.Pattern
		}
	})
}

func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log().Error("handler panicked", "method", r.Method, "path", r.URL.Path, "error", v)
				s.renderError(w, r, errors.New("panic"))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// securityHeaders sets the headers every response carries. Media
// responses tighten them further.
// mediaOrigin, when set, is where images also come from (a bucket or CDN).
func securityHeaders(next http.Handler, mediaOrigin string) http.Handler {
	img := "'self' data: blob:"
	if mediaOrigin != "" {
		img += " " + mediaOrigin
	}
	csp := "default-src 'self'; img-src " + img + "; style-src 'self' 'unsafe-inline'; script-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		next.ServeHTTP(w, r)
	})
}

// crossOrigin rejects state-changing requests from other origins (CSRF),
// using the browser's Sec-Fetch-Site and Origin headers.
func crossOrigin(next http.Handler, render func(http.ResponseWriter, *http.Request, error)) http.Handler {
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		render(w, r, apperr.New(apperr.Forbidden, "This request came from another site and was refused."))
	}))
	return cop.Handler(next)
}
