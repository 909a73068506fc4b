package proxy_test

import (
	"bufio"
	"crypto/rand"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/flowmask/flowmask/proxy"
)

// Tests of issue 13's leak classes on the reverse proxy paths that are not
// body decoding: each sends a fresh secret through the server on loopback
// with a real client and checks that neither the upstream nor the audit
// record nor the logs see it (a refusal or a mask is a pass).

const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// fresh returns n random alphanumerics.
func fresh(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	for i := range b {
		b[i] = alnum[int(b[i])%len(alnum)]
	}
	return string(b)
}

// freshGitHubToken is a new, well-formed classic GitHub token: the rules
// know its shape, nobody knows its value.
func freshGitHubToken() string { return "ghp_" + fresh(36) }

// capture is an upstream that records everything it is sent, headers and
// trailers included, as one string per request.
type capture struct {
	*httptest.Server
	mu    sync.Mutex
	seen  []string
	reply func(w http.ResponseWriter, r *http.Request)
}

func newCapture(t *testing.T, reply func(w http.ResponseWriter, r *http.Request)) *capture {
	t.Helper()
	c := &capture{reply: reply}
	c.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var b strings.Builder
		fmt.Fprintf(&b, "%s %s %s\nHost: %s\n", r.Method, r.RequestURI, r.Proto, r.Host)
		r.Header.Write(&b)
		b.Write(body)
		b.WriteString("\n")
		r.Trailer.Write(&b)
		c.mu.Lock()
		c.seen = append(c.seen, b.String())
		c.mu.Unlock()
		if c.reply != nil {
			c.reply(w, r)
			return
		}
		io.WriteString(w, `{"ok":true}`)
	}))
	t.Cleanup(c.Close)
	return c
}

func (c *capture) all() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return strings.Join(c.seen, "\n----\n")
}

func (c *capture) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.seen)
}

// noLeak fails if secret is in what the upstream got, the audit or the logs.
func noLeak(t *testing.T, f *fixture, up *capture, secret string) {
	t.Helper()
	f.srv.Audit().Sync()
	for name, s := range map[string]string{"upstream": up.all(), "audit": f.audit.String(), "logs": f.logs.String()} {
		if strings.Contains(s, secret) {
			t.Errorf("%s saw the secret %s:\n%s", name, secret, s)
		}
	}
}

// rawExchange sends req on a fresh TCP connection and returns the status
// line and headers of the answer.
func rawExchange(t *testing.T, baseURL, req string) (status string, resp *http.Response) {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(baseURL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := io.WriteString(c, req); err != nil {
		t.Fatal(err)
	}
	resp, err = http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.Status, resp
}

// Leak 2: an Upgrade request is refused and nothing reaches the upstream,
// which would switch protocols and take raw frames.
func TestUpgradeRefused(t *testing.T) {
	upgraded := make(chan string, 4)
	up := newCapture(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") == "" {
			return
		}
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: " + r.Header.Get("Upgrade") + "\r\nConnection: Upgrade\r\n\r\n")
		brw.Flush()
		line, _ := brw.ReadString('\n')
		upgraded <- line
	})
	f := start(t, oneRoute(up.URL, "generic"))
	for _, hdr := range []string{
		"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n",
		"Upgrade: h2c\r\nConnection: Upgrade, HTTP2-Settings\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n",
		"Connection: keep-alive, upgrade\r\nUpgrade: WebSocket\r\n",
	} {
		secret := freshGitHubToken()
		status, resp := rawExchange(t, f.url, "GET /ws HTTP/1.1\r\nHost: x\r\n"+hdr+"\r\n"+secret+"\n")
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("%q: got %s; want 403", hdr, status)
		}
		noLeak(t, f, up, secret)
	}
	if n := up.count(); n != 0 {
		t.Errorf("upstream got %d upgrade requests; want 0:\n%s", n, up.all())
	}
	select {
	case l := <-upgraded:
		t.Errorf("a tunnel was opened and carried %q", l)
	default:
	}
}

func TestWebSocketOptInRefusedByConfig(t *testing.T) {
	_, err := proxy.ParseConfig("p.yaml", []byte("routes:\n  - upstream: http://127.0.0.1:9\n    websocket: tunnel\n"))
	if err == nil || !strings.Contains(err.Error(), "p.yaml:3: routes[0].websocket: unknown value") {
		t.Fatalf("websocket: tunnel: got %v; want an error naming p.yaml:3 routes[0].websocket", err)
	}
	_, err = proxy.ParseConfig("p.yaml", []byte("routes:\n  - websocket: redact\n"))
	if err == nil || !strings.Contains(err.Error(), "p.yaml:2: routes[0].websocket: redact needs an upstream") {
		t.Fatalf("websocket: redact without upstream: got %v", err)
	}
}

