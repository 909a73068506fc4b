package redactor_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/flowmask/flowmask/redactor"
)

// maxWriteRecorder records the output and the largest single Write.
type maxWriteRecorder struct {
	bytes.Buffer
	max int
}

func (m *maxWriteRecorder) Write(p []byte) (int, error) {
	m.max = max(m.max, len(p))
	return m.Buffer.Write(p)
}

// TestLongRecordStreamedOut: a record far longer than a read chunk (an
// NDJSON line, a quoted CSV record, a JSON document) under a raised
// MaxDocument is redacted as Append does, and written out in pieces rather
// than held a second time as output (issue 17.9: memory bounded by the
// record plus a constant).
func TestLongRecordStreamedOut(t *testing.T) {
	r := newRedactor(t, redactor.Config{MaxDocument: 16 << 20})
	items := strings.Repeat(`{"id":1,"note":"event ok","v":"abcdefgh"},`, 80000)
	csvCell := strings.Repeat("a long \"\"quoted\"\" note, with commas\n", 100000)
	for _, tc := range []struct {
		name   string
		in     string
		format redactor.Format
	}{
		{"ndjson line", `{"items":[` + items + `{}],"password":"Tq83vXm2LpWz"}` + "\n" + `{"a":"token=Hm29sKq7VbNc"}` + "\n", redactor.FormatNDJSON},
		{"json document", `{"items":[` + items + `{}],"password":"Tq83vXm2LpWz","b":"token=Hm29sKq7VbNc"}`, redactor.FormatJSON},
		{"csv record", "id,password,notes\n1,Tq83vXm2LpWz,\"" + csvCell + "\"\n2,Hm29sKq7VbNc,x\n", redactor.FormatCSV},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out maxWriteRecorder
			if _, err := r.Stream(context.Background(), &out, strings.NewReader(tc.in), tc.format, redactor.FormatAuto); err != nil {
				t.Fatal(err)
			}
			want, _ := r.Append(nil, []byte(tc.in), tc.format)
			if !bytes.Equal(out.Bytes(), want) {
				t.Fatalf("Stream and Append differ (%d and %d bytes)", out.Len(), len(want))
			}
			if bytes.Contains(want, []byte("Tq83vXm2LpWz")) || bytes.Contains(want, []byte("Hm29sKq7VbNc")) {
				t.Error("a secret survived")
			}
			if out.max > 1<<20 {
				t.Errorf("a %d-byte record was written in one %d-byte Write: output held whole", len(tc.in), out.max)
			}
		})
	}
}

// TestAutoJSONLineThenText: auto-detection takes a log whose first line is
// a JSON object for a JSON document; past MaxDocument it is evidently not
// one (text follows the first value), so it is redacted as text, as an
// invalid document always was, rather than refused.
func TestAutoJSONLineThenText(t *testing.T) {
	r := newRedactor(t, redactor.Config{MaxDocument: 64 << 10})
	in := `{"msg":"service started"}` + "\n" + strings.Repeat("2026-12-02 10:00:00 INFO request served in 3 ms\n", 20000) + "password=hunter2222\n"
	var out bytes.Buffer
	if _, err := r.Stream(context.Background(), &out, strings.NewReader(in), redactor.FormatAuto, redactor.FormatAuto); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "hunter2222") || out.Len() != len(in)-len("hunter2222")+len("[REDACTED:password]") {
		t.Errorf("secret survived or output changed (%d bytes in, %d out)", len(in), out.Len())
	}
	// One document over the limit is refused.
	doc := `{"items":[` + strings.Repeat(`"abc",`, 60000) + `"x"],"password":"hunter2222"}`
	if _, err := r.Stream(context.Background(), &out, strings.NewReader(doc), redactor.FormatAuto, redactor.FormatAuto); !errors.Is(err, redactor.ErrTooLarge) {
		t.Errorf("err = %v; want ErrTooLarge", err)
	}
}

// TestUnterminatedJSONWithControlBytes: a JSON document with a raw control
// byte and a string that never closes is refused as JSON and scanned as
// text; it used to panic (slice bounds) in the check for a second value.
func TestUnterminatedJSONWithControlBytes(t *testing.T) {
	r := newRedactor(t, redactor.Config{})
	const secret = "hunter2-Correct-Horse-9"
	for _, in := range []string{
		"{\"password\":\"" + secret + "\x01",
		"[\"a\x02\", \"password=" + secret,
		"\"\x03" + secret,
	} {
		out, _ := r.Append(nil, []byte(in), redactor.FormatJSON)
		if bytes.Contains(out, []byte(secret)) && strings.Contains(in, "password") {
			t.Errorf("%q: secret kept: %q", in, out)
		}
	}
}
