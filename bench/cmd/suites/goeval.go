package main

import (
	"errors"
	"fmt"
	"go/ast"
	"go/token"
	"strconv"
	"strings"
)

// errGenerated marks an example whose text is produced at test time by a
// random generator (gitleaks' secrets.NewSecret): it has no fixed text, so
// it is skipped and counted as skipped.
var errGenerated = errors.New("generated at random by the suite")

// errUnsupported marks an expression the evaluator does not model (a call
// into the suite's own code, a conversion, an operator other than +).
var errUnsupported = errors.New("expression not evaluated")

// item is one evaluated string, or why it could not be evaluated.
type item struct {
	s   string
	err error
}

// value is what an expression evaluates to: a string, or a list of strings
// (a []string literal, append, nil), each element on its own.
type value struct {
	s      string
	list   []item
	isList bool
	isInt  bool
	n      int64
}

// env is the set of names bound so far while walking a function body, in
// front of the file's package-level declarations.
type env struct {
	vars map[string]value
	errs map[string]error
	pkg  *pkgScope
}

// pkgScope holds a file's (or package's) top-level var and const
// declarations, evaluated lazily on first use.
type pkgScope struct {
	decls    map[string]ast.Expr
	done     map[string]value
	errs     map[string]error
	visiting map[string]bool
	// calls models helper functions the suite calls to build examples,
	// keyed by "pkg.Func" as written in the source.
	calls map[string]func(args []value) (value, error)
}

func newPkgScope() *pkgScope {
	return &pkgScope{
		decls:    map[string]ast.Expr{},
		done:     map[string]value{},
		errs:     map[string]error{},
		visiting: map[string]bool{},
		calls:    map[string]func([]value) (value, error){},
	}
}

// addFile records the top-level var and const declarations of a file.
func (p *pkgScope) addFile(f *ast.File) {
	for _, d := range f.Decls {
		gd, ok := d.(*ast.GenDecl)
		if !ok || (gd.Tok != token.VAR && gd.Tok != token.CONST) {
			continue
		}
		for _, spec := range gd.Specs {
			vs := spec.(*ast.ValueSpec)
			for i, n := range vs.Names {
				if i < len(vs.Values) {
					p.decls[n.Name] = vs.Values[i]
				}
			}
		}
	}
}

func newEnv(p *pkgScope) *env {
	return &env{vars: map[string]value{}, errs: map[string]error{}, pkg: p}
}

func (e *env) lookup(name string) (value, error) {
	if v, ok := e.vars[name]; ok {
		return v, nil
	}
	if err, ok := e.errs[name]; ok {
		return value{}, err
	}
	p := e.pkg
	if v, ok := p.done[name]; ok {
		return v, nil
	}
	if err, ok := p.errs[name]; ok {
		return value{}, err
	}
	x, ok := p.decls[name]
	if !ok || p.visiting[name] {
		return value{}, fmt.Errorf("%w: unknown name %s", errUnsupported, name)
	}
	p.visiting[name] = true
	v, err := (&env{pkg: p}).eval(x)
	delete(p.visiting, name)
	if err != nil {
		p.errs[name] = err
		return value{}, err
	}
	p.done[name] = v
	return v, nil
}

// bind evaluates rhs and binds it to name; an expression that cannot be
// evaluated binds the error, so later uses report it.
func (e *env) bind(name string, rhs ast.Expr) {
	if name == "_" {
		return
	}
	v, err := e.eval(rhs)
	if err != nil {
		delete(e.vars, name)
		e.errs[name] = err
		return
	}
	delete(e.errs, name)
	e.vars[name] = v
}

// run walks the statements of a body in order, binding assignments and
// declarations; control flow is not followed (bodies of loops and
// branches are skipped).
func (e *env) run(stmts []ast.Stmt) {
	for _, st := range stmts {
		switch s := st.(type) {
		case *ast.AssignStmt:
			if len(s.Lhs) != len(s.Rhs) {
				for _, l := range s.Lhs {
					if id, ok := l.(*ast.Ident); ok {
						e.errs[id.Name] = errUnsupported
						delete(e.vars, id.Name)
					}
				}
				continue
			}
			for i, l := range s.Lhs {
				if id, ok := l.(*ast.Ident); ok {
					if s.Tok == token.ADD_ASSIGN {
						e.bind(id.Name, &ast.BinaryExpr{X: id, Op: token.ADD, Y: s.Rhs[i]})
						continue
					}
					e.bind(id.Name, s.Rhs[i])
				}
			}
		case *ast.DeclStmt:
			gd, ok := s.Decl.(*ast.GenDecl)
			if !ok {
				continue
			}
			for _, spec := range gd.Specs {
				vs, ok := spec.(*ast.ValueSpec)
				if !ok {
					continue
				}
				for i, n := range vs.Names {
					if i < len(vs.Values) {
						e.bind(n.Name, vs.Values[i])
					}
				}
			}
		}
	}
}

func (e *env) evalString(x ast.Expr) (string, error) {
	v, err := e.eval(x)
	if err != nil {
		return "", err
	}
	if v.isList {
		return "", fmt.Errorf("%w: list where a string is expected", errUnsupported)
	}
	if v.isInt {
		return strconv.FormatInt(v.n, 10), nil
	}
	return v.s, nil
}

