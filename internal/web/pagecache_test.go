package web

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"mediashare/internal/ids"
	"mediashare/internal/policy"
	"mediashare/views"
)

// Every field of the principal and of the page's frame is in the key of
// a kept page: a viewer who differs from another in any one of them gets
// a page of their own. (A field this test does not know the kind of
// fails it: teach viewerKey and this test about it.)
func TestViewerKeyNamesEveryField(t *testing.T) {
	base := viewerKey(policy.Principal{}, views.Page{})
	seen := map[string]string{base: "nothing set"}
	try := func(what string, p policy.Principal, pg views.Page) {
		k := viewerKey(p, pg)
		if prev, ok := seen[k]; ok {
			t.Errorf("%s: the same key as %s", what, prev)
		}
		seen[k] = what
	}
	set := func(v reflect.Value, i int, what string) bool {
		f := v.Field(i)
		switch f.Kind() {
		case reflect.String:
			f.SetString("x")
		case reflect.Bool:
			f.SetBool(true)
		case reflect.Func:
			return false // views.Page.Asset: the same on every page
		default:
			t.Fatalf("%s is a %s: viewerKey does not know it", what, f.Kind())
		}
		return true
	}
	pt := reflect.TypeOf(policy.Principal{})
	for i := range pt.NumField() {
		var p policy.Principal
		if set(reflect.ValueOf(&p).Elem(), i, "Principal."+pt.Field(i).Name) {
			try("Principal."+pt.Field(i).Name, p, views.Page{})
		}
	}
	gt := reflect.TypeOf(views.Page{})
	for i := range gt.NumField() {
		var pg views.Page
		if set(reflect.ValueOf(&pg).Elem(), i, "Page."+gt.Field(i).Name) {
			try("Page."+gt.Field(i).Name, policy.Principal{}, pg)
		}
	}
	// Values that run into each other are still told apart.
	try("name ab", policy.Principal{Name: "ab"}, views.Page{})
	try("name a, session b", policy.Principal{Name: "a", Session: "b"}, views.Page{})
	try("name with a separator", policy.Principal{Name: "1:x"}, views.Page{})
}

// A kept page is answered in one piece of a known length, with a fresh
// request id in each place of the token, without rendering again; its
// ETag revalidates (304, no body).
func TestKeptPageAnswers(t *testing.T) {
	s := &Server{}
	renders := 0
	render := func(buf *bytes.Buffer, token string) (bool, error) {
		renders++
		buf.WriteString("<p>" + token + "</p><input value=\"" + token + "\">" + strings.Repeat("x", 5000))
		return true, nil
	}
	answer := func(etag string) *httptest.ResponseRecorder {
		r := httptest.NewRequest("GET", "/", nil)
		if etag != "" {
			r.Header.Set("If-None-Match", etag)
		}
		w := httptest.NewRecorder()
		s.servePage(w, r, "7", "k", render)
		return w
	}
	var bodies []string
	for range 2 {
		w := answer("")
		body := w.Body.String()
		if w.Code != http.StatusOK || w.Header().Get("Content-Length") != strconv.Itoa(len(body)) {
			t.Fatalf("got %d, Content-Length %q for %d bytes", w.Code, w.Header().Get("Content-Length"), len(body))
		}
		if w.Header().Get("ETag") == "" || w.Header().Get("Cache-Control") != "private, no-cache" || strings.Join(w.Header().Values("Vary"), ",") != "HX-Request,Cookie" {
			t.Errorf("headers: %v", w.Header())
		}
		first, rest, _ := strings.Cut(strings.TrimPrefix(body, "<p>"), "</p><input value=\"")
		second, _, _ := strings.Cut(rest, "\"")
		if !ids.Valid(first) || !ids.Valid(second) || first == second || strings.Contains(body, s.pages.token) {
			t.Fatalf("request ids %q and %q in %.80q", first, second, body)
		}
		bodies = append(bodies, first)
	}
	if renders != 1 {
		t.Errorf("rendered %d times, want once", renders)
	}
	if bodies[0] == bodies[1] {
		t.Error("two answers share a request id")
	}
	etag := answer("").Header().Get("ETag")
	if w := answer(etag); w.Code != http.StatusNotModified || w.Body.Len() != 0 || w.Header().Get("ETag") != etag {
		t.Errorf("If-None-Match: got %d with %d bytes, ETag %q", w.Code, w.Body.Len(), w.Header().Get("ETag"))
	}
	if w := answer(`W/"someone else's"`); w.Code != http.StatusOK {
		t.Errorf("another ETag: got %d", w.Code)
	}
}
