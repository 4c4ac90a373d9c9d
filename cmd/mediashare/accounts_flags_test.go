package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The account flags and their MEDIASHARE_* twins: defaults, good values,
// and every bad one refused at start-up naming the flag.
func TestAccountFlags(t *testing.T) {
	c, err := parseServe(t, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Uploads != "members" || c.SignUp != "invite" || c.SessionTTL != 720*time.Hour || c.QuotaBytes != 0 || !c.PasswordLogin ||
		c.SignInFailures != 10 || c.OIDCIssuer != "" || c.InviteTTL != 7*24*time.Hour || c.AccountCache != time.Second {
		t.Errorf("defaults: %+v", c)
	}
	secret := filepath.Join(t.TempDir(), "oidc-secret")
	os.WriteFile(secret, []byte("x\n"), 0o600)
	t.Run("set", func(t *testing.T) {
		c, err := parseServe(t, []string{"--uploads", "anyone", "--quota-bytes", "1GiB", "--oidc-issuer", "https://id.example.org"},
			map[string]string{"MEDIASHARE_SIGNUP": "open", "MEDIASHARE_SESSION_TTL": "24h", "MEDIASHARE_ACCOUNT_CACHE": "250ms", "MEDIASHARE_OIDC_CLIENT_ID": "ms",
				"MEDIASHARE_OIDC_CLIENT_SECRET_FILE": secret, "MEDIASHARE_PUBLIC_URL": "https://photos.example.org", "MEDIASHARE_PASSWORD_LOGIN": "false"})
		if err != nil {
			t.Fatal(err)
		}
		if c.Uploads != "anyone" || c.SignUp != "open" || c.SessionTTL != 24*time.Hour || c.AccountCache != 250*time.Millisecond || c.QuotaBytes != 1<<30 || c.PasswordLogin || c.OIDCClientID != "ms" {
			t.Errorf("set: %+v", c)
		}
	})
	oidc := []string{"--oidc-issuer", "https://id.example.org", "--oidc-client-id", "ms", "--oidc-client-secret-file", secret}
	for _, tt := range []struct {
		name, flag string
		args       []string
		env        map[string]string
	}{
		{"uploads garbage", "uploads", []string{"--uploads", "everyone"}, nil},
		{"signup garbage", "signup", nil, map[string]string{"MEDIASHARE_SIGNUP": "sometimes"}},
		{"session ttl zero", "session-ttl", []string{"--session-ttl", "0s"}, nil},
		{"session ttl negative", "session-ttl", []string{"--session-ttl", "-1h"}, nil},
		{"invite ttl too short", "invite-ttl", []string{"--invite-ttl", "1s"}, nil},
		{"quota garbage", "quota-bytes", []string{"--quota-bytes", "lots"}, nil},
		{"quota negative", "quota-bytes", []string{"--quota-bytes", "-1GiB"}, nil},
		{"signin failures negative", "signin-failures", []string{"--signin-failures", "-1"}, nil},
		{"account cache negative", "account-cache", []string{"--account-cache", "-1s"}, nil},
		{"account cache too long", "account-cache", nil, map[string]string{"MEDIASHARE_ACCOUNT_CACHE": "1h"}},
		{"account cache garbage", "account-cache", []string{"--account-cache", "soon"}, nil},
		{"public url with a path", "public-url", []string{"--public-url", "https://photos.example.org/app"}, nil},
		{"public url not a url", "public-url", []string{"--public-url", "photos"}, nil},
		{"passwords off without a provider", "password-login", []string{"--password-login=false"}, nil},
		{"a provider without a client id", "oidc-client-id", []string{"--oidc-issuer", "https://id.example.org", "--oidc-client-secret-file", secret, "--public-url", "https://p.example.org"}, nil},
		{"a provider without a secret", "oidc-client-secret-file", []string{"--oidc-issuer", "https://id.example.org", "--oidc-client-id", "ms", "--public-url", "https://p.example.org"}, nil},
		{"a provider without a callback", "oidc-redirect-url", oidc, nil},
		{"a callback elsewhere", "oidc-redirect-url", append(oidc, "--oidc-redirect-url", "https://p.example.org/auth/cb"), nil},
		{"an admin claim that is not one", "oidc-admin-claim", append(oidc, "--public-url", "https://p.example.org", "--oidc-admin-claim", "=admins"), nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseServe(t, tt.args, tt.env)
			if err == nil || !strings.Contains(err.Error(), tt.flag) {
				t.Fatalf("got %v, want an error naming --%s", err, tt.flag)
			}
		})
	}
}
