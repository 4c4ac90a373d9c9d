package web

import "net/http"

// htmx describes the htmx headers of a request, parsed once.
type htmx struct {
	Request        bool // HX-Request: the request came from htmx
	HistoryRestore bool // HX-History-Restore-Request: wants a whole page
	Target         string
}

func htmxOf(r *http.Request) htmx {
	return htmx{
		Request:        r.Header.Get("HX-Request") == "true",
		HistoryRestore: r.Header.Get("HX-History-Restore-Request") == "true",
		Target:         r.Header.Get("HX-Target"),
	}
}

// Partial reports whether to answer with a fragment instead of a page.
func (h htmx) Partial() bool { return h.Request && !h.HistoryRestore }

// html prepares an HTML response that differs by the HX-Request header.
func html(w http.ResponseWriter, code int) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Add("Vary", "HX-Request")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
}
