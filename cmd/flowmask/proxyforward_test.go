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
