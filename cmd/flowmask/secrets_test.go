package main

import (
	"context"
	"encoding/pem"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/flowmask/flowmask/redactor/secrets/kvfake"
)

// fakeVault serves a fake Key Vault on loopback TLS and returns its URL and
// the environment that lets the real binary reach it: a static token and
// the server's certificate as SSL_CERT_FILE. No azidentity credential is
// ever built.
func fakeVault(t *testing.T, token string, secrets map[string]string) (string, []string) {
	t.Helper()
	v := kvfake.New("pipeline-token")
	for k, val := range secrets {
		v.Set(k, val)
	}
	srv := v.Start(t)
	cert := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	return srv.URL, []string{"FLOWMASK_KEYVAULT_TOKEN=" + token, "SSL_CERT_FILE=" + cert, "SSL_CERT_DIR=" + t.TempDir()}
}

func TestSecretsCheckConfig(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	envFile := filepath.Join(dir, "app.env")
	os.WriteFile(envFile, []byte("DB_PASSWORD=dotenv-password-123\nAPI_KEY='dotenv-api-key-456'\nPIN=1234\n"), 0o600)
	mount := filepath.Join(dir, "mount")
	os.Mkdir(mount, 0o700)
	os.WriteFile(filepath.Join(mount, "token"), []byte("mounted-token-value-789\n"), 0o600)
	vault, env := fakeVault(t, "pipeline-token", map[string]string{"app-a": "vault-value-aaaaaaaa", "app-b": "vault-value-bbbbbbbb"})
	cfg := filepath.Join(dir, "flowmask.yaml")
	os.WriteFile(cfg, []byte(`# other features' keys are ignored
listen: 127.0.0.1:8443
routes:
  - name: logs
    upstream: https://example.invalid
secrets:
  env: [CHECK_SECRET]
  env_prefix: [CHECK_PREFIX_]
  dotenv: [`+envFile+`]
  dirs: [`+mount+`]
  keyvaults:
    - url: `+vault+`
  refresh: 10m
  grace: 1h
`), 0o600)
	env = append(env, "CHECK_SECRET=env-secret-value-1", "CHECK_PREFIX_A=env-prefix-value-2")
	res := runBin(t, "", env, "secrets", "check", "--config", cfg)
	if res.code != 0 {
		t.Fatalf("code %d\nstdout %s\nstderr %s", res.code, res.stdout, res.stderr)
	}
	for _, want := range []string{
		`(?m)^env\s+1\s+0\s+ok$`,
		`(?m)^env_prefix:CHECK_PREFIX_\s+1\s+0\s+ok$`,
		`(?m)^dotenv:` + regexp.QuoteMeta(envFile) + `\s+2\s+1\s+ok$`,
		`(?m)^dir:` + regexp.QuoteMeta(mount) + `\s+1\s+0\s+ok$`,
		`(?m)^keyvault:` + regexp.QuoteMeta(vault) + `\s+2\s+0\s+ok$`,
		`(?m)^7 known values in the set$`,
	} {
		if !regexp.MustCompile(want).MatchString(res.stdout) {
			t.Errorf("stdout lacks %s:\n%s", want, res.stdout)
		}
	}
	// The short PIN is reported by name only.
	if !strings.Contains(res.stderr, "dotenv:"+envFile+":PIN") {
		t.Errorf("stderr lacks the short-value warning: %s", res.stderr)
	}
	for _, v := range []string{"dotenv-password-123", "dotenv-api-key-456", "1234", "mounted-token-value-789", "vault-value-", "env-secret-value-1", "env-prefix-value-2", "pipeline-token"} {
		if strings.Contains(res.stdout+res.stderr, v) {
			t.Errorf("output leaks a value (%d bytes)", len(v))
		}
	}
}

func TestSecretsCheckConfigErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	unknown := filepath.Join(dir, "unknown.yaml")
	os.WriteFile(unknown, []byte("other: {anything: 1}\nsecrets:\n  env: [A]\n  keyvault:\n    - url: https://v.vault.azure.net\n"), 0o600)
	res := runBin(t, "", nil, "secrets", "check", "--config", unknown)
	if res.code != 2 || !strings.Contains(res.stderr, unknown+`:4: secrets.keyvault: unknown key (did you mean "keyvaults"?)`) {
		t.Errorf("unknown key: code %d stderr %q; want 2 naming the file, line 4 and the key", res.code, res.stderr)
	}
	invalid := filepath.Join(dir, "invalid.yaml")
	os.WriteFile(invalid, []byte("secrets:\n  keyvaults:\n    - url: http://v.vault.azure.net\n"), 0o600)
	res = runBin(t, "", nil, "secrets", "check", "--config", invalid)
	if res.code != 2 || !strings.Contains(res.stderr, invalid+":3: secrets.keyvaults[0].url: must be an https URL") {
		t.Errorf("invalid: code %d stderr %q", res.code, res.stderr)
	}
	res = runBin(t, "", nil, "secrets", "check")
	if res.code != 2 || !strings.Contains(res.stderr, "no secrets sources") {
		t.Errorf("no sources: code %d stderr %q", res.code, res.stderr)
	}
}

