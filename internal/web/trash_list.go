package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"mediashare/internal/events"
	"mediashare/internal/projections"
	"mediashare/views"
)

// trashReader reads the visitor's trash and the entries they may open.
type trashReader interface {
	TrashPage(ctx context.Context, owner, cursor string) (projections.Page, error)
	EntryFor(ctx context.Context, eib, viewer string) (projections.Entry, []events.Event, error)
}

// trashList serves GET /trash: the visitor's trashed entries, with
// "restore" and "delete now", and until when each is kept.
func (s *Server) trashList(w http.ResponseWriter, r *http.Request) {
	after := r.URL.Query().Get("after")
	if len(after) > 128 {
		after = "bad"
	}
	page, err := s.Gallery.TrashPage(r.Context(), PrincipalFrom(r.Context()).OwnerID(), after)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	t := views.TrashPage{Retention: humanDuration(s.Gallery.UploadLimits().TrashRetention)}
	for _, e := range page.Entries {
		t.Entries = append(t.Entries, views.TrashCard{EntryCard: cardOf(e), Until: e.TrashUntil})
	}
	if page.Next != "" {
		t.Next = "/trash?after=" + url.QueryEscape(page.Next)
	}
	html(w, http.StatusOK)
	views.Trash(s.page(r, "Trash"), t).Render(r.Context(), w)
}

// humanDuration says a retention for people: "30 days", "2 hours", "90s".
func humanDuration(d time.Duration) string {
	switch {
	case d <= 0:
		return "no time at all"
	case d%(24*time.Hour) == 0:
		return plural(int(d/(24*time.Hour)), "day")
	case d%time.Hour == 0:
		return plural(int(d/time.Hour), "hour")
	case d%time.Minute == 0:
		return plural(int(d/time.Minute), "minute")
	}
	return d.String()
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}
