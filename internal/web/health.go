package web

import (
	"context"
	"net/http"
	"time"
)

// readiness says whether every store answers.
type readiness interface {
	Ready(ctx context.Context) error
}

// healthz answers while the process is up.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte("ok\n"))
}

// readyz answers 200 when every store is reachable, 503 otherwise.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err := s.Gallery.Ready(ctx); err != nil {
		s.log().Warn("not ready", "error", err)
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte("unavailable: a store did not answer\n"))
		return
	}
	w.Write([]byte("ok\n"))
}
