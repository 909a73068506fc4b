package forward_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/flowmask/flowmask/proxy/forward"
)

// streamUpstream records, per request, the body it read and whether the
// body ended cleanly (a request aborted part-way fails the read).
type streamUpstream struct {
	*httptest.Server
	hp   string
	mu   sync.Mutex
	got  [][]byte
	errs []error
}

func newStreamUpstream(t *testing.T) *streamUpstream {
	u := &streamUpstream{}
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		u.mu.Lock()
		u.got, u.errs = append(u.got, b), append(u.errs, err)
		u.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	u.hp = u.Listener.Addr().String()
	t.Cleanup(u.Close)
	return u
}

// ndjsonBody is about size bytes of NDJSON, a password on every line.
func ndjsonBody(secret string, size int) (body []byte, lines int) {
	var b bytes.Buffer
	for b.Len() < size {
		fmt.Fprintf(&b, `{"level":"info","msg":"charge created","n":%d,"password":"%s"}`+"\n", lines, secret)
		lines++
	}
	return b.Bytes(), lines
}

// logBody is about size bytes of a text log with a password on the first,
// the last and every 256th line (mostly clean, as logs are, so the test
// stays fast).
func logBody(secret string, size int) (body []byte, lines, secrets int) {
	var b bytes.Buffer
	for b.Len() < size {
		if lines%256 == 0 || b.Len()+200 >= size {
			fmt.Fprintf(&b, "2026-12-02T15:04:05Z level=info msg=\"login\" n=%d password=%s\n", lines, secret)
			secrets++
		} else {
			fmt.Fprintf(&b, "2026-12-02T15:04:05Z level=info msg=\"charge created\" n=%d amount=1200 currency=EUR\n", lines)
		}
		lines++
	}
	return b.Bytes(), lines, secrets
}

func postBody(t *testing.T, c *http.Client, url, ctype string, body []byte, gzipped bool) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	req.Header.Set("Content-Type", ctype)
	if gzipped {
		req.Header.Set("Content-Encoding", "gzip")
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// TestForwardRedactRequestStreams (issue 13, memory): a redact-requests
// body of a streamed format (text here; NDJSON and CSV take the same path
// with a window of one line or record) larger than the whole in-flight
// budget is not held: it streams through decoding and the redactor to the
// destination, every line masked, none lost. Holding it whole (as before)
// took it over the budget: 503.
func TestForwardRedactRequestStreams(t *testing.T) {
	secret := freshSecret(t)
	up := newStreamUpstream(t)
	e := newFwdEnv(t, func(c *forward.ForwardConfig) {
		c.Allow, c.RedactRequests = []string{up.hp}, []string{up.hp}
		c.MaxInflightDecoded = 14 << 20
	})
	body, lines, secrets := logBody(secret, 16<<20)
	wire := gz(body)
	resp := postBody(t, e.client(), up.URL+"/ingest", "text/plain", wire, true)
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("status %d; want 204", resp.StatusCode)
	}
	up.mu.Lock()
	got, err := up.got[0], up.errs[0]
	up.mu.Unlock()
	if err != nil {
		t.Fatalf("the destination's body did not end cleanly: %v", err)
	}
	if secretIn(got, secret) {
		t.Fatal("the secret reached the destination")
	}
	if n := bytes.Count(got, []byte(maskPassword)); n != secrets || bytes.Count(got, []byte("\n")) != lines {
		t.Fatalf("the destination got %d masked passwords in %d lines; want %d in %d", n, bytes.Count(got, []byte("\n")), secrets, lines)
	}
	r := e.waitRecords(1)[0]
	if br := r.Request; br == nil || !br.Redacted || br.Omitted != "" || br.Bytes != int64(len(wire)) || br.Encoding != "gzip" ||
		!strings.Contains(br.Body, maskPassword) || !br.Truncated || r.Redactions < secrets {
		t.Errorf("record: %+v, %d redactions", r.Request, r.Redactions)
	}
}

// TestForwardRedactRequestStreamFails: a streamed body that fails part-way
// (a gzip stream cut short, a body over max_body_bytes) aborts the
// destination's request (it never sees a clean end of body) and the client
// gets the refusal, not the destination's answer; the record says why.
func TestForwardRedactRequestStreamFails(t *testing.T) {
	secret := freshSecret(t)
	up := newStreamUpstream(t)
	e := newFwdEnv(t, func(c *forward.ForwardConfig) {
		c.Allow, c.RedactRequests = []string{up.hp}, []string{up.hp}
		c.MaxBodyBytes = 4 << 20
	})
	body, _ := ndjsonBody(secret, 3<<20)
	wire := gz(body)
	cut := wire[:len(wire)-64]
	big, _ := ndjsonBody(secret, 6<<20)
	for i, tc := range []struct {
		name string
		body []byte
		gz   bool
		want int
		code string
	}{
		{"cut gzip", cut, true, http.StatusBadRequest, "bad_encoding"},
		{"over max_body_bytes", big, false, http.StatusRequestEntityTooLarge, "body_too_large"},
	} {
		resp := postBody(t, e.client(), up.URL+"/ingest", "application/x-ndjson", tc.body, tc.gz)
		if resp.StatusCode != tc.want {
			t.Errorf("%s: status %d; want %d", tc.name, resp.StatusCode, tc.want)
		}
		up.mu.Lock()
		for j, err := range up.errs {
			if err == nil {
				t.Errorf("%s: request %d reached the destination whole (%d bytes)", tc.name, j, len(up.got[j]))
			}
			if secretIn(up.got[j], secret) {
				t.Errorf("%s: the secret reached the destination", tc.name)
			}
		}
		up.mu.Unlock()
		r := e.waitRecords(i + 1)[i]
		if r.Reason != tc.code || r.Status != tc.want || r.Request == nil || !strings.HasPrefix(r.Request.Omitted, "not passed on whole") {
			t.Errorf("%s: record: status %d, reason %q, request %+v", tc.name, r.Status, r.Reason, r.Request)
		}
	}
}

// TestForwardRedactRequestChargesHeldCopies (issue 13, memory): a JSON
// body is held whole; the budget is charged with what holding it costs
// (buffer, redacted copy, the engine's state: twelve times its length),
// not with its length only, so a document an eighth of the budget's size
// takes it over the budget and is refused with 503, and one well under
// that passes.
func TestForwardRedactRequestChargesHeldCopies(t *testing.T) {
	secret := freshSecret(t)
	up := newStreamUpstream(t)
	e := newFwdEnv(t, func(c *forward.ForwardConfig) {
		c.Allow, c.RedactRequests = []string{up.hp}, []string{up.hp}
		c.MaxInflightDecoded = 4 << 20
	})
	doc := func(n int) []byte {
		return []byte(`{"password":"` + secret + `","pad":"` + strings.Repeat("x", n) + `"}`)
	}
	for _, tc := range []struct {
		size, want int
	}{{512 << 10, http.StatusServiceUnavailable}, {200 << 10, http.StatusNoContent}} {
		req, _ := http.NewRequest(http.MethodPost, up.URL+"/in", bytes.NewReader(gz(doc(tc.size))))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Content-Encoding", "gzip")
		resp, err := e.client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("%d KiB JSON under a 4 MiB budget: status %d; want %d", tc.size>>10, resp.StatusCode, tc.want)
		}
	}
	up.mu.Lock()
	defer up.mu.Unlock()
	if len(up.got) != 1 || secretIn(up.got[0], secret) {
		t.Errorf("the destination got %d requests (want 1, redacted)", len(up.got))
	}
}
