package main

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const auditTestdata = "../../redactor/audit/testdata"

// TestAuditCLI runs `flowmask audit` through the CLI's entry point.
func TestAuditCLI(t *testing.T) {
	t.Parallel()
	t.Run("exit codes", testAuditExitCodes)
	t.Run("json report", testAuditJSONReport)
	t.Run("sarif", testAuditSARIF)
	t.Run("fix", testAuditFix)
	t.Run("fix refuses to overwrite", testAuditFixRefusesToOverwrite)
}

// runAuditCLI runs the command line in process (see runBin).
func runAuditCLI(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	r := runBin(t, "", nil, args...)
	return r.stdout, r.stderr, r.code
}

// copyFile copies src to dir/name and returns the new path.
func auditCopyFile(t *testing.T, src, dir, name string) string {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return dst
}

// zipTree zips the files under dir into dst.
func auditZipTree(t *testing.T, dir, dst string) {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
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
	if err == nil {
		err = zw.Close()
	}
	if err == nil {
		err = os.WriteFile(dst, buf.Bytes(), 0o644)
	}
	if err != nil {
		t.Fatal(err)
	}
}

type auditJSONFinding struct {
	Rule     string `json:"rule"`
	Severity string `json:"severity"`
	File     string `json:"file"`
	Flow     string `json:"flow"`
	Action   string `json:"action"`
	Path     string `json:"json_path"`
	Message  string `json:"message"`
	Hint     string `json:"hint"`
	Fixable  bool   `json:"fixable"`
}

func auditDecodeFindings(t *testing.T, s string) []auditJSONFinding {
	t.Helper()
	var fs []auditJSONFinding
	if err := json.Unmarshal([]byte(s), &fs); err != nil {
		t.Fatalf("report is not a JSON array: %v\n%s", err, s)
	}
	return fs
}

