package ops_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"

	"mediashare/internal/awsbackend"
)

// TestCfnLint lints every template under ops/cloudformation with
// informational checks on and our custom rules, and expects silence.
func TestCfnLint(t *testing.T) {
	lint := tool(t, "cfn-lint", installCfnLint)
	files, _ := filepath.Glob("cloudformation/*.yaml")
	if len(files) == 0 {
		t.Fatal("no templates in ops/cloudformation")
	}
	args := append([]string{"--custom-rules", "cfn-rules/mediashare.txt", "--include-checks", "I", "--non-zero-exit-code", "informational", "--"}, files...)
	if out, err := run(lint, args...); err != nil {
		t.Errorf("cfn-lint %s: %v\n%s", strings.Join(files, " "), err, out)
	}
}

// TestCfnCustomRulesFail proves each custom rule can fail: its bad
// template must be rejected with the rule's message.
func TestCfnCustomRulesFail(t *testing.T) {
	lint := tool(t, "cfn-lint", installCfnLint)
	tests := []struct {
		name, file, want string
	}{
		{"IMDSv1 allowed", "testdata/imdsv1.yaml", "launch templates must require IMDSv2"},
		{"metadata options unset", "testdata/imds-unset.yaml", "launch templates must set MetadataOptions.HttpTokens"},
		{"launch configuration", "testdata/launch-configuration.yaml", "no AWS::AutoScaling::LaunchConfiguration"},
		{"classic load balancer", "testdata/classic-elb.yaml", "no classic AWS::ElasticLoadBalancing::LoadBalancer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out, err := run(lint, "--custom-rules", "cfn-rules/mediashare.txt", "--", tt.file)
			if err == nil || !strings.Contains(out, tt.want) {
				t.Errorf("cfn-lint %s: err %v, output %q; want a failure saying %q", tt.file, err, out, tt.want)
			}
		})
	}
}

// statefulTypes are resources whose loss loses data.
var statefulTypes = map[string]bool{"AWS::S3::Bucket": true, "AWS::DynamoDB::Table": true}

// checkTemplate applies the rules cfn-lint's custom rule syntax cannot
// express and returns the problems found.
func checkTemplate(tpl template) []string {
	var probs []string
	names := make([]string, 0, len(tpl.Resources))
	for n := range tpl.Resources {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		r := tpl.Resources[name]
		switch r.Type {
		case "AWS::AutoScaling::LaunchConfiguration":
			probs = append(probs, name+": launch configurations are retired; use AWS::EC2::LaunchTemplate")
		case "AWS::ElasticLoadBalancing::LoadBalancer":
			probs = append(probs, name+": classic load balancers are retired; use AWS::ElasticLoadBalancingV2::LoadBalancer")
		case "AWS::EC2::LaunchTemplate":
			md := asMap(asMap(r.Properties["LaunchTemplateData"])["MetadataOptions"])
			if md["HttpTokens"] != "required" {
				probs = append(probs, name+": MetadataOptions.HttpTokens must be required (IMDSv2)")
			}
		case "AWS::EC2::Instance":
			probs = append(probs, name+": web servers come from the launch template and the Auto Scaling group")
		}
		if statefulTypes[r.Type] && (r.DeletionPolicy != "Retain" || r.UpdateReplacePolicy != "Retain") {
			probs = append(probs, name+": "+r.Type+" needs DeletionPolicy and UpdateReplacePolicy Retain")
		}
		if r.Type == "AWS::S3::Bucket" {
			probs = append(probs, checkBucketPrivate(tpl, name, r)...)
		}
		if r.Type == "AWS::S3::BucketPolicy" {
			probs = append(probs, checkBucketPolicy(tpl, name, r)...)
		}
	}
	return probs
}

// publicCondition reports whether a condition is true exactly when the
// MediaAccess parameter says public-read.
func publicCondition(tpl template, cond string) bool {
	c := asMap(tpl.Conditions[cond])
	eq := asList(c["Fn::Equals"])
	if len(eq) != 2 {
		return false
	}
	return reflect.DeepEqual(eq[0], map[string]any{"Ref": "MediaAccess"}) && eq[1] == "public-read"
}

