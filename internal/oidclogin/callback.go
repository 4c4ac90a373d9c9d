package oidclogin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"golang.org/x/oauth2"

	"mediashare/internal/apperr"
)

// Callback finishes a sign-in on the redirect URL: it checks the state
// against the flow cookie (and clears that cookie), exchanges the code with
// the PKCE verifier, verifies the ID token (signature, issuer, audience,
// expiry, nonce, access token hash), reads the user info endpoint when the
// provider has one, and returns who signed in. It writes only the cookie
// that clears the flow; the caller writes the response.
func (rp *RP) Callback(w http.ResponseWriter, r *http.Request) (Identity, error) {
	q := r.URL.Query()
	for _, k := range []string{"state", "code", "error", "iss"} {
		if len(q[k]) > 1 {
			return Identity{}, fail(apperr.Invalid, BadRequest, fmt.Errorf("parameter %s repeated", k), msgStartAgain)
		}
	}
	state := q.Get("state")
	if !validToken(state) {
		return Identity{}, fail(apperr.Invalid, BadState, errors.New("state missing or malformed"), msgStartAgain)
	}
	name := rp.cookieName(state)
	c, err := r.Cookie(name)
	if err != nil {
		return Identity{}, fail(apperr.Invalid, BadState, errors.New("no flow cookie for this state"),
			"This sign-in was not started in this browser, was already used, or took too long. Please start again.")
	}
	// One callback per flow: the cookie goes whatever happens next.
	http.SetCookie(w, &http.Cookie{Name: name, Value: "", Path: rp.path, MaxAge: -1, HttpOnly: true, Secure: rp.secure, SameSite: http.SameSiteLaxMode})
	f, err := rp.open(name, c.Value)
	if err != nil {
		return Identity{}, fail(apperr.Invalid, BadState, err, msgStartAgain)
	}
	if !equal(f.State, state) {
		return Identity{}, fail(apperr.Invalid, BadState, errors.New("state does not match the flow cookie"), msgStartAgain)
	}
	if rp.cfg.Now().Unix() > f.Expires {
		return Identity{}, fail(apperr.Invalid, BadState, errors.New("flow expired"), "This sign-in took too long. Please start again.")
	}
	// RFC 9207: a provider that names itself must be the one we asked.
	if iss, ok := q["iss"]; ok && iss[0] != rp.cfg.Issuer {
		return Identity{}, fail(apperr.Invalid, BadIssuer, fmt.Errorf("callback iss %q", truncate(iss[0], 100)), msgStartAgain)
	}
	if e := q.Get("error"); e != "" {
		return Identity{}, providerError(e)
	}
	code := q.Get("code")
	if code == "" || len(code) > 4096 {
		return Identity{}, fail(apperr.Invalid, BadRequest, errors.New("code missing or over-long"), msgStartAgain)
	}

	d, err := rp.discover(r.Context())
	if err != nil {
		return Identity{}, err
	}
	ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
	defer cancel()
	ctx = rp.clientContext(ctx)
	tok, err := d.oauth.Exchange(ctx, code, oauth2.VerifierOption(f.Verifier))
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) {
			if re.ErrorCode == "invalid_grant" {
				return Identity{}, fail(apperr.Invalid, ExchangeFailed, err, msgStartAgain)
			}
			return Identity{}, fail(apperr.Unavailable, ExchangeFailed, err, msgUnavailable)
		}
		return Identity{}, fail(apperr.Unavailable, Unavailable, fmt.Errorf("token endpoint: %w", err), msgUnavailable)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return Identity{}, fail(apperr.Invalid, BadToken, errors.New("token response has no id_token"), msgStartAgain)
	}
	idt, err := d.verifier.Verify(ctx, raw)
	if err != nil {
		return Identity{}, fail(apperr.Invalid, BadToken, err, msgStartAgain)
	}
	if idt.Issuer != rp.cfg.Issuer {
		return Identity{}, fail(apperr.Invalid, BadIssuer, fmt.Errorf("id token issuer %q", idt.Issuer), msgStartAgain)
	}
	if !equal(idt.Nonce, f.Nonce) {
		return Identity{}, fail(apperr.Invalid, BadNonce, errors.New("id token nonce does not match the flow"), msgStartAgain)
	}
	if idt.AccessTokenHash != "" {
		if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
			return Identity{}, fail(apperr.Invalid, BadToken, err, msgStartAgain)
		}
	}
	claims := map[string]any{}
	if err := idt.Claims(&claims); err != nil {
		return Identity{}, fail(apperr.Invalid, BadToken, err, msgStartAgain)
	}
	if err := rp.mergeUserInfo(ctx, d, tok, idt.Subject, claims); err != nil {
		return Identity{}, err
	}
	id := identityFrom(claims, rp.cfg.AdminClaim)
	id.Issuer, id.Subject, id.ReturnTo = idt.Issuer, idt.Subject, f.ReturnTo
	return id, nil
}

// mergeUserInfo adds the user info endpoint's claims to those of the ID
// token (which win), as providers may keep profile and email claims there
// (OpenID Connect Core 5.4). A provider without the endpoint is fine.
func (rp *RP) mergeUserInfo(ctx context.Context, d *discovered, tok *oauth2.Token, subject string, claims map[string]any) error {
	if d.provider.UserInfoEndpoint() == "" || tok.AccessToken == "" {
		return nil
	}
	ui, err := d.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil {
		return fail(apperr.Unavailable, Unavailable, fmt.Errorf("user info: %w", err), msgUnavailable)
	}
	if ui.Subject != subject {
		return fail(apperr.Invalid, BadToken, fmt.Errorf("user info subject %q is not the id token's", truncate(ui.Subject, 100)), msgStartAgain)
	}
	extra := map[string]any{}
	if err := ui.Claims(&extra); err != nil {
		return fail(apperr.Invalid, BadToken, fmt.Errorf("user info claims: %w", err), msgStartAgain)
	}
	for k, v := range extra {
		if _, ok := claims[k]; !ok {
			claims[k] = v
		}
	}
	return nil
}

// providerError maps the callback's error parameter. Its description is
// chosen by whoever made the link, so only known codes reach the message.
func providerError(code string) error {
	cause := fmt.Errorf("provider returned error %q", truncate(code, 60))
	switch code {
	case "access_denied":
		return fail(apperr.Forbidden, ProviderError, cause, "The identity provider did not let you sign in.")
	case "temporarily_unavailable", "server_error":
		return fail(apperr.Unavailable, ProviderError, cause, msgUnavailable)
	case "login_required", "interaction_required", "consent_required":
		return fail(apperr.Invalid, ProviderError, cause, "The identity provider needs you to sign in there first. Please start again.")
	default:
		return fail(apperr.Invalid, ProviderError, cause, "The identity provider refused this sign-in.")
	}
}

// identityFrom reads the profile claims and the admin claim.
func identityFrom(claims map[string]any, admin AdminClaim) Identity {
	str := func(k string) string {
		s, _ := claims[k].(string)
		return s
	}
	return Identity{
		PreferredUsername: str("preferred_username"),
		Name:              str("name"),
		Email:             str("email"),
		EmailVerified:     truthy(claims["email_verified"]),
		Admin:             admin.Match(claims),
	}
}

// truthy accepts JSON true and the string "true" (some providers send it).
func truthy(v any) bool {
	switch t := v.(type) {
	case bool:
		return t
	case string:
		return t == "true"
	}
	return false
}
