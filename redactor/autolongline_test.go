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
