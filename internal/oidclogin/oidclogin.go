// Package oidclogin signs people in with an OpenID Connect provider: the
// authorization code flow with PKCE (S256), state and nonce, as a relying
// party built on github.com/coreos/go-oidc/v3 and golang.org/x/oauth2.
//
// It holds no accounts and writes no events. The web layer mounts two
// handlers around it:
//
//	GET /login/oidc    → rp.Begin(w, r, returnTo): sets a flow cookie, redirects to the provider
//	GET /oidc/callback → id, err := rp.Callback(w, r): checks everything, returns who signed in
//
// and decides what an Identity means for the site (find or create the
// account keyed by Issuer and Subject, start a session, go to id.ReturnTo).
// Every error is an *apperr.Error (code and a message safe to show) wrapping
// an *Error whose Reason names the rule that failed.
//
// Per login the flow keeps state, nonce, the PKCE verifier and the return
// path in a cookie that is HMAC-signed with Config.CookieKey, HttpOnly,
// SameSite=Lax, scoped to the callback's path, named after the state (so
// two tabs can sign in at once), and valid for Config.FlowTTL. The callback
// clears it, so a callback works once.
//
// Discovery is lazy: New does no I/O, so the site starts while the provider
// is down; Begin and Callback then fail with Reason Unavailable until it
// answers.
package oidclogin

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"mediashare/internal/apperr"
)

// Config configures a relying party. Issuer, ClientID, ClientSecret,
// RedirectURL and CookieKey are required.
type Config struct {
	// Issuer is the provider's issuer URL exactly as its discovery
	// document states it (https, or http on a loopback host).
	Issuer       string
	ClientID     string
	ClientSecret string // see ReadSecretFile
	// RedirectURL is this site's callback, registered with the provider. It
	// must be configured (from --oidc-redirect-url or --public-url), never
	// derived from a request's Host header.
	RedirectURL string
	// Scopes requested; "openid" is added when missing. Default: openid
	// profile email. Some providers need "groups" for a groups claim.
	Scopes []string
	// AdminClaim makes admins of people whose token carries it; the zero
	// value makes nobody admin. See ParseAdminClaim.
	AdminClaim AdminClaim
	// CookieKey signs flow cookies; at least 32 bytes. The site's secret
	// key may be passed: a subkey is derived from it.
	CookieKey []byte
	// CookieName prefixes flow cookies. Default "mediashare_oidc".
	CookieName string
	// FlowTTL bounds how long a person may take at the provider. Default 10m.
	FlowTTL time.Duration
	// DiscoveryTimeout bounds one discovery attempt. Default 5s.
	DiscoveryTimeout time.Duration
	// DiscoveryRetry is how long a failed discovery is remembered before
	// the next request tries again. Default 5s.
	DiscoveryRetry time.Duration
	// HTTPClient talks to the provider. Default: a client with a 10s timeout.
	HTTPClient *http.Client
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// Identity is who signed in, as the provider vouches for them.
type Identity struct {
	Issuer            string // with Subject, the stable key of the person
	Subject           string
	PreferredUsername string // may be empty; the provider's, not checked against ours
	Name              string
	Email             string
	EmailVerified     bool
	Admin             bool // Config.AdminClaim was present
	// ReturnTo is the local path given to Begin ("/" when none was).
	ReturnTo string
}

// RP is a relying party. Its methods are safe for concurrent use.
type RP struct {
	cfg       Config
	cookieKey []byte
	secure    bool
	path      string
	scopes    []string

	mu        sync.Mutex
	disc      *discovered
	lastErr   error
	lastTried time.Time
}

type discovered struct {
	provider *oidc.Provider
	oauth    *oauth2.Config
	verifier *oidc.IDTokenVerifier
}

// New checks cfg and returns a relying party. It does no network I/O.
func New(cfg Config) (*RP, error) {
	if err := checkURL("issuer", cfg.Issuer, true); err != nil {
		return nil, err
	}
	if err := checkURL("redirect URL", cfg.RedirectURL, false); err != nil {
		return nil, err
	}
	if cfg.ClientID == "" || len(cfg.ClientID) > 255 || strings.ContainsAny(cfg.ClientID, " \t\r\n") {
		return nil, errors.New("oidclogin: client id must be 1 to 255 characters without spaces")
	}
	if cfg.ClientSecret == "" {
		return nil, errors.New("oidclogin: client secret is empty")
	}
	if len(cfg.CookieKey) < 32 {
		return nil, errors.New("oidclogin: cookie key must be at least 32 bytes")
	}
	if cfg.CookieName == "" {
		cfg.CookieName = "mediashare_oidc"
	}
	if !validCookieName(cfg.CookieName) {
		return nil, fmt.Errorf("oidclogin: cookie name %q has characters a cookie name cannot hold", cfg.CookieName)
	}
	if cfg.FlowTTL <= 0 {
		cfg.FlowTTL = 10 * time.Minute
	}
	if cfg.DiscoveryTimeout <= 0 {
		cfg.DiscoveryTimeout = 5 * time.Second
	}
	if cfg.DiscoveryRetry <= 0 {
		cfg.DiscoveryRetry = 5 * time.Second
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	scopes := []string{oidc.ScopeOpenID}
	if len(cfg.Scopes) == 0 {
		cfg.Scopes = []string{oidc.ScopeOpenID, "profile", "email"}
	}
	for _, s := range cfg.Scopes {
		if s == "" || len(s) > 100 || strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r > '~' || r == '"' || r == '\\' }) {
			return nil, fmt.Errorf("oidclogin: scope %q is not a scope token", s)
		}
		if s != oidc.ScopeOpenID {
			scopes = append(scopes, s)
		}
	}
	redirect, _ := url.Parse(cfg.RedirectURL)
	path := redirect.EscapedPath()
	if path == "" {
		path = "/"
	}
	return &RP{
		cfg:       cfg,
		cookieKey: deriveKey(cfg.CookieKey),
		secure:    redirect.Scheme == "https",
		path:      path,
		scopes:    scopes,
	}, nil
}

