// Package ops_test checks everything under ops/: the CloudFormation
// template (cfn-lint with our custom rules, our own structural rules, a
// stack created in moto), the IAM policies against the AWS calls the code
// makes, the Prometheus configuration and rules (promtool), and the
// Grafana dashboard against the metrics the app exports.
//
// A tool that is missing skips its test, or fails it when
// MEDIASHARE_REQUIRE_INTEGRATION=1 (CI sets it).
package ops_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"mediashare/internal/awstest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	awstest.Stop()
	os.Exit(code)
}

// templatePath is the stack's template, relative to this package.
const templatePath = "cloudformation/mediashare.yaml"

// tool returns the path of an external tool, skipping the test when it is
// missing (failing under MEDIASHARE_REQUIRE_INTEGRATION=1).
func tool(t *testing.T, name, install string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	if os.Getenv(awstest.RequireEnv) == "1" {
		t.Fatalf("%s not found on PATH: install it with %s", name, install)
	}
	t.Skipf("%s not found on PATH; skipping (install it with %s, or set %s=1 to fail instead)", name, install, awstest.RequireEnv)
	return ""
}

const (
	installCfnLint  = "pip install cfn-lint"
	installPromtool = "apt-get install -y prometheus (Debian's package has promtool)"
)

// run runs a command and returns its combined output and error.
func run(name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// template is a parsed CloudFormation template, with the YAML short forms
// (!Ref, !Sub, !GetAtt …) turned into their JSON forms.
type template struct {
	Parameters map[string]map[string]any
	Conditions map[string]any
	Mappings   map[string]any
	Resources  map[string]resource
	Outputs    map[string]map[string]any
}

type resource struct {
	Type                string
	Condition           string
	DeletionPolicy      string
	UpdateReplacePolicy string
	Properties          map[string]any
	Raw                 map[string]any
}

func mustTemplate(t *testing.T, path string) template {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	v, err := cfnValue(&doc)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	root, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("%s: not a mapping", path)
	}
	tpl := template{
		Parameters: map[string]map[string]any{}, Resources: map[string]resource{},
		Outputs: map[string]map[string]any{}, Conditions: map[string]any{},
	}
	for k, p := range asMap(root["Parameters"]) {
		tpl.Parameters[k] = asMap(p)
	}
	for k, o := range asMap(root["Outputs"]) {
		tpl.Outputs[k] = asMap(o)
	}
	tpl.Conditions = asMap(root["Conditions"])
	tpl.Mappings = asMap(root["Mappings"])
	for k, r := range asMap(root["Resources"]) {
		m := asMap(r)
		tpl.Resources[k] = resource{
			Type: str(m["Type"]), Condition: str(m["Condition"]), DeletionPolicy: str(m["DeletionPolicy"]),
			UpdateReplacePolicy: str(m["UpdateReplacePolicy"]), Properties: asMap(m["Properties"]), Raw: m,
		}
	}
	return tpl
}

// cfnValue converts a YAML node to plain Go values, turning the
// CloudFormation short-form tags into their long forms.
func cfnValue(n *yaml.Node) (any, error) {
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return cfnValue(n.Content[0])
	case yaml.AliasNode:
		return cfnValue(n.Alias)
	}
	tag := n.Tag
	if strings.HasPrefix(tag, "!") && !strings.HasPrefix(tag, "!!") {
		inner := *n
		inner.Tag = ""
		inner.Style &^= yaml.TaggedStyle
		v, err := cfnValue(&inner)
		if err != nil {
			return nil, err
		}
		switch fn := tag[1:]; fn {
		case "Ref":
			return map[string]any{"Ref": v}, nil
		case "Condition":
			return map[string]any{"Condition": v}, nil
		case "GetAtt":
			if s, ok := v.(string); ok {
				res, attr, _ := strings.Cut(s, ".")
				return map[string]any{"Fn::GetAtt": []any{res, attr}}, nil
			}
			return map[string]any{"Fn::GetAtt": v}, nil
		default:
			return map[string]any{"Fn::" + fn: v}, nil
		}
	}
	switch n.Kind {
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			v, err := cfnValue(n.Content[i+1])
			if err != nil {
				return nil, err
			}
			m[n.Content[i].Value] = v
		}
		return m, nil
	case yaml.SequenceNode:
		l := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			v, err := cfnValue(c)
			if err != nil {
				return nil, err
			}
			l = append(l, v)
		}
		return l, nil
	case yaml.ScalarNode:
		if n.Tag == "" || n.Tag == "!" {
			return n.Value, nil
		}
		var v any
		if err := n.Decode(&v); err != nil {
			return nil, err
		}
		return v, nil
	}
	return nil, fmt.Errorf("line %d: unexpected YAML node kind %v", n.Line, n.Kind)
}

func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	if m == nil {
		return map[string]any{}
	}
	return m
}

func asList(v any) []any {
	if l, ok := v.([]any); ok {
		return l
	}
	if v == nil {
		return nil
	}
	return []any{v}
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// render turns a CloudFormation value that names a resource into the
// placeholder text the standalone JSON policies use: !Sub strings as they
// are, !Ref X as ${X}, !GetAtt X.Y as ${X.Y}.
func render(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case map[string]any:
		if r, ok := v["Ref"]; ok {
			return "${" + str(r) + "}"
		}
		if s, ok := v["Fn::Sub"]; ok {
			if l, ok := s.([]any); ok && len(l) > 0 {
				return str(l[0])
			}
			return str(s)
		}
		if g, ok := v["Fn::GetAtt"]; ok {
			l := asList(g)
			if len(l) == 2 {
				return "${" + str(l[0]) + "." + str(l[1]) + "}"
			}
		}
	}
	return fmt.Sprintf("<unrendered %v>", v)
}

func sortedStrings(vs []any) []string {
	out := make([]string, 0, len(vs))
	for _, v := range vs {
		out = append(out, render(v))
	}
	sort.Strings(out)
	return out
}

// userData returns the launch template's user data with its !Sub
// variables filled from vars (missing ones left as they are).
func userData(t *testing.T, tpl template, vars map[string]string) []byte {
	t.Helper()
	lt := asMap(tpl.Resources["WebLaunchTemplate"].Properties["LaunchTemplateData"])
	b64 := asMap(lt["UserData"])["Fn::Base64"]
	sub := asList(asMap(b64)["Fn::Sub"])
	if len(sub) == 0 {
		t.Fatal("WebLaunchTemplate: UserData is not Fn::Base64 of Fn::Sub")
	}
	text := str(sub[0])
	for k, v := range vars {
		text = strings.ReplaceAll(text, "${"+k+"}", v)
	}
	return []byte(text)
}

func repoPath(parts ...string) string {
	return filepath.Join(append([]string{".."}, parts...)...)
}
