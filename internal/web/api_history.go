package web

import (
	"net/http"

	"mediashare/internal/authstore"
	"mediashare/internal/events"
	"mediashare/internal/gallery"
	"mediashare/internal/policy"
)

// apiEvents is a run of events as the API shows them: the records of
// /history.ndjson.
type apiEvents struct {
	Events     []events.Record `json:"events"`
	NextCursor string          `json:"next_cursor,omitempty"`
}

// apiEntryHistory serves GET /api/v1/entries/{eib}/history: the entry's
// events, oldest first.
func (s *Server) apiEntryHistory(w http.ResponseWriter, r *http.Request) {
	if !s.apiQuery(w, r) {
		return
	}
	if _, _, err := s.apiToken(r, authstore.ScopeRead, true); err != nil {
		s.apiError(w, r, err)
		return
	}
	_, history, err := s.Gallery.Entry(r.Context(), r.PathValue("eib"))
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	out := apiEvents{Events: make([]events.Record, len(history))}
	for i, e := range history {
		out.Events[i] = e.Record()
	}
	s.writeJSON(w, http.StatusOK, out)
}

// apiHistory serves GET /api/v1/history: every event, newest first, by
// ?type= and ?entry=, a page at a time (?limit=, ?cursor=); accounts'
// events only with an admin's token (historyScope).
func (s *Server) apiHistory(w http.ResponseWriter, r *http.Request) {
	if !s.apiQuery(w, r, "type", "entry", "cursor", "limit") {
		return
	}
	t, acct, err := s.apiToken(r, authstore.ScopeRead, true)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	q := r.URL.Query()
	f, err := gallery.ParseFilter(q.Get("type"), q.Get("entry"))
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	f, seesAccounts, err := s.historyScope(policy.Principal{AccountID: t.AccountID, Name: acct.DisplayName, Admin: acct.IsAdmin()}, f)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	limit := historyPageSize
	if v := q.Get("limit"); v != "" {
		if limit, err = apiLimit(v, 500); err != nil {
			s.apiError(w, r, err)
			return
		}
	}
	rows, next, err := s.Gallery.History(r.Context(), f, q.Get("cursor"), limit)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	rows = visibleRows(rows, seesAccounts)
	out := apiEvents{Events: make([]events.Record, len(rows)), NextCursor: next}
	for i, row := range rows {
		out.Events[i] = row.Event.Record()
	}
	s.writeJSON(w, http.StatusOK, out)
}
