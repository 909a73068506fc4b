package main

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// TestStdinDash: "-" is standard input wherever a command reads a file.
func TestStdinDash(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	rules := filepath.Join(dir, "acme.yaml")
	const acmeRules = `rules:
  - id: acme-api-key
    description: ACME API key
    regex: '\b(?P<secret>acme_[A-Za-z0-9]{32})\b'
    keywords: ['acme_']
    min_entropy: 3.0
    examples: ['ACME_KEY=acme_Z3k9QpL2xV7mN4bR8tY1wE6uI0oA5sDf']
`
	if err := os.WriteFile(rules, []byte(acmeRules), 0o600); err != nil {
		t.Fatal(err)
	}
	input := filepath.Join(dir, "in.log")
	if err := os.WriteFile(input, []byte("key acme_h7Gt2LmQ9xWv4Np8Rk3Zs6Yb1Cd5Fj0A and note Qz7-mercury-lantern-42\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	flow := `{"definition":{"$schema":"https://schema.management.azure.com/providers/Microsoft.Logic/schemas/2016-06-01/workflowdefinition.json#","triggers":{},"actions":{"HTTP":{"type":"Http","inputs":{"method":"GET","uri":"https://api.example.com","headers":{"x-api-key":"sk_live_51HqLyjWDarjtT1zdp7dcQz8wRk"}}}}}}`
	for _, tt := range []struct {
		name    string
		stdin   string
		args    []string
		code    int
		want    string // in stdout
		notWant string // in stdout
	}{
		{"redact argument", `{"password":"Vq8-hunter-22-x"}`, []string{"redact", "-"}, 0, `"password":"[REDACTED:password]"`, "Vq8-hunter"},
		{"redact among files", "token=Bz4-vulcan-relay-77-tango", []string{"redact", "--format", "text", input, "-"}, 0, "[REDACTED:token]", "vulcan"},
		{"scan", `{"password":"Vq8-hunter-22-x"}`, []string{"scan", "-"}, 1, "-:1:", "Vq8-hunter"},
		{"audit", flow, []string{"audit", "-"}, 1, "hardcoded-secret", "sk_live_51Hq"},
		{"rules test", acmeRules, []string{"rules", "test", "-"}, 0, "1 rules, 1 examples: 1 passed", ""},
		{"--rules", acmeRules, []string{"redact", "--rules", "-", input}, 0, "[REDACTED:acme-api-key]", "acme_h7Gt"},
		{"--allowlist", "allow:\n  - rule: acme-api-key\n", []string{"redact", "--rules", rules, "--allowlist", "-", input}, 0, "acme_h7Gt2LmQ9xWv4Np8Rk3Zs6Yb1Cd5Fj0A", ""},
		{"--secrets-file", "Qz7-mercury-lantern-42\n", []string{"redact", "--secrets-file", "-", input}, 0, "[REDACTED:known-secret]", "mercury"},
		{"secrets check --config", "secrets:\n  env: [FLOWMASK_TEST_DASH]\n", []string{"secrets", "check", "--config", "-"}, 0, "1 known values", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := runBin(t, tt.stdin, []string{"FLOWMASK_TEST_DASH=Lp3-saffron-beacon-91"}, tt.args...)
			if res.code != tt.code || !strings.Contains(res.stdout, tt.want) || tt.notWant != "" && strings.Contains(res.stdout, tt.notWant) {
				t.Errorf("flowmask %s: exit %d (want %d)\nstdout %q (want %q, not %q)\nstderr %q", strings.Join(tt.args, " "), res.code, tt.code, res.stdout, tt.want, tt.notWant, res.stderr)
			}
		})
	}
}

// TestStdinDashRefused: "-" named twice, or where the file is re-read on
// reload, or where a name is needed, is a usage error before anything is
// read or written.
func TestStdinDashRefused(t *testing.T) {
	t.Parallel()
	out := t.TempDir()
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"redact", "-", "-"}, "standard input (-) is named 2 times"},
		{[]string{"redact", "--rules", "-", "-"}, "standard input (-) is named 2 times (the argument -, --rules -)"},
		{[]string{"redact", "--secrets-file", "-"}, "standard input (-) is named by both --secrets-file and the argument -"},
		{[]string{"redact", "--out-dir", out, "-"}, "--out-dir: standard input (-) has no name"},
		{[]string{"audit", "--fix", "--out", out, "-"}, "--fix: standard input (-) has no name"},
		{[]string{"proxy", "--config", "-"}, "--config: standard input (-) cannot be re-read on reload"},
		{[]string{"proxy", "--secrets-file", "-"}, "--secrets-file: standard input (-) cannot be re-read on reload"},
		{[]string{"forward", "--config", "-"}, "--config: standard input (-) cannot be re-read on reload"},
	} {
		res := runBin(t, "password=Vq8-hunter-22-x\n", nil, tt.args...)
		if res.code != exitUsage || !strings.Contains(res.stderr, tt.want) || res.stdout != "" {
			t.Errorf("flowmask %s: exit %d, stdout %q, stderr %q; want exit 2 and %q", strings.Join(tt.args, " "), res.code, res.stdout, res.stderr, tt.want)
		}
	}
	if entries, _ := os.ReadDir(out); len(entries) != 0 {
		t.Errorf("refused commands wrote %d files to %s", len(entries), out)
	}
}

