package forward_test

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/flowmask/flowmask/proxy/forward"
	"github.com/flowmask/flowmask/redactor/charset"
)

// Moved from proxy/body_test.go with the forward proxy.

// TestForwardRecordUnscannedSaysSo: a recorded body flowmask could not
// scan is marked omitted with the reason, and one it could (stacked gzip
// lines, BOM-less UTF-16) is recorded decoded and masked: no record holds
// the secret in any encoding or looks scanned when it was not.
func TestForwardRecordUnscannedSaysSo(t *testing.T) {
	secret := freshSecret(t)
	doc := `{"user":"alice","password":"` + secret + `","note":"` + strings.Repeat("padding ", 8) + `"}`
	up := newUpstream(t, false, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) })
	e := newFwdEnv(t, func(c *forward.ForwardConfig) { c.Allow = []string{up.hp} })
	c := e.client()
	cases := []struct {
		hdr      []string
		body     []byte
		scanned  bool
		encoding string
	}{
		{[]string{"Content-Type", "application/json", "Content-Encoding", "gzip", "Content-Encoding", "gzip"}, gz(gz([]byte(doc))), true, "gzip, gzip"},
		{[]string{"Content-Type", "application/json; charset=utf-8"}, enc(t, charset.UTF16LE, doc), true, ""},
		{[]string{"Content-Type", "application/json", "Content-Encoding", "compress"}, []byte(doc), false, ""},
	}
	for _, tc := range cases {
		req, _ := http.NewRequest(http.MethodPost, up.URL+"/in", bytes.NewReader(tc.body))
		for i := 0; i+1 < len(tc.hdr); i += 2 {
			req.Header[tc.hdr[i]] = append(req.Header[tc.hdr[i]], tc.hdr[i+1])
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	recs := e.waitRecords(len(cases))
	for i, tc := range cases {
		br := recs[i].Request
		if br == nil {
			t.Fatalf("record %d has no request", i)
		}
		if secretIn([]byte(br.Body), secret) {
			t.Errorf("record %d holds the secret: %+v", i, br)
		}
		switch {
		case tc.scanned && (br.Omitted != "" || !strings.Contains(br.Body, maskPassword) || br.Encoding != tc.encoding):
			t.Errorf("record %d: want the body decoded and masked, encoding %q; got %+v", i, tc.encoding, br)
		case !tc.scanned && (br.Omitted == "" || br.Body != ""):
			t.Errorf("record %d: want omitted with a reason and no body; got %+v", i, br)
		}
	}
}

// TestForwardRedactRequestBudget: redact-requests holds whole bodies; one
// that would take the process over max_inflight_decoded_bytes is refused
// with 503 and never reaches the destination.
func TestForwardRedactRequestBudget(t *testing.T) {
	secret := freshSecret(t)
	up := newUpstream(t, false, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) })
	e := newFwdEnv(t, func(c *forward.ForwardConfig) {
		c.Allow = []string{up.hp}
		c.RedactRequests = []string{up.hp}
		c.MaxInflightDecoded = 256 << 10
	})
	doc := []byte(`{"password":"` + secret + `","pad":"` + strings.Repeat("x", 512<<10) + `"}`)
	req, _ := http.NewRequest(http.MethodPost, up.URL+"/in", bytes.NewReader(gz(doc)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Content-Encoding", "gzip")
	resp, err := e.client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || len(up.got) != 0 {
		t.Fatalf("status %d, %d requests reached the destination", resp.StatusCode, len(up.got))
	}
}

// TestForwardRedactResponseBodies: redact-responses reads charsets and
// coding chains like every other path, and a destination's 429 whose body
// cannot be scanned keeps its status without the body.
func TestForwardRedactResponseBodies(t *testing.T) {
	secret := freshSecret(t)
	doc := `{"user":"alice","password":"` + secret + `","note":"` + strings.Repeat("padding ", 8) + `"}`
	up := newUpstream(t, false, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/utf16":
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			w.Write(enc(t, charset.UTF16LE, doc))
		case "/gzgz":
			w.Header().Set("Content-Type", "text/plain")
			w.Header().Add("Content-Encoding", "gzip")
			w.Header().Add("Content-Encoding", "gzip")
			w.Write(gz(gz([]byte("user=alice password=" + secret))))
		case "/429":
			w.Header().Set("Content-Type", "application/octet-stream")
			w.Header().Set("Retry-After", "3")
			w.WriteHeader(http.StatusTooManyRequests)
			io.WriteString(w, "password="+secret)
		}
	})
	e := newFwdEnv(t, func(c *forward.ForwardConfig) {
		c.Allow = []string{up.hp}
		c.RedactResponses = []string{up.hp}
	})
	c := e.client()
	for path, want := range map[string]int{"/utf16": 200, "/gzgz": 200, "/429": 429} {
		resp, err := c.Get(up.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want || secretIn(b, secret) {
			t.Errorf("%s: status %d (want %d), body %q", path, resp.StatusCode, want, b)
		}
		if want == 200 && !secretIn(b, maskPassword) {
			t.Errorf("%s: the masked body is missing: %q", path, b)
		}
	}
	for _, r := range e.waitRecords(3) {
		if r.Response != nil && secretIn([]byte(r.Response.Body), secret) {
			t.Errorf("record holds the secret: %+v", r.Response)
		}
	}
}
