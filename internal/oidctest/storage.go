package oidctest

import (
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"net/http"
	"slices"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// storage is the provider's memory: users, clients, pending auth requests,
// codes and access tokens, and one signing key. It implements op.Storage
// for the authorization code flow only; other grants are refused.
type storage struct {
	issuer string
	key    *ecdsa.PrivateKey
	keyID  string

	mu        sync.Mutex
	users     map[string]User
	clients   map[string]Client
	requests  map[string]*authRequest
	codes     map[string]string // code → request id
	tokens    map[string]accessToken
	loginAs   string
	deny      string
	bad       Misbehaviour
	exchanged int
}

var (
	_ op.Storage                   = (*storage)(nil)
	_ op.CanSetUserinfoFromRequest = (*storage)(nil)
)

func newStorage(issuer string, key *ecdsa.PrivateKey, users []User, clients []Client) *storage {
	s := &storage{
		issuer:   issuer,
		key:      key,
		keyID:    randomID(),
		users:    map[string]User{},
		clients:  map[string]Client{},
		requests: map[string]*authRequest{},
		codes:    map[string]string{},
		tokens:   map[string]accessToken{},
	}
	for _, u := range users {
		s.users[u.Subject] = u
	}
	for _, c := range clients {
		s.clients[c.ID] = c
	}
	return s
}

func randomID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// issuerFunc gives the op its issuer per request; Misbehaviour may make
// discovery or the token endpoint name another.
func (s *storage) issuerFunc(bool) (op.IssuerFromRequest, error) {
	return func(r *http.Request) string {
		s.mu.Lock()
		defer s.mu.Unlock()
		switch {
		case r.URL.Path == oidc.DiscoveryEndpoint && s.bad.DiscoveryIssuer != "":
			return s.bad.DiscoveryIssuer
		case r.URL.Path == "/oauth/token" && s.bad.TokenIssuer != "":
			return s.bad.TokenIssuer
		}
		return s.issuer
	}, nil
}

// authRequest is one login in progress, and after approval the grant its
// code stands for.
type authRequest struct {
	id           string
	clientID     string
	redirectURI  string
	state        string
	nonce        string
	scopes       []string
	responseType oidc.ResponseType
	responseMode oidc.ResponseMode
	challenge    *oidc.CodeChallenge
	subject      string
	authTime     time.Time
	done         bool
	audience     []string
}

var _ op.AuthRequest = (*authRequest)(nil)

func (a *authRequest) GetID() string                         { return a.id }
func (a *authRequest) GetACR() string                        { return "" }
func (a *authRequest) GetAMR() []string                      { return []string{"pwd"} }
func (a *authRequest) GetAudience() []string                 { return a.audience }
func (a *authRequest) GetAuthTime() time.Time                { return a.authTime }
func (a *authRequest) GetClientID() string                   { return a.clientID }
func (a *authRequest) GetCodeChallenge() *oidc.CodeChallenge { return a.challenge }
func (a *authRequest) GetNonce() string                      { return a.nonce }
func (a *authRequest) GetRedirectURI() string                { return a.redirectURI }
func (a *authRequest) GetResponseType() oidc.ResponseType    { return a.responseType }
func (a *authRequest) GetResponseMode() oidc.ResponseMode    { return a.responseMode }
func (a *authRequest) GetScopes() []string                   { return a.scopes }
func (a *authRequest) GetState() string                      { return a.state }
func (a *authRequest) GetSubject() string                    { return a.subject }
func (a *authRequest) Done() bool                            { return a.done }

type accessToken struct {
	subject  string
	clientID string
	scopes   []string
	expires  time.Time
}

type notFound struct{ what string }

func (e notFound) Error() string { return "oidctest: " + e.what + " not found" }
func (notFound) IsNotFound()     {}

// CreateAuthRequest keeps a login; it insists on PKCE with S256 and on a
// nonce, so a relying party that forgets either is refused.
func (s *storage) CreateAuthRequest(_ context.Context, r *oidc.AuthRequest, _ string) (op.AuthRequest, error) {
	if r.CodeChallenge == "" || r.CodeChallengeMethod != oidc.CodeChallengeMethodS256 {
		return nil, oidc.ErrInvalidRequest().WithDescription("PKCE with S256 is required")
	}
	if r.Nonce == "" {
		return nil, oidc.ErrInvalidRequest().WithDescription("a nonce is required")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a := &authRequest{
		id:           randomID(),
		clientID:     r.ClientID,
		redirectURI:  r.RedirectURI,
		state:        r.State,
		nonce:        r.Nonce,
		scopes:       slices.Clone(r.Scopes),
		responseType: r.ResponseType,
		responseMode: r.ResponseMode,
		challenge:    &oidc.CodeChallenge{Challenge: r.CodeChallenge, Method: r.CodeChallengeMethod},
		audience:     []string{r.ClientID},
	}
	if s.bad.WrongNonce {
		a.nonce = "not-" + r.Nonce
	}
	s.requests[a.id] = a
	return a, nil
}

// complete marks a login approved for the user.
func (s *storage) complete(id, subject string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.requests[id]
	if !ok {
		return notFound{"auth request"}
	}
	if _, ok := s.users[subject]; !ok {
		return errUnknownUser
	}
	a.subject, a.authTime, a.done = subject, time.Now().UTC(), true
	return nil
}

func (s *storage) AuthRequestByID(_ context.Context, id string) (op.AuthRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.requests[id]
	if !ok {
		return nil, notFound{"auth request"}
	}
	return a, nil
}

func (s *storage) AuthRequestByCode(_ context.Context, code string) (op.AuthRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.requests[s.codes[code]]
	if !ok {
		return nil, notFound{"code"}
	}
	return a, nil
}

func (s *storage) SaveAuthCode(_ context.Context, id, code string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.requests[id]; !ok {
		return notFound{"auth request"}
	}
	s.codes[code] = id
	return nil
}

// DeleteAuthRequest is called once the code is exchanged: the code dies
// with it, so a second exchange fails with invalid_grant.
func (s *storage) DeleteAuthRequest(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.requests, id)
	for code, rid := range s.codes {
		if rid == id {
			delete(s.codes, code)
		}
	}
	return nil
}

func (s *storage) CreateAccessToken(_ context.Context, r op.TokenRequest) (string, time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	clientID := ""
	if a, ok := r.(op.AuthRequest); ok {
		clientID = a.GetClientID()
	}
	id := randomID()
	exp := time.Now().UTC().Add(5 * time.Minute)
	s.tokens[id] = accessToken{subject: r.GetSubject(), clientID: clientID, scopes: slices.Clone(r.GetScopes()), expires: exp}
	s.exchanged++
	return id, exp, nil
}

var errUnsupported = errors.New("oidctest: not supported by the test provider")

func (s *storage) CreateAccessAndRefreshTokens(context.Context, op.TokenRequest, string) (string, string, time.Time, error) {
	return "", "", time.Time{}, errUnsupported
}

func (s *storage) TokenRequestByRefreshToken(context.Context, string) (op.RefreshTokenRequest, error) {
	return nil, op.ErrInvalidRefreshToken
}

func (s *storage) TerminateSession(context.Context, string, string) error { return nil }

func (s *storage) RevokeToken(_ context.Context, tokenOrID, _, _ string) *oidc.Error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.tokens, tokenOrID)
	return nil
}

