package main

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestDebugHandlerServesProfilesOnly(t *testing.T) {
	srv := httptest.NewServer(debugHandler())
	defer srv.Close()
	for path, want := range map[string]int{
		"/debug/pprof/":          http.StatusOK,
		"/debug/pprof/goroutine": http.StatusOK,
		"/debug/pprof/nosuch":    http.StatusNotFound,
		"/":                      http.StatusNotFound,
		"/metrics":               http.StatusNotFound,
	} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET %s: %d, want %d", path, resp.StatusCode, want)
		}
	}
}

// With --debug-addr the profiles are on their own listener, never on the
// site's.
func TestDebugAddrIsItsOwnListener(t *testing.T) {
	s := startSite(t, func(c *config) { c.DebugAddr = "127.0.0.1:0" })
	for url, want := range map[string]int{
		s.url + "/debug/pprof/":                       http.StatusNotFound,
		"http://" + s.app.debugAddr + "/debug/pprof/": http.StatusOK,
	} {
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET %s: %d, want %d", url, resp.StatusCode, want)
		}
	}
}
