package web

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/url"

	"mediashare/internal/events"
	"mediashare/internal/gallery"
	"mediashare/views"
)

// auditLog reads the audit log newest first.
type auditLog interface {
	History(ctx context.Context, f events.Filter, before string, limit int) ([]gallery.AuditRow, string, error)
}

const historyPageSize = 50

// historyList serves GET /history: every event, newest first, filterable
// by type and entry, paginated.
func (s *Server) historyList(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f, err := gallery.ParseFilter(q.Get("type"), q.Get("entry"))
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	rows, next, err := s.Gallery.History(r.Context(), f, q.Get("before"), historyPageSize)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	filters := url.Values{}
	for _, k := range []string{"type", "entry"} {
		if v := q.Get(k); v != "" {
			filters.Set(k, v)
		}
	}
	h := views.HistoryPage{Rows: auditRowsOf(rows), Types: eventTypes(), Type: q.Get("type"), Entry: q.Get("entry"), NDJSONURL: "/history.ndjson"}
	if len(filters) > 0 {
		h.NDJSONURL += "?" + filters.Encode()
	}
	if next != "" {
		filters.Set("before", next)
		h.Older = "/history?" + filters.Encode()
	}
	html(w, http.StatusOK)
	views.History(s.page(r, "History"), h).Render(r.Context(), w)
}

// historyExport serves GET /history.ndjson: the same events, newest first,
// one JSON object a line, streamed page by page.
func (s *Server) historyExport(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f, err := gallery.ParseFilter(q.Get("type"), q.Get("entry"))
	if err != nil {
		http.Error(w, err.Error(), status(err))
		return
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Header().Set("Cache-Control", "no-store")
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	rc := http.NewResponseController(w)
	before := ""
	for {
		rows, next, err := s.Gallery.History(r.Context(), f, before, 500)
		if err != nil {
			// Headers are gone: end the stream early; the client sees a short body.
			s.log().Error("history export failed", "error", err)
			bw.Flush()
			return
		}
		for _, row := range rows {
			if err := enc.Encode(row.Event.Record()); err != nil {
				return
			}
		}
		bw.Flush()
		rc.Flush()
		if next == "" {
			return
		}
		before = next
	}
}