// checkURL accepts absolute http(s) URLs without fragment; an issuer must
// also use https unless its host is a loopback address, and has no query.
func checkURL(what, raw string, issuer bool) error {
	u, err := url.Parse(raw)
	if err != nil || raw == "" {
		return fmt.Errorf("oidclogin: %s %q is not a URL", what, raw)
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Fragment != "" || u.User != nil {
		return fmt.Errorf("oidclogin: %s %q must be an absolute http or https URL without user or fragment", what, raw)
	}
	if issuer {
		if u.RawQuery != "" {
			return fmt.Errorf("oidclogin: %s %q must not have a query", what, raw)
		}
		if u.Scheme == "http" && !loopback(u.Hostname()) {
			return fmt.Errorf("oidclogin: %s %q must use https (http is accepted only on a loopback host)", what, raw)
		}
	}
	return nil
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// DefaultCallbackPath is the callback's path when the redirect URL is
// derived from the site's public URL (see RedirectURLFor).
const DefaultCallbackPath = "/oidc/callback"

// RedirectURLFor gives the redirect URL of a site whose public URL (as
// configured, e.g. --public-url https://photos.example.org) is publicURL.
func RedirectURLFor(publicURL string) (string, error) {
	u, err := url.Parse(publicURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("oidclogin: public URL %q must be an absolute http or https URL without query", publicURL)
	}
	return strings.TrimSuffix(u.String(), "/") + DefaultCallbackPath, nil
}

// CallbackPath is the path of the redirect URL: mount Callback there (the
// flow cookie is scoped to it).
func (rp *RP) CallbackPath() string { return rp.path }

// ReadSecretFile reads a client secret from path (--oidc-client-secret-file),
// without the trailing newline editors add. An empty file is an error.
func ReadSecretFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("oidclogin: read client secret: %w", err)
	}
	s := strings.TrimRight(string(b), "\r\n")
	if strings.TrimSpace(s) == "" {
		return "", fmt.Errorf("oidclogin: client secret file %s is empty", path)
	}
	if strings.ContainsAny(s, "\r\n") {
		return "", fmt.Errorf("oidclogin: client secret file %s holds more than one line", path)
	}
	return s, nil
}