// Leak 7: a made-up method is refused before forwarding and audited masked.
func TestNonStandardMethodRefused(t *testing.T) {
	up := newCapture(t, nil)
	f := start(t, oneRoute(up.URL, "generic"))
	for _, tc := range []struct {
		method string
		want   int
	}{
		{freshGitHubToken(), http.StatusNotImplemented},
		{"X" + fresh(30), http.StatusNotImplemented},
		{"get", http.StatusNotImplemented}, // methods are case-sensitive
		{"TRACE", http.StatusMethodNotAllowed},
	} {
		req, _ := http.NewRequest(tc.method, f.url+"/x", strings.NewReader(`{"a":1}`))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("%s: got %d; want %d", tc.method, resp.StatusCode, tc.want)
		}
		if tc.method != "TRACE" {
			noLeak(t, f, up, tc.method)
		}
	}
	if n := up.count(); n != 0 {
		t.Errorf("upstream got %d requests; want 0:\n%s", n, up.all())
	}
	eventually(t, "masked method in the audit", func() bool {
		f.srv.Audit().Sync()
		return strings.Count(f.audit.String(), `"method":"[REDACTED:method]"`) == 3
	})
}

// Leak 7: URL credentials in every spelling are masked in the audit record.
func TestAuditURLMasksCredentials(t *testing.T) {
	up := newCapture(t, nil)
	f := start(t, oneRoute(up.URL, "generic"))
	hex := func() string { return strings.ToLower(fmt.Sprintf("%x", fresh(32))) }
	cases := []struct{ name, uri, secret string }{}
	add := func(name, format, secret string) {
		cases = append(cases, struct{ name, uri, secret string }{name, fmt.Sprintf(format, secret), secret})
	}
	add("X-Goog-Signature", "/b/o?X-Goog-Algorithm=GOOG4-RSA-SHA256&X-Goog-Signature=%s", hex())
	add("CloudFront Signature", "/img.png?Expires=1700000000&Signature=%s&Key-Pair-Id=K2JCJMDEHXQW5F", fresh(40)+"~"+fresh(20)+"__")
	add("X-Amz-Signature", "/k?X-Amz-Date=20260101T000000Z&X-Amz-Signature=%s", hex())
	add("sig", "/q?sig=%s&se=2030-01-01", fresh(43))
	add("path parameter", "/app;jsessionid=%s/x", fresh(32))
	add("encoded name", "/x?api%%5Fkey=%s", fresh(32))
	add("encoded letter", "/x?%%70assword=%s", fresh(20))
	add("bracketed name", "/x?user[password]=%s", fresh(20))
	add("encoded brackets", "/x?user%%5Bpassword%%5D=%s", fresh(20))
	add("pw", "/x?pw=%s", fresh(20))
	add("pass", "/x?pass=%s", fresh(20))
	add("semicolon separator", "/x?a=1;pass=%s", fresh(20))
	add("token in path", "/hooks/%s/send", freshGitHubToken())
	add("encoded token in path", "/hooks/%s", strings.Replace(freshGitHubToken(), "_", "%5F", 1))
	for _, tc := range cases {
		req, _ := http.NewRequest(http.MethodPost, f.url+tc.uri, strings.NewReader(`{}`))
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		f.srv.Audit().Sync()
		if a := f.audit.String(); strings.Contains(a, tc.secret) || strings.Contains(a, strings.Replace(tc.secret, "%5F", "_", 1)) {
			t.Errorf("%s: the audit record holds the secret:\n%s", tc.name, a)
		}
	}
}

// Leak 7 and 13: the Host goes masked into the audit record and, through
// the header rules, into X-Forwarded-Host.
func TestHostMasked(t *testing.T) {
	up := newCapture(t, nil)
	f := start(t, oneRoute(up.URL, "generic"))
	secret := freshGitHubToken()
	req, _ := http.NewRequest(http.MethodPost, f.url+"/x", strings.NewReader(`{}`))
	req.Host = secret + ".example.com"
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || up.count() != 1 {
		t.Fatalf("status %d, upstream got %d requests", resp.StatusCode, up.count())
	}
	noLeak(t, f, up, secret)
}

