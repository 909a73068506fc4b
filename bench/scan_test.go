package bench

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"testing"

	"github.com/flowmask/flowmask/files"
	"github.com/flowmask/flowmask/redactor"
)

var scanFindings = flag.Int("scan.findings", 20000, "findings in the one-line JSON array of BenchmarkScanDense")

// denseArray is a one-line JSON array of n objects, each holding one
// password: the densest findings a run-history export gets, on one line.
func denseArray(n int) []byte {
	var b bytes.Buffer
	b.WriteByte('[')
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"id":%d,"user":"svc-%d","password":"Xk9#mQ%06dzT"}`, i, i, i)
	}
	b.WriteString("]\n")
	return b.Bytes()
}

// BenchmarkScanDense scans a one-line JSON array with one finding per
// object; BenchmarkRedactDense redacts the same input. Scan must stay
// within a small factor of redact at any finding density (issue 17.8).
//
//	cd bench && go test -run '^$' -bench 'Dense$' -benchtime 3x -scan.findings 100000
func BenchmarkScanDense(b *testing.B) {
	in := denseArray(*scanFindings)
	r := newRedactor(b, nil)
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		n := 0
		if _, err := r.Scan(context.Background(), bytes.NewReader(in), redactor.FormatJSON, redactor.FormatAuto, func(redactor.Finding) { n++ }); err != nil {
			b.Fatal(err)
		}
		if n != *scanFindings {
			b.Fatalf("%d findings, want %d", n, *scanFindings)
		}
	}
}

func BenchmarkRedactDense(b *testing.B) {
	in := denseArray(*scanFindings)
	r := newRedactor(b, nil)
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		if _, err := r.Stream(context.Background(), io.Discard, bytes.NewReader(in), redactor.FormatJSON, redactor.FormatAuto); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkScanFrontEndDense is BenchmarkScanDense through the file front
// end of `flowmask scan` (package files): masking of what a report shows
// and the text report included.
func BenchmarkScanFrontEndDense(b *testing.B) {
	in := denseArray(*scanFindings)
	e := &files.Engine{Redactor: newRedactor(b, nil), Format: redactor.FormatJSON}
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		var fs []files.Finding
		if err := e.ScanStream(context.Background(), bytes.NewReader(in), "-", func(f files.Finding) { fs = append(fs, f) }); err != nil {
			b.Fatal(err)
		}
		if err := files.WriteReport(io.Discard, "text", "bench", fs, false); err != nil {
			b.Fatal(err)
		}
		if len(fs) != *scanFindings {
			b.Fatalf("%d findings", len(fs))
		}
	}
}
