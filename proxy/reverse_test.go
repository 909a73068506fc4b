package proxy_test

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/flowmask/flowmask/proxy"
	"github.com/klauspost/compress/zstd"
	"golang.org/x/text/encoding/charmap"
)

const (
	secretJSON   = `{"user":"bob","password":"hunter2-hunter2","note":"key ` + canary + ` end","n":1.50,"ok":true}`
	redactedJSON = `{"user":"bob","password":"` + maskPassword + `","note":"key ` + maskKnown + ` end","n":1.50,"ok":true}`
)

func TestGenericRedactsAndKeepsTheRest(t *testing.T) {
	up := newSink(t, nil)
	f := start(t, oneRoute(up.URL+"/base", "generic"))
	resp, body := post(t, f.url+"/hook?x=1", "application/json", []byte(secretJSON), "Authorization", "Bearer client-own-credential")
	wantStatus(t, resp, body, 200)
	g := up.only(t)
	if string(g.body) != redactedJSON {
		t.Errorf("upstream body:\ngot  %s\nwant %s", g.body, redactedJSON)
	}
	if g.contentLength != int64(len(redactedJSON)) {
		t.Errorf("Content-Length: got %d; want %d", g.contentLength, len(redactedJSON))
	}
	if g.path != "/base/hook" || g.query != "x=1" {
		t.Errorf("path: got %s?%s; want /base/hook?x=1", g.path, g.query)
	}
	if h := g.header.Get("Authorization"); h != "Bearer client-own-credential" {
		t.Errorf("client credential: got %q; want it passed unchanged", h)
	}
	if string(body) != `{"ok":true}` {
		t.Errorf("response: got %s", body)
	}
	eventually(t, "audit record", func() bool { return strings.Contains(f.audit.String(), `"redactions":2`) })
	var rec map[string]any
	if err := json.Unmarshal([]byte(strings.SplitN(f.audit.String(), "\n", 2)[0]), &rec); err != nil {
		t.Fatal(err)
	}
	rules, _ := rec["rules"].(map[string]any)
	if rec["status"] != 200.0 || rec["route"] != "default" || rules["password"] != 1.0 || rules["known-secret"] != 1.0 {
		t.Errorf("audit record: %v", rec)
	}
}

func TestEncodingsRoundTrip(t *testing.T) {
	tests := []struct {
		give    string
		encode  func([]byte) []byte
		decode  func([]byte) ([]byte, error)
		wantEnc string
	}{
		{"gzip", gz, gunzip, "gzip"},
		{"deflate", func(b []byte) []byte {
			var buf bytes.Buffer
			w := zlib.NewWriter(&buf)
			w.Write(b)
			w.Close()
			return buf.Bytes()
		}, func(b []byte) ([]byte, error) {
			r, err := zlib.NewReader(bytes.NewReader(b))
			if err != nil {
				return nil, err
			}
			return io.ReadAll(r)
		}, "deflate"},
		{"zstd", func(b []byte) []byte {
			w, _ := zstd.NewWriter(nil)
			return w.EncodeAll(b, nil)
		}, func(b []byte) ([]byte, error) {
			r, _ := zstd.NewReader(nil)
			return r.DecodeAll(b, nil)
		}, "zstd"},
	}
	for _, tt := range tests {
		t.Run(tt.give, func(t *testing.T) {
			up := newSink(t, nil)
			f := start(t, oneRoute(up.URL, "generic"))
			resp, body := post(t, f.url+"/", "application/json", tt.encode([]byte(secretJSON)), "Content-Encoding", tt.give)
			wantStatus(t, resp, body, 200)
			g := up.only(t)
			if e := g.header.Get("Content-Encoding"); e != tt.wantEnc {
				t.Errorf("Content-Encoding: got %q; want %q", e, tt.wantEnc)
			}
			plain, err := tt.decode(g.body)
			if err != nil {
				t.Fatal(err)
			}
			if string(plain) != redactedJSON {
				t.Errorf("got %s; want %s", plain, redactedJSON)
			}
			if g.contentLength != int64(len(g.body)) {
				t.Errorf("Content-Length %d for %d bytes", g.contentLength, len(g.body))
			}
		})
	}
}