// Discover fetches the provider's discovery document if it has not been
// fetched yet. Begin and Callback call it; the site may call it at start to
// warm up, or from a readiness probe. A failure is remembered for
// Config.DiscoveryRetry, so a provider that is down costs one attempt per
// period, not one per request.
func (rp *RP) Discover(ctx context.Context) error {
	_, err := rp.discover(ctx)
	return err
}

func (rp *RP) discover(ctx context.Context) (*discovered, error) {
	rp.mu.Lock()
	defer rp.mu.Unlock()
	if rp.disc != nil {
		return rp.disc, nil
	}
	now := rp.cfg.Now()
	if rp.lastErr != nil && now.Sub(rp.lastTried) < rp.cfg.DiscoveryRetry {
		return nil, rp.lastErr
	}
	// One person's cancelled request must not fail discovery for everyone.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rp.cfg.DiscoveryTimeout)
	defer cancel()
	p, err := oidc.NewProvider(rp.clientContext(ctx), rp.cfg.Issuer)
	if err != nil {
		var mismatch *oidc.IssuerMismatchError
		if errors.As(err, &mismatch) {
			err = fail(apperr.Unavailable, BadIssuer, err, msgUnavailable)
		} else {
			err = fail(apperr.Unavailable, Unavailable, fmt.Errorf("discovery of %s: %w", rp.cfg.Issuer, err), msgUnavailable)
		}
		rp.lastErr, rp.lastTried = err, now
		return nil, err
	}
	rp.disc = &discovered{
		provider: p,
		oauth: &oauth2.Config{
			ClientID:     rp.cfg.ClientID,
			ClientSecret: rp.cfg.ClientSecret,
			Endpoint:     p.Endpoint(),
			RedirectURL:  rp.cfg.RedirectURL,
			Scopes:       rp.scopes,
		},
		// The issuer is compared by Callback itself, to report BadIssuer
		// rather than a generic verification failure.
		verifier: p.Verifier(&oidc.Config{ClientID: rp.cfg.ClientID, SkipIssuerCheck: true, Now: rp.cfg.Now}),
	}
	rp.lastErr = nil
	return rp.disc, nil
}

func (rp *RP) clientContext(ctx context.Context) context.Context {
	return oidc.ClientContext(ctx, rp.cfg.HTTPClient)
}

// Begin starts a sign-in: it sets the flow cookie and redirects (303) to
// the provider. returnTo is where the person goes after signing in: a local
// path such as "/entries/01J…", or "" for "/". On error nothing is written
// to w.
func (rp *RP) Begin(w http.ResponseWriter, r *http.Request, returnTo string) error {
	if returnTo == "" {
		returnTo = "/"
	}
	if !localPath(returnTo) {
		return fail(apperr.Invalid, BadReturnTo, fmt.Errorf("return path %q", truncate(returnTo, 80)),
			"The page to return to after signing in must be a page of this site.")
	}
	d, err := rp.discover(r.Context())
	if err != nil {
		return err
	}
	f := flow{
		State:    randomToken(),
		Nonce:    randomToken(),
		Verifier: oauth2.GenerateVerifier(),
		ReturnTo: returnTo,
		Expires:  rp.cfg.Now().Add(rp.cfg.FlowTTL).Unix(),
	}
	name := rp.cookieName(f.State)
	http.SetCookie(w, &http.Cookie{
		Name:     name,
		Value:    rp.seal(name, f),
		Path:     rp.path,
		MaxAge:   int(rp.cfg.FlowTTL / time.Second),
		HttpOnly: true,
		Secure:   rp.secure,
		SameSite: http.SameSiteLaxMode,
	})
	w.Header().Set("Cache-Control", "no-store")
	target := d.oauth.AuthCodeURL(f.State, oidc.Nonce(f.Nonce), oauth2.S256ChallengeOption(f.Verifier))
	http.Redirect(w, r, target, http.StatusSeeOther)
	return nil
}

// localPath accepts an absolute path on this site: it starts with one "/",
// has no scheme or host, no backslash and no control characters.
func localPath(p string) bool {
	if len(p) > 1024 || !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") {
		return false
	}
	if strings.ContainsFunc(p, func(r rune) bool { return r < ' ' || r == 0x7f || r == '\\' }) {
		return false
	}
	u, err := url.Parse(p)
	return err == nil && u.Scheme == "" && u.Host == "" && u.User == nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
