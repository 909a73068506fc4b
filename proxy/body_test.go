package proxy_test

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"testing"

	"github.com/andybalholm/brotli"
	"github.com/flowmask/flowmask/proxy"
	"github.com/flowmask/flowmask/redactor/charset"
)

// freshSecret is a password no rule or literal knows: only its key masks it.
func freshSecret(t testing.TB) string {
	var b [12]byte
	rand.Read(b[:])
	return "Pw" + hex.EncodeToString(b[:]) + "x9"
}

func brEncode(b []byte) []byte {
	var o bytes.Buffer
	w := brotli.NewWriter(&o)
	w.Write(b)
	w.Close()
	return o.Bytes()
}

func enc(t testing.TB, e charset.Encoding, s string) []byte {
	b, err := e.Encode([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// postHeaders posts body with header lines given as pairs; Add keeps
// repeated names as separate lines on the wire.
func postHeaders(t *testing.T, url string, body []byte, hdr ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header[hdr[i]] = append(req.Header[hdr[i]], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

// bodyCase is a body with its header lines; refuse says a refusal is the
// only right answer (nothing may reach the upstream).
type bodyCase struct {
	name   string
	hdr    []string
	body   []byte
	refuse bool
}

// checkBodyCases sends each case through a generic route and checks that
// the upstream never sees the secret, in any decoding: the body is either
// refused (nothing forwarded) or forwarded with the secret masked.
func checkBodyCases(t *testing.T, secret string, cases []bodyCase) {
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			up := newSink(t, nil)
			f := start(t, oneRoute(up.URL, "generic"))
			resp, b := postHeaders(t, f.url+"/", tc.body, tc.hdr...)
			reqs := up.requests()
			for _, g := range reqs {
				if proxy.SecretInAnyDecoding(g.body, secret) {
					t.Fatalf("the upstream got the secret (status %d, headers %v)", resp.StatusCode, g.header)
				}
			}
			if resp.StatusCode < 300 {
				if len(reqs) != 1 {
					t.Fatalf("status %d but the upstream got %d requests", resp.StatusCode, len(reqs))
				}
				if tc.refuse {
					t.Fatalf("status %d; want a refusal", resp.StatusCode)
				}
				return
			}
			if len(reqs) != 0 || resp.StatusCode < 400 || resp.StatusCode >= 500 || !strings.Contains(string(b), `"code"`) {
				t.Fatalf("refusal: status %d, %d upstream requests, body %s", resp.StatusCode, len(reqs), b)
			}
		})
	}
}

// TestBodyCodingChain: Content-Encoding in several header lines, comma
// lists, mixed case and unknown codings is one chain, decoded whole or
// refused with 415. Each case runs as JSON and as text (text has no JSON
// check that would refuse a half-decoded body by luck).
func TestBodyCodingChain(t *testing.T) {
	secret := freshSecret(t)
	for _, kind := range []struct{ ctype, doc string }{
		{"application/json", `{"user":"alice","password":"` + secret + `"}`},
		{"text/plain", "user=alice password=" + secret + " done"},
	} {
		doc := []byte(kind.doc)
		ct := kind.ctype
		t.Run(ct, func(t *testing.T) {
			checkBodyCases(t, secret, []bodyCase{
				{name: "gzip line then gzip line", hdr: []string{"Content-Type", ct, "Content-Encoding", "gzip", "Content-Encoding", "gzip"}, body: gz(gz(doc))},
				{name: "gzip line then identity line", hdr: []string{"Content-Type", ct, "Content-Encoding", "gzip", "Content-Encoding", "identity"}, body: gz(doc)},
				{name: "identity line then gzip line", hdr: []string{"Content-Type", ct, "Content-Encoding", "identity", "Content-Encoding", "gzip"}, body: gz(doc)},
				{name: "comma list mixed case", hdr: []string{"Content-Type", ct, "Content-Encoding", "GZip , BR"}, body: brEncode(gz(doc))},
				{name: "brotli", hdr: []string{"Content-Type", ct, "Content-Encoding", "br"}, body: brEncode(doc)},
				{name: "unknown coding after gzip", hdr: []string{"Content-Type", ct, "Content-Encoding", "gzip", "Content-Encoding", "compress"}, body: gz(doc), refuse: true},
				{name: "two content types", hdr: []string{"Content-Type", "application/octet-stream", "Content-Type", ct}, body: doc, refuse: true},
				{name: "gzip body without Content-Encoding", hdr: []string{"Content-Type", ct}, body: gz(doc), refuse: true},
				{name: "gzip body under identity", hdr: []string{"Content-Type", ct, "Content-Encoding", "identity"}, body: gz(doc), refuse: true},
			})
		})
	}
}

// TestBodyCharsets: UTF-16/32 with or without BOM or label, a BOM that
// contradicts the label, and ambiguous parameters are decoded and scanned
// or refused; never forwarded unscanned. As JSON and as text.
func TestBodyCharsets(t *testing.T) {
	secret := freshSecret(t)
	for _, kind := range []struct{ ctype, doc string }{
		{"application/json", `{"user":"alice","password":"` + secret + `","note":"` + strings.Repeat("padding ", 8) + `"}`},
		{"text/plain", "user=alice password=" + secret + " " + strings.Repeat("padding ", 8)},
	} {
		doc, ct := kind.doc, kind.ctype
		bom16le := append([]byte{0xFF, 0xFE}, enc(t, charset.UTF16LE, doc)...)
		t.Run(ct, func(t *testing.T) {
			checkBodyCases(t, secret, []bodyCase{
				{name: "utf-16le BOM labelled utf-8", hdr: []string{"Content-Type", ct + "; charset=utf-8"}, body: bom16le},
				{name: "utf-16le no BOM labelled utf-8", hdr: []string{"Content-Type", ct + "; charset=utf-8"}, body: enc(t, charset.UTF16LE, doc)},
				{name: "utf-16be no BOM no label", hdr: []string{"Content-Type", ct}, body: enc(t, charset.UTF16BE, doc)},
				{name: "utf-16 labelled, BOM says LE", hdr: []string{"Content-Type", ct + "; charset=utf-16"}, body: bom16le},
				{name: "utf-32le no BOM", hdr: []string{"Content-Type", ct}, body: enc(t, charset.UTF32LE, doc)},
				{name: "utf-16le gzip", hdr: []string{"Content-Type", ct, "Content-Encoding", "gzip"}, body: gz(bom16le)},
				{name: "two charset parameters", hdr: []string{"Content-Type", ct + "; charset=utf-8; charset=utf-16le"}, body: enc(t, charset.UTF16LE, doc), refuse: true},
				{name: "conflicting charset case", hdr: []string{"Content-Type", ct + "; charset=utf-8; CHARSET=utf-16le"}, body: enc(t, charset.UTF16LE, doc), refuse: true},
				{name: "unknown charset", hdr: []string{"Content-Type", ct + "; charset=x-unknown-7"}, body: []byte(doc), refuse: true},
				{name: "malformed parameters", hdr: []string{"Content-Type", ct + "; charset"}, body: enc(t, charset.UTF16LE, doc), refuse: true},
			})
		})
	}
}

// TestBodyCharsetRoundTrip: a UTF-16 body reaches the upstream redacted
// and still in UTF-16 with its BOM.
func TestBodyCharsetRoundTrip(t *testing.T) {
	secret := freshSecret(t)
	doc := `{"password":"` + secret + `"}`
	up := newSink(t, nil)
	f := start(t, oneRoute(up.URL, "generic"))
	body := append([]byte{0xFF, 0xFE}, enc(t, charset.UTF16LE, doc)...)
	resp, b := postHeaders(t, f.url+"/", body, "Content-Type", "application/json; charset=utf-16")
	wantStatus(t, resp, b, 200)
	g := up.only(t)
	if !bytes.HasPrefix(g.body, []byte{0xFF, 0xFE}) {
		t.Fatalf("BOM lost: % x", g.body[:4])
	}
	text, err := charset.UTF16LE.Decode(g.body[2:])
	if err != nil || !json.Valid(text) || !strings.Contains(string(text), maskPassword) {
		t.Fatalf("upstream got %q (%v)", text, err)
	}
}

// TestBodyInflightBudget: a body that would take the process over its
// decoded-bytes budget is refused with 503 and never forwarded.
func TestBodyInflightBudget(t *testing.T) {
	secret := freshSecret(t)
	up := newSink(t, nil)
	cfg := oneRoute(up.URL, "generic")
	cfg.Limits.MaxInflightDecoded = 256 << 10
	f := start(t, cfg)
	doc := []byte(`{"password":"` + secret + `","pad":"` + strings.Repeat("x", 512<<10) + `"}`)
	resp, b := postHeaders(t, f.url+"/", gz(doc), "Content-Type", "application/json", "Content-Encoding", "gzip")
	wantStatus(t, resp, b, http.StatusServiceUnavailable)
	if !strings.Contains(string(b), "decode_budget") || len(up.requests()) != 0 {
		t.Fatalf("body %s, %d upstream requests", b, len(up.requests()))
	}
}

// TestBodyErrorStatusKept: an upstream 503/429 whose body cannot be
// scanned reaches the client with its status (and Retry-After), without
// the body.
func TestBodyErrorStatusKept(t *testing.T) {
	secret := freshSecret(t)
	for _, status := range []int{http.StatusServiceUnavailable, http.StatusTooManyRequests} {
		up := newSink(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/octet-stream")
			w.Header().Set("Retry-After", "7")
			w.WriteHeader(status)
			io.WriteString(w, "password="+secret)
		})
		cfg := oneRoute(up.URL, "generic")
		cfg.Routes[0].Redact = "both"
		f := start(t, cfg)
		resp, b := post(t, f.url+"/", "application/json", []byte(`{"a":1}`))
		wantStatus(t, resp, b, status)
		if resp.Header.Get("Retry-After") != "7" || strings.Contains(string(b), secret) {
			t.Fatalf("%d: Retry-After %q, body %q", status, resp.Header.Get("Retry-After"), b)
		}
	}
}

// TestBodyBrotliUpstream: a client asking for br, gzip through a route
// that redacts responses, from an upstream that answers in brotli when
// asked: 200, the secret masked. curl --compressed when curl exists.
func TestBodyBrotliUpstream(t *testing.T) {
	secret := freshSecret(t)
	doc := []byte(`{"user":"alice","password":"` + secret + `"}`)
	up := newSink(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		ae := r.Header.Get("Accept-Encoding")
		switch {
		case strings.Contains(ae, "br"):
			w.Header().Set("Content-Encoding", "br")
			w.Write(brEncode(doc))
		case strings.Contains(ae, "gzip"):
			w.Header().Set("Content-Encoding", "gzip")
			w.Write(gz(doc))
		default:
			w.Write(doc)
		}
	})
	cfg := oneRoute(up.URL, "generic")
	cfg.Routes[0].Redact = "response"
	f := start(t, cfg)
	if curl, err := exec.LookPath("curl"); err == nil {
		out, err := exec.Command(curl, "-sS", "--compressed", "-w", "\n%{http_code}", f.url+"/x").Output()
		if err != nil {
			t.Fatalf("curl: %v", err)
		}
		s := string(out)
		if !strings.HasSuffix(s, "\n200") || strings.Contains(s, secret) || !strings.Contains(s, maskPassword) {
			t.Fatalf("curl --compressed got %q", s)
		}
	}
	req, _ := http.NewRequest(http.MethodGet, f.url+"/x", nil)
	req.Header.Set("Accept-Encoding", "br, gzip")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("status %d, %v", resp.StatusCode, err)
	}
	if resp.Header.Get("Content-Encoding") != "br" {
		t.Fatalf("Content-Encoding %q; want br (the client asked for it)", resp.Header.Get("Content-Encoding"))
	}
	plain, err := io.ReadAll(brotli.NewReader(bytes.NewReader(raw)))
	if err != nil || strings.Contains(string(plain), secret) || !strings.Contains(string(plain), maskPassword) {
		t.Fatalf("decoded response %q (%v)", plain, err)
	}
	if proxy.SecretInAnyDecoding(raw, secret) {
		t.Fatal("the secret reached the client")
	}
}

