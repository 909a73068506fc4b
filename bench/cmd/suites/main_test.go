package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/flowmask/flowmask/redactor"
)

// writeTree writes files (path -> content) under a new temporary directory.
func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for p, c := range files {
		full := filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// The fixtures below are written for this test in each suite's layout;
// they hold no third-party example.

func TestLoadGitleaksLayout(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"cmd/generate/config/utils/generate.go": `package utils
func GenerateSampleSecret(identifier string, secret string) string {
	return fmt.Sprintf("%s_api_token = \"%s\"", identifier, secret)
}
func GenerateSampleSecrets(identifier string, secret string) []string {
	samples := map[string]string{
		"a": "{i}Token={s}",
		"b": "{I}_TOKEN := \"{s}\"",
	}
	return nil
}`,
		"cmd/generate/config/rules/acme.go": `package rules
func Acme() *config.Rule {
	r := config.Rule{RuleID: "acme-token", Regex: regexp.MustCompile("acme_[a-z0-9]{20}")}
	tps := utils.GenerateSampleSecrets("acme", "acme_q8zr2mk4vt9xlp3nw7bc")
	tps = append(tps, ` + "`" + `token: acme_` + "` + " + `"j5hd8wq2zm6tk1rv9xpn"` + `, secrets.NewSecret("x"))
	fps := []string{"acme_xxxxxxxxxxxxxxxxxxxx is a placeholder"}
	return utils.Validate(r, tps, fps)
}`,
		"config/gitleaks.toml": `title = "test"
[[rules]]
id = "acme-token"
regex = '''acme_[a-z0-9]{20}'''
keywords = ["acme_"]
`,
	})
	s, err := loadGitleaks(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.positives) != 3 || len(s.negatives) != 1 || s.skipped[errGenerated.Error()] != 1 {
		t.Fatalf("positives %d, negatives %d, skipped %v; want 3, 1, 1 generated", len(s.positives), len(s.negatives), s.skipped)
	}
	want := map[string]bool{"acmeToken=acme_q8zr2mk4vt9xlp3nw7bc": true, `ACME_TOKEN := "acme_q8zr2mk4vt9xlp3nw7bc"`: true, "token: acme_j5hd8wq2zm6tk1rv9xpn": true}
	for _, p := range s.positives {
		if !want[p.text] || len(p.secrets) != 1 || p.where != "acme.go acme-token" {
			t.Errorf("positive %+v", p)
		}
	}
}

func TestLoadTrufflehogLayout(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"pkg/detectors/acme/acme_test.go": `package acme
import "fmt"
var (
	validKey = "Zq8vT2mLx9Rk4Wp7Nc3BdF"
	validID  = "u-4471"
	keyword  = "acme"
)
func TestAcme_Pattern(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  []string
	}{
		{name: "valid", input: fmt.Sprintf("%s key = '%s' id = '%s'", keyword, validKey, validID), want: []string{validKey + validID}},
		{name: "invalid", input: fmt.Sprintf("%s key = '%s'", keyword, "short"), want: nil},
		{name: "unsupported", input: strings.Map(nil, "x"), want: nil},
	}
	_ = tests
}`,
		"pkg/detectors/acme/acme_integration_test.go": `package acme
func TestAcme_Pattern(t *testing.T) { _ = []struct{input string; want []string}{{input: "never read", want: []string{"x"}}} }`,
	})
	s, err := loadTrufflehog(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.positives) != 1 || len(s.negatives) != 1 || len(s.skipWhere) != 1 {
		t.Fatalf("positives %d, negatives %d, skipped %v", len(s.positives), len(s.negatives), s.skipWhere)
	}
	// The joined credential stands for its longest part, the key.
	if p := s.positives[0]; len(p.secrets) != 1 || p.secrets[0] != "Zq8vT2mLx9Rk4Wp7Nc3BdF" {
		t.Errorf("secrets %q", p.secrets)
	}
}

func TestLoadDetectSecretsLayout(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"tests/plugins/acme_test.py": `import pytest
SECRET = 'Zq8vT2mLx9Rk4Wp7'

class TestAcme:
    @pytest.mark.parametrize(
        'line, should_flag',
        [
            ('acme_key = "{}"'.format(SECRET), True),
            ("password: '" + SECRET + "'", SECRET),
            ('nothing to see here', False),
            (f'{SECRET}', True),
            ("'{secret}'", True),
        ],
    )
    def test_analyze(self, line, should_flag):
        pass
`,
	})
	s, err := loadDetectSecrets(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.positives) != 2 || len(s.negatives) != 1 || len(s.skipWhere) != 2 {
		t.Fatalf("positives %+v, negatives %+v, skipped %v", s.positives, s.negatives, s.skipWhere)
	}
	for _, p := range s.positives {
		if p.secrets[0] != "Zq8vT2mLx9Rk4Wp7" {
			t.Errorf("positive %+v", p)
		}
	}
}

func TestMeasureCounts(t *testing.T) {
	r, err := redactor.New(redactor.Config{})
	if err != nil {
		t.Fatal(err)
	}
	s := &suite{
		positives: []example{
			{text: `password = "Qm4!zr-Ty8wL"`, secrets: []string{"Qm4!zr-Ty8wL"}},
			{text: "nothing here Qm4zrTy8wL", secrets: []string{"Qm4zrTy8wL"}},
		},
		negatives: []example{{text: "hello world"}, {text: "password = Hx7vQ2mLz9Kp", disputed: true}},
	}
	res := measure(r, nil, s)
	if res.found != 1 || len(res.misses) != 1 || res.kept != 1 || res.undisputed != 1 || res.keptUndisputed != 1 || res.named != 1 {
		t.Errorf("result %+v", res)
	}
}
