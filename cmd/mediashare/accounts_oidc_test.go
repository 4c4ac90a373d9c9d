package main

import (
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mediashare/internal/events"
	"mediashare/internal/oidctest"
)

// oidcSite runs a site that signs people in with a real OpenID provider
// started by the test (internal/oidctest), with the admin claim
// groups=admins.
func oidcSite(t *testing.T, start func(func(*config)) *site, more func(*config)) (*site, *oidctest.Provider) {
	t.Helper()
	addr := freeAddr(t)
	public := "http://" + addr
	p := oidctest.Start(t, oidctest.Options{
		Users: []oidctest.User{
			{Subject: "sub-ada", Username: "ada", Name: "Ada", Email: "ada@example.org", EmailVerified: true, Groups: []string{"admins"}},
			{Subject: "sub-ben", Username: "ben", Name: "Ben"},
		},
		Clients: []oidctest.Client{{ID: "mediashare", Secret: "s3cret-of-the-client", RedirectURIs: []string{public + "/oidc/callback"}}},
	})
	secret := filepath.Join(t.TempDir(), "client-secret")
	if err := os.WriteFile(secret, []byte("s3cret-of-the-client\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := start(func(c *config) {
		c.Addr, c.PublicURL, c.Uploads, c.SignUp = addr, public, "members", "open"
		c.OIDCIssuer, c.OIDCClientID, c.OIDCSecretFile, c.OIDCAdminClaim = p.Issuer(), "mediashare", secret, "groups=admins"
		if more != nil {
			more(c)
		}
	})
	return s, p
}

// follower is a browser that follows redirects (across the site and the
// provider) and keeps cookies.
func follower(t *testing.T) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, Timeout: 60 * time.Second}
}

func TestOIDCLogin(t *testing.T) { backends(t, testOIDCLogin) }

func testOIDCLogin(t *testing.T, start func(func(*config)) *site) {
	s, p := oidcSite(t, start, nil)

	// A good login: the account is made on first login, admin by the claim.
	p.LoginAs("sub-ada")
	ada := follower(t)
	resp := s.get(ada, "/login/oidc?return=/account")
	doc := mustDoc(t, resp)
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/account" {
		t.Fatalf("OIDC login: %d at %s, want the account page", resp.StatusCode, resp.Request.URL)
	}
	if got := doc.Find(`[data-testid=account] h2`).Text(); got != "ada" {
		t.Errorf("account name %q, want ada", got)
	}
	if doc.Find(`[data-testid=role]`).Text() != "Admin" {
		t.Error("the admin claim did not make an admin")
	}
	// Ben has no claim: a member. Logging in again finds the same account.
	p.LoginAs("sub-ben")
	ben := follower(t)
	for i := 0; i < 2; i++ {
		if r := s.get(ben, "/login/oidc"); r.StatusCode != http.StatusOK || r.Request.URL.Path != "/" {
			t.Fatalf("ben's login %d: %d at %s", i, r.StatusCode, r.Request.URL)
		}
	}
	if d := mustDoc(t, s.get(ben, "/account")); d.Find(`[data-testid=role]`).Length() != 0 {
		t.Error("a user without the claim is an admin")
	}
	if n := countType(s.events(), events.AccountRegistered); n != 2 {
		t.Errorf("%d accounts registered for two people logging in three times, want 2", n)
	}

	// A callback with a wrong state: 400 with a message, nobody signed in.
	before := len(s.events())
	mallory := follower(t)
	resp = s.get(mallory, "/oidc/callback?state=not-a-state&code=x")
	if msg, _ := formError(t, resp); resp.StatusCode != http.StatusBadRequest || msg == "" {
		t.Errorf("a wrong state: %d %q, want 400 with a message", resp.StatusCode, msg)
	}
	// A login whose tokens name another issuer: 400, nothing created.
	p.Misbehave(oidctest.Misbehaviour{TokenIssuer: "http://127.0.0.1:1/elsewhere"})
	p.LoginAs("sub-new")
	p.AddUser(oidctest.User{Subject: "sub-new", Username: "newcomer"})
	resp = s.get(mallory, "/login/oidc")
	if msg, _ := formError(t, resp); resp.StatusCode != http.StatusBadRequest || msg == "" {
		t.Errorf("a wrong issuer: %d %q, want 400 with a message", resp.StatusCode, msg)
	}
	// A wrong nonce likewise.
	p.Misbehave(oidctest.Misbehaviour{WrongNonce: true})
	resp = s.get(mallory, "/login/oidc")
	if msg, _ := formError(t, resp); resp.StatusCode != http.StatusBadRequest || msg == "" {
		t.Errorf("a wrong nonce: %d %q, want 400 with a message", resp.StatusCode, msg)
	}
	if n := len(s.events()); n != before {
		t.Errorf("refused logins appended %d events", n-before)
	}
	u, _ := url.Parse(s.url)
	for _, c := range mallory.Jar.Cookies(u) {
		if c.Name == "mediashare_session" {
			t.Error("a refused login left a session cookie")
		}
	}
}

