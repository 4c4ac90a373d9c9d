package oidclogin_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"mediashare/internal/oidclogin"
)

func goodConfig() oidclogin.Config {
	return oidclogin.Config{
		Issuer:       "https://id.example.org/realms/main",
		ClientID:     "mediashare",
		ClientSecret: "secret",
		RedirectURL:  "https://photos.example.org/oidc/callback",
		CookieKey:    []byte(strings.Repeat("k", 32)),
	}
}

func TestNewChecksConfig(t *testing.T) {
	if _, err := oidclogin.New(goodConfig()); err != nil {
		t.Fatalf("good config: %v", err)
	}
	for _, loop := range []string{"http://127.0.0.1:5556", "http://localhost:8080/dex", "http://[::1]:9000"} {
		cfg := goodConfig()
		cfg.Issuer = loop
		if _, err := oidclogin.New(cfg); err != nil {
			t.Errorf("loopback issuer %s: %v", loop, err)
		}
	}
	tests := []struct {
		name string
		edit func(*oidclogin.Config)
		want string
	}{
		{"no issuer", func(c *oidclogin.Config) { c.Issuer = "" }, "issuer"},
		{"relative issuer", func(c *oidclogin.Config) { c.Issuer = "/realms/main" }, "issuer"},
		{"http issuer off loopback", func(c *oidclogin.Config) { c.Issuer = "http://id.example.org" }, "https"},
		{"issuer with query", func(c *oidclogin.Config) { c.Issuer = "https://id.example.org/?x=1" }, "query"},
		{"issuer with fragment", func(c *oidclogin.Config) { c.Issuer = "https://id.example.org/#x" }, "issuer"},
		{"issuer with user", func(c *oidclogin.Config) { c.Issuer = "https://u:p@id.example.org/" }, "issuer"},
		{"issuer not http", func(c *oidclogin.Config) { c.Issuer = "ftp://id.example.org/" }, "issuer"},
		{"no redirect URL", func(c *oidclogin.Config) { c.RedirectURL = "" }, "redirect"},
		{"relative redirect URL", func(c *oidclogin.Config) { c.RedirectURL = "/oidc/callback" }, "redirect"},
		{"no client id", func(c *oidclogin.Config) { c.ClientID = "" }, "client id"},
		{"client id with space", func(c *oidclogin.Config) { c.ClientID = "media share" }, "client id"},
		{"client id too long", func(c *oidclogin.Config) { c.ClientID = strings.Repeat("c", 256) }, "client id"},
		{"no secret", func(c *oidclogin.Config) { c.ClientSecret = "" }, "secret"},
		{"short cookie key", func(c *oidclogin.Config) { c.CookieKey = []byte("short") }, "cookie key"},
		{"bad cookie name", func(c *oidclogin.Config) { c.CookieName = "a;b" }, "cookie name"},
		{"scope with space", func(c *oidclogin.Config) { c.Scopes = []string{"openid", "a b"} }, "scope"},
		{"empty scope", func(c *oidclogin.Config) { c.Scopes = []string{""} }, "scope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := goodConfig()
			tt.edit(&cfg)
			_, err := oidclogin.New(cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New: %v, want an error naming %q", err, tt.want)
			}
		})
	}
}

