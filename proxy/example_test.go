package proxy_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/flowmask/flowmask/proxy"
	"go.uber.org/zap/zapcore"
)

// A route with no upstream hands redacted bodies to the built-in sink,
// which prints one JSON line per request.
func Example() {
	cfg := proxy.DefaultConfig()
	cfg.Audit.Output = "off"
	var sink strings.Builder
	srv, err := proxy.New(cfg, proxy.Options{Stdout: &sink, LogOutput: zapcore.AddSync(io.Discard)})
	if err != nil {
		fmt.Println(err)
		return
	}
	req := httptest.NewRequest(http.MethodPost, "/ingest", strings.NewReader(`{"user":"bob","password":"hunter2-hunter2"}`))
	req.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	srv.ServeHTTP(w, req)
	fmt.Println(w.Code)
	line := sink.String()
	fmt.Println(line[strings.Index(line, `"body"`):])
	// Output:
	// 200
	// "body":{"user":"bob","password":"[REDACTED:password]"}}
}