// evalList evaluates a list-valued expression; elements that cannot be
// evaluated are kept with their error.
func (e *env) evalList(x ast.Expr) ([]item, error) {
	v, err := e.eval(x)
	if err != nil {
		return nil, err
	}
	if !v.isList {
		return []item{{s: v.s}}, nil
	}
	return v.list, nil
}

func (e *env) eval(x ast.Expr) (value, error) {
	switch x := x.(type) {
	case *ast.BasicLit:
		switch x.Kind {
		case token.STRING, token.CHAR:
			s, err := strconv.Unquote(x.Value)
			if err != nil {
				return value{}, fmt.Errorf("%w: %v", errUnsupported, err)
			}
			return value{s: s}, nil
		case token.INT:
			n, err := strconv.ParseInt(x.Value, 0, 64)
			if err != nil {
				return value{}, fmt.Errorf("%w: %v", errUnsupported, err)
			}
			return value{isInt: true, n: n}, nil
		}
	case *ast.ParenExpr:
		return e.eval(x.X)
	case *ast.Ident:
		if x.Name == "nil" {
			return value{isList: true}, nil
		}
		return e.lookup(x.Name)
	case *ast.BinaryExpr:
		if x.Op != token.ADD {
			break
		}
		a, err := e.eval(x.X)
		if err != nil {
			return value{}, err
		}
		b, err := e.eval(x.Y)
		if err != nil {
			return value{}, err
		}
		if a.isInt && b.isInt {
			return value{isInt: true, n: a.n + b.n}, nil
		}
		if a.isList || b.isList || a.isInt || b.isInt {
			break
		}
		return value{s: a.s + b.s}, nil
	case *ast.CompositeLit:
		if _, ok := x.Type.(*ast.ArrayType); !ok {
			break
		}
		out := value{isList: true}
		for _, el := range x.Elts {
			s, err := e.evalString(el)
			out.list = append(out.list, item{s: s, err: err})
		}
		return out, nil
	case *ast.CallExpr:
		return e.call(x)
	}
	return value{}, fmt.Errorf("%w: %T", errUnsupported, x)
}

func callName(fun ast.Expr) string {
	switch f := fun.(type) {
	case *ast.Ident:
		return f.Name
	case *ast.SelectorExpr:
		if id, ok := f.X.(*ast.Ident); ok {
			return id.Name + "." + f.Sel.Name
		}
		return "?." + f.Sel.Name
	case *ast.ArrayType:
		return "[]conv"
	}
	return "?"
}

func (e *env) call(x *ast.CallExpr) (value, error) {
	name := callName(x.Fun)
	switch name {
	case "append":
		if len(x.Args) == 0 {
			break
		}
		base, err := e.evalList(x.Args[0])
		if err != nil {
			return value{}, err
		}
		out := value{isList: true, list: append([]item(nil), base...)}
		for i, a := range x.Args[1:] {
			if x.Ellipsis.IsValid() && i == len(x.Args)-2 {
				l, err := e.evalList(a)
				if err != nil {
					out.list = append(out.list, item{err: err})
					continue
				}
				out.list = append(out.list, l...)
				continue
			}
			s, err := e.evalString(a)
			out.list = append(out.list, item{s: s, err: err})
		}
		return out, nil
	case "string", "[]conv":
		if len(x.Args) == 1 {
			return e.eval(x.Args[0])
		}
	case "secrets.NewSecret":
		return value{}, errGenerated
	}
	args := make([]value, len(x.Args))
	for i, a := range x.Args {
		v, err := e.eval(a)
		if err != nil {
			return value{}, err
		}
		args[i] = v
	}
	switch name {
	case "fmt.Sprintf":
		if len(args) == 0 || args[0].isList {
			break
		}
		fa := make([]any, 0, len(args)-1)
		for _, a := range args[1:] {
			switch {
			case a.isList:
				return value{}, fmt.Errorf("%w: list in Sprintf", errUnsupported)
			case a.isInt:
				fa = append(fa, a.n)
			default:
				fa = append(fa, a.s)
			}
		}
		return value{s: fmt.Sprintf(args[0].s, fa...)}, nil
	case "strings.Repeat":
		if len(args) == 2 && args[1].isInt && args[1].n >= 0 && args[1].n < 1<<16 {
			return value{s: strings.Repeat(args[0].s, int(args[1].n))}, nil
		}
	case "strings.ToUpper":
		if len(args) == 1 {
			return value{s: strings.ToUpper(args[0].s)}, nil
		}
	case "strings.ToLower":
		if len(args) == 1 {
			return value{s: strings.ToLower(args[0].s)}, nil
		}
	case "strings.ReplaceAll":
		if len(args) == 3 {
			return value{s: strings.ReplaceAll(args[0].s, args[1].s, args[2].s)}, nil
		}
	case "strings.Join":
		if len(args) == 2 && args[0].isList {
			parts := make([]string, 0, len(args[0].list))
			for _, it := range args[0].list {
				if it.err != nil {
					return value{}, it.err
				}
				parts = append(parts, it.s)
			}
			return value{s: strings.Join(parts, args[1].s)}, nil
		}
	}
	if fn, ok := e.pkg.calls[name]; ok {
		return fn(args)
	}
	return value{}, fmt.Errorf("%w: call %s", errUnsupported, name)
}
