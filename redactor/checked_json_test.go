package redactor_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/flowmask/flowmask/redactor"
	"github.com/valyala/fastjson"
)

// TestCheckedJSON: CheckJSON accepts exactly what the engine's validator
// accepts (one strict JSON value, surrounding whitespace allowed), and
// AppendJSON on a checked document writes what Append(FormatJSON) writes,
// with the same counts.
func TestCheckedJSON(t *testing.T) {
	r := def(t)
	for _, in := range []string{
		`{"password":"hunter2-hunter2","user":"ann"}`,
		"  [ {\"token\":\"ghp_4f2Kq9ZxT1mB7nR3vW8yL0cH6dJ5sA2eU9pQ\"} ]\n",
		`{"conn":"Server=tcp:db.example.net;Password=Tr0ub4dor&3xyz;"}`,
		`"AKIAIOSFODNN7EXAMPLE"`,
		`{"msg":"nothing to see"}`,
		`{"nested":"{\"client_secret\":\"c1ient-s3cret-v4lue-0123\"}"}`,
		`[1,2,3]`,
	} {
		doc, err := redactor.CheckJSON([]byte(in))
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		want, wst := r.Append(nil, []byte(in), redactor.FormatJSON)
		got, gst := r.AppendJSON([]byte("prefix:"), doc)
		if string(got) != "prefix:"+string(want) || fmt.Sprint(gst) != fmt.Sprint(wst) {
			t.Errorf("%s:\n AppendJSON %s %+v\n Append     %s %+v", in, got, gst, want, wst)
		}
	}
	for _, in := range []string{"", "  \n", `{"a":1} {"b":2}`, `{"a":`, "{\"a\":\"x\ny\"}", `NaN`, `{"a":01}`, `{'a':1}`} {
		if _, err := redactor.CheckJSON([]byte(in)); err == nil {
			t.Errorf("%q: checked as JSON", in)
		}
	}
	if out, st := r.AppendJSON([]byte("x"), redactor.CheckedJSON{}); string(out) != "x" || st.Bytes != 0 {
		t.Errorf("zero CheckedJSON: %q %+v", out, st)
	}
}

// FuzzCheckedJSON: CheckJSON agrees with fastjson's validator, and
// AppendJSON agrees with Append(FormatJSON) on every checked document, so
// skipping the second validation changes no output.
func FuzzCheckedJSON(f *testing.F) {
	seedCorpus(f)
	f.Fuzz(func(t *testing.T, data []byte, at uint16) {
		r := fuzzR(t)
		for _, in := range [][]byte{data, plant(data, at)} {
			doc, err := redactor.CheckJSON(in)
			if (err == nil) != (len(bytes.TrimSpace(in)) > 0 && fastjson.ValidateBytes(in) == nil) {
				t.Fatalf("CheckJSON(%q) = %v, fastjson disagrees", in, err)
			}
			if err != nil {
				continue
			}
			want, _ := r.Append(nil, in, redactor.FormatJSON)
			got, _ := r.AppendJSON(nil, doc)
			if !bytes.Equal(got, want) {
				t.Fatalf("in %q\nAppendJSON %q\nAppend     %q", in, got, want)
			}
		}
	})
}

// BenchmarkHeldJSON: a 64 KiB JSON array with a secret in every record,
// checked then redacted the way a front end that must refuse invalid
// JSON does it: validate + Append (the JSON is validated twice, by the
// caller and by the engine) against CheckJSON + AppendJSON (once).
func BenchmarkHeldJSON(b *testing.B) {
	r := def(b)
	var sb strings.Builder
	sb.WriteString("[")
	for i := 0; sb.Len() < 64<<10; i++ {
		if i > 0 {
			sb.WriteString(",")
		}
		fmt.Fprintf(&sb, `{"time":"2026-01-01T00:00:00Z","level":"info","host":"web-%d","msg":"user login ok","password":"hunter2-hunter2","pad":"%s"}`, i, strings.Repeat("x", 300))
	}
	sb.WriteString("]")
	data := []byte(sb.String())
	out := make([]byte, 0, len(data)*2)
	b.Run("validate-only", func(b *testing.B) { // the pass AppendJSON saves
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			if fastjson.ValidateBytes(data) != nil {
				b.Fatal("invalid")
			}
		}
	})
	b.Run("validate+Append", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			if fastjson.ValidateBytes(data) != nil {
				b.Fatal("invalid")
			}
			out, _ = r.Append(out[:0], data, redactor.FormatJSON)
		}
	})
	b.Run("CheckJSON+AppendJSON", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			doc, err := redactor.CheckJSON(data)
			if err != nil {
				b.Fatal(err)
			}
			out, _ = r.AppendJSON(out[:0], doc)
		}
	})
}
