package forward_test

// Tests for the forward-proxy leak classes of issue 13 (10, 11, 12): each
// goes through the real Forward on loopback with real clients.

import (
	"bufio"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/elazarl/goproxy"
	"github.com/flowmask/flowmask/proxy/forward"
	"github.com/flowmask/flowmask/proxy/mitmca"
)

// resetMidBody answers 200 with a chunked JSON body, sends part of it and
// then drops the connection (a TCP reset on plain HTTP).
func resetMidBody(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	io.WriteString(w, `{"items":["`+strings.Repeat("a", 4096))
	w.(http.Flusher).Flush()
	conn, _, err := w.(http.Hijacker).Hijack()
	if err != nil {
		return
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		tc.SetLinger(0) // RST, not FIN
	}
	conn.Close()
}

// TestForwardUpstreamResetAbortsClient (issue 13, leak 10): in record
// mode, a destination that fails part-way through its body must not turn
// into a clean, truncated 200: the client's connection is aborted and the
// record says the exchange failed.
func TestForwardUpstreamResetAbortsClient(t *testing.T) {
	for _, tlsOn := range []bool{false, true} {
		name := map[bool]string{false: "http", true: "intercepted-https"}[tlsOn]
		t.Run(name, func(t *testing.T) {
			up := newUpstream(t, tlsOn, resetMidBody)
			e := newFwdEnv(t, func(c *forward.ForwardConfig) {
				c.Allow = []string{up.hp}
				if tlsOn {
					c.Intercept, c.UpstreamCA = []string{up.hp}, caFile(t, up.cert)
				}
			})
			resp, err := e.client().Get(up.URL + "/export")
			if err == nil {
				_, err = io.ReadAll(resp.Body)
				resp.Body.Close()
			}
			if err == nil {
				t.Errorf("the client read a cut body as a whole one (status %d)", resp.StatusCode)
			}
			r := e.waitRecords(1)[0]
			if r.Status != 0 || r.Reason != "upstream_aborted" {
				t.Errorf("record does not say the exchange failed: status %d reason %q message %q", r.Status, r.Reason, r.Message)
			}
			if r.UpstreamStatus != http.StatusOK {
				t.Errorf("upstream status %d; want 200", r.UpstreamStatus)
			}
		})
	}
}