// Leak 8: request and response trailers never carry a secret through.
func TestTrailersDropped(t *testing.T) {
	respSecret := freshGitHubToken()
	up := newCapture(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Trailer", "X-Debug-Token")
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"ok":true}`)
		w.Header().Set("X-Debug-Token", respSecret)
		w.Header().Set(http.TrailerPrefix+"X-Other", respSecret)
	})
	for _, redact := range []string{"request", "both"} {
		t.Run(redact, func(t *testing.T) {
			cfg := oneRoute(up.URL, "generic")
			cfg.Routes[0].Redact = redact
			f := start(t, cfg)
			reqSecret := freshGitHubToken()
			pr, pw := io.Pipe()
			go func() {
				io.WriteString(pw, `{"msg":"hello"}`)
				pw.Close()
			}()
			req, _ := http.NewRequest(http.MethodPost, f.url+"/x", pr)
			req.Header.Set("Content-Type", "application/json")
			req.Trailer = http.Header{"X-Checksum": {reqSecret}, "Authorization-Trailer": {"Bearer " + reqSecret}}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			wantStatus(t, resp, body, 200)
			var seen strings.Builder
			resp.Header.Write(&seen)
			resp.Trailer.Write(&seen)
			if strings.Contains(seen.String(), respSecret) {
				t.Errorf("the client got the upstream's trailer secret:\n%s", seen.String())
			}
			noLeak(t, f, up, reqSecret)
		})
	}
}

// Leak 9: a custom auth header never reaches the upstream, and a request
// without a valid token gets 401 whether a route matches or not.
func TestAuthHeaderStrippedAndNoRouteProbing(t *testing.T) {
	up := newCapture(t, nil)
	tok := "fm-" + fresh(32)
	env := map[string]string{"FM_TOKENS": tok}
	opt := func(o *proxy.Options) {
		o.LookupEnv = func(k string) (string, bool) { v, ok := env[k]; return v, ok }
		o.Literals = nil
	}
	cfg := oneRoute(up.URL, "generic")
	cfg.Auth = proxy.AuthConfig{TokensEnv: "FM_TOKENS", Header: "X-Flowmask-Token"}
	cfg.Routes[0].Match.PathPrefix = "/ingest"
	f := start(t, cfg, opt)
	for _, p := range []string{"/ingest", "/elsewhere", "/admin/../ingest"} {
		resp, body := post(t, f.url+p, "application/json", []byte(`{}`))
		wantStatus(t, resp, body, 401)
	}
	resp, body := post(t, f.url+"/ingest", "application/json", []byte(`{}`), "X-Flowmask-Token", "Bearer "+tok, "X-Copy", "Bearer "+tok)
	wantStatus(t, resp, body, 200)
	noLeak(t, f, up, tok)
	if up.count() != 1 {
		t.Fatalf("upstream got %d requests; want 1", up.count())
	}

	// A reload that changes the auth header strips the new one.
	tok2 := "fm-" + fresh(32)
	env["FM_TOKENS"] = tok2
	cfg2 := oneRoute(up.URL, "generic")
	cfg2.Auth = proxy.AuthConfig{TokensEnv: "FM_TOKENS", Header: "X-Other-Token"}
	if err := f.srv.Reload(cfg2); err != nil {
		t.Fatal(err)
	}
	resp, body = post(t, f.url+"/ingest", "application/json", []byte(`{}`), "X-Other-Token", "Bearer "+tok2)
	wantStatus(t, resp, body, 200)
	noLeak(t, f, up, tok2)
}

// Leak 13: response headers go through the header rules under
// redact: response and both.
func TestResponseHeadersRedacted(t *testing.T) {
	secret, cookie, nameSecret := freshGitHubToken(), fresh(32), freshGitHubToken()
	up := newCapture(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Debug", "token="+secret)
		w.Header().Set("Set-Cookie", "session="+cookie+"; HttpOnly")
		w.Header().Set("X-Api-Key", cookie)
		w.Header()["X-"+nameSecret] = []string{"1"} // a secret as a header name
		io.WriteString(w, `{"ok":true}`)
	})
	for _, redact := range []string{"response", "both"} {
		t.Run(redact, func(t *testing.T) {
			cfg := oneRoute(up.URL, "generic")
			cfg.Routes[0].Redact = redact
			f := start(t, cfg)
			resp, body := post(t, f.url+"/x", "application/json", []byte(`{}`))
			wantStatus(t, resp, body, 200)
			var h strings.Builder
			resp.Header.Write(&h)
			for _, s := range []string{secret, cookie, nameSecret} {
				if strings.Contains(strings.ToLower(h.String()), strings.ToLower(s)) {
					t.Errorf("response headers hold a secret:\n%s", h.String())
				}
			}
			if resp.Header.Get("Content-Type") != "application/json" {
				t.Errorf("Content-Type changed: %q", resp.Header.Get("Content-Type"))
			}
		})
	}
}
