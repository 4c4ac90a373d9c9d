package oidclogin_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"mediashare/internal/apperr"
	"mediashare/internal/oidclogin"
	"mediashare/internal/oidctest"
)

const (
	clientID     = "mediashare"
	clientSecret = "a client secret of some length"
	callbackPath = "/oidc/callback"
)

var (
	alice = oidctest.User{Subject: "u-alice", Username: "alice", Name: "Alice A.", Email: "alice@example.org", EmailVerified: true, Groups: []string{"staff", "admins"}}
	bob   = oidctest.User{Subject: "u-bob", Username: "bob", Email: "bob@example.org", Groups: []string{"staff"}}
)

// harness is a site with the relying party mounted, a real provider, and a
// browser-like client (cookie jar, follows redirects).
type harness struct {
	p      *oidctest.Provider
	rp     *oidclogin.RP
	site   *httptest.Server
	client *http.Client
	jar    http.CookieJar
	clock  atomic.Int64 // seconds added to time.Now
	cfg    oidclogin.Config
	// stopAtCallback makes the client stop before the site's callback and
	// keep its URL in callbackURL.
	stopAtCallback bool
	callbackURL    *url.URL
}

type result struct {
	Status   int
	Identity oidclogin.Identity
	Reason   oidclogin.Reason
	Code     apperr.Code
	Message  string
}

func newHarness(t *testing.T, opts ...func(*harness)) *harness {
	t.Helper()
	h := &harness{}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /login", func(w http.ResponseWriter, r *http.Request) {
		if err := h.rp.Begin(w, r, r.URL.Query().Get("return")); err != nil {
			writeErr(w, err)
		}
	})
	mux.HandleFunc("GET "+callbackPath, func(w http.ResponseWriter, r *http.Request) {
		id, err := h.rp.Callback(w, r)
		if err != nil {
			writeErr(w, err)
			return
		}
		json.NewEncoder(w).Encode(result{Status: http.StatusOK, Identity: id})
	})
	h.site = httptest.NewServer(mux)
	t.Cleanup(h.site.Close)
	h.p = oidctest.Start(t, oidctest.Options{
		Users:   []oidctest.User{alice, bob},
		Clients: []oidctest.Client{{ID: clientID, Secret: clientSecret, RedirectURIs: []string{h.site.URL + callbackPath}}},
	})
	h.p.LoginAs(alice.Subject)
	h.cfg = oidclogin.Config{
		Issuer:         h.p.Issuer(),
		ClientID:       clientID,
		ClientSecret:   clientSecret,
		RedirectURL:    h.site.URL + callbackPath,
		Scopes:         []string{"openid", "profile", "email"},
		AdminClaim:     oidclogin.AdminClaim{Name: "groups", Value: "admins"},
		CookieKey:      []byte("0123456789abcdef0123456789abcdef-test"),
		DiscoveryRetry: 10 * time.Millisecond,
		Now:            func() time.Time { return time.Now().Add(time.Duration(h.clock.Load()) * time.Second) },
	}
	for _, o := range opts {
		o(h)
	}
	rp, err := oidclogin.New(h.cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	h.rp = rp
	h.jar, _ = cookiejar.New(nil)
	h.client = &http.Client{
		Jar:     h.jar,
		Timeout: 20 * time.Second,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) > 10 {
				return errors.New("too many redirects")
			}
			if req.URL.Path == callbackPath {
				h.callbackURL = req.URL
				if h.stopAtCallback {
					return http.ErrUseLastResponse
				}
			}
			return nil
		},
	}
	return h
}

func writeErr(w http.ResponseWriter, err error) {
	status := map[apperr.Code]int{
		apperr.Invalid:     http.StatusBadRequest,
		apperr.Forbidden:   http.StatusForbidden,
		apperr.Unavailable: http.StatusServiceUnavailable,
	}[apperr.CodeOf(err)]
	if status == 0 {
		status = http.StatusInternalServerError
	}
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(result{Status: status, Reason: oidclogin.ReasonOf(err), Code: apperr.CodeOf(err), Message: apperr.MessageOf(err)})
}

