package oidctest_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"mediashare/internal/oidctest"
)

const redirect = "http://127.0.0.1:1/callback" // never visited: the client stops at it

func setup(t *testing.T) (*oidctest.Provider, *oauth2.Config, *http.Client) {
	t.Helper()
	p := oidctest.Start(t, oidctest.Options{
		Users:   []oidctest.User{{Subject: "u1", Username: "ann", Email: "ann@example.org"}},
		Clients: []oidctest.Client{{ID: "app", Secret: "app-secret", RedirectURIs: []string{redirect}}},
	})
	cfg := &oauth2.Config{
		ClientID: "app", ClientSecret: "app-secret", RedirectURL: redirect, Scopes: []string{"openid", "profile"},
		Endpoint: oauth2.Endpoint{AuthURL: p.Issuer() + "/authorize", TokenURL: p.Issuer() + "/oauth/token"},
	}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 20 * time.Second, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if strings.HasPrefix(req.URL.String(), redirect) {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	return p, cfg, c
}

// authorize follows the provider until it redirects to the client, and
// returns that redirect's query.
func authorize(t *testing.T, c *http.Client, u string) url.Values {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	loc, err := resp.Location()
	if err != nil || !strings.HasPrefix(loc.String(), redirect) {
		body, _ := io.ReadAll(resp.Body)
		t.Fatalf("status %d, location %v: want a redirect to the client (%s)", resp.StatusCode, loc, body)
	}
	return loc.Query()
}

func TestProviderRequiresPKCEAndNonce(t *testing.T) {
	p, cfg, c := setup(t)
	p.LoginAs("u1")
	v := oauth2.GenerateVerifier()
	tests := []struct {
		name string
		opts []oauth2.AuthCodeOption
	}{
		{"no PKCE", []oauth2.AuthCodeOption{oauth2.SetAuthURLParam("nonce", "n1")}},
		{"plain PKCE", []oauth2.AuthCodeOption{oauth2.SetAuthURLParam("nonce", "n1"), oauth2.SetAuthURLParam("code_challenge", v), oauth2.SetAuthURLParam("code_challenge_method", "plain")}},
		{"no nonce", []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(v)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := authorize(t, c, cfg.AuthCodeURL("st", tt.opts...))
			if q.Get("error") != "invalid_request" || q.Get("code") != "" || q.Get("state") != "st" {
				t.Fatalf("redirect query %v: want error=invalid_request, state, no code", q)
			}
		})
	}
}

func TestProviderChecksVerifierAndSecret(t *testing.T) {
	p, cfg, c := setup(t)
	p.LoginAs("u1")
	ctx := context.WithValue(t.Context(), oauth2.HTTPClient, &http.Client{Timeout: 20 * time.Second})
	code := func() (string, string) {
		v := oauth2.GenerateVerifier()
		q := authorize(t, c, cfg.AuthCodeURL("st", oauth2.S256ChallengeOption(v), oauth2.SetAuthURLParam("nonce", "n1")))
		if q.Get("code") == "" {
			t.Fatalf("no code: %v", q)
		}
		return q.Get("code"), v
	}
	wantRefused := func(err error, want string) {
		t.Helper()
		var re *oauth2.RetrieveError
		if !errors.As(err, &re) || re.ErrorCode != want {
			t.Fatalf("exchange: %v, want %s", err, want)
		}
	}

	cd, _ := code()
	_, err := cfg.Exchange(ctx, cd, oauth2.VerifierOption(oauth2.GenerateVerifier()))
	wantRefused(err, "invalid_grant")

	cd, v := code()
	bad := *cfg
	bad.ClientSecret = "wrong"
	_, err = bad.Exchange(ctx, cd, oauth2.VerifierOption(v))
	wantRefused(err, "invalid_client")

	tok, err := cfg.Exchange(ctx, cd, oauth2.VerifierOption(v))
	if err != nil || tok.Extra("id_token") == nil {
		t.Fatalf("good exchange: %v, %v", tok, err)
	}
	_, err = cfg.Exchange(ctx, cd, oauth2.VerifierOption(v))
	wantRefused(err, "invalid_grant")
	if n := p.TokenRequests(); n != 1 {
		t.Fatalf("TokenRequests = %d, want 1", n)
	}
}

func TestProviderRefusesUnknownRedirect(t *testing.T) {
	_, cfg, c := setup(t)
	bad := *cfg
	bad.RedirectURL = "http://127.0.0.1:1/elsewhere"
	resp, err := c.Get(bad.AuthCodeURL("st", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()), oauth2.SetAuthURLParam("nonce", "n")))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("status %d, want 400 without a redirect", resp.StatusCode)
	}
}

// TestLoginForm: without LoginAs the provider shows a form with a button per user.
func TestLoginForm(t *testing.T) {
	_, cfg, c := setup(t)
	resp, err := c.Get(cfg.AuthCodeURL("st", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()), oauth2.SetAuthURLParam("nonce", "n")))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `data-testid="login-ann"`) {
		t.Fatalf("status %d, body %s: want the login form", resp.StatusCode, body)
	}
	id := resp.Request.URL.Query().Get("id")
	resp, err = c.PostForm(resp.Request.URL.Scheme+"://"+resp.Request.URL.Host+"/login", url.Values{"id": {id}, "subject": {"u1"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	// The provider's callback redirects to the client with a code.
	loc, _ := resp.Location()
	if resp.StatusCode != http.StatusFound || loc == nil || loc.Query().Get("code") == "" {
		t.Fatalf("after the form: status %d, location %v; want a code for the client", resp.StatusCode, loc)
	}
	resp, err = c.PostForm(resp.Request.URL.Scheme+"://"+resp.Request.URL.Host+"/login", url.Values{"id": {"nope"}, "subject": {"u1"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("unknown auth request: status %d, want 400", resp.StatusCode)
	}
}
