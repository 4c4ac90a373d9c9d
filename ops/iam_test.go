package ops_test

import (
	"context"
	"fmt"
	"go/ast"
	"go/printer"
	"go/token"
	"go/types"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// sdkClients are the AWS SDK clients the code may call, by import path.
var sdkClients = map[string]reflect.Type{
	"github.com/aws/aws-sdk-go-v2/service/cloudfront":      reflect.TypeOf(&cloudfront.Client{}),
	"github.com/aws/aws-sdk-go-v2/service/dynamodb":        reflect.TypeOf(&dynamodb.Client{}),
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams": reflect.TypeOf(&dynamodbstreams.Client{}),
	"github.com/aws/aws-sdk-go-v2/service/s3":              reflect.TypeOf(&s3.Client{}),
}

const s3Manager = "github.com/aws/aws-sdk-go-v2/feature/s3/manager"

// provisioning lists files of `mediashare setup` (creating and checking
// the bucket and tables), whose calls take the table from a spec: they
// count against every table and the bucket.
var provisioning = map[string]bool{
	"internal/awsbackend/setup.go": true,
}

// tableFields maps the struct field an adapter names its table by
// (dir.Type.field, as in TableName: aws.String(s.table) with s a *Store)
// to the stack's table. Code that moves or a new adapter means a new line
// here; the test names the missing key.
var tableFields = map[string]string{
	"internal/events/dynamo.Store.table":       "EventsTable",
	"internal/events/dynamo.Feed.table":        "EventsTable",
	"internal/events/dynamo.Feed.leaseTable":   "LeaseTable",
	"internal/events/dynamo.leases.leaseTable": "LeaseTable",
	"internal/projections/dynamo.View.table":   "EntriesTable",
	"internal/awsbackend.Config.EventsTable":   "EventsTable",
	"internal/awsbackend.Config.Table":         "EntriesTable",
	"internal/awsbackend.Config.LeaseTable":    "LeaseTable",
	"internal/authstore/dynamo.Store.table":    "AuthTable",
	"internal/keyring/dynamo.Store.table":      "KeysTable",
}

// streamTable is the one table with DynamoDB Streams on: every Streams
// call is on its stream.
const streamTable = "EventsTable"

// bucketOps are the S3 operations on the bucket itself; every other one
// is on objects (bucket/*).
var bucketOps = map[string]bool{"HeadBucket": true, "ListObjectsV2": true, "CreateBucket": true}

// iamActions maps an SDK operation ("service.Operation") to the IAM
// actions it needs. A call the table does not know fails the test.
var iamActions = map[string][]string{
	"dynamodb.DescribeTable": {"dynamodb:DescribeTable"},
	// An erasure invalidates the entry's objects in the distribution.
	"cloudfront.CreateInvalidation": {"cloudfront:CreateInvalidation"},
	"dynamodb.GetItem":              {"dynamodb:GetItem"},
	"dynamodb.PutItem":              {"dynamodb:PutItem"},
	"dynamodb.UpdateItem":           {"dynamodb:UpdateItem"},
	"dynamodb.DeleteItem":           {"dynamodb:DeleteItem"},
	"dynamodb.Query":                {"dynamodb:Query"},
	"dynamodb.Scan":                 {"dynamodb:Scan"},
	"dynamodb.BatchWriteItem":       {"dynamodb:BatchWriteItem"},
	"dynamodb.BatchGetItem":         {"dynamodb:BatchGetItem"},
	// Setup's.
	"dynamodb.CreateTable":               {"dynamodb:CreateTable"},
	"dynamodb.DescribeContinuousBackups": {"dynamodb:DescribeContinuousBackups"},
	"dynamodb.UpdateContinuousBackups":   {"dynamodb:UpdateContinuousBackups"},
	"dynamodb.DescribeTimeToLive":        {"dynamodb:DescribeTimeToLive"},
	"dynamodb.UpdateTimeToLive":          {"dynamodb:UpdateTimeToLive"},
	"s3.CreateBucket":                    {"s3:CreateBucket"},
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

// need is what the code needs: resource (as the policies name it, e.g.
// "table/${EventsTable}/index/audit") → IAM action → where ("file:func
// op") it is called.
type need map[string]map[string][]string

func (n need) add(resource, action, where string) {
	if n[resource] == nil {
		n[resource] = map[string][]string{}
	}
	n[resource][action] = append(n[resource][action], where)
}

// codeNeeds scans the Go code under internal/ and cmd/ (tests and test
// harnesses left out) for calls of AWS SDK operations and works out, per
// call, the resource it acts on: the table (from the input's TableName
// field, an adapter's table field), the index (IndexName), the events
// stream, the bucket or its objects. It returns what serving needs and
// what maintenance (replay, setup) needs; problems are scan failures.
func codeNeeds(t *testing.T) (serving, maintenance need, ops []string) {
	t.Helper()
	opsByPath := map[string]map[string]bool{}
	for path, typ := range sdkClients {
		opsByPath[path] = operations(typ)
	}
	serving, maintenance = need{}, need{}
	seenOps := map[string]bool{}
	var unreached []string
	prog := loadProgram(t)
	servingFuncs, maintenanceFuncs, cmds := servingAndMaintenance(t, prog)
	t.Logf("serving: what `mediashare serve` reaches; maintenance: what only %v reach", cmds)
	// Files by directory: an input built in one function may be passed to
	// another of the same package.
	pkgs := map[string][]*ast.File{}
	names := map[*ast.File]string{}
	infos := map[string]*types.Info{}
	for _, pkg := range prog.pkgs {
		dir := strings.TrimPrefix(pkg.PkgPath, module)
		for _, f := range pkg.Syntax {
			rel, err := filepath.Rel("..", pkg.Fset.Position(f.Package).Filename)
			if err != nil || strings.HasPrefix(rel, "..") {
				abs, _ := filepath.Abs("..")
				rel, _ = filepath.Rel(abs, pkg.Fset.Position(f.Package).Filename)
			}
			pkgs[dir] = append(pkgs[dir], f)
			names[f] = filepath.ToSlash(rel)
			infos[dir] = pkg.TypesInfo
		}
	}
	owners := fieldOwners(prog)
	for dir, files := range pkgs {
		r := resolver{dir: dir, consts: stringConsts(files), info: infos[dir], owners: owners}
		for _, f := range files {
			rel := names[f]
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
				continue
			}
			for _, decl := range f.Decls {
				fd, ok := decl.(*ast.FuncDecl)
				if !ok || fd.Body == nil {
					continue
				}
				var into need
				switch {
				case servingFuncs[fd]:
					into = serving
				case maintenanceFuncs[fd]:
					into = maintenance
				}
				ast.Inspect(fd.Body, func(n ast.Node) bool {
					call, ok := n.(*ast.CallExpr)
					if !ok {
						return true
					}
					sel, ok := call.Fun.(*ast.SelectorExpr)
					if !ok {
						return true
					}
					if x, isIdent := sel.X.(*ast.Ident); isIdent && isImportName(f, x.Name) {
						return true // a package function such as dynamodb.NewFromConfig
					}
					name := sel.Sel.Name
					var op, svc string
					if manager && name == "Upload" {
						op, svc = "manager.Upload", "s3"
					}
					for _, s := range services {
						if opsByPath[s][name] {
							svc = filepath.Base(s)
							op = svc + "." + name
						}
					}
					if op == "" {
						return true
					}
					where := rel + ":" + funcName(fd) + " " + op
					if into == nil {
						unreached = append(unreached, where)
						return true
					}
					seenOps[op] = true
					acts, known := iamActions[op]
					if !known {
						t.Errorf("%s has no IAM mapping in ops/iam_test.go; add it and the action to the right policy", where)
						return true
					}
					switch {
					case svc == "dynamodbstreams":
						for _, a := range acts {
							into.add("${"+streamTable+".StreamArn}", a, where)
						}
					case svc == "cloudfront":
						for _, a := range acts {
							into.add("arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/${MediaDistribution}", a, where)
						}
					case svc == "s3":
						res := "arn:${AWS::Partition}:s3:::${MediaBucket}/*"
						if bucketOps[name] {
							res = "arn:${AWS::Partition}:s3:::${MediaBucket}"
						}
						for _, a := range acts {
							into.add(res, a, where)
						}
					case provisioning[rel]:
						for _, tbl := range []string{"EventsTable", "EntriesTable", "LeaseTable", "AuthTable", "KeysTable"} {
							for _, a := range acts {
								into.add(tableARN(tbl), a, where)
							}
						}
					case op == "dynamodb.TransactWriteItems":
						found := false
						for _, kind := range []string{"Put", "Update", "Delete", "ConditionCheck"} {
							for _, lit := range literals(fd, "types", kind) {
								found = true
								res, err := tableOf(r, lit, false)
								if err != nil {
									t.Errorf("%s: %v", where, err)
									continue
								}
								for _, a := range iamActions[op+"/"+kind] {
									into.add(res, a, where+"/"+kind)
								}
							}
						}
						if !found {
							t.Errorf("%s: no types.Put/Update/Delete/ConditionCheck literal in the function; cannot tell the tables", where)
						}
					case op == "dynamodb.BatchWriteItem":
						lits := inputLiterals(files, fd, svc, name)
						for _, lit := range lits {
							items := field(lit, "RequestItems")
							m, ok := unparen(items).(*ast.CompositeLit)
							if !ok {
								t.Errorf("%s: RequestItems is not a map literal; cannot tell the tables", where)
								continue
							}
							for _, el := range m.Elts {
								kv, _ := el.(*ast.KeyValueExpr)
								if kv == nil {
									continue
								}
								tbl, err := tableName(r, kv.Key)
								if err != nil {
									t.Errorf("%s: %v", where, err)
									continue
								}
								for _, a := range acts {
									into.add(tableARN(tbl), a, where)
								}
							}
						}
						if len(lits) == 0 {
							t.Errorf("%s: no BatchWriteItemInput literal found; cannot tell the tables", where)
						}
					default:
						lits := inputLiterals(files, fd, svc, name)
						if len(lits) == 0 {
							t.Errorf("%s: no %s.%sInput literal in the function or its callers; cannot tell the resource", where, svc, name)
						}
						for _, lit := range lits {
							lit = withCallerTable(files, fd, lit)
							res, err := tableOf(r, lit, true)
							if err != nil {
								t.Errorf("%s: %v", where, err)
								continue
							}
							for _, a := range acts {
								into.add(res, a, where)
							}
						}
					}
					return true
				})
			}
		}
	}
	if len(unreached) > 0 {
		sort.Strings(unreached)
		t.Logf("AWS calls no command reaches (left out): %s", strings.Join(uniq(unreached), ", "))
	}
	for op := range seenOps {
		ops = append(ops, op)
	}
	sort.Strings(ops)
	return serving, maintenance, ops
}

func tableARN(logical string) string {
	return "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/${" + logical + "}"
}

// funcName is Recv.Name for a method, Name for a function.
func funcName(fd *ast.FuncDecl) string {
	if fd.Recv == nil || len(fd.Recv.List) == 0 {
		return fd.Name.Name
	}
	t := fd.Recv.List[0].Type
	if s, ok := t.(*ast.StarExpr); ok {
		t = s.X
	}
	if ix, ok := t.(*ast.IndexExpr); ok {
		t = ix.X
	}
	if id, ok := t.(*ast.Ident); ok {
		return id.Name + "." + fd.Name.Name
	}
	return fd.Name.Name
}

// literals returns the composite literals of pkg.name in fn.
func literals(fn ast.Node, pkg, name string) []*ast.CompositeLit {
	var out []*ast.CompositeLit
	ast.Inspect(fn, func(n ast.Node) bool {
		lit, ok := n.(*ast.CompositeLit)
		if !ok {
			return true
		}
		if sel, ok := lit.Type.(*ast.SelectorExpr); ok && sel.Sel.Name == name {
			if x, ok := sel.X.(*ast.Ident); ok && x.Name == pkg {
				out = append(out, lit)
			}
		}
		return true
	})
	return out
}

// inputLiterals finds the <svc>.<op>Input literals a call in fd uses:
// those in fd, or, when fd takes the input as a parameter, those in the
// functions of its package that call fd.
func inputLiterals(files []*ast.File, fd *ast.FuncDecl, svc, op string) []*ast.CompositeLit {
	if lits := literals(fd.Body, svc, op+"Input"); len(lits) > 0 {
		return lits
	}
	var out []*ast.CompositeLit
	for _, f := range files {
		for _, d := range f.Decls {
			caller, ok := d.(*ast.FuncDecl)
			if !ok || caller.Body == nil || caller == fd {
				continue
			}
			calls := false
			ast.Inspect(caller.Body, func(n ast.Node) bool {
				if c, ok := n.(*ast.CallExpr); ok {
					switch fn := c.Fun.(type) {
					case *ast.SelectorExpr:
						calls = calls || fn.Sel.Name == fd.Name.Name
					case *ast.Ident:
						calls = calls || fn.Name == fd.Name.Name
					}
				}
				return true
			})
			if calls {
				out = append(out, literals(caller.Body, svc, op+"Input")...)
			}
		}
	}
	return out
}

// withCallerTable resolves a TableName that is a parameter of fd to the
// argument fd's one caller in the package passes (pingTable(db,
// cfg.LeaseTable, cfg)); other literals are returned as they are.
func withCallerTable(files []*ast.File, fd *ast.FuncDecl, lit *ast.CompositeLit) *ast.CompositeLit {
	id, ok := unwrapString(field(lit, "TableName")).(*ast.Ident)
	if !ok {
		return lit
	}
	idx, i := -1, 0
	for _, f := range fd.Type.Params.List {
		for _, n := range f.Names {
			if n.Name == id.Name {
				idx = i
			}
			i++
		}
	}
	if idx < 0 {
		return lit
	}
	var arg ast.Expr
	for _, f := range files {
		ast.Inspect(f, func(n ast.Node) bool {
			if c, ok := n.(*ast.CallExpr); ok && idx < len(c.Args) {
				if fn, ok := c.Fun.(*ast.Ident); ok && fn.Name == fd.Name.Name {
					arg = c.Args[idx]
				}
			}
			return true
		})
	}
	if arg == nil {
		return lit
	}
	c := *lit
	c.Elts = []ast.Expr{&ast.KeyValueExpr{Key: ast.NewIdent("TableName"), Value: arg}}
	for _, el := range lit.Elts {
		if kv, ok := el.(*ast.KeyValueExpr); ok {
			if k, ok := kv.Key.(*ast.Ident); ok && k.Name == "TableName" {
				continue
			}
		}
		c.Elts = append(c.Elts, el)
	}
	return &c
}

func field(lit *ast.CompositeLit, name string) ast.Expr {
	for _, el := range lit.Elts {
		if kv, ok := el.(*ast.KeyValueExpr); ok {
			if k, ok := kv.Key.(*ast.Ident); ok && k.Name == name {
				return kv.Value
			}
		}
	}
	return nil
}

func unparen(e ast.Expr) ast.Expr {
	for {
		switch x := e.(type) {
		case *ast.ParenExpr:
			e = x.X
		case *ast.UnaryExpr:
			e = x.X
		default:
			return e
		}
	}
}

// unwrapString strips aws.String(…).
func unwrapString(e ast.Expr) ast.Expr {
	if c, ok := e.(*ast.CallExpr); ok && len(c.Args) == 1 {
		if sel, ok := c.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "String" {
			return c.Args[0]
		}
	}
	return e
}

// resolver names what a package's expressions refer to.
type resolver struct {
	dir    string
	consts map[string]string
	info   *types.Info
	owners map[*types.Var]string
}

// fieldOwners maps every struct field of the module's named types to its
// type's name.
func fieldOwners(p *program) map[*types.Var]string {
	out := map[*types.Var]string{}
	for _, n := range p.named {
		if st, ok := n.Underlying().(*types.Struct); ok {
			for i := range st.NumFields() {
				out[st.Field(i)] = n.Obj().Name()
			}
		}
	}
	return out
}

// tableName maps a table expression (s.table, w.f.leaseTable,
// cfg.LeaseTable) to the stack's table through tableFields, by the field
// it selects and the type that declares it.
func tableName(r resolver, e ast.Expr) (string, error) {
	e = unwrapString(e)
	sel, ok := e.(*ast.SelectorExpr)
	if !ok {
		return "", fmt.Errorf("table %s is not a struct field; cannot tell which table it is", exprString(e))
	}
	v, ok := r.info.Uses[sel.Sel].(*types.Var)
	if !ok || !v.IsField() {
		return "", fmt.Errorf("table %s is not a struct field; cannot tell which table it is", exprString(e))
	}
	key := r.dir + "." + r.owners[v] + "." + v.Name()
	if pkg := v.Pkg(); pkg != nil {
		key = strings.TrimPrefix(pkg.Path(), module) + "." + r.owners[v] + "." + v.Name()
	}
	tbl, ok := tableFields[key]
	if !ok {
		return "", fmt.Errorf("table %s: add %q to tableFields in ops/iam_test.go", exprString(e), key)
	}
	return tbl, nil
}

// tableOf returns the resource an input literal acts on: its table, or
// with an IndexName (when index is true) the index.
func tableOf(r resolver, lit *ast.CompositeLit, index bool) (string, error) {
	te := field(lit, "TableName")
	if te == nil {
		return "", fmt.Errorf("%s literal without TableName", exprString(lit.Type))
	}
	tbl, err := tableName(r, te)
	if err != nil {
		return "", err
	}
	res := tableARN(tbl)
	if ie := field(lit, "IndexName"); ie != nil && index {
		var name string
		switch x := unwrapString(ie).(type) {
		case *ast.Ident:
			name = r.consts[x.Name]
		case *ast.BasicLit:
			name, _ = strconv.Unquote(x.Value)
		}
		if name == "" {
			return "", fmt.Errorf("IndexName %s is not a string constant", exprString(ie))
		}
		res += "/index/" + name
	}
	return res, nil
}

// stringConsts are a package's string constants by name.
func stringConsts(files []*ast.File) map[string]string {
	out := map[string]string{}
	for _, f := range files {
		for _, d := range f.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok || gd.Tok != token.CONST {
				continue
			}
			for _, spec := range gd.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, n := range vs.Names {
					if i < len(vs.Values) {
						if bl, ok := vs.Values[i].(*ast.BasicLit); ok && bl.Kind == token.STRING {
							out[n.Name], _ = strconv.Unquote(bl.Value)
						}
					}
				}
			}
		}
	}
	return out
}

