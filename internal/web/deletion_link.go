package web

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"

	"mediashare/internal/apperr"
	"mediashare/internal/entry"
	"mediashare/internal/ids"
	"mediashare/internal/projections"
	"mediashare/views"
)

// Deletion links: every upload through the API gets a link that deletes
// that one entry without a token (GET shows a confirmation page, POST
// deletes), so an uploader such as ShareX can offer "delete". The link's
// key is not stored anywhere: it is an HMAC-SHA256 of the entry's id
// under the site's signing keys (--secret-file, the owner cookies' keys),
// domain-separated from the cookies' signatures. It is unguessable
// without the key, any instance can check it, and rotating a key in
// keeps old links working until the old key is removed.

const deletionDomain = "mediashare deletion link v1\x00"

func deletionKey(key []byte, eib string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(deletionDomain))
	m.Write([]byte(eib))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// deletionPath is the entry's deletion link (a site path).
func (s *Server) deletionPath(eib string) string {
	return views.EntryURL(eib) + "/delete/" + deletionKey(s.Owners.Keys[0], eib)
}

var badDeletionLink = apperr.New(apperr.NotFound, "This deletion link is not valid, or its entry is gone.")

// deletionTarget checks the link and returns its entry.
func (s *Server) deletionTarget(r *http.Request) (projections.Entry, error) {
	eib, key := r.PathValue("eib"), r.PathValue("key")
	if !ids.Valid(eib) || len(key) != 43 {
		return projections.Entry{}, badDeletionLink
	}
	ok := false
	for _, k := range s.Owners.Keys {
		ok = ok || hmac.Equal([]byte(key), []byte(deletionKey(k, eib)))
	}
	if !ok {
		return projections.Entry{}, badDeletionLink
	}
	e, err := s.Gallery.Lookup(r.Context(), eib)
	if errors.Is(err, projections.ErrNotFound) || (err == nil && !e.Visible()) {
		return projections.Entry{}, badDeletionLink
	}
	return e, err
}

// deletionLinkShow serves GET /entries/{eib}/delete/{key}: the
// confirmation page (a GET never deletes: link previews fetch URLs).
func (s *Server) deletionLinkShow(w http.ResponseWriter, r *http.Request) {
	e, err := s.deletionTarget(r)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	w.Header().Set("Referrer-Policy", "no-referrer") // the link is a secret
	html(w, http.StatusOK)
	thumb := ""
	if e.Status == projections.Ready {
		thumb = e.Thumbnail
	}
	views.DeletionConfirm(s.page(r, "Delete "+e.Title), views.DeletionLink{
		EIB: e.EIB, Title: e.Title, Thumbnail: thumb, Action: r.URL.Path,
	}).Render(r.Context(), w)
}

// deletionLinkDelete serves POST /entries/{eib}/delete/{key}: deletes
// the entry as its owner. The pages' cross-origin check applies.
func (s *Server) deletionLinkDelete(w http.ResponseWriter, r *http.Request) {
	e, err := s.deletionTarget(r)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	if err := s.Gallery.Delete(r.Context(), e.EIB, entry.Actor{Owner: e.Owner}); err != nil {
		s.renderError(w, r, err)
		return
	}
	w.Header().Set("Referrer-Policy", "no-referrer")
	html(w, http.StatusOK)
	views.DeletionDone(s.page(r, "Deleted"), e.Title).Render(r.Context(), w)
}
