package main

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/viper"
	"github.com/zricethezav/gitleaks/v8/config"
	"github.com/zricethezav/gitleaks/v8/detect"
)

// loadGitleaks reads the rule examples of a gitleaks checkout: every
// function in cmd/generate/config/rules/*.go that ends in
// utils.Validate(r, tps, fps) gives its true positives (tps) and false
// positives (fps). Examples are Go expressions; string literals, +,
// fmt.Sprintf, strings helpers, append and utils.GenerateSampleSecret(s)
// are evaluated (the sample templates are read from the checkout's
// cmd/generate/config/utils/generate.go). Examples built with
// secrets.NewSecret are random and are skipped.
//
// The secret of a positive is what gitleaks itself reports for that rule
// on the example, with the checkout's config/gitleaks.toml (so a positive
// counts the credential, not the whole line).
func loadGitleaks(dir string) (*suite, error) {
	rulesDir := filepath.Join(dir, "cmd", "generate", "config", "rules")
	fset := token.NewFileSet()
	pkg := newPkgScope()
	if err := addGitleaksHelpers(pkg, fset, filepath.Join(dir, "cmd", "generate", "config", "utils", "generate.go")); err != nil {
		return nil, err
	}
	names, err := filepath.Glob(filepath.Join(rulesDir, "*.go"))
	if err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("gitleaks: no rule files in %s", rulesDir)
	}
	sort.Strings(names)
	var files []*ast.File
	for _, n := range names {
		if strings.HasSuffix(n, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, n, nil, 0)
		if err != nil {
			return nil, fmt.Errorf("gitleaks: %w", err)
		}
		pkg.addFile(f)
		files = append(files, f)
	}
	det, err := gitleaksDetector(filepath.Join(dir, "config", "gitleaks.toml"))
	if err != nil {
		return nil, err
	}

	s := &suite{name: "gitleaks"}
	for _, f := range files {
		for _, d := range f.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || fd.Body == nil {
				continue
			}
			tpsName, fpsName, ok := validateArgs(fd.Body)
			if !ok {
				continue
			}
			e := newEnv(pkg)
			e.run(fd.Body.List)
			ruleID := gitleaksRuleID(e, fd.Body)
			where := fmt.Sprintf("%s %s", filepath.Base(fset.Position(fd.Pos()).Filename), ruleID)
			if tpsName != "" {
				tps, err := e.evalList(&ast.Ident{Name: tpsName})
				if err != nil {
					s.skip(where+" tps", err)
				}
				for _, it := range tps {
					if it.err != nil {
						s.skip(where+" tp", it.err)
						continue
					}
					secrets := gitleaksSecrets(det, ruleID, it.s)
					if len(secrets) == 0 {
						s.skip(where+" tp", fmt.Errorf("gitleaks reports no secret in its own example"))
						continue
					}
					s.positives = append(s.positives, example{where: where, text: it.s, secrets: secrets})
				}
			}
			if fpsName != "" {
				fps, err := e.evalList(&ast.Ident{Name: fpsName})
				if err != nil {
					s.skip(where+" fps", err)
				}
				for _, it := range fps {
					if it.err != nil {
						s.skip(where+" fp", it.err)
						continue
					}
					ex := example{where: where, text: it.s}
					// A negative of one rule may still hold a credential
					// another gitleaks rule reports; it is marked disputed.
					ex.disputed = len(det.DetectString(it.s)) > 0
					s.negatives = append(s.negatives, ex)
				}
			}
		}
	}
	return s, nil
}

// validateArgs finds the utils.Validate(r, tps, fps) call of a rule
// function and returns the names of its example lists ("" for nil).
// Path-based rules (ValidateWithPaths) are left out: their examples are
// file names.
func validateArgs(body *ast.BlockStmt) (tps, fps string, ok bool) {
	ast.Inspect(body, func(n ast.Node) bool {
		c, isCall := n.(*ast.CallExpr)
		if !isCall || callName(c.Fun) != "utils.Validate" || len(c.Args) != 3 {
			return true
		}
		if id, isID := c.Args[1].(*ast.Ident); isID && id.Name != "nil" {
			tps = id.Name
		}
		if id, isID := c.Args[2].(*ast.Ident); isID && id.Name != "nil" {
			fps = id.Name
		}
		ok = true
		return false
	})
	return tps, fps, ok
}

