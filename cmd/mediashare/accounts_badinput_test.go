package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"mediashare/internal/authstore"
	"mediashare/internal/events"
	"mediashare/internal/media/mediatest"
)

// Every bad input of the account forms: a 4xx with a message the page
// shows, and nothing created.
func TestAccountsBadInput(t *testing.T) { backends(t, testAccountsBadInput) }

func testAccountsBadInput(t *testing.T, start func(func(*config)) *site) {
	s := start(members(func(c *config) { c.SignUp = "open" }))
	alice := browser(t)
	s.signUp(alice, "alice", goodPassword, "")
	registered := func() int { return countType(s.events(), events.AccountRegistered) }
	if n := registered(); n != 1 {
		t.Fatalf("%d accounts after the first sign-up", n)
	}

	signups := []struct {
		name, username, password string
		code                     int
		field, message           string
	}{
		{"blank name", "  ", goodPassword, 400, "username", "username"},
		{"over-long name", strings.Repeat("n", 33), goodPassword, 400, "username", "32"},
		{"a space in the name", "al ice", goodPassword, 400, "username", ""},
		{"a zero-width character", "al\u200bice", goodPassword, 400, "username", ""},
		{"the same name in capitals", "ALICE", goodPassword + " 2", 409, "username", "taken"},
		{"the same name in full-width letters", "ａｌｉｃｅ", goodPassword + " 3", 409, "username", "taken"},
		{"a short password", "bob", "short", 400, "password", "10"},
		{"a common password", "bob", "password123", 400, "password", "common"},
		{"a password that is the name", "bobbybobby", "bobbybobby", 400, "password", ""},
		{"an invite that is not one", "bob", goodPassword, 400, "invite", "not valid"},
	}
	for _, tt := range signups {
		t.Run(tt.name, func(t *testing.T) {
			form := url.Values{"username": {tt.username}, "password": {tt.password}}
			if tt.field == "invite" {
				form.Set("invite", "msi_"+strings.Repeat("x", 43))
			}
			resp := s.postForm(browser(t), "/signup", form)
			msg, field := formError(t, resp)
			if resp.StatusCode != tt.code || field != tt.field || msg == "" || !strings.Contains(msg, tt.message) {
				t.Errorf("got %d %q on %q, want %d on %q containing %q", resp.StatusCode, msg, field, tt.code, tt.field, tt.message)
			}
		})
	}

	// An expired invite (made straight in the store, expired a minute ago).
	secret, hash, err := authstore.NewSecret(authstore.InvitePrefix)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if err := s.app.backend.Auth.CreateInvite(context.Background(), authstore.Invite{TokenHash: hash, CreatedBy: "x", Role: events.RoleMember,
		Created: now.Add(-2 * time.Hour), Expires: now.Add(-time.Minute)}); err != nil {
		t.Fatal(err)
	}
	resp := s.postForm(browser(t), "/signup", url.Values{"username": {"late"}, "password": {goodPassword}, "invite": {secret}})
	if msg, _ := formError(t, resp); resp.StatusCode != http.StatusBadRequest || !strings.Contains(msg, "expired") {
		t.Errorf("an expired invite: %d %q, want 400 'expired'", resp.StatusCode, msg)
	}

	// Forms from another site (CSRF), too big, or with a field twice.
	req, _ := http.NewRequest("POST", s.url+"/signup", strings.NewReader(url.Values{"username": {"csrf"}, "password": {goodPassword}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	r, err := browser(t).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if msg, _ := formError(t, r); r.StatusCode != http.StatusForbidden || !strings.Contains(msg, "another site") {
		t.Errorf("a cross-site sign-up: %d %q", r.StatusCode, msg)
	}
	resp = s.postForm(browser(t), "/login", url.Values{"username": {strings.Repeat("a", 20000)}, "password": {"x"}})
	if readBody(t, resp); resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("a huge sign-in form: %d, want 413", resp.StatusCode)
	}
	resp = s.postForm(browser(t), "/signup", url.Values{"username": {"twice", "again"}, "password": {goodPassword}})
	if msg, _ := formError(t, resp); resp.StatusCode != http.StatusBadRequest || msg == "" {
		t.Errorf("a field sent twice: %d %q", resp.StatusCode, msg)
	}
	// A sign-in's return path off the site goes home instead.
	for _, ret := range []string{"//evil.example/x", "https://evil.example/", `/\evil.example`} {
		c := browser(t)
		resp = s.postForm(c, "/login", url.Values{"username": {"alice"}, "password": {goodPassword}, "return": {ret}})
		if readBody(t, resp); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
			t.Errorf("return %q: %d to %q, want 303 to /", ret, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	if n := registered(); n != 1 {
		t.Errorf("bad sign-ups made %d accounts", n-1)
	}

	// A session cookie signed by another site's key signs nobody in: the
	// page says so, uploads are refused, nothing stored.
	photo, err := os.ReadFile(mediatest.Photo(t, "Storm.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	real := sessionCookieValue(s, alice)
	sessionSecret, _, _ := strings.Cut(real, ".")
	m := hmac.New(sha256.New, []byte("another site's key, not ours!!!"))
	m.Write([]byte("session:" + sessionSecret))
	forged := sessionSecret + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:18])
	for name, value := range map[string]string{"another site's key": forged, "garbage": "mss_nothing.at-all", "no signature": sessionSecret} {
		c := browser(t)
		u, _ := url.Parse(s.url)
		c.Jar.SetCookies(u, []*http.Cookie{{Name: "mediashare_session", Value: value, Path: "/"}})
		if r := s.get(c, "/account"); r.StatusCode != http.StatusForbidden {
			t.Errorf("%s: /account %d, want 403", name, r.StatusCode)
		}
		c.Jar.SetCookies(u, []*http.Cookie{{Name: "mediashare_session", Value: value, Path: "/"}})
		files := len(s.mediaFiles())
		resp := s.post(c, "/entries", uploadParts("Forged", "x", "Storm.jpg", "image/jpeg", photo), false)
		if msg, _ := formError(t, resp); resp.StatusCode != http.StatusForbidden || !strings.Contains(msg, "no longer valid") {
			t.Errorf("%s: upload %d %q, want 403 'no longer valid'", name, resp.StatusCode, msg)
		}
		if len(s.mediaFiles()) != files {
			t.Errorf("%s: a refused upload stored a file", name)
		}
	}
	// The real cookie still works.
	if r := s.get(alice, "/account"); r.StatusCode != http.StatusOK {
		t.Errorf("the real session: /account %d", r.StatusCode)
	}
	// Revoking a session that is not one of yours.
	resp = s.postForm(alice, "/account/sessions/not-a-hash/revoke", url.Values{})
	if msg, _ := formError(t, resp); resp.StatusCode != http.StatusBadRequest || msg == "" {
		t.Errorf("revoke a bad id: %d %q", resp.StatusCode, msg)
	}
	// Invites are an admin's: a member (or nobody) gets 403.
	bob := browser(t)
	s.signUp(bob, "bob", goodPassword+" bob", "")
	if r := s.postForm(bob, "/admin/invites", url.Values{}); r.StatusCode != http.StatusForbidden {
		t.Errorf("a member's invite: %d, want 403", r.StatusCode)
	}
	if r := s.postForm(browser(t), "/admin/invites", url.Values{}); r.StatusCode != http.StatusForbidden {
		t.Errorf("an anonymous invite: %d, want 403", r.StatusCode)
	}
	if r := s.postForm(alice, "/admin/invites", url.Values{"role": {"emperor"}}); r.StatusCode != http.StatusBadRequest {
		t.Errorf("an invite with a bad role: %d, want 400", r.StatusCode)
	}
}
