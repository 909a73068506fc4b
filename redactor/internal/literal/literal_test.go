package literal_test

import (
	"bytes"
	"encoding/base64"
	"math/rand/v2"
	"testing"

	"github.com/flowmask/flowmask/redactor/internal/literal"
)

func TestAppendFindsEveryOccurrence(t *testing.T) {
	s := literal.Build([][]byte{[]byte("secret-value-1"), []byte("secret-value-123"), []byte("short")})
	if s.Len() != 2 {
		t.Fatalf("Len() = %d; want 2 (the short value is ignored)", s.Len())
	}
	in := []byte("a secret-value-123 b secret-value-1 c short")
	got := s.Append(nil, in)
	want := []literal.Match{{2, 16}, {2, 18}, {21, 35}}
	if len(got) != len(want) {
		t.Fatalf("got %v; want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("got %v; want %v", got, want)
		}
	}
}

// TestBase64Alignments: the value is found inside a longer base64 message at
// every alignment and in both alphabets.
func TestBase64Alignments(t *testing.T) {
	v := []byte("k7Fq2LwX9p+Zt/4Rm8?")
	s := literal.Build([][]byte{v})
	for pre := 0; pre < 6; pre++ {
		for post := 0; post < 4; post++ {
			msg := append(append(bytes.Repeat([]byte{'x'}, pre), v...), bytes.Repeat([]byte{'y'}, post)...)
			for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding} {
				b := []byte(enc.EncodeToString(msg))
				if len(s.Append(nil, b)) == 0 {
					t.Errorf("not found in %s (prefix %d, suffix %d)", b, pre, post)
				}
			}
		}
	}
}

// TestAgainstNaive compares Append with a naive search over random data.
func TestAgainstNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	alpha := []byte("abcAB01")
	word := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = alpha[rng.IntN(len(alpha))]
		}
		return b
	}
	var vals [][]byte
	for i := 0; i < 50; i++ {
		vals = append(vals, word(8+rng.IntN(6)))
	}
	s := literal.Build(vals)
	pats := map[string]bool{}
	var scratch [][]byte
	for _, v := range vals {
		for _, p := range literal.Variants(scratch[:0], v) {
			if len(p) >= literal.MinLen {
				pats[string(p)] = true
			}
		}
	}
	for round := 0; round < 200; round++ {
		in := word(300)
		got := s.Append(nil, in)
		n := 0
		for i := range in {
			for p := range pats {
				if bytes.HasPrefix(in[i:], []byte(p)) {
					n++
				}
			}
		}
		if len(got) != n {
			t.Fatalf("round %d: %d matches; naive finds %d", round, len(got), n)
		}
	}
}

func BenchmarkAppend10k(b *testing.B) {
	rng := rand.New(rand.NewPCG(3, 4))
	var vals [][]byte
	for i := 0; i < 10000; i++ {
		v := make([]byte, 16+rng.IntN(32))
		for j := range v {
			v[j] = byte('!' + rng.IntN(90))
		}
		vals = append(vals, v)
	}
	s := literal.Build(vals)
	in := bytes.Repeat([]byte(`{"msg":"request completed","status":200,"path":"/api/v1/orders"}`+"\n"), 16000)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	var dst []literal.Match
	for b.Loop() {
		dst = s.Append(dst[:0], in)
	}
}