// TestSizeFlags: sizes take units; a size that does not fit is an error that
// names the flag or the config field's line, never a wrapped-around number.
func TestSizeFlags(t *testing.T) {
	t.Parallel()
	in := `{"password":"Vq8-hunter-22-x"}`
	for _, v := range []string{"64MiB", "512KiB", "1GB", "1048576"} {
		if res := runBin(t, in, nil, "redact", "--max-document", v); res.code != 0 || !strings.Contains(res.stdout, "[REDACTED:password]") {
			t.Errorf("--max-document %s: exit %d %q %q", v, res.code, res.stdout, res.stderr)
		}
	}
	for _, tt := range []struct{ give, want string }{
		{"lots", `invalid argument "lots" for "--max-document" flag: want a size`},
		{"17179869185GiB", `invalid argument "17179869185GiB" for "--max-document" flag: size too large`}, // 2^64 + 1 GiB: wrapped to 1 GiB before
		{"99999999999999999999", `invalid argument "99999999999999999999" for "--max-document" flag: size too large`},
		{"-1", `invalid argument "-1" for "--max-document" flag`},
	} {
		if res := runBin(t, in, nil, "redact", "--max-document", tt.give); res.code != exitUsage || !strings.Contains(res.stderr, tt.want) {
			t.Errorf("--max-document %s: exit %d stderr %q; want %q", tt.give, res.code, res.stderr, tt.want)
		}
	}
	if res := runBin(t, "", nil, "forward", "--record-body-limit", "17179869185GiB"); res.code != exitUsage || !strings.Contains(res.stderr, "--record-body-limit: size too large") {
		t.Errorf("--record-body-limit overflow: exit %d stderr %q", res.code, res.stderr)
	}
	cfg := filepath.Join(t.TempDir(), "big.yaml")
	if err := os.WriteFile(cfg, []byte("routes:\n  - name: a\n    limits:\n      max_body_bytes: 17179869185GiB\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// config check, not proxy: a wrapped-around size would start the proxy.
	if res := runBin(t, "", nil, "config", "check", cfg); res.code != exitFindings || res.stdout != cfg+":4: routes[0].limits.max_body_bytes: size too large (at most 9223372036854775807 bytes, 8EiB)\n" {
		t.Errorf("config size overflow: exit %d stdout %q stderr %q", res.code, res.stdout, res.stderr)
	}
}

// TestVersion: `flowmask version` and `flowmask --version` print the same
// line with version, commit and Go version.
func TestVersion(t *testing.T) {
	t.Parallel()
	line := regexp.MustCompile(`^flowmask \S+ \(commit (?:[0-9a-f]{1,12}(?:-dirty)?|unknown), go\S+ \S+/\S+\)\n$`)
	a := runBin(t, "", nil, "version")
	b := runBin(t, "", nil, "--version")
	if a.code != 0 || b.code != 0 || !line.MatchString(a.stdout) || a.stdout != b.stdout {
		t.Errorf("version %q (exit %d), --version %q (exit %d)", a.stdout, a.code, b.stdout, b.code)
	}
	got := buildInfo{Version: "v1.2.3", Commit: "0123456789abcdef0123", Modified: true, GoVersion: "go1.26.8", Platform: "linux/amd64"}.String()
	if want := "flowmask v1.2.3 (commit 0123456789ab-dirty, go1.26.8 linux/amd64)"; got != want {
		t.Errorf("buildInfo: %q; want %q", got, want)
	}
}

// TestVersionStampedBinary: end to end, the built binary prints the
// version and commit stamped with -ldflags -X (as the release build does)
// and the Go version it was built with, for `version` and `--version`.
func TestVersionStampedBinary(t *testing.T) {
	prebuild()
	t.Parallel()
	want := regexp.MustCompile(`^flowmask ` + regexp.QuoteMeta(e2eVersion) + ` \(commit ` + e2eCommit[:12] + `(?:-dirty)?, ` +
		regexp.QuoteMeta(runtime.Version()) + ` ` + runtime.GOOS + `/` + runtime.GOARCH + `\)\n$`)
	for _, args := range [][]string{{"version"}, {"--version"}} {
		res := runBinary(t, "", nil, args...)
		if res.code != 0 || !want.MatchString(res.stdout) {
			t.Errorf("flowmask %s: exit %d, %q; want %s", args[0], res.code, res.stdout, want)
		}
	}
}

// TestProxyHTTPReload: POST /-/reload on the admin listener does what SIGHUP
// does and answers only once it is done: 200 after a good reload (the new
// routes serve at once), 500 after a refused one (the old config keeps
// serving), 405 for GET. From flags, without a config file, it re-reads the
// known-secret sources.
func TestProxyHTTPReload(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var last string
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		last = string(b)
		mu.Unlock()
		w.WriteHeader(204)
	}))
	defer up.Close()
	reload := func(p *proxyProc, method string) (int, string) {
		req, _ := http.NewRequest(method, "http://"+p.admin+"/-/reload", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	post := func(p *proxyProc, path, body string) int {
		resp, err := http.Post("http://"+p.addr+path, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}

	t.Run("config file", func(t *testing.T) {
		cfgFile := filepath.Join(t.TempDir(), "proxy.yaml")
		writeCfg := func(prefix string) {
			cfg := fmt.Sprintf("listen: 127.0.0.1:0\nadmin: 127.0.0.1:0\nroutes:\n  - name: r\n    match: {path_prefix: %s}\n    upstream: %s\n", prefix, up.URL)
			if err := os.WriteFile(cfgFile, []byte(cfg), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		writeCfg("/v1")
		p := startProxy(t, nil, "--config", cfgFile)
		if post(p, "/v1/a", `{}`) != 204 || post(p, "/v2/a", `{}`) != 404 {
			t.Fatal("routes before reload")
		}
		if code, _ := reload(p, http.MethodGet); code != http.StatusMethodNotAllowed {
			t.Errorf("GET /-/reload: %d; want 405", code)
		}
		writeCfg("/v2")
		if code, body := reload(p, http.MethodPost); code != 200 {
			t.Fatalf("POST /-/reload: %d %q", code, body)
		}
		if post(p, "/v2/a", `{}`) != 204 || post(p, "/v1/a", `{}`) != 404 {
			t.Error("routes right after a 200 from /-/reload are not the new ones")
		}
		if err := os.WriteFile(cfgFile, []byte("routes:\n  - upstream: nope\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if code, body := reload(p, http.MethodPost); code != 500 || strings.Contains(body, "nope") {
			t.Errorf("POST /-/reload of a bad config: %d %q; want 500 without config details", code, body)
		}
		if post(p, "/v2/a", `{}`) != 204 {
			t.Error("the old config stopped serving after a refused reload")
		}
		p.stop(t)
	})

	t.Run("flags", func(t *testing.T) {
		known := filepath.Join(t.TempDir(), "known.txt")
		if err := os.WriteFile(known, []byte("Kx9-first-known-value-01\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		p := startProxy(t, nil, "--upstream", up.URL, "--secrets-file", known)
		const second = "Wm4-second-known-value-02"
		if err := os.WriteFile(known, []byte("Kx9-first-known-value-01\n"+second+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if code, body := reload(p, http.MethodPost); code != 200 {
			t.Fatalf("POST /-/reload: %d %q", code, body)
		}
		if post(p, "/x", `{"note":"`+second+`"}`) != 204 {
			t.Fatal("post after reload")
		}
		mu.Lock()
		got := last
		mu.Unlock()
		if strings.Contains(got, second) || !strings.Contains(got, "[REDACTED:known-secret]") {
			t.Errorf("after /-/reload the upstream got %q; want the new known value masked", got)
		}
		p.stop(t)
	})
}

// TestConfigCheck: every error of every section, with file, line and field,
// sorted by line, in one run; exit 1 on any, 0 and "ok" on none, 2 when the
// file cannot be read.
func TestConfigCheck(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	const badYAML = `listen: 127.0.0.1:8080
log_level: loud
routes:
  - name: a
    upstrem_tls: {ca_file: ""}
    upstream: nope
  - name: b
    profile: splunk
    limits:
      max_body_bytes: 17179869185GiB
      upstream_timeout: soon
forward:
  intercpt: [x]
  allow: [bad]
secrets:
  keyvaults:
    - url: http://kv.example
`
	if err := os.WriteFile(bad, []byte(badYAML), 0o600); err != nil {
		t.Fatal(err)
	}
	want := []string{
		bad + `:2: log_level: unknown level "loud"`,
		bad + `:5: routes[0].upstrem_tls: unknown key (did you mean "upstream_tls"?)`,
		bad + `:6: routes[0].upstream: must be an absolute http or https URL`,
		bad + `:8: routes[1].profile: unknown profile "splunk"`,
		bad + `:10: routes[1].limits.max_body_bytes: size too large`,
		bad + ":11: routes[1].limits.upstream_timeout: want a duration such as 30s, 5m or 1h30m, got !!str `soon`",
		bad + `:13: forward.intercpt: unknown key (did you mean "intercept"?)`,
		bad + `:14: forward.allow[0]: want host:port`,
		bad + `:17: secrets.keyvaults[0].url: must be an https URL`,
	}
	res := runBin(t, "", nil, "config", "check", bad)
	got := strings.Split(strings.TrimSuffix(res.stdout, "\n"), "\n")
	if res.code != exitFindings || len(got) != len(want) {
		t.Fatalf("exit %d, %d lines; want exit 1, %d lines:\n%s%s", res.code, len(got), len(want), res.stdout, res.stderr)
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("line %d: %q; want it to start with %q", i+1, got[i], want[i])
		}
	}
	// The same file through standard input; a valid file says ok.
	if res := runBin(t, badYAML, nil, "config", "check", "-"); res.code != exitFindings || !strings.HasPrefix(res.stdout, "<stdin>:2: log_level") {
		t.Errorf("check -: exit %d %q %q", res.code, res.stdout, res.stderr)
	}
	full := filepath.Join("..", "..", "proxy", "testdata", "config", "valid", "full.yaml")
	if res := runBin(t, "", nil, "config", "check", full); res.code != 0 || res.stdout != full+": ok\n" {
		t.Errorf("check of a valid file: exit %d %q %q", res.code, res.stdout, res.stderr)
	}
	if res := runBin(t, "", nil, "config", "check", filepath.Join(dir, "missing.yaml")); res.code != exitUsage {
		t.Errorf("check of a missing file: exit %d", res.code)
	}
	if res := runBin(t, "routes: [\n", nil, "config", "check", "-"); res.code != exitFindings || !strings.HasPrefix(res.stdout, "<stdin>:") {
		t.Errorf("check of broken YAML: exit %d %q %q", res.code, res.stdout, res.stderr)
	}
}

// FuzzConfigCheck: checkConfig never panics, and every line it prints names
// the file, in line order.
func FuzzConfigCheck(f *testing.F) {
	f.Add([]byte("listen: 127.0.0.1:8080\nroutes:\n  - upstrem: x\n    limits: {max_body_bytes: 17179869185GiB}\nforward:\n  intercpt: [x]\n"))
	f.Add([]byte("routes: [\n"))
	f.Add([]byte("secrets:\n  keyvaults:\n    - url: http://x\n"))
	f.Add([]byte("{forward: {allow: [bad]}, routes: [{upstream: nope}]}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		prev := -1
		for _, line := range checkConfig("f.yaml", data) {
			if !strings.HasPrefix(line, "f.yaml:") {
				t.Fatalf("line %q does not name the file", line)
			}
			n := 0
			fmt.Sscanf(strings.TrimPrefix(line, "f.yaml:"), "%d:", &n) //nolint:errcheck // no line: 0, and out of order
			if n < 1 {
				t.Fatalf("line %q has no line number", line)
			}
			if n < prev {
				t.Fatalf("line %q out of order after line %d", line, prev)
			}
			prev = n
		}
	})
}