func exprString(e ast.Expr) string {
	var b strings.Builder
	printer.Fprint(&b, token.NewFileSet(), e)
	return b.String()
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

// grants reads a policy's Allow statements as resource → action → Sids,
// leaving out the platform statements (checked whole by Sid).
func grants(t *testing.T, what string, statements []map[string]any) need {
	t.Helper()
	g := need{}
	for _, s := range statements {
		n := normalize(s)
		if n.Effect != "Allow" {
			continue
		}
		if want, ok := platformStatements[n.Sid]; ok {
			if !reflect.DeepEqual(n.Actions, want) {
				t.Errorf("%s: statement %s allows %v; want exactly %v", what, n.Sid, n.Actions, want)
			}
			continue
		}
		for _, a := range n.Actions {
			if strings.Contains(a, "*") {
				t.Errorf("%s: statement %s allows the wildcard action %s", what, n.Sid, a)
			}
			for _, r := range n.Resources {
				g.add(r, a, n.Sid)
			}
		}
	}
	return g
}

// compareGrants lists every action a resource needs that the policy does
// not grant on it, and every grant nothing needs.
func compareGrants(what string, needed, granted need) []string {
	var probs []string
	for res, acts := range needed {
		for a, where := range acts {
			if _, ok := granted[res][a]; !ok {
				probs = append(probs, fmt.Sprintf("%s does not allow %s on %s, which %v calls", what, a, res, uniq(where)))
			}
		}
	}
	for res, acts := range granted {
		for a, sids := range acts {
			if _, ok := needed[res][a]; !ok {
				probs = append(probs, fmt.Sprintf("%s statement(s) %v allow %s on %s, which no call needs there; remove it", what, uniq(sids), a, res))
			}
		}
	}
	sort.Strings(probs)
	return probs
}

// minus is what m needs beyond s.
func (m need) minus(s need) need {
	out := need{}
	for res, acts := range m {
		for a, where := range acts {
			if _, ok := s[res][a]; !ok {
				for _, w := range where {
					out.add(res, a, w)
				}
			}
		}
	}
	return out
}

func templatePolicy(t *testing.T, tpl template, resource string) []map[string]any {
	t.Helper()
	r := tpl.Resources[resource]
	var doc map[string]any
	switch r.Type {
	case "AWS::IAM::Role":
		pols := asList(r.Properties["Policies"])
		if len(pols) != 1 {
			t.Fatalf("%s has %d inline policies; want 1", resource, len(pols))
		}
		doc = asMap(asMap(pols[0])["PolicyDocument"])
	case "AWS::IAM::ManagedPolicy":
		doc = asMap(r.Properties["PolicyDocument"])
	default:
		t.Fatalf("template has no policy %s", resource)
	}
	// Statements under an !If (the CloudFront invalidation) count as the
	// default stack has them: media behind CloudFront.
	return branch(tpl, asList(doc["Statement"]), false)
}

// TestRolePolicyMatchesCode: the instance role allows on each table,
// index, stream, the bucket and its objects exactly the actions the
// serving code calls on it (plus the boot script's and the CloudWatch
// agent's), in iam/role-policy.json and in the template.
func TestRolePolicyMatchesCode(t *testing.T) {
	serving, _, ops := codeNeeds(t)
	if len(serving) == 0 {
		t.Fatal("found no AWS SDK calls in internal/ and cmd/; the scan is broken")
	}
	tpl := mustTemplate(t, templatePath)
	for what, stmts := range map[string][]map[string]any{
		"iam/role-policy.json": mustPolicyFile(t, "iam/role-policy.json").Statement,
		"template WebRole":     templatePolicy(t, tpl, "WebRole"),
	} {
		for _, p := range compareGrants(what, serving, grants(t, what, stmts)) {
			t.Error(p)
		}
	}
	t.Logf("AWS operations the code calls: %s", strings.Join(ops, ", "))
	t.Logf("serving needs: %s", describe(serving))
}

// TestMaintenancePolicyMatchesCode: the maintenance policy allows exactly
// what replay and setup call beyond what the instance role allows.
func TestMaintenancePolicyMatchesCode(t *testing.T) {
	serving, maintenance, _ := codeNeeds(t)
	extra := maintenance.minus(serving)
	if len(extra) == 0 {
		t.Fatal("maintenance needs nothing beyond serving; the scan is broken")
	}
	tpl := mustTemplate(t, templatePath)
	for what, stmts := range map[string][]map[string]any{
		"iam/maintenance-policy.json": mustPolicyFile(t, "iam/maintenance-policy.json").Statement,
		"template MaintenancePolicy":  templatePolicy(t, tpl, "MaintenancePolicy"),
	} {
		for _, p := range compareGrants(what, extra, grants(t, what, stmts)) {
			t.Error(p)
		}
	}
	if r := tpl.Resources["MaintenancePolicy"]; r.Properties["Roles"] != nil || r.Properties["Users"] != nil || r.Properties["Groups"] != nil {
		t.Error("MaintenancePolicy is attached by the stack; operators attach it only while running replay or setup")
	}
	t.Logf("maintenance needs beyond serving: %s", describe(extra))
}

// TestPolicyCheckFails proves the per-resource comparison fails both
// ways: a missing action on one resource, an extra one on another, and an
// action moved from the index to its table.
func TestPolicyCheckFails(t *testing.T) {
	serving, _, _ := codeNeeds(t)
	stmts := mustPolicyFile(t, "iam/role-policy.json").Statement
	edit := func(sid string, f func(m map[string]any)) []map[string]any {
		var out []map[string]any
		for _, s := range stmts {
			c := map[string]any{}
			for k, v := range s {
				c[k] = v
			}
			if str(c["Sid"]) == sid {
				f(c)
			}
			out = append(out, c)
		}
		return out
	}
	tests := []struct {
		name  string
		stmts []map[string]any
		want  string
	}{
		{"events Scan missing", edit("EventsTable", func(m map[string]any) {
			m["Action"] = []any{"dynamodb:DescribeTable", "dynamodb:PutItem", "dynamodb:Query"}
		}), "does not allow dynamodb:Scan on arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/${EventsTable}"},
		{"entries Scan extra", edit("EntriesTable", func(m map[string]any) {
			m["Action"] = []any{"dynamodb:DescribeTable", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Scan"}
		}), "allow dynamodb:Scan on arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/${EntriesTable}, which no call needs"},
		{"index query granted on the table", edit("EntriesGalleryIndex", func(m map[string]any) {
			m["Resource"] = []any{tableARN("EntriesTable")}
		}), "does not allow dynamodb:Query on arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/${EntriesTable}/index/gallery"},
		{"stream action on the table", edit("EventsStream", func(m map[string]any) {
			m["Resource"] = []any{tableARN("EventsTable")}
		}), "allow dynamodb:GetRecords on arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/${EventsTable}, which no call needs"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			probs := compareGrants("edited", serving, grants(t, "edited", tt.stmts))
			if !strings.Contains(strings.Join(probs, "\n"), tt.want) {
				t.Errorf("problems %q; want one saying %q", probs, tt.want)
			}
		})
	}
}

func describe(n need) string {
	var parts []string
	for res, acts := range n {
		var as []string
		for a := range acts {
			as = append(as, a)
		}
		sort.Strings(as)
		parts = append(parts, res+": "+strings.Join(as, " "))
	}
	sort.Strings(parts)
	return "\n  " + strings.Join(parts, "\n  ")
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
