package httpbody_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/flowmask/flowmask/proxy/httpbody"
	"github.com/klauspost/compress/gzip"
)

func jsonBody(n int) []byte {
	var b strings.Builder
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, `{"ts":"2026-12-02T13:00:%02dZ","level":"info","msg":"request %d served","user":"u%d"}`+"\n", i%60, i, i)
	}
	return []byte(b.String()[:n])
}

// BenchmarkGzipRoundTrip decodes and re-encodes a gzip body: "per-body"
// builds a new gzip reader and writer for each body (flowmask before the
// pipeline), "pooled" is the pipeline's Reader/Writer with Reset codecs.
func BenchmarkGzipRoundTrip(b *testing.B) {
	for _, size := range []int{1 << 10, 64 << 10} {
		body := gz(jsonBody(size))
		b.Run(fmt.Sprintf("per-body/%dKiB", size>>10), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(size))
			buf := make([]byte, 32<<10)
			var out bytes.Buffer
			for b.Loop() {
				zr, err := gzip.NewReader(bytes.NewReader(body))
				if err != nil {
					b.Fatal(err)
				}
				out.Reset()
				zw, _ := gzip.NewWriterLevel(&out, gzip.BestSpeed)
				if _, err := io.CopyBuffer(zw, zr, buf); err != nil {
					b.Fatal(err)
				}
				zw.Close()
				zr.Close()
			}
		})
		h := http.Header{"Content-Encoding": {"gzip"}, "Content-Type": {"application/x-ndjson"}}
		b.Run(fmt.Sprintf("pooled/%dKiB", size>>10), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(size))
			buf := make([]byte, 32<<10)
			var out bytes.Buffer
			c, err := httpbody.Classify(h, nil)
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				rd, err := c.NewReader(bytes.NewReader(body), httpbody.Limits{MaxDecoded: 1 << 30})
				if err != nil {
					b.Fatal(err)
				}
				out.Reset()
				w, _ := rd.NewWriter(&out, true)
				if _, err := io.CopyBuffer(w, rd, buf); err != nil {
					b.Fatal(err)
				}
				w.Close()
				rd.Close()
			}
		})
	}
}
