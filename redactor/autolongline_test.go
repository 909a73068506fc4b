package redactor_test

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"

	"github.com/flowmask/flowmask/redactor"
)

// pipe hides the reader's length, as a pipe or socket would.
type pipe struct{ r io.Reader }

func (p pipe) Read(b []byte) (int, error) { return p.r.Read(b) }

// TestAutoNDJSONFirstLineLongerThanDetection: on a pipe, --format auto
// decides NDJSON vs one JSON document from the first complete line. An
// NDJSON stream whose first line is longer than the detection window used
// to be taken for one document; past MaxDocument it was not one value and
// the rest was scanned with the text rules: a name/value pair or a number
// under a credential key on a later line leaked (issue 17.11).
func TestAutoNDJSONFirstLineLongerThanDetection(t *testing.T) {
	r := newRedactor(t, redactor.Config{MaxDocument: 2 << 20})
	const secret = "Zq8vW2mX7pL4kR9t"
	first := `{"msg":"` + strings.Repeat("a", 900<<10) + `"}`
	filler := strings.Repeat(`{"msg":"ordinary line of a log"}`+"\n", 80000) // past MaxDocument
	in := first + "\n" + filler + `{"settings":[{"name":"DB_PASSWORD","value":"` + secret + `"}],"password":738291047563920}` + "\n"
	for _, workers := range []int{1, 4} {
		var out bytes.Buffer
		_, err := r.StreamParallel(context.Background(), &out, pipe{strings.NewReader(in)}, redactor.FormatAuto, redactor.FormatAuto, workers)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(out.String(), secret) || strings.Contains(out.String(), "738291047563920") {
			t.Errorf("workers=%d: the pair's value leaked", workers)
		}
		if !strings.HasPrefix(out.String(), first+"\n") {
			t.Errorf("workers=%d: the first line changed", workers)
		}
	}
}

// TestAfterRecordGrow: a record of unknown length (a pipe) grows its
// buffer by doubling; each outgrown buffer of GrowNotice bytes or more is
// reported, so a one-shot command can give it back to the system at once
// (issue 17.9: a 100 MiB line from a pipe held ~2.6x the record without).
func TestAfterRecordGrow(t *testing.T) {
	if testing.Short() {
		t.Skip("redacts a 40 MiB record")
	}
	grown := 0
	r := newRedactor(t, redactor.Config{MaxDocument: 64 << 20, AfterRecordGrow: func() { grown++ }})
	const secret = "Zq8vW2mX7pL4kR9t"
	line := `{"password":"` + secret + `","msg":"` + strings.Repeat("b", 40<<20) + `"}` + "\n"
	for _, workers := range []int{1, 4} {
		grown = 0
		var out bytes.Buffer
		if _, err := r.StreamParallel(context.Background(), &out, pipe{strings.NewReader(line)}, redactor.FormatAuto, redactor.FormatAuto, workers); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(out.String(), secret) {
			t.Fatalf("workers=%d: secret kept", workers)
		}
		// 8 -> 16 -> 32 -> 64 MiB: at least the last two outgrown buffers.
		if grown < 2 {
			t.Errorf("workers=%d: AfterRecordGrow called %d times; want >= 2", workers, grown)
		}
	}
}
