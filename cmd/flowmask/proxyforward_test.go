package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestProxyForwardSectionErrors: flowmask proxy reads the forward: section
// of its config file (decoded by proxy/forward, not proxy) with the rest of
// the file: a bad key there, or a bad value, refuses the start with the
// file, line and key, sorted by line with the proxy's own errors.
func TestProxyForwardSectionErrors(t *testing.T) {
	t.Parallel()
	cfg := filepath.Join(t.TempDir(), "f.yaml")
	os.WriteFile(cfg, []byte("listen: 127.0.0.1:0\nadmin: \"off\"\nroutes:\n  - name: r\n    upstrem: http://x\nforward:\n  listen: 127.0.0.1:0\n  intercpt: [a.example:443]\n  allow: [nope]\n"), 0o600)
	res := runBin(t, "", nil, "proxy", "--config", cfg)
	want := []string{
		"f.yaml:5: routes[0].upstrem: unknown key",
		`f.yaml:8: forward.intercpt: unknown key (did you mean "intercept"?)`,
		"f.yaml:9: forward.allow[0]",
	}
	if res.code != exitUsage {
		t.Fatalf("exit %d, want %d; stderr %q", res.code, exitUsage, res.stderr)
	}
	last := -1
	for _, w := range want {
		i := strings.Index(res.stderr, w)
		if i < 0 || i < last {
			t.Errorf("stderr %q: want %q after the previous errors", res.stderr, w)
		}
		last = i
	}
	res = runBin(t, "", nil, "config", "check", cfg)
	for _, w := range want {
		if !strings.Contains(res.stdout, w) {
			t.Errorf("config check: %q does not hold %q", res.stdout, w)
		}
	}
}

// TestConfigCheckEverySection: config check reports the errors of every
// section of one file (the proxy's keys and routes, forward:, secrets:),
// each with file, line and key, sorted by line; kafka: is left alone when
// it has no errors of its own to report here.
func TestConfigCheckEverySection(t *testing.T) {
	data := []byte(`listen: 127.0.0.1:8080
forward:
  listen: 127.0.0.1:3128
  intercpt: [api.example.com:443]
  max_body_bytes: 20000000000GiB
  allow: [nohost]
routes:
  - name: a
    limits: {max_decoded_bytes: 9223372036854775808, upstream_timeout: 30}
    colour: blue
secrets:
  refresh: -1m
`)
	want := []string{
		`every-section.yaml:4: forward.intercpt: unknown key (did you mean "intercept"?)`,
		"every-section.yaml:5: forward.max_body_bytes: size too large (at most 9223372036854775807 bytes, 8EiB)",
		`every-section.yaml:6: forward.allow[0]: want host:port, got "nohost"`,
		"every-section.yaml:9: routes[0].limits.max_decoded_bytes: size too large (at most 9223372036854775807 bytes, 8EiB)",
		"every-section.yaml:9: routes[0].limits.upstream_timeout: want a duration such as 30s, 5m or 1h30m, got !!int `30` (a number needs a unit)",
		"every-section.yaml:10: routes[0].colour: unknown key",
		"every-section.yaml:12: secrets.refresh: must not be negative",
	}
	got := checkConfig("every-section.yaml", data)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
