package ops_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// TestPromtoolConfigAndRules: promtool accepts both scrape configurations
// and the rules, and the rules' unit tests pass.
func TestPromtoolConfigAndRules(t *testing.T) {
	promtool := tool(t, "promtool", installPromtool)
	rules, _ := filepath.Glob("prometheus/rules/*.yml")
	tests, _ := filepath.Glob("prometheus/tests/*.yml")
	if len(rules) == 0 || len(tests) == 0 {
		t.Fatal("no rules or rule tests under ops/prometheus")
	}
	for _, c := range []struct {
		name string
		args []string
	}{
		{"check config", []string{"check", "config", "prometheus/prometheus.yml"}},
		{"check config (CloudWatch agent)", []string{"check", "config", "cloudwatch/prometheus.yml"}},
		{"check rules", append([]string{"check", "rules"}, rules...)},
		{"test rules", append([]string{"test", "rules"}, tests...)},
	} {
		t.Run(c.name, func(t *testing.T) {
			if out, err := run(promtool, c.args...); err != nil {
				t.Errorf("promtool %s: %v\n%s", strings.Join(c.args, " "), err, out)
			}
		})
	}
}

// TestPromtoolCheckMetrics builds the binary, runs it on the embedded
// backend, makes a few requests and lints a live /metrics scrape.
func TestPromtoolCheckMetrics(t *testing.T) {
	promtool := tool(t, "promtool", installPromtool)
	dir := t.TempDir()
	bin := filepath.Join(dir, "mediashare")
	if out, err := run("go", "build", "-o", bin, "../cmd/mediashare"); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "serve", "--addr", addr, "--data", filepath.Join(dir, "data"))
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 10 * time.Second
	var logs strings.Builder
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); cmd.Wait() })
	base := "http://" + addr
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("mediashare did not answer /healthz on %s: %v\n%s", addr, err, logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, p := range []string{"/", "/readyz", "/no-such-page", "/entries/nope"} {
		if resp, err := http.Get(base + p); err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	check := exec.Command(promtool, "check", "metrics")
	check.Stdin = strings.NewReader(string(body))
	out, err := check.CombinedOutput()
	if err != nil {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
	// Labelled vectors appear once used; these are used by the requests above.
	for _, name := range []string{"mediashare_http_requests_total", "mediashare_http_request_duration_seconds", "mediashare_http_requests_in_flight", "mediashare_live_clients"} {
		if !strings.Contains(string(body), "# TYPE "+name+" ") {
			t.Errorf("/metrics does not export %s", name)
		}
	}
}

// exportedMetrics returns the mediashare_* names declared in
// internal/metrics/metrics.go.
func exportedMetrics(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(repoPath("internal", "metrics", "metrics.go"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range regexp.MustCompile(`Name:\s*"(mediashare_[a-z0-9_]+)"`).FindAllStringSubmatch(string(b), -1) {
		out = append(out, m[1])
	}
	if len(out) == 0 {
		t.Fatal("found no metric names in internal/metrics/metrics.go")
	}
	return out
}

// histograms returns which exported metrics are histograms.
func histograms(t *testing.T) map[string]bool {
	t.Helper()
	b, err := os.ReadFile(repoPath("internal", "metrics", "metrics.go"))
	if err != nil {
		t.Fatal(err)
	}
	h := map[string]bool{}
	for _, m := range regexp.MustCompile(`NewHistogram(?:Vec)?\(prometheus\.HistogramOpts\{\s*Name:\s*"(mediashare_[a-z0-9_]+)"`).FindAllStringSubmatch(string(b), -1) {
		h[m[1]] = true
	}
	return h
}

// recordingRules returns the names the rules under ops/prometheus/rules record.
func recordingRules(t *testing.T) map[string]bool {
	t.Helper()
	files, _ := filepath.Glob("prometheus/rules/*.yml")
	out := map[string]bool{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Groups []struct {
				Rules []struct {
					Record string `yaml:"record"`
				} `yaml:"rules"`
			} `yaml:"groups"`
		}
		if err := yaml.Unmarshal(b, &doc); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, g := range doc.Groups {
			for _, r := range g.Rules {
				if r.Record != "" {
					out[r.Record] = true
				}
			}
		}
	}
	return out
}

// knownMetrics is every series name a query may use: the app's metrics
// (with _bucket, _sum and _count for histograms), the Go and process
// collectors' (checked by prefix), up, and the recording rules.
func knownMetrics(t *testing.T) (map[string]bool, func(string) bool) {
	known := map[string]bool{"up": true}
	h := histograms(t)
	for _, m := range exportedMetrics(t) {
		known[m] = true
		if h[m] {
			for _, s := range []string{"_bucket", "_sum", "_count"} {
				known[m+s] = true
			}
		}
	}
	for r := range recordingRules(t) {
		known[r] = true
	}
	isKnown := func(name string) bool {
		return known[name] || strings.HasPrefix(name, "go_") || strings.HasPrefix(name, "process_")
	}
	return known, isKnown
}

var (
	promStrings  = regexp.MustCompile(`"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'`)
	promMatchers = regexp.MustCompile(`\{[^}]*\}`)
	promRanges   = regexp.MustCompile(`\[[^\]]*\]`)
	promGrouping = regexp.MustCompile(`\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)`)
	promIdent    = regexp.MustCompile(`[a-zA-Z_:][a-zA-Z0-9_:]*`)
	promKeywords = map[string]bool{
		"and": true, "or": true, "unless": true, "bool": true, "offset": true, "by": true, "without": true,
		"on": true, "ignoring": true, "group_left": true, "group_right": true, "inf": true, "nan": true, "e": true,
	}
)

// queryMetrics returns the series names a PromQL expression selects.
func queryMetrics(expr string) []string {
	s := promStrings.ReplaceAllString(expr, `""`)
	s = promMatchers.ReplaceAllString(s, " ")
	s = promRanges.ReplaceAllString(s, " ")
	s = promGrouping.ReplaceAllString(s, " ")
	var out []string
	for _, loc := range promIdent.FindAllStringIndex(s, -1) {
		name := s[loc[0]:loc[1]]
		rest := strings.TrimLeft(s[loc[1]:], " \t\n")
		if strings.HasPrefix(rest, "(") || promKeywords[strings.ToLower(name)] {
			continue // a function or aggregation, or a keyword
		}
		if loc[0] > 0 && (s[loc[0]-1] == '$' || (s[loc[0]-1] >= '0' && s[loc[0]-1] <= '9') || s[loc[0]-1] == '.') {
			continue // a variable or part of a number
		}
		out = append(out, name)
	}
	return out
}

func TestQueryMetrics(t *testing.T) {
	got := queryMetrics(`histogram_quantile(0.99, sum by (route, le) (rate(mediashare_http_request_duration_seconds_bucket{job=~"$job",route!="GET /live"}[$__rate_interval]))) / on (job) group_left up > 1e3 and bool job:x:rate5m`)
	want := []string{"mediashare_http_request_duration_seconds_bucket", "up", "job:x:rate5m"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("queryMetrics = %v; want %v", got, want)
	}
}

// TestGrafanaDashboard: the dashboard parses, every query names only
// series the app exports or the rules record, and every metric the app
// exports is on it.
func TestGrafanaDashboard(t *testing.T) {
	b, err := os.ReadFile("grafana/mediashare.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		UID    string `json:"uid"`
		Title  string `json:"title"`
		Panels []struct {
			Title   string `json:"title"`
			Type    string `json:"type"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(b, &dash); err != nil {
		t.Fatalf("grafana/mediashare.json: %v", err)
	}
	if dash.UID == "" || dash.Title == "" {
		t.Error("the dashboard needs a uid and a title")
	}
	_, isKnown := knownMetrics(t)
	used := map[string]bool{}
	queries := 0
	for _, p := range dash.Panels {
		for _, tg := range p.Targets {
			if strings.TrimSpace(tg.Expr) == "" {
				t.Errorf("panel %q has an empty query", p.Title)
				continue
			}
			queries++
			names := queryMetrics(tg.Expr)
			if len(names) == 0 {
				t.Errorf("panel %q: query %q names no metric", p.Title, tg.Expr)
			}
			for _, n := range names {
				used[n] = true
				if !isKnown(n) {
					t.Errorf("panel %q: query %q uses %s, which the app does not export and no rule records", p.Title, tg.Expr, n)
				}
			}
		}
	}
	h := histograms(t)
	for _, m := range exportedMetrics(t) {
		if used[m] || (h[m] && (used[m+"_bucket"] || used[m+"_count"])) {
			continue
		}
		t.Errorf("the dashboard shows nothing of %s", m)
	}
	t.Logf("%d panels, %d queries", len(dash.Panels), queries)
}

// TestRulesUseKnownMetrics: every series a rule selects exists.
func TestRulesUseKnownMetrics(t *testing.T) {
	_, isKnown := knownMetrics(t)
	files, _ := filepath.Glob("prometheus/rules/*.yml")
	for _, f := range files {
		b, _ := os.ReadFile(f)
		var doc struct {
			Groups []struct {
				Rules []struct {
					Record, Alert, Expr string
				} `yaml:"rules"`
			} `yaml:"groups"`
		}
		if err := yaml.Unmarshal(b, &doc); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		var bad []string
		for _, g := range doc.Groups {
			for _, r := range g.Rules {
				for _, n := range queryMetrics(r.Expr) {
					if !isKnown(n) {
						bad = append(bad, r.Record+r.Alert+": "+n)
					}
				}
			}
		}
		sort.Strings(bad)
		for _, x := range bad {
			t.Errorf("%s: rule %s is not a metric the app exports or a rule records", f, x)
		}
	}
}
