package redactor_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/flowmask/flowmask/redactor"
)

// TestNamedPairShapes: a name/value pair object ({"name":"DB_PASSWORD",
// "value":"..."}) has its value masked wherever it appears, not only when
// the input is walked as one JSON document: in text, CSV and form bodies,
// in NDJSON records the line reader cannot take as one line, with its
// quotes escaped in a log line, through a Writer fed a byte at a time.
func TestNamedPairShapes(t *testing.T) {
	r := def(t)
	const secret = "Hq4tZ8wN2xR7kLp3" // generated, fake
	pair := `{"name":"DB_PASSWORD","value":"` + secret + `"}`
	esc := strings.ReplaceAll(pair, `"`, `\"`)
	for _, tc := range []struct {
		name string
		f    redactor.Format
		in   string
	}{
		{"text", redactor.FormatText, "deploy settings " + pair + " applied\n"},
		{"text value first", redactor.FormatText, `{"value":"` + secret + `","name":"ApiKey"}` + "\n"},
		{"text array of pairs", redactor.FormatText, `[{"name":"DB_HOST","value":"db1"},{"name":"SMTP_PASSWORD","value":"` + secret + `"}]` + "\n"},
		{"text pretty", redactor.FormatText, "settings:\n{\n  \"name\": \"ClientSecret\",\n  \"value\": \"" + secret + "\"\n}\n"},
		{"text escaped in a log line", redactor.FormatText, `level=info msg="applied ` + esc + `"` + "\n"},
		{"text escaped pretty", redactor.FormatText, `msg="{\n  \"name\": \"DB_PASSWORD\",\n  \"value\": \"` + secret + `\"\n}"` + "\n"},
		{"text two values on a line", redactor.FormatText, `{"a":1}` + pair + `{"b":2}` + "\n"},
		{"text numeric value", redactor.FormatText, `{"name":"DB_PASSWORD","value":73829104756392}` + "\n"},
		{"json with trailing bytes", redactor.FormatJSON, pair + " trailing\n"},
		{"json sequence as one document", redactor.FormatJSON, `{"a":1}` + "\n" + pair + "\n"},
		{"ndjson lone CR", redactor.FormatNDJSON, "{\"a\":1}\r" + pair + "\r"},
		{"ndjson U+2028", redactor.FormatNDJSON, pair + "\u2028{\"b\":2}\n"},
		{"ndjson pretty record", redactor.FormatNDJSON, "{\"a\":1}\n{\n  \"name\": \"DB_PASSWORD\",\n  \"value\": \"" + secret + "\"\n}\n{\"b\":2}\n"},
		{"ndjson pretty record in an array", redactor.FormatNDJSON, "{\"a\":1}\n[\n  {\"name\": \"DB_PASSWORD\", \"value\": \"" + secret + "\"}\n]\n"},
		{"ndjson json string line", redactor.FormatNDJSON, `"` + esc + `"` + "\n"},
		{"ndjson text around a pair", redactor.FormatNDJSON, "started " + pair + "\n"},
		{"csv unquoted", redactor.FormatCSV, "id,setting\n1," + pair + "\n"},
		{"csv quoted", redactor.FormatCSV, "id,setting\n1,\"" + strings.ReplaceAll(pair, `"`, `""`) + "\"\n"},
		{"csv quoted text around", redactor.FormatCSV, "id,setting\n1,\"applied " + strings.ReplaceAll(pair, `"`, `""`) + " ok\"\n"},
		{"form", redactor.FormatForm, pair},
	} {
		out, _ := r.Append(nil, []byte(tc.in), tc.f)
		if bytes.Contains(out, []byte(secret)) || bytes.Contains(out, []byte("73829104756392")) {
			t.Errorf("%s: the value survived: %q", tc.name, out)
		}
		// The same through a Writer fed a byte at a time.
		var buf bytes.Buffer
		w := r.NewWriter(&buf, tc.f)
		for i := 0; i < len(tc.in); i++ {
			w.Write([]byte{tc.in[i]})
		}
		if err := w.Close(); err != nil {
			t.Fatalf("%s: Close: %v", tc.name, err)
		}
		if !bytes.Equal(buf.Bytes(), out) {
			t.Errorf("%s: Writer and Append differ:\n%q\n%q", tc.name, buf.Bytes(), out)
		}
	}
}

