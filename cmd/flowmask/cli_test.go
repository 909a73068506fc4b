package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRedactStdin: end to end, the built binary redacts its standard input
// to its standard output and exits 0.
func TestRedactStdin(t *testing.T) {
	prebuild()
	t.Parallel()
	res := runBinary(t, `{"user":"bob","password":"hunter22","code":"OK"}`, nil, "redact") // end to end: the built binary
	if res.code != 0 || res.stdout != `{"user":"bob","password":"[REDACTED:password]","code":"OK"}` {
		t.Errorf("redact: code %d out %q err %q", res.code, res.stdout, res.stderr)
	}
}

// TestRedactWorkers: NDJSON redacted on several workers, spanning many
// batches, comes out exactly as with one.
func TestRedactWorkers(t *testing.T) {
	t.Parallel()
	var in strings.Builder
	for i := 0; in.Len() < 3<<20; i++ {
		fmt.Fprintf(&in, `{"i":%d,"msg":"auth token validated","password":"hunter%d","etag":"\"0x8D%d\""}`+"\n", i, i, i)
	}
	one := runBin(t, in.String(), nil, "redact", "--workers", "1")
	four := runBin(t, in.String(), nil, "redact", "--workers", "4")
	if one.code != 0 || four.code != 0 {
		t.Fatalf("exit codes %d and %d: %s %s", one.code, four.code, one.stderr, four.stderr)
	}
	if one.stdout != four.stdout {
		t.Fatal("output with 4 workers differs from output with 1")
	}
	if strings.Contains(four.stdout, "hunter1") || strings.Count(four.stdout, "\n") != strings.Count(in.String(), "\n") {
		t.Error("a password survived, or lines were lost")
	}
}

func TestRedactKnownSecrets(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	sf := filepath.Join(dir, "secrets.txt")
	os.WriteFile(sf, []byte("file-secret-value-1\nshort\n"), 0o600)
	res := runBin(t, "a file-secret-value-1 b env-secret-value-2 c", []string{"MY_SECRET=env-secret-value-2"},
		"redact", "--format", "text", "--secrets-file", sf, "--secret-env", "MY_SECRET")
	if res.code != 0 || res.stdout != "a [REDACTED:known-secret] b [REDACTED:known-secret] c" {
		t.Errorf("code %d out %q", res.code, res.stdout)
	}
	// The short value is skipped with a warning that names its source, not the value.
	if !strings.Contains(res.stderr, sf+":2") || strings.Contains(res.stderr, "short") && strings.Contains(res.stderr, "\"short\"") {
		t.Errorf("warning: %q", res.stderr)
	}
	if strings.Contains(res.stderr, "file-secret-value-1") {
		t.Errorf("stderr leaks a secret: %q", res.stderr)
	}
	if res := runBin(t, "", nil, "redact", "--secret-env", "FLOWMASK_TEST_UNSET_VAR"); res.code != 2 {
		t.Errorf("unset --secret-env: code %d", res.code)
	}
}