// --password-login=false leaves only the provider: the password forms
// refuse with a message.
func TestOIDCOnly(t *testing.T) {
	s, _ := oidcSite(t, func(m func(*config)) *site { return startSite(t, m) }, func(c *config) { c.PasswordLogin = false })
	resp := s.postForm(browser(t), "/signup", url.Values{"username": {"zed"}, "password": {goodPassword}})
	if msg, _ := formError(t, resp); resp.StatusCode != http.StatusForbidden || !strings.Contains(msg, "identity provider") {
		t.Errorf("password sign-up with --password-login=false: %d %q", resp.StatusCode, msg)
	}
	if d := mustDoc(t, s.get(browser(t), "/login")); d.Find(`[data-testid=login-form]`).Length() != 0 || d.Find(`[data-testid=oidc-login]`).Length() != 1 {
		t.Error("the sign-in page still offers passwords, or not the provider")
	}
}

// The provider's admin claim decides both ways: a person whose groups
// lose "admins" at the provider is a member from their next login, and
// the audit log says the system demoted them because of the claim. A
// member without the claim is left alone.
func TestOIDCAdminClaimRemoved(t *testing.T) {
	s, p := oidcSite(t, func(m func(*config)) *site { return startSite(t, m) }, nil)
	role := func(c *http.Client) string {
		t.Helper()
		return mustDoc(t, s.get(c, "/account")).Find(`[data-testid=role]`).Text()
	}
	login := func(c *http.Client, subject string) {
		t.Helper()
		p.LoginAs(subject)
		if r := s.get(c, "/login/oidc"); r.StatusCode != http.StatusOK {
			t.Fatalf("%s's login: %d at %s", subject, r.StatusCode, r.Request.URL)
		}
	}
	login(follower(t), "sub-ben") // the site's first account: its admin, whatever the claim
	ada := follower(t)
	login(ada, "sub-ada")
	if got := role(ada); got != "Admin" {
		t.Fatalf("ada with the claim: role %q, want Admin", got)
	}
	p.AddUser(oidctest.User{Subject: "sub-ada", Username: "ada", Name: "Ada", Groups: []string{"staff"}})
	again := follower(t)
	login(again, "sub-ada")
	if got := role(again); got != "" {
		t.Errorf("ada without the claim: role %q, want a member", got)
	}
	var demoted []events.Event
	for _, e := range s.events() {
		if e.Type == events.AccountDemoted {
			demoted = append(demoted, e)
		}
	}
	if len(demoted) != 1 {
		t.Fatalf("%d AccountDemoted events, want 1 (ada's)", len(demoted))
	}
	var rc events.RoleChange
	if err := demoted[0].Decode(&rc); err != nil {
		t.Fatal(err)
	}
	if demoted[0].Actor != events.SystemActor || !strings.Contains(rc.Reason, "groups=admins") {
		t.Errorf("the demotion: actor %q, reason %q; want the system, naming the claim", demoted[0].Actor, rc.Reason)
	}
	// Another login without the claim changes nothing more.
	login(follower(t), "sub-ada")
	if n := countType(s.events(), events.AccountDemoted); n != 1 {
		t.Errorf("%d AccountDemoted events after a second login without the claim, want 1", n)
	}
	// Getting the claim back promotes again.
	p.AddUser(oidctest.User{Subject: "sub-ada", Username: "ada", Name: "Ada", Groups: []string{"admins"}})
	back := follower(t)
	login(back, "sub-ada")
	if got := role(back); got != "Admin" {
		t.Errorf("ada with the claim again: role %q, want Admin", got)
	}
}
