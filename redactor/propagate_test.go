package redactor_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/flowmask/flowmask/redactor"
)

// TestFoundValueMaskedEverywhere: a value a rule masks once is masked
// wherever else it occurs in the same document, in every format, also
// where no rule would see it (no key name, another encoding).
func TestFoundValueMaskedEverywhere(t *testing.T) {
	const v = "Zq8vN2xL0pR7tY4wKc"
	cases := []struct {
		name string
		f    redactor.Format
		in   string
	}{
		{"text, repeated after the pair", redactor.FormatText,
			"db password = '" + v + "' | '" + v + "'\n"},
		{"text, logged again further down", redactor.FormatText,
			"connect user=app password=" + v + "\n" + strings.Repeat("GET /healthz 200\n", 50) + "retrying login with " + v + " failed\n"},
		{"ndjson, the second line has no key name", redactor.FormatNDJSON,
			`{"level":"info","password":"` + v + `"}` + "\n" + `{"level":"warn","msg":"bad credential ` + v + `"}` + "\n"},
		{"json document", redactor.FormatJSON,
			`{"conn":{"password":"` + v + `"},"notes":["tried ` + v + ` twice"],"n":1}`},
		{"csv, a sensitive column and a free-text cell", redactor.FormatCSV,
			"user,password,note\nbob," + v + ",\"" + v + " rotated\"\nann,x,ok\n"},
		{"url-escaped elsewhere", redactor.FormatText,
			"password=Zq8v/N2x+L0pR7tY4wKc\nGET /login?next=Zq8v%2FN2x%2BL0pR7tY4wKc\n"},
		{"json-escaped elsewhere", redactor.FormatNDJSON,
			`{"password":"Zq8v\"N2xL0pR7tY4wKc"}` + "\n" + `{"msg":"login Zq8v\"N2xL0pR7tY4wKc"}` + "\n"},
	}
	r := def(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, st := r.Append(nil, []byte(c.in), c.f)
			for _, s := range []string{v, "Zq8v/N2x+L0pR7tY4wKc", "Zq8v%2FN2x%2BL0pR7tY4wKc", `Zq8v\"N2xL0pR7tY4wKc`} {
				if bytes.Contains(out, []byte(s)) {
					t.Fatalf("value left in output:\n%s", out)
				}
			}
			if st.Redactions < 2 {
				t.Errorf("Redactions = %d; want at least 2 (%v)", st.Redactions, st.ByRule)
			}
			again, st2 := r.Append(nil, out, c.f)
			if !bytes.Equal(again, out) || st2.Redactions != 0 {
				t.Errorf("second pass changed the output (%d redactions):\n%s\n%s", st2.Redactions, out, again)
			}
		})
	}
}

// TestFoundValueLabel: every occurrence carries the label of the rule that
// found the value; with hash masks, the same hash, so occurrences
// correlate.
func TestFoundValueLabel(t *testing.T) {
	r := newRedactor(t, redactor.Config{Mask: redactor.MaskHash, HashKey: []byte("test-hash-key-0123456789")})
	in := "password=Hk29xLq0Vb7RtZ3m\nuser said Hk29xLq0Vb7RtZ3m\n"
	out := r.String(in)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 {
		t.Fatalf("output %q", out)
	}
	first := lines[0][len("password="):]
	if !strings.HasPrefix(first, "[REDACTED:password:") || !strings.HasSuffix(lines[1], first) {
		t.Fatalf("labels differ or wrong:\n%s", out)
	}
}

// TestFoundValueFindings: Scan reports each occurrence, with its place,
// and never the value.
func TestFoundValueFindings(t *testing.T) {
	r := def(t)
	in := "token: 'Tq93LmXv0aZk7RbWp2'\nlater: Tq93LmXv0aZk7RbWp2 again\n"
	var fs []redactor.Finding
	st, err := r.Scan(context.Background(), strings.NewReader(in), redactor.FormatText, redactor.FormatText, func(f redactor.Finding) { fs = append(fs, f) })
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 2 || st.Redactions != 2 {
		t.Fatalf("findings %+v, stats %+v; want 2", fs, st)
	}
	if fs[1].Line != 2 || fs[1].Column != 8 {
		t.Errorf("second finding at %d:%d; want 2:8", fs[1].Line, fs[1].Column)
	}
	for _, f := range fs {
		if strings.Contains(f.Preview, "Tq93") {
			t.Errorf("preview shows the value: %+v", f)
		}
	}
}