// get fetches a site URL and decodes the harness's JSON answer.
func (h *harness) get(t *testing.T, u string) result {
	t.Helper()
	resp, err := h.client.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	var res result
	if err := json.NewDecoder(resp.Body).Decode(&res); err != nil {
		t.Fatalf("GET %s: status %d, body is not the harness's JSON: %v", u, resp.StatusCode, err)
	}
	if res.Status != resp.StatusCode {
		t.Fatalf("GET %s: status %d, body says %d", u, resp.StatusCode, res.Status)
	}
	return res
}

func (h *harness) login(t *testing.T, returnTo string) result {
	t.Helper()
	return h.get(t, h.site.URL+"/login?return="+url.QueryEscape(returnTo))
}

// begin runs the flow up to the provider's redirect to our callback, and
// returns that callback URL (with code and state) unvisited.
func (h *harness) begin(t *testing.T) *url.URL {
	t.Helper()
	h.stopAtCallback = true
	defer func() { h.stopAtCallback = false }()
	resp, err := h.client.Get(h.site.URL + "/login")
	if err != nil {
		t.Fatalf("login: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || h.callbackURL == nil {
		t.Fatalf("login: status %d, callback %v; want the provider's 302 to the callback", resp.StatusCode, h.callbackURL)
	}
	u := *h.callbackURL
	return &u
}

func (h *harness) flowCookies() []*http.Cookie {
	u, _ := url.Parse(h.site.URL + callbackPath)
	var out []*http.Cookie
	for _, c := range h.jar.Cookies(u) {
		if strings.HasPrefix(c.Name, "mediashare_oidc_") {
			out = append(out, c)
		}
	}
	return out
}

func wantFailure(t *testing.T, got result, reason oidclogin.Reason, status int) {
	t.Helper()
	if got.Reason != reason || got.Status != status {
		t.Fatalf("got status %d reason %q (%s), want %d %q", got.Status, got.Reason, got.Message, status, reason)
	}
	if got.Message == "" || strings.Contains(got.Message, "oidc") {
		t.Fatalf("message %q: want a sentence safe to show", got.Message)
	}
	if got.Identity != (oidclogin.Identity{}) {
		t.Fatalf("a failed sign-in returned an identity: %+v", got.Identity)
	}
}

func TestGoodLogin(t *testing.T) {
	h := newHarness(t)

	got := h.login(t, "/entries/01JEXAMPLE?page=2")
	want := oidclogin.Identity{
		Issuer: h.p.Issuer(), Subject: alice.Subject, PreferredUsername: "alice", Name: "Alice A.",
		Email: "alice@example.org", EmailVerified: true, Admin: true, ReturnTo: "/entries/01JEXAMPLE?page=2",
	}
	if got.Status != http.StatusOK || got.Identity != want {
		t.Fatalf("got %d %+v (%s %s), want %+v", got.Status, got.Identity, got.Reason, got.Message, want)
	}
	if c := h.flowCookies(); len(c) != 0 {
		t.Fatalf("flow cookie left after the callback: %v", c)
	}

	h.p.LoginAs(bob.Subject)
	got = h.login(t, "")
	if got.Status != http.StatusOK || got.Identity.Subject != bob.Subject || got.Identity.Admin || got.Identity.EmailVerified || got.Identity.ReturnTo != "/" {
		t.Fatalf("bob: got %d %+v, want bob, not admin, email not verified, back to /", got.Status, got.Identity)
	}
	if n := h.p.TokenRequests(); n != 2 {
		t.Fatalf("provider exchanged %d codes, want 2", n)
	}
}

// TestBeginRequest checks what Begin asks of the provider and the cookie it sets.
func TestBeginRequest(t *testing.T) {
	h := newHarness(t)
	w := httptest.NewRecorder()
	if err := h.rp.Begin(w, httptest.NewRequest("GET", h.site.URL+"/login", nil), "/x"); err != nil {
		t.Fatal(err)
	}
	if w.Code != http.StatusSeeOther {
		t.Fatalf("status %d, want 303", w.Code)
	}
	loc, err := url.Parse(w.Header().Get("Location"))
	if err != nil || !strings.HasPrefix(loc.String(), h.p.Issuer()+"/") {
		t.Fatalf("Location %q: want the provider's authorize endpoint", w.Header().Get("Location"))
	}
	q := loc.Query()
	for k, want := range map[string]string{"response_type": "code", "client_id": clientID, "code_challenge_method": "S256", "redirect_uri": h.site.URL + callbackPath, "scope": "openid profile email"} {
		if q.Get(k) != want {
			t.Errorf("authorize %s = %q, want %q", k, q.Get(k), want)
		}
	}
	for _, k := range []string{"state", "nonce", "code_challenge"} {
		if len(q.Get(k)) < 43 {
			t.Errorf("authorize %s = %q, want 256 random bits", k, q.Get(k))
		}
	}
	if q.Get("state") == q.Get("nonce") {
		t.Error("state and nonce are the same value")
	}
	cookies := w.Result().Cookies()
	if len(cookies) != 1 {
		t.Fatalf("Begin set %d cookies, want 1", len(cookies))
	}
	c := cookies[0]
	if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != callbackPath || c.MaxAge != 600 || c.Secure {
		t.Fatalf("flow cookie %+v: want HttpOnly, SameSite=Lax, Path=%s, Max-Age=600, not Secure on http", c, callbackPath)
	}
	// A second flow gets other values and a cookie of its own.
	w2 := httptest.NewRecorder()
	h.rp.Begin(w2, httptest.NewRequest("GET", h.site.URL+"/login", nil), "/x")
	loc2, _ := url.Parse(w2.Header().Get("Location"))
	if loc2.Query().Get("state") == q.Get("state") || w2.Result().Cookies()[0].Name == c.Name {
		t.Fatal("two flows share a state or a cookie")
	}
}

func TestCallbackState(t *testing.T) {
	tests := []struct {
		name   string
		mangle func(h *harness, u *url.URL)
		reason oidclogin.Reason
		status int
	}{
		{"state missing", func(h *harness, u *url.URL) { setQuery(u, "state", "") }, oidclogin.BadState, 400},
		{"state of no flow", func(h *harness, u *url.URL) {
			setQuery(u, "state", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
		}, oidclogin.BadState, 400},
		{"state malformed", func(h *harness, u *url.URL) { setQuery(u, "state", "<script>alert(1)</script>") }, oidclogin.BadState, 400},
		{"state over-long", func(h *harness, u *url.URL) { setQuery(u, "state", strings.Repeat("A", 5000)) }, oidclogin.BadState, 400},
		{"state repeated", func(h *harness, u *url.URL) {
			q := u.Query()
			q.Add("state", q.Get("state"))
			u.RawQuery = q.Encode()
		}, oidclogin.BadRequest, 400},
		{"cookie tampered", func(h *harness, u *url.URL) {
			c := h.flowCookies()[0]
			c.Value = "x" + c.Value[1:]
			h.setCookie(c)
		}, oidclogin.BadState, 400},
		{"cookie payload rewritten", func(h *harness, u *url.URL) {
			c := h.flowCookies()[0]
			payload, sig, _ := strings.Cut(c.Value, ".")
			raw, err := base64.RawURLEncoding.DecodeString(payload)
			if err != nil {
				t.Fatal(err)
			}
			var f map[string]any
			dec := json.NewDecoder(bytes.NewReader(raw))
			dec.UseNumber()
			if err := dec.Decode(&f); err != nil {
				t.Fatal(err)
			}
			f["r"] = "/somewhere-else"
			raw, _ = json.Marshal(f)
			c.Value = base64.RawURLEncoding.EncodeToString(raw) + "." + sig
			h.setCookie(c)
		}, oidclogin.BadState, 400},
		{"cookie signed by another key", func(h *harness, u *url.URL) {
			cfg := h.cfg
			cfg.CookieKey = []byte("another key, also thirty-two bytes long")
			rp2, err := oidclogin.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			w := httptest.NewRecorder()
			rp2.Begin(w, httptest.NewRequest("GET", "/login", nil), "/")
			forged := w.Result().Cookies()[0]
			c := h.flowCookies()[0]
			c.Value = forged.Value
			h.setCookie(c)
		}, oidclogin.BadState, 400},
		{"flow expired", func(h *harness, u *url.URL) { h.clock.Store(11 * 60) }, oidclogin.BadState, 400},
		{"iss parameter of another issuer", func(h *harness, u *url.URL) { setQuery(u, "iss", "https://evil.example") }, oidclogin.BadIssuer, 400},
		{"code missing", func(h *harness, u *url.URL) { setQuery(u, "code", "") }, oidclogin.BadRequest, 400},
		{"code forged", func(h *harness, u *url.URL) { setQuery(u, "code", "forged-code") }, oidclogin.ExchangeFailed, 400},
		{"provider error", func(h *harness, u *url.URL) {
			setQuery(u, "code", "")
			setQuery(u, "error", "access_denied")
			setQuery(u, "error_description", "<b>Your account is locked, call 555-EVIL</b>")
		}, oidclogin.ProviderError, 403},
		{"unknown provider error", func(h *harness, u *url.URL) { setQuery(u, "error", "<script>") }, oidclogin.ProviderError, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			u := h.begin(t)
			tt.mangle(h, u)
			got := h.get(t, u.String())
			wantFailure(t, got, tt.reason, tt.status)
			if strings.Contains(got.Message, "555-EVIL") || strings.Contains(got.Message, "<") {
				t.Fatalf("message %q repeats the attacker's text", got.Message)
			}
			if h.p.TokenRequests() != 0 {
				t.Fatal("the provider issued tokens for a refused callback")
			}
		})
	}
}

func (h *harness) setCookie(c *http.Cookie) {
	u, _ := url.Parse(h.site.URL + callbackPath)
	h.jar.SetCookies(u, []*http.Cookie{{Name: c.Name, Value: c.Value, Path: callbackPath}})
}

func setQuery(u *url.URL, k, v string) {
	q := u.Query()
	if v == "" {
		q.Del(k)
	} else {
		q.Set(k, v)
	}
	u.RawQuery = q.Encode()
}

// TestReplay: a callback works once, whether replayed by the same browser
// (its cookie is gone) or with a copy of the cookie (the code is spent).
func TestReplay(t *testing.T) {
	h := newHarness(t)
	u := h.begin(t)
	saved := h.flowCookies()
	if len(saved) != 1 {
		t.Fatalf("%d flow cookies, want 1", len(saved))
	}
	if got := h.get(t, u.String()); got.Status != http.StatusOK {
		t.Fatalf("first callback: %+v", got)
	}
	wantFailure(t, h.get(t, u.String()), oidclogin.BadState, 400)

	h.setCookie(saved[0])
	wantFailure(t, h.get(t, u.String()), oidclogin.ExchangeFailed, 400)
	if n := h.p.TokenRequests(); n != 1 {
		t.Fatalf("provider exchanged %d codes, want 1", n)
	}
}

func TestProviderMisbehaves(t *testing.T) {
	other := oidctest.Start(t, oidctest.Options{})
	tests := []struct {
		name   string
		bad    oidctest.Misbehaviour
		reason oidclogin.Reason
	}{
		{"bad nonce", oidctest.Misbehaviour{WrongNonce: true}, oidclogin.BadNonce},
		{"id token from another issuer", oidctest.Misbehaviour{TokenIssuer: other.Issuer()}, oidclogin.BadIssuer},
		{"id token expired", oidctest.Misbehaviour{IDTokenLifetime: -time.Minute}, oidclogin.BadToken},
		{"user info about another subject", oidctest.Misbehaviour{UserinfoSubject: bob.Subject}, oidclogin.BadToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.p.Misbehave(tt.bad)
			wantFailure(t, h.login(t, "/"), tt.reason, 400)
		})
	}
}

