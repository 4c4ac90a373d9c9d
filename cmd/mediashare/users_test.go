package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
)

// mediashare users add / list / disable on both backends: the operator
// makes the first admin without a browser, the site then has its admin,
// and a disabled account cannot sign in.
func TestUsersCommands(t *testing.T) {
	for _, backend := range []string{"embedded", "aws"} {
		t.Run(backend, func(t *testing.T) {
			c := defaultConfig(t)
			c.Uploads = "members"
			if backend == "aws" {
				awsConfig(t, &c)
			}
			log := slog.New(slog.NewTextHandler(io.Discard, nil))
			ctx := context.Background()
			cli := func(sub, name, stdin string, mutate func(*config)) (string, error) {
				cc := c
				if mutate != nil {
					mutate(&cc)
				}
				var out bytes.Buffer
				err := users(ctx, cc, log, sub, name, strings.NewReader(stdin), &out)
				return out.String(), err
			}
			if out, err := cli("add", "Root", goodPassword+"\n", func(c *config) { c.Admin = true }); err != nil || !strings.Contains(out, "added Root (admin") {
				t.Fatalf("users add Root --admin: %q, %v", out, err)
			}
			if _, err := cli("add", "bob", goodPassword+" bob\n", nil); err != nil {
				t.Fatalf("users add bob: %v", err)
			}
			for _, bad := range []struct{ name, stdin, want string }{
				{"ROOT", goodPassword + "\n", "taken"},
				{"carol", "short\n", "10"},
				{"carol", "", "stdin"},
				{"", goodPassword + "\n", "name"},
			} {
				if _, err := cli("add", bad.name, bad.stdin, nil); err == nil || !strings.Contains(err.Error(), bad.want) {
					t.Errorf("users add %q with %q: %v, want an error naming %q", bad.name, bad.stdin, err, bad.want)
				}
			}
			out, err := cli("list", "", "", nil)
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSpace(out), "\n")
			if len(lines) != 3 || !strings.HasPrefix(lines[1], "Root") || !strings.Contains(lines[1], "admin") || !strings.HasPrefix(lines[2], "bob") || !strings.Contains(lines[2], "member") {
				t.Fatalf("users list:\n%s", out)
			}
			if _, err := cli("disable", "bob", "", nil); err == nil || !strings.Contains(err.Error(), "reason") {
				t.Errorf("users disable without a reason: %v", err)
			}
			if _, err := cli("disable", "nobody", "", func(c *config) { c.Reason = "x" }); err == nil {
				t.Error("users disable of an unknown name worked")
			}
			if _, err := cli("frobnicate", "", "", nil); err == nil {
				t.Error("an unknown users subcommand worked")
			}

			s := startSite(t, func(sc *config) { *sc = c })
			root := browser(t)
			if d := mustDoc(t, s.get(root, "/")); d.Find(`[data-testid=first-admin]`).Length() != 0 {
				t.Error("the site still asks for an admin after users add --admin")
			}
			if r := s.signIn(root, "root", goodPassword); r.StatusCode != http.StatusSeeOther {
				t.Fatalf("sign-in as the operator's admin: %d", r.StatusCode)
			}
			if d := mustDoc(t, s.get(root, "/account")); d.Find(`[data-testid=role]`).Text() != "Admin" {
				t.Error("users add --admin made no admin")
			}
			bob := browser(t)
			if r := s.signIn(bob, "bob", goodPassword+" bob"); r.StatusCode != http.StatusSeeOther {
				t.Fatalf("bob's sign-in: %d", r.StatusCode)
			}
			if out, err := cli("disable", "bob", "", func(c *config) { c.Reason = "left the club" }); err != nil || !strings.Contains(out, "disabled bob") {
				t.Fatalf("users disable bob: %q, %v", out, err)
			}
			if r := s.get(bob, "/account"); r.StatusCode != http.StatusForbidden {
				t.Errorf("a disabled account's session: /account %d, want 403", r.StatusCode)
			}
			resp := s.signIn(browser(t), "bob", goodPassword+" bob")
			if msg, _ := formError(t, resp); resp.StatusCode != http.StatusForbidden || msg == "" {
				t.Errorf("a disabled account's sign-in: %d %q, want 403 with a message", resp.StatusCode, msg)
			}
			if out, _ := cli("list", "", "", nil); !strings.Contains(out, "disabled") {
				t.Errorf("users list does not show bob disabled:\n%s", out)
			}
		})
	}
}

// Flags may follow the subcommand and the name: users add NAME --admin.
func TestUsersArgs(t *testing.T) {
	var c config
	fs := newFlagSet("users", &c)
	sub, name, rest := splitUsersArgs([]string{"add", "Root", "--admin", "--data", "/srv/x"})
	if err := parse(fs, rest); err != nil || sub != "add" || name != "Root" || !c.Admin || c.Data != "/srv/x" {
		t.Errorf("got %q %q admin=%v data=%q err=%v", sub, name, c.Admin, c.Data, err)
	}
	if sub, name, _ := splitUsersArgs([]string{"list", "--data", "d"}); sub != "list" || name != "" {
		t.Errorf("list: got %q %q", sub, name)
	}
}
