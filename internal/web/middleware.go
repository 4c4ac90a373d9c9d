package web

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"sync/atomic"
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
		method := methodLabel(r.Method)
		s.Metrics.Requests.WithLabelValues(route, method, codeLabel(code)).Inc()
		s.Metrics.RequestDuration.WithLabelValues(route, method).Observe(time.Since(start).Seconds())
		if code >= 500 {
			s.log().Error("request failed", "method", method, "route", route, "code", code, "duration", time.Since(start))
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
// With secure (cookies are Secure: the site is behind TLS) responses
// carry Strict-Transport-Security, so a browser never sends the owner
// cookie's request over plain HTTP again.
func securityHeaders(next http.Handler, mediaOrigin string, secure bool) http.Handler {
	img := "'self' data: blob:"
	if mediaOrigin != "" {
		img += " " + mediaOrigin
	}
	csp := "default-src 'self'; img-src " + img + "; style-src 'self' 'unsafe-inline'; script-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
	// Made once: each response gets these values as h.Set would give
	// them (one value each), shared read-only (Set replaces a value; Add
	// copies it, its length being its capacity).
	set := http.Header{}
	set.Set("Content-Security-Policy", csp)
	set.Set("X-Content-Type-Options", "nosniff")
	set.Set("X-Frame-Options", "DENY")
	set.Set("Referrer-Policy", "same-origin")
	set.Set("Cross-Origin-Opener-Policy", "same-origin")
	if secure {
		set.Set("Strict-Transport-Security", "max-age=31536000")
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		for k, v := range set {
			h[k] = v
		}
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
	protected := cop.Handler(next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if corsAllowed(r) {
			next.ServeHTTP(w, r) // an API call from an origin --api-cors-origins allows
			return
		}
		protected.ServeHTTP(w, r)
	})
}

// methodLabel is the method as a label value from a closed set: anything
// but the standard methods is "other", so junk methods add no series.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return "other"
}

// codeLabel is the status code as a label value: a code net/http knows
// by name, or "other".
func codeLabel(code int) string {
	if http.StatusText(code) == "" {
		return "other"
	}
	return strconv.Itoa(code)
}

// deadlines bounds how long a request may take to arrive and its answer
// to leave: request bodies keep up a minimum rate within a deadline
// (slow ones are cut off with 408), and every response but the live
// stream gets a write deadline. The live stream is bounded by its caps
// instead.
func (s *Server) deadlines(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/live" {
			if s.WriteTimeout > 0 {
				d := s.WriteTimeout
				if r.Body != nil && r.Body != http.NoBody {
					d += s.Body.Deadline // the answer comes after the body
				}
				http.NewResponseController(w).SetWriteDeadline(time.Now().Add(d))
			}
			s.Body.Wrap(w, r)
		}
		next.ServeHTTP(w, r)
	})
}

// extendWriteDeadline gives the answer a full WriteTimeout from now (once
// the request's body has been read).
func (s *Server) extendWriteDeadline(w http.ResponseWriter) {
	if s.WriteTimeout > 0 {
		http.NewResponseController(w).SetWriteDeadline(time.Now().Add(s.WriteTimeout))
	}
}

// noteUnverified logs (at most once a second) and counts requests whose
// owner cookie failed verification.
func (s *Server) noteUnverified(next http.Handler) http.Handler {
	var last atomic.Int64
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if OwnerUnverified(r.Context()) {
			if s.Metrics != nil && s.Metrics.OwnerUnverified != nil {
				s.Metrics.OwnerUnverified.Inc()
			}
			now := time.Now().Unix()
			if prev := last.Load(); prev != now && last.CompareAndSwap(prev, now) {
				s.log().Warn("owner cookie failed verification: kept, request served without an owner (check that every instance has the same --secret-file keys)",
					"path", r.URL.Path)
			}
		}
		next.ServeHTTP(w, r)
	})
}