// checkBucketPrivate: every Block Public Access setting is true, or (for
// the policy settings only) an !If on the public-read condition.
func checkBucketPrivate(tpl template, name string, r resource) []string {
	var probs []string
	bpa := asMap(r.Properties["PublicAccessBlockConfiguration"])
	for _, k := range []string{"BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"} {
		v := bpa[k]
		if v == true {
			continue
		}
		if k == "BlockPublicPolicy" || k == "RestrictPublicBuckets" {
			l := asList(asMap(v)["Fn::If"])
			if len(l) == 3 && publicCondition(tpl, str(l[0])) && l[1] == false && l[2] == true {
				continue
			}
		}
		probs = append(probs, name+": PublicAccessBlockConfiguration."+k+" must be true (or, for the policy settings, false only when MediaAccess is public-read)")
	}
	own := asList(asMap(r.Properties["OwnershipControls"])["Rules"])
	if len(own) != 1 || asMap(own[0])["ObjectOwnership"] != "BucketOwnerEnforced" {
		probs = append(probs, name+": OwnershipControls must be BucketOwnerEnforced (no ACLs)")
	}
	return probs
}

// checkBucketPolicy: a statement open to everyone ("*") either denies, or
// allows s3:GetObject on objects only and sits in an !If on the
// public-read condition; every policy denies plain HTTP.
func checkBucketPolicy(tpl template, name string, r resource) []string {
	var probs []string
	tlsOnly := false
	var walk func(v any, public bool)
	walk = func(v any, public bool) {
		m := asMap(v)
		if l := asList(m["Fn::If"]); len(l) == 3 {
			pub := publicCondition(tpl, str(l[0]))
			walk(l[1], pub)
			walk(l[2], false)
			return
		}
		if len(m) == 0 {
			return
		}
		effect := str(m["Effect"])
		if effect == "Deny" && m["Principal"] == "*" && asMap(asMap(m["Condition"])["Bool"])["aws:SecureTransport"] == "false" {
			tlsOnly = true
		}
		if effect != "Allow" || m["Principal"] != "*" {
			return
		}
		if !public && !publicCondition(tpl, r.Condition) {
			probs = append(probs, name+": statement "+str(m["Sid"])+" allows everyone outside the public-read condition")
		}
		for _, a := range asList(m["Action"]) {
			if a != "s3:GetObject" {
				probs = append(probs, name+": statement "+str(m["Sid"])+" lets everyone "+str(a)+"; the public may only s3:GetObject")
			}
		}
		for _, res := range asList(m["Resource"]) {
			if !strings.HasSuffix(render(res), "/*") {
				probs = append(probs, name+": statement "+str(m["Sid"])+" opens "+render(res)+"; objects (…/*) only")
			}
		}
	}
	for _, s := range asList(asMap(r.Properties["PolicyDocument"])["Statement"]) {
		walk(s, false)
	}
	if !tlsOnly && len(asList(asMap(r.Properties["PolicyDocument"])["Statement"])) > 0 {
		probs = append(probs, name+": no statement denies requests without TLS (aws:SecureTransport false)")
	}
	return probs
}

// TestTemplateRules applies our structural rules to the stack's template.
func TestTemplateRules(t *testing.T) {
	tpl := mustTemplate(t, templatePath)
	for _, p := range checkTemplate(tpl) {
		t.Error(p)
	}
	for _, want := range []string{"S3BucketName", "DynamoDBTableName", "InstanceType", "KeyName"} {
		if _, ok := tpl.Parameters[want]; !ok {
			t.Errorf("parameter %s (from the original lab) is missing", want)
		}
	}
	for _, want := range []string{"URL", "MediaURL"} {
		if _, ok := tpl.Outputs[want]; !ok {
			t.Errorf("output %s is missing", want)
		}
	}
}

// TestTemplateRulesFail proves each structural rule can fail.
func TestTemplateRulesFail(t *testing.T) {
	tests := []struct {
		name, file, want string
	}{
		{"table deleted with the stack", "testdata/table-no-retain.yaml", "needs DeletionPolicy and UpdateReplacePolicy Retain"},
		{"bucket without policies", "testdata/bucket-no-retain.yaml", "needs DeletionPolicy and UpdateReplacePolicy Retain"},
		{"bucket always public", "testdata/bucket-public-always.yaml", "BlockPublicPolicy must be true"},
		{"public policy outside the condition", "testdata/bucket-public-always.yaml", "allows everyone outside the public-read condition"},
		{"public may list and delete", "testdata/bucket-public-list.yaml", "lets everyone s3:ListBucket"},
		{"public may delete", "testdata/bucket-public-list.yaml", "lets everyone s3:DeleteObject"},
		{"IMDSv1", "testdata/imdsv1.yaml", "HttpTokens must be required"},
		{"launch configuration", "testdata/launch-configuration.yaml", "launch configurations are retired"},
		{"classic load balancer", "testdata/classic-elb.yaml", "classic load balancers are retired"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			probs := checkTemplate(mustTemplate(t, tt.file))
			if !strings.Contains(strings.Join(probs, "\n"), tt.want) {
				t.Errorf("%s: problems %q; want one saying %q", tt.file, probs, tt.want)
			}
		})
	}
}

