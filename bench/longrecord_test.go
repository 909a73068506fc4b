package bench

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/flowmask/flowmask/bench/corpus"
	"github.com/flowmask/flowmask/redactor"
)

var longMB = flag.String("longrecord.mb", "10,20,40", "comma-separated sizes in MiB of the one-record inputs of BenchmarkLongRecord")

// sink discards output but, unlike io.Discard, makes the Writer build it.
type sink struct{}

func (sink) Write(p []byte) (int, error) { return len(p), nil }

// BenchmarkLongRecord redacts and scans one very long NDJSON line, one-line
// JSON document, quoted CSV record and text line (issue 17.9) with
// MaxDocument raised above them, through a Writer fed 64 KiB reads as the
// CLI does. Time per byte should not grow with the size; vmhwm-MB is the
// process's peak RSS so far (sizes run in increasing order, so it is the
// peak of the largest so far, and it includes the benchmark's own copy of
// the input).
func BenchmarkLongRecord(b *testing.B) {
	for _, s := range strings.Split(*longMB, ",") {
		mb, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			b.Fatalf("-longrecord.mb: %v", err)
		}
		for _, kind := range []string{"ndjson", "json", "csv", "text"} {
			var buf bytes.Buffer
			if err := corpus.WriteLongRecord(&buf, kind, mb<<20); err != nil {
				b.Fatal(err)
			}
			data := buf.Bytes()
			r, err := redactor.New(redactor.Config{MaxDocument: len(data) + 1<<20})
			if err != nil {
				b.Fatal(err)
			}
			format := map[string]redactor.Format{"ndjson": redactor.FormatNDJSON, "json": redactor.FormatJSON, "csv": redactor.FormatCSV, "text": redactor.FormatText}[kind]
			for _, op := range []string{"redact", "scan"} {
				b.Run(fmt.Sprintf("kind=%s/mb=%d/op=%s", kind, mb, op), func(b *testing.B) {
					b.SetBytes(int64(len(data)))
					for b.Loop() {
						var err error
						var st redactor.Stats
						if op == "redact" {
							st, err = r.Stream(context.Background(), sink{}, bytes.NewReader(data), format, redactor.FormatAuto)
						} else {
							st, err = r.Scan(context.Background(), bytes.NewReader(data), format, redactor.FormatAuto, func(redactor.Finding) {})
						}
						if err != nil {
							b.Fatal(err)
						}
						if st.Redactions < 2 {
							b.Fatalf("%d redactions; want both secrets", st.Redactions)
						}
					}
					b.ReportMetric(vmHWM(), "vmhwm-MB")
				})
			}
		}
	}
}

// vmHWM returns the process's peak resident set size in MB, 0 where
// /proc/self/status is not available.
func vmHWM() float64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")))
			return float64(kb) / 1024
		}
	}
	return 0
}
