// Package oidctest runs a real OpenID provider for tests: zitadel/oidc's
// op package (discovery, JWKS, authorize, token with PKCE, user info, ID
// tokens signed with ES256 and carrying the nonce) over a small in-memory
// storage of our own, on a loopback port.
//
// Logins need no UI: LoginAs makes the provider approve the next logins as
// one user; without it the login page is a tiny form with one button per
// user (for browser tests). Misbehave makes it break one rule on purpose,
// so tests can prove the relying party notices.
package oidctest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"fmt"
	"html/template"
	"net"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/zitadel/oidc/v3/pkg/op"
)

// User is a person the provider knows.
type User struct {
	Subject       string
	Username      string // preferred_username
	Name          string
	Email         string
	EmailVerified bool
	Groups        []string       // the "groups" claim, when not empty
	Claims        map[string]any // more claims, e.g. {"admin": true}
}

// Client is a relying party registered with the provider.
type Client struct {
	ID           string
	Secret       string
	RedirectURIs []string
}

// Options configure a provider.
type Options struct {
	Users   []User
	Clients []Client
	// Addr to listen on; default "127.0.0.1:0".
	Addr string
}

// Misbehaviour makes the provider break one rule. The zero value behaves.
type Misbehaviour struct {
	// WrongNonce: ID tokens carry a nonce other than the one asked for.
	WrongNonce bool
	// TokenIssuer: ID tokens from the token endpoint name this issuer.
	TokenIssuer string
	// DiscoveryIssuer: the discovery document names this issuer.
	DiscoveryIssuer string
	// IDTokenLifetime: when not zero, ID tokens last this long (negative:
	// already expired).
	IDTokenLifetime time.Duration
	// UserinfoOnly: profile, email and custom claims are left out of ID
	// tokens and only served by the user info endpoint.
	UserinfoOnly bool
	// UserinfoSubject: the user info endpoint answers for this subject.
	UserinfoSubject string
}

// Provider is a running OpenID provider.
type Provider struct {
	issuer string
	srv    *http.Server
	ln     net.Listener
	op     *op.Provider
	store  *storage
}

// Start runs a provider for the test and stops it when the test ends.
func Start(t testing.TB, opts Options) *Provider {
	t.Helper()
	p, err := New(opts)
	if err != nil {
		t.Fatalf("oidctest: %v", err)
	}
	t.Cleanup(p.Close)
	return p
}

// New runs a provider; Close stops it.
func New(opts Options) (*Provider, error) {
	addr := opts.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen: %w", err)
	}
	issuer := "http://" + ln.Addr().String()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		ln.Close()
		return nil, err
	}
	st := newStorage(issuer, key, opts.Users, opts.Clients)
	var cryptoKey [32]byte
	rand.Read(cryptoKey[:])
	provider, err := op.NewProvider(&op.Config{
		CryptoKey:      cryptoKey,
		CodeMethodS256: true,
		AuthMethodPost: true,
	}, st, st.issuerFunc, op.WithAllowInsecure())
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("op: %w", err)
	}
	p := &Provider{issuer: issuer, ln: ln, op: provider, store: st}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /login", p.loginPage)
	mux.HandleFunc("POST /login", p.loginSubmit)
	mux.Handle("/", provider)
	p.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go p.srv.Serve(ln) // ends with ErrServerClosed on Close
	return p, nil
}

// Issuer is the provider's issuer URL (http://127.0.0.1:PORT).
func (p *Provider) Issuer() string { return p.issuer }

// Close stops the provider; connections are cut.
func (p *Provider) Close() { p.srv.Close() }

// LoginAs makes the provider approve the next logins as the user with this
// subject, without a page. "" brings the login form back.
func (p *Provider) LoginAs(subject string) {
	p.store.mu.Lock()
	defer p.store.mu.Unlock()
	p.store.loginAs = subject
}

// Deny makes the provider answer the next logins with this OAuth error
// code (e.g. "access_denied"); "" stops it.
func (p *Provider) Deny(code string) {
	p.store.mu.Lock()
	defer p.store.mu.Unlock()
	p.store.deny = code
}

// Misbehave sets how the provider breaks the rules from now on.
func (p *Provider) Misbehave(m Misbehaviour) {
	p.store.mu.Lock()
	defer p.store.mu.Unlock()
	p.store.bad = m
}

// AddUser adds or replaces a user.
func (p *Provider) AddUser(u User) {
	p.store.mu.Lock()
	defer p.store.mu.Unlock()
	p.store.users[u.Subject] = u
}

// TokenRequests counts the codes exchanged successfully so far.
func (p *Provider) TokenRequests() int {
	p.store.mu.Lock()
	defer p.store.mu.Unlock()
	return p.store.exchanged
}

// loginPage is where the provider sends a person to sign in. It approves at
// once as LoginAs's user, refuses as Deny says, or shows one button per user.
func (p *Provider) loginPage(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("id")
	req, err := p.store.AuthRequestByID(r.Context(), id)
	if err != nil {
		http.Error(w, "unknown auth request", http.StatusBadRequest)
		return
	}
	p.store.mu.Lock()
	deny, subject := p.store.deny, p.store.loginAs
	users := make([]User, 0, len(p.store.users))
	for _, u := range p.store.users {
		users = append(users, u)
	}
	p.store.mu.Unlock()
	if deny != "" {
		p.refuse(w, r, req, deny)
		return
	}
	if subject != "" {
		p.approve(w, r, id, subject)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	loginForm.Execute(w, map[string]any{"ID": id, "Users": users}) // the client went away
}

var loginForm = template.Must(template.New("login").Parse(`<!doctype html>
<title>Test provider: sign in</title>
<h1>Test provider</h1>
<form method="post" action="/login">
<input type="hidden" name="id" value="{{.ID}}">
{{range .Users}}<button name="subject" value="{{.Subject}}" data-testid="login-{{.Username}}">Sign in as {{.Username}}</button>
{{end}}<button name="deny" value="access_denied" data-testid="login-deny">Refuse</button>
</form>`))

func (p *Provider) loginSubmit(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	id := r.PostForm.Get("id")
	req, err := p.store.AuthRequestByID(r.Context(), id)
	if err != nil {
		http.Error(w, "unknown auth request", http.StatusBadRequest)
		return
	}
	if code := r.PostForm.Get("deny"); code != "" {
		p.refuse(w, r, req, code)
		return
	}
	p.approve(w, r, id, r.PostForm.Get("subject"))
}

func (p *Provider) approve(w http.ResponseWriter, r *http.Request, id, subject string) {
	if err := p.store.complete(id, subject); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	http.Redirect(w, r, p.issuer+"/authorize/callback?id="+url.QueryEscape(id), http.StatusFound)
}

// refuse redirects back to the client with an OAuth error, as a provider
// does when the person says no.
func (p *Provider) refuse(w http.ResponseWriter, r *http.Request, req op.AuthRequest, code string) {
	target, err := url.Parse(req.GetRedirectURI())
	if err != nil {
		http.Error(w, "bad redirect uri", http.StatusBadRequest)
		return
	}
	q := target.Query()
	q.Set("error", code)
	q.Set("state", req.GetState())
	target.RawQuery = q.Encode()
	p.store.DeleteAuthRequest(r.Context(), req.GetID()) // in memory, cannot fail
	http.Redirect(w, r, target.String(), http.StatusFound)
}

var errUnknownUser = errors.New("oidctest: unknown user")
