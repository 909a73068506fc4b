package httpbody_test

import (
	"bytes"
	"github.com/flowmask/flowmask/proxy/internal/leakcheck"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/andybalholm/brotli"
	"github.com/flowmask/flowmask/proxy/httpbody"
	"github.com/flowmask/flowmask/redactor"
	"github.com/flowmask/flowmask/redactor/charset"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zlib"
	"github.com/klauspost/compress/zstd"
)

// FuzzPipeline runs fuzzed header lines and a body holding a known secret
// (in a fuzzed charset and coding chain) through Classify, the Reader, the
// engine and the Writer, as the proxies do. Either the pipeline refuses,
// or its output, decoded as its headers say, holds no secret, and neither
// does any UTF-16/32 reading of the raw output.
func FuzzPipeline(f *testing.F) {
	f.Add("gzip|gzip", "text/plain", uint8(0b10_00_00_00), uint8(0), uint8(0))
	f.Add("GZIP, br", "application/json", uint8(0b10_11_00_00), uint8(2), uint8(1))
	f.Add("identity|gzip", "text/plain; charset=utf-8", uint8(0b01_00_00_00), uint8(1), uint8(0))
	f.Add("", "text/plain; charset=utf-8; charset=utf-16le", uint8(0), uint8(1), uint8(0))
	f.Add("deflate|zstd", "application/json", uint8(0b10_01_10_00), uint8(4), uint8(0))
	f.Add("x-gzip", `text/plain; charset="UTF-16"`, uint8(0b01_00_00_00), uint8(5), uint8(1))
	f.Add("", "application/x-ndjson; charset=utf-32", uint8(0), uint8(5), uint8(1))
	red, err := redactor.New(redactor.Config{Literals: []redactor.Literal{{Source: "fuzz", Value: secret}}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, ce, ct string, layers, cs, keep uint8) {
		h := http.Header{}
		for _, v := range strings.Split(ce, "|") {
			if v != "" {
				h.Add("Content-Encoding", v)
			}
		}
		for _, v := range strings.Split(ct, "|") {
			if v != "" {
				h.Add("Content-Type", v)
			}
		}
		doc := "note=" + secret + " " + strings.Repeat("text ", 8)
		encs := []charset.Encoding{charset.UTF8, charset.UTF16LE, charset.UTF16LE, charset.UTF16BE, charset.UTF32LE, charset.UTF32BE}
		k := int(cs) % len(encs)
		body, _ := encs[k].Encode([]byte(doc))
		if k == 2 || k == 5 {
			body = append(encs[k].BOM(), body...)
		}
		for i := 0; i < int(layers>>6); i++ {
			body = leakcheck.Compress(int(layers>>(2*i))&3, body)
		}
		c, err := httpbody.Classify(h, nil)
		if err != nil {
			return
		}
		rd, err := c.NewReader(bytes.NewReader(body), httpbody.Limits{MaxDecoded: 1 << 20})
		if err != nil {
			return
		}
		defer rd.Close()
		var out bytes.Buffer
		w, err := rd.NewWriter(&out, keep&1 == 1)
		if err != nil {
			return
		}
		bw := red.NewWriter(w, c.Format)
		_, err = io.Copy(bw, rd)
		if e := bw.Close(); err == nil {
			err = e
		}
		if e := w.Close(); err == nil {
			err = e
		}
		if err != nil {
			return // refused: nothing would be forwarded
		}
		plain := out.Bytes()
		if keep&1 == 1 {
			// Undo the chain the headers name, as a receiver would.
			for i := len(c.Codings) - 1; i >= 0; i-- {
				plain = decompressWith(c.Codings[i], plain)
			}
		}
		for _, e := range []charset.Encoding{charset.UTF8, charset.UTF16LE, charset.UTF16BE, charset.UTF32LE, charset.UTF32BE} {
			form, _ := e.Encode([]byte(secret))
			if bytes.Contains(plain, form) {
				t.Fatalf("the secret came out (%s) for %v", e, h)
			}
		}
	})
}

func decompressWith(k httpbody.Coding, b []byte) []byte {
	var r io.Reader
	var err error
	switch k {
	case httpbody.Gzip:
		r, err = gzip.NewReader(bytes.NewReader(b))
	case httpbody.Deflate:
		r, err = zlib.NewReader(bytes.NewReader(b))
	case httpbody.Zstd:
		var d *zstd.Decoder
		d, err = zstd.NewReader(bytes.NewReader(b), zstd.WithDecoderConcurrency(1))
		if err == nil {
			defer d.Close()
		}
		r = d
	case httpbody.Brotli:
		r = brotli.NewReader(bytes.NewReader(b))
	}
	if err != nil {
		panic(err)
	}
	out, err := io.ReadAll(r)
	if err != nil {
		panic(err)
	}
	return out
}
