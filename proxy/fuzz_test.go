package proxy

import (
	"bufio"
	"bytes"
	"fmt"
	"github.com/flowmask/flowmask/proxy/internal/leakcheck"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/flowmask/flowmask/redactor"
	"github.com/flowmask/flowmask/redactor/charset"
	"go.uber.org/zap/zapcore"
)

const fuzzCanary = "canary-Sup3rS3cret-7f3a9c"

func fuzzRedactor(tb testing.TB) *redactor.Redactor {
	r, err := redactor.New(redactor.Config{Literals: []redactor.Literal{{Source: "fuzz", Value: fuzzCanary}}})
	if err != nil {
		tb.Fatal(err)
	}
	return r
}

// SecretInAnyDecoding is leakcheck.SecretInAnyDecoding, exported for the
// external tests.
func SecretInAnyDecoding(b []byte, secret string) bool {
	return leakcheck.SecretInAnyDecoding(b, secret)
}

// FuzzBodyPipeline sends a body holding a secret through the reverse
// proxy on loopback (a raw HTTP/1.1 request, so header names keep their
// case and repeated lines stay separate) under a fuzzed set of
// Content-Encoding, Content-Type and Transfer-Encoding lines, with the body
// encoded in a fuzzed charset and coding chain that may or may not match
// the headers. Whatever the status, no upstream body and no response may
// hold the secret in any decoding: the body is redacted or refused.
func FuzzBodyPipeline(f *testing.F) {
	f.Add("gzip|gzip", "text/plain", "", uint8(0b10_00_00_00), uint8(0), false, uint8(0))
	f.Add("gzip, br", "application/json", "", uint8(0b10_11_00_00), uint8(2), true, uint8(1))
	f.Add("identity|GZIP", "text/plain; charset=utf-8", "chunked", uint8(0b01_00_00_00), uint8(1), false, uint8(2))
	f.Add("", "text/plain; charset=utf-8; charset=utf-16le", "", uint8(0), uint8(1), false, uint8(3))
	f.Add("deflate|zstd", "application/json|text/plain", "", uint8(0b10_01_10_00), uint8(4), true, uint8(0))
	f.Add("x-gzip", "text/plain; charset=\"UTF-16\"", "gzip, chunked", uint8(0b01_00_00_00), uint8(5), false, uint8(1))
	f.Add("", "application/x-ndjson; charset=utf-32", "", uint8(0), uint8(5), true, uint8(2))
	secret := "fz" + fuzzCanary[7:] // a literal only this redactor knows
	var mu sync.Mutex
	var seen [][]byte
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		seen = append(seen, b)
		mu.Unlock()
	}))
	defer up.Close()
	cfg := DefaultConfig()
	cfg.Routes[0].Upstream = up.URL
	cfg.SetDefaults()
	srv, err := New(cfg, Options{Literals: []redactor.Literal{{Source: "fuzz", Value: secret}}, LogOutput: zapcore.AddSync(io.Discard), Stderr: io.Discard})
	if err != nil {
		f.Fatal(err)
	}
	ps := httptest.NewServer(srv)
	defer ps.Close()
	// clean keeps a header value on its line.
	clean := func(s string) string {
		return strings.Map(func(r rune) rune {
			if r == '\r' || r == '\n' || r == 0 {
				return ' '
			}
			return r
		}, s)
	}
	f.Fuzz(func(t *testing.T, ce, ct, te string, layers, cs uint8, asJSON bool, casing uint8) {
		doc := "note=" + secret + " user=alice " + strings.Repeat("text ", 10)
		if asJSON {
			doc = `{"note":"` + secret + `","user":"alice","pad":"` + strings.Repeat("text ", 10) + `"}`
		}
		encs := []charset.Encoding{charset.UTF8, charset.UTF16LE, charset.UTF16LE, charset.UTF16BE, charset.UTF32LE, charset.UTF32BE}
		e := encs[int(cs)%len(encs)]
		body, _ := e.Encode([]byte(doc))
		if k := int(cs) % len(encs); k == 2 || k == 5 {
			body = append(e.BOM(), body...)
		}
		for i := 0; i < int(layers>>6); i++ {
			body = leakcheck.Compress(int(layers>>(2*i))&3, body)
		}
		name := func(n string) string {
			switch casing % 3 {
			case 1:
				return strings.ToLower(n)
			case 2:
				return strings.ToUpper(n)
			}
			return n
		}
		var req bytes.Buffer
		req.WriteString("POST /ingest HTTP/1.1\r\nHost: x\r\nConnection: close\r\n")
		if te == "" {
			fmt.Fprintf(&req, "Content-Length: %d\r\n", len(body))
		} else {
			// Frame it chunked so the server never waits for more.
			body = append(append([]byte(fmt.Sprintf("%x\r\n", len(body))), body...), "\r\n0\r\n\r\n"...)
		}
		for _, h := range []struct{ n, v string }{{"Content-Encoding", ce}, {"Content-Type", ct}, {"Transfer-Encoding", te}} {
			if h.v == "" {
				continue
			}
			for _, v := range strings.Split(h.v, "|") {
				fmt.Fprintf(&req, "%s: %s\r\n", name(h.n), clean(v))
			}
		}
		req.WriteString("\r\n")
		req.Write(body)
		mu.Lock()
		seen = seen[:0]
		mu.Unlock()
		conn, err := net.Dial("tcp", ps.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		conn.Write(req.Bytes()) //nolint:errcheck // the proxy may refuse early
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		var out []byte
		if err == nil {
			out, _ = io.ReadAll(resp.Body)
			resp.Body.Close()
		}
		if SecretInAnyDecoding(out, secret) {
			t.Fatalf("the response holds the secret: %q", out)
		}
		mu.Lock()
		defer mu.Unlock()
		for _, b := range seen {
			if SecretInAnyDecoding(b, secret) {
				t.Fatalf("the upstream got the secret (status %v): %q", resp.StatusCode, b)
			}
		}
	})
}
