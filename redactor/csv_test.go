package redactor_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/flowmask/flowmask/redactor"
)

// csvSecrets are fresh values with no keyword of their own: only the
// header's column name says they are secrets.
var csvSecrets = []string{"Wx7pQ9zLm2aa", "Kd83hTq0vBnm", "ZpL44mcQ8sYe", "Rt5Yv9wQ1xKc"}

// streamCSV redacts in through a Writer fed in small writes, as the CLI does.
func streamCSV(t *testing.T, r *redactor.Redactor, in string, f redactor.Format) (string, error) {
	t.Helper()
	var out bytes.Buffer
	w := r.NewWriter(&out, f)
	var err error
	for p := []byte(in); len(p) > 0 && err == nil; {
		k := min(len(p), 7)
		_, err = w.Write(p[:k])
		p = p[k:]
	}
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	return out.String(), err
}

// checkCSVMasked fails when a planted secret survived, or when a row's
// number of delimiters changed.
func checkCSVMasked(t *testing.T, in, out string, delim string) {
	t.Helper()
	for _, s := range csvSecrets {
		if strings.Contains(out, s) {
			t.Errorf("secret %s survived:\n%s", s, out)
		}
	}
	inRows, outRows := strings.Split(in, "\n"), strings.Split(out, "\n")
	if len(inRows) != len(outRows) {
		t.Fatalf("%d lines in, %d out:\n%s", len(inRows), len(outRows), out)
	}
	for i := range inRows {
		if a, b := strings.Count(inRows[i], delim), strings.Count(outRows[i], delim); a != b {
			t.Errorf("line %d: %d delimiters in, %d out: %q", i+1, a, b, outRows[i])
		}
	}
}

// TestCSVStrayQuote: a quote inside an unquoted cell (bob 5" tall) is a
// plain byte, as spreadsheets write it; it does not turn the rest of the
// file into one record (issue 17.2).
func TestCSVStrayQuote(t *testing.T) {
	r := def(t)
	in := "name,password,note\n" +
		"bob 5\" tall," + csvSecrets[0] + ",ok\n" +
		"alice," + csvSecrets[1] + ",\"quoted, with comma\"\n" +
		"carol," + csvSecrets[2] + ",she said \"hi\" twice\n" +
		"dave," + csvSecrets[3] + ",end\n"
	for _, api := range []string{"append", "writer"} {
		t.Run(api, func(t *testing.T) {
			out := redact(t, r, in, redactor.FormatCSV)
			if api == "writer" {
				var err error
				if out, err = streamCSV(t, r, in, redactor.FormatCSV); err != nil {
					t.Fatal(err)
				}
			}
			checkCSVMasked(t, in, out, ",")
			for _, keep := range []string{"bob 5\" tall", "\"quoted, with comma\"", "she said \"hi\" twice", "dave", "end\n"} {
				if !strings.Contains(out, keep) {
					t.Errorf("%q was lost:\n%s", keep, out)
				}
			}
		})
	}
}

// TestCSVUnclosedQuote: a quoted field that never closes costs its own
// line only: parsing resumes at the next line and later rows keep the
// header's masking.
func TestCSVUnclosedQuote(t *testing.T) {
	r := def(t)
	in := "user,api_key,comment\n" +
		"a," + csvSecrets[0] + ",\"never closed, really\n" +
		"b," + csvSecrets[1] + ",fine\n" +
		"c," + csvSecrets[2] + ",fine\n"
	out, err := streamCSV(t, r, in, redactor.FormatCSV)
	if err != nil {
		t.Fatal(err)
	}
	checkCSVMasked(t, in, out, ",")
	if !strings.Contains(out, "\"never closed, really\n") {
		t.Errorf("the unclosed cell changed:\n%s", out)
	}
}

