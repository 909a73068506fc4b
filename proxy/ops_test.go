package proxy_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flowmask/flowmask/proxy"
	"github.com/flowmask/flowmask/redactor"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

func TestBearerAuth(t *testing.T) {
	up := newSink(t, nil)
	dir := t.TempDir()
	tokFile := filepath.Join(dir, "tokens")
	const tok = "inbound-token-0123456789"
	os.WriteFile(tokFile, []byte("# clients\n"+tok+"\n"), 0o600)
	cfg := oneRoute(up.URL, "generic")
	cfg.Auth.TokensFile = tokFile
	f := start(t, cfg)
	resp, body := post(t, f.url+"/", "application/json", []byte(`{}`))
	wantStatus(t, resp, body, 401)
	resp, body = post(t, f.url+"/", "application/json", []byte(`{}`), "Proxy-Authorization", "Bearer wrong-token-000000")
	wantStatus(t, resp, body, 401)
	resp, body = post(t, f.url+"/", "application/json", []byte(`{"echo":"`+tok+`"}`), "Proxy-Authorization", "Bearer "+tok, "Authorization", "Splunk abc")
	wantStatus(t, resp, body, 200)
	g := up.only(t)
	if g.header.Get("Proxy-Authorization") != "" || g.header.Get("Authorization") != "Splunk abc" {
		t.Errorf("headers: %v", g.header)
	}
	if strings.Contains(string(g.body), tok) {
		t.Errorf("the inbound token was forwarded in a body: %s", g.body)
	}
	if strings.Contains(f.audit.String()+f.logs.String(), tok) {
		t.Error("token leaked into logs")
	}
}

