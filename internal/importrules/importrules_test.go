// Package importrules holds the test of what may import what (see
// docs/architecture.md). It has no code of its own.
package importrules

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// rule forbids the packages matching from (a path, or a path ending in
// "/..." for it and everything below) to depend, directly or through
// others, on any package matching a pattern of forbid; allow, when set,
// is the only mediashare packages they may depend on.
type rule struct {
	name   string
	from   string
	forbid []string
	allow  []string
}

var rules = []rule{
	{name: "views render view models and know nothing of events", from: "mediashare/views", forbid: []string{"mediashare/internal/events/..."}},
	{name: "projections only project: no blobs, no thumbnails", from: "mediashare/internal/projections/...",
		forbid: []string{"mediashare/internal/blob/...", "mediashare/internal/thumbnail/...", "mediashare/internal/reactor/..."}},
	{name: "the entry aggregate depends on the events, the error codes and the sealing of fields only", from: "mediashare/internal/entry/...",
		allow: []string{"mediashare/internal/events", "mediashare/internal/apperr", "mediashare/internal/keyring", "mediashare/internal/text"}},
	{name: "the policy decides from the principal and the aggregates alone", from: "mediashare/internal/policy",
		allow: []string{"mediashare/internal/entry", "mediashare/internal/events", "mediashare/internal/apperr", "mediashare/internal/accounts", "mediashare/internal/keyring", "mediashare/internal/text"}},
	{name: "the free-text check is a leaf", from: "mediashare/internal/text", allow: []string{"mediashare/internal/apperr"}},
	{name: "the account use cases know nothing of HTTP or pages", from: "mediashare/internal/people",
		forbid: []string{"mediashare/internal/web", "mediashare/views", "net/http/httptest"}},
	{name: "the reactor does not read the view", from: "mediashare/internal/reactor/...", forbid: []string{"mediashare/internal/projections/..."}},
}

type pkg struct {
	ImportPath string
	Deps       []string
}

// list returns every package of the module with its dependencies
// (transitive, tests excluded), from go list.
func list(t *testing.T) map[string][]string {
	t.Helper()
	cmd := exec.Command("go", "list", "-deps=false", "-json=ImportPath,Deps", "mediashare/...")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("go list: %v\n%s", err, errb.String())
	}
	pkgs := map[string][]string{}
	dec := json.NewDecoder(&out)
	for dec.More() {
		var p pkg
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		pkgs[p.ImportPath] = p.Deps
	}
	return pkgs
}

func match(pattern, path string) bool {
	if base, ok := strings.CutSuffix(pattern, "/..."); ok {
		return path == base || strings.HasPrefix(path, base+"/")
	}
	return path == pattern
}

// violations lists, for each package r governs, the dependencies it must not have.
func (r rule) violations(pkgs map[string][]string) (governed int, bad []string) {
	for path, deps := range pkgs {
		if !match(r.from, path) {
			continue
		}
		governed++
		for _, d := range deps {
			forbidden := slices.ContainsFunc(r.forbid, func(f string) bool { return match(f, d) })
			if r.allow != nil && strings.HasPrefix(d, "mediashare/") {
				forbidden = forbidden || !slices.ContainsFunc(r.allow, func(a string) bool { return match(a, d) })
			}
			if forbidden {
				bad = append(bad, path+" → "+d)
			}
		}
	}
	slices.Sort(bad)
	return governed, bad
}

func TestImportRules(t *testing.T) {
	pkgs := list(t)
	for _, r := range rules {
		t.Run(r.name, func(t *testing.T) {
			governed, bad := r.violations(pkgs)
			if governed == 0 {
				t.Fatalf("no package matches %s: the rule governs nothing", r.from)
			}
			for _, b := range bad {
				t.Errorf("forbidden dependency: %s", b)
			}
		})
	}
}

// The checker catches what it is meant to: the binary depends on the
// events and the blobs, so rules aimed at it must report both.
func TestImportRulesCatchAViolation(t *testing.T) {
	pkgs := list(t)
	r := rule{from: "mediashare/cmd/mediashare", forbid: []string{"mediashare/internal/events/...", "mediashare/internal/blob"}}
	_, bad := r.violations(pkgs)
	for _, want := range []string{"mediashare/cmd/mediashare → mediashare/internal/events", "mediashare/cmd/mediashare → mediashare/internal/blob"} {
		if !slices.Contains(bad, want) {
			t.Errorf("the checker missed %s; it reported %v", want, bad)
		}
	}
	only := rule{from: "mediashare/internal/reactor", allow: []string{"mediashare/internal/events"}}
	if _, bad := only.violations(pkgs); !slices.Contains(bad, "mediashare/internal/reactor → mediashare/internal/blob") {
		t.Errorf("an allow list let the blob store through: %v", bad)
	}
}