// connectThrough opens a CONNECT tunnel to hp through the proxy.
func connectThrough(t *testing.T, e *fwdEnv, hp string) (net.Conn, *bufio.Reader) {
	t.Helper()
	conn, err := net.Dial("tcp", e.proxyURL.Host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	fmt.Fprintf(conn, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", hp, hp)
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("CONNECT: %v %v", resp, err)
	}
	return conn, br
}

// TestForwardTunnelHeaderLimit (issue 13, leak 11): a request header
// beyond max_header_bytes inside an intercepted tunnel gets 431 and the
// connection is closed; the header is not forwarded nor recorded.
func TestForwardTunnelHeaderLimit(t *testing.T) {
	up := newUpstream(t, true, jsonReply)
	e := newFwdEnv(t, func(c *forward.ForwardConfig) {
		c.Allow, c.Intercept, c.UpstreamCA = []string{up.hp}, []string{up.hp}, caFile(t, up.cert)
	})
	big := "k=" + fwdKnown + strings.Repeat("x", 100<<10) // over the 64KiB default
	req, _ := http.NewRequest(http.MethodGet, up.URL+"/big", nil)
	req.Header.Set("X-Big-Note", big)
	resp, err := e.client().Do(req)
	if err != nil {
		t.Fatalf("no answer: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("status %d; want 431", resp.StatusCode)
	}
	if !resp.Close {
		t.Error("the connection was kept open after 431")
	}
	up.mu.Lock()
	n := len(up.got)
	up.mu.Unlock()
	if n != 0 {
		t.Errorf("the destination got %d requests", n)
	}
	time.Sleep(50 * time.Millisecond) // a record would be written by now
	if strings.Contains(e.audit.String(), "xxxxxxxx") || strings.Contains(strings.ToLower(e.audit.String()), "x-big-note") {
		t.Error("the oversized header was recorded")
	}
}

// TestForwardCleartextInTunnel (issue 13, leak 12): cleartext HTTP inside
// an intercepted CONNECT is inspected like any other exchange, the first
// and every following request on the kept-alive tunnel.
func TestForwardCleartextInTunnel(t *testing.T) {
	up := newUpstream(t, false, jsonReply)
	e := newFwdEnv(t, func(c *forward.ForwardConfig) {
		c.Allow, c.Intercept, c.RedactRequests = []string{up.hp}, []string{up.hp}, []string{up.hp}
	})
	conn, br := connectThrough(t, e, up.hp)
	body := `{"password":"` + fwdPassword + `","note":"` + fwdKnown + `"}`
	for i := range 3 {
		fmt.Fprintf(conn, "POST /c%d HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", i, up.hp, len(body), body)
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("request %d: status %d", i, resp.StatusCode)
		}
	}
	up.mu.Lock()
	got := append([]upGot(nil), up.got...)
	up.mu.Unlock()
	if len(got) != 3 {
		t.Fatalf("the destination got %d requests; want 3", len(got))
	}
	for i, g := range got {
		if strings.Contains(string(g.body), fwdPassword) || strings.Contains(string(g.body), fwdKnown) {
			t.Errorf("request %d reached the destination unredacted", i)
		}
	}
	recs := e.waitRecords(3)
	for i, r := range recs {
		if r.Request == nil || !r.Request.Redacted || r.Redactions == 0 {
			t.Errorf("record %d: not scanned: %+v", i, r)
		}
	}
}

// TestForwardTLSKeepAliveEveryExchange: every request on one kept-alive
// intercepted TLS connection is redacted, not only the first.
func TestForwardTLSKeepAliveEveryExchange(t *testing.T) {
	up := newUpstream(t, true, jsonReply)
	e := newFwdEnv(t, func(c *forward.ForwardConfig) {
		c.Allow, c.Intercept, c.RedactRequests = []string{up.hp}, []string{up.hp}, []string{up.hp}
		c.UpstreamCA = caFile(t, up.cert)
	})
	c := e.client()
	c.Transport.(*http.Transport).DisableKeepAlives = false
	for range 3 {
		resp, _ := postSecret(t, c, up.URL+"/k")
		if resp.StatusCode != 200 {
			t.Fatalf("status %d", resp.StatusCode)
		}
	}
	up.mu.Lock()
	defer up.mu.Unlock()
	for i, g := range up.got {
		if strings.Contains(string(g.body), fwdPassword) {
			t.Errorf("request %d reached the destination unredacted", i)
		}
	}
}

// TestForwardAllowedNameResolvesToBlocked (issue 13, leak 12): a name on
// the allow list that resolves to a metadata, loopback or private address
// is refused after DNS, before any dial; a listed IP literal or
// allow_networks permits the address.
func TestForwardAllowedNameResolvesToBlocked(t *testing.T) {
	fn := &fakeNet{names: map[string][]netip.Addr{
		"api.partner.test":  addrs("169.254.169.254"),
		"db.partner.test":   addrs("93.184.216.34", "10.9.8.7"),
		"loop.partner.test": addrs("127.0.0.1"),
	}}
	e := newFwdEnv(t, func(c *forward.ForwardConfig) {
		c.Allow = []string{"api.partner.test:80", "db.partner.test:80", "loop.partner.test:443", "10.0.0.9:80"}
		c.Intercept = []string{"loop.partner.test:443"}
	}, func(f *forward.Forward) { f.Lookup, f.Dial = fn.lookup, fn.dial })
	c := e.client()
	for _, u := range []string{"http://api.partner.test/latest/meta-data/", "http://db.partner.test/"} {
		resp, err := c.Get(u)
		if err != nil {
			t.Fatalf("%s: %v", u, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s: %d; want 403", u, resp.StatusCode)
		}
	}
	if _, err := c.Get("https://loop.partner.test/"); err == nil {
		t.Error("CONNECT to an allow-listed name on loopback succeeded")
	}
	if got := fn.dialed(); len(got) != 0 {
		t.Errorf("dialled %q; want nothing", got)
	}
	// An IP literal on the allow list is the operator naming the address.
	resp, err := c.Get("http://10.0.0.9/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := fn.dialed(); len(got) != 1 || got[0] != "10.0.0.9:80" {
		t.Errorf("dialled %q; want 10.0.0.9:80", got)
	}
	for _, r := range e.waitRecords(3)[:3] {
		if r.Reason != "destination_refused" {
			t.Errorf("record %s: reason %q", r.Host, r.Reason)
		}
	}
}

// TestForwardRefusesGoproxyKey (issue 13, leak 12): a CA whose key is
// goproxy's public one is refused even when the certificate is new (the
// key is compared by SubjectPublicKeyInfo, not the certificate bytes).
func TestForwardRefusesGoproxyKey(t *testing.T) {
	dir := t.TempDir()
	key := goproxy.GoproxyCa.PrivateKey
	signer, ok := key.(crypto.Signer)
	if !ok {
		t.Fatal("goproxy key has no public key")
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(42), Subject: pkix.Name{CommonName: "innocent-looking CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, signer.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	kd, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, mitmca.CertFile), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(filepath.Join(dir, mitmca.KeyFile), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kd}), 0o600)
	cfg := forward.DefaultForwardConfig()
	cfg.CADir, cfg.Intercept, cfg.Audit = dir, []string{"api.test:443"}, "off"
	_, err = forward.NewForward(cfg, forward.ForwardOptions{LogOutput: &fwdBuf{}})
	if err == nil || !strings.Contains(err.Error(), "goproxy") {
		t.Errorf("NewForward with goproxy's key: %v; want a refusal", err)
	}
	// A CA of our own with another key still loads.
	own := t.TempDir()
	if err := mitmca.Init(own, time.Now()); err != nil {
		t.Fatal(err)
	}
	cfg.CADir = own
	fw, err := forward.NewForward(cfg, forward.ForwardOptions{LogOutput: &fwdBuf{}})
	if err != nil {
		t.Fatal(err)
	}
	fw.Close()
}

// TestForwardUnaskedSwitchInTunnel (issue 13, leak 12): a destination that
// answers 101 to a request that asked for no upgrade must not turn the
// rest of the intercepted connection into a blind pipe: the 101 is
// refused and the next request on the tunnel is still redacted.
func TestForwardUnaskedSwitchInTunnel(t *testing.T) {
	raw := make(chan []byte, 1)
	up := newUpstream(t, false, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/switch" {
			jsonReply(w, r)
			return
		}
		conn, brw, err := w.(http.Hijacker).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		io.WriteString(conn, "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n")
		conn.SetReadDeadline(time.Now().Add(2 * time.Second))
		b, _ := io.ReadAll(brw)
		raw <- b
	})
	e := newFwdEnv(t, func(c *forward.ForwardConfig) {
		c.Allow, c.Intercept, c.RedactRequests = []string{up.hp}, []string{up.hp}, []string{up.hp}
	})
	conn, br := connectThrough(t, e, up.hp)
	fmt.Fprintf(conn, "GET /switch HTTP/1.1\r\nHost: %s\r\n\r\n", up.hp)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	if resp.StatusCode == http.StatusSwitchingProtocols {
		t.Error("an unasked 101 reached the client")
	}
	body := `{"password":"` + fwdPassword + `"}`
	fmt.Fprintf(conn, "POST /after HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", up.hp, len(body), body)
	if resp, err := http.ReadResponse(br, nil); err == nil {
		io.Copy(io.Discard, resp.Body)
	}
	conn.Close()
	select {
	case b := <-raw:
		if strings.Contains(string(b), fwdPassword) {
			t.Error("the next request went through the switched connection unredacted")
		}
	case <-time.After(5 * time.Second):
	}
	up.mu.Lock()
	defer up.mu.Unlock()
	for _, g := range up.got {
		if strings.Contains(string(g.body), fwdPassword) {
			t.Error("a request reached the destination unredacted")
		}
	}
}
