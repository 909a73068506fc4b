package clienttest_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flowmask/flowmask/proxy"
	"github.com/flowmask/flowmask/redactor"
	"go.uber.org/zap/zapcore"
)

// These helpers re-create, on the exported API of package proxy, the few
// test helpers of proxy's own tests that the client tests need.

// canary is a known secret given to the proxy as a literal; it must never
// reach an upstream, a log or an audit record.
const canary = "canary-Sup3rS3cret-7f3a9c"

const maskPassword = "[REDACTED:password]"

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

// fixture is a proxy under test with its captured logs and audit.
type fixture struct {
	srv         *proxy.Server
	url         string
	logs, audit *syncBuf
}

// oneRoute is a config with one route to upstream; edit it before start.
func oneRoute(upstream, profile string) *proxy.Config {
	cfg := proxy.DefaultConfig()
	cfg.Routes[0].Upstream = upstream
	cfg.Routes[0].Profile = profile
	return cfg
}

// start builds a proxy from cfg, serves it on a loopback httptest server and
// checks at cleanup that nothing it logged or audited holds a secret.
func start(t *testing.T, cfg *proxy.Config) *fixture {
	t.Helper()
	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	f := &fixture{logs: &syncBuf{}, audit: &syncBuf{}}
	srv, err := proxy.New(cfg, proxy.Options{
		Literals:  []redactor.Literal{{Source: "test", Value: canary}},
		LogOutput: zapcore.AddSync(f.logs),
		Stdout:    &syncBuf{},
		Stderr:    f.audit,
	})
	if err != nil {
		t.Fatal(err)
	}
	f.srv = srv
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	f.url = ts.URL
	t.Cleanup(func() {
		for name, s := range map[string]string{"logs": f.logs.String(), "audit": f.audit.String()} {
			if strings.Contains(s, canary) || strings.Contains(s, "hunter2") {
				t.Errorf("%s leak a secret:\n%s", name, s)
			}
		}
	})
	return f
}

// serve runs srv with Serve (its own listeners, TLS included) on a loopback
// listener until the test ends.
func serve(t *testing.T, srv *proxy.Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln, nil) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return ln.Addr().String()
}

// writeCert writes a self-signed certificate for 127.0.0.1 and returns the
// cert and key paths and a pool trusting it.
func writeCert(t *testing.T, dir, name string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, name+".crt"), filepath.Join(dir, name+".key")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}