func gz(b []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

func gunzip(b []byte) ([]byte, error) {
	r, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	return io.ReadAll(r)
}

// TestFailClosed: bodies that cannot be scanned get a JSON error and never
// reach the upstream.
func TestFailClosed(t *testing.T) {
	// Text, so the size bound (not the binary check) is what refuses it.
	bomb := gz(bytes.Repeat([]byte("a"), 4<<20))
	full := gz([]byte(secretJSON))
	tests := []struct {
		name       string
		ctype      string
		body       []byte
		hdr        []string
		limits     func(*proxy.RouteLimits)
		wantStatus int
		wantCode   string
		wantMsg    string
		streamed   bool // the upstream may see the start of an aborted body
	}{
		{name: "truncated gzip", ctype: "application/json", body: full[:len(full)-6], hdr: []string{"Content-Encoding", "gzip"}, wantStatus: 400, wantCode: "bad_encoding"},
		{name: "not gzip at all", ctype: "application/json", body: []byte(secretJSON), hdr: []string{"Content-Encoding", "gzip"}, wantStatus: 400, wantCode: "bad_encoding"},
		{name: "gzip bomb", ctype: "application/json", body: bomb, hdr: []string{"Content-Encoding", "gzip"}, limits: func(l *proxy.RouteLimits) { l.MaxDecodedBytes = 1 << 20; l.BufferBytes = 64 << 10 }, wantStatus: 413, wantCode: "decoded_too_large", streamed: true},
		{name: "gzip bomb held whole", ctype: "application/json", body: bomb, hdr: []string{"Content-Encoding", "gzip"}, limits: func(l *proxy.RouteLimits) { l.MaxDecodedBytes = 1 << 20 }, wantStatus: 413, wantCode: "decoded_too_large"},
		{name: "unknown encoding", ctype: "application/json", body: []byte(secretJSON), hdr: []string{"Content-Encoding", "compress"}, wantStatus: 415, wantCode: "unsupported_media_type"},
		{name: "too many stacked encodings", ctype: "application/json", body: gz(gz(gz(full))), hdr: []string{"Content-Encoding", "gzip, gzip, gzip, gzip"}, wantStatus: 415},
		{name: "protobuf", ctype: "application/x-protobuf", body: []byte{0x0a, 0x03}, wantStatus: 415, wantMsg: "application/json"},
		{name: "octet-stream", ctype: "application/octet-stream", body: []byte(secretJSON), wantStatus: 415},
		{name: "unknown charset", ctype: "application/json; charset=x-klingon", body: []byte(secretJSON), wantStatus: 415, wantMsg: "UTF-8"},
		{name: "invalid json", ctype: "application/json", body: []byte(`{"password":"hunter2-hunter2",}`), wantStatus: 422, wantCode: "invalid_json"},
		{name: "over the wire limit", ctype: "text/plain", body: bytes.Repeat([]byte("a"), 5000), limits: func(l *proxy.RouteLimits) { l.MaxBodyBytes = 4096 }, wantStatus: 413, wantCode: "body_too_large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			up := newSink(t, nil)
			cfg := oneRoute(up.URL, "generic")
			cfg.SetDefaults()
			if tt.limits != nil {
				tt.limits(&cfg.Routes[0].Limits)
			}
			f := start(t, cfg)
			resp, body := post(t, f.url+"/", tt.ctype, tt.body, tt.hdr...)
			wantStatus(t, resp, body, tt.wantStatus)
			var e struct {
				Error struct {
					Status  int
					Code    string
					Message string
				}
			}
			if err := json.Unmarshal(body, &e); err != nil || e.Error.Status != tt.wantStatus {
				t.Errorf("error body: %s (%v)", body, err)
			}
			if tt.wantCode != "" && e.Error.Code != tt.wantCode {
				t.Errorf("code: got %q; want %q", e.Error.Code, tt.wantCode)
			}
			if !strings.Contains(e.Error.Message, tt.wantMsg) {
				t.Errorf("message %q does not name %q", e.Error.Message, tt.wantMsg)
			}
			for _, g := range up.requests() {
				if !tt.streamed || g.readErr == nil {
					t.Errorf("upstream got a request (%d bytes, read error %v); want none or an aborted one", len(g.body), g.readErr)
				}
			}
		})
	}
}

func TestInvalidJSONAsText(t *testing.T) {
	up := newSink(t, nil)
	cfg := oneRoute(up.URL, "generic")
	cfg.Routes[0].OnInvalidJSON = "text"
	f := start(t, cfg)
	give := `{"password": "hunter2-hunter2", "x": ` + canary + `,}`
	resp, body := post(t, f.url+"/", "application/json", []byte(give))
	wantStatus(t, resp, body, 200)
	g := up.only(t)
	if bytes.Contains(g.body, []byte("hunter2")) || bytes.Contains(g.body, []byte(canary)) {
		t.Errorf("secret forwarded: %s", g.body)
	}
}