// TestDiscoveryIssuerMismatch: the provider at the configured URL says it
// is someone else; nobody can sign in, and the site says so.
func TestDiscoveryIssuerMismatch(t *testing.T) {
	h := newHarness(t)
	other := oidctest.Start(t, oidctest.Options{})
	h.p.Misbehave(oidctest.Misbehaviour{DiscoveryIssuer: other.Issuer()})
	wantFailure(t, h.login(t, "/"), oidclogin.BadIssuer, 503)
	if c := h.flowCookies(); len(c) != 0 {
		t.Fatalf("a refused Begin set cookies: %v", c)
	}
}

// TestUserinfoOnly: a provider that keeps profile and admin claims out of
// the ID token still yields the whole identity, from user info.
func TestUserinfoOnly(t *testing.T) {
	h := newHarness(t)
	h.p.Misbehave(oidctest.Misbehaviour{UserinfoOnly: true})
	got := h.login(t, "/")
	if got.Status != http.StatusOK || got.Identity.PreferredUsername != "alice" || got.Identity.Email != alice.Email || !got.Identity.Admin {
		t.Fatalf("got %d %+v, want alice with email and admin from user info", got.Status, got.Identity)
	}
}

func TestDenied(t *testing.T) {
	h := newHarness(t)
	h.p.Deny("access_denied")
	wantFailure(t, h.login(t, "/"), oidclogin.ProviderError, 403)
}

