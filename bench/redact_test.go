package bench

import (
	"flag"
	"fmt"
	"io"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/flowmask/flowmask/bench/corpus"
	"github.com/flowmask/flowmask/redactor"
)

var (
	ndjsonSize = flag.Int("corpus.ndjson", corpus.DefaultSize, "size in bytes of the NDJSON corpora")
	runSize    = flag.Int("corpus.runhistory", corpus.DefaultRunHistorySize, "size in bytes of the run-history document")
)

// manyLiterals is the size of the large known-secret set.
const manyLiterals = 5000

type benchCase struct {
	c      *corpus.Corpus
	format redactor.Format
	lits   []string
}

var cases = sync.OnceValue(func() []benchCase {
	lits := corpus.Literals(1, manyLiterals)
	clean := corpus.CleanNDJSON(1, *ndjsonSize)
	dense := corpus.DenseNDJSON(1, *ndjsonSize, lits)
	rh := corpus.RunHistory(1, *runSize, lits)
	planted := dense.Literals // the 16 values planted in dense and run history
	return []benchCase{
		{clean, redactor.FormatNDJSON, planted},
		{dense, redactor.FormatNDJSON, planted},
		{rh, redactor.FormatJSON, planted},
		{clean, redactor.FormatNDJSON, lits},
		{dense, redactor.FormatNDJSON, lits},
	}
})

func newRedactor(tb testing.TB, vals []string) *redactor.Redactor {
	tb.Helper()
	lits := make([]redactor.Literal, len(vals))
	for i, v := range vals {
		lits[i] = redactor.Literal{Source: fmt.Sprintf("bench[%d]", i), Value: v}
	}
	r, err := redactor.New(redactor.Config{Literals: lits})
	if err != nil {
		tb.Fatal(err)
	}
	return r
}

// mallocs returns the number of heap allocations so far.
func mallocs() uint64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.Mallocs
}

// cpuTime is this process's user + system time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// meter measures what the testing package does not: allocations per line
// and throughput per second of CPU time (user + system, GC included), which
// other load on the machine distorts much less than wall-clock MB/s.
type meter struct {
	m0    uint64
	c0    time.Duration
	iters int
}

func startMeter() *meter { return &meter{m0: mallocs(), c0: cpuTime()} }

func (m *meter) report(b *testing.B, c *corpus.Corpus) {
	cpu := cpuTime() - m.c0
	allocs := mallocs() - m.m0
	if m.iters == 0 {
		return
	}
	if cpu > 0 {
		b.ReportMetric(float64(len(c.Data))*float64(m.iters)/cpu.Seconds()/1e6, "cpu-MB/s")
	}
	if c.Name != "runhistory-json" {
		b.ReportMetric(float64(allocs)/float64(m.iters*c.Lines), "allocs/line")
	}
}

// BenchmarkRedact measures the engine alone on one goroutine: the
// whole-buffer path (Redactor.Append into a reused buffer) and the streaming
// path (a Writer fed 64 KiB writes, to io.Discard).
func BenchmarkRedact(b *testing.B) {
	for _, bc := range cases() {
		r := newRedactor(b, bc.lits)
		name := fmt.Sprintf("corpus=%s/literals=%d", bc.c.Name, len(bc.lits))
		b.Run(name+"/api=append", func(b *testing.B) {
			dst := make([]byte, 0, len(bc.c.Data)+len(bc.c.Data)/4)
			b.SetBytes(int64(len(bc.c.Data)))
			b.ReportAllocs()
			m := startMeter()
			for b.Loop() {
				dst, _ = r.Append(dst[:0], bc.c.Data, bc.format)
				m.iters++
			}
			m.report(b, bc.c)
		})
		b.Run(name+"/api=writer", func(b *testing.B) {
			b.SetBytes(int64(len(bc.c.Data)))
			b.ReportAllocs()
			m := startMeter()
			for b.Loop() {
				w := r.NewWriter(io.Discard, bc.format)
				for p := bc.c.Data; len(p) > 0; {
					n := min(len(p), 64<<10)
					if _, err := w.Write(p[:n]); err != nil {
						b.Fatal(err)
					}
					p = p[n:]
				}
				if err := w.Close(); err != nil {
					b.Fatal(err)
				}
				m.iters++
			}
			m.report(b, bc.c)
		})
	}
}
