package forward_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/elazarl/goproxy"
	"github.com/flowmask/flowmask/proxy/forward"
	"github.com/flowmask/flowmask/proxy/mitmca"
	"github.com/flowmask/flowmask/redactor"
	"golang.org/x/crypto/bcrypt"
)

// Secrets the forward tests plant; none may appear in a record or a log.
const (
	fwdKnown    = "fwd-known-S3cr3t-Value-91ac"
	fwdPAT      = "ghp_R3aLt0k3nV4lu3aBcDeFgHiJkLmNoPqRsTuV"
	fwdPassword = "hunter2-hunter2"
	fwdSig      = "abcdEFGH1234abcdEFGH1234abcdEFGH1234abc%3D"
	fwdBearer   = "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlLXZhbHVl"
)

var fwdSecrets = []string{fwdKnown, fwdPAT, fwdPassword, "abcdEFGH1234abcdEFGH1234", "c2lnbmF0dXJlLXZhbHVl"}

// fwdBuf is a goroutine-safe buffer.
type fwdBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *fwdBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *fwdBuf) Sync() error { return nil }

func (s *fwdBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// fwdEnv is a Forward under httptest on 127.0.0.1 with a fresh CA.
type fwdEnv struct {
	t        testing.TB
	fw       *forward.Forward
	srv      *httptest.Server
	proxyURL *url.URL
	caDir    string
	caPool   *x509.CertPool
	audit    *fwdBuf
	logs     *fwdBuf
}

func newFwdEnv(t testing.TB, mut func(*forward.ForwardConfig), setup ...func(*forward.Forward)) *fwdEnv {
	t.Helper()
	e := &fwdEnv{t: t, caDir: t.TempDir(), audit: &fwdBuf{}, logs: &fwdBuf{}}
	if err := mitmca.Init(e.caDir, time.Now()); err != nil {
		t.Fatal(err)
	}
	pemCA, err := os.ReadFile(filepath.Join(e.caDir, mitmca.CertFile))
	if err != nil {
		t.Fatal(err)
	}
	e.caPool = x509.NewCertPool()
	e.caPool.AppendCertsFromPEM(pemCA)
	cfg := forward.DefaultForwardConfig()
	cfg.CADir, cfg.Audit, cfg.LogLevel = e.caDir, "stdout", "debug"
	if mut != nil {
		mut(cfg)
	}
	e.fw, err = forward.NewForward(cfg, forward.ForwardOptions{
		Literals:  []redactor.Literal{{Source: "test", Value: fwdKnown}},
		Stdout:    e.audit,
		LogOutput: e.logs,
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range setup {
		s(e.fw)
	}
	e.srv = httptest.NewServer(e.fw)
	e.proxyURL, _ = url.Parse(e.srv.URL)
	t.Cleanup(func() {
		e.srv.Close()
		e.fw.Close()
		e.checkNoSecrets()
	})
	return e
}

// client is a Go client using the proxy, trusting our CA and, with
// extra, a destination's own certificate.
func (e *fwdEnv) client(extra ...*x509.Certificate) *http.Client {
	pool := e.caPool.Clone()
	for _, c := range extra {
		pool.AddCert(c)
	}
	return &http.Client{Transport: &http.Transport{
		Proxy:             http.ProxyURL(e.proxyURL),
		TLSClientConfig:   &tls.Config{RootCAs: pool},
		DisableKeepAlives: true,
	}, Timeout: 20 * time.Second}
}

// records parses the audit output.
func (e *fwdEnv) records() []forward.ForwardRecord {
	e.t.Helper()
	var out []forward.ForwardRecord
	sc := bufio.NewScanner(strings.NewReader(e.audit.String()))
	sc.Buffer(make([]byte, 1<<20), 4<<20)
	for sc.Scan() {
		var r forward.ForwardRecord
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			e.t.Fatalf("record is not JSON: %v: %s", err, sc.Text())
		}
		out = append(out, r)
	}
	return out
}

// waitRecords waits (bounded) until n records are written.
func (e *fwdEnv) waitRecords(n int) []forward.ForwardRecord {
	e.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		recs := e.records()
		if len(recs) >= n {
			return recs
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("got %d records, want %d:\n%s", len(recs), n, e.audit.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (e *fwdEnv) checkNoSecrets() {
	for _, s := range fwdSecrets {
		if strings.Contains(e.audit.String(), s) {
			e.t.Errorf("audit output holds a planted secret (%d bytes)", len(s))
		}
		if strings.Contains(e.logs.String(), s) {
			e.t.Errorf("own logs hold a planted secret (%d bytes)", len(s))
		}
	}
}

// upstream is a destination on 127.0.0.1 that records what it got.
type upstream struct {
	*httptest.Server
	mu   sync.Mutex
	got  []upGot
	hp   string
	cert *x509.Certificate
}

type upGot struct {
	header http.Header
	body   []byte
	query  string
}

func newUpstream(t testing.TB, tlsOn bool, reply http.HandlerFunc) *upstream {
	t.Helper()
	u := &upstream{}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		u.mu.Lock()
		u.got = append(u.got, upGot{r.Header.Clone(), b, r.URL.RawQuery})
		u.mu.Unlock()
		reply(w, r)
	})
	if tlsOn {
		u.Server = httptest.NewTLSServer(h)
		u.cert = u.Certificate()
	} else {
		u.Server = httptest.NewServer(h)
	}
	u.hp = u.Listener.Addr().String()
	t.Cleanup(u.Close)
	return u
}

func (u *upstream) last(t *testing.T) upGot {
	t.Helper()
	u.mu.Lock()
	defer u.mu.Unlock()
	if len(u.got) == 0 {
		t.Fatal("the destination got no request")
	}
	return u.got[len(u.got)-1]
}

// caFile writes a destination's certificate as a PEM file (for upstream_ca).
func caFile(t testing.TB, c *x509.Certificate) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "upstream.pem")
	if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

const secretReply = `{"access_token":"` + fwdPAT + `","password":"` + fwdPassword + `","known":"` + fwdKnown + `","ok":true}`

func jsonReply(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Set-Cookie", "session="+fwdKnown)
	io.WriteString(w, secretReply)
}

func postSecret(t *testing.T, c *http.Client, u string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(`{"password":"`+fwdPassword+`","note":"`+fwdKnown+`"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", fwdBearer)
	req.Header.Set("X-Note", "k="+fwdKnown)
	req.Header.Set("Connection", "X-Hop")
	req.Header.Set("X-Hop", "1")
	req.Header.Set("Keep-Alive", "timeout=5")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return resp, string(b)
}

// TestForwardRecordMode: plain HTTP in record mode passes unchanged; the
// record holds the metadata and redacted bodies, and no secret.
func TestForwardRecordMode(t *testing.T) {
	up := newUpstream(t, false, jsonReply)
	e := newFwdEnv(t, func(c *forward.ForwardConfig) { c.Allow = []string{up.hp} })
	resp, body := postSecret(t, e.client(), up.URL+"/v1/items?sig="+fwdSig+"&page=2")
	if resp.StatusCode != 200 || body != secretReply {
		t.Fatalf("got %d %q; want 200 and the destination's body unchanged", resp.StatusCode, body)
	}
	g := up.last(t)
	if !strings.Contains(string(g.body), fwdPassword) || g.header.Get("Authorization") != fwdBearer || !strings.Contains(g.query, "abcdEFGH") {
		t.Errorf("record mode changed the request: %q %q", g.body, g.header.Get("Authorization"))
	}
	for _, h := range []string{"X-Hop", "Keep-Alive", "Proxy-Connection"} {
		if g.header.Get(h) != "" {
			t.Errorf("hop-by-hop header %s was forwarded", h)
		}
	}
	if g.header.Get("X-Note") == "" {
		t.Error("an end-to-end header was dropped")
	}
	recs := e.waitRecords(1)
	r := recs[0]
	if r.Kind != "http" || r.Method != "POST" || r.Host != up.hp || r.Status != 200 || r.UpstreamStatus != 200 || r.Mode != "record" {
		t.Errorf("record metadata: %+v", r)
	}
	if !strings.Contains(r.URL, "/v1/items?sig=[REDACTED:") || !strings.Contains(r.URL, "page=2") {
		t.Errorf("url %q: want the query redacted, the rest kept", r.URL)
	}
	if got := r.Request.Headers["Authorization"]; len(got) != 1 || got[0] != "Bearer [REDACTED:credential-header]" {
		t.Errorf("Authorization recorded as %q", got)
	}
	if got := r.Response.Headers["Set-Cookie"]; len(got) != 1 || got[0] != "[REDACTED:credential-header]" {
		t.Errorf("Set-Cookie recorded as %q", got)
	}
	if !strings.Contains(r.Request.Body, `"password":"[REDACTED:password]"`) || !strings.Contains(r.Response.Body, `"ok":true`) {
		t.Errorf("bodies: %q / %q", r.Request.Body, r.Response.Body)
	}
	if r.Request.Bytes == 0 || r.Response.Bytes != int64(len(secretReply)) {
		t.Errorf("bytes %d / %d", r.Request.Bytes, r.Response.Bytes)
	}
	if r.Redactions < 4 || r.Rules["known-secret"] < 2 || r.Rules["password"] < 2 {
		t.Errorf("counts %d %v", r.Redactions, r.Rules)
	}
	if r.Client == "" || r.DurationMS <= 0 || r.Time.IsZero() {
		t.Errorf("client/timing: %+v", r)
	}
}

// TestForwardInterceptRedactsResponses: an intercepted HTTPS host with
// redact_responses, through Go's client trusting our CA: the client gets
// masked bodies (also when the destination gzips), verified upstream TLS.
func TestForwardInterceptRedactsResponses(t *testing.T) {
	up := newUpstream(t, true, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/gz" {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Content-Encoding", "gzip")
			zw := gzip.NewWriter(w)
			io.WriteString(zw, secretReply)
			zw.Close()
			return
		}
		jsonReply(w, r)
	})
	e := newFwdEnv(t, func(c *forward.ForwardConfig) {
		c.Allow, c.Intercept, c.RedactResponses = []string{up.hp}, []string{up.hp}, []string{up.hp}
		c.UpstreamCA = caFile(t, up.cert)
	})
	c := e.client() // trusts only our CA: the destination's certificate would fail
	var serials []string
	for _, path := range []string{"/plain", "/gz"} {
		resp, body := postSecret(t, c, up.URL+path)
		if resp.TLS != nil {
			serials = append(serials, resp.TLS.PeerCertificates[0].SerialNumber.String())
		}
		if resp.StatusCode != 200 {
			t.Fatalf("%s: status %d %s", path, resp.StatusCode, body)
		}
		if resp.TLS == nil || resp.TLS.PeerCertificates[0].Issuer.Organization[0] != "flowmask" {
			t.Errorf("%s: not intercepted with our CA", path)
		}
		for _, s := range []string{fwdPAT, fwdPassword, fwdKnown} {
			if strings.Contains(body, s) {
				t.Errorf("%s: the client got a secret: %s", path, body)
			}
		}
		if !strings.Contains(body, `"password":"[REDACTED:password]"`) || !strings.Contains(body, `"ok":true`) {
			t.Errorf("%s: body %s", path, body)
		}
	}
	if len(serials) != 2 || serials[0] != serials[1] {
		t.Errorf("leaf certificates %v: want one cached leaf for both connections", serials)
	}
	recs := e.waitRecords(2)
	for _, r := range recs {
		if r.Kind != "https" || r.Mode != "redact-responses" || !r.Response.Redacted || r.Status != 200 || !strings.HasPrefix(r.URL, "https://"+up.hp+"/") {
			t.Errorf("record: %+v", r)
		}
	}
	if recs[1].Response.Encoding != "gzip" || recs[1].Response.Bytes == 0 {
		t.Errorf("gzip record: %+v", recs[1].Response)
	}
	// The upstream request was not changed (record mode for requests).
	if g := up.last(t); !strings.Contains(string(g.body), fwdPassword) {
		t.Errorf("request changed: %q", g.body)
	}
}

// TestForwardRedactsRequests: a redact_requests host gets masked bodies,
// gzip decoded; a body that cannot be scanned is refused, never sent.
func TestForwardRedactsRequests(t *testing.T) {
	up := newUpstream(t, false, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	e := newFwdEnv(t, func(c *forward.ForwardConfig) {
		c.Allow, c.RedactRequests = []string{up.hp}, []string{up.hp}
	})
	c := e.client()
	resp, _ := postSecret(t, c, up.URL+"/in")
	g := up.last(t)
	if resp.StatusCode != 200 || strings.Contains(string(g.body), fwdPassword) || strings.Contains(string(g.body), fwdKnown) ||
		!strings.Contains(string(g.body), "[REDACTED:password]") {
		t.Fatalf("status %d, destination got %q", resp.StatusCode, g.body)
	}
	if g.header.Get("Authorization") != fwdBearer {
		t.Errorf("headers are the client's business: Authorization changed")
	}
	var zb bytes.Buffer
	zw := gzip.NewWriter(&zb)
	io.WriteString(zw, `{"password":"`+fwdPassword+`"}`)
	zw.Close()
	req, _ := http.NewRequest("POST", up.URL+"/gz", bytes.NewReader(zb.Bytes()))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Content-Encoding", "gzip")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	g = up.last(t)
	if resp.StatusCode != 200 || string(g.body) != `{"password":"[REDACTED:password]"}` || g.header.Get("Content-Encoding") != "" {
		t.Errorf("gzip request: status %d, destination got %q (%q)", resp.StatusCode, g.body, g.header.Get("Content-Encoding"))
	}
	n := len(up.got)
	for _, tt := range []struct {
		name, ctype, enc string
		body             []byte
		want             int
	}{
		{"binary", "application/octet-stream", "", []byte(fwdPassword), http.StatusUnsupportedMediaType},
		{"unknown coding", "application/json", "compress", []byte("xx"), http.StatusUnsupportedMediaType},
		{"corrupt brotli", "application/json", "br", []byte("xx"), http.StatusBadRequest},
		{"corrupt gzip", "application/json", "gzip", zb.Bytes()[:len(zb.Bytes())-6], http.StatusBadRequest},
	} {
		req, _ := http.NewRequest("POST", up.URL+"/x", bytes.NewReader(tt.body))
		req.Header.Set("Content-Type", tt.ctype)
		if tt.enc != "" {
			req.Header.Set("Content-Encoding", tt.enc)
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.want {
			t.Errorf("%s: status %d; want %d", tt.name, resp.StatusCode, tt.want)
		}
	}
	if len(up.got) != n {
		t.Errorf("an unscannable body reached the destination")
	}
}

// TestForwardUnscannableResponse: a redact_responses body that cannot be
// scanned is not passed on: 502 before the headers, an aborted response
// when the encoding breaks part-way.
func TestForwardUnscannableResponse(t *testing.T) {
	var zb bytes.Buffer
	zw := gzip.NewWriter(&zb)
	io.WriteString(zw, strings.Repeat(`{"a":"b"}`, 5000))
	zw.Close()
	corrupt := append(append([]byte(nil), zb.Bytes()[:zb.Len()/2]...), bytes.Repeat([]byte{0xff}, 64)...)
	reply := func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/png":
			w.Header().Set("Content-Type", "image/png")
			io.WriteString(w, "\x89PNG "+fwdKnown)
		case "/br":
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Content-Encoding", "compress")
			io.WriteString(w, "xx")
		case "/corrupt":
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Content-Encoding", "gzip")
			w.Write(corrupt)
		}
	}
	plain := newUpstream(t, false, reply)
	secure := newUpstream(t, true, reply)
	e := newFwdEnv(t, func(c *forward.ForwardConfig) {
		c.Allow = []string{plain.hp, secure.hp}
		c.Intercept = []string{secure.hp}
		c.RedactResponses = []string{plain.hp, secure.hp}
		c.UpstreamCA = caFile(t, secure.cert)
	})
	c := e.client()
	for _, base := range []string{plain.URL, secure.URL} {
		for _, p := range []string{"/png", "/br"} {
			resp, err := c.Get(base + p)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusBadGateway || !strings.Contains(string(b), "unscannable_response") {
				t.Errorf("%s%s: %d %s; want 502 unscannable_response", base, p, resp.StatusCode, b)
			}
		}
		resp, err := c.Get(base + "/corrupt")
		if err != nil {
			t.Fatal(err)
		}
		_, err = io.ReadAll(resp.Body)
		resp.Body.Close()
		if err == nil {
			t.Errorf("%s/corrupt: the client read a clean end of a cut body; want an error", base)
		}
	}
	recs := e.waitRecords(6)
	aborted := 0
	for _, r := range recs {
		if r.Reason == "bad_encoding" {
			aborted++
		}
	}
	if aborted != 2 {
		t.Errorf("want 2 records with reason bad_encoding:\n%s", e.audit.String())
	}
}

// fakeNet is an injected resolver and a dialer that records every dial
// and never connects, so no test traffic reaches a real private,
// link-local or metadata address.
type fakeNet struct {
	mu    sync.Mutex
	names map[string][]netip.Addr
	dials []string
}

func (n *fakeNet) lookup(_ context.Context, host string) ([]netip.Addr, error) {
	if ips, ok := n.names[host]; ok {
		return ips, nil
	}
	return nil, errors.New("no such host")
}

func (n *fakeNet) dial(_ context.Context, _, addr string) (net.Conn, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.dials = append(n.dials, addr)
	return nil, errors.New("fake network: connection refused")
}

func (n *fakeNet) dialed() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]string(nil), n.dials...)
}

func addrs(s ...string) []netip.Addr {
	var out []netip.Addr
	for _, a := range s {
		out = append(out, netip.MustParseAddr(a))
	}
	return out
}

// TestForwardDestinationPolicy: private, loopback, metadata and mapped
// addresses are refused after resolution, before any dial; the dial goes
// to the checked address; the allow list is exact.
func TestForwardDestinationPolicy(t *testing.T) {
	fn := &fakeNet{names: map[string][]netip.Addr{
		"metadata.test": addrs("169.254.169.254"),
		"rebind.test":   addrs("93.184.216.34", "127.0.0.1"),
		"loop.test":     addrs("127.0.0.2"),
		"mapped.test":   addrs("::ffff:10.0.0.1"),
		"wire.test":     addrs("168.63.129.16"),
		"cgnat.test":    addrs("100.100.100.200"),
		"ula.test":      addrs("fd00:ec2::254"),
		"nat64.test":    addrs("64:ff9b::a9fe:a9fe"),
		"public.test":   addrs("93.184.216.34"),
		"internal.test": addrs("10.1.2.3"),
	}}
	e := newFwdEnv(t, nil, func(f *forward.Forward) { f.Lookup, f.Dial = fn.lookup, fn.dial })
	c := e.client()
	for _, tt := range []struct {
		url  string
		want int
	}{
		{"http://metadata.test/latest/meta-data/", 403},
		{"http://169.254.169.254/latest/meta-data/", 403},
		{"http://[::ffff:169.254.169.254]/", 403},
		{"http://rebind.test/", 403},
		{"http://loop.test:8080/", 403},
		{"http://localhost:8080/", 403},
		{"http://mapped.test/", 403},
		{"http://wire.test/", 403},
		{"http://cgnat.test/", 403},
		{"http://ula.test/", 403},
		{"http://nat64.test/", 403},
		{"http://0.0.0.0:80/", 403},
		{"http://[fe80::1]/", 403},
		{"http://192.168.1.1/", 403},
		{"http://public.test/", 502}, // allowed; the fake dialer fails
		{"http://nowhere.test/", 502},
	} {
		if tt.url == "http://localhost:8080/" {
			fn.names["localhost"] = addrs("127.0.0.1")
		}
		resp, err := c.Get(tt.url)
		if err != nil {
			t.Fatalf("%s: %v", tt.url, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.want {
			t.Errorf("%s: %d %s; want %d", tt.url, resp.StatusCode, b, tt.want)
		}
	}
	// CONNECT to a refused address: no tunnel, no dial.
	_, err := c.Get("https://metadata.test/")
	if err == nil {
		t.Error("CONNECT to a metadata address succeeded")
	}
	if got := fn.dialed(); len(got) != 1 || got[0] != "93.184.216.34:80" {
		t.Errorf("dials %q; want only the checked public address", got)
	}
	recs := e.waitRecords(17)
	if recs[0].Reason != "destination_refused" || !strings.Contains(recs[0].Message, "metadata") {
		t.Errorf("record: %+v", recs[0])
	}
	if r := recs[16]; r.Kind != "https" && r.Kind != "tunnel" || r.Reason != "destination_refused" {
		t.Errorf("CONNECT record: %+v", r)
	}

	// With an allow list: only exact entries, and an internal address only
	// when allow_networks holds it (an allow-listed name is not enough: see
	// TestForwardAllowedNameResolvesToBlocked).
	fn2 := &fakeNet{names: fn.names}
	e2 := newFwdEnv(t, func(c *forward.ForwardConfig) {
		c.Allow, c.AllowNetworks = []string{"internal.test:80", "public.test:443"}, []string{"10.1.2.0/24"}
	},
		func(f *forward.Forward) { f.Lookup, f.Dial = fn2.lookup, fn2.dial })
	c2 := e2.client()
	for _, tt := range []struct {
		url  string
		want int
	}{
		{"http://public.test/", 403},   // port 80 not listed
		{"http://internal.test/", 502}, // listed: dialled (and the fake fails)
		{"http://metadata.test/", 403}, // not listed
		{"http://internal.test:81/", 403},
	} {
		resp, err := c2.Get(tt.url)
		if err != nil {
			t.Fatalf("%s: %v", tt.url, err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.want {
			t.Errorf("allow list: %s: %d; want %d", tt.url, resp.StatusCode, tt.want)
		}
	}
	if got := fn2.dialed(); len(got) != 1 || got[0] != "10.1.2.3:80" {
		t.Errorf("dials %q; want 10.1.2.3:80 only", got)
	}
}

// TestForwardBlindTunnel: a CONNECT to a host not intercepted is tunnelled
// (the client sees the destination's own certificate) and recorded.
func TestForwardBlindTunnel(t *testing.T) {
	up := newUpstream(t, true, jsonReply)
	e := newFwdEnv(t, func(c *forward.ForwardConfig) { c.Allow = []string{up.hp} })
	resp, body := postSecret(t, e.client(up.cert), up.URL+"/t")
	if resp.StatusCode != 200 || body != secretReply {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	if !resp.TLS.PeerCertificates[0].Equal(up.cert) {
		t.Error("the tunnel was intercepted")
	}
	r := e.waitRecords(1)[0]
	if r.Kind != "tunnel" || r.Method != "CONNECT" || r.Host != up.hp || r.Status != 200 || r.Tunnel == nil ||
		r.Tunnel.BytesUp < 200 || r.Tunnel.BytesDown < int64(len(secretReply)) || r.Request != nil {
		t.Errorf("tunnel record: %+v %+v", r, r.Tunnel)
	}
}

// TestForwardProxyAuth: a non-loopback listener needs an auth file;
// missing or wrong credentials get 407 with Proxy-Authenticate; good ones
// pass and are never forwarded.
func TestForwardProxyAuth(t *testing.T) {
	cfg := forward.DefaultForwardConfig()
	cfg.Listen = "0.0.0.0:3128"
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "auth_file is required") {
		t.Errorf("non-loopback listener without auth: %v", err)
	}
	hash, _ := bcrypt.GenerateFromPassword([]byte("pa55-word-1"), bcrypt.MinCost)
	token := "tok-" + strings.Repeat("x", 20) + "-z9"
	af := filepath.Join(t.TempDir(), "auth")
	os.WriteFile(af, []byte("# users\nalice:"+string(hash)+"\n"+token+"\n"), 0o600)
	up := newUpstream(t, false, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	e := newFwdEnv(t, func(c *forward.ForwardConfig) { c.Allow, c.AuthFile = []string{up.hp}, af })
	for _, tt := range []struct {
		name string
		user *url.Userinfo
		want int
	}{
		{"none", nil, 407},
		{"wrong", url.UserPassword("alice", "nope"), 407},
		{"unknown", url.UserPassword("bob", "pa55-word-1"), 407},
		{"good", url.UserPassword("alice", "pa55-word-1"), 200},
		{"good again (cached)", url.UserPassword("alice", "pa55-word-1"), 200},
	} {
		pu := *e.proxyURL
		pu.User = tt.user
		c := &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(&pu)}}
		resp, err := c.Get(up.URL + "/a")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.want {
			t.Errorf("%s: %d; want %d", tt.name, resp.StatusCode, tt.want)
		}
		if tt.want == 407 && !strings.Contains(strings.Join(resp.Header.Values("Proxy-Authenticate"), ","), "Basic") {
			t.Errorf("%s: no Proxy-Authenticate", tt.name)
		}
	}
	if g := up.last(t); g.header.Get("Proxy-Authorization") != "" {
		t.Error("Proxy-Authorization was forwarded")
	}
	// Bearer token on CONNECT (blind tunnel to a TLS destination).
	tlsUp := newUpstream(t, true, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	e2 := newFwdEnv(t, func(c *forward.ForwardConfig) { c.Allow, c.AuthFile = []string{tlsUp.hp}, af })
	pool := x509.NewCertPool()
	pool.AddCert(tlsUp.cert)
	for _, tt := range []struct {
		tok  string
		fail bool
	}{{"Bearer " + token, false}, {"Bearer wrong-token-000000000", true}} {
		tr := &http.Transport{Proxy: http.ProxyURL(e2.proxyURL), TLSClientConfig: &tls.Config{RootCAs: pool},
			ProxyConnectHeader: http.Header{"Proxy-Authorization": {tt.tok}}}
		resp, err := (&http.Client{Transport: tr}).Get(tlsUp.URL + "/b")
		if (err != nil) != tt.fail {
			t.Errorf("bearer fail=%v: err %v", tt.fail, err)
		}
		if err == nil {
			resp.Body.Close()
		} else if !strings.Contains(err.Error(), "Proxy Authentication Required") {
			t.Errorf("bearer: %v; want 407", err)
		}
	}
	if strings.Contains(e.audit.String()+e2.audit.String(), token) {
		t.Error("a bearer token is in the records")
	}
}

// TestForwardWebSocket: an upgrade on an inspected host is refused unless
// allow_websocket names it; then the frames pass.
func TestForwardWebSocket(t *testing.T) {
	up := newUpstream(t, false, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "websocket" {
			http.Error(w, "want upgrade", 400)
			return
		}
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
		brw.Flush()
		line, _ := brw.ReadString('\n')
		io.WriteString(conn, "echo "+line)
	})
	secure := newUpstream(t, true, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "no") })
	e := newFwdEnv(t, func(c *forward.ForwardConfig) {
		c.Allow = []string{up.hp, secure.hp}
		c.Intercept = []string{secure.hp}
		c.UpstreamCA = caFile(t, secure.cert)
	})
	req, _ := http.NewRequest("GET", secure.URL+"/ws", nil)
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "websocket")
	resp, err := e.client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("intercepted upgrade: %d; want 403", resp.StatusCode)
	}
	handshake := func(e *fwdEnv) (string, net.Conn) {
		conn, err := net.Dial("tcp", e.proxyURL.Host)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(conn, "GET %s/ws HTTP/1.1\r\nHost: %s\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n", up.URL, up.hp)
		br := bufio.NewReader(conn)
		status, _ := br.ReadString('\n')
		for {
			l, err := br.ReadString('\n')
			if err != nil || l == "\r\n" {
				break
			}
		}
		if strings.Contains(status, "101") {
			io.WriteString(conn, "ping\n")
			echo, _ := br.ReadString('\n')
			return status + echo, conn
		}
		return status, conn
	}
	st, conn := handshake(e)
	conn.Close()
	if !strings.Contains(st, "403") {
		t.Errorf("plain upgrade without allow_websocket: %q; want 403", st)
	}
	e2 := newFwdEnv(t, func(c *forward.ForwardConfig) { c.Allow, c.AllowWebSocket = []string{up.hp}, []string{up.hp} })
	st, conn = handshake(e2)
	conn.Close()
	if !strings.Contains(st, "101") || !strings.Contains(st, "echo ping") {
		t.Errorf("allowed upgrade: %q", st)
	}
	if r := e2.waitRecords(1)[0]; !r.WebSocket || r.Status != 101 {
		t.Errorf("websocket record: %+v", r)
	}
}

// TestForwardCurl drives curl through the proxy: plain HTTP in record mode
// and an intercepted, response-redacted HTTPS host trusted via --cacert.
func TestForwardCurl(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl not installed")
	}
	plain := newUpstream(t, false, jsonReply)
	secure := newUpstream(t, true, jsonReply)
	e := newFwdEnv(t, func(c *forward.ForwardConfig) {
		c.Allow = []string{plain.hp, secure.hp}
		c.Intercept, c.RedactResponses = []string{secure.hp}, []string{secure.hp}
		c.UpstreamCA = caFile(t, secure.cert)
	})
	run := func(args ...string) string {
		out, err := exec.Command("curl", append([]string{"-sS", "--max-time", "20", "-x", e.srv.URL}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("curl %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	if got := run(plain.URL + "/c"); got != secretReply {
		t.Errorf("plain: %q; want unchanged", got)
	}
	got := run("--cacert", filepath.Join(e.caDir, mitmca.CertFile), "-H", "Authorization: "+fwdBearer, secure.URL+"/c?code="+fwdKnown)
	if strings.Contains(got, fwdPAT) || !strings.Contains(got, "[REDACTED:") {
		t.Errorf("https: %q; want redacted", got)
	}
	recs := e.waitRecords(2)
	if recs[1].Kind != "https" || !strings.Contains(recs[1].Request.Headers["User-Agent"][0], "curl") {
		t.Errorf("curl record: %+v", recs[1])
	}
}

// TestForwardConfigFile: only the forward: section is read, strictly,
// with file:line errors.
func TestForwardConfigFile(t *testing.T) {
	dir := t.TempDir()
	write := func(s string) string {
		p := filepath.Join(dir, "f.yaml")
		os.WriteFile(p, []byte(s), 0o600)
		return p
	}
	cfg, err := forward.LoadForwardConfig(write("routes: [{name: x}]\nsecrets: {env: [A]}\nforward:\n  listen: 127.0.0.1:3129\n  intercept: [api.example.com:443]\n  ca_dir: /ca\n  record_body_limit: 1KiB\n"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Listen != "127.0.0.1:3129" || cfg.RecordBodyLimit != 1024 || cfg.Audit != "stderr" || cfg.MaxBodyBytes == 0 {
		t.Errorf("cfg %+v", cfg)
	}
	if cfg, err := forward.LoadForwardConfig(write("forward:\n")); err != nil || cfg.Listen != forward.DefaultForwardListen {
		t.Errorf("empty forward section: %v %+v", err, cfg)
	}
	for _, tt := range []struct{ give, want string }{
		{"forward: [1]\n", "f.yaml:1: forward: want a mapping of keys, got a list"},
		{"forward:\n  listen: 127.0.0.1:1\n  intercpt: [a:1]\n", "f.yaml:3: forward.intercpt: unknown key"},
		{"forward:\n  allow:\n    - ok.example:443\n    - bad\n", "f.yaml:4: forward.allow[1]: want host:port"},
		{"forward:\n  redact_responses: [api.example.com:443]\n", "f.yaml:2: forward.redact_responses[0]: api.example.com:443 is HTTPS but not in intercept"},
		{"forward:\n  intercept: [a.example:443]\n", "forward.ca_dir: required"},
		{"forward:\n  listen: 0.0.0.0:3128\n", "f.yaml:2: forward.listen: 0.0.0.0:3128 is not a loopback address, so auth_file is required"},
		{"other: 1\n", "no forward: section"},
		{"forward:\n  record_body_limit: lots\n", "f.yaml:2: forward.record_body_limit: want a size"},
		// Every problem at once, in line order (unknown keys used to hide the rest).
		{"forward:\n  intercpt: [a:1]\n  max_body_bytes: -1\n  allow: [b]\n", "f.yaml:3: forward.max_body_bytes: a size must not be negative"},
		{"forward:\n  intercpt: [a:1]\n  max_body_bytes: -1\n  allow: [b]\n", "f.yaml:4: forward.allow[0]: want host:port"},
	} {
		_, err := forward.LoadForwardConfig(write(tt.give))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: %v; want %q", tt.give, err, tt.want)
		}
	}
}

// TestCAInit: mode 0600 key, ECDSA P-256 CA, never overwritten; goproxy's
// public CA is refused.
func TestCAInit(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ca")
	if err := mitmca.Init(dir, time.Now()); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(filepath.Join(dir, mitmca.KeyFile))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key mode %v %v", st.Mode(), err)
	}
	key1, _ := os.ReadFile(filepath.Join(dir, mitmca.KeyFile))
	crt, _ := os.ReadFile(filepath.Join(dir, mitmca.CertFile))
	b, _ := pem.Decode(crt)
	c, err := x509.ParseCertificate(b.Bytes)
	if err != nil || !c.IsCA || c.PublicKeyAlgorithm != x509.ECDSA {
		t.Errorf("CA cert: %v %v %v", err, c.IsCA, c.PublicKeyAlgorithm)
	}
	if err := mitmca.Init(dir, time.Now()); err == nil {
		t.Error("second init overwrote the CA")
	}
	if key2, _ := os.ReadFile(filepath.Join(dir, mitmca.KeyFile)); !bytes.Equal(key1, key2) {
		t.Error("the key changed")
	}
	bad := t.TempDir()
	os.WriteFile(filepath.Join(bad, mitmca.CertFile), goproxy.CA_CERT, 0o600)
	os.WriteFile(filepath.Join(bad, mitmca.KeyFile), goproxy.CA_KEY, 0o600)
	cfg := forward.DefaultForwardConfig()
	cfg.CADir, cfg.Intercept = bad, []string{"a.example:443"}
	if _, err := forward.NewForward(cfg, forward.ForwardOptions{Stderr: io.Discard}); err == nil || !strings.Contains(err.Error(), "public") {
		t.Errorf("goproxy's CA: %v; want refused", err)
	}
}

// TestForwardAuditReopen: the audit file is appended to at once and
// reopened for rotation.
func TestForwardAuditReopen(t *testing.T) {
	up := newUpstream(t, false, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	e := newFwdEnv(t, func(c *forward.ForwardConfig) { c.Allow, c.Audit = []string{up.hp}, path })
	get := func() {
		resp, err := e.client().Get(up.URL + "/r")
		if err != nil {
			t.Fatal(err)
		}
		io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	get()
	if b, _ := os.ReadFile(path); strings.Count(string(b), "\n") != 1 {
		t.Fatalf("audit file after one exchange: %q", b)
	}
	os.Rename(path, path+".1")
	if err := e.fw.Reopen(); err != nil {
		t.Fatal(err)
	}
	get()
	b, _ := os.ReadFile(path)
	old, _ := os.ReadFile(path + ".1")
	if strings.Count(string(b), "\n") != 1 || strings.Count(string(old), "\n") != 1 {
		t.Errorf("after reopen: new %q old %q", b, old)
	}
}

// FuzzParseForwardConfig: any input gives a config that validates or an
// error naming the file; never a panic.
func FuzzParseForwardConfig(f *testing.F) {
	f.Add([]byte("forward:\n  listen: 127.0.0.1:3128\n  intercept: [a.example:443]\n  ca_dir: /ca\n  redact_responses: [a.example:443]\n"))
	f.Add([]byte("forward:\n  allow: ['[::1]:80', 'x:0']\n  record_body_limit: 1KiB\n"))
	f.Add([]byte("proxy: {}\nforward: 3\n"))
	f.Add([]byte("forward:\n  listen: 0.0.0.0:1\n  auth_file: a\n  upstream_timeout: -1s\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := forward.ParseForwardConfig("f.yaml", data)
		if err != nil {
			if !strings.Contains(err.Error(), "f.yaml") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		if err := cfg.Validate(); err != nil {
			t.Fatalf("loaded config does not validate: %v", err)
		}
	})
}

// TestForwardMisdirected: inside an intercepted tunnel, a request for
// another host than the CONNECT target is refused, never sent there.
func TestForwardMisdirected(t *testing.T) {
	up := newUpstream(t, true, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "reached") })
	other := newUpstream(t, false, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "other") })
	e := newFwdEnv(t, func(c *forward.ForwardConfig) {
		c.Allow, c.Intercept, c.UpstreamCA = []string{up.hp, other.hp}, []string{up.hp}, caFile(t, up.cert)
	})
	conn, err := net.Dial("tcp", e.proxyURL.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", up.hp, up.hp)
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("CONNECT: %v %v", resp, err)
	}
	host, _, _ := net.SplitHostPort(up.hp)
	tc := tls.Client(conn, &tls.Config{RootCAs: e.caPool, ServerName: host})
	fmt.Fprintf(tc, "GET /x HTTP/1.1\r\nHost: %s\r\n\r\n", other.hp)
	resp, err = http.ReadResponse(bufio.NewReader(tc), nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusMisdirectedRequest || strings.Contains(string(b), "other") {
		t.Errorf("got %d %s; want 421", resp.StatusCode, b)
	}
	other.mu.Lock()
	defer other.mu.Unlock()
	if len(other.got) != 0 {
		t.Error("the request reached the other host")
	}
}

// TestForwardInterceptIsNotAllow: intercepting a host does not allow it,
// neither past an allow list nor to a loopback address.
func TestForwardInterceptIsNotAllow(t *testing.T) {
	up := newUpstream(t, true, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "reached") })
	fn := &fakeNet{names: map[string][]netip.Addr{"api.test": addrs("93.184.216.34")}}
	e := newFwdEnv(t, func(c *forward.ForwardConfig) {
		c.Allow, c.Intercept = []string{"files.test:443"}, []string{"api.test:443"}
	}, func(f *forward.Forward) { f.Lookup, f.Dial = fn.lookup, fn.dial })
	if _, err := e.client().Get("https://api.test/"); err == nil || !strings.Contains(err.Error(), "Forbidden") {
		t.Errorf("intercepted, not allowed: %v; want 403 on CONNECT", err)
	}
	e2 := newFwdEnv(t, func(c *forward.ForwardConfig) { c.Intercept, c.UpstreamCA = []string{up.hp}, caFile(t, up.cert) })
	if _, err := e2.client().Get(up.URL + "/"); err == nil || !strings.Contains(err.Error(), "Forbidden") {
		t.Errorf("intercepted loopback without allow: %v; want 403", err)
	}
	if got := fn.dialed(); len(got) != 0 {
		t.Errorf("dialled %q", got)
	}
	if r := e.waitRecords(1)[0]; r.Reason != "destination_not_allowed" || r.Kind != "https" {
		t.Errorf("record %+v", r)
	}
	if r := e2.waitRecords(1)[0]; r.Reason != "destination_refused" {
		t.Errorf("record %+v", r)
	}
	up.mu.Lock()
	defer up.mu.Unlock()
	if len(up.got) != 0 {
		t.Error("the loopback destination was reached")
	}
}

// TestForwardAuditToURL: records can go to an HTTP endpoint (such as a
// `flowmask proxy` route with a sink profile) as NDJSON batches.
func TestForwardAuditToURL(t *testing.T) {
	var mu sync.Mutex
	var got []string
	sinkSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, r.Header.Get("Content-Type")+"|"+string(b))
		mu.Unlock()
	}))
	defer sinkSrv.Close()
	up := newUpstream(t, false, jsonReply)
	e := newFwdEnv(t, func(c *forward.ForwardConfig) { c.Allow, c.Audit = []string{up.hp}, sinkSrv.URL+"/ingest" })
	postSecret(t, e.client(), up.URL+"/a")
	postSecret(t, e.client(), up.URL+"/b")
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		all := strings.Join(got, "\n")
		mu.Unlock()
		if strings.Count(all, `"kind":"http"`) == 2 {
			if !strings.HasPrefix(all, "application/x-ndjson|") || strings.Contains(all, fwdPassword) || strings.Contains(all, fwdKnown) {
				t.Errorf("sink got %q", all)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("sink got %q; want 2 records", all)
		}
		time.Sleep(20 * time.Millisecond)
	}
	bad := forward.DefaultForwardConfig()
	bad.Audit = "http://"
	if bad.Validate() == nil {
		t.Error("an audit URL without a host validated")
	}
}

// TestForwardRecordTruncates: recorded bodies are cut at
// record_body_limit after redaction, and say so.
func TestForwardRecordTruncates(t *testing.T) {
	up := newUpstream(t, false, jsonReply)
	e := newFwdEnv(t, func(c *forward.ForwardConfig) { c.Allow, c.RecordBodyLimit = []string{up.hp}, 20 })
	_, body := postSecret(t, e.client(), up.URL+"/t")
	if body != secretReply {
		t.Fatalf("record mode changed the body: %q", body)
	}
	r := e.waitRecords(1)[0]
	if len(r.Response.Body) != 20 || !r.Response.Truncated || r.Response.Bytes != int64(len(secretReply)) || r.Rules["password"] != 2 {
		t.Errorf("response record %+v, rules %v", r.Response, r.Rules)
	}
}