// policyFile is a standalone policy document.
type policyFile struct {
	Version   string
	Statement []map[string]any
}

func mustPolicyFile(t *testing.T, path string) policyFile {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var p policyFile
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return p
}

// normalStatement is a statement reduced for comparison: sorted actions,
// resources rendered as placeholders, principal and condition as JSON.
type normalStatement struct {
	Sid, Effect, Principal, Condition string
	Actions, Resources                []string
}

func normalize(s map[string]any) normalStatement {
	pj, _ := json.Marshal(s["Principal"])
	cond := asMap(s["Condition"])
	// Render values inside conditions the same way as resources.
	rc := map[string]map[string]string{}
	for op, kv := range cond {
		rc[op] = map[string]string{}
		for k, v := range asMap(kv) {
			rc[op][k] = render(v)
		}
	}
	cj, _ := json.Marshal(rc)
	if len(cond) == 0 {
		cj = nil
	}
	acts := make([]string, 0)
	for _, a := range asList(s["Action"]) {
		acts = append(acts, str(a))
	}
	sort.Strings(acts)
	return normalStatement{
		Sid: str(s["Sid"]), Effect: str(s["Effect"]), Principal: string(pj), Condition: string(cj),
		Actions: acts, Resources: sortedStrings(asList(s["Resource"])),
	}
}

// branch picks one side of every Fn::If in a statement list: public says
// whether the public-read condition holds.
func branch(tpl template, statements []any, public bool) []map[string]any {
	var out []map[string]any
	for _, s := range statements {
		m := asMap(s)
		if l := asList(m["Fn::If"]); len(l) == 3 {
			pick := l[2]
			if publicCondition(tpl, str(l[0])) == public {
				pick = l[1]
			}
			if mm := asMap(pick); len(mm) > 0 && !reflect.DeepEqual(mm, map[string]any{"Ref": "AWS::NoValue"}) {
				out = append(out, mm)
			}
			continue
		}
		out = append(out, m)
	}
	return out
}

func comparePolicies(t *testing.T, what string, inTemplate []map[string]any, file policyFile) {
	t.Helper()
	var got, want []normalStatement
	for _, s := range inTemplate {
		got = append(got, normalize(s))
	}
	for _, s := range file.Statement {
		want = append(want, normalize(s))
	}
	if len(got) != len(want) {
		t.Errorf("%s: template has %d statements, file %d", what, len(got), len(want))
	}
	for i := range min(len(got), len(want)) {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Errorf("%s statement %d:\n template %+v\n file     %+v", what, i, got[i], want[i])
		}
	}
}

// TestPolicyFilesMatchTemplate: the standalone JSON policies in ops/iam
// are the template's inline policies, statement by statement (same
// actions, same resource shapes).
func TestPolicyFilesMatchTemplate(t *testing.T) {
	tpl := mustTemplate(t, templatePath)
	role := tpl.Resources["WebRole"]
	pols := asList(role.Properties["Policies"])
	if len(pols) != 1 {
		t.Fatalf("WebRole has %d inline policies; want 1", len(pols))
	}
	if mp := role.Properties["ManagedPolicyArns"]; mp != nil {
		t.Errorf("WebRole has managed policies %v; everything it may do is in its inline policy", mp)
	}
	stmts := asList(asMap(asMap(pols[0])["PolicyDocument"])["Statement"])
	// The role's statements as the default stack (media behind CloudFront) has them.
	inline := branch(tpl, stmts, false)
	comparePolicies(t, "iam/role-policy.json", inline, mustPolicyFile(t, "iam/role-policy.json"))

	bp := asList(asMap(tpl.Resources["MediaBucketPolicy"].Properties["PolicyDocument"])["Statement"])
	comparePolicies(t, "iam/bucket-policy-cloudfront.json", branch(tpl, bp, false), mustPolicyFile(t, "iam/bucket-policy-cloudfront.json"))
	comparePolicies(t, "iam/bucket-policy-public-read.json", branch(tpl, bp, true), mustPolicyFile(t, "iam/bucket-policy-public-read.json"))

	for _, s := range inline {
		for _, r := range asList(s["Resource"]) {
			if render(r) == "*" {
				t.Errorf("role statement %s allows Resource \"*\"", str(s["Sid"]))
			}
		}
	}
}

