package proxy_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flowmask/flowmask/proxy"
	"github.com/flowmask/flowmask/redactor"
	"go.uber.org/zap/zapcore"
)

// canary is a known secret given to the proxy as a literal; it must never
// reach an upstream, a log or an audit record.
const canary = "canary-Sup3rS3cret-7f3a9c"

const (
	maskPassword = "[REDACTED:password]"
	maskKnown    = "[REDACTED:known-secret]"
)

// syncBuf is a goroutine-safe buffer for logs and audit records.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) Sync() error { return nil }

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// got is what a fake upstream received.
type got struct {
	method, path, query string
	header              http.Header
	body                []byte
	contentLength       int64
	transferEncoding    []string
	readErr             error
}

// sink is a fake upstream on 127.0.0.1 that records requests.
type sink struct {
	*httptest.Server
	mu    sync.Mutex
	reqs  []got
	reply func(w http.ResponseWriter, r *http.Request)
}

func newSink(t *testing.T, reply func(w http.ResponseWriter, r *http.Request)) *sink {
	t.Helper()
	s := &sink{reply: reply}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		s.mu.Lock()
		s.reqs = append(s.reqs, got{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Clone(), body, r.ContentLength, r.TransferEncoding, err})
		s.mu.Unlock()
		if s.reply != nil {
			s.reply(w, r)
			return
		}
		if err != nil {
			http.Error(w, "bad body", http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusOK)
		io.WriteString(w, `{"ok":true}`)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *sink) requests() []got {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]got(nil), s.reqs...)
}

func (s *sink) only(t *testing.T) got {
	t.Helper()
	r := s.requests()
	if len(r) != 1 {
		t.Fatalf("upstream got %d requests; want 1", len(r))
	}
	return r[0]
}

// fixture is a proxy under test with its captured logs and audit.
type fixture struct {
	srv   *proxy.Server
	url   string
	logs  *syncBuf
	audit *syncBuf
	out   *syncBuf
}

// oneRoute is a config with one route to upstream; edit it before start.
func oneRoute(upstream, profile string) *proxy.Config {
	cfg := proxy.DefaultConfig()
	cfg.Routes[0].Upstream = upstream
	cfg.Routes[0].Profile = profile
	return cfg
}

func start(t *testing.T, cfg *proxy.Config, opts ...func(*proxy.Options)) *fixture {
	t.Helper()
	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	f := &fixture{logs: &syncBuf{}, audit: &syncBuf{}, out: &syncBuf{}}
	o := proxy.Options{
		Literals:  []redactor.Literal{{Source: "test", Value: canary}},
		LogOutput: zapcore.AddSync(f.logs),
		Stdout:    f.out,
		Stderr:    f.audit,
	}
	for _, fn := range opts {
		fn(&o)
	}
	srv, err := proxy.New(cfg, o)
	if err != nil {
		t.Fatal(err)
	}
	f.srv = srv
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	f.url = ts.URL
	t.Cleanup(func() {
		// Nothing the proxy wrote may hold a secret.
		for name, s := range map[string]string{"logs": f.logs.String(), "audit": f.audit.String()} {
			if strings.Contains(s, canary) || strings.Contains(s, "hunter2") {
				t.Errorf("%s leak a secret:\n%s", name, s)
			}
		}
	})
	return f
}

func post(t *testing.T, url, ctype string, body []byte, hdr ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

// eventually polls cond until it holds or 10 s pass (no timing assertion:
// only a bound on waiting for an asynchronous effect).
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("timed out waiting for %s", what)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func wantStatus(t *testing.T, resp *http.Response, body []byte, want int) {
	t.Helper()
	if resp.StatusCode != want {
		t.Fatalf("status: got %d; want %d (body %s)", resp.StatusCode, want, body)
	}
}
