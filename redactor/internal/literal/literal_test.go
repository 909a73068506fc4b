package literal_test

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"math/rand/v2"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/flowmask/flowmask/redactor/internal/literal"
)

func TestAppendFindsEveryOccurrence(t *testing.T) {
	s := literal.Build([][]byte{[]byte("secret-value-1"), []byte("secret-value-123"), []byte("short")})
	if s.Len() != 2 {
		t.Fatalf("Len() = %d; want 2 (the short value is ignored)", s.Len())
	}
	in := []byte("a secret-value-123 b secret-value-1 c short")
	got := s.Append(nil, in)
	want := []literal.Match{{Start: 2, End: 16, Value: 0}, {Start: 2, End: 18, Value: 1}, {Start: 21, End: 35, Value: 0}}
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

// TestAgainstNaive compares Append with a naive search over random data:
// the same occurrences, in order. Values of 8 to 13 bytes make the set hash
// every window; values of 16 bytes or more make it hash every 8th, and the
// periodic values occur at many overlapping offsets.
func TestAgainstNaive(t *testing.T) {
	for _, tc := range []struct {
		name     string
		min, max int
		periodic bool
	}{
		{"every window", 8, 14, false},
		{"sampled windows", 16, 40, false},
		{"sampled periodic", 16, 24, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
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
				v := word(tc.min + rng.IntN(tc.max-tc.min))
				if tc.periodic {
					v = bytes.Repeat([]byte("ab"), len(v))[:len(v)]
					v[len(v)-1] = alpha[rng.IntN(len(alpha))]
				}
				vals = append(vals, v)
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
				if tc.periodic {
					copy(in[rng.IntN(200):], bytes.Repeat([]byte("ab"), 40))
				}
				// Plant a few values so that matches are not only chance.
				for range 3 {
					v := vals[rng.IntN(len(vals))]
					copy(in[rng.IntN(len(in)-len(v)):], v)
				}
				got := s.Append(nil, in)
				var want []literal.Match
				for i := range in {
					for p := range pats {
						if bytes.HasPrefix(in[i:], []byte(p)) {
							want = append(want, literal.Match{Start: i, End: i + len(p)})
						}
					}
				}
				if len(got) != len(want) {
					t.Fatalf("round %d: %d matches; naive finds %d", round, len(got), len(want))
				}
				gotSet := map[literal.Match]bool{}
				for i, m := range got {
					if i > 0 && m.Start < got[i-1].Start {
						t.Fatalf("round %d: matches out of order: %v", round, got)
					}
					gotSet[literal.Match{Start: m.Start, End: m.End}] = true
				}
				for _, m := range want {
					if !gotSet[m] {
						t.Fatalf("round %d: missing %v; got %v", round, m, got)
					}
				}
			}
		})
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

// TestVariantsMatchStdlib: the URL and base64 forms are the standard
// library's, for values with every kind of byte.
func TestVariantsMatchStdlib(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for range 500 {
		v := make([]byte, 8+rng.IntN(24))
		for i := range v {
			if rng.IntN(3) == 0 {
				v[i] = byte(rng.IntN(256))
			} else {
				v[i] = byte(' ' + rng.IntN(95))
			}
		}
		forms := map[string]bool{}
		for _, f := range literal.Variants(nil, v) {
			forms[string(f)] = true
		}
		want := []string{string(v), url.QueryEscape(string(v)), url.PathEscape(string(v)), hex.EncodeToString(v), strings.ToUpper(hex.EncodeToString(v))}
		js, _ := json.Marshal(string(v))
		if utf8.Valid(v) {
			want = append(want, string(js[1:len(js)-1]))
		}
		for _, w := range want {
			if !forms[w] {
				t.Fatalf("value %q: form %q missing from %q", v, w, literal.Variants(nil, v))
			}
		}
	}
}
