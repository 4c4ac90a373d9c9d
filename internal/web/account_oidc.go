package web

import (
	"context"
	"net/http"

	"mediashare/internal/apperr"
	"mediashare/internal/oidclogin"
	"mediashare/internal/people"
)

// oidcLogin is the relying party; *oidclogin.RP is one.
type oidcLogin interface {
	Begin(w http.ResponseWriter, r *http.Request, returnTo string) error
	Callback(w http.ResponseWriter, r *http.Request) (oidclogin.Identity, error)
}

var _ oidcLogin = (*oidclogin.RP)(nil)

// oidcAccounts turns a provider's identity into a session.
type oidcAccounts interface {
	SignInOIDC(ctx context.Context, id people.OIDCIdentity, c people.Client) (people.Signed, error)
}

var _ oidcAccounts = (*people.Service)(nil)

// oidcBegin serves GET /login/oidc (?return= a path on this site): 303 to
// the provider.
func (s *Server) oidcBegin(w http.ResponseWriter, r *http.Request) {
	if s.OIDC == nil || s.People == nil {
		s.renderError(w, r, apperr.New(apperr.NotFound, "This site has no identity provider to sign in with."))
		return
	}
	if err := s.OIDC.Begin(w, r, r.URL.Query().Get("return")); err != nil {
		s.renderError(w, r, err)
	}
}

// oidcCallbackPath is where the provider sends people back. A login there
// may change an account (an admin demoted by --oidc-admin-claim), so it
// counts as a write (countWrites) though it is a GET.
const oidcCallbackPath = "/oidc/callback"

// oidcCallback serves the provider's redirect back: the account (made on
// first login when sign-up allows), a session, 303 to the return path.
func (s *Server) oidcCallback(w http.ResponseWriter, r *http.Request) {
	if s.OIDC == nil || s.People == nil {
		s.renderError(w, r, apperr.New(apperr.NotFound, "This site has no identity provider to sign in with."))
		return
	}
	id, err := s.OIDC.Callback(w, r)
	if err != nil {
		s.log().Info("identity provider sign-in refused", "reason", oidclogin.ReasonOf(err), "error", err)
		s.renderError(w, r, err)
		return
	}
	acc, ok := s.People.(oidcAccounts)
	if !ok {
		s.renderError(w, r, apperr.New(apperr.Unavailable, "Signing in with the identity provider is not available."))
		return
	}
	signed, err := acc.SignInOIDC(r.Context(), people.OIDCIdentity{
		Issuer: id.Issuer, Subject: id.Subject, Username: id.PreferredUsername, Name: id.Name, Admin: id.Admin,
	}, s.clientOf(r))
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	s.signedIn(w, r, signed, id.ReturnTo)
}
