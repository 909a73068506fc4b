package httpbody_test

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/andybalholm/brotli"
	"github.com/flowmask/flowmask/proxy/httpbody"
	"github.com/flowmask/flowmask/redactor/charset"
	"github.com/klauspost/compress/gzip"
)

const secret = "ghp_R8x2Kq9ZtLm4Vb7Nc1Pd5Wf3Hj6Ys0Ae2Qu8"

func gz(b []byte) []byte {
	var o bytes.Buffer
	w := gzip.NewWriter(&o)
	w.Write(b)
	w.Close()
	return o.Bytes()
}

func br(b []byte) []byte {
	var o bytes.Buffer
	w := brotli.NewWriter(&o)
	w.Write(b)
	w.Close()
	return o.Bytes()
}

func hdr(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Add(kv[i], kv[i+1])
	}
	return h
}

func roundTrip(t *testing.T, h http.Header, body []byte) (plain, back []byte) {
	t.Helper()
	c, err := httpbody.Classify(h, nil)
	if err != nil {
		t.Fatal(err)
	}
	rd, err := c.NewReader(bytes.NewReader(body), httpbody.Limits{MaxDecoded: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	plain, err = io.ReadAll(rd)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	w, err := rd.NewWriter(&out, true)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(plain)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return plain, out.Bytes()
}

func TestChainAcrossHeaderLines(t *testing.T) {
	text := []byte(`{"token":"` + secret + `"}`)
	for name, tc := range map[string]struct {
		h    http.Header
		body []byte
	}{
		"gzip then gzip lines":  {hdr("Content-Encoding", "gzip", "Content-Encoding", "gzip"), gz(gz(text))},
		"gzip + identity":       {hdr("Content-Encoding", "gzip", "Content-Encoding", "identity"), gz(text)},
		"comma list mixed case": {hdr("Content-Encoding", "GZip, Br"), br(gz(text))},
		"x-gzip":                {hdr("Content-Encoding", "x-gzip"), gz(text)},
	} {
		t.Run(name, func(t *testing.T) {
			plain, back := roundTrip(t, tc.h, tc.body)
			if !bytes.Equal(plain, text) {
				t.Fatalf("decoded %q", plain)
			}
			// Re-encoded the same way: decoding again gives the text.
			plain2, _ := roundTrip(t, tc.h, back)
			if !bytes.Equal(plain2, text) {
				t.Fatalf("re-encoded body decodes to %q", plain2)
			}
		})
	}
}

func TestClassifyRefuses(t *testing.T) {
	for name, h := range map[string]http.Header{
		"unknown coding":      hdr("Content-Encoding", "gzip", "Content-Encoding", "compress"),
		"two content types":   hdr("Content-Type", "application/json", "Content-Type", "text/plain"),
		"two charsets":        hdr("Content-Type", "text/plain; charset=utf-8; charset=utf-16le"),
		"unknown charset":     hdr("Content-Type", "text/plain; charset=x-klingon"),
		"malformed":           hdr("Content-Type", "text/plain; charset"),
		"too many layers":     hdr("Content-Encoding", "gzip, gzip, gzip, gzip"),
		"odd transfer coding": hdr("Transfer-Encoding", "gzip, chunked"),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := httpbody.Classify(h, nil)
			var he *httpbody.Error
			if !errors.As(err, &he) || he.Status < 400 {
				t.Fatalf("got %v; want a refusal", err)
			}
		})
	}
}

func TestCharsets(t *testing.T) {
	text := `password=` + secret
	u16, _ := charset.UTF16LE.Encode([]byte(text))
	u32, _ := charset.UTF32BE.Encode([]byte(text))
	for name, tc := range map[string]struct {
		h    http.Header
		body []byte
	}{
		"utf-16le BOM, labelled utf-8": {hdr("Content-Type", "text/plain; charset=utf-8"), append([]byte{0xFF, 0xFE}, u16...)},
		"utf-16le no BOM, no label":    {hdr("Content-Type", "text/plain"), u16},
		"utf-32be labelled":            {hdr("Content-Type", "text/plain; charset=utf-32be"), u32},
		"utf-16 gzip":                  {hdr("Content-Type", "text/plain", "Content-Encoding", "gzip"), gz(u16)},
	} {
		t.Run(name, func(t *testing.T) {
			plain, back := roundTrip(t, tc.h, tc.body)
			if string(plain) != text {
				t.Fatalf("decoded %q", plain)
			}
			if !bytes.Equal(back, tc.body) && !strings.Contains(name, "gzip") {
				t.Fatalf("re-encoded %x; want %x", back, tc.body)
			}
		})
	}
}

func TestBounds(t *testing.T) {
	bomb := gz(bytes.Repeat([]byte("a"), 4<<20))
	c, _ := httpbody.Classify(hdr("Content-Encoding", "gzip"), nil)
	rd, err := c.NewReader(bytes.NewReader(bomb), httpbody.Limits{MaxDecoded: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	_, err = io.Copy(io.Discard, rd)
	rd.Close()
	if !errors.Is(err, httpbody.ErrDecodedTooLarge) {
		t.Fatalf("bomb: %v", err)
	}
	b := httpbody.NewBudget(1, 1<<20)
	rd, err = c.NewReader(bytes.NewReader(bomb), httpbody.Limits{Budget: b})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.NewReader(bytes.NewReader(bomb), httpbody.Limits{Budget: b}); !errors.Is(err, httpbody.ErrBusy) {
		t.Fatalf("second body: %v; want ErrBusy", err)
	}
	_, err = io.Copy(io.Discard, rd)
	if !errors.Is(err, httpbody.ErrBudget) {
		t.Fatalf("budget: %v", err)
	}
	rd.Close()
	if b.InFlight() != 0 {
		t.Fatalf("in flight after close: %d", b.InFlight())
	}
	// A truncated gzip stream is a 400, not a short clean body.
	rd, err = c.NewReader(bytes.NewReader(bomb[:len(bomb)/2]), httpbody.Limits{})
	if err == nil {
		_, err = io.Copy(io.Discard, rd)
		rd.Close()
	}
	if he := httpbody.AsError(err); he == nil || he.Status != 400 {
		t.Fatalf("truncated: %v", err)
	}
}