func testAuditExitCodes(t *testing.T) {
	flows := filepath.Join(auditTestdata, "flows")
	rules := filepath.Join(auditTestdata, "rules")
	bad := filepath.Join(t.TempDir(), "broken.json")
	if err := os.WriteFile(bad, []byte(`{"definition":`), 0o644); err != nil {
		t.Fatal(err)
	}
	bigDir := t.TempDir()
	big := filepath.Join(bigDir, "export.json")
	if err := os.WriteFile(big, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(big, 65<<20); err != nil { // sparse: cheap to create
		t.Fatal(err)
	}
	allow := filepath.Join(bigDir, "allow.yaml")
	if err := os.WriteFile(allow, []byte("allow:\n  - rule: authorization\n    path: $.definition.actions.Call.inputs.headers.Authorization\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	known := filepath.Join(bigDir, "secrets.txt")
	if err := os.WriteFile(known, []byte("Pl41nT3xt-Known-Value\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	knownDef := filepath.Join(bigDir, "known.json")
	if err := os.WriteFile(knownDef, []byte(`{"definition":{"contentVersion":"1.0.0.0","triggers":{},"actions":{"Compose":{"type":"Compose","inputs":{"note":"ref Pl41nT3xt-Known-Value"}}}}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		give     []string
		wantCode int
		wantOut  string // substring of stdout
		wantErr  string // substring of stderr
	}{
		{name: "clean flow", give: []string{"--report", "json", filepath.Join(flows, "clean.json")}, wantCode: 0, wantOut: "[]"},
		{name: "clean flow table", give: []string{filepath.Join(flows, "clean.json")}, wantCode: 0, wantOut: "no findings"},
		{name: "findings", give: []string{filepath.Join(flows, "consumption.json")}, wantCode: 1, wantOut: "keyvault-output-not-secured"},
		{name: "warning only, fail on error", give: []string{"--fail-on", "error", filepath.Join(rules, "http-credentials-not-secured", "positive.json")}, wantCode: 0, wantOut: "http-credentials-not-secured"},
		{name: "warning only, default fail-on", give: []string{filepath.Join(rules, "http-credentials-not-secured", "positive.json")}, wantCode: 1},
		{name: "min severity filters", give: []string{"--report", "json", "--min-severity", "error", filepath.Join(rules, "http-credentials-not-secured", "positive.json")}, wantCode: 0, wantOut: "[]"},
		{name: "fail-on none", give: []string{"--fail-on", "none", filepath.Join(flows, "consumption.json")}, wantCode: 0},
		{name: "note hidden by default", give: []string{"--report", "json", filepath.Join(rules, "insecure-http-endpoint", "negative.json")}, wantCode: 0, wantOut: "[]"},
		{name: "directory walk", give: []string{flows}, wantCode: 1, wantErr: "skipped " + filepath.Join(flows, "notes.txt") + ": not a .json or .zip file"},
		{name: "unrecognised json named", give: []string{filepath.Join(flows, "package.json")}, wantCode: 2, wantErr: "not a workflow definition"},
		{name: "large json walked", give: []string{bigDir}, wantCode: 0, wantErr: "skipped " + big + ": JSON file larger than 64 MiB"},
		{name: "large json named", give: []string{big}, wantCode: 2, wantErr: "too large"},
		{name: "hardcoded secret", give: []string{"--report", "json", filepath.Join(rules, "hardcoded-secret", "positive.json")}, wantCode: 1, wantOut: `"hardcoded-secret"`},
		{name: "allowlisted by path", give: []string{"--report", "json", "--allowlist", allow, filepath.Join(rules, "hardcoded-secret", "positive.json")}, wantCode: 0, wantOut: "[]"},
		{name: "without known secret", give: []string{"--report", "json", knownDef}, wantCode: 0, wantOut: "[]"},
		{name: "known secret", give: []string{"--report", "json", "--secrets-file", known, knownDef}, wantCode: 1, wantOut: "known-secret rule"},
		{name: "missing path", give: []string{filepath.Join(flows, "nope.json")}, wantCode: 2},
		{name: "invalid json named", give: []string{bad}, wantCode: 2, wantErr: "parse JSON"},
		{name: "bad report", give: []string{"--report", "xml", flows}, wantCode: 2, wantErr: "--report"},
		{name: "bad severity", give: []string{"--min-severity", "info", flows}, wantCode: 2, wantErr: "--min-severity"},
		{name: "fix without out", give: []string{"--fix", flows}, wantCode: 2, wantErr: "--fix and --out"},
		{name: "no args", give: nil, wantCode: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := runAuditCLI(t, append([]string{"audit"}, tt.give...)...)
			if code != tt.wantCode {
				t.Errorf("exit code: got %d; want %d\nstdout: %s\nstderr: %s", code, tt.wantCode, out, errOut)
			}
			if !strings.Contains(out, tt.wantOut) {
				t.Errorf("stdout: got %q; want it to contain %q", out, tt.wantOut)
			}
			if !strings.Contains(errOut, tt.wantErr) {
				t.Errorf("stderr: got %q; want it to contain %q", errOut, tt.wantErr)
			}
		})
	}
}

func testAuditJSONReport(t *testing.T) {
	out, _, code := runAuditCLI(t, "audit", "--report", "json", filepath.Join(auditTestdata, "flows", "consumption.json"))
	if code != 1 {
		t.Fatalf("exit code %d; want 1", code)
	}
	fs := auditDecodeFindings(t, out)
	if len(fs) == 0 {
		t.Fatal("no findings")
	}
	for _, f := range fs {
		if f.Rule == "" || f.Severity == "" || f.File == "" || f.Flow != "consumption" || f.Path == "" || f.Message == "" || f.Hint == "" {
			t.Errorf("incomplete finding: %+v", f)
		}
		if f.Severity == "note" {
			t.Errorf("note reported at the default --min-severity: %+v", f)
		}
	}
	want := "$.definition.actions.Scope_Orders.actions.Call_ERP.inputs.headers['x-api-key']"
	found := false
	for _, f := range fs {
		found = found || (f.Rule == "hardcoded-secret" && f.Path == want && f.Action == "Call_ERP")
	}
	if !found {
		t.Errorf("no hardcoded-secret finding at %s", want)
	}
	// The secret itself never appears in the report.
	if strings.Contains(out, "3f9a1c0e5b7d4e2f8a6c1b3d5e7f9a0c") {
		t.Error("report contains the secret")
	}
}

func testAuditSARIF(t *testing.T) {
	out, _, code := runAuditCLI(t, "audit", "--report", "sarif", "--min-severity", "note", filepath.Join(auditTestdata, "flows"))
	if code != 1 {
		t.Fatalf("exit code %d; want 1", code)
	}
	var log struct {
		Schema  string `json:"$schema"`
		Version string `json:"version"`
		Runs    []struct {
			Tool struct {
				Driver struct {
					Name  string `json:"name"`
					Rules []struct {
						ID               string `json:"id"`
						ShortDescription struct {
							Text string `json:"text"`
						} `json:"shortDescription"`
					} `json:"rules"`
				} `json:"driver"`
			} `json:"tool"`
			Results []struct {
				RuleID  string `json:"ruleId"`
				Level   string `json:"level"`
				Message struct {
					Text string `json:"text"`
				} `json:"message"`
				Locations []struct {
					PhysicalLocation struct {
						ArtifactLocation struct {
							URI string `json:"uri"`
						} `json:"artifactLocation"`
					} `json:"physicalLocation"`
					LogicalLocations []struct {
						FullyQualifiedName string `json:"fullyQualifiedName"`
					} `json:"logicalLocations"`
				} `json:"locations"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal([]byte(out), &log); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	if log.Version != "2.1.0" || !strings.Contains(log.Schema, "sarif-2.1.0") {
		t.Errorf("version %q, $schema %q", log.Version, log.Schema)
	}
	if len(log.Runs) != 1 {
		t.Fatalf("got %d runs; want 1", len(log.Runs))
	}
	run := log.Runs[0]
	if run.Tool.Driver.Name != "flowmask" {
		t.Errorf("driver name %q", run.Tool.Driver.Name)
	}
	ruleIDs := map[string]bool{}
	for _, r := range run.Tool.Driver.Rules {
		if r.ShortDescription.Text == "" {
			t.Errorf("rule %s has no description", r.ID)
		}
		ruleIDs[r.ID] = true
	}
	levels := map[string]bool{}
	for _, r := range run.Results {
		if !ruleIDs[r.RuleID] {
			t.Errorf("result rule %q not in driver rules", r.RuleID)
		}
		if r.Level != "error" && r.Level != "warning" && r.Level != "note" {
			t.Errorf("level %q", r.Level)
		}
		levels[r.Level] = true
		if r.Message.Text == "" || len(r.Locations) != 1 || r.Locations[0].PhysicalLocation.ArtifactLocation.URI == "" ||
			len(r.Locations[0].LogicalLocations) != 1 || !strings.Contains(r.Locations[0].LogicalLocations[0].FullyQualifiedName, "$") {
			t.Errorf("incomplete result %+v", r)
		}
	}
	for _, l := range []string{"error", "warning", "note"} {
		if !levels[l] {
			t.Errorf("no result with level %s; the fixtures have all three", l)
		}
	}
}

func testAuditFix(t *testing.T) {
	src := t.TempDir()
	auditCopyFile(t, filepath.Join(auditTestdata, "flows", "consumption.json"), src, "flows/consumption.json")
	auditCopyFile(t, filepath.Join(auditTestdata, "flows", "clean.json"), src, "flows/clean.json")
	auditZipTree(t, filepath.Join(auditTestdata, "solution"), filepath.Join(src, "flows", "Contoso_1_0_0_3.zip"))
	before := auditSnapshot(t, src)
	out := filepath.Join(t.TempDir(), "fixed")

	_, errOut, code := runAuditCLI(t, "audit", "--report", "json", "--fix", "--out", out, filepath.Join(src, "flows"))
	if code != 1 {
		t.Fatalf("exit code %d; want 1 (findings before the fix)\n%s", code, errOut)
	}
	if after := auditSnapshot(t, src); !auditEqualSnap(before, after) {
		t.Fatal("--fix changed the originals")
	}
	if !strings.Contains(errOut, "Notify_partner: not fixed: the action has trackedProperties") {
		t.Errorf("stderr does not report the trackedProperties conflict:\n%s", errOut)
	}
	fixedJSON := filepath.Join(out, "flows", "consumption.json")
	data, err := os.ReadFile(fixedJSON)
	if err != nil {
		t.Fatal(err)
	}
	if !json.Valid(data) {
		t.Fatal("fixed file is not valid JSON")
	}
	if _, err := os.Stat(filepath.Join(out, "flows", "clean.json")); !os.IsNotExist(err) {
		t.Errorf("clean.json was copied though it needed no fix (stat: %v)", err)
	}
	// Re-audit: only findings --fix cannot address remain.
	stdout, _, _ := runAuditCLI(t, "audit", "--report", "json", fixedJSON)
	for _, f := range auditDecodeFindings(t, stdout) {
		if f.Fixable {
			t.Errorf("fixable finding left after --fix: %+v", f)
		}
	}
	var doc struct {
		Definition struct {
			Actions map[string]struct {
				RuntimeConfiguration struct {
					SecureData struct {
						Properties []string `json:"properties"`
					} `json:"secureData"`
				} `json:"runtimeConfiguration"`
			} `json:"actions"`
		} `json:"definition"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	if got := doc.Definition.Actions["Get_secret"].RuntimeConfiguration.SecureData.Properties; strings.Join(got, ",") != "inputs,outputs" {
		t.Errorf("Get_secret secureData: got %v; want [inputs outputs]", got)
	}
	if got := doc.Definition.Actions["Initialize_token"].RuntimeConfiguration.SecureData.Properties; len(got) != 0 {
		t.Errorf("a variable action got secureData %v; variables cannot be secured", got)
	}
	// The solution zip: rewritten with the fixed flow, other entries kept.
	zr, err := zip.OpenReader(filepath.Join(out, "flows", "Contoso_1_0_0_3.zip"))
	if err != nil {
		t.Fatalf("fixed solution: %v", err)
	}
	defer zr.Close()
	origZip, err := zip.OpenReader(filepath.Join(src, "flows", "Contoso_1_0_0_3.zip"))
	if err != nil {
		t.Fatal(err)
	}
	defer origZip.Close()
	if len(zr.File) != len(origZip.File) {
		t.Errorf("fixed zip has %d entries; want %d", len(zr.File), len(origZip.File))
	}
	secured := false
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		if strings.HasPrefix(f.Name, "Workflows/AdminAuditLogs") {
			if !json.Valid(b) {
				t.Errorf("%s: not valid JSON", f.Name)
			}
			secured = strings.Contains(string(b), `"secureData"`) && strings.Contains(string(b), `"Get_token"`)
		}
	}
	if !secured {
		t.Error("the solution's flow was not fixed")
	}
}

func testAuditFixRefusesToOverwrite(t *testing.T) {
	src := t.TempDir()
	auditCopyFile(t, filepath.Join(auditTestdata, "flows", "consumption.json"), src, "consumption.json")
	_, errOut, code := runAuditCLI(t, "audit", "--fix", "--out", src, filepath.Join(src, "consumption.json"))
	if code != 2 || !strings.Contains(errOut, "overwrite") {
		t.Errorf("got exit %d, stderr %q; want 2 and a refusal", code, errOut)
	}
}

func auditSnapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	m := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		m[p] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func auditEqualSnap(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
