package main

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestBombBodyDecodesToSize: the bomb decodes to exactly the asked size,
// lines each holding the secret (the last one cut at the size).
func TestBombBodyDecodesToSize(t *testing.T) {
	gz, err := bombBody(2)
	if err != nil {
		t.Fatal(err)
	}
	if len(gz) >= 64<<10 {
		t.Errorf("2 MiB compressed to %d bytes; want a bomb (< 64 KiB)", len(gz))
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		t.Fatal(err)
	}
	dec, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if len(dec) != 2<<20 {
		t.Fatalf("decoded %d bytes, want %d", len(dec), 2<<20)
	}
	if got, want := bytes.Count(dec, []byte(bombSecret)), (2<<20)/len(bombLine); got < want {
		t.Errorf("%d secrets, want at least %d", got, want)
	}
}

// TestBombUpstreamCountsLeaks: the upstream finds the secret in a gzip
// body even when it is split across reads, and not in a masked one.
func TestBombUpstreamCountsLeaks(t *testing.T) {
	up := &bombUpstream{}
	srv := httptest.NewServer(up)
	defer srv.Close()
	post := func(body []byte, gzipped bool) {
		t.Helper()
		if gzipped {
			var b bytes.Buffer
			zw := gzip.NewWriter(&b)
			zw.Write(body) //nolint:errcheck
			zw.Close()
			body = b.Bytes()
		}
		req, _ := http.NewRequest(http.MethodPost, srv.URL, bytes.NewReader(body))
		if gzipped {
			req.Header.Set("Content-Encoding", "gzip")
		}
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	pad := bytes.Repeat([]byte("x"), 64<<10-10) // the secret straddles the first 64 KiB read
	post(append(pad, []byte(bombSecret)...), true)
	post(bytes.Repeat([]byte(`{"api_key":"sk_live_[REDACTED]"}`+"\n"), 1000), false)
	if got := up.leaked.Load(); got != 1 {
		t.Errorf("leaked bodies %d, want 1", got)
	}
	if got := up.requests.Load(); got != 2 {
		t.Errorf("requests %d, want 2", got)
	}
}

func TestErrorReason(t *testing.T) {
	b := []byte(`{"error":{"status":413,"code":"decoded_too_large","message":"x"}}`)
	if got := errorReason(b); got != "(decoded_too_large)" {
		t.Errorf("errorReason = %q", got)
	}
}