func (s *storage) GetRefreshTokenInfo(context.Context, string, string) (string, string, error) {
	return "", "", op.ErrInvalidRefreshToken
}

type signingKey struct {
	id  string
	key *ecdsa.PrivateKey
}

func (k signingKey) SignatureAlgorithm() jose.SignatureAlgorithm { return jose.ES256 }
func (k signingKey) Key() any                                    { return k.key }
func (k signingKey) ID() string                                  { return k.id }

type publicKey struct {
	id  string
	key *ecdsa.PublicKey
}

func (k publicKey) ID() string                         { return k.id }
func (k publicKey) Algorithm() jose.SignatureAlgorithm { return jose.ES256 }
func (k publicKey) Use() string                        { return "sig" }
func (k publicKey) Key() any                           { return k.key }

func (s *storage) SigningKey(context.Context) (op.SigningKey, error) {
	return signingKey{id: s.keyID, key: s.key}, nil
}

func (s *storage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{jose.ES256}, nil
}

func (s *storage) KeySet(context.Context) ([]op.Key, error) {
	return []op.Key{publicKey{id: s.keyID, key: &s.key.PublicKey}}, nil
}

func (s *storage) GetClientByClientID(_ context.Context, id string) (op.Client, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.clients[id]
	if !ok {
		return nil, notFound{"client"}
	}
	return &client{c: c, issuer: s.issuer, bad: s.bad}, nil
}

func (s *storage) AuthorizeClientIDSecret(_ context.Context, id, secret string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.clients[id]
	if !ok || subtle.ConstantTimeCompare([]byte(c.Secret), []byte(secret)) != 1 {
		return errors.New("oidctest: wrong client id or secret")
	}
	return nil
}

