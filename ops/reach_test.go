package ops_test

import (
	"fmt"
	"go/ast"
	"go/constant"
	"go/types"
	"sort"
	"strings"
	"sync"
	"testing"

	"golang.org/x/tools/go/packages"
)

// module is our import path prefix.
const module = "mediashare/"

// program is the module's code, type-checked, with what the reachability
// walk needs.
type program struct {
	pkgs  []*packages.Package
	decls map[*types.Func]*ast.FuncDecl
	info  map[*ast.FuncDecl]*types.Info
	named []*types.Named // the module's non-interface, non-generic named types
	// callbacks are methods of the module's types that code outside the
	// module may call through an interface of its own (ServeHTTP, Read,
	// Error, Collect …): reachable whenever anything is.
	callbacks []*types.Func
}

var (
	loadOnce   sync.Once
	loaded     *program
	loadFailed string
)

// loadProgram type-checks every package of the module (test files left
// out; dependencies from export data, so it takes about a second), once
// per test binary.
func loadProgram(t *testing.T) *program {
	t.Helper()
	loadOnce.Do(func() { loaded, loadFailed = load() })
	if loadFailed != "" {
		t.Fatal(loadFailed)
	}
	return loaded
}

func load() (*program, string) {
	cfg := &packages.Config{
		Mode: packages.NeedName | packages.NeedFiles | packages.NeedSyntax | packages.NeedTypes | packages.NeedTypesInfo | packages.NeedImports,
		Dir:  "..",
	}
	pkgs, err := packages.Load(cfg, "./cmd/...", "./internal/...")
	if err != nil {
		return nil, fmt.Sprintf("load the module's packages: %v", err)
	}
	p := &program{pkgs: pkgs, decls: map[*types.Func]*ast.FuncDecl{}, info: map[*ast.FuncDecl]*types.Info{}}
	external := map[*types.Package]bool{}
	var walkImports func(tp *types.Package)
	walkImports = func(tp *types.Package) {
		for _, imp := range tp.Imports() {
			if !strings.HasPrefix(imp.Path(), module) && !external[imp] {
				external[imp] = true
				walkImports(imp)
			}
		}
	}
	for _, pkg := range pkgs {
		if len(pkg.Errors) > 0 {
			return nil, fmt.Sprintf("package %s: %v", pkg.PkgPath, pkg.Errors)
		}
		walkImports(pkg.Types)
		for _, f := range pkg.Syntax {
			for _, d := range f.Decls {
				if fd, ok := d.(*ast.FuncDecl); ok && fd.Body != nil {
					if fn, ok := pkg.TypesInfo.Defs[fd.Name].(*types.Func); ok {
						p.decls[fn] = fd
						p.info[fd] = pkg.TypesInfo
					}
				}
			}
		}
		scope := pkg.Types.Scope()
		for _, name := range scope.Names() {
			tn, ok := scope.Lookup(name).(*types.TypeName)
			if !ok || tn.IsAlias() {
				continue
			}
			if n, ok := tn.Type().(*types.Named); ok && !types.IsInterface(n) && n.TypeParams().Len() == 0 {
				p.named = append(p.named, n)
			}
		}
	}
	// Interfaces outside the module that have methods.
	ifaces := []*types.Interface{types.Universe.Lookup("error").Type().Underlying().(*types.Interface)}
	for ep := range external {
		scope := ep.Scope()
		for _, name := range scope.Names() {
			tn, ok := scope.Lookup(name).(*types.TypeName)
			if !ok || !tn.Exported() {
				continue
			}
			if n, ok := tn.Type().(*types.Named); ok && n.TypeParams().Len() > 0 {
				continue
			}
			if it, ok := tn.Type().Underlying().(*types.Interface); ok && it.NumMethods() > 0 {
				ifaces = append(ifaces, it)
			}
		}
	}
	seen := map[*types.Func]bool{}
	for _, n := range p.named {
		ptr := types.NewPointer(n)
		ms := types.NewMethodSet(ptr)
		have := map[string]bool{}
		for i := range ms.Len() {
			have[ms.At(i).Obj().Name()] = true
		}
		for _, it := range ifaces {
			if !hasNames(it, have) || !types.Implements(ptr, it) {
				continue
			}
			for i := range it.NumMethods() {
				if fn := methodOf(ptr, it.Method(i).Name()); fn != nil && !seen[fn] {
					seen[fn] = true
					p.callbacks = append(p.callbacks, fn)
				}
			}
		}
	}
	return p, ""
}

func hasNames(it *types.Interface, have map[string]bool) bool {
	for i := range it.NumMethods() {
		if !have[it.Method(i).Name()] {
			return false
		}
	}
	return true
}

func methodOf(t types.Type, name string) *types.Func {
	obj, _, _ := types.LookupFieldOrMethod(t, true, nil, name)
	if fn, ok := obj.(*types.Func); ok {
		return fn.Origin()
	}
	return nil
}

