package proxy_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/flowmask/flowmask/proxy"
	"go.uber.org/zap/zapcore"
)

// benchBody is a JSON array of log records of about size bytes, each with
// a password.
func benchBody(size int) []byte {
	var b bytes.Buffer
	b.WriteString("[")
	for i := 0; b.Len() < size-200; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"time":"2026-01-01T00:00:00Z","level":"info","host":"web-%d","msg":"user login ok","password":"hunter2-hunter2","pad":"%s"}`, i, strings.Repeat("x", min(800, max(0, size-b.Len()-250))))
	}
	b.WriteString("]")
	return b.Bytes()
}

// BenchmarkServeHTTP measures the proxy's handler (routing, decoding,
// redaction, the ReverseProxy and auditing) in front of a discarding
// upstream.
func BenchmarkServeHTTP(b *testing.B) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
	}))
	defer up.Close()
	for _, size := range []int{1 << 10, 64 << 10} {
		b.Run(fmt.Sprintf("size=%d", size), func(b *testing.B) {
			cfg := oneRoute(up.URL, "generic")
			cfg.SetDefaults()
			srv, err := proxy.New(cfg, proxy.Options{LogOutput: zapcore.AddSync(io.Discard), Stderr: io.Discard})
			if err != nil {
				b.Fatal(err)
			}
			data := benchBody(size)
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			b.ResetTimer() // proxy.New compiles the rules: not the request path
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
		})
	}
}
