package redactor_test

import (
	"strings"
	"sync"
	"testing"

	"github.com/flowmask/flowmask/patterns"
	"github.com/flowmask/flowmask/redactor"
)

// defaultExamples returns every example and negative example of the
// embedded rules, with the pii pack.
func defaultExamples(t *testing.T) (*patterns.Set, []string) {
	t.Helper()
	set, err := patterns.DefaultWith(patterns.Packs()...)
	if err != nil {
		t.Fatal(err)
	}
	var ex []string
	for _, r := range set.Rules {
		ex = append(ex, r.Examples...)
		ex = append(ex, r.NegativeExamples...)
	}
	if len(ex) < 100 {
		t.Fatalf("only %d examples", len(ex))
	}
	return set, ex
}

// TestSharedCompiledMatchesNew checks that Redactors sharing one Compiled,
// used from many goroutines at once while their regexps are compiled on
// first use, redact every rule example exactly as a Redactor built by New.
// Run with -race.
func TestSharedCompiledMatchesNew(t *testing.T) {
	set, examples := defaultExamples(t)
	ref, err := redactor.New(redactor.Config{Rules: set})
	if err != nil {
		t.Fatal(err)
	}
	want := make([]string, len(examples))
	for i, ex := range examples {
		want[i] = ref.String(ex)
	}
	c, err := redactor.Compile(set, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(c.Rules(), ","), strings.Join(ref.Rules(), ","); got != want {
		t.Fatalf("Compiled.Rules() = %s, want %s", got, want)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		r, err := redactor.NewFromCompiled(c, redactor.Config{})
		if err != nil {
			t.Fatal(err)
		}
		wg.Go(func() {
			// Each goroutine starts elsewhere, so first uses race.
			for k := range examples {
				i := (k + g*len(examples)/8) % len(examples)
				if got := r.String(examples[i]); got != want[i] {
					t.Errorf("example %d: shared Compiled gives %q, New gives %q", i, got, want[i])
				}
			}
		})
	}
	wg.Wait()
}

// TestNewFromCompiledRefusesRulesAndAllow checks that rules and allowlist
// cannot be given twice (they are part of the Compiled), and that the
// other settings are checked as New checks them.
func TestNewFromCompiledRefusesRulesAndAllow(t *testing.T) {
	c, err := redactor.Compile(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	set, err := patterns.Default()
	if err != nil {
		t.Fatal(err)
	}
	for name, cfg := range map[string]redactor.Config{
		"rules":        {Rules: set},
		"allow":        {Allow: []redactor.Allow{{Rule: "password"}}},
		"hash, no key": {Mask: redactor.MaskHash},
	} {
		if _, err := redactor.NewFromCompiled(c, cfg); err == nil {
			t.Errorf("%s: NewFromCompiled accepted it", name)
		}
	}
	if _, err := redactor.NewFromCompiled(nil, redactor.Config{}); err == nil {
		t.Error("NewFromCompiled(nil) accepted")
	}
	r, err := redactor.NewFromCompiled(c, redactor.Config{Literals: []redactor.Literal{{Source: "test", Value: "kq7Vt2mXr9LpZ4wN"}}})
	if err != nil {
		t.Fatal(err)
	}
	if got := r.String("seen kq7Vt2mXr9LpZ4wN here"); strings.Contains(got, "kq7Vt2mXr9LpZ4wN") {
		t.Errorf("known value not masked: %q", got)
	}
}

// TestCompileRejectsBadRegex checks that a regex that does not compile is
// refused when the rules are compiled, though regexps are compiled lazily.
func TestCompileRejectsBadRegex(t *testing.T) {
	set := &patterns.Set{}
	if err := set.Add(patterns.Rule{ID: "bad-one", Kind: patterns.KindRegex, Regex: `acme_(?P<secret>[a-z]{8}`, Keywords: []string{"acme_"}, Source: "t.yaml:1"}); err != nil {
		t.Fatal(err)
	}
	_, err := redactor.Compile(set, nil)
	if err == nil || !strings.Contains(err.Error(), "bad-one") || !strings.Contains(err.Error(), "missing closing )") {
		t.Fatalf("Compile error = %v, want one naming the rule and the regex error", err)
	}
}

// TestDefaultSetsAreIndependent checks that the embedded rules, parsed once
// per process, come back as independent Sets: extending or narrowing one
// leaves the next untouched.
func TestDefaultSetsAreIndependent(t *testing.T) {
	a, err := patterns.Default()
	if err != nil {
		t.Fatal(err)
	}
	n := len(a.Rules)
	if err := a.Add(patterns.Rule{ID: "extra-rule-for-test", Kind: patterns.KindKeyName, Names: []string{"extra_for_test"}}); err != nil {
		t.Fatal(err)
	}
	a.Rules[0].ID = "changed-for-test"
	b, err := patterns.Default()
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Rules) != n || b.Rules[0].ID == "changed-for-test" {
		t.Fatalf("second Default() sees the first caller's changes: %d rules (want %d), first %q", len(b.Rules), n, b.Rules[0].ID)
	}
}
