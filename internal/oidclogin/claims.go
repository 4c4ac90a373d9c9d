package oidclogin

import (
	"fmt"
	"strings"
)

// AdminClaim names the claim that makes a person an admin. It is written
// (--oidc-admin-claim) as either
//
//	NAME=VALUE  the claim NAME is the string VALUE, or a list holding it
//	            (groups=admins, roles=mediashare-admin)
//	NAME        the claim NAME is true (JSON true or the string "true")
//
// NAME is a top-level claim of the ID token or the user info, taken as
// written (namespaced names such as https://example.com/roles are fine);
// the first "=" separates it from VALUE. The zero AdminClaim matches nobody.
type AdminClaim struct {
	Name  string
	Value string // "" for a boolean claim
}

// ParseAdminClaim parses the --oidc-admin-claim syntax; "" is the zero
// AdminClaim.
func ParseAdminClaim(s string) (AdminClaim, error) {
	if s == "" {
		return AdminClaim{}, nil
	}
	name, value, hasValue := strings.Cut(s, "=")
	if name == "" || len(s) > 200 || strings.ContainsFunc(s, func(r rune) bool { return r < ' ' || r == 0x7f }) {
		return AdminClaim{}, fmt.Errorf("oidclogin: admin claim %q: want NAME or NAME=VALUE", s)
	}
	if hasValue && value == "" {
		return AdminClaim{}, fmt.Errorf("oidclogin: admin claim %q has an empty value", s)
	}
	return AdminClaim{Name: name, Value: value}, nil
}

// String gives the --oidc-admin-claim form back.
func (a AdminClaim) String() string {
	if a.Value == "" {
		return a.Name
	}
	return a.Name + "=" + a.Value
}

// Match reports whether claims carry the admin claim.
func (a AdminClaim) Match(claims map[string]any) bool {
	if a.Name == "" {
		return false
	}
	v, ok := claims[a.Name]
	if !ok {
		return false
	}
	if a.Value == "" {
		return truthy(v)
	}
	switch t := v.(type) {
	case string:
		return t == a.Value
	case []any:
		for _, e := range t {
			if s, ok := e.(string); ok && s == a.Value {
				return true
			}
		}
	}
	return false
}
