package audit_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/flowmask/flowmask/redactor/audit"
)

// ruleFixtures returns testdata/rules/<id>/<which>*.json, and the
// directory <which>/ zipped as a solution export; at least one is required.
func ruleFixtures(t *testing.T, id, which string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	base := filepath.Join("testdata", "rules", id, which)
	if st, err := os.Stat(base); err == nil && st.IsDir() {
		out[base+".zip"] = zipDir(t, base)
	}
	names, _ := filepath.Glob(base + "*.json")
	for _, name := range names {
		out[name] = mustRead(t, name)
	}
	if len(out) == 0 {
		t.Fatalf("rule %s has no %s fixture", id, which)
	}
	return out
}

func countRule(fs []audit.Finding, id string) int {
	n := 0
	for _, f := range fs {
		if f.Rule == id {
			n++
		}
	}
	return n
}

// TestRuleFixtures runs every rule's positive fixture (the rule must fire)
// and negative fixture (it must not).
func TestRuleFixtures(t *testing.T) {
	a := newAuditor(t)
	for _, r := range audit.Rules() {
		t.Run(r.ID, func(t *testing.T) {
			for name, data := range ruleFixtures(t, r.ID, "positive") {
				rep, err := a.Audit(context.Background(), name, data, audit.Options{})
				if err != nil {
					t.Fatal(err)
				}
				if countRule(rep.Findings, r.ID) == 0 {
					t.Errorf("%s: got no %s finding; findings: %+v", name, r.ID, rep.Findings)
				}
				for _, f := range rep.Findings {
					if f.Rule == r.ID && (f.Severity == 0 || f.Message == "" || f.Hint == "" || f.Path == "" || f.Flow == "") {
						t.Errorf("%s: incomplete finding %+v", name, f)
					}
				}
			}
			for name, data := range ruleFixtures(t, r.ID, "negative") {
				rep, err := a.Audit(context.Background(), name, data, audit.Options{})
				if err != nil {
					t.Fatal(err)
				}
				if rep.Kind == audit.KindNone {
					t.Fatalf("%s: fixture not recognised", name)
				}
				if n := countRule(rep.Findings, r.ID); n != 0 {
					t.Errorf("%s: got %d %s findings: %+v", name, n, r.ID, rep.Findings)
				}
			}
		})
	}
}

// TestFixResolves fixes each positive fixture and audits the result again:
// every finding marked fixable must be gone, the rest must remain, and the
// output must be valid JSON (or a readable zip).
func TestFixResolves(t *testing.T) {
	a := newAuditor(t)
	cases := []string{"testdata/flows/consumption.json", "testdata/flows/OrderSync/workflow.json",
		"testdata/flows/arm-template.json", "testdata/flows/powerautomate-flow.json"}
	more, _ := filepath.Glob("testdata/rules/*/positive*.json")
	cases = append(cases, more...)
	for _, name := range cases {
		data := mustRead(t, name)
		t.Run(name, func(t *testing.T) {
			before, err := a.Audit(context.Background(), name, data, audit.Options{Fix: true})
			if err != nil {
				t.Fatal(err)
			}
			fixable := 0
			for _, f := range before.Findings {
				if f.Fixable {
					fixable++
				}
			}
			if (fixable > 0) != (before.Fixed != nil) || len(before.Changes) != fixable {
				t.Fatalf("%d fixable findings, %d changes, fixed output %v", fixable, len(before.Changes), before.Fixed != nil)
			}
			if before.Fixed == nil {
				return
			}
			if !json.Valid(before.Fixed) {
				t.Fatal("fixed output is not valid JSON")
			}
			after, err := a.Audit(context.Background(), name, before.Fixed, audit.Options{})
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range after.Findings {
				if f.Fixable {
					t.Errorf("still fixable after --fix: %+v", f)
				}
			}
			if want := len(before.Findings) - fixable; len(after.Findings) != want {
				t.Errorf("after fix: got %d findings; want %d (the unfixable ones): %+v", len(after.Findings), want, after.Findings)
			}
			var orig, fixed any
			_ = json.Unmarshal(data, &orig)
			_ = json.Unmarshal(before.Fixed, &fixed)
			if stripSecure(orig) == nil || !jsonEqual(stripSecure(orig), stripSecure(fixed)) {
				t.Error("fix changed more than runtimeConfiguration.secureData")
			}
		})
	}
}

// stripSecure removes every secureData object (and runtimeConfiguration
// objects left empty) so that original and fixed documents compare equal.
func stripSecure(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, e := range x {
			if k == "secureData" {
				continue
			}
			e = stripSecure(e)
			if m, ok := e.(map[string]any); ok && k == "runtimeConfiguration" && len(m) == 0 {
				continue
			}
			out[k] = e
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = stripSecure(e)
		}
		return out
	}
	return v
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}
