package proxy

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/andybalholm/brotli"
	"github.com/flowmask/flowmask/redactor"
	"github.com/flowmask/flowmask/redactor/charset"
	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zlib"
	"github.com/klauspost/compress/zstd"
	"github.com/valyala/fastjson"
)

const fuzzCanary = "canary-Sup3rS3cret-7f3a9c"

func fuzzRedactor(tb testing.TB) *redactor.Redactor {
	r, err := redactor.New(redactor.Config{Literals: []redactor.Literal{{Source: "fuzz", Value: fuzzCanary}}})
	if err != nil {
		tb.Fatal(err)
	}
	return r
}

// FuzzOTLPAttributes: valid JSON stays valid, a sensitive attribute value
// never survives, and nothing panics.
func FuzzOTLPAttributes(f *testing.F) {
	f.Add(`{"attributes":[{"key":"password","value":{"stringValue":"hunter2-hunter2"}},{"key":"n","value":{"intValue":"3"}}]}`)
	f.Add(`[{"key":"token","value":{"x":[1,{"y":"z"}],"stringValue":"abc\"def"}}]`)
	f.Add(`{"key":1,"value":{}}`)
	f.Add(` [ ] `)
	r := fuzzRedactor(f)
	f.Fuzz(func(t *testing.T, s string) {
		if fastjson.Validate(s) != nil {
			return
		}
		out, _ := otlpAttributes(r, []byte(s))
		if fastjson.ValidateBytes(out) != nil {
			t.Fatalf("invalid output %q from %q", out, s)
		}
		if again, st := otlpAttributes(r, out); st.Redactions != 0 || !bytes.Equal(again, out) {
			t.Fatalf("not idempotent: %q -> %q", out, again)
		}
	})
}

func FuzzHECWriter(f *testing.F) {
	f.Add(`{"event":"Hello"}{"event":{"password":"hunter2-hunter2"}}`+"\n", false)
	f.Add(`{"event":"`+fuzzCanary+`"} {"a":[1,"}"]}`, true)
	f.Add(`{"event":"unterminated`, true)
	r := fuzzRedactor(f)
	f.Fuzz(func(t *testing.T, s string, text bool) {
		var out bytes.Buffer
		w := newHECWriter(&out, r, text)
		_, err := io.Copy(w, strings.NewReader(s))
		if cerr := w.Close(); err == nil {
			err = cerr
		}
		if err == nil && strings.Contains(out.String(), fuzzCanary) {
			t.Fatalf("canary survived: %q", out.String())
		}
	})
}

func FuzzBulkWriter(f *testing.F) {
	f.Add(`{"index":{"_id":"1"}}`+"\n"+`{"a":"`+fuzzCanary+`"}`+"\n", false)
	f.Add(`{"delete":{"_id":"2"}}`+"\r\n"+`{"update":{}}`+"\n"+`{"doc":{}}`, true)
	r := fuzzRedactor(f)
	f.Fuzz(func(t *testing.T, s string, text bool) {
		var out bytes.Buffer
		w := &bulkWriter{dst: &out, red: r, text: text, max: 1 << 20}
		_, err := io.Copy(w, strings.NewReader(s))
		if cerr := w.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return
		}
		// Framing is kept: same number of lines.
		if strings.Count(out.String(), "\n") != strings.Count(s, "\n") {
			t.Fatalf("line count changed: %q -> %q", s, out.String())
		}
	})
}

// SecretInAnyDecoding reports whether secret appears in b read any way an
// attacker or a sink might read it: as is, or after undoing up to three
// layers of gzip, zlib, raw deflate, zstd or brotli, each in UTF-8,
// UTF-16 or UTF-32 of either byte order. Exported for the external tests.
func SecretInAnyDecoding(b []byte, secret string) bool {
	forms := [][]byte{[]byte(secret)}
	for _, e := range []charset.Encoding{charset.UTF16LE, charset.UTF16BE, charset.UTF32LE, charset.UTF32BE} {
		f, _ := e.Encode([]byte(secret))
		forms = append(forms, f)
	}
	var walk func(b []byte, depth int) bool
	walk = func(b []byte, depth int) bool {
		for _, f := range forms {
			if bytes.Contains(b, f) {
				return true
			}
		}
		if depth == 0 || len(b) == 0 {
			return false
		}
		for _, open := range decompressors {
			r, err := open(bytes.NewReader(b))
			if err != nil {
				continue
			}
			d, _ := io.ReadAll(io.LimitReader(r, 64<<20))
			if len(d) > 0 && walk(d, depth-1) {
				return true
			}
		}
		return false
	}
	return walk(b, 3)
}

var decompressors = []func(io.Reader) (io.Reader, error){
	func(r io.Reader) (io.Reader, error) { return gzip.NewReader(r) },
	func(r io.Reader) (io.Reader, error) { return zlib.NewReader(r) },
	func(r io.Reader) (io.Reader, error) { return flate.NewReader(r), nil },
	func(r io.Reader) (io.Reader, error) { return zstd.NewReader(r, zstd.WithDecoderConcurrency(1)) },
	func(r io.Reader) (io.Reader, error) { return brotli.NewReader(r), nil },
}