// TestUserData: the launch template's user data is MIME multipart with a
// JSON part holding the configuration the backend reads, and a boot
// script that installs the release's systemd unit and CloudWatch files.
func TestUserData(t *testing.T) {
	tpl := mustTemplate(t, templatePath)
	ud := userData(t, tpl, map[string]string{
		"MediaBucket": "media-bucket", "EntriesTable": "entries", "EventsTable": "entries-events",
		"LeaseTable": "entries-events-leases", "AWS::Region": "eu-west-1", "MediaURL": "https://d111.cloudfront.net",
		"TrustedProxies": "10.40.0.0/20,10.40.16.0/20", "CDNDistributionID": "E2QWRUHEXAMPLE",
	})
	msg, err := mail.ReadMessage(bytes.NewReader(ud))
	if err != nil {
		t.Fatalf("user data is not a MIME message: %v", err)
	}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/mixed" {
		t.Fatalf("user data Content-Type %q (%v); want multipart/mixed", msg.Header.Get("Content-Type"), err)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	parts := map[string]string{}
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("user data part: %v", err)
		}
		b, _ := io.ReadAll(p)
		ct, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		parts[ct] = string(b)
	}
	var cfg map[string]string
	if err := json.Unmarshal([]byte(parts["application/json"]), &cfg); err != nil {
		t.Fatalf("user data JSON part %q: %v", parts["application/json"], err)
	}
	want := map[string]string{
		"bucket": "media-bucket", "table": "entries", "events_table": "entries-events",
		"lease_table": "entries-events-leases", "region": "eu-west-1", "media_url": "https://d111.cloudfront.net",
		"trusted_proxies": "10.40.0.0/20,10.40.16.0/20", "cdn_distribution_id": "E2QWRUHEXAMPLE",
	}
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("user data configuration %v; want %v", cfg, want)
	}
	script := parts["text/x-shellscript"]
	if !strings.HasPrefix(script, "#!/bin/bash") {
		t.Fatalf("user data has no boot script part (text/x-shellscript); parts: %v", parts)
	}
	// The release is unpacked as the application's directory, where the
	// binary's ELF interpreter and RPATH point (ops/scripts/package.sh).
	if !strings.Contains(script, "app="+installDir+"\n") || !strings.Contains(script, `tar -xzf "$work/release.tar.gz" -C "$app"`) {
		t.Errorf("boot script does not unpack the release into %s", installDir)
	}
	installs := regexp.MustCompile(`"\$app/(ops/[^"]+)"`).FindAllStringSubmatch(script, -1)
	if len(installs) < 3 {
		t.Errorf("boot script installs %d files from the release; want the unit and the CloudWatch files", len(installs))
	}
	// Every file of the release the script installs must exist here.
	for _, m := range installs {
		if _, err := os.Stat(repoPath(m[1])); err != nil {
			t.Errorf("boot script installs %s, which the repository lacks: %v", m[1], err)
		}
	}
	for _, want := range []string{"cfn-signal", "mediashare.service", "amazon-cloudwatch-agent-ctl", "secretsmanager get-secret-value"} {
		if !strings.Contains(script, want) {
			t.Errorf("boot script does not mention %q", want)
		}
	}
}

