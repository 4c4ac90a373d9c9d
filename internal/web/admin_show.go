package web

import (
	"context"
	"net/http"
	"net/url"

	"mediashare/internal/apperr"
	"mediashare/internal/entry"
	"mediashare/internal/events"
	"mediashare/internal/gallery"
	"mediashare/internal/ids"
	"mediashare/views"
)

// moderator reads the admins' queue and closes reports.
type moderator interface {
	Queue(ctx context.Context, before string, limit int) ([]gallery.Reported, string, error)
	Dismiss(ctx context.Context, eib, report string, a entry.Actor, reason string) error
}

const queuePageSize = 50

// adminShow serves GET /admin: the queue of entries with open reports,
// for admins only, with what an admin may do about each (dismiss a
// report, remove the entry, erase it).
func (s *Server) adminShow(w http.ResponseWriter, r *http.Request) {
	p := PrincipalFrom(r.Context())
	if err := s.policy().MayModerate(p); err != nil {
		s.renderError(w, r, err)
		return
	}
	q := r.URL.Query()
	rows, next, err := s.Gallery.Queue(r.Context(), q.Get("before"), queuePageSize)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	v := views.AdminPage{}
	for _, row := range rows {
		e := views.ReportedEntry{EntryCard: cardOf(row.Entry)}
		e.EIB = row.Entry.EIB
		if e.Title == "" {
			e.Title = row.Entry.EIB
		}
		for _, rep := range row.Reports {
			e.Reports = append(e.Reports, views.OpenReport{ID: rep.ID, Time: rep.At, Reason: rep.Reason, Text: rep.Text, Reporter: shortID(rep.Reporter)})
		}
		v.Entries = append(v.Entries, e)
	}
	if next != "" {
		v.Older = "/admin?" + url.Values{"before": {next}}.Encode()
	}
	if s.People != nil {
		users, err := s.People.Users(r.Context())
		if err != nil {
			s.renderError(w, r, err)
			return
		}
		for _, a := range users {
			v.Accounts = append(v.Accounts, views.AdminAccount{ID: a.ID, Name: a.DisplayName, Admin: a.Role == events.RoleAdmin,
				Disabled: a.Disabled, Self: a.ID == p.AccountID})
		}
	}
	switch q.Get("done") {
	case "dismissed":
		v.Notice = "The report was dismissed."
	case "erased":
		v.Notice = "The entry was erased."
	case "account":
		v.Notice = "The account was changed."
	}
	html(w, http.StatusOK)
	views.Admin(s.page(r, "Moderation"), v).Render(r.Context(), w)
}

// reportDismiss serves POST /entries/{eib}/reports/{report}/dismiss: an
// admin closes a report without removing the entry.
func (s *Server) reportDismiss(w http.ResponseWriter, r *http.Request) {
	if err := smallForm(w, r); err != nil {
		s.renderError(w, r, err)
		return
	}
	p := PrincipalFrom(r.Context())
	if err := s.policy().MayModerate(p); err != nil {
		s.renderError(w, r, err)
		return
	}
	report := r.PathValue("report")
	if !ids.Valid(report) {
		s.renderError(w, r, errNoReport)
		return
	}
	a := p.Actor()
	a.As = p.EventActor()
	if err := s.Gallery.Dismiss(r.Context(), r.PathValue("eib"), report, a, r.PostFormValue("reason")); err != nil {
		s.renderError(w, r, err)
		return
	}
	http.Redirect(w, r, "/admin?done=dismissed", http.StatusSeeOther)
}

// shortID is the start of an opaque id, enough for an admin to tell
// reporters apart.
func shortID(id string) string {
	if id == "" {
		return "an anonymous visitor"
	}
	if len(id) > 13 {
		return id[:13] + "…"
	}
	return id
}

var errNoReport = apperr.New(apperr.NotFound, "There is no such open report.")

// accountModerate serves POST /admin/accounts/{id}/{action}: an admin
// promotes, demotes, disables or enables an account (with a reason for
// the last two), as the account aggregate decides.
func (s *Server) accountModerate(w http.ResponseWriter, r *http.Request) {
	if err := smallForm(w, r); err != nil {
		s.renderError(w, r, err)
		return
	}
	if s.People == nil {
		s.renderError(w, r, apperr.New(apperr.NotFound, "This site has no accounts."))
		return
	}
	p := PrincipalFrom(r.Context())
	if _, err := s.People.Moderate(r.Context(), p, r.PathValue("id"), r.PathValue("action"), r.PostFormValue("reason")); err != nil {
		s.renderError(w, r, err)
		return
	}
	http.Redirect(w, r, "/admin?done=account", http.StatusSeeOther)
}
