package bench

import (
	"fmt"
	"sync"
	"testing"

	"github.com/flowmask/flowmask/bench/corpus"
	"github.com/flowmask/flowmask/redactor"
)

// scaleLiterals is the size of the known-secret set in
// BenchmarkKnownSecrets: issue 14 asks that 10,000 values keep at least 60%
// of the throughput of the same run with only the planted values.
const scaleLiterals = 10000

var scaleCases = sync.OnceValue(func() []benchCase {
	lits := corpus.Literals(1, scaleLiterals)
	clean := corpus.CleanNDJSON(1, *ndjsonSize)
	dense := corpus.DenseNDJSON(1, *ndjsonSize, lits)
	text := corpus.DenseNDJSON(1, *ndjsonSize, lits)
	planted := dense.Literals
	return []benchCase{
		{clean, redactor.FormatNDJSON, planted},
		{clean, redactor.FormatNDJSON, lits},
		{dense, redactor.FormatNDJSON, planted},
		{dense, redactor.FormatNDJSON, lits},
		{text, redactor.FormatText, planted},
		{text, redactor.FormatText, lits},
	}
})

// BenchmarkKnownSecrets compares the whole-buffer path with the 16 planted
// known values and with 10,000 of them, on clean and secret-dense NDJSON
// (and the dense corpus read as text). The ratio of the two MB/s figures
// of a corpus is the throughput that 10,000 values keep.
//
//	cd bench && go test -run '^$' -bench KnownSecrets -benchmem -count 3 -cpu 1
func BenchmarkKnownSecrets(b *testing.B) {
	for _, bc := range scaleCases() {
		r := newRedactor(b, bc.lits)
		name := fmt.Sprintf("corpus=%s/format=%s/literals=%d", bc.c.Name, bc.format, len(bc.lits))
		b.Run(name, func(b *testing.B) {
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
	}
}

// BenchmarkNewKnownSecrets measures building a Redactor with 16 and with
// 10,000 known values: the rules compile while the values' matcher is
// built, so the difference is what the values add to startup.
func BenchmarkNewKnownSecrets(b *testing.B) {
	all := corpus.Literals(1, scaleLiterals)
	for _, n := range []int{16, scaleLiterals} {
		b.Run(fmt.Sprintf("literals=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				newRedactor(b, all[:n])
			}
		})
	}
}