// TestSystemdUnit: the unit runs the AWS backend from user data and is
// hardened; systemd-analyze verify accepts it where it is installed.
func TestSystemdUnit(t *testing.T) {
	b, err := os.ReadFile("systemd/mediashare.service")
	if err != nil {
		t.Fatal(err)
	}
	unit := string(b)
	for _, want := range []string{
		"mediashare serve --backend aws --config-from-user-data",
		"DynamicUser=yes", "ProtectSystem=strict", "NoNewPrivileges=yes", "PrivateTmp=yes", "ProtectHome=yes",
		"CapabilityBoundingSet=\n", "SystemCallFilter=@system-service", "RestrictAddressFamilies=",
		"LoadCredential=secret.key:", "MEDIASHARE_SECRET_FILE=%d/secret.key",
	} {
		if !strings.Contains(unit, want) {
			t.Errorf("systemd/mediashare.service lacks %q", want)
		}
	}
	analyze := tool(t, "systemd-analyze", "apt-get install -y systemd")
	// Verify a copy whose ExecStart names a binary that exists here.
	dir := t.TempDir()
	execStart := "ExecStart=" + installDir + "/mediashare "
	if !strings.Contains(unit, "\n"+execStart) {
		t.Errorf("systemd/mediashare.service does not start %s/mediashare, where the boot script installs it", installDir)
	}
	copyUnit := strings.Replace(unit, execStart, "ExecStart=/bin/true ", 1)
	path := filepath.Join(dir, "mediashare.service")
	if err := os.WriteFile(path, []byte(copyUnit), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := run(analyze, "verify", "--man=no", path); err != nil || strings.Contains(out, "mediashare.service:") {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}

// fakeUserData serves fixed user data as the instance metadata service would.
type fakeUserData []byte

func (f fakeUserData) GetUserData(ctx context.Context, in *imds.GetUserDataInput, optFns ...func(*imds.Options)) (*imds.GetUserDataOutput, error) {
	return &imds.GetUserDataOutput{Content: io.NopCloser(bytes.NewReader(f))}, nil
}

// TestBackendReadsUserData hands the launch template's user data to
// awsbackend.ConfigFromUserData, as an instance would.
func TestBackendReadsUserData(t *testing.T) {
	tpl := mustTemplate(t, templatePath)
	ud := userData(t, tpl, map[string]string{
		"MediaBucket": "media-bucket", "EntriesTable": "entries", "EventsTable": "entries-events",
		"LeaseTable": "entries-events-leases", "AWS::Region": "eu-west-1", "MediaURL": "https://d111.cloudfront.net",
		"TrustedProxies": "10.40.0.0/20,10.40.16.0/20", "CDNDistributionID": "E2QWRUHEXAMPLE",
	})
	cfg, err := awsbackend.ConfigFromUserData(context.Background(), fakeUserData(ud))
	if err != nil {
		t.Fatalf("awsbackend.ConfigFromUserData cannot read the stack's (MIME multipart) user data: %v", err)
	}
	want := awsbackend.Config{Bucket: "media-bucket", Table: "entries", EventsTable: "entries-events", LeaseTable: "entries-events-leases", Region: "eu-west-1", MediaURL: "https://d111.cloudfront.net",
		TrustedProxies: "10.40.0.0/20,10.40.16.0/20", CDNDistributionID: "E2QWRUHEXAMPLE"}
	if fmt.Sprintf("%+v", cfg) != fmt.Sprintf("%+v", want) {
		t.Errorf("ConfigFromUserData = %+v; want %+v", cfg, want)
	}
	if err := cfg.Validate(); err != nil {
		t.Errorf("the stack's user data does not validate: %v", err)
	}
}

// TestTrustedProxiesAreTheLoadBalancer: the user data's trusted_proxies
// are exactly the CIDR blocks of the subnets the load balancer lives in,
// so X-Forwarded-For is believed from its nodes and no one else.
func TestTrustedProxiesAreTheLoadBalancer(t *testing.T) {
	tpl := mustTemplate(t, templatePath)
	var want []any
	for _, s := range asList(tpl.Resources["LoadBalancer"].Properties["Subnets"]) {
		name := str(asMap(s)["Ref"])
		sub, ok := tpl.Resources[name]
		if !ok || sub.Type != "AWS::EC2::Subnet" {
			t.Fatalf("LoadBalancer subnet %v is not a subnet of the stack", s)
		}
		want = append(want, sub.Properties["CidrBlock"])
	}
	if len(want) == 0 {
		t.Fatal("LoadBalancer has no Subnets")
	}
	lt := asMap(tpl.Resources["WebLaunchTemplate"].Properties["LaunchTemplateData"])
	sub := asList(asMap(asMap(lt["UserData"])["Fn::Base64"])["Fn::Sub"])
	if len(sub) != 2 || !strings.Contains(str(sub[0]), `"trusted_proxies": "${TrustedProxies}"`) {
		t.Fatal(`user data JSON lacks "trusted_proxies": "${TrustedProxies}"`)
	}
	join := asList(asMap(asMap(sub[1])["TrustedProxies"])["Fn::Join"])
	if len(join) != 2 || join[0] != "," {
		t.Fatalf("TrustedProxies is %v; want !Join [\",\", [the load balancer's subnets' CidrBlock]]", asMap(sub[1])["TrustedProxies"])
	}
	if got := asList(join[1]); !reflect.DeepEqual(got, want) {
		t.Errorf("TrustedProxies joins %v; want the load balancer's subnets' CIDR blocks %v", got, want)
	}
	// And the address plan they name is what the app accepts.
	var cidrs []string
	for _, c := range asList(join[1]) {
		fm := asList(asMap(c)["Fn::FindInMap"])
		if len(fm) != 3 {
			t.Fatalf("subnet CidrBlock %v is not a !FindInMap", c)
		}
		cidrs = append(cidrs, str(asMap(asMap(tpl.Mappings[str(fm[0])])[str(fm[1])])[str(fm[2])]))
	}
	if _, err := awsbackend.ParseTrustedProxies(strings.Join(cidrs, ",")); err != nil || len(cidrs) == 0 {
		t.Errorf("trusted proxies %v: %v", cidrs, err)
	}
}
