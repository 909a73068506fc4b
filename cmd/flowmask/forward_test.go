package main

import (
	"bytes"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestCAInit: `flowmask ca init` writes a 0600 key, prints how to
// trust the CA and never overwrites.
func TestCAInit(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "ca")
	res := runBin(t, "", nil, "ca", "init", "--out", dir)
	if res.code != 0 {
		t.Fatalf("ca init: %d %s", res.code, res.stderr)
	}
	for _, want := range []string{"ca.crt", "SSL_CERT_FILE=", "--cacert", "certutil -addstore"} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("ca init output lacks %q:\n%s", want, res.stdout)
		}
	}
	st, err := os.Stat(filepath.Join(dir, "ca.key"))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("ca.key: %v %v", st, err)
	}
	key, _ := os.ReadFile(filepath.Join(dir, "ca.key"))
	res = runBin(t, "", nil, "ca", "init", "--out", dir)
	if res.code != exitUsage || !strings.Contains(res.stderr, "already exists") {
		t.Errorf("second ca init: %d %q", res.code, res.stderr)
	}
	if key2, _ := os.ReadFile(filepath.Join(dir, "ca.key")); !bytes.Equal(key, key2) {
		t.Error("ca.key was overwritten")
	}
	if res := runBin(t, "", nil, "ca", "init"); res.code != exitUsage {
		t.Errorf("ca init without --out: %d", res.code)
	}
}

// TestForward runs `flowmask forward` (in process) with flags only and
// drives curl through it: an intercepted HTTPS host whose responses are
// redacted, a run-history record in the audit file, the admin endpoints,
// SIGHUP (reopen) and SIGTERM.
func TestForward(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl not installed")
	}
	const token = "ghp_R3aLt0k3nV4lu3aBcDeFgHiJkLmNoPqRsTuV"
	const known = "forward-bin-known-value-42"
	up := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"token":"`+token+`","note":"`+known+`"}`)
	}))
	defer up.Close()
	hp := up.Listener.Addr().String()
	dir := t.TempDir()
	upCA := filepath.Join(dir, "up.pem")
	os.WriteFile(upCA, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: up.Certificate().Raw}), 0o600)
	caDir := filepath.Join(dir, "ca")
	if res := runBin(t, "", nil, "ca", "init", "--out", caDir); res.code != 0 {
		t.Fatal(res.stderr)
	}
	audit := filepath.Join(dir, "audit.jsonl")
	fw := startServer(t, []string{"FWD_KNOWN=" + known}, "forward", "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0",
		"--ca-dir", caDir, "--intercept", hp, "--allow", hp, "--redact-responses", hp, "--upstream-ca", upCA,
		"--audit", audit, "--secret-env", "FWD_KNOWN", "--record-body-limit", "16KiB")
	m := fw.listening(t, "forward")
	addr, _ := m["addr"].(string)
	admin, _ := m["admin"].(string)
	out := curl(t, "-x", "http://"+addr, "--cacert", filepath.Join(caDir, "ca.crt"), up.URL+"/x?sig=abc")
	if strings.Contains(out, token) || strings.Contains(out, known) || !strings.Contains(out, "[REDACTED:known-secret]") {
		t.Errorf("client got %q; want redacted", out)
	}
	b, _ := os.ReadFile(audit)
	var rec map[string]any
	if err := json.Unmarshal(b, &rec); err != nil {
		t.Fatalf("audit file %q: %v", b, err)
	}
	if rec["kind"] != "https" || rec["status"] != float64(200) || rec["host"] != hp || strings.Contains(string(b), token) || strings.Contains(string(b), known) {
		t.Errorf("record %s", b)
	}
	if m := curl(t, "http://"+admin+"/metrics"); !strings.Contains(m, `flowmask_proxy_requests_total{code="200",route="https"} 1`) {
		t.Errorf("metrics lack the exchange:\n%s", m)
	}
	if h := curl(t, "http://"+admin+"/readyz"); h != "ready\n" {
		t.Errorf("readyz %q", h)
	}
	os.Rename(audit, audit+".1")
	fw.signal(syscall.SIGHUP)
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := os.Stat(audit); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("audit file not reopened after SIGHUP")
		}
		time.Sleep(20 * time.Millisecond)
	}
	fw.stop(t)
	if strings.Contains(fw.stderr.String(), known) {
		t.Error("own logs hold a known secret")
	}
}

// TestForwardFlagErrors: bad flags are usage errors naming the setting.
func TestForwardFlagErrors(t *testing.T) {
	t.Parallel()
	cfg := filepath.Join(t.TempDir(), "f.yaml")
	os.WriteFile(cfg, []byte("routes: []\nforward:\n  listen: 127.0.0.1:0\n  intercpt: [a.example:443]\n"), 0o600)
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--redact-responses", "api.example.com:443"}, "is HTTPS but not in intercept"},
		{[]string{"--listen", "0.0.0.0:3128"}, "auth_file is required"},
		{[]string{"--intercept", "a.example:443"}, "ca_dir: required"},
		{[]string{"--allow", "nope"}, "want host:port"},
		{[]string{"--record-body-limit", "lots"}, "--record-body-limit"},
		{[]string{"--config", cfg}, `f.yaml:4: forward.intercpt: unknown key (did you mean "intercept"?)`},
	} {
		res := runBin(t, "", nil, append([]string{"forward"}, tt.args...)...)
		if res.code != exitUsage || !strings.Contains(res.stderr, tt.want) {
			t.Errorf("%v: %d %q; want %q", tt.args, res.code, res.stderr, tt.want)
		}
	}
}
