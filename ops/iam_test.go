package ops_test

import (
	"context"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// sdkClients are the AWS SDK clients the code may call, by import path.
var sdkClients = map[string]reflect.Type{
	"github.com/aws/aws-sdk-go-v2/service/dynamodb":        reflect.TypeOf(&dynamodb.Client{}),
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams": reflect.TypeOf(&dynamodbstreams.Client{}),
	"github.com/aws/aws-sdk-go-v2/service/s3":              reflect.TypeOf(&s3.Client{}),
}

const s3Manager = "github.com/aws/aws-sdk-go-v2/feature/s3/manager"

// provisioning lists files whose AWS calls CloudFormation makes on AWS
// (creating and checking tables and the bucket for moto and local runs);
// the web servers' role must not allow them.
var provisioning = map[string]bool{
	"internal/awsbackend/setup.go": true,
}

// iamActions maps an SDK operation ("service.Operation") to the IAM
// actions it needs. A call the table does not know fails the test.
var iamActions = map[string][]string{
	"dynamodb.DescribeTable":  {"dynamodb:DescribeTable"},
	"dynamodb.GetItem":        {"dynamodb:GetItem"},
	"dynamodb.PutItem":        {"dynamodb:PutItem"},
	"dynamodb.UpdateItem":     {"dynamodb:UpdateItem"},
	"dynamodb.DeleteItem":     {"dynamodb:DeleteItem"},
	"dynamodb.Query":          {"dynamodb:Query"},
	"dynamodb.Scan":           {"dynamodb:Scan"},
	"dynamodb.BatchWriteItem": {"dynamodb:BatchWriteItem"},
	"dynamodb.BatchGetItem":   {"dynamodb:BatchGetItem"},
	// TransactWriteItems needs the action of each item kind it carries;
	// see transactKinds.
	"dynamodb.TransactWriteItems":                nil,
	"dynamodbstreams.DescribeStream":             {"dynamodb:DescribeStream"},
	"dynamodbstreams.GetShardIterator":           {"dynamodb:GetShardIterator"},
	"dynamodbstreams.GetRecords":                 {"dynamodb:GetRecords"},
	"dynamodbstreams.ListStreams":                {"dynamodb:ListStreams"},
	"s3.PutObject":                               {"s3:PutObject"},
	"s3.CreateMultipartUpload":                   {"s3:PutObject"},
	"s3.UploadPart":                              {"s3:PutObject"},
	"s3.CompleteMultipartUpload":                 {"s3:PutObject"},
	"s3.AbortMultipartUpload":                    {"s3:AbortMultipartUpload"},
	"s3.GetObject":                               {"s3:GetObject"},
	"s3.HeadObject":                              {"s3:GetObject"},
	"s3.DeleteObject":                            {"s3:DeleteObject"},
	"s3.DeleteObjects":                           {"s3:DeleteObject"},
	"s3.HeadBucket":                              {"s3:ListBucket"},
	"s3.ListObjectsV2":                           {"s3:ListBucket"},
	"s3.CopyObject":                              {"s3:GetObject", "s3:PutObject"},
	"manager.Upload":                             {"s3:PutObject", "s3:AbortMultipartUpload"},
	"dynamodb.TransactWriteItems/Put":            {"dynamodb:PutItem"},
	"dynamodb.TransactWriteItems/Update":         {"dynamodb:UpdateItem"},
	"dynamodb.TransactWriteItems/Delete":         {"dynamodb:DeleteItem"},
	"dynamodb.TransactWriteItems/ConditionCheck": {"dynamodb:ConditionCheckItem"},
}

// platformStatements are the role's statements for what is not the Go
// code: the boot script (secret, release) and the CloudWatch agent.
var platformStatements = map[string][]string{
	"CookieSecret":           {"secretsmanager:GetSecretValue"},
	"ReleaseArchive":         {"s3:GetObject"},
	"CloudWatchAgentMetrics": {"logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"},
}

// operations returns the SDK operations a client type offers: methods
// taking (context.Context, *Input, ...func(*Options)).
func operations(t reflect.Type) map[string]bool {
	ctx := reflect.TypeOf((*context.Context)(nil)).Elem()
	ops := map[string]bool{}
	for i := range t.NumMethod() {
		m := t.Method(i)
		if m.Type.NumIn() == 4 && m.Type.In(1) == ctx && m.Type.IsVariadic() {
			ops[m.Name] = true
		}
	}
	return ops
}

// codeCalls scans the Go code under internal/ and cmd/ (tests and test
// harnesses left out) for calls of AWS SDK operations, and returns them as
// "service.Operation" with the files that make them.
func codeCalls(t *testing.T) map[string][]string {
	t.Helper()
	opsByPath := map[string]map[string]bool{}
	for path, typ := range sdkClients {
		opsByPath[path] = operations(typ)
	}
	calls := map[string][]string{}
	for _, dir := range []string{"internal", "cmd"} {
		err := filepath.WalkDir(repoPath(dir), func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel("..", p)
			rel = filepath.ToSlash(rel)
			if d.IsDir() {
				if strings.HasSuffix(rel, "test") && rel != "internal/awstest" || rel == "internal/awstest" {
					return filepath.SkipDir // conformance suites and harnesses run in tests only
				}
				return nil
			}
			if !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") || provisioning[rel] {
				return nil
			}
			f, err := parser.ParseFile(token.NewFileSet(), p, nil, parser.SkipObjectResolution)
			if err != nil {
				return err
			}
			var services []string // import paths of SDK clients this file uses
			manager := false
			for _, imp := range f.Imports {
				ip, _ := strconv.Unquote(imp.Path.Value)
				if _, ok := sdkClients[ip]; ok {
					services = append(services, ip)
				}
				if ip == s3Manager {
					manager = true
				}
			}
			if len(services) == 0 && !manager {
				return nil
			}
			kinds := transactKinds(f)
			ast.Inspect(f, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok {
					return true
				}
				sel, ok := call.Fun.(*ast.SelectorExpr)
				if !ok {
					return true
				}
				name := sel.Sel.Name
				if manager && name == "Upload" {
					calls["manager.Upload"] = append(calls["manager.Upload"], rel)
				}
				for _, s := range services {
					if !opsByPath[s][name] {
						continue
					}
					if _, isPkg := sel.X.(*ast.Ident); isPkg && isImportName(f, sel.X.(*ast.Ident).Name) {
						continue // a package function such as dynamodb.NewFromConfig
					}
					op := filepath.Base(s) + "." + name
					calls[op] = append(calls[op], rel)
					if op == "dynamodb.TransactWriteItems" {
						for _, k := range kinds {
							calls[op+"/"+k] = append(calls[op+"/"+k], rel)
						}
					}
				}
				return true
			})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return calls
}

func isImportName(f *ast.File, name string) bool {
	for _, imp := range f.Imports {
		ip, _ := strconv.Unquote(imp.Path.Value)
		n := filepath.Base(ip)
		if imp.Name != nil {
			n = imp.Name.Name
		}
		if n == name {
			return true
		}
	}
	return false
}

// transactKinds lists the transaction item kinds (Put, Update, Delete,
// ConditionCheck) a file builds as types.<Kind>{…} literals.
func transactKinds(f *ast.File) []string {
	seen := map[string]bool{}
	ast.Inspect(f, func(n ast.Node) bool {
		lit, ok := n.(*ast.CompositeLit)
		if !ok {
			return true
		}
		if sel, ok := lit.Type.(*ast.SelectorExpr); ok {
			switch sel.Sel.Name {
			case "Put", "Update", "Delete", "ConditionCheck":
				seen[sel.Sel.Name] = true
			}
		}
		return true
	})
	var out []string
	for k := range seen {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// TestRolePolicyMatchesCode: the role allows exactly the IAM actions of
// the AWS operations the Go code calls, plus the boot script's and the
// CloudWatch agent's.
func TestRolePolicyMatchesCode(t *testing.T) {
	calls := codeCalls(t)
	if len(calls) == 0 {
		t.Fatal("found no AWS SDK calls in internal/ and cmd/; the scan is broken")
	}
	need := map[string][]string{} // IAM action → operations needing it
	for op, files := range calls {
		acts, known := iamActions[op]
		if !known {
			t.Errorf("%s (called in %v) has no IAM mapping in ops/iam_test.go; add it and the action to the role", op, uniq(files))
			continue
		}
		for _, a := range acts {
			need[a] = append(need[a], op)
		}
	}

	policy := mustPolicyFile(t, "iam/role-policy.json")
	allowed := map[string][]string{} // IAM action → Sids
	for _, s := range policy.Statement {
		sid := str(s["Sid"])
		if str(s["Effect"]) != "Allow" {
			continue
		}
		var acts []string
		for _, a := range asList(s["Action"]) {
			acts = append(acts, str(a))
		}
		if want, ok := platformStatements[sid]; ok {
			sort.Strings(acts)
			if !reflect.DeepEqual(acts, want) {
				t.Errorf("statement %s allows %v; want exactly %v", sid, acts, want)
			}
			continue
		}
		for _, a := range acts {
			if strings.Contains(a, "*") {
				t.Errorf("statement %s allows the wildcard action %s", sid, a)
			}
			allowed[a] = append(allowed[a], sid)
		}
	}
	for a, ops := range need {
		if _, ok := allowed[a]; !ok {
			t.Errorf("the code calls %v, which needs %s; iam/role-policy.json (and the template) does not allow it", uniq(ops), a)
		}
	}
	for a, sids := range allowed {
		if _, ok := need[a]; !ok {
			t.Errorf("statement(s) %v allow %s, which no AWS call in the code needs; remove it", sids, a)
		}
	}
	ops := make([]string, 0, len(calls))
	for op := range calls {
		ops = append(ops, op)
	}
	sort.Strings(ops)
	t.Logf("AWS operations the code calls: %s", strings.Join(ops, ", "))
}

func uniq(s []string) []string {
	m := map[string]bool{}
	var out []string
	for _, v := range s {
		if !m[v] {
			m[v] = true
			out = append(out, v)
		}
	}
	sort.Strings(out)
	return out
}
