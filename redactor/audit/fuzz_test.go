package audit_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowmask/flowmask/redactor/audit"
)

// FuzzAudit feeds arbitrary documents to the definition walker: no panic,
// and a fixed document is valid JSON that audits again without error.
func FuzzAudit(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/flows/*.json")
	rules, _ := filepath.Glob("testdata/rules/*/*.json")
	for _, p := range append(append(seeds, rules...), "testdata/flows/OrderSync/workflow.json") {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(`{"definition":{"actions":{"a":{"type":"Http","inputs":{"uri":"@{","headers":{"x":"@@{'}"}}}}}}`))
	f.Add([]byte(`{"resources":[{"type":"Microsoft.Logic/workflows","name":"[","properties":{"definition":{"triggers":{}}}}]}`))
	a := newAuditor(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		rep, err := a.Audit(context.Background(), "fuzz.json", data, audit.Options{Fix: true})
		if err != nil {
			return
		}
		if rep.Fixed == nil {
			return
		}
		if !json.Valid(rep.Fixed) {
			t.Fatalf("fixed output is not valid JSON: %s", rep.Fixed)
		}
		if _, err := a.Audit(context.Background(), "fuzz.json", rep.Fixed, audit.Options{}); err != nil {
			t.Fatalf("fixed output does not audit: %v", err)
		}
	})
}

func TestFixSolution(t *testing.T) {
	a := newAuditor(t)
	data := zipDir(t, "testdata/solution")
	rep, err := a.Audit(context.Background(), "sol.zip", data, audit.Options{Fix: true})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Fixed == nil || len(rep.Changes) == 0 {
		t.Fatal("nothing fixed")
	}
	zr, err := zip.NewReader(bytes.NewReader(rep.Fixed), int64(len(rep.Fixed)))
	if err != nil {
		t.Fatal(err)
	}
	orig, _ := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if len(zr.File) != len(orig.File) {
		t.Fatalf("got %d entries; want %d", len(zr.File), len(orig.File))
	}
	after, err := a.Audit(context.Background(), "sol.zip", rep.Fixed, audit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range after.Findings {
		if f.Fixable {
			t.Errorf("fixable finding left: %+v", f)
		}
	}
	if len(after.Findings) != len(rep.Findings)-len(rep.Changes) {
		t.Errorf("got %d findings after the fix; want %d", len(after.Findings), len(rep.Findings)-len(rep.Changes))
	}
	for i, f := range zr.File {
		if f.Name != orig.File[i].Name {
			t.Errorf("entry %d: got %s; want %s", i, f.Name, orig.File[i].Name)
		}
	}
}

func TestNotRecognised(t *testing.T) {
	a := newAuditor(t)
	for _, give := range []string{`{"name":"pkg","version":"1.0.0"}`, `[1,2,3]`, `hello`, ``, `{"resources":[{"type":"Microsoft.Storage/storageAccounts"}]}`} {
		rep, err := a.Audit(context.Background(), "x.json", []byte(give), audit.Options{})
		if err != nil {
			t.Errorf("%q: %v", give, err)
			continue
		}
		if rep.Kind != audit.KindNone || len(rep.Findings) != 0 {
			t.Errorf("%q: got kind %v, %d findings; want none", give, rep.Kind, len(rep.Findings))
		}
	}
	if _, err := a.Audit(context.Background(), "x.json", []byte(`{"definition":`), audit.Options{}); err == nil || !strings.Contains(err.Error(), "x.json") {
		t.Errorf("invalid JSON: got %v; want an error naming the file", err)
	}
}

// TestExpressions checks that references are not secrets but literal text
// around them is scanned.
func TestExpressions(t *testing.T) {
	a := newAuditor(t)
	wrap := func(auth string) []byte {
		b, _ := json.Marshal(auth)
		return []byte(`{"definition":{"contentVersion":"1.0.0.0","triggers":{},"actions":{"Call":{"type":"Http","inputs":{"uri":"https://x.example","headers":{"Authorization":` + string(b) + `}},"runtimeConfiguration":{"secureData":{"properties":["inputs"]}}}}}}`)
	}
	tests := []struct {
		give string
		want bool // hardcoded-secret expected
	}{
		{"@body('Get_secret')?['value']", false},
		{"Bearer @{body('Get_secret')?['value']}", false},
		{"Basic @{base64(concat(parameters('user'), ':', parameters('pwd')))}", false},
		{"@{parameters('scheme')} @{parameters('token')}", false},
		{"Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U", true},
		{"@@Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U", true},
		{"Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U@{''}", true},
	}
	for _, tt := range tests {
		rep, err := a.Audit(context.Background(), "x.json", wrap(tt.give), audit.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if got := countRule(rep.Findings, audit.RuleHardcodedSecret) > 0; got != tt.want {
			t.Errorf("%q: hardcoded-secret %v; want %v", tt.give, got, tt.want)
		}
	}
}
