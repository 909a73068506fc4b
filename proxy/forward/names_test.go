package forward_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/flowmask/flowmask/proxy/forward"
	"github.com/flowmask/flowmask/redactor"
)

// TestForwardNamesHoldSecretAnyCase: a known secret the client puts in a
// header name (sent lower-case on the wire, or mixed with another name that
// masks to the same text) or in the destination host is recorded in a case
// flowmask chose (net/http canonicalises header names, hosts are
// lower-cased), so it must be masked case-insensitively there: in the
// record's headers, host, URL and refusal message.
func TestForwardNamesHoldSecretAnyCase(t *testing.T) {
	up := newUpstream(t, false, func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	lit := "Qp7ZtR2mWx9KvB4nLs6H" + strings.ToUpper(fresh3(6))
	e := newFwdEnv(t, func(c *forward.ForwardConfig) { c.Allow = []string{up.hp} },
		func(f *forward.Forward) { f.SetLiterals([]redactor.Literal{{Source: "test", Value: lit}}) })
	c := e.client()

	req, _ := http.NewRequest(http.MethodGet, up.URL+"/x", nil)
	req.Header["x-"+strings.ToLower(lit)] = []string{"1"} // raw, lower-case on the wire
	req.Header["X-"+lit] = []string{"2"}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	// A destination named after the secret: refused (not allowed), and
	// recorded with the host lower-cased.
	req, _ = http.NewRequest(http.MethodGet, "http://"+lit+".example.invalid/y", nil)
	resp, err = c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("status %d for a destination not allowed, want 403", resp.StatusCode)
	}

	recs := e.waitRecords(2)
	if got := strings.ToLower(e.audit.String()); strings.Contains(got, strings.ToLower(lit)) {
		t.Errorf("a record holds the known secret (in some case):\n%s", e.audit.String())
	}
	var values []string
	for _, vs := range recs[0].Request.Headers {
		values = append(values, vs...)
	}
	if !strings.Contains(strings.Join(values, ","), "1") || !strings.Contains(strings.Join(values, ","), "2") {
		t.Errorf("header values lost when their names were masked: %v", recs[0].Request.Headers)
	}
}