func TestRedactOutDir(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	in := filepath.Join(dir, "in")
	out := filepath.Join(dir, "out")
	os.Mkdir(in, 0o755)
	os.WriteFile(filepath.Join(in, "run.json"), []byte(`{"sig":"abcdef123456"}`), 0o644)
	os.WriteFile(filepath.Join(in, "app.log"), []byte("password=hunter22\n"), 0o644)
	res := runBin(t, "", nil, "redact", "--out-dir", out, filepath.Join(in, "run.json"), filepath.Join(in, "app.log"))
	if res.code != 0 {
		t.Fatalf("code %d: %s", res.code, res.stderr)
	}
	got, _ := os.ReadFile(filepath.Join(out, "run.json"))
	if string(got) != `{"sig":"[REDACTED:azure-sas-signature]"}` {
		t.Errorf("run.json: %s", got)
	}
	got, _ = os.ReadFile(filepath.Join(out, "app.log"))
	if !strings.HasPrefix(string(got), "password=[REDACTED:") {
		t.Errorf("app.log: %s", got)
	}
	ents, _ := os.ReadDir(out)
	if len(ents) != 2 {
		t.Errorf("out dir holds %d entries (temporary files left?)", len(ents))
	}
	// Refuse to overwrite the input.
	res = runBin(t, "", nil, "redact", "--out-dir", in, filepath.Join(in, "app.log"))
	if res.code != 2 || !strings.Contains(res.stderr, "overwrite") {
		t.Errorf("overwrite: code %d err %q", res.code, res.stderr)
	}
	if b, _ := os.ReadFile(filepath.Join(in, "app.log")); string(b) != "password=hunter22\n" {
		t.Errorf("input changed: %q", b)
	}
	// A missing input is an I/O error.
	if res := runBin(t, "", nil, "redact", filepath.Join(dir, "nope.json")); res.code != 2 {
		t.Errorf("missing file: code %d", res.code)
	}
}

func TestRedactHashMask(t *testing.T) {
	t.Parallel()
	if res := runBin(t, "password=x1", []string{"FLOWMASK_HASH_KEY="}, "redact", "--mask", "hash"); res.code != 2 || !strings.Contains(res.stderr, "FLOWMASK_HASH_KEY") {
		t.Errorf("no key: code %d err %q", res.code, res.stderr)
	}
	res := runBin(t, "password=hunter22", []string{"FLOWMASK_HASH_KEY=k3y-for-tests-only"}, "redact", "--mask", "hash", "--format", "text")
	if res.code != 0 || !strings.HasPrefix(res.stdout, "password=[REDACTED:password:") || len(res.stdout) != len("password=[REDACTED:password:12345678]") {
		t.Errorf("hash: code %d out %q", res.code, res.stdout)
	}
}

