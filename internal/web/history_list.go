package web

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"

	"mediashare/internal/apperr"

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
// by type and entry, paginated; accounts' events only for admins
// (historyScope).
func (s *Server) historyList(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f, err := gallery.ParseFilter(q.Get("type"), q.Get("entry"))
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	f, seesAccounts, err := s.historyScope(PrincipalFrom(r.Context()), f)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	rows, next, err := s.Gallery.History(r.Context(), f, q.Get("before"), historyPageSize)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	rows = visibleRows(rows, seesAccounts)
	filters := url.Values{}
	for _, k := range []string{"type", "entry"} {
		if v := q.Get(k); v != "" {
			filters.Set(k, v)
		}
	}
	h := views.HistoryPage{Rows: auditRowsOf(rows), Types: historyTypes(seesAccounts), Type: q.Get("type"), Entry: q.Get("entry"), NDJSONURL: "/history.ndjson"}
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

// The NDJSON export's pages: at most exportMaxRows rows (fewer with
// ?limit=), gathered in at most exportMaxReads reads of the audit log.
const (
	exportMaxRows  = 1000
	exportMaxReads = 10
)

// historyExport serves GET /history.ndjson: the same events, newest first,
// one JSON object a line, a page of at most exportMaxRows (or ?limit=)
// rows from ?before=. When there is more, the Link header (rel="next")
// and the X-Next-Before header give the next page.
func (s *Server) historyExport(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	fail := func(err error) {
		if status(err) >= 500 {
			s.log().Error("history export failed", "error", err)
		}
		http.Error(w, apperr.MessageOf(err), status(err))
	}
	f, err := gallery.ParseFilter(q.Get("type"), q.Get("entry"))
	if err != nil {
		fail(err)
		return
	}
	f, seesAccounts, err := s.historyScope(PrincipalFrom(r.Context()), f)
	if err != nil {
		fail(err)
		return
	}
	limit := exportMaxRows
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > exportMaxRows {
			fail(apperr.New(apperr.Invalid, "limit must be a whole number from 1 to %d.", exportMaxRows))
			return
		}
		limit = n
	}
	before := q.Get("before")
	var rows []gallery.AuditRow
	for read := 0; read < exportMaxReads && len(rows) < limit; read++ {
		page, next, err := s.Gallery.History(r.Context(), f, before, min(500, limit-len(rows)))
		if err != nil {
			fail(err)
			return
		}
		rows = append(rows, visibleRows(page, seesAccounts)...)
		before = next
		if next == "" {
			break
		}
	}
	if before != "" {
		next := url.Values{}
		for _, k := range []string{"type", "entry"} {
			if v := q.Get(k); v != "" {
				next.Set(k, v)
			}
		}
		if q.Has("limit") {
			next.Set("limit", strconv.Itoa(limit))
		}
		next.Set("before", before)
		w.Header().Set("Link", "</history.ndjson?"+next.Encode()+`>; rel="next"`)
		w.Header().Set("X-Next-Before", before)
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Header().Set("Cache-Control", "no-store")
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	for _, row := range rows {
		if err := enc.Encode(row.Event.Record()); err != nil {
			return
		}
	}
	bw.Flush()
}