// TestBodyFluentBitJSONLines: the request Fluent Bit's http output sends
// with format json_lines (NDJSON under Content-Type: application/json) is
// accepted on the generic route; every record is redacted and stays valid.
func TestBodyFluentBitJSONLines(t *testing.T) {
	secret := freshSecret(t)
	up := newSink(t, nil)
	f := start(t, oneRoute(up.URL, "generic"))
	body := `{"date":1764680400.123456,"log":"GET /health 200","stream":"stdout"}` + "\n" +
		`{"date":1764680401.5,"log":"login ok","password":"` + secret + `","stream":"stdout"}` + "\n" +
		`{"date":1764680402.0,"log":"token ` + canary + `","stream":"stderr"}` + "\n"
	req, _ := http.NewRequest(http.MethodPost, f.url+"/", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Fluent-Bit")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	wantStatus(t, resp, b, 200)
	g := up.only(t)
	lines := strings.Split(strings.TrimSuffix(string(g.body), "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("upstream got %d lines: %q", len(lines), g.body)
	}
	for _, l := range lines {
		if !json.Valid([]byte(l)) {
			t.Fatalf("invalid record %q", l)
		}
	}
	if proxy.SecretInAnyDecoding(g.body, secret) || strings.Contains(string(g.body), canary) {
		t.Fatalf("secret forwarded: %s", g.body)
	}
	// A sink that takes one document (Loki's JSON push) still refuses it.
	lup := newSink(t, nil)
	lf := start(t, oneRoute(lup.URL, "loki-json"))
	resp, b = post(t, lf.url+"/loki/api/v1/push", "application/json", []byte(body))
	wantStatus(t, resp, b, http.StatusUnprocessableEntity)
	if len(lup.requests()) != 0 {
		t.Fatal("the Loki upstream got a JSON sequence")
	}
}