func TestScanExitCodesAndReports(t *testing.T) {
	t.Parallel()
	if res := runBin(t, `{"msg":"all good","code":"OK"}`, nil, "scan"); res.code != 0 || !strings.Contains(res.stdout, "no secrets") {
		t.Errorf("clean: code %d out %q", res.code, res.stdout)
	}
	in := "{\n \"password\": \"hunter22\"\n}"
	res := runBin(t, in, nil, "scan", "--report", "json")
	if res.code != 1 {
		t.Fatalf("findings: code %d err %q", res.code, res.stderr)
	}
	if strings.Contains(res.stdout, "hunter22") {
		t.Errorf("report leaks the secret: %s", res.stdout)
	}
	var fs []map[string]any
	if err := json.Unmarshal([]byte(res.stdout), &fs); err != nil || len(fs) != 1 {
		t.Fatalf("json report: %v %s", err, res.stdout)
	}
	if fs[0]["rule"] != "password" || fs[0]["line"] != float64(2) || fs[0]["json_path"] != "$.password" || fs[0]["file"] != "-" {
		t.Errorf("finding: %v", fs[0])
	}
	res = runBin(t, in, nil, "scan", "--report", "sarif")
	var sarif struct {
		Version string `json:"version"`
		Schema  string `json:"$schema"`
		Runs    []struct {
			Tool struct {
				Driver struct {
					Name  string `json:"name"`
					Rules []struct {
						ID string `json:"id"`
					} `json:"rules"`
				} `json:"driver"`
			} `json:"tool"`
			Results []struct {
				RuleID    string `json:"ruleId"`
				Level     string `json:"level"`
				Locations []struct {
					PhysicalLocation struct {
						Region struct {
							StartLine int `json:"startLine"`
						} `json:"region"`
					} `json:"physicalLocation"`
				} `json:"locations"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal([]byte(res.stdout), &sarif); err != nil {
		t.Fatal(err)
	}
	if res.code != 1 || sarif.Version != "2.1.0" || sarif.Schema == "" || len(sarif.Runs) != 1 || sarif.Runs[0].Tool.Driver.Name != "flowmask" ||
		len(sarif.Runs[0].Results) != 1 || sarif.Runs[0].Results[0].RuleID != "password" || sarif.Runs[0].Results[0].Locations[0].PhysicalLocation.Region.StartLine != 2 ||
		len(sarif.Runs[0].Tool.Driver.Rules) != 1 {
		t.Errorf("sarif: code %d %+v", res.code, sarif)
	}
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "runs", ".git"), 0o755)
	os.WriteFile(filepath.Join(dir, "runs", "a.json"), []byte(`{"password":"hunter22"}`), 0o644)
	os.WriteFile(filepath.Join(dir, "runs", ".git", "b.json"), []byte(`{"password":"hunter22"}`), 0o644)
	if res := runBin(t, "", nil, "scan", dir); res.code != 1 || strings.Contains(res.stdout, "b.json") || !strings.Contains(res.stdout, "a.json:1:") {
		t.Errorf("scan dir: code %d out %q", res.code, res.stdout)
	}
	if res := runBin(t, "", nil, "scan", "--report", "xml"); res.code != 2 {
		t.Errorf("bad report: code %d", res.code)
	}
}

func TestRulesCommands(t *testing.T) {
	t.Parallel()
	res := runBin(t, "", nil, "rules", "list")
	if res.code != 0 || !strings.Contains(res.stdout, "password") || !strings.Contains(res.stdout, "known-secret") {
		t.Errorf("rules list: code %d", res.code)
	}
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	os.WriteFile(good, []byte(`rules:
  - id: acme-api-key
    description: ACME API key
    regex: '\bacme_[a-z0-9]{24}\b'
    keywords: [acme_]
    examples: ['key=acme_0123456789abcdefghijklmn']
    negative_examples: ['acme_short']
`), 0o644)
	if res := runBin(t, "", nil, "rules", "test", good); res.code != 0 || !strings.Contains(res.stdout, "0 failed") {
		t.Errorf("rules test good: code %d out %s", res.code, res.stdout)
	}
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte(`rules:
  - id: acme-api-key
    description: ACME API key
    regex: '\bacme_[a-z0-9]{24}\b'
    keywords: [acme_]
    examples: ['no key here']
`), 0o644)
	if res := runBin(t, "", nil, "rules", "test", bad); res.code != 1 || !strings.Contains(res.stdout, "FAIL") {
		t.Errorf("rules test bad: code %d out %s", res.code, res.stdout)
	}
	broken := filepath.Join(dir, "broken.yaml")
	os.WriteFile(broken, []byte("rules:\n  - id: x\n    descripton: typo\n"), 0o644)
	if res := runBin(t, "", nil, "redact", "--rules", broken); res.code != 2 || !strings.Contains(res.stderr, `broken.yaml:3: rules[0].descripton: unknown key (did you mean "description"?)`) {
		t.Errorf("broken rules: code %d err %q", res.code, res.stderr)
	}
	// A user rule is used by redact.
	res = runBin(t, "token acme_0123456789abcdefghijklmn", nil, "redact", "--rules", good, "--format", "text")
	if res.stdout != "token [REDACTED:acme-api-key]" {
		t.Errorf("user rule: %q %s", res.stdout, res.stderr)
	}
}

func TestHelpHasExamples(t *testing.T) {
	t.Parallel()
	for _, c := range []string{"redact", "scan", "rules"} {
		res := runBin(t, "", nil, c, "--help")
		if res.code != 0 || !strings.Contains(res.stdout, "flowmask") {
			t.Errorf("%s --help: code %d", c, res.code)
		}
	}
	if res := runBin(t, "", nil, "version"); res.code != 0 || !strings.HasPrefix(res.stdout, "flowmask ") {
		t.Errorf("version: %q", res.stdout)
	}
}
