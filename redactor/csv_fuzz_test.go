package redactor_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"strings"
	"testing"

	"github.com/flowmask/flowmask/redactor"
)

var credHeaders = []string{"password", "Client Secret", "api_key", "DB_PASSWORD", "token"}

// buildCSV writes a delimited file whose cells come from data: a header,
// then rows of ncols cells with a fresh secret under the credential column
// credCol, and one cell of about long bytes. Cells are quoted the way
// spreadsheets write them (when they hold the delimiter, a line break or
// start with a quote); other cells keep stray quotes unquoted. It returns
// the file and the secrets.
func buildCSV(data []byte, delim byte, bom bool, long int) (string, []string, int) {
	ncols := 2 + int(len(data)%3)
	credCol := int(len(data)/3) % ncols
	var sb strings.Builder
	if bom {
		sb.WriteString("\xef\xbb\xbf")
	}
	for c := 0; c < ncols; c++ {
		if c > 0 {
			sb.WriteByte(delim)
		}
		if c == credCol {
			sb.WriteString(credHeaders[len(data)%len(credHeaders)])
		} else {
			fmt.Fprintf(&sb, "col%d", c)
		}
	}
	sb.WriteString("\r\n")
	cells := bytes.Split(data, []byte{0})
	var secrets []string
	for row := 0; len(cells) > 0 || row < 2; row++ {
		for c := 0; c < ncols; c++ {
			if c > 0 {
				sb.WriteByte(delim)
			}
			if c == credCol {
				s := fmt.Sprintf("Zq%04dWv%dXk", row, len(data)%97)
				secrets = append(secrets, s)
				sb.WriteString(s)
				continue
			}
			var cell []byte
			if len(cells) > 0 {
				cell, cells = cells[0], cells[1:]
			}
			if row == 1 && c != credCol && long > 0 {
				cell = bytes.Repeat(append(cell, 'x'), long/(len(cell)+1)+1)
			}
			if bytes.IndexByte(cell, delim) >= 0 || bytes.ContainsAny(cell, "\r\n") || bytes.HasPrefix(cell, []byte(`"`)) {
				sb.WriteByte('"')
				sb.Write(bytes.ReplaceAll(cell, []byte(`"`), []byte(`""`)))
				sb.WriteByte('"')
			} else {
				sb.Write(cell)
			}
		}
		sb.WriteByte('\n')
	}
	return sb.String(), secrets, credCol
}

// readCSV parses s leniently with encoding/csv, as an independent reader.
func readCSV(t *testing.T, s string, delim byte) [][]string {
	t.Helper()
	r := csv.NewReader(strings.NewReader(s))
	r.Comma, r.LazyQuotes, r.FieldsPerRecord = rune(delim), true, -1
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatalf("encoding/csv: %v\n%q", err, s)
	}
	return recs
}

// FuzzCSV: whatever the cells hold (quotes, delimiters, line breaks), the
// delimiter, a BOM or a cell longer than a read chunk, every value under
// the credential column is masked and every row keeps its cell count, with
// Append and with a streaming Writer.
func FuzzCSV(f *testing.F) {
	for _, s := range []string{
		"bob 5\" tall\x00x\x00y",
		"\"quoted, start\x00a\"b\x00c\nd",
		"{\"client_secret\":\"abc12345\"}\x00token=abcdef123\x00",
		"\x00\x00\x00\x00",
		"semi;colon\x00tab\tbed\x00pi|pe",
		"-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\n-----END RSA PRIVATE KEY-----",
	} {
		for d := range uint8(4) {
			f.Add([]byte(s), d, d%2 == 0, uint16(0))
		}
		f.Add([]byte(s), uint8(0), false, uint16(40000))
	}
	f.Fuzz(func(t *testing.T, data []byte, delimIdx uint8, bom bool, long uint16) {
		if len(data) > 4096 {
			return
		}
		delim := ",\t;|"[delimIdx%4]
		in, secrets, credCol := buildCSV(data, delim, bom, int(long)*8%(300<<10)) // up to past one read chunk
		r := def(t)
		outA, _ := r.Append(nil, []byte(in), redactor.FormatCSV)
		var outW bytes.Buffer
		if _, err := r.Stream(context.Background(), &outW, strings.NewReader(in), redactor.FormatCSV, redactor.FormatAuto); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(outA, outW.Bytes()) {
			t.Fatalf("Append and Writer differ:\n in %q\n  A %q\n  W %q", in, outA, outW.Bytes())
		}
		want := readCSV(t, in, delim)
		got := readCSV(t, string(outA), delim)
		if len(got) != len(want) {
			t.Fatalf("%d records in, %d out:\n in %q\nout %q", len(want), len(got), in, outA)
		}
		for i := range want {
			if len(got[i]) != len(want[i]) {
				t.Fatalf("record %d: %d cells in, %d out:\n in %q\nout %q", i+1, len(want[i]), len(got[i]), in, outA)
			}
			if i > 0 && strings.Contains(got[i][credCol], secrets[i-1]) {
				t.Fatalf("record %d: secret under the credential column survived:\n in %q\nout %q", i+1, in, outA)
			}
		}
	})
}
