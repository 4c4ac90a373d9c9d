package web

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"mediashare/internal/authstore"
	"mediashare/internal/people"
)

// The session cookie: __Host- prefixed, Secure, HttpOnly, SameSite=Lax,
// path / behind TLS; its signature verifies under any listed key, and a
// value signed by another key, or tampered with, is refused.
func TestSessionCookie(t *testing.T) {
	secret, _, err := authstore.NewSecret(authstore.SessionPrefix)
	if err != nil {
		t.Fatal(err)
	}
	signed := people.Signed{Secret: secret, Session: authstore.Session{Expires: time.Now().Add(time.Hour)}}
	for _, secure := range []bool{false, true} {
		s := &Server{Owners: &Owners{Keys: [][]byte{[]byte("the newest key of this site")}, Secure: secure}}
		w := httptest.NewRecorder()
		s.setSession(w, signed)
		cs := w.Result().Cookies()
		if len(cs) != 1 {
			t.Fatalf("secure=%v: %d cookies", secure, len(cs))
		}
		c := cs[0]
		wantName := "mediashare_session"
		if secure {
			wantName = "__Host-mediashare_session"
		}
		if c.Name != wantName || c.Secure != secure || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Domain != "" || c.MaxAge <= 0 || c.MaxAge > 3600 {
			t.Errorf("secure=%v: cookie %+v", secure, c)
		}
		if got, ok := s.sessionSecret(c.Value); !ok || got != secret {
			t.Errorf("secure=%v: its own cookie does not verify", secure)
		}
		// Rotated: a new key first, the old one kept below it, still verifies.
		rotated := &Server{Owners: &Owners{Keys: [][]byte{[]byte("a brand new key, rotated in"), []byte("the newest key of this site")}}}
		if _, ok := rotated.sessionSecret(c.Value); !ok {
			t.Error("a cookie signed by a key kept below the new one is refused")
		}
		other := &Server{Owners: &Owners{Keys: [][]byte{[]byte("another site's key entirely")}}}
		if _, ok := other.sessionSecret(c.Value); ok {
			t.Error("another site's key verified our cookie")
		}
		sec, sig, _ := strings.Cut(c.Value, ".")
		for _, bad := range []string{"", sec, sec + ".", "." + sig, sec + "x." + sig, "mst_" + sec[4:] + "." + sig, strings.Repeat("a", 300) + "." + sig} {
			if _, ok := s.sessionSecret(bad); ok {
				t.Errorf("a tampered value %.40q verified", bad)
			}
		}
		w = httptest.NewRecorder()
		s.clearSession(w)
		if cl := w.Result().Cookies(); len(cl) != 1 || cl[0].Name != wantName || cl[0].MaxAge >= 0 {
			t.Errorf("clearing: %+v", cl)
		}
	}
}

func TestSafeReturn(t *testing.T) {
	for in, want := range map[string]string{
		"/entries/01J": "/entries/01J", "/account?x=1": "/account?x=1", "": "/", "//evil.example": "/", "https://evil.example/": "/",
		`/\evil.example`: "/", "/a b": "/", "/a\tb": "/", "/a\nb": "/", "relative": "/", "/" + strings.Repeat("a", 2000): "/",
	} {
		if got := safeReturn(in); got != want {
			t.Errorf("safeReturn(%q) = %q, want %q", in, got, want)
		}
	}
}
