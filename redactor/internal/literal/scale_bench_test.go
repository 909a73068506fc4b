package literal_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/flowmask/flowmask/redactor/internal/literal"
)

// scaleValues returns n random values of 20 to 60 bytes, as a
// --secrets-file holds.
func scaleValues(n int) [][]byte {
	rng := rand.New(rand.NewPCG(5, 6))
	const chars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_+/=.!"
	vals := make([][]byte, n)
	for i := range vals {
		v := make([]byte, 20+rng.IntN(41))
		for j := range v {
			v[j] = chars[rng.IntN(len(chars))]
		}
		vals[i] = v
	}
	return vals
}

// varied returns about size bytes of log text that never repeats a line.
func varied(size int) []byte {
	rng := rand.New(rand.NewPCG(7, 8))
	var b []byte
	for len(b) < size {
		b = fmt.Appendf(b, `{"ts":"2026-01-%02dT10:%02d:%02d.%06dZ","level":"info","msg":"request completed","path":"/api/v1/orders/%d","status":200,"trace":"%016x%016x","dur_ms":%d}`+"\n",
			1+rng.IntN(28), rng.IntN(60), rng.IntN(60), rng.IntN(1e6), rng.IntN(1e7), rng.Uint64(), rng.Uint64(), rng.IntN(5000))
	}
	return b
}

// BenchmarkBuild10k measures building the matcher of 10,000 values with
// all their encoded forms.
func BenchmarkBuild10k(b *testing.B) {
	vals := scaleValues(10000)
	b.ReportAllocs()
	for b.Loop() {
		literal.Build(vals)
	}
}

// BenchmarkAppendVaried measures matching on log lines that do not repeat,
// so that the filter's cache behaviour is what a real log sees.
func BenchmarkAppendVaried(b *testing.B) {
	in := varied(4 << 20)
	for _, n := range []int{16, 10000} {
		s := literal.Build(scaleValues(n))
		b.Run(fmt.Sprintf("values=%d", n), func(b *testing.B) {
			b.SetBytes(int64(len(in)))
			b.ReportAllocs()
			var dst []literal.Match
			for b.Loop() {
				dst = s.Append(dst[:0], in)
			}
		})
	}
}
