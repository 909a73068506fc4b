package proxy_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flowmask/flowmask/proxy"
	"go.uber.org/zap/zapcore"
)

func adminGet(t *testing.T, h http.Handler, path string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return rec.Code, rec.Body.String()
}

// Leak 14: a response cut part-way counts as aborted, not as its status.
func TestAbortedResponseCountsAsAborted(t *testing.T) {
	up := newSink(t, func(w http.ResponseWriter, r *http.Request) {
		c, bw, _ := http.NewResponseController(w).Hijack()
		bw.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\nContent-Type: application/json\r\n\r\n{\"partial\":")
		bw.Flush()
		c.(*net.TCPConn).SetLinger(0)
		c.Close()
	})
	f := start(t, oneRoute(up.URL, "generic"))
	req, _ := http.NewRequest(http.MethodPost, f.url+"/", strings.NewReader(`{}`))
	req.Header.Set("Content-Type", "application/json")
	if resp, err := http.DefaultClient.Do(req); err == nil {
		io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	eventually(t, "aborted counted", func() bool {
		_, m := adminGet(t, f.srv.AdminHandler(), "/metrics")
		return strings.Contains(m, `flowmask_proxy_requests_total{code="aborted",route="default"} 1`)
	})
	if _, m := adminGet(t, f.srv.AdminHandler(), "/metrics"); strings.Contains(m, `flowmask_proxy_requests_total{code="200",route="default"}`) {
		t.Errorf("the cut response also counts as 200:\n%s", m)
	}
}

// Leak 14: audit records that cannot be written are counted and fail
// readiness.
func TestAuditUndeliveredFailsReadiness(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("needs /dev/full")
	}
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("no /dev/full")
	}
	up := newSink(t, nil)
	cfg := oneRoute(up.URL, "generic")
	cfg.Audit.Output = "/dev/full"
	f := start(t, cfg)
	addr := serve(t, f.srv)
	resp, body := post(t, "http://"+addr+"/", "application/json", []byte(`{}`))
	wantStatus(t, resp, body, 200)
	f.srv.Audit().Sync()
	h := f.srv.AdminHandler()
	_, m := adminGet(t, h, "/metrics")
	if !strings.Contains(m, "flowmask_audit_undelivered_batches_total 1") {
		t.Errorf("undelivered batch not counted:\n%s", grepLines(m, "audit"))
	}
	if c, b := adminGet(t, h, "/readyz"); c != http.StatusServiceUnavailable || !strings.Contains(b, "audit") {
		t.Errorf("/readyz: %d %s; want 503 naming the audit output", c, b)
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// Leak 14: a client trickling its body within body_read_timeout is still
// cut at limits.request_timeout, and nothing is forwarded.
func TestSlowClientTotalDeadline(t *testing.T) {
	for _, redact := range []string{"request", "response"} {
		t.Run(redact, func(t *testing.T) {
			up := newSink(t, nil)
			cfg := oneRoute(up.URL, "generic")
			cfg.Routes[0].Redact = redact
			cfg.Limits.BodyReadTimeout = 10 * time.Second
			cfg.Limits.RequestTimeout = 300 * time.Millisecond
			f := start(t, cfg)
			c, err := net.Dial("tcp", strings.TrimPrefix(f.url, "http://"))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			fmt.Fprintf(c, "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 60\r\n\r\n")
			stop := make(chan struct{})
			defer close(stop)
			go func() {
				for i := 0; i < 60; i++ {
					select {
					case <-stop:
						return
					case <-time.After(50 * time.Millisecond):
					}
					if _, err := c.Write([]byte("x")); err != nil {
						return
					}
				}
			}()
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode != http.StatusRequestTimeout {
					t.Errorf("status %d; want 408", resp.StatusCode)
				}
			}
			if n := len(up.requests()); n != 0 && redact == "request" {
				t.Errorf("upstream got %d requests", n)
			}
			if n := len(up.requests()); n != 0 && redact == "response" {
				if g := up.requests()[0]; g.readErr == nil {
					t.Errorf("upstream got a whole body from a client past its deadline")
				}
			}
		})
	}
}