func gitleaksRuleID(e *env, body *ast.BlockStmt) string {
	id := "?"
	ast.Inspect(body, func(n ast.Node) bool {
		kv, ok := n.(*ast.KeyValueExpr)
		if !ok {
			return true
		}
		if k, ok := kv.Key.(*ast.Ident); ok && k.Name == "RuleID" {
			if s, err := e.evalString(kv.Value); err == nil {
				id = s
			}
			return false
		}
		return true
	})
	return id
}

// addGitleaksHelpers models utils.GenerateSampleSecret(s) from the
// checkout's own generate.go: GenerateSampleSecret's format string and
// GenerateSampleSecrets' map of templates ({i}, {I}, {s}).
func addGitleaksHelpers(pkg *pkgScope, fset *token.FileSet, path string) error {
	f, err := parser.ParseFile(fset, path, nil, 0)
	if err != nil {
		return fmt.Errorf("gitleaks: %w", err)
	}
	var single string
	var templates []string
	for _, d := range f.Decls {
		fd, ok := d.(*ast.FuncDecl)
		if !ok || fd.Body == nil {
			continue
		}
		switch fd.Name.Name {
		case "GenerateSampleSecret":
			ast.Inspect(fd.Body, func(n ast.Node) bool {
				c, ok := n.(*ast.CallExpr)
				if ok && callName(c.Fun) == "fmt.Sprintf" && len(c.Args) > 0 {
					if s, err := newEnv(newPkgScope()).evalString(c.Args[0]); err == nil {
						single = s
					}
					return false
				}
				return true
			})
		case "GenerateSampleSecrets":
			ast.Inspect(fd.Body, func(n ast.Node) bool {
				cl, ok := n.(*ast.CompositeLit)
				if !ok {
					return true
				}
				if _, isMap := cl.Type.(*ast.MapType); !isMap {
					return true
				}
				e := newEnv(newPkgScope())
				for _, el := range cl.Elts {
					kv, ok := el.(*ast.KeyValueExpr)
					if !ok {
						continue
					}
					if s, err := e.evalString(kv.Value); err == nil {
						templates = append(templates, s)
					}
				}
				return false
			})
		}
	}
	if single == "" || len(templates) == 0 {
		return fmt.Errorf("gitleaks: %s: GenerateSampleSecret(s) not understood", path)
	}
	sort.Strings(templates)
	pkg.calls["utils.GenerateSampleSecret"] = func(args []value) (value, error) {
		if len(args) != 2 {
			return value{}, errUnsupported
		}
		return value{s: fmt.Sprintf(single, args[0].s, args[1].s)}, nil
	}
	pkg.calls["utils.GenerateSampleSecrets"] = func(args []value) (value, error) {
		if len(args) != 2 {
			return value{}, errUnsupported
		}
		r := strings.NewReplacer("{i}", args[0].s, "{I}", strings.ToUpper(args[0].s), "{s}", args[1].s)
		out := value{isList: true}
		for _, t := range templates {
			out.list = append(out.list, item{s: r.Replace(t)})
		}
		return out, nil
	}
	return nil
}

// gitleaksDetector builds gitleaks' detector from the checkout's generated
// config (config/gitleaks.toml), as `gitleaks --config` would.
func gitleaksDetector(path string) (*detect.Detector, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("gitleaks config: %w", err)
	}
	v := viper.New()
	v.SetConfigType("toml")
	if err := v.ReadConfig(bytes.NewReader(raw)); err != nil {
		return nil, fmt.Errorf("gitleaks config %s: %w", path, err)
	}
	var vc config.ViperConfig
	if err := v.Unmarshal(&vc); err != nil {
		return nil, fmt.Errorf("gitleaks config %s: %w", path, err)
	}
	cfg, err := vc.Translate()
	if err != nil {
		return nil, fmt.Errorf("gitleaks config %s: %w", path, err)
	}
	return detect.NewDetector(cfg), nil
}

// gitleaksSecrets returns the secrets gitleaks reports on text for rule
// ruleID, or for any rule when that rule reports none.
func gitleaksSecrets(det *detect.Detector, ruleID, text string) []string {
	var mine, any []string
	for _, f := range det.DetectString(text) {
		if f.Secret == "" {
			continue
		}
		any = append(any, f.Secret)
		if f.RuleID == ruleID {
			mine = append(mine, f.Secret)
		}
	}
	if len(mine) > 0 {
		return dedupe(mine)
	}
	return dedupe(any)
}

func dedupe(ss []string) []string {
	sort.Strings(ss)
	out := ss[:0]
	for i, s := range ss {
		if i == 0 || s != ss[i-1] {
			out = append(out, s)
		}
	}
	return out
}
