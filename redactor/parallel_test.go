package redactor_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"github.com/flowmask/flowmask/redactor"
)

// ndjsonCorpus builds about size bytes of NDJSON from the run-history
// sample lines, varied so that batches differ, with a known secret, escaped
// strings and a malformed line mixed in.
func ndjsonCorpus(t *testing.T, size int) []byte {
	t.Helper()
	sample, err := os.ReadFile("testdata/runhistory/logicappworkflowruntime.ndjson")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(sample)), "\n")
	lines = append(lines,
		`{"msg":"auth token validated for user \"svc\"","etag":"\"0x8DC\"","token_type":"Bearer"}`,
		`{"password":"hunter22-`+canary+`","n":1}`,
		`not json at all: password=swordfish99`,
		`{"url":"https://orders.blob.core.windows.net/in/a.json?sv=2022-11-02&sig=dGhpcyBpcyBub3QgYSByZWFsIHNpZw%3D%3D"}`,
	)
	rng := rand.New(rand.NewPCG(7, 8))
	var b bytes.Buffer
	for i := 0; b.Len() < size; i++ {
		l := lines[rng.IntN(len(lines))]
		if rng.IntN(3) == 0 {
			l = strings.Replace(l, "2026", fmt.Sprint(2000+i%100), 1)
		}
		b.WriteString(l)
		if rng.IntN(50) == 0 {
			b.WriteString("\r")
		}
		b.WriteString("\n")
	}
	return b.Bytes()
}

// chunkyReader returns reads of varying sizes, as pipes do.
type chunkyReader struct {
	data []byte
	rng  *rand.Rand
}

func (c *chunkyReader) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	n := min(len(p), len(c.data), 1+c.rng.IntN(200<<10))
	copy(p, c.data[:n])
	c.data = c.data[n:]
	return n, nil
}

// TestStreamParallelMatchesStream: with several workers, NDJSON comes out
// byte for byte as Stream writes it, with the same counts, for inputs that
// span many batches, end without a newline, hold a line longer than a batch
// or than MaxDocument, or are not NDJSON at all.
func TestStreamParallelMatchesStream(t *testing.T) {
	corpus := ndjsonCorpus(t, 5<<20)
	long := append(append(bytes.Clone(corpus[:300<<10]), `{"blob":"`+strings.Repeat("a", 3<<19)+` password=swordfish99"}`+"\n"...), corpus[:200<<10]...)
	doc, err := os.ReadFile("testdata/runhistory/consumption-run-actions.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		in     []byte
		format redactor.Format
		maxDoc int
		// tooLarge: both refuse the input (a line over MaxDocument).
		tooLarge bool
	}{
		{"ndjson", corpus, redactor.FormatNDJSON, 0, false},
		{"auto ndjson", corpus, redactor.FormatAuto, 0, false},
		{"no final newline", corpus[:len(corpus)-1], redactor.FormatNDJSON, 0, false},
		{"line over a batch", long, redactor.FormatNDJSON, 0, false},
		{"line over max document", long, redactor.FormatNDJSON, 64 << 10, true},
		{"auto json document", doc, redactor.FormatAuto, 0, false},
		{"empty", nil, redactor.FormatNDJSON, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRedactor(t, redactor.Config{MaxDocument: tc.maxDoc, Literals: []redactor.Literal{{Source: "test", Value: canary}}})
			var want bytes.Buffer
			ws, err := r.Stream(context.Background(), &want, bytes.NewReader(tc.in), tc.format, redactor.FormatAuto)
			if tc.tooLarge {
				if !errors.Is(err, redactor.ErrTooLarge) {
					t.Fatalf("Stream: err = %v; want ErrTooLarge", err)
				}
				_, err := r.StreamParallel(context.Background(), io.Discard, bytes.NewReader(tc.in), tc.format, redactor.FormatAuto, 2)
				if !errors.Is(err, redactor.ErrTooLarge) {
					t.Fatalf("StreamParallel: err = %v; want ErrTooLarge", err)
				}
				if bytes.Contains(want.Bytes(), []byte("swordfish99")) {
					t.Error("a secret survived")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, workers := range []int{2, 4} {
				var got bytes.Buffer
				src := &chunkyReader{data: tc.in, rng: rand.New(rand.NewPCG(uint64(workers), 1))}
				gs, err := r.StreamParallel(context.Background(), &got, src, tc.format, redactor.FormatAuto, workers)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got.Bytes(), want.Bytes()) {
					t.Fatalf("%d workers: output differs from Stream (%d and %d bytes)", workers, got.Len(), want.Len())
				}
				if gs.Bytes != ws.Bytes || gs.Redactions != ws.Redactions {
					t.Errorf("%d workers: stats %d bytes, %d redactions; Stream: %d, %d", workers, gs.Bytes, gs.Redactions, ws.Bytes, ws.Redactions)
				}
			}
			if len(tc.in) > 0 && ws.Redactions == 0 {
				t.Error("nothing was redacted: the corpus should hold secrets")
			}
			if bytes.Contains(want.Bytes(), []byte(canary)) || bytes.Contains(want.Bytes(), []byte("swordfish99")) {
				t.Error("a secret survived")
			}
		})
	}
}

type failingWriter struct{ after int }

func (f *failingWriter) Write(p []byte) (int, error) {
	if f.after <= 0 {
		return 0, errors.New("disk full")
	}
	f.after--
	return len(p), nil
}

type failingReader struct {
	data []byte
}

func (f *failingReader) Read(p []byte) (int, error) {
	if len(f.data) == 0 {
		return 0, errors.New("connection reset")
	}
	n := copy(p, f.data)
	f.data = f.data[n:]
	return n, nil
}

// TestStreamParallelErrors: a failing writer or reader ends the stream with
// its error, and a cancelled context stops it.
func TestStreamParallelErrors(t *testing.T) {
	corpus := ndjsonCorpus(t, 4<<20)
	r := newRedactor(t, redactor.Config{})
	if _, err := r.StreamParallel(context.Background(), &failingWriter{after: 1}, bytes.NewReader(corpus), redactor.FormatNDJSON, redactor.FormatAuto, 2); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("failing writer: err = %v; want disk full", err)
	}
	if _, err := r.StreamParallel(context.Background(), io.Discard, &failingReader{data: corpus[:3<<20]}, redactor.FormatNDJSON, redactor.FormatAuto, 2); err == nil || !strings.Contains(err.Error(), "connection reset") {
		t.Errorf("failing reader: err = %v; want connection reset", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := r.StreamParallel(ctx, io.Discard, bytes.NewReader(corpus), redactor.FormatNDJSON, redactor.FormatAuto, 2); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: err = %v; want context.Canceled", err)
	}
}
