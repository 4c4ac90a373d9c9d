package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"mediashare/internal/limits"
	"mediashare/internal/live"
	"mediashare/internal/projections"
	"mediashare/views"
)

// rowReader reads the entries view's row for an entry, tombstones included.
type rowReader interface {
	Lookup(ctx context.Context, eib string) (projections.Entry, error)
}

// RenderChange renders a change of the entries view as the live stream's
// message: the entry's card as it is now (or its removal).
func (s *Server) RenderChange(ctx context.Context, c projections.Change) (live.Message, error) {
	if s.MediaBase != "" {
		ctx = views.WithMediaBase(ctx, s.MediaBase)
	}
	e, err := s.Gallery.Lookup(ctx, c.EIB)
	if err != nil {
		return live.Message{}, err
	}
	var b strings.Builder
	if err := views.LiveEntry(cardOf(e)).Render(ctx, &b); err != nil {
		return live.Message{}, err
	}
	return live.Message{ID: c.Position, Event: "entry", Data: b.String()}, nil
}

// liveStream serves GET /live: server-sent events for every change of the
// gallery. A browser that reconnects with Last-Event-ID (or ?last=) first
// gets what it missed, from the change log, then the live messages after
// it, each once.
func (s *Server) liveStream(w http.ResponseWriter, r *http.Request) {
	rc := http.NewResponseController(w)
	last := r.Header.Get("Last-Event-ID")
	if last == "" {
		last = r.URL.Query().Get("last")
	}
	if !s.validChangePosition(r.Context(), last) {
		// Never echoed: the stream carries only positions the log made.
		http.Error(w, "The live gallery's last event id is not valid. Reload the page.", http.StatusBadRequest)
		return
	}
	if s.Limits != nil {
		release, err := s.Limits.Stream(s.clientKey(r))
		if err != nil {
			s.refusedStream(w, err)
			return
		}
		defer release()
	}
	// Subscribe before the replay, so nothing falls between the two.
	sub := s.Live.Subscribe()
	defer sub.Close()
	s.Metrics.LiveClients.Inc()
	defer s.Metrics.LiveClients.Dec()

	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	rc.SetWriteDeadline(time.Time{})
	send := func(m live.Message) error {
		var b strings.Builder
		fmt.Fprintf(&b, "id: %s\nevent: %s\n", m.ID, m.Event)
		// A lone CR ends an SSE line too: make every line break LF before
		// splitting, so no data can start a field of its own.
		data := strings.ReplaceAll(strings.ReplaceAll(m.Data, "\r\n", "\n"), "\r", "\n")
		for _, line := range strings.Split(data, "\n") {
			fmt.Fprintf(&b, "data: %s\n", line)
		}
		b.WriteString("\n")
		if _, err := w.Write([]byte(b.String())); err != nil {
			return err
		}
		return rc.Flush()
	}
	fmt.Fprintf(w, "retry: %d\n\n", 1000)
	if err := rc.Flush(); err != nil {
		return
	}

	sent := last
	if r, ok := s.Changes.(projections.ChangeRetention); ok && last != "" && !r.Retains(last) {
		// The log no longer reaches back that far: the page must start over.
		send(live.Message{ID: last, Event: "reload", Data: "the gallery changed too much while you were away"})
		return
	}
	if last != "" {
		for {
			changes, err := s.Changes.Changes(r.Context(), sent, 100)
			if err != nil {
				s.log().Warn("live: replay failed", "after", sent, "error", err)
				return
			}
			for _, c := range changes {
				m, err := s.RenderChange(r.Context(), c)
				if err != nil {
					s.log().Warn("live: replay render failed", "eib", c.EIB, "error", err)
					return
				}
				if send(m) != nil {
					return
				}
				sent = c.Position
			}
			if len(changes) < 100 {
				break
			}
		}
	}

	heartbeat := time.NewTicker(s.heartbeat())
	defer heartbeat.Stop()
	for {
		select {
		case m, ok := <-sub.C:
			if !ok {
				return // dropped for being slow: the browser reconnects and catches up
			}
			if sent != "" && m.ID <= sent {
				continue // already sent by the replay
			}
			if send(m) != nil {
				return
			}
			sent = m.ID
		case <-heartbeat.C:
			if _, err := w.Write([]byte(": ping\n\n")); err != nil || rc.Flush() != nil {
				return
			}
		case <-r.Context().Done():
			return
		case <-s.Done:
			return // shutting down
		}
	}
}

func (s *Server) heartbeat() time.Duration {
	if s.Heartbeat > 0 {
		return s.Heartbeat
	}
	return 15 * time.Second
}

// maxPositionLen bounds a change position a client may send back.
const maxPositionLen = 128

// validChangePosition reports whether p ("" for none) is a position of
// the change log: plain characters only (it goes into the stream's id
// lines) and accepted by the log itself.
func (s *Server) validChangePosition(ctx context.Context, p string) bool {
	if p == "" {
		return true
	}
	if len(p) > maxPositionLen {
		return false
	}
	for _, c := range p {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '#' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	_, err := s.Changes.Changes(ctx, p, 1)
	return !errors.Is(err, projections.ErrBadCursor)
}

// refusedStream answers a live stream over its cap, in plain text (the
// reader is EventSource, which gives up on an error status; the page
// falls back to reloading).
func (s *Server) refusedStream(w http.ResponseWriter, err error) {
	var ref *limits.Refusal
	if !errors.As(err, &ref) {
		http.Error(w, "The live gallery is not available.", http.StatusServiceUnavailable)
		return
	}
	s.countRefusal(err)
	retryAfter(w, err)
	http.Error(w, ref.Message, ref.Status)
}