// Issue 16 item 8: build info and every series whose labels are known
// exist before the first request.
func TestMetricsBeforeFirstEvent(t *testing.T) {
	up := newSink(t, nil)
	f := start(t, oneRoute(up.URL, "generic"))
	_, m := adminGet(t, f.srv.AdminHandler(), "/metrics")
	for _, want := range []string{
		`flowmask_build_info{goversion="` + runtime.Version() + `"`,
		`flowmask_proxy_rejections_total{reason="unauthorized",route="none"} 0`,
		`flowmask_proxy_rejections_total{reason="invalid_json",route="default"} 0`,
		`flowmask_proxy_bytes_total{direction="out",route="default"} 0`,
		`flowmask_redactor_redactions_total{route="default",rule="github-pat-classic"} 0`,
		`flowmask_redactor_redactions_total{route="default",rule="known-secret"} 0`,
		`flowmask_proxy_config_reloads_total{result="error"} 0`,
		`flowmask_audit_undelivered_batches_total 0`,
		`flowmask_proxy_request_duration_seconds_count{route="default"} 0`,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("missing before the first event: %s", want)
		}
	}
	// Every flowmask family on /metrics is one MetricNames lists.
	names := proxy.MetricNames()
	for _, l := range strings.Split(m, "\n") {
		if n, ok := strings.CutPrefix(l, "# TYPE flowmask_"); ok {
			n = "flowmask_" + strings.Fields(n)[0]
			if !slices.Contains(names, n) {
				t.Errorf("%s is exported but not in MetricNames", n)
			}
		}
	}
	for _, want := range []string{"flowmask_build_info", "flowmask_proxy_requests_total", "flowmask_audit_undelivered_batches_total", "flowmask_secrets_literals"} {
		if !slices.Contains(names, want) {
			t.Errorf("MetricNames lacks %s: %v", want, names)
		}
	}
}

// BenchmarkServeHTTPWithQuery is BenchmarkServeHTTP's 1 KiB case on a URL
// with query parameters, the path the audit URL masking decodes.
func BenchmarkServeHTTPWithQuery(b *testing.B) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
	}))
	defer up.Close()
	cfg := oneRoute(up.URL, "generic")
	cfg.SetDefaults()
	srv, err := proxy.New(cfg, proxy.Options{LogOutput: zapcore.AddSync(io.Discard), Stderr: io.Discard})
	if err != nil {
		b.Fatal(err)
	}
	data := []byte(strings.Repeat(`{"msg":"user logged in from 10.0.0.1","level":"info"}`+"\n", 19))
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := httptest.NewRequest(http.MethodPost, "/services/collector/event?channel=0f6e8a44-2d41-4b7e-9d1c-6b5a1f0e3c2a&index=main", bytes.NewReader(data))
			req.Header.Set("Content-Type", "application/x-ndjson")
			w := httptest.NewRecorder()
			srv.ServeHTTP(w, req)
			if w.Code != 200 {
				b.Fatalf("status %d: %s", w.Code, w.Body)
			}
		}
	})
}

// BenchmarkServeHTTPPlain is BenchmarkServeHTTP's 1 KiB case without the
// set-up in the measurement: a plain path, no query.
func BenchmarkServeHTTPPlain(b *testing.B) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
	}))
	defer up.Close()
	cfg := oneRoute(up.URL, "generic")
	cfg.SetDefaults()
	srv, err := proxy.New(cfg, proxy.Options{LogOutput: zapcore.AddSync(io.Discard), Stderr: io.Discard})
	if err != nil {
		b.Fatal(err)
	}
	data := benchBody(1 << 10)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := httptest.NewRequest(http.MethodPost, "/ingest", bytes.NewReader(data))
			req.Header.Set("Content-Type", "application/json")
			w := httptest.NewRecorder()
			srv.ServeHTTP(w, req)
			if w.Code != 200 {
				b.Fatalf("status %d: %s", w.Code, w.Body)
			}
		}
	})
}