func TestWrongClientSecret(t *testing.T) {
	h := newHarness(t, func(h *harness) { h.cfg.ClientSecret = "not the secret" })
	wantFailure(t, h.login(t, "/"), oidclogin.ExchangeFailed, 503)
	if n := h.p.TokenRequests(); n != 0 {
		t.Fatalf("provider exchanged %d codes for a client with the wrong secret", n)
	}
}

// TestProviderDownAtStart: the site starts while the provider is down,
// answers 503 quickly, and signs people in once the provider is up.
func TestProviderDownAtStart(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()

	h := newHarness(t, func(h *harness) { h.cfg.Issuer = "http://" + addr })
	start := time.Now()
	wantFailure(t, h.login(t, "/"), oidclogin.Unavailable, 503)
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("answering took %v with the provider down", d)
	}
	if err := h.rp.Discover(t.Context()); oidclogin.ReasonOf(err) != oidclogin.Unavailable {
		t.Fatalf("Discover: %v, want unavailable", err)
	}

	p, err := oidctest.New(oidctest.Options{
		Addr:    addr,
		Users:   []oidctest.User{alice},
		Clients: []oidctest.Client{{ID: clientID, Secret: clientSecret, RedirectURIs: []string{h.site.URL + callbackPath}}},
	})
	if err != nil {
		t.Fatalf("could not listen on the reserved port again (taken meanwhile?): %v", err)
	}
	t.Cleanup(p.Close)
	p.LoginAs(alice.Subject)
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := h.login(t, "/")
		if got.Status == http.StatusOK {
			if got.Identity.Subject != alice.Subject {
				t.Fatalf("got %+v", got.Identity)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("still failing 10 s after the provider came up: %+v", got)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestBeginReturnTo(t *testing.T) {
	h := newHarness(t)
	for _, bad := range []string{
		"//evil.example/", "https://evil.example/", "http:/evil", "/\\evil.example", "\\\\evil", "evil",
		"javascript:alert(1)", "/a\r\nSet-Cookie: x=y", "/a\x00b", "/" + strings.Repeat("a", 2000),
	} {
		w := httptest.NewRecorder()
		err := h.rp.Begin(w, httptest.NewRequest("GET", "/login", nil), bad)
		if oidclogin.ReasonOf(err) != oidclogin.BadReturnTo || apperr.CodeOf(err) != apperr.Invalid || apperr.MessageOf(err) == "" {
			t.Errorf("Begin(%q): %v, want bad_return_to", bad, err)
		}
		if len(w.Result().Cookies()) != 0 || w.Header().Get("Location") != "" {
			t.Errorf("Begin(%q) wrote a cookie or a redirect", bad)
		}
	}
	for _, good := range []string{"/", "/entries/01J?x=1#top", "/history"} {
		if err := h.rp.Begin(httptest.NewRecorder(), httptest.NewRequest("GET", "/login", nil), good); err != nil {
			t.Errorf("Begin(%q): %v", good, err)
		}
	}
}

// TestDiscoveryIgnoresCancelledRequest: the first visitor's dropped
// connection does not fail discovery for everyone after them.
func TestDiscoveryIgnoresCancelledRequest(t *testing.T) {
	h := newHarness(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	r := httptest.NewRequest("GET", "/login", nil).WithContext(ctx)
	if err := h.rp.Begin(httptest.NewRecorder(), r, "/"); err != nil {
		t.Fatalf("Begin on a cancelled request: %v", err)
	}
	if got := h.login(t, "/"); got.Status != http.StatusOK {
		t.Fatalf("next login: %+v", got)
	}
}
