package main

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"sort"
	"strings"
)

// loadTrufflehog reads the pattern tests of a trufflehog checkout:
// pkg/detectors/**/*_test.go (integration tests left out), every table
// entry with an `input` and a `want` field in a Test*_Pattern function.
// An entry whose want lists values is a positive, and those values are its
// secrets; an entry with an empty want is a negative. A want value that is
// not in the input verbatim (trufflehog joins multi-part credentials,
// e.g. id and secret) stands for its parts that are.
func loadTrufflehog(dir string) (*suite, error) {
	root := filepath.Join(dir, "pkg", "detectors")
	var names []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		n := d.Name()
		if !d.IsDir() && strings.HasSuffix(n, "_test.go") && !strings.Contains(n, "integration") {
			names = append(names, p)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("trufflehog: %w", err)
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("trufflehog: no tests under %s", root)
	}
	sort.Strings(names)
	s := &suite{name: "trufflehog"}
	fset := token.NewFileSet()
	for _, n := range names {
		f, err := parser.ParseFile(fset, n, nil, 0)
		if err != nil {
			s.skip(n, err)
			continue
		}
		pkg := newPkgScope()
		pkg.addFile(f)
		rel, _ := filepath.Rel(root, n)
		for _, d := range f.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || fd.Body == nil || !strings.HasSuffix(fd.Name.Name, "_Pattern") {
				continue
			}
			e := newEnv(pkg)
			e.run(fd.Body.List)
			ast.Inspect(fd.Body, func(node ast.Node) bool {
				cl, ok := node.(*ast.CompositeLit)
				if !ok {
					return true
				}
				fields := map[string]ast.Expr{}
				for _, el := range cl.Elts {
					if kv, ok := el.(*ast.KeyValueExpr); ok {
						if k, ok := kv.Key.(*ast.Ident); ok {
							fields[k.Name] = kv.Value
						}
					}
				}
				in, hasIn := fields["input"]
				if !hasIn {
					return true
				}
				name := ""
				if x, ok := fields["name"]; ok {
					name, _ = e.evalString(x)
				}
				where := rel + " " + name
				text, err := e.evalString(in)
				if err != nil {
					s.skip(where, err)
					return false
				}
				var want []item
				if x, ok := fields["want"]; ok {
					want, err = e.evalList(x)
					if err != nil {
						s.skip(where, err)
						return false
					}
				}
				if len(want) == 0 {
					s.negatives = append(s.negatives, example{where: where, text: text})
					return false
				}
				var secrets []string
				for _, w := range want {
					if w.err != nil {
						err = w.err
						break
					}
					secrets = append(secrets, secretParts(text, w.s)...)
				}
				if err != nil {
					s.skip(where, err)
					return false
				}
				if len(secrets) == 0 {
					s.skip(where, fmt.Errorf("wanted value not found in the input"))
					return false
				}
				s.positives = append(s.positives, example{where: where, text: text, secrets: dedupe(secrets)})
				return false
			})
		}
	}
	return s, nil
}

// secretParts returns w when the text holds it verbatim. Else w is a
// credential trufflehog joined from parts (key and id glued together, or
// with a separator): w is cut greedily into the longest pieces the text
// holds, and the longest piece, the key, is the secret (the others are
// usually identifiers, which a redactor may keep).
func secretParts(text, w string) []string {
	if strings.Contains(text, w) {
		return []string{w}
	}
	best := ""
	for rest := w; rest != ""; {
		n := 0
		for l := len(rest); l >= 4; l-- {
			if strings.Contains(text, rest[:l]) {
				n = l
				break
			}
		}
		if n == 0 {
			rest = rest[1:]
			continue
		}
		if n > len(best) {
			best = rest[:n]
		}
		rest = rest[n:]
	}
	if len(best) < 8 {
		return nil
	}
	return []string{best}
}
