package forward_test

import (
	"bytes"
	"io"
	"net/http"
	"path/filepath"
	"testing"

	"github.com/flowmask/flowmask/proxy/forward"
)

// BenchmarkForwardRecord measures one plain-HTTP exchange in record mode
// through the forward proxy (client, proxy and destination on loopback).
func BenchmarkForwardRecord(b *testing.B) {
	body := []byte(`{"user":"svc","password":"hunter2-hunter2","items":[` + string(bytes.Repeat([]byte(`{"id":1,"status":"ok"},`), 40)) + `{}]}`)
	up := newUpstream(b, false, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	})
	e := newFwdEnv(b, func(c *forward.ForwardConfig) {
		c.Allow, c.Audit = []string{up.hp}, filepath.Join(b.TempDir(), "audit.jsonl")
	})
	tr := &http.Transport{Proxy: http.ProxyURL(e.proxyURL), MaxIdleConnsPerHost: 8}
	c := &http.Client{Transport: tr}
	b.SetBytes(int64(2 * len(body)))
	b.ReportAllocs()
	for b.Loop() {
		resp, err := c.Post(up.URL+"/x", "application/json", bytes.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}

// BenchmarkForwardRedactRequest measures one plain-HTTP exchange whose
// 1 KiB JSON request body (with a password) is redacted inline.
func BenchmarkForwardRedactRequest(b *testing.B) {
	body := []byte(`{"user":"svc","password":"hunter2-hunter2","items":[` + string(bytes.Repeat([]byte(`{"id":1,"status":"ok"},`), 40)) + `{}]}`)
	up := newUpstream(b, false, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	e := newFwdEnv(b, func(c *forward.ForwardConfig) {
		c.Allow, c.RedactRequests, c.Audit = []string{up.hp}, []string{up.hp}, filepath.Join(b.TempDir(), "audit.jsonl")
	})
	tr := &http.Transport{Proxy: http.ProxyURL(e.proxyURL), MaxIdleConnsPerHost: 8}
	c := &http.Client{Transport: tr}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		resp, err := c.Post(up.URL+"/x", "application/json", bytes.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}
