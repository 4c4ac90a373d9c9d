package main

import (
	"crypto/sha256"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"mediashare/internal/accounts"
	"mediashare/internal/backend"
	"mediashare/internal/oidclogin"
	"mediashare/internal/people"
	"mediashare/internal/policy"
)

// accountsOf makes the policy and the account use cases of c.
func accountsOf(c config, be *backend.Backend, log *slog.Logger) (policy.Policy, *people.Service, error) {
	uploads, err := policy.ParseUploads(c.Uploads)
	if err != nil {
		return policy.Policy{}, nil, fmt.Errorf("--uploads: %w", err)
	}
	signup, err := policy.ParseSignUp(c.SignUp)
	if err != nil {
		return policy.Policy{}, nil, fmt.Errorf("--signup: %w", err)
	}
	pol := policy.Policy{Uploads: uploads, SignUp: signup, PasswordLogin: c.PasswordLogin, QuotaBytes: c.QuotaBytes}
	var failures *people.Failures
	if c.SignInFailures > 0 {
		failures = &people.Failures{PerAccount: c.SignInFailures, PerClient: 5 * c.SignInFailures, Window: 15 * time.Minute}
	}
	return pol, &people.Service{
		Events: be.Events, Audit: be.Audit, Auth: be.Auth, Hasher: accounts.NewHasher(accounts.OWASP, 2),
		Policy: pol, SessionTTL: c.SessionTTL, InviteTTL: c.InviteTTL, Failures: failures, Log: log.With("component", "accounts"),
		OIDCAdminClaim: c.OIDCAdminClaim,
	}, nil
}

// oidcOf makes the relying party of c; its flow cookies are signed with
// a key derived from the site's newest key.
func oidcOf(c config, siteKey []byte) (*oidclogin.RP, error) {
	secret, err := oidclogin.ReadSecretFile(c.OIDCSecretFile)
	if err != nil {
		return nil, fmt.Errorf("--oidc-client-secret-file: %w", err)
	}
	redirect := c.OIDCRedirect
	if redirect == "" {
		if redirect, err = oidclogin.RedirectURLFor(c.PublicURL); err != nil {
			return nil, fmt.Errorf("--public-url: %w", err)
		}
	}
	claim, err := oidclogin.ParseAdminClaim(c.OIDCAdminClaim)
	if err != nil {
		return nil, fmt.Errorf("--oidc-admin-claim: %w", err)
	}
	key := sha256.Sum256(append([]byte("mediashare oidc flow\x00"), siteKey...))
	rp, err := oidclogin.New(oidclogin.Config{
		Issuer: c.OIDCIssuer, ClientID: c.OIDCClientID, ClientSecret: secret, RedirectURL: redirect,
		Scopes: strings.Fields(c.OIDCScopes), AdminClaim: claim, CookieKey: key[:],
	})
	if err != nil {
		return nil, fmt.Errorf("--oidc-issuer: %w", err)
	}
	return rp, nil
}