// TestNamedPairShapesClean: pair objects whose name is not a credential,
// whose value is a placeholder or a Logic Apps expression, and text that
// only mentions "value" near a credential word are left byte for byte; a
// masked pair in text keeps the JSON well-formed.
func TestNamedPairShapesClean(t *testing.T) {
	r := def(t)
	for _, in := range []string{
		`{"name":"DB_HOST","value":"db1.internal.example.com"}` + "\n",
		`{"name":"DB_PASSWORD","value":"@parameters('dbPassword')"}` + "\n",
		`{"name":"DB_PASSWORD","value":""}` + "\n",
		`{"name":"DB_PASSWORD","value":null}` + "\n",
		`{"name":"DB_PASSWORD","value":"[REDACTED]"}` + "\n",
		"the password \"value\" field is required {see docs}\n",
		`{"name":"password_policy","value":{"minLength":12}}` + "\n",
		`{"name":"DB_PASSWORD","value":"x"` + "\n", // never closed: text rules only
	} {
		for _, f := range []redactor.Format{redactor.FormatText, redactor.FormatNDJSON} {
			out, _ := r.Append(nil, []byte(in), f)
			if string(out) != in {
				t.Errorf("format %v changed clean input:\n in %q\nout %q", f, in, out)
			}
		}
	}
	// In text, the masked pair stays valid JSON.
	in := `ts=1 {"name":"SMTP_PASSWORD","value":"Jr8vY2mQ6tW4pZ9s"} done`
	out := r.String(in)
	obj := strings.TrimSuffix(strings.TrimPrefix(out, "ts=1 "), " done")
	if strings.Contains(out, "Jr8vY2mQ6tW4pZ9s") || !json.Valid([]byte(obj)) {
		t.Errorf("masked pair is not valid JSON or kept its value: %q", out)
	}
}

// TestJSONSequenceUnderJSONFormat: input taken for one JSON document that
// is a sequence of records (NDJSON under a JSON media type, records
// pretty-printed one after another) is read as records, each walked as
// JSON; one with text between the records stays text, whose rules see a
// private key from BEGIN to END.
func TestJSONSequenceUnderJSONFormat(t *testing.T) {
	r := def(t)
	const secret = "Wm5kR8vT2qP9xN4j" // generated, fake
	for _, in := range []string{
		`{"level":"info"}` + "\n" + `{"name":"DB_PASSWORD","value":"` + secret + `"}` + "\n",
		"{\"level\":\"info\"}\n{\n  \"settings\": [\n    {\"name\": \"ApiKey\", \"value\": \"" + secret + "\"}\n  ]\n}\n",
		`{"level":"info"}{"smtpPassword":"` + secret + `"}` + "\n",
		`[{"a":1}]` + "\n" + `{"parameters":{"dbPassword":{"value":"` + secret + `"}}}` + "\n",
		// What only the JSON walk masks (text rules left these).
		`{"a":1}` + "\n" + `{"inputs":{"queries":{"code":"` + secret + secret + `=="}}}` + "\n",
		`{"a":1}` + "\n" + `{"x":{"smtppassword":"` + secret + `"}}` + "\n",
		`{"a":1}` + "\n" + `{"sig":"` + secret + secret + `abc%3D"}` + "\n",
	} {
		for _, f := range []redactor.Format{redactor.FormatJSON, redactor.FormatAuto} {
			out, _ := r.Append(nil, []byte(in), f)
			if bytes.Contains(out, []byte(secret)) {
				t.Errorf("format %v: the value survived: %q", f, out)
			}
			var buf bytes.Buffer
			w := r.NewWriter(&buf, f)
			w.Write([]byte(in))
			if err := w.Close(); err != nil || !bytes.Equal(buf.Bytes(), out) {
				t.Errorf("format %v: Writer (err %v) differs from Append:\n%q\n%q", f, err, buf.Bytes(), out)
			}
		}
	}
	key := "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\nVNbQ8vT2qP9xN4jWm5kR8vT2qP9xN4jWm5kR8vT2qP9xN4jWm5kR8vT2qP9xN4j\n-----END RSA PRIVATE KEY-----\n"
	out, _ := r.Append(nil, []byte(`{"level":"info"}`+"\n"+key), redactor.FormatJSON)
	if bytes.Contains(out, []byte("VNbQ8vT2qP9xN4j")) || bytes.Contains(out, []byte("MIIEowIBAAKCAQEAu1SU")) {
		t.Errorf("the private key after a JSON line survived: %q", out)
	}
}

// TestNamedPairsMany: every pair of a long text with thousands of them is
// masked (the scan budget of the pair search is not spent by pairs that
// close), in Append and through a Writer's chunks; a text of unclosed
// pairs is redacted by text rules without error.
func TestNamedPairsMany(t *testing.T) {
	r := def(t)
	var in strings.Builder
	for i := range 4000 {
		fmt.Fprintf(&in, "app %d set {\"name\":\"DB_PASSWORD\",\"value\":\"Kq%dZ8wN2xR7kLp3\"} ok\n", i, i+100000)
	}
	out, _ := r.Append(nil, []byte(in.String()), redactor.FormatText)
	var buf bytes.Buffer
	w := r.NewWriter(&buf, redactor.FormatText)
	w.Write([]byte(in.String()))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	for _, got := range [][]byte{out, buf.Bytes()} {
		if n := bytes.Count(got, []byte("Z8wN2xR7kLp3")); n > 0 {
			t.Errorf("%d of 4000 pair values survived", n)
		}
	}
	hostile := strings.Repeat(`{"name":"DB_PASSWORD","value":{"x":`, 20000)
	if _, err := r.Stream(t.Context(), io.Discard, strings.NewReader(hostile), redactor.FormatText, redactor.FormatAuto); err != nil {
		t.Fatal(err)
	}
}