// reach returns the module's functions reachable from roots: every
// function or method the code names (called or taken as a value), an
// interface method resolved to the module's types that implement the
// interface, closures as part of their function, plus the callbacks.
func (p *program) reach(roots []*types.Func) map[*ast.FuncDecl]bool {
	out := map[*ast.FuncDecl]bool{}
	var work []*types.Func
	push := func(fn *types.Func) {
		if fd, ok := p.decls[fn.Origin()]; ok && !out[fd] {
			out[fd] = true
			work = append(work, fn.Origin())
		}
	}
	for _, fn := range roots {
		push(fn)
	}
	for _, fn := range p.callbacks {
		push(fn)
	}
	for len(work) > 0 {
		fn := work[len(work)-1]
		work = work[:len(work)-1]
		fd := p.decls[fn]
		info := p.info[fd]
		ast.Inspect(fd.Body, func(n ast.Node) bool {
			id, ok := n.(*ast.Ident)
			if !ok {
				return true
			}
			used, ok := info.Uses[id].(*types.Func)
			if !ok {
				return true
			}
			sig := used.Type().(*types.Signature)
			if recv := sig.Recv(); recv != nil && types.IsInterface(recv.Type()) {
				it := recv.Type().Underlying().(*types.Interface)
				for _, nt := range p.named {
					ptr := types.NewPointer(nt)
					if types.Implements(ptr, it) {
						if m := methodOf(ptr, used.Name()); m != nil {
							push(m)
						}
					}
				}
				return true
			}
			push(used)
			return true
		})
	}
	return out
}

// commands reads run's dispatch in cmd/mediashare: for each command name
// (a case of a switch on the command), the module's functions its clause
// names. Code of run outside the clauses runs for every command.
func (p *program) commands(t *testing.T) (byCommand map[string][]*types.Func, common []*types.Func) {
	t.Helper()
	var run *ast.FuncDecl
	var info *types.Info
	for fn, fd := range p.decls {
		if fn.Pkg().Path() == module+"cmd/mediashare" && fn.Name() == "run" && fd.Recv == nil {
			run, info = fd, p.info[fd]
		}
	}
	if run == nil {
		t.Fatal("cmd/mediashare has no func run dispatching the commands; update ops/reach_test.go")
	}
	byCommand = map[string][]*types.Func{}
	inClause := map[*ast.Ident]bool{}
	ast.Inspect(run.Body, func(n ast.Node) bool {
		cc, ok := n.(*ast.CaseClause)
		if !ok {
			return true
		}
		var names []string
		for _, e := range cc.List {
			if tv, ok := info.Types[e]; ok && tv.Value != nil && tv.Value.Kind() == constant.String {
				names = append(names, constant.StringVal(tv.Value))
			}
		}
		if cc.List == nil {
			names = []string{"default"}
		}
		for _, s := range cc.Body {
			ast.Inspect(s, func(n ast.Node) bool {
				if id, ok := n.(*ast.Ident); ok {
					if fn, ok := info.Uses[id].(*types.Func); ok && p.decls[fn.Origin()] != nil {
						inClause[id] = true
						for _, c := range names {
							byCommand[c] = append(byCommand[c], fn)
						}
					}
				}
				return true
			})
		}
		return true
	})
	ast.Inspect(run.Body, func(n ast.Node) bool {
		if id, ok := n.(*ast.Ident); ok && !inClause[id] {
			if fn, ok := info.Uses[id].(*types.Func); ok && p.decls[fn.Origin()] != nil {
				common = append(common, fn)
			}
		}
		return true
	})
	if len(byCommand["serve"]) == 0 {
		t.Fatal(`run has no case "serve" naming the function that serves; update ops/reach_test.go`)
	}
	return byCommand, common
}

// servingAndMaintenance returns the functions `mediashare serve` reaches
// and those only the other commands (replay, events, setup) reach.
func servingAndMaintenance(t *testing.T, p *program) (serving, maintenance map[*ast.FuncDecl]bool, cmds []string) {
	t.Helper()
	byCommand, common := p.commands(t)
	// Package initialisation runs for every command.
	for _, pkg := range p.pkgs {
		for _, f := range pkg.Syntax {
			for _, d := range f.Decls {
				if fd, ok := d.(*ast.FuncDecl); ok && fd.Name.Name == "init" && fd.Recv == nil {
					if fn, ok := pkg.TypesInfo.Defs[fd.Name].(*types.Func); ok {
						common = append(common, fn)
					}
				}
			}
		}
	}
	serving = p.reach(append(append([]*types.Func{}, common...), byCommand["serve"]...))
	var others []*types.Func
	for c, fns := range byCommand {
		if c != "serve" {
			cmds = append(cmds, c)
			others = append(others, fns...)
		}
	}
	sort.Strings(cmds)
	maintenance = map[*ast.FuncDecl]bool{}
	for fd := range p.reach(others) {
		if !serving[fd] {
			maintenance[fd] = true
		}
	}
	return serving, maintenance, cmds
}

// TestServeReach pins the walk on what it must tell apart: the catch-up
// rebuild (a scan of the events table) is serving, emptying the view and
// creating tables are not.
func TestServeReach(t *testing.T) {
	p := loadProgram(t)
	serving, maintenance, _ := servingAndMaintenance(t, p)
	name := func(fd *ast.FuncDecl) string {
		fn := p.info[fd].Defs[fd.Name].(*types.Func)
		return strings.TrimPrefix(fn.Pkg().Path(), module) + "." + funcName(fd)
	}
	got := map[string]string{}
	for fd := range serving {
		got[name(fd)] = "serving"
	}
	for fd := range maintenance {
		got[name(fd)] = "maintenance"
	}
	for fn, want := range map[string]string{
		"internal/events/dynamo.Store.Streams":   "serving",
		"internal/projections.CatchUp":           "serving",
		"internal/events/dynamo.Store.Append":    "serving",
		"internal/blob/s3blob.object.Read":       "serving",
		"internal/projections/dynamo.View.Reset": "maintenance",
		"internal/projections.Rebuild":           "maintenance",
		"internal/awsbackend.Setup":              "maintenance",
	} {
		if got[fn] != want {
			t.Errorf("%s is %q; want %s", fn, got[fn], want)
		}
	}
}
