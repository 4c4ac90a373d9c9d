// Package web is mediashare's HTTP layer: routes, middleware and thin
// handlers that parse a request, call the gallery service and render a
// templ view (a whole page, or an htmx fragment).
package web

import (
	"log/slog"
	"net/http"
	"time"

	"mediashare/internal/blob"
	"mediashare/internal/gallery"
	"mediashare/internal/live"
	"mediashare/internal/metrics"
	"mediashare/internal/projections"
	"mediashare/static"
	"mediashare/views"
)

// Server holds what the handlers need.
type Server struct {
	Gallery *gallery.Service
	Blobs   blob.Store
	Metrics *metrics.Metrics
	Assets  *static.Assets
	Owners  *Owners
	Log     *slog.Logger

	// The live gallery.
	Live      *live.Hub
	Changes   projections.ChangeLog
	Heartbeat time.Duration   // between keep-alive comments on idle streams
	Done      <-chan struct{} // closed when the server shuts down: live streams end
}

// Handler returns the site with its middleware.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.galleryList)
	mux.HandleFunc("POST /entries", s.entryCreate)
	mux.HandleFunc("GET /entries/{eib}", s.entryShow)
	mux.HandleFunc("GET /entries/{eib}/card", s.entryCard)
	mux.HandleFunc("DELETE /entries/{eib}", s.entryDelete)
	mux.HandleFunc("POST /entries/{eib}/delete", s.entryDelete)
	mux.HandleFunc("GET /media/{key...}", s.mediaGet)
	mux.HandleFunc("GET /live", s.liveStream)
	mux.HandleFunc("GET /history", s.historyList)
	mux.HandleFunc("GET /history.ndjson", s.historyExport)
	mux.Handle("GET /static/", s.Assets)
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.Handle("GET /metrics", s.Metrics.Handler())
	mux.HandleFunc("/", s.notFound)

	h := recordPattern(mux)
	h = s.Owners.Middleware(h)
	h = crossOrigin(h, s.renderError)
	h = securityHeaders(h)
	h = s.instrument(h)
	h = s.recoverPanics(h)
	return h
}

func (s *Server) page(r *http.Request, title string) views.Page {
	return views.Page{Asset: s.Assets.URL, Viewer: OwnerFrom(r.Context()), Title: title}
}

func (s *Server) log() *slog.Logger {
	if s.Log == nil {
		return slog.Default()
	}
	return s.Log
}