func TestSecretsCheckFlagsAndFailure(t *testing.T) {
	t.Parallel()
	vault, env := fakeVault(t, "wrong-token", map[string]string{"app-a": "vault-value-aaaaaaaa"})
	res := runBin(t, "", append(env, "FLAG_SECRET=flag-secret-value-1"), "secrets", "check", "--keyvault", vault, "--secret-env", "FLAG_SECRET")
	if res.code != 1 || !strings.Contains(res.stderr, "1 of 2 secrets sources failed") {
		t.Errorf("code %d stderr %q; want 1 and the failure count", res.code, res.stderr)
	}
	if !regexp.MustCompile(`(?m)^keyvault:` + regexp.QuoteMeta(vault) + `\s+0\s+0\s+error: .*status 401`).MatchString(res.stdout) {
		t.Errorf("stdout lacks the vault's 401:\n%s", res.stdout)
	}
	if !regexp.MustCompile(`(?m)^env\s+1\s+0\s+ok$`).MatchString(res.stdout) {
		t.Errorf("stdout lacks the env row:\n%s", res.stdout)
	}
}

func TestRedactWithKeyVaultAndDotenvFlags(t *testing.T) {
	t.Parallel()
	vault, env := fakeVault(t, "pipeline-token", map[string]string{"app-a": "vault-value-aaaaaaaa"})
	dir := t.TempDir()
	envFile := filepath.Join(dir, ".env")
	os.WriteFile(envFile, []byte("export TOKEN=\"dotenv-token-value\"\n"), 0o600)
	mount := filepath.Join(dir, "m")
	os.Mkdir(mount, 0o700)
	os.WriteFile(filepath.Join(mount, "key"), []byte("dir-key-value-123\n"), 0o600)
	env = append(env, "PFX_ONE=prefix-value-one-1")
	in := "a vault-value-aaaaaaaa b dotenv-token-value c dir-key-value-123 d prefix-value-one-1 e"
	res := runBin(t, in, env, "redact", "--format", "text", "--keyvault", vault, "--secrets-dotenv", envFile, "--secrets-dir", mount, "--secret-env-prefix", "PFX_")
	want := "a [REDACTED:known-secret] b [REDACTED:known-secret] c [REDACTED:known-secret] d [REDACTED:known-secret] e"
	if res.code != 0 || res.stdout != want {
		t.Errorf("code %d out %q err %q; want %q", res.code, res.stdout, res.stderr, want)
	}
	res = runBin(t, "", nil, "redact", "--keyvault", "http://v.vault.azure.net")
	if res.code != 2 || !strings.Contains(res.stderr, "--keyvault http://v.vault.azure.net: must be an https URL") {
		t.Errorf("bad --keyvault: code %d stderr %q", res.code, res.stderr)
	}
}

// TestSecretsConfigErrorsNameFileLineField: the secrets: section and the
// allowlist file report every problem with file, line and key path (the old
// loader gave the secrets: section's value errors without a line, and
// stopped at the first unknown key).
func TestSecretsConfigErrorsNameFileLineField(t *testing.T) {
	t.Parallel()
	_, err := parseSecretsConfig("s.yaml", []byte("routes: [ignored]\nsecrets:\n  env: [A, '']\n  keyvaults:\n    - url: http://v.example\n      optionl: true\n  refresh: soon\n"))
	want := "s.yaml:3: secrets.env[1]: \"\" is not a variable name\n" +
		"s.yaml:5: secrets.keyvaults[0].url: must be an https URL such as https://NAME.vault.azure.net\n" +
		"s.yaml:6: secrets.keyvaults[0].optionl: unknown key (did you mean \"optional\"?)\n" +
		"s.yaml:7: secrets.refresh: want a duration such as 30s, 5m or 1h30m, got !!str `soon`"
	if err == nil || err.Error() != want {
		t.Errorf("got\n%v\nwant\n%s", err, want)
	}
	allow := filepath.Join(t.TempDir(), "allow.yaml")
	if err := os.WriteFile(allow, []byte("allow:\n  - rule: aws-access-key\n    path: $.x\n  - rule: x\n    vaule: y\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := loadAllowlist(context.Background(), allow); err == nil || err.Error() != allow+`:5: allow[1].vaule: unknown key (did you mean "value"?)` {
		t.Errorf("allowlist: %v", err)
	}
}
