package redactor

import (
	"regexp/syntax"
	"testing"

	"github.com/flowmask/flowmask/patterns"
)

// TestRequiredBytesNeedNoSimplify checks that requiredBytes finds the same
// bytes in a parsed regex as in its simplified form (compile skips the
// costly Simplify), on every embedded rule and on counted repeats.
func TestRequiredBytesNeedNoSimplify(t *testing.T) {
	set, err := patterns.DefaultWith(patterns.Packs()...)
	if err != nil {
		t.Fatal(err)
	}
	exprs := []string{`a{2,5}b`, `(?:xy){0,3}z`, `(?i)Token{1}`, `q{0}r`, `(?:ab|ac){1,}`, `x?y*w+`}
	for _, r := range set.Rules {
		if r.Kind == patterns.KindRegex {
			exprs = append(exprs, r.Regex)
		}
	}
	for _, e := range exprs {
		re, err := syntax.Parse(e, syntax.Perl)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := requiredBytes(re), requiredBytes(re.Simplify()); got != want {
			t.Errorf("%s: required bytes %v, simplified %v", e, got, want)
		}
	}
}