func TestCharsetLatin1(t *testing.T) {
	up := newSink(t, nil)
	f := start(t, oneRoute(up.URL, "generic"))
	enc := charmap.ISO8859_1.NewEncoder()
	give, _ := enc.Bytes([]byte(`{"café":"crème","password":"hunter2-hunter2"}`))
	want, _ := enc.Bytes([]byte(`{"café":"crème","password":"` + maskPassword + `"}`))
	resp, body := post(t, f.url+"/", "application/json; charset=ISO-8859-1", give)
	wantStatus(t, resp, body, 200)
	if g := up.only(t); !bytes.Equal(g.body, want) {
		t.Errorf("got %q; want %q", g.body, want)
	}
}

func TestNDJSONAndFormAndText(t *testing.T) {
	tests := []struct{ ctype, give, want string }{
		{"application/x-ndjson", "{\"password\":\"hunter2-hunter2\"}\nnot json " + canary + "\n{\"a\":1}\n",
			"{\"password\":\"" + maskPassword + "\"}\nnot json " + maskKnown + "\n{\"a\":1}\n"},
		{"application/x-www-form-urlencoded", "a=1&password=hunter2-hunter2&b=2", "a=1&password=" + maskPassword + "&b=2"},
		{"text/plain", "line one\nsecret " + canary + " here\n", "line one\nsecret " + maskKnown + " here\n"},
	}
	for _, tt := range tests {
		t.Run(tt.ctype, func(t *testing.T) {
			up := newSink(t, nil)
			f := start(t, oneRoute(up.URL, "generic"))
			resp, body := post(t, f.url+"/", tt.ctype, []byte(tt.give))
			wantStatus(t, resp, body, 200)
			if g := up.only(t); string(g.body) != tt.want {
				t.Errorf("got %q; want %q", g.body, tt.want)
			}
		})
	}
}

// TestStreamedBody: a body larger than buffer_bytes is streamed chunked,
// redacted across chunk boundaries.
func TestStreamedBody(t *testing.T) {
	up := newSink(t, nil)
	cfg := oneRoute(up.URL, "generic")
	cfg.SetDefaults()
	cfg.Routes[0].Limits.BufferBytes = 4096
	f := start(t, cfg)
	var give, want bytes.Buffer
	for i := range 5000 {
		fmt.Fprintf(&give, "{\"i\":%d,\"password\":\"hunter2-hunter2\",\"m\":\"%s\"}\n", i, canary)
		fmt.Fprintf(&want, "{\"i\":%d,\"password\":\"%s\",\"m\":\"%s\"}\n", i, maskPassword, maskKnown)
	}
	resp, body := post(t, f.url+"/", "application/x-ndjson", gz(give.Bytes()), "Content-Encoding", "gzip")
	wantStatus(t, resp, body, 200)
	g := up.only(t)
	if g.contentLength != -1 || len(g.transferEncoding) == 0 {
		t.Errorf("want chunked; got Content-Length %d, TE %v", g.contentLength, g.transferEncoding)
	}
	plain, err := gunzip(g.body)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(plain, want.Bytes()) {
		t.Errorf("streamed body differs (got %d bytes; want %d)", len(plain), want.Len())
	}
}

// TestStreamedBodyCorruptTail: an error after streaming began aborts the
// upstream request, so the upstream never receives a complete body, and the
// client gets 400.
func TestStreamedBodyCorruptTail(t *testing.T) {
	up := newSink(t, nil)
	cfg := oneRoute(up.URL, "generic")
	cfg.SetDefaults()
	cfg.Routes[0].Limits.BufferBytes = 4096
	f := start(t, cfg)
	z := gz(bytes.Repeat([]byte("some log line without secrets\n"), 20000))
	z = z[:len(z)-100]
	resp, body := post(t, f.url+"/", "text/plain", z, "Content-Encoding", "gzip")
	wantStatus(t, resp, body, 400)
	for _, g := range up.requests() {
		if g.readErr == nil {
			t.Errorf("upstream read a complete body of %d bytes", len(g.body))
		}
	}
}