// TestCSVDelimiters: a semicolon, tab or pipe export with a credential
// column is masked like a comma CSV, explicitly and with --format auto.
func TestCSVDelimiters(t *testing.T) {
	r := def(t)
	for _, d := range []string{";", "\t", "|", ","} {
		note := "a, b" // a comma inside a cell of another delimiter
		if d == "," {
			note = "a b"
		}
		in := "Id" + d + "Name" + d + "Client Secret" + d + "Note\n" +
			"1" + d + "web" + d + csvSecrets[0] + d + note + "\n" +
			"2" + d + "api" + d + "\"" + csvSecrets[1] + "\"" + d + "x\n" +
			"3" + d + "job" + d + csvSecrets[2] + d + "y"
		for _, f := range []redactor.Format{redactor.FormatCSV, redactor.FormatAuto} {
			t.Run(strings.ReplaceAll(d, "\t", "tab")+"/"+f.String(), func(t *testing.T) {
				out := redact(t, r, in, f)
				checkCSVMasked(t, in, out, d)
				got, err := streamCSV(t, r, in, f)
				if err != nil {
					t.Fatal(err)
				}
				if got != out {
					t.Errorf("Writer and Append differ:\n%s\n%s", got, out)
				}
			})
		}
	}
}

// TestCSVAutoShort: a two-line CSV without a final newline is still CSV
// for auto-detection, and a UTF-8 BOM does not hide the first column name.
func TestCSVAutoShort(t *testing.T) {
	r := def(t)
	for _, in := range []string{
		"password,user\n" + csvSecrets[0] + ",bob",
		"\xef\xbb\xbfpassword,user\r\n" + csvSecrets[0] + ",bob\r\n",
		"\xef\xbb\xbf\"password\";\"user\"\n\"" + csvSecrets[0] + "\";\"bob\"",
		"user,password\n\"bob\nsmith\",\"" + csvSecrets[0] + "\"",
		"user,password\n\"bob\",\"" + csvSecrets[0] + "\n\"\r",
	} {
		out, err := streamCSV(t, r, in, redactor.FormatAuto)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(out, csvSecrets[0]) || !strings.Contains(out, "bob") {
			t.Errorf("%q -> %q", in, out)
		}
	}
}

// TestCSVRecordTooLarge: a record longer than MaxDocument is refused with
// ErrTooLarge, never streamed with text rules that forget the header; the
// records before it are written, redacted.
func TestCSVRecordTooLarge(t *testing.T) {
	r := newRedactor(t, redactor.Config{MaxDocument: 64 << 10})
	in := "id,password\n1," + csvSecrets[0] + "\n2,\"" + strings.Repeat("long line\n", 50000) + "\"\n3," + csvSecrets[1] + "\n"
	var out bytes.Buffer
	_, err := r.Stream(context.Background(), &out, strings.NewReader(in), redactor.FormatCSV, redactor.FormatAuto)
	if !errors.Is(err, redactor.ErrTooLarge) {
		t.Fatalf("err = %v; want ErrTooLarge", err)
	}
	if got := out.String(); got != "id,password\n1,[REDACTED:password]\n" {
		t.Errorf("written before the refusal: %q", got)
	}
	// Under the limit the same file is redacted whole.
	r = newRedactor(t, redactor.Config{MaxDocument: 1 << 20})
	out.Reset()
	_, err = r.Stream(context.Background(), &out, strings.NewReader(in), redactor.FormatCSV, redactor.FormatAuto)
	if err != nil {
		t.Fatal(err)
	}
	checkCSVMasked(t, in, out.String(), ",")
}

// TestCSVAutoNotLogs: a log whose columns are separated by '|' or tabs is
// not taken for CSV by auto-detection: its first line is not a header.
func TestCSVAutoNotLogs(t *testing.T) {
	r := def(t)
	for _, in := range []string{
		"2026-12-02 10:00:01 | INFO | started\n2026-12-02 10:00:02 | INFO | password=hunter2222 ok\n",
		"2026-12-02T10:00:01Z\tINFO\tstarted\n2026-12-02T10:00:02Z\tWARN\tpassword=hunter2222 ok\n",
	} {
		var out bytes.Buffer
		w := r.NewWriter(&out, redactor.FormatAuto)
		if _, err := w.Write([]byte(in)); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if w.Format() != redactor.FormatText || strings.Contains(out.String(), "hunter2222") {
			t.Errorf("%q: format %s, out %q", in, w.Format(), out.String())
		}
	}
}
