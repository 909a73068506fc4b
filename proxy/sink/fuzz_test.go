package sink

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/flowmask/flowmask/redactor"
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
	f.Add(`{"key":"password","value":{"bytesValue":"aHVudGVyMi1odW50ZXIy"}}`)
	f.Add(`{"key":"password","key":"x","value":{"intValue":"738291047563"},"value":{"arrayValue":{"values":[{"stringValue":"a"}]}}}`)
	f.Add(`{"body":{"bytesValue":"Y2FuYXJ5LVN1cDNyUzNjcmV0LTdmM2E5Yw=="},"x":{"bytesValue":"!!"}}`)
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
	f.Add(`{"index":{"_id":"`+fuzzCanary+`"}}`+"\n"+`{"a":1}`+"\n"+`{"x":"`+fuzzCanary+`"}`+"\n", false)
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
		if strings.Contains(out.String(), fuzzCanary) {
			t.Fatalf("canary survived: %q", out.String())
		}
		// Framing is kept: same number of lines.
		if strings.Count(out.String(), "\n") != strings.Count(s, "\n") {
			t.Fatalf("line count changed: %q -> %q", s, out.String())
		}
	})
}
