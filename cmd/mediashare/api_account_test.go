package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"mediashare/internal/web"
)

// Tokens made, shown once, used (last use shown), given to ShareX and
// revoked on /account, with the sign-in's cookie and the pages'
// cross-origin check; a token is no sign-in for these forms.
func TestAPITokensOnAccountPage(t *testing.T) { backends(t, testAPITokensOnAccountPage) }

func testAPITokensOnAccountPage(t *testing.T, start func(func(*config)) *site) {
	s := start(members(func(c *config) { c.PublicURL = "" }))
	c := browser(t)
	s.signUp(c, "Heidi", "a long enough passphrase", "")

	resp := s.postForm(c, "/account/tokens", url.Values{"name": {"ShareX laptop"}, "scope": {"read", "upload"}, "expires": {"720h"}})
	doc := mustDoc(t, resp)
	secret := strings.TrimSpace(doc.Find(`[data-testid=token-secret]`).Text())
	if resp.StatusCode != http.StatusCreated || !strings.HasPrefix(secret, "mst_") || doc.Find(`[data-testid=sharex-form] input[type=hidden][name=token]`).AttrOr("value", "") != secret {
		t.Fatalf("make a token: %d, secret %q", resp.StatusCode, secret)
	}
	// Shown once: the page afterwards lists it without the secret.
	page := mustDoc(t, s.get(c, "/account"))
	if html, _ := page.Html(); strings.Contains(html, secret) {
		t.Error("the account page shows the token again")
	}
	row := page.Find(`[data-testid=token]`)
	if row.Length() != 1 || !strings.Contains(row.Text(), "ShareX laptop") || strings.TrimSpace(row.Find(`[data-testid=token-last-used]`).Text()) != "never" {
		t.Fatalf("token rows: %q", row.Text())
	}
	id := row.AttrOr("data-token", "")

	// It works on the API, and the page shows its last use.
	if r := s.api(apiCall{method: "GET", path: "/api/v1/entries", token: secret}); r.code != 200 {
		t.Errorf("the new token on the API: %d %s", r.code, r.body)
	}
	if used := mustDoc(t, s.get(c, "/account")).Find(`[data-testid=token-last-used]`).Text(); strings.TrimSpace(used) == "never" {
		t.Error("last use not shown")
	}

	// The ShareX uploader for it.
	resp = s.postForm(c, "/account/tokens/sharex", url.Values{"token": {secret}})
	raw := readBody(t, resp)
	var cfg web.ShareX
	if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Disposition"), "mediashare.sxcu") || json.Unmarshal(raw, &cfg) != nil {
		t.Fatalf("sxcu download: %d %q %s", resp.StatusCode, resp.Header.Get("Content-Disposition"), raw)
	}
	if cfg.RequestURL != s.url+"/api/v1/entries" || cfg.Headers["Authorization"] != "Bearer "+secret {
		t.Errorf("sxcu %+v", cfg)
	}
	up := shareXSend(t, cfg, "shot.png", "image/png", smallPNG(t, 5))
	if up.code != 201 {
		t.Errorf("the downloaded uploader's request: %d %s", up.code, up.body)
	}

	// Hostile forms: each a 4xx with the message, nothing made.
	readOnly := func() string {
		resp := s.postForm(c, "/account/tokens", url.Values{"name": {"reader"}, "scope": {"read"}})
		doc := mustDoc(t, resp)
		if resp.StatusCode != 201 || doc.Find(`[data-testid=sharex-form] input[type=hidden][name=token]`).Length() != 0 {
			t.Fatalf("a read token: %d, offered to ShareX: %v", resp.StatusCode, doc.Find(`[data-testid=sharex-form] input[type=hidden][name=token]`).Length())
		}
		return strings.TrimSpace(doc.Find(`[data-testid=token-secret]`).Text())
	}()
	other := browser(t)
	for _, tc := range []struct {
		name    string
		client  *http.Client
		path    string
		form    url.Values
		code    int
		message string
	}{
		{"no name", c, "/account/tokens", url.Values{"name": {" "}, "scope": {"read"}}, 400, "Give the token a name"},
		{"long name", c, "/account/tokens", url.Values{"name": {strings.Repeat("n", 65)}, "scope": {"read"}}, 400, "at most 64"},
		{"control characters", c, "/account/tokens", url.Values{"name": {"a\u202eb"}, "scope": {"read"}}, 400, "invisible or control"},
		{"no scope", c, "/account/tokens", url.Values{"name": {"x"}}, 400, "at least one scope"},
		{"unknown scope", c, "/account/tokens", url.Values{"name": {"x"}, "scope": {"admin"}}, 400, "Unknown scope"},
		{"scope twice", c, "/account/tokens", url.Values{"name": {"x"}, "scope": {"read", "read"}}, 400, "twice"},
		{"too many scopes", c, "/account/tokens", url.Values{"name": {"x"}, "scope": {"read", "upload", "delete", "read"}}, 400, "at most once"},
		{"bad expiry", c, "/account/tokens", url.Values{"name": {"x"}, "scope": {"read"}, "expires": {"-5h"}}, 400, "expires"},
		{"expiry too far", c, "/account/tokens", url.Values{"name": {"x"}, "scope": {"read"}, "expires": {"100000h"}}, 400, "expires"},
		{"name twice", c, "/account/tokens", url.Values{"name": {"x", "y"}, "scope": {"read"}}, 400, "more than once"},
		{"signed out", other, "/account/tokens", url.Values{"name": {"x"}, "scope": {"read"}}, 403, "sign in"},
		{"revoke a made-up id", c, "/account/tokens/" + strings.Repeat("a", 64) + "/revoke", nil, 404, "no such token"},
		{"revoke junk", c, "/account/tokens/..%2f/revoke", nil, 404, ""},
		{"revoke as a stranger", other, "/account/tokens/" + id + "/revoke", nil, 403, "sign in"},
		{"sxcu of junk", c, "/account/tokens/sharex", url.Values{"token": {"hello"}}, 400, "not one of your"},
		{"sxcu of a read token", c, "/account/tokens/sharex", url.Values{"token": {readOnly}}, 400, "upload scope"},
		{"sxcu signed out", other, "/account/tokens/sharex", url.Values{"token": {secret}}, 403, "sign in"},
	} {
		resp := s.postForm(tc.client, tc.path, tc.form)
		msg, _ := formError(t, resp)
		if resp.StatusCode != tc.code || !strings.Contains(msg, tc.message) {
			t.Errorf("%s: %d %q, want %d with %q", tc.name, resp.StatusCode, msg, tc.code, tc.message)
		}
	}
	// A token is no sign-in for the forms, and another site's page cannot
	// post them.
	bearer := &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, _ := http.NewRequest("POST", s.url+"/account/tokens", strings.NewReader("name=x&scope=read"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer "+secret)
	if resp, err := bearer.Do(req); err != nil || resp.StatusCode != 403 {
		t.Errorf("a form sent with a bearer token: %v %v", err, resp.StatusCode)
	}
	req, _ = http.NewRequest("POST", s.url+"/account/tokens", strings.NewReader("name=x&scope=read"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://evil.example")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	if resp, err := c.Do(req); err != nil || resp.StatusCode != 403 {
		t.Errorf("a cross-site token form: %v %v", err, resp.StatusCode)
	}
	if n := mustDoc(t, s.get(c, "/account")).Find(`[data-testid=token]`).Length(); n != 2 {
		t.Errorf("%d tokens after the hostile forms, want 2", n)
	}

	// Revoked on the page: the API refuses it at once.
	resp = s.postForm(c, "/account/tokens/"+id+"/revoke", nil)
	if readBody(t, resp); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("revoke: %d", resp.StatusCode)
	}
	if r := s.api(apiCall{method: "GET", path: "/api/v1/entries", token: secret}); r.code != 401 {
		t.Errorf("a revoked token on the API: %d", r.code)
	}
	if n := mustDoc(t, s.get(c, "/account")).Find(`[data-testid=token]`).Length(); n != 1 {
		t.Errorf("%d tokens after revoking one, want 1", n)
	}
}