func TestMTLS(t *testing.T) {
	up := newSink(t, nil)
	dir := t.TempDir()
	certFile, keyFile, pool := writeCert(t, dir, "server")
	clientCert, clientKey, clientPool := writeCert(t, dir, "client")
	cfg := oneRoute(up.URL, "generic")
	cfg.TLS = proxy.TLSConfig{CertFile: certFile, KeyFile: keyFile, ClientCAFile: clientCert}
	_ = clientPool
	f := start(t, cfg)
	addr := serve(t, f.srv)
	noCert := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	if _, err := noCert.Post("https://"+addr+"/", "application/json", strings.NewReader(`{}`)); err == nil {
		t.Error("a client without a certificate got through")
	}
	pair, err := tls.LoadX509KeyPair(clientCert, clientKey)
	if err != nil {
		t.Fatal(err)
	}
	withCert := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{pair}}}}
	resp, err := withCert.Post("https://"+addr+"/", "application/json", strings.NewReader(`{"password":"hunter2-hunter2"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || len(up.requests()) != 1 {
		t.Errorf("status %d, %d upstream requests", resp.StatusCode, len(up.requests()))
	}
}

func TestConcurrencyLimit(t *testing.T) {
	release := make(chan struct{})
	entered := make(chan struct{}, 1)
	up := newSink(t, func(w http.ResponseWriter, r *http.Request) {
		entered <- struct{}{}
		<-release
	})
	cfg := oneRoute(up.URL, "generic")
	cfg.Limits.MaxConcurrent = 1
	f := start(t, cfg)
	done := make(chan int)
	go func() {
		resp, err := http.Post(f.url+"/", "application/json", strings.NewReader(`{}`))
		if err != nil {
			done <- 0
			return
		}
		resp.Body.Close()
		done <- resp.StatusCode
	}()
	<-entered
	resp, body := post(t, f.url+"/", "application/json", []byte(`{}`))
	wantStatus(t, resp, body, 503)
	if resp.Header.Get("Retry-After") == "" {
		t.Error("503 without Retry-After")
	}
	close(release)
	if code := <-done; code != 200 {
		t.Errorf("first request: %d", code)
	}
}

// TestReloadUnderLoad swaps configurations while clients keep sending:
// every request succeeds and no secret leaks; a bad config file is refused
// and the old one keeps serving.
func TestReloadUnderLoad(t *testing.T) {
	var leaked atomic.Int32
	up := newSink(t, func(w http.ResponseWriter, r *http.Request) {})
	up.reply = func(w http.ResponseWriter, r *http.Request) {
		reqs := up.requests()
		if strings.Contains(string(reqs[len(reqs)-1].body), "hunter2") {
			leaked.Add(1)
		}
	}
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "proxy.yaml")
	write := func(mask string) {
		os.WriteFile(cfgFile, []byte("routes:\n  - name: r\n    upstream: "+up.URL+"\n    mask: "+mask+"\n"), 0o600)
	}
	write("label")
	cfg, err := proxy.LoadConfig(cfgFile)
	if err != nil {
		t.Fatal(err)
	}
	f := start(t, cfg, func(o *proxy.Options) {
		o.ConfigFile = cfgFile
		o.LookupEnv = func(k string) (string, bool) {
			if k == "FLOWMASK_HASH_KEY" {
				return "hash-key-for-tests-0001", true
			}
			return "", false
		}
	})
	var wg sync.WaitGroup
	var bad atomic.Int32
	stop := make(chan struct{})
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				resp, err := http.Post(f.url+"/", "application/json", strings.NewReader(`{"password":"hunter2-hunter2"}`))
				if err != nil {
					bad.Add(1)
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					bad.Add(1)
				}
			}
		}()
	}
	for i := range 20 {
		write([]string{"label", "hash"}[i%2])
		if err := f.srv.ReloadFile(); err != nil {
			t.Errorf("reload %d: %v", i, err)
		}
	}
	os.WriteFile(cfgFile, []byte("routes:\n  - upstream: "+up.URL+"\n    colour: blue\n"), 0o600)
	if err := f.srv.ReloadFile(); err == nil || !strings.Contains(err.Error(), "proxy.yaml:3: routes[0].colour: unknown key") {
		t.Errorf("bad reload: got %v", err)
	}
	close(stop)
	wg.Wait()
	if bad.Load() != 0 || leaked.Load() != 0 {
		t.Errorf("%d failed requests, %d leaks", bad.Load(), leaked.Load())
	}
	if len(up.requests()) == 0 {
		t.Fatal("no requests under load")
	}
	resp, body := post(t, f.url+"/", "application/json", []byte(`{}`))
	wantStatus(t, resp, body, 200)
	if !strings.Contains(f.logs.String(), "config reload refused") {
		t.Error("the refused reload was not logged")
	}
}

func TestSetLiterals(t *testing.T) {
	up := newSink(t, nil)
	f := start(t, oneRoute(up.URL, "generic"))
	const rotated = "rotated-secret-value-42"
	f.srv.SetLiterals([]redactor.Literal{{Source: "vault", Value: rotated}})
	post(t, f.url+"/", "text/plain", []byte("a "+rotated+" b"))
	if g := up.only(t); string(g.body) != "a "+maskKnown+" b" {
		t.Errorf("got %s", g.body)
	}
}

func TestOwnLogsRedacted(t *testing.T) {
	f := start(t, oneRoute("", "generic"))
	f.srv.Logger().Error("upstream said", zap.String("detail", "password=hunter2-hunter2 and "+canary), zap.Error(io.ErrUnexpectedEOF))
	if s := f.logs.String(); !strings.Contains(s, "upstream said") || !strings.Contains(s, maskKnown) {
		t.Errorf("logs: %s", s)
	}
}

func TestAdminEndpoints(t *testing.T) {
	up := newSink(t, nil)
	f := start(t, oneRoute(up.URL, "generic"))
	admin := httptest.NewServer(f.srv.AdminHandler())
	defer admin.Close()
	get := func(p string) (int, string) {
		resp, err := http.Get(admin.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if c, _ := get("/healthz"); c != 200 {
		t.Errorf("/healthz: %d", c)
	}
	if c, _ := get("/readyz"); c != 503 {
		t.Errorf("/readyz before Serve: %d; want 503", c)
	}
	post(t, f.url+"/", "application/json", []byte(secretJSON))
	post(t, f.url+"/", "application/json", []byte(`{"a":`))
	eventually(t, "metrics", func() bool {
		_, m := get("/metrics")
		return strings.Contains(m, `flowmask_redactor_redactions_total{route="default",rule="password"} 1`) &&
			strings.Contains(m, `flowmask_proxy_rejections_total{reason="invalid_json",route="default"} 1`) &&
			strings.Contains(m, `flowmask_proxy_requests_total{code="200",route="default"} 1`) &&
			strings.Contains(m, "flowmask_proxy_request_duration_seconds_bucket") && strings.Contains(m, "go_goroutines")
	})
}

func TestBuiltinSink(t *testing.T) {
	f := start(t, proxy.DefaultConfig())
	resp, body := post(t, f.url+"/anything?token="+canary, "application/json", []byte(secretJSON))
	wantStatus(t, resp, body, 200)
	line := f.out.String()
	if !strings.Contains(line, `"body":`+redactedJSON) || !strings.Contains(line, `"method":"POST"`) || strings.Contains(line, canary) {
		t.Errorf("sink line: %s", line)
	}
}

// TestSlowClient: a client that stops sending its body gets 408 and the
// upstream gets nothing.
func TestSlowClient(t *testing.T) {
	up := newSink(t, nil)
	cfg := oneRoute(up.URL, "generic")
	cfg.Limits.BodyReadTimeout = 200 * time.Millisecond
	f := start(t, cfg)
	c, err := net.Dial("tcp", strings.TrimPrefix(f.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\nsome")
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusRequestTimeout {
		t.Errorf("status %d; want 408", resp.StatusCode)
	}
	if n := len(up.requests()); n != 0 {
		t.Errorf("upstream got %d requests", n)
	}
}

// TestGracefulShutdown: cancelling Serve lets an in-flight request finish.
func TestGracefulShutdown(t *testing.T) {
	entered := make(chan struct{})
	release := make(chan struct{})
	up := newSink(t, func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
		w.WriteHeader(201)
	})
	f := start(t, oneRoute(up.URL, "generic"))
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- f.srv.Serve(ctx, ln, nil) }()
	code := make(chan int, 1)
	go func() {
		resp, err := http.Post("http://"+ln.Addr().String()+"/", "application/json", strings.NewReader(`{}`))
		if err != nil {
			code <- 0
			return
		}
		resp.Body.Close()
		code <- resp.StatusCode
	}()
	<-entered
	cancel()
	close(release)
	if c := <-code; c != 201 {
		t.Errorf("in-flight request: %d; want 201", c)
	}
	if err := <-served; err != nil {
		t.Errorf("Serve: %v", err)
	}
}

// TestTLSCertReload: a renewed certificate on disk is served without a
// restart.
func TestTLSCertReload(t *testing.T) {
	up := newSink(t, nil)
	dir := t.TempDir()
	certFile, keyFile, pool1 := writeCert(t, dir, "one")
	cfg := oneRoute(up.URL, "generic")
	cfg.TLS.CertFile, cfg.TLS.KeyFile = certFile, keyFile
	f := start(t, cfg)
	addr := serve(t, f.srv)
	try := func(pool *x509.CertPool) error {
		c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, DisableKeepAlives: true}}
		resp, err := c.Post("https://"+addr+"/", "application/json", strings.NewReader(`{}`))
		if err == nil {
			resp.Body.Close()
		}
		return err
	}
	if err := try(pool1); err != nil {
		t.Fatal(err)
	}
	c2, k2, pool2 := writeCert(t, t.TempDir(), "two")
	b1, _ := os.ReadFile(c2)
	b2, _ := os.ReadFile(k2)
	os.WriteFile(certFile, b1, 0o600)
	os.WriteFile(keyFile, b2, 0o600)
	eventually(t, "the new certificate", func() bool { return try(pool2) == nil })
}

func TestUnscannableResponse(t *testing.T) {
	up := newSink(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Write([]byte("binary " + canary))
	})
	cfg := oneRoute(up.URL, "generic")
	cfg.Routes[0].Redact = "both"
	f := start(t, cfg)
	resp, body := post(t, f.url+"/", "application/json", []byte(`{}`))
	wantStatus(t, resp, body, 502)
	if strings.Contains(string(body), canary) {
		t.Errorf("unscanned response delivered: %s", body)
	}
}

func TestHashMaskNeedsKey(t *testing.T) {
	cfg := oneRoute("", "generic")
	cfg.Routes[0].Mask = "hash"
	cfg.SetDefaults()
	_, err := proxy.New(cfg, proxy.Options{LookupEnv: func(string) (string, bool) { return "", false }, LogOutput: zapcore.AddSync(io.Discard)})
	if err == nil || !strings.Contains(err.Error(), "routes[0].mask: hash needs the key in $FLOWMASK_HASH_KEY") {
		t.Errorf("got %v", err)
	}
}

func TestHeaderLimit(t *testing.T) {
	up := newSink(t, nil)
	cfg := oneRoute(up.URL, "generic")
	cfg.Limits.MaxHeaderBytes = 4 << 10
	f := start(t, cfg)
	addr := serve(t, f.srv)
	req, _ := http.NewRequest("POST", "http://"+addr+"/", strings.NewReader(`{}`))
	req.Header.Set("X-Big", strings.Repeat("a", 16<<10))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge || len(up.requests()) != 0 {
		t.Errorf("status %d, %d upstream requests; want 431 and none", resp.StatusCode, len(up.requests()))
	}
}
