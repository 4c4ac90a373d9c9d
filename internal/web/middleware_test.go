package web

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestLabelsAreClosedSets(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"GET", "GET"}, {"DELETE", "DELETE"}, {"get", "other"}, {"M12345", "other"}, {"", "other"}, {"PROPFIND", "other"},
	} {
		if got := methodLabel(tc.in); got != tc.want {
			t.Errorf("methodLabel(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	for _, tc := range []struct {
		in   int
		want string
	}{{200, "200"}, {429, "429"}, {507, "507"}, {299, "other"}, {999, "other"}, {-1, "other"}} {
		if got := codeLabel(tc.in); got != tc.want {
			t.Errorf("codeLabel(%d) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestStrictTransportSecurityWhenSecure(t *testing.T) {
	ok := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	for _, secure := range []bool{false, true} {
		w := httptest.NewRecorder()
		securityHeaders(ok, "", secure).ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
		if got := w.Header().Get("Strict-Transport-Security") != ""; got != secure {
			t.Errorf("secure %v: HSTS sent %v", secure, got)
		}
	}
}
