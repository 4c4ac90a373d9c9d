package web

import (
	"context"
	"net/http"

	"mediashare/internal/apperr"
	"mediashare/internal/gallery"
	"mediashare/views"
)

// reporter records visitors' reports of entries.
type reporter interface {
	Report(ctx context.Context, in gallery.ReportInput) error
}

// entryReport serves POST /entries/{eib}/report: any visitor reports an
// entry with a reason from the list and an optional text, rate-limited
// per client. The reporter is kept as an opaque id (their account or
// owner cookie) for the admins, never shown on public pages.
func (s *Server) entryReport(w http.ResponseWriter, r *http.Request) {
	eib := r.PathValue("eib")
	if err := smallForm(w, r); err != nil {
		s.renderError(w, r, err)
		return
	}
	p := PrincipalFrom(r.Context())
	if err := s.policy().MayReport(p); err != nil {
		s.renderError(w, r, err)
		return
	}
	in := gallery.ReportInput{EIB: eib, Reporter: p.OwnerID(), Reason: r.PostFormValue("reason"), Text: r.PostFormValue("text"),
		Admit: func() error { return refusedAs(s.Reports.Allow(s.clientKey(r)), "reason") }}
	if err := s.Gallery.Report(r.Context(), in); err != nil {
		s.renderError(w, r, err)
		return
	}
	http.Redirect(w, r, views.EntryURL(eib)+"?reported=1", http.StatusSeeOther)
}

// refusedAs is refused(err) about field.
func refusedAs(err error, field string) error {
	if err == nil {
		return nil
	}
	err = refused(err)
	if e, ok := err.(*apperr.Error); ok {
		e.Field = field
	}
	return err
}