// TestFoundValueNotGuessed: what no rule masked is not masked elsewhere,
// short values are not spread, and allowlisted values stay.
func TestFoundValueNotGuessed(t *testing.T) {
	r := def(t)
	for _, in := range []string{
		"build 7f3a9c2e1b4d passed\nbuild 7f3a9c2e1b4d deployed\n",
		"password=hunter2\nhunter2 is the name of a song\n", // shorter than 8 bytes
		`{"password":"[REDACTED:password]","msg":"[REDACTED:password]"}`,
	} {
		if out := r.String(in); out != in && !strings.Contains(in, "hunter2") {
			t.Errorf("changed:\n%s\n%s", in, out)
		} else if strings.Contains(in, "hunter2") && !strings.Contains(out, "hunter2 is the name") {
			t.Errorf("short value spread:\n%s", out)
		}
	}
	ra := newRedactor(t, redactor.Config{Allow: []redactor.Allow{{Rule: "password", Value: "^Pl4ceh0lderV4lue$"}}})
	in := "password=Pl4ceh0lderV4lue\nsee Pl4ceh0lderV4lue\n"
	if out := ra.String(in); out != in {
		t.Errorf("allowlisted value spread:\n%s", out)
	}
}

// TestFoundWordsNotSpread: a plain word or a digit run masked under a key
// name stays masked there, but the same word elsewhere is prose or a date.
func TestFoundWordsNotSpread(t *testing.T) {
	r := def(t)
	for _, c := range []struct{ in, keep string }{
		{`{"auth_token":"disabled","msg":"feature disabled by admin"}`, "feature disabled by admin"},
		{`{"password":"Not configured","msg":"proxy Not configured"}`, "proxy Not configured"},
		{"code=20240101\nbuild date 20240101\n", "build date 20240101"},
	} {
		out := r.String(c.in)
		if !strings.Contains(out, c.keep) {
			t.Errorf("%q spread: %s", c.in, out)
		}
	}
}

// TestFoundValueInLongRecord: a record longer than the Writer writes out in
// one piece still masks every occurrence of a value found in it.
func TestFoundValueInLongRecord(t *testing.T) {
	r := def(t)
	const v = "Zr81QmWx4KcTa0LpYe7N"
	line := `{"password":"` + v + `","pad":"` + strings.Repeat("lorem ipsum ", 100000) + `","echo":"user typed ` + v + `"}` + "\n"
	var out strings.Builder
	w := r.NewWriter(&out, redactor.FormatNDJSON)
	if _, err := w.Write([]byte(line)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), v) {
		t.Fatal("the found value leaked where it occurs again in a long record")
	}
}

// TestFoundValueNestedWindow: a value found inside a nested window (a JSON
// string holding JSON) is spread there with its own rule's label, when the
// outer document found other values first.
func TestFoundValueNestedWindow(t *testing.T) {
	r := def(t)
	in := `{"password":"Hk29xLq0Vb7RtZ3m","body":"{\"access_token\":\"Qz81WmVx4KcTa0LpYe7N\",\"echo\":\"user sent Qz81WmVx4KcTa0LpYe7N\"}"}`
	out := r.String(in)
	if strings.Contains(out, "Qz81WmVx4KcTa0LpYe7N") || strings.Contains(out, "Hk29xLq0Vb7RtZ3m") {
		t.Fatalf("a value leaked: %s", out)
	}
	if strings.Count(out, "[REDACTED:password]") != 1 {
		t.Fatalf("the nested repeat got another value's label: %s", out)
	}
}