func TestParseAdminClaim(t *testing.T) {
	tests := []struct {
		in     string
		want   oidclogin.AdminClaim
		claims map[string]any
		admin  bool
	}{
		{"groups=admins", oidclogin.AdminClaim{Name: "groups", Value: "admins"}, map[string]any{"groups": []any{"staff", "admins"}}, true},
		{"groups=admins", oidclogin.AdminClaim{Name: "groups", Value: "admins"}, map[string]any{"groups": []any{"staff", "admins-not"}}, false},
		{"groups=admins", oidclogin.AdminClaim{Name: "groups", Value: "admins"}, map[string]any{"groups": "admins"}, true},
		{"groups=admins", oidclogin.AdminClaim{Name: "groups", Value: "admins"}, map[string]any{"groups": true}, false},
		{"groups=admins", oidclogin.AdminClaim{Name: "groups", Value: "admins"}, map[string]any{}, false},
		{"role=a=b", oidclogin.AdminClaim{Name: "role", Value: "a=b"}, map[string]any{"role": "a=b"}, true},
		{"https://example.com/roles=admin", oidclogin.AdminClaim{Name: "https://example.com/roles", Value: "admin"}, map[string]any{"https://example.com/roles": []any{"admin"}}, true},
		{"is_admin", oidclogin.AdminClaim{Name: "is_admin"}, map[string]any{"is_admin": true}, true},
		{"is_admin", oidclogin.AdminClaim{Name: "is_admin"}, map[string]any{"is_admin": "true"}, true},
		{"is_admin", oidclogin.AdminClaim{Name: "is_admin"}, map[string]any{"is_admin": false}, false},
		{"is_admin", oidclogin.AdminClaim{Name: "is_admin"}, map[string]any{"is_admin": 1.0}, false},
		{"is_admin", oidclogin.AdminClaim{Name: "is_admin"}, map[string]any{"is_admin": []any{true}}, false},
		{"", oidclogin.AdminClaim{}, map[string]any{"": true}, false},
	}
	for _, tt := range tests {
		got, err := oidclogin.ParseAdminClaim(tt.in)
		if err != nil || got != tt.want {
			t.Fatalf("ParseAdminClaim(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
		if got.String() != tt.in {
			t.Errorf("String() = %q, want %q", got.String(), tt.in)
		}
		if m := got.Match(tt.claims); m != tt.admin {
			t.Errorf("%q.Match(%v) = %v, want %v", tt.in, tt.claims, m, tt.admin)
		}
	}
	for _, bad := range []string{"=admins", "groups=", "=", "a\nb=c", strings.Repeat("x", 201)} {
		if _, err := oidclogin.ParseAdminClaim(bad); err == nil {
			t.Errorf("ParseAdminClaim(%q) accepted", bad)
		}
	}
}

func TestReadSecretFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for body, want := range map[string]string{"s3cret\n": "s3cret", "s3cret": "s3cret", "s3cret\r\n": "s3cret", " s p ": " s p "} {
		got, err := oidclogin.ReadSecretFile(write("ok", body))
		if err != nil || got != want {
			t.Errorf("ReadSecretFile(%q) = %q, %v; want %q", body, got, err, want)
		}
	}
	for _, body := range []string{"", "\n", "  \n", "one\ntwo\n"} {
		if _, err := oidclogin.ReadSecretFile(write("bad", body)); err == nil {
			t.Errorf("ReadSecretFile(%q) accepted", body)
		}
	}
	if _, err := oidclogin.ReadSecretFile(filepath.Join(dir, "missing")); err == nil {
		t.Error("a missing file was accepted")
	}
}

func TestRedirectURLFor(t *testing.T) {
	for in, want := range map[string]string{
		"https://photos.example.org":  "https://photos.example.org/oidc/callback",
		"https://photos.example.org/": "https://photos.example.org/oidc/callback",
		"https://example.org/photos/": "https://example.org/photos/oidc/callback",
		"http://127.0.0.1:8080":       "http://127.0.0.1:8080/oidc/callback",
	} {
		got, err := oidclogin.RedirectURLFor(in)
		if err != nil || got != want {
			t.Errorf("RedirectURLFor(%q) = %q, %v; want %q", in, got, err, want)
		}
		cfg := goodConfig()
		cfg.RedirectURL = got
		rp, err := oidclogin.New(cfg)
		if err != nil || !strings.HasSuffix(rp.CallbackPath(), "/oidc/callback") {
			t.Errorf("New with redirect %q: %v", got, err)
		}
	}
	for _, bad := range []string{"", "photos.example.org", "/photos", "ftp://x", "https://x/?a=b", "https://x/#f"} {
		if _, err := oidclogin.RedirectURLFor(bad); err == nil {
			t.Errorf("RedirectURLFor(%q) accepted", bad)
		}
	}
}