func TestUpstreamFaults(t *testing.T) {
	block := make(chan struct{})
	t.Cleanup(func() { close(block) })
	tests := []struct {
		name    string
		handler http.HandlerFunc
		down    bool
		want    int
		cut     bool // the response starts, then breaks
	}{
		{name: "down", down: true, want: 502},
		{name: "slow", handler: func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-block:
			case <-r.Context().Done():
			}
		}, want: 504},
		{name: "500 passed through", handler: func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, `{"error":"boom"}`, 500)
		}, want: 500},
		{name: "429 passed through", handler: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "7")
			w.WriteHeader(429)
		}, want: 429},
		{name: "reset before headers", handler: func(w http.ResponseWriter, r *http.Request) {
			c, _, _ := http.NewResponseController(w).Hijack()
			c.(*net.TCPConn).SetLinger(0)
			c.Close()
		}, want: 502},
		{name: "reset mid-response", handler: func(w http.ResponseWriter, r *http.Request) {
			c, bw, _ := http.NewResponseController(w).Hijack()
			bw.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\nContent-Type: application/json\r\n\r\n{\"partial\":")
			bw.Flush()
			c.(*net.TCPConn).SetLinger(0)
			c.Close()
		}, want: 200, cut: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var upURL string
			if tt.down {
				ln, _ := net.Listen("tcp", "127.0.0.1:0")
				upURL = "http://" + ln.Addr().String()
				ln.Close()
			} else {
				up := newSink(t, tt.handler)
				upURL = up.URL
			}
			cfg := oneRoute(upURL, "generic")
			cfg.SetDefaults()
			cfg.Routes[0].Limits.UpstreamTimeout = 300e6
			f := start(t, cfg)
			req, _ := http.NewRequest("POST", f.url+"/", strings.NewReader(secretJSON))
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				if tt.cut {
					return // aborted before the headers went out: no 2xx either
				}
				t.Fatal(err)
			}
			b, rerr := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Fatalf("status: got %d; want %d (%s)", resp.StatusCode, tt.want, b)
			}
			if tt.cut && rerr == nil {
				t.Errorf("a cut response was delivered whole: %q", b)
			}
			if resp.StatusCode >= 500 && !json.Valid(b) && resp.StatusCode != 500 {
				t.Errorf("error body is not JSON: %s", b)
			}
		})
	}
}

// TestClientAbortsMidBody: the client sends half its body and hangs up; the
// upstream receives nothing and the audit says why.
func TestClientAbortsMidBody(t *testing.T) {
	up := newSink(t, nil)
	f := start(t, oneRoute(up.URL, "generic"))
	c, err := net.Dial("tcp", strings.TrimPrefix(f.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(c, "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"password\":\"hun")
	c.Close()
	eventually(t, "audit record", func() bool { return strings.Contains(f.audit.String(), "client_aborted") })
	if n := len(up.requests()); n != 0 {
		t.Errorf("upstream got %d requests; want none", n)
	}
}

func TestNoRoute(t *testing.T) {
	up := newSink(t, nil)
	cfg := oneRoute(up.URL, "generic")
	cfg.Routes[0].Match.PathPrefix = "/api"
	f := start(t, cfg)
	for path, want := range map[string]int{"/api": 200, "/api/x": 200, "/apix": 404, "/": 404} {
		resp, body := post(t, f.url+path, "application/json", []byte(`{}`))
		if resp.StatusCode != want {
			t.Errorf("%s: got %d; want %d (%s)", path, resp.StatusCode, want, body)
		}
	}
}

func TestReportMode(t *testing.T) {
	up := newSink(t, nil)
	cfg := oneRoute(up.URL, "generic")
	cfg.Routes[0].Mode = proxy.ModeReport
	f := start(t, cfg)
	give := gz([]byte(secretJSON))
	resp, body := post(t, f.url+"/", "application/json", give, "Content-Encoding", "gzip")
	wantStatus(t, resp, body, 200)
	if g := up.only(t); !bytes.Equal(g.body, give) {
		t.Errorf("report mode changed the body")
	}
	eventually(t, "audit", func() bool { return strings.Contains(f.audit.String(), `"redactions":2`) })
	if !strings.Contains(f.logs.String(), "REPORT-ONLY") {
		t.Errorf("no loud warning in logs: %s", f.logs.String())
	}
}

func TestResponseRedaction(t *testing.T) {
	up := newSink(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Encoding", "gzip")
		w.Write(gz([]byte(secretJSON)))
	})
	cfg := oneRoute(up.URL, "generic")
	cfg.Routes[0].Redact = "both"
	f := start(t, cfg)
	req, _ := http.NewRequest("GET", f.url+"/", nil)
	req.Header.Set("Accept-Encoding", "identity")
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != redactedJSON {
		t.Errorf("response: got %s; want %s", b, redactedJSON)
	}
}
