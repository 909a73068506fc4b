package secrets_test

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"net/url"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/flowmask/flowmask/redactor"
)

const benchValues = 10000

// knownValues returns n deterministic secret-like values of 16 to 48 bytes;
// one in ten holds characters that URL and JSON encoding change.
func knownValues(n int) []redactor.Literal {
	rng := rand.New(rand.NewPCG(1, 2))
	const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	const special = `+/=&"\ `
	lits := make([]redactor.Literal, n)
	for i := range lits {
		b := make([]byte, 16+rng.IntN(33))
		for j := range b {
			b[j] = alnum[rng.IntN(len(alnum))]
		}
		if i%10 == 0 {
			b[len(b)/2] = special[rng.IntN(len(special))]
		}
		lits[i] = redactor.Literal{Source: fmt.Sprintf("bench:%d", i), Value: string(b)}
	}
	return lits
}

// ndjsonCorpus returns about size bytes of application log lines. When
// dirty, every 20th line carries a known value: raw, base64, URL-escaped
// or hex, in turn. It also returns the planted (encoded) strings.
func ndjsonCorpus(size int, lits []redactor.Literal, dirty bool) ([]byte, []string) {
	rng := rand.New(rand.NewPCG(3, 4))
	var buf bytes.Buffer
	var planted []string
	for i := 0; buf.Len() < size; i++ {
		fmt.Fprintf(&buf, `{"time":"2026-11-27T10:%02d:%02d.%03dZ","level":"info","service":"orders","msg":"request completed","method":"GET","path":"/api/orders/%d","status":200,"duration_ms":%d.%d,"user_id":"u-%d","bytes":%d`,
			i/60%60, i%60, i%1000, rng.IntN(100000), rng.IntN(500), rng.IntN(10), rng.IntN(10000), rng.IntN(1<<20))
		if dirty && i%20 == 0 {
			v := lits[rng.IntN(len(lits))].Value
			var enc string
			switch (i / 20) % 4 {
			case 0:
				enc = strings.ReplaceAll(strings.ReplaceAll(v, `\`, `\\`), `"`, `\"`)
			case 1:
				enc = base64.StdEncoding.EncodeToString([]byte(v))
			case 2:
				enc = url.QueryEscape(v)
			case 3:
				enc = hex.EncodeToString([]byte(v))
			}
			planted = append(planted, enc)
			fmt.Fprintf(&buf, `,"detail":"upstream said %s ok"`, enc)
		}
		buf.WriteString("}\n")
	}
	return buf.Bytes(), planted
}

// BenchmarkLiteralMasking redacts NDJSON with no known values and with
// 10,000 (each matched with its encoded variants), on clean logs and on
// logs where one line in 20 carries a known value.
func BenchmarkLiteralMasking(b *testing.B) {
	base, err := redactor.New(redactor.Config{})
	if err != nil {
		b.Fatal(err)
	}
	lits := knownValues(benchValues)
	withLits := base.WithLiterals(lits)
	for _, c := range []struct {
		name  string
		dirty bool
	}{{"clean", false}, {"dirty", true}} {
		data, planted := ndjsonCorpus(4<<20, lits, c.dirty)
		for _, r := range []struct {
			n int
			r *redactor.Redactor
		}{{0, base}, {benchValues, withLits}} {
			b.Run(fmt.Sprintf("corpus=%s/literals=%d", c.name, r.n), func(b *testing.B) {
				dst := make([]byte, 0, len(data)+len(data)/4)
				if r.n > 0 {
					out, _ := r.r.Append(nil, data, redactor.FormatNDJSON)
					for _, v := range planted {
						if bytes.Contains(out, []byte(v)) {
							b.Fatalf("planted encoded value of %d bytes survived", len(v))
						}
					}
				}
				runtime.GC() // the set's build garbage must not bill this run
				b.SetBytes(int64(len(data)))
				b.ReportAllocs()
				for b.Loop() {
					dst, _ = r.r.Append(dst[:0], data, redactor.FormatNDJSON)
				}
			})
		}
	}
}

// BenchmarkLiteralSetBuild measures building a Redactor for 10,000 values
// (what every refresh that changes the set costs each front end).
func BenchmarkLiteralSetBuild(b *testing.B) {
	base, err := redactor.New(redactor.Config{})
	if err != nil {
		b.Fatal(err)
	}
	lits := knownValues(benchValues)
	b.ReportAllocs()
	for b.Loop() {
		_ = base.WithLiterals(lits)
	}
}

// TestLiteralSetSize checks that the literal set for 10,000 values stays
// under 64 MiB of heap, and logs its size and build time (not asserted:
// no timing assertions).
func TestLiteralSetSize(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	base, err := redactor.New(redactor.Config{})
	if err != nil {
		t.Fatal(err)
	}
	lits := knownValues(benchValues)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	r := base.WithLiterals(lits)
	took := time.Since(start)
	runtime.GC()
	runtime.ReadMemStats(&after)
	heap := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	runtime.KeepAlive(r)
	t.Logf("%d values: literal set %.1f MiB retained heap, built in %v", r.Literals(), float64(heap)/(1<<20), took)
	if r.Literals() != benchValues {
		t.Errorf("Literals() = %d; want %d", r.Literals(), benchValues)
	}
	if heap > 64<<20 {
		t.Errorf("literal set takes %d MiB; want < 64 MiB", heap>>20)
	}
}
