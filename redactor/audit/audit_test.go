package audit_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/flowmask/flowmask/redactor"
	"github.com/flowmask/flowmask/redactor/audit"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

func newAuditor(t testing.TB) *audit.Auditor {
	t.Helper()
	r, err := redactor.New(redactor.Config{})
	if err != nil {
		t.Fatal(err)
	}
	return audit.New(r)
}

// zipDir zips the files under dir (paths relative to dir, '/'-separated).
func zipDir(t testing.TB, dir string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		w, err := zw.Create(filepath.ToSlash(rel))
		if err != nil {
			return err
		}
		_, err = w.Write(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func mustRead(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// golden compares got with testdata/golden/name, rewriting it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	p := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.WriteFile(p, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want := mustRead(t, p)
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (run go test -update and review the diff)\ngot:\n%s", p, got)
	}
}

func findingsJSON(t *testing.T, fs []audit.Finding) []byte {
	t.Helper()
	if fs == nil {
		fs = []audit.Finding{}
	}
	b, err := json.MarshalIndent(fs, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

func TestGolden(t *testing.T) {
	a := newAuditor(t)
	tests := []struct {
		name   string // file name given to Audit
		data   []byte
		kind   audit.Kind
		golden string
	}{
		{"testdata/flows/consumption.json", mustRead(t, "testdata/flows/consumption.json"), audit.KindWorkflow, "consumption.json"},
		{"testdata/flows/OrderSync/workflow.json", mustRead(t, "testdata/flows/OrderSync/workflow.json"), audit.KindWorkflow, "standard.json"},
		{"testdata/flows/arm-template.json", mustRead(t, "testdata/flows/arm-template.json"), audit.KindARM, "arm-template.json"},
		{"testdata/flows/powerautomate-flow.json", mustRead(t, "testdata/flows/powerautomate-flow.json"), audit.KindFlow, "powerautomate-flow.json"},
		{"testdata/flows/clean.json", mustRead(t, "testdata/flows/clean.json"), audit.KindWorkflow, "clean.json"},
		{"testdata/flows/clean-powerautomate.json", mustRead(t, "testdata/flows/clean-powerautomate.json"), audit.KindFlow, "clean-powerautomate.json"},
		{"ContosoAuditLogs_1_0_0_3.zip", zipDir(t, "testdata/solution"), audit.KindSolution, "solution.json"},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			rep, err := a.Audit(context.Background(), tt.name, tt.data, audit.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if rep.Kind != tt.kind {
				t.Errorf("kind: got %v; want %v", rep.Kind, tt.kind)
			}
			if rep.Fixed != nil {
				t.Error("Fixed set without Options.Fix")
			}
			golden(t, tt.golden, findingsJSON(t, rep.Findings))
		})
	}
}

// TestAllowlistPaths checks that engine allowlist entries apply to audit
// findings by the value's path in the file (for parameters, the
// parameter's path).
func TestAllowlistPaths(t *testing.T) {
	data := mustRead(t, "testdata/flows/consumption.json")
	arm := mustRead(t, "testdata/flows/arm-template.json")
	tests := []struct {
		name  string
		file  string
		data  []byte
		allow redactor.Allow
		gone  string // the json_path whose hardcoded-secret finding must disappear
	}{
		{"action input", "consumption.json", data,
			redactor.Allow{Rule: "api-key", Path: "$.definition.actions.Scope_Orders.actions.Call_ERP.inputs.headers['x-api-key']"},
			"$.definition.actions.Scope_Orders.actions.Call_ERP.inputs.headers['x-api-key']"},
		{"glob", "consumption.json", data,
			redactor.Allow{Path: "$.definition.actions.*.actions.Call_ERP.inputs.headers**"},
			"$.definition.actions.Scope_Orders.actions.Call_ERP.inputs.headers['x-api-key']"},
		{"template variable", "arm.json", arm,
			redactor.Allow{Path: "$.variables.storageConnection"},
			"$.variables.storageConnection"},
		{"resource parameter value", "arm.json", arm,
			redactor.Allow{Path: "$.resources[0].properties.parameters.invoiceApiKey"},
			"$.resources[0].properties.parameters.invoiceApiKey.value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			has := func(a *audit.Auditor) bool {
				rep, err := a.Audit(context.Background(), tt.file, tt.data, audit.Options{})
				if err != nil {
					t.Fatal(err)
				}
				for _, f := range rep.Findings {
					if f.Rule == audit.RuleHardcodedSecret && f.Path == tt.gone {
						return true
					}
				}
				return false
			}
			if !has(newAuditor(t)) {
				t.Fatalf("no hardcoded-secret at %s without the allowlist", tt.gone)
			}
			r, err := redactor.New(redactor.Config{Allow: []redactor.Allow{tt.allow}})
			if err != nil {
				t.Fatal(err)
			}
			if has(audit.New(r)) {
				t.Errorf("allowlist %+v did not silence %s", tt.allow, tt.gone)
			}
		})
	}
}
