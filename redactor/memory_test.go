package redactor_test

import (
	"context"
	"io"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flowmask/flowmask/redactor"
)

// genReader produces n bytes of NDJSON log lines, a secret in every tenth,
// from one reused block: the generator itself allocates nothing.
type genReader struct {
	left  int
	block []byte
	off   int
}

func newGenReader(n int) *genReader {
	var sb strings.Builder
	for i := 0; i < 100; i++ {
		if i%10 == 0 {
			sb.WriteString(`{"ts":"2026-11-27T10:10:00Z","msg":"login","password":"hunter22-z"}` + "\n")
			continue
		}
		sb.WriteString(`{"ts":"2026-11-27T10:10:00Z","msg":"auth token validated for user","trace_id":"9cb79dc08ca1e74fe57079029dbe0e74"}` + "\n")
	}
	return &genReader{left: n, block: []byte(sb.String())}
}

func (g *genReader) Read(p []byte) (int, error) {
	if g.left <= 0 {
		return 0, io.EOF
	}
	n := copy(p, g.block[g.off:])
	n = min(n, g.left)
	g.off = (g.off + n) % len(g.block)
	g.left -= n
	return n, nil
}

// peakHeap streams n bytes through r and returns the peak heap in use.
func peakHeap(t *testing.T, r *redactor.Redactor, n int) uint64 {
	runtime.GC()
	var peak atomic.Uint64
	done := make(chan struct{})
	go func() {
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-done:
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	}()
	st, err := r.Stream(context.Background(), io.Discard, newGenReader(n), redactor.FormatNDJSON, 0)
	close(done)
	if err != nil {
		t.Fatal(err)
	}
	if st.Bytes != int64(n) || st.Redactions == 0 {
		t.Fatalf("stats = %+v", st)
	}
	return peak.Load()
}

// TestStreamMemoryIsFlat: streaming six times more input does not raise the
// peak heap beyond noise: memory is bounded by chunks, not input size.
func TestStreamMemoryIsFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("streams 56 MiB")
	}
	r := def(t)
	small := peakHeap(t, r, 8<<20)
	large := peakHeap(t, r, 48<<20)
	t.Logf("peak heap: %d MiB for 8 MiB, %d MiB for 48 MiB", small>>20, large>>20)
	if large > small+8<<20 {
		t.Errorf("peak heap grew from %d MiB (8 MiB input) to %d MiB (48 MiB input)", small>>20, large>>20)
	}
}
