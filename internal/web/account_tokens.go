package web

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"mediashare/internal/apperr"
	"mediashare/internal/authstore"
	"mediashare/views"
)

// Personal API tokens on /account: made, listed (with their last use)
// and revoked by the signed-in account, through the pages' forms (a
// session cookie and the cross-origin check; a bearer token is no
// sign-in here), and a ShareX uploader (.sxcu) for one of them.

// maxTokenLife bounds a token's expiry as a form may choose it.
const maxTokenLife = 5 * 365 * 24 * time.Hour

// fillTokens puts the account's live tokens on its page.
func (s *Server) fillTokens(r *http.Request, accountID string, a *views.AccountPage) error {
	if s.API.Tokens == nil {
		return nil
	}
	ts, err := s.API.Tokens.Tokens(r.Context(), accountID)
	if err != nil {
		return err
	}
	for _, t := range ts {
		a.Tokens.Tokens = append(a.Tokens.Tokens, views.TokenRow{ID: t.TokenHash, Name: t.Name, Scopes: strings.Join(t.Scopes, ", "),
			Created: t.Created, Expires: t.Expires, LastUsed: t.LastUsed})
	}
	return nil
}

// tokenCreate serves POST /account/tokens (name, scope…, expires): the
// new token is shown once on the account page.
func (s *Server) tokenCreate(w http.ResponseWriter, r *http.Request) {
	if !s.signedInOnly(w, r, "make an API token") || !s.tokensOn(w, r) {
		return
	}
	if err := readForm(w, r, "name", "expires"); err != nil {
		s.accountFailed(w, r, err)
		return
	}
	name, err := authstore.CheckTokenName(r.PostForm.Get("name"))
	if err != nil {
		s.accountFailed(w, r, err)
		return
	}
	if len(r.PostForm["scope"]) > len(authstore.Scopes) {
		s.accountFailed(w, r, apperr.FieldError(apperr.Invalid, "scopes", "Choose each scope at most once."))
		return
	}
	scopes, err := authstore.ParseScopes(strings.Join(r.PostForm["scope"], ","))
	if err != nil {
		s.accountFailed(w, r, err)
		return
	}
	now := time.Now().UTC()
	var expires time.Time
	if v := r.PostForm.Get("expires"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Hour || d > maxTokenLife {
			s.accountFailed(w, r, apperr.FieldError(apperr.Invalid, "expires", "Choose when the token expires: from an hour to five years, or never."))
			return
		}
		expires = now.Add(d)
	}
	secret, hash, err := authstore.NewSecret(authstore.TokenPrefix)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	p := PrincipalFrom(r.Context())
	if err := s.API.Tokens.CreateToken(r.Context(), authstore.Token{
		TokenHash: hash, AccountID: p.AccountID, Name: name, Scopes: scopes, Created: now, Expires: expires,
	}); err != nil {
		s.renderError(w, r, err)
		return
	}
	upload := false
	for _, sc := range scopes {
		upload = upload || sc == authstore.ScopeUpload
	}
	s.renderAccount(w, r, http.StatusCreated, views.AccountPage{
		Notice: "Token “" + name + "” made.", Tokens: views.TokensPanel{NewToken: secret, NewTokenUpload: upload},
	})
}

// tokenRevoke serves POST /account/tokens/{id}/revoke.
func (s *Server) tokenRevoke(w http.ResponseWriter, r *http.Request) {
	if !s.signedInOnly(w, r, "revoke an API token") || !s.tokensOn(w, r) {
		return
	}
	id := r.PathValue("id")
	noSuch := apperr.New(apperr.NotFound, "You have no such token (it may have been revoked or have expired).")
	if !authstore.ValidHash(id) {
		s.accountFailed(w, r, noSuch)
		return
	}
	err := s.API.Tokens.RevokeToken(r.Context(), PrincipalFrom(r.Context()).AccountID, id)
	if errors.Is(err, authstore.ErrNotFound) {
		s.accountFailed(w, r, noSuch)
		return
	}
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	http.Redirect(w, r, "/account", http.StatusSeeOther)
}

// sharexDownload serves POST /account/tokens/sharex (token): the ShareX
// uploader for one of the account's tokens with the upload scope. The
// token comes in the form because only its hash is kept.
func (s *Server) sharexDownload(w http.ResponseWriter, r *http.Request) {
	if !s.signedInOnly(w, r, "make a ShareX uploader") || !s.tokensOn(w, r) {
		return
	}
	if err := readForm(w, r, "token"); err != nil {
		s.accountFailed(w, r, err)
		return
	}
	notYours := apperr.FieldError(apperr.Invalid, "token", "That is not one of your live tokens with the upload scope.")
	secret := strings.TrimSpace(r.PostForm.Get("token"))
	if len(secret) > authstore.MaxSecretLength || !strings.HasPrefix(secret, authstore.TokenPrefix) {
		s.accountFailed(w, r, notYours)
		return
	}
	t, err := s.API.Tokens.Token(r.Context(), authstore.HashToken(secret))
	if errors.Is(err, authstore.ErrNotFound) || (err == nil && (t.AccountID != PrincipalFrom(r.Context()).AccountID || !t.Has(authstore.ScopeUpload))) {
		s.accountFailed(w, r, notYours)
		return
	}
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	base := s.baseURL(r)
	if base == "" {
		s.accountFailed(w, r, apperr.New(apperr.Unavailable, "This site does not know its own address: its operator should set --public-url."))
		return
	}
	b, err := ShareXConfig(base, secret)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Disposition", `attachment; filename="mediashare.sxcu"`)
	w.Header().Set("Cache-Control", "no-store")
	w.Write(b)
}

// tokensOn answers 404 when the site keeps no tokens.
func (s *Server) tokensOn(w http.ResponseWriter, r *http.Request) bool {
	if s.API.Tokens == nil {
		s.notFound(w, r)
		return false
	}
	return true
}
