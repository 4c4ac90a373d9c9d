package web

import (
	"errors"
	"net/http"
	"strings"

	"mediashare/internal/apperr"
	"mediashare/internal/blob"
)

// inline are the content types a browser may render from /media; anything
// else is sent as a download.
var inline = map[string]bool{"image/jpeg": true, "image/png": true, "image/gif": true, "image/webp": true, "image/avif": true}

// download are the image types most browsers cannot show: sent with their
// type, as a download (the entry page offers them so).
var download = map[string]bool{"image/heic": true}

// mediaGet serves GET /media/{key...}: originals and thumbnails, with
// ranges, ETags and immutable caching (keys are never reused for other
// content).
func (s *Server) mediaGet(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("key")
	notFound := apperr.New(apperr.NotFound, "There is no such file.")
	if !blob.ValidKey(key) {
		s.renderError(w, r, notFound)
		return
	}
	o, err := s.Blobs.Open(r.Context(), key)
	if errors.Is(err, blob.ErrNotFound) {
		s.renderError(w, r, notFound)
		return
	}
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	defer o.Close()
	info := o.Info()
	h := w.Header()
	ct := strings.ToLower(info.ContentType)
	switch {
	case inline[ct]:
		h.Set("Content-Type", ct)
	case download[ct]:
		h.Set("Content-Type", ct)
		h.Set("Content-Disposition", "attachment")
	default:
		h.Set("Content-Type", "application/octet-stream")
		h.Set("Content-Disposition", "attachment")
	}
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	if info.ETag != "" {
		h.Set("ETag", info.ETag)
	}
	http.ServeContent(w, r, "", info.ModTime, o)
}
