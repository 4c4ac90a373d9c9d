package web

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"mediashare/internal/apperr"
	"mediashare/internal/entry"
	"mediashare/internal/events"
)

// eraser erases an entry for its owner or an admin.
type eraser interface {
	Erase(ctx context.Context, eib string, a entry.Actor, reason string) (events.Event, error)
}

// maxFormBytes bounds the small forms (erase, report): a reason and a few fields.
const maxFormBytes = 16 << 10

// smallForm reads a urlencoded or multipart form of at most maxFormBytes.
func smallForm(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	var err error
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/") {
		err = r.ParseMultipartForm(maxFormBytes)
	} else {
		err = r.ParseForm() // ParseMultipartForm would hide its error behind ErrNotMultipart
	}
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return apperr.New(apperr.TooLarge, "This form is larger than %d KiB.", maxFormBytes>>10)
	case err != nil:
		return apperr.New(apperr.Invalid, "The form could not be read.")
	}
	return nil
}

// entryErase serves POST /entries/{eib}/erase: its owner or an admin
// erases an entry (from the gallery or the trash) with a reason (an
// admin must give one). The title, comment and file name are shredded and
// the files removed; the audit log keeps that it was erased, when, by
// whom and why. The entry aggregate decides who may.
func (s *Server) entryErase(w http.ResponseWriter, r *http.Request) {
	eib := r.PathValue("eib")
	if err := smallForm(w, r); err != nil {
		s.renderError(w, r, err)
		return
	}
	p := PrincipalFrom(r.Context())
	if err := s.policy().MayAct(p); err != nil {
		s.renderError(w, r, apperr.New(apperr.Forbidden, "This browser's ownership could not be verified, so it cannot erase for now. Nothing was erased."))
		return
	}
	a := p.Actor()
	if p.Admin {
		a.As = p.EventActor()
	}
	if _, err := s.Gallery.Erase(r.Context(), eib, a, r.PostFormValue("reason")); err != nil {
		s.renderError(w, r, err)
		return
	}
	to := "/"
	if p.Admin && r.PostFormValue("from") == "admin" {
		to = "/admin?done=erased"
	}
	if htmxOf(r).Request {
		w.Header().Set("HX-Redirect", to)
		w.WriteHeader(http.StatusOK)
		return
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}
