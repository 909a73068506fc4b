package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// proxyProc is a running `flowmask proxy`.
type proxyProc struct {
	*server
	addr, admin string
}

// proxyArgs adds loopback listeners on free ports unless a config file
// names them.
func proxyArgs(args []string) []string {
	args = append([]string{"proxy"}, args...)
	if !slices.Contains(args, "--config") {
		args = append(args, "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0")
	}
	return args
}

// startProxy runs `flowmask proxy` in process on 127.0.0.1:0 (env is its
// whole environment) and waits for its "listening" log line.
func startProxy(t *testing.T, env []string, args ...string) *proxyProc {
	t.Helper()
	return newProxyProc(t, startServer(t, env, proxyArgs(args)...))
}

// startProxyBinary is startProxy with the built binary (env added to the
// test's environment).
func startProxyBinary(t *testing.T, env []string, args ...string) *proxyProc {
	t.Helper()
	return newProxyProc(t, startServerBinary(t, env, proxyArgs(args)...))
}

func newProxyProc(t *testing.T, s *server) *proxyProc {
	t.Helper()
	m := s.listening(t, "")
	p := &proxyProc{server: s}
	p.addr, _ = m["addr"].(string)
	p.admin, _ = m["admin"].(string)
	return p
}

func curl(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command("curl", append([]string{"-sS", "--max-time", "20"}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("curl %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// TestProxyDefault: `flowmask proxy` with the embedded default prints
// each redacted body to stdout, audits to stderr and serves the admin API.
func TestProxyDefault(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("no curl")
	}
	const known = "known-Secret-Value-for-proxy-0042"
	p := startProxy(t, []string{"PROXY_TEST_SECRET=" + known}, "--secret-env", "PROXY_TEST_SECRET")
	out := curl(t, "-H", "Content-Type: application/json", "-d", `{"user":"bob","password":"hunter2-hunter2","note":"`+known+`"}`, "http://"+p.addr+"/ingest?sig=abc")
	if !strings.Contains(out, `"status":"accepted"`) {
		t.Errorf("curl got %s", out)
	}
	want := `"body":{"user":"bob","password":"[REDACTED:password]","note":"[REDACTED:known-secret]"}`
	if s := p.stdout.String(); !strings.Contains(s, want) || !strings.Contains(s, `"method":"POST"`) {
		t.Errorf("stdout: %s\nwant %s", s, want)
	}
	if m := curl(t, "http://"+p.admin+"/metrics"); !strings.Contains(m, `flowmask_redactor_redactions_total{route="default",rule="password"} 1`) {
		t.Errorf("metrics:\n%s", m)
	}
	if r := curl(t, "http://"+p.admin+"/readyz"); r != "ready\n" {
		t.Errorf("readyz: %q", r)
	}
	p.stop(t)
	errs := p.stderr.String()
	if !strings.Contains(errs, `"msg":"exchange"`) || strings.Contains(errs, "hunter2") || strings.Contains(errs, known) {
		t.Errorf("stderr: %s", errs)
	}
}

// TestProxyBinaryUpstreamAndReload: the one-route flag form forwards to an
// upstream; with --config, SIGHUP reloads and a bad file is ignored. End
// to end: the built binary, real signals, exit code 0 after SIGTERM.
func TestProxyBinaryUpstreamAndReload(t *testing.T) {
	prebuild()
	t.Parallel()
	var mu sync.Mutex
	var bodies []string
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, r.URL.Path+" "+string(b))
		mu.Unlock()
		w.WriteHeader(204)
	}))
	defer up.Close()
	last := func() string {
		mu.Lock()
		defer mu.Unlock()
		if len(bodies) == 0 {
			return ""
		}
		return bodies[len(bodies)-1]
	}
	p := startProxyBinary(t, nil, "--upstream", up.URL+"/base")
	resp, err := http.Post("http://"+p.addr+"/x", "application/x-www-form-urlencoded", strings.NewReader("a=1&password=hunter2-hunter2"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 204 || last() != "/base/x a=1&password=[REDACTED:password]" {
		t.Errorf("status %d, upstream got %q", resp.StatusCode, last())
	}
	p.stop(t)

	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "proxy.yaml")
	writeCfg := func(prefix string) {
		os.WriteFile(cfgFile, []byte(fmt.Sprintf("listen: 127.0.0.1:0\nadmin: \"off\"\nroutes:\n  - name: r\n    match: {path_prefix: %s}\n    upstream: %s\n", prefix, up.URL)), 0o600)
	}
	writeCfg("/v1")
	p = startProxyBinary(t, nil, "--config", cfgFile)
	postStatus := func(path string) int {
		resp, err := http.Post("http://"+p.addr+path, "application/json", strings.NewReader(`{"password":"hunter2-hunter2"}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if postStatus("/v1/a") != 204 || postStatus("/v2/a") != 404 {
		t.Fatal("routes before reload")
	}
	writeCfg("/v2")
	p.signal(syscall.SIGHUP)
	waitFor(t, "reload", func() bool { return strings.Contains(p.stderr.String(), "config reloaded") })
	if postStatus("/v2/a") != 204 || postStatus("/v1/a") != 404 {
		t.Fatal("routes after reload")
	}
	os.WriteFile(cfgFile, []byte("routes:\n  - upstream: nope\n"), 0o600)
	p.signal(syscall.SIGHUP)
	waitFor(t, "refused reload", func() bool { return strings.Contains(p.stderr.String(), "config reload refused") })
	if postStatus("/v2/a") != 204 {
		t.Fatal("the old config stopped serving after a bad reload")
	}
	p.stop(t)
}

// ndjsonGen generates size bytes of NDJSON log lines, every line with a
// password, without holding them.
type ndjsonGen struct {
	block []byte
	off   int
	left  int64
}

const genLine = `{"ts":"2026-01-01T00:00:00Z","level":"info","msg":"user login ok","password":"hunter2-hunter2","pad":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}` + "\n"

func newGen(size int64) *ndjsonGen {
	return &ndjsonGen{block: bytes.Repeat([]byte(genLine), (64<<10)/len(genLine)), left: size}
}

func (g *ndjsonGen) Read(p []byte) (int, error) {
	if g.left <= 0 {
		return 0, io.EOF
	}
	n := copy(p, g.block[g.off:])
	if int64(n) > g.left {
		n = int(g.left)
	}
	g.off = (g.off + n) % len(g.block)
	g.left -= int64(n)
	return n, nil
}

// TestProxyBinaryStreamsLargeBody streams a generated body (256 MiB, 2.5
// times the memory bound, or FLOWMASK_STREAM_MIB, e.g. 1024 for the
// documented 1 GiB run; 64 MiB with -short) through the real binary to an
// upstream that discards it, checks that no secret arrived and that peak
// RSS (VmHWM) stays under 100 MiB.
func TestProxyBinaryStreamsLargeBody(t *testing.T) {
	prebuild()
	t.Parallel()
	mib := int64(256)
	if testing.Short() {
		mib = 64
	}
	if v, err := strconv.ParseInt(os.Getenv("FLOWMASK_STREAM_MIB"), 10, 64); err == nil {
		mib = v
	}
	size := mib << 20
	size -= size % int64(len(genLine)) // whole lines
	var got, leaks int64
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		buf := make([]byte, 256<<10)
		var carry []byte
		for {
			n, err := r.Body.Read(buf)
			got += int64(n)
			chunk := append(carry, buf[:n]...)
			leaks += int64(bytes.Count(chunk, []byte("hunter2")))
			if len(chunk) > 16 {
				carry = append(carry[:0], chunk[len(chunk)-6:]...)
			} else {
				carry = append(carry[:0], chunk...)
			}
			if err != nil {
				break
			}
		}
		w.WriteHeader(200)
	}))
	defer up.Close()
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "proxy.yaml")
	os.WriteFile(cfgFile, []byte("listen: 127.0.0.1:0\nadmin: \"off\"\naudit: {output: stderr}\nroutes:\n  - upstream: "+up.URL+
		"\n    limits: {max_body_bytes: 4GiB, max_decoded_bytes: 4GiB}\n"), 0o600)
	p := startProxyBinary(t, nil, "--config", cfgFile)
	req, _ := http.NewRequest("POST", "http://"+p.addr+"/stream", newGen(size))
	req.Header.Set("Content-Type", "application/x-ndjson")
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	elapsed := time.Since(start)
	status, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.pid))
	var hwm string
	for _, l := range strings.Split(string(status), "\n") {
		if strings.HasPrefix(l, "VmHWM:") {
			hwm = strings.TrimSpace(strings.TrimPrefix(l, "VmHWM:"))
		}
	}
	p.stop(t)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	lines := size / int64(len(genLine))
	want := size + lines*int64(len("[REDACTED:password]")-len("hunter2-hunter2"))
	if got != want || leaks != 0 {
		t.Errorf("upstream got %d bytes (want %d), %d secrets", got, want, leaks)
	}
	kb, _ := strconv.ParseInt(strings.TrimSuffix(hwm, " kB"), 10, 64)
	t.Logf("streamed %d MiB in %v (%.0f MiB/s), peak RSS %d MiB", mib, elapsed.Round(time.Millisecond), float64(mib)/elapsed.Seconds(), kb>>10)
	if kb == 0 || kb > 100<<10 {
		t.Errorf("peak RSS %d kB; want under 100 MiB", kb)
	}
}

func TestProxyUsageErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("routes:\n  - upstream: http://127.0.0.1:9\n    profil: generic\n"), 0o600)
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"proxy", "--config", bad}, bad + ":3: routes[0].profil: unknown key (did you mean \"profile\"?)"},
		{[]string{"proxy", "--config", bad, "--upstream", "http://127.0.0.1:9"}, "--upstream, --profile, --mode and --workspace-key-file describe a single route"},
		{[]string{"proxy", "--upstream", "ftp://x", "--admin", "off"}, "routes[0].upstream: must be an absolute http or https URL"},
		{[]string{"proxy", "--profile", "azure-data-collector", "--upstream", "https://x.example", "--admin", "off"}, "needs the workspace key"},
	}
	for _, tt := range tests {
		res := runBin(t, "", nil, tt.args...)
		if res.code != exitUsage || !strings.Contains(res.stderr, tt.want) {
			t.Errorf("%v: code %d, stderr %q; want %d and %q", tt.args, res.code, res.stderr, exitUsage, tt.want)
		}
	}
}

// TestProxySecretsSection: values from the config's secrets: section
// are masked, and a rotated value is picked up without a restart while the
// old one stays masked (grace).
func TestProxySecretsSection(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("no curl")
	}
	dir := t.TempDir()
	known := filepath.Join(dir, "known.txt")
	os.WriteFile(known, []byte("zebra-quartz-unicorn-77\n"), 0o600)
	cfg := filepath.Join(dir, "flowmask.yaml")
	os.WriteFile(cfg, []byte("listen: 127.0.0.1:0\nadmin: 127.0.0.1:0\nsecrets:\n  files: ["+known+"]\n  refresh: 1h\nroutes:\n  - name: r\n"), 0o644)
	p := startProxy(t, nil, "--config", cfg)
	send := func(v string) {
		curl(t, "-H", "Content-Type: application/json", "-d", `{"note":"`+v+`"}`, "http://"+p.addr+"/x")
	}
	send("zebra-quartz-unicorn-77")
	if s := p.stdout.String(); strings.Contains(s, "zebra-quartz") || !strings.Contains(s, "[REDACTED:known-secret]") {
		t.Fatalf("secrets: files value not masked: %s", s)
	}
	if r := curl(t, "http://"+p.admin+"/readyz"); r != "ready\n" {
		t.Errorf("readyz: %q", r)
	}
	if m := curl(t, "http://"+p.admin+"/metrics"); !strings.Contains(m, "flowmask_secrets_literals 1") {
		t.Errorf("secrets metrics missing")
	}
	// Rotate the file: the watcher reloads it.
	os.WriteFile(known, []byte("giraffe-basalt-comet-88\n"), 0o600)
	waitFor(t, "the rotated value to be loaded", func() bool {
		return strings.Contains(curl(t, "http://"+p.admin+"/metrics"), "flowmask_secrets_literals 2")
	})
	send("giraffe-basalt-comet-88 and zebra-quartz-unicorn-77")
	p.stop(t)
	if s := p.stdout.String() + p.stderr.String(); strings.Contains(s, "giraffe-basalt") || strings.Contains(s, "zebra-quartz") {
		t.Errorf("a known value leaked after rotation: %s", s)
	}
}

// TestProxyWithForwardSection: a forward: section in the proxy's
// config file runs the forward proxy in the same process, which records a
// redacted run history of a call through it.
func TestProxyWithForwardSection(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("no curl")
	}
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"access_token":"tok-0123456789abcdef","token_type":"Bearer"}`)
	}))
	defer up.Close()
	upHost := strings.TrimPrefix(up.URL, "http://")
	dir := t.TempDir()
	records := filepath.Join(dir, "forward.jsonl")
	cfg := filepath.Join(dir, "flowmask.yaml")
	os.WriteFile(cfg, []byte(`listen: 127.0.0.1:0
admin: "off"
routes:
  - name: r
forward:
  listen: 127.0.0.1:0
  admin: "off"
  allow: [`+upHost+`]
  audit: `+records+`
`), 0o644)
	p := startProxy(t, nil, "--config", cfg)
	faddr, _ := p.listening(t, "forward")["addr"].(string)
	out := curl(t, "-x", "http://"+faddr, up.URL+"/oauth/token?client_secret=s3cr3t-value-42")
	if !strings.Contains(out, "tok-0123456789abcdef") {
		t.Errorf("record mode changed the response: %s", out)
	}
	waitFor(t, "the record", func() bool {
		b, _ := os.ReadFile(records)
		return strings.Contains(string(b), `"kind":"http"`)
	})
	b, _ := os.ReadFile(records)
	if strings.Contains(string(b), "s3cr3t-value-42") || strings.Contains(string(b), "tok-0123456789abcdef") || !strings.Contains(string(b), "[REDACTED:") {
		t.Errorf("record: %s", b)
	}
	p.stop(t)
}
