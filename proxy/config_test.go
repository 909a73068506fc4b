package proxy

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLoadConfigValid(t *testing.T) {
	cfg, err := LoadConfig("testdata/config/valid/full.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(cfg.Routes), 7; got != want {
		t.Fatalf("routes: got %d; want %d", got, want)
	}
	wh := cfg.Routes[6]
	if wh.Name != "webhook" || wh.Redact != "both" || wh.Limits.MaxDecodedBytes != 256<<20 || wh.Limits.UpstreamTimeout != time.Minute {
		t.Errorf("webhook route: got %+v", wh)
	}
	if cfg.Routes[4].Mode != ModeReport || cfg.Routes[1].WorkspaceKeyEnv != "LA_WORKSPACE_KEY" {
		t.Errorf("routes: got %+v", cfg.Routes)
	}
	if cfg.Limits.MaxHeaderBytes != 64<<10 || cfg.Secrets.Env[0] != "APP_DB_PASSWORD" {
		t.Errorf("limits/secrets: got %+v %+v", cfg.Limits, cfg.Secrets)
	}
	// The written defaults equal DefaultConfig's.
	def := DefaultConfig()
	def.SetDefaults()
	if cfg.Limits != def.Limits || cfg.Auth != def.Auth || cfg.Audit != def.Audit {
		t.Errorf("defaults differ: got %+v; want %+v", cfg.Limits, def.Limits)
	}
	if wh.Limits != def.Routes[0].Limits {
		t.Errorf("route limits: got %+v; want %+v", wh.Limits, def.Routes[0].Limits)
	}
}

func TestDefaultConfigValid(t *testing.T) {
	cfg := DefaultConfig()
	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
}

// TestLoadConfigInvalid checks each testdata/config/invalid/X.yaml against
// the exact errors in X.err, one per line.
func TestLoadConfigInvalid(t *testing.T) {
	files, _ := filepath.Glob("testdata/config/invalid/*.yaml")
	if len(files) == 0 {
		t.Fatal("no invalid configs")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			want, err := os.ReadFile(strings.TrimSuffix(f, ".yaml") + ".err")
			if err != nil {
				t.Fatal(err)
			}
			data, _ := os.ReadFile(f)
			_, err = ParseConfig(filepath.Base(f), data)
			if err == nil {
				t.Fatal("no error")
			}
			if got := err.Error(); got != strings.TrimSpace(string(want)) {
				t.Errorf("got\n%s\nwant\n%s", got, want)
			}
		})
	}
}

func TestParseByteSize(t *testing.T) {
	tests := []struct {
		give string
		want ByteSize
	}{
		{"1048576", 1 << 20}, {"64MiB", 64 << 20}, {"512 KiB", 512 << 10}, {"1GB", 1e9}, {"10B", 10},
	}
	for _, tt := range tests {
		got, err := ParseByteSize(tt.give)
		if err != nil || got != tt.want {
			t.Errorf("ParseByteSize(%q) = %d, %v; want %d", tt.give, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "-1", "1PB", "MiB", "1.5MiB", "20000000000GiB"} {
		if _, err := ParseByteSize(bad); err == nil {
			t.Errorf("ParseByteSize(%q): no error", bad)
		}
	}
}

// TestConfigWithForwardSection: the proxy's loader accepts a file with a
// forward: section and leaves it to the forward proxy
// (forward.DecodeForwardSection, which `flowmask proxy` and `flowmask
// config check` call on the same file): its keys are not the proxy's.
func TestConfigWithForwardSection(t *testing.T) {
	for _, good := range []string{
		"routes:\n  - name: r\nforward:\n  listen: 127.0.0.1:3129\n",
		"routes:\n  - name: r\nforward:\n  intercpt: [a:443]\n",
	} {
		if _, err := ParseConfig("f.yaml", []byte(good)); err != nil {
			t.Errorf("ParseConfig(%q): %v", good, err)
		}
	}
	bad := "routes:\n  - name: r\n    upstrem: http://x\nforward:\n  listen: 127.0.0.1:3129\n"
	if _, err := ParseConfig("f.yaml", []byte(bad)); err == nil || !strings.Contains(err.Error(), "f.yaml:3") {
		t.Errorf("bad route key next to a forward: section: %v", err)
	}
}

// TestConfigErrorsStableOrder: the same bad file always gives the same
// message, in the order of the file (checks used to come from map
// iteration).
func TestConfigErrorsStableOrder(t *testing.T) {
	data := []byte("limits:\n  read_header_timeout: -1s\n  body_read_timeout: -2s\n  idle_timeout: -4s\n  shutdown_timeout: -5s\nroutes:\n  - upstream: http://127.0.0.1:9\n")
	_, first := ParseConfig("p.yaml", data)
	if first == nil {
		t.Fatal("no error")
	}
	want := "p.yaml:2: limits.read_header_timeout: must not be negative\np.yaml:3: limits.body_read_timeout: must not be negative\np.yaml:4: limits.idle_timeout: must not be negative\np.yaml:5: limits.shutdown_timeout: must not be negative"
	for range 30 {
		_, err := ParseConfig("p.yaml", data)
		if err.Error() != want {
			t.Fatalf("got\n%v\nwant\n%s", err, want)
		}
	}
}
