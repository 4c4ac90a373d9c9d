package web

import (
	"context"
	"net/http"
	"sync"
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

// readyCache holds the last readiness check: the backend is probed at
// most once a second however often /readyz is asked.
type readyCache struct {
	mu  sync.Mutex
	at  time.Time
	err error
}

// readyProbeEvery is how often /readyz may probe the stores.
const readyProbeEvery = time.Second

func (s *Server) readiness(ctx context.Context) error {
	c := &s.ready
	c.mu.Lock() // callers wait for a probe in progress, then share its answer
	defer c.mu.Unlock()
	if !c.at.IsZero() && time.Since(c.at) < readyProbeEvery {
		return c.err
	}
	// The probe is the server's, not this request's: a caller who hangs
	// up does not make the answer "unavailable" for everyone else.
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 3*time.Second)
	defer cancel()
	c.err = s.Gallery.Ready(pctx)
	c.at = time.Now()
	if s.Metrics != nil && s.Metrics.ReadyProbes != nil {
		s.Metrics.ReadyProbes.Inc()
	}
	return c.err
}

// readyz answers 200 when every store is reachable, 503 otherwise, from
// a check at most a second old.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err := s.readiness(r.Context()); err != nil {
		s.log().Warn("not ready", "error", err)
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte("unavailable: a store did not answer\n"))
		return
	}
	w.Write([]byte("ok\n"))
}