// SetUserinfoFromScopes is deprecated in op; SetUserinfoFromRequest does the work.
func (s *storage) SetUserinfoFromScopes(context.Context, *oidc.UserInfo, string, string, []string) error {
	return nil
}

// SetUserinfoFromRequest fills an ID token's claims.
func (s *storage) SetUserinfoFromRequest(_ context.Context, ui *oidc.UserInfo, r op.IDTokenRequest, scopes []string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.bad.UserinfoOnly {
		ui.Subject = r.GetSubject()
		return nil
	}
	return s.fill(ui, r.GetSubject(), scopes)
}

// SetUserinfoFromToken answers the user info endpoint.
func (s *storage) SetUserinfoFromToken(_ context.Context, ui *oidc.UserInfo, tokenID, subject, _ string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens[tokenID]
	if !ok || t.subject != subject || time.Now().After(t.expires) {
		return errors.New("oidctest: access token unknown or expired")
	}
	if err := s.fill(ui, subject, t.scopes); err != nil {
		return err
	}
	if s.bad.UserinfoSubject != "" {
		ui.Subject = s.bad.UserinfoSubject
	}
	return nil
}

// fill sets the claims the scopes ask for; groups and custom claims come
// with any scope. The caller holds s.mu.
func (s *storage) fill(ui *oidc.UserInfo, subject string, scopes []string) error {
	u, ok := s.users[subject]
	if !ok {
		return errUnknownUser
	}
	ui.Subject = u.Subject
	for _, sc := range scopes {
		switch sc {
		case oidc.ScopeProfile:
			ui.PreferredUsername = u.Username
			ui.Name = u.Name
		case oidc.ScopeEmail:
			ui.Email = u.Email
			ui.EmailVerified = oidc.Bool(u.EmailVerified)
		}
	}
	if len(u.Groups) > 0 {
		ui.AppendClaims("groups", slices.Clone(u.Groups))
	}
	for k, v := range u.Claims {
		ui.AppendClaims(k, v)
	}
	return nil
}

func (s *storage) SetIntrospectionFromToken(context.Context, *oidc.IntrospectionResponse, string, string, string) error {
	return errUnsupported
}

func (s *storage) GetPrivateClaimsFromScopes(context.Context, string, string, []string) (map[string]any, error) {
	return nil, nil
}

func (s *storage) GetKeyByIDAndClientID(context.Context, string, string) (*jose.JSONWebKey, error) {
	return nil, errUnsupported
}

func (s *storage) ValidateJWTProfileScopes(context.Context, string, []string) ([]string, error) {
	return nil, errUnsupported
}

func (s *storage) Health(context.Context) error { return nil }

// client is a registered relying party as op sees it: a confidential web
// client allowed the code flow only.
type client struct {
	c      Client
	issuer string
	bad    Misbehaviour
}

var _ op.Client = (*client)(nil)

func (c *client) GetID() string                       { return c.c.ID }
func (c *client) RedirectURIs() []string              { return c.c.RedirectURIs }
func (c *client) PostLogoutRedirectURIs() []string    { return nil }
func (c *client) ApplicationType() op.ApplicationType { return op.ApplicationTypeWeb }
func (c *client) AuthMethod() oidc.AuthMethod         { return oidc.AuthMethodBasic }
func (c *client) ResponseTypes() []oidc.ResponseType {
	return []oidc.ResponseType{oidc.ResponseTypeCode}
}
func (c *client) GrantTypes() []oidc.GrantType        { return []oidc.GrantType{oidc.GrantTypeCode} }
func (c *client) LoginURL(id string) string           { return c.issuer + "/login?id=" + id }
func (c *client) AccessTokenType() op.AccessTokenType { return op.AccessTokenTypeBearer }
func (c *client) DevMode() bool                       { return false }
func (c *client) ClockSkew() time.Duration            { return 0 }
func (c *client) IsScopeAllowed(string) bool          { return true }

func (c *client) IDTokenLifetime() time.Duration {
	if c.bad.IDTokenLifetime != 0 {
		return c.bad.IDTokenLifetime
	}
	return 5 * time.Minute
}

func (c *client) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}

func (c *client) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}

// IDTokenUserinfoClaimsAssertion puts profile and email claims in the ID
// token, as most providers do, unless Misbehaviour.UserinfoOnly.
func (c *client) IDTokenUserinfoClaimsAssertion() bool { return !c.bad.UserinfoOnly }
