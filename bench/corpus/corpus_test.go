package corpus_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/flowmask/flowmask/bench/corpus"
	"github.com/flowmask/flowmask/redactor"
)

func literals(vals []string) []redactor.Literal {
	out := make([]redactor.Literal, len(vals))
	for i, v := range vals {
		out[i] = redactor.Literal{Source: fmt.Sprintf("corpus[%d]", i), Value: v}
	}
	return out
}

// leakSummary counts leaks per kind; it names kinds, never values.
func leakSummary(leaks []corpus.Secret) string {
	byKind := map[string]int{}
	for _, s := range leaks {
		byKind[s.Kind]++
	}
	kinds := make([]string, 0, len(byKind))
	for k := range byKind {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	var b strings.Builder
	for _, k := range kinds {
		fmt.Fprintf(&b, " %s=%d", k, byKind[k])
	}
	return b.String()
}

func TestGeneratorsAreDeterministic(t *testing.T) {
	lits := corpus.Literals(7, 100)
	if again := corpus.Literals(7, 100); strings.Join(lits, "\n") != strings.Join(again, "\n") {
		t.Fatal("Literals: same seed gave different values")
	}
	for _, tt := range []struct {
		name string
		gen  func(seed uint64) *corpus.Corpus
	}{
		{"clean", func(s uint64) *corpus.Corpus { return corpus.CleanNDJSON(s, 64<<10) }},
		{"dense", func(s uint64) *corpus.Corpus { return corpus.DenseNDJSON(s, 64<<10, lits) }},
		{"runhistory", func(s uint64) *corpus.Corpus { return corpus.RunHistory(s, 256<<10, lits) }},
	} {
		a, b, c := tt.gen(1), tt.gen(1), tt.gen(2)
		if !bytes.Equal(a.Data, b.Data) || len(a.Secrets) != len(b.Secrets) {
			t.Errorf("%s: same seed gave different corpora", tt.name)
		}
		if bytes.Equal(a.Data, c.Data) {
			t.Errorf("%s: different seeds gave the same corpus", tt.name)
		}
	}
}

func TestCorporaAreWellFormed(t *testing.T) {
	lits := corpus.Literals(1, 5000)
	clean := corpus.CleanNDJSON(1, corpus.DefaultSize)
	dense := corpus.DenseNDJSON(1, corpus.DefaultSize, lits)
	rh := corpus.RunHistory(1, 1<<20, lits)
	for _, c := range []*corpus.Corpus{clean, dense} {
		if len(c.Data) < corpus.DefaultSize || len(c.Data) > corpus.DefaultSize+8<<10 {
			t.Errorf("%s: %d bytes, want about %d", c.Name, len(c.Data), corpus.DefaultSize)
		}
		for i, l := range bytes.Split(bytes.TrimSuffix(c.Data, []byte("\n")), []byte("\n")) {
			if !json.Valid(l) {
				t.Fatalf("%s: line %d is not valid JSON: %.200s", c.Name, i+1, l)
			}
		}
		if c.Lines < 1000 {
			t.Errorf("%s: %d lines", c.Name, c.Lines)
		}
	}
	if !json.Valid(rh.Data) {
		t.Fatal("runhistory: not valid JSON")
	}
	if len(clean.Secrets) != 0 {
		t.Errorf("clean: %d secrets planted", len(clean.Secrets))
	}
	// About one secret per KiB, of every kind.
	if n := len(dense.Secrets); n < 900 || n > 1100 {
		t.Errorf("dense: %d secrets in 1 MiB, want about 1 per KiB", n)
	}
	kinds := map[string]bool{}
	for _, s := range dense.Secrets {
		kinds[s.Kind] = true
		if !bytes.Contains(dense.Data, []byte(s.Value)) {
			t.Errorf("dense: planted %s not found as reported", s.Kind)
		}
	}
	for _, k := range corpus.Kinds {
		if !kinds[k] {
			t.Errorf("dense: no secret of kind %s", k)
		}
	}
	// Verify on the unredacted input finds every secret and keeps every value:
	// the checker itself works.
	for _, c := range []*corpus.Corpus{dense, rh} {
		res := corpus.Verify(c, c.Data)
		if len(res.Leaked) != len(c.Secrets) {
			t.Errorf("%s: Verify(input) found %d of %d secrets", c.Name, len(res.Leaked), len(c.Secrets))
		}
		if res.KeptRatio() != 1 || res.ValuesTotal < 1000 {
			t.Errorf("%s: Verify(input) kept %d of %d values", c.Name, res.ValuesKept, res.ValuesTotal)
		}
	}
}

// TestRedactionRemovesEverySecret runs the engine over the dense and
// run-history corpora: no planted secret may survive, and at least 99.5% of
// the ordinary values (GUIDs, hashes, run ids, timestamps, trace ids,
// envelopes without secrets) must come out byte-identical. The clean corpus
// must come out byte-identical as a whole.
func TestRedactionRemovesEverySecret(t *testing.T) {
	lits := corpus.Literals(1, 5000)
	cases := []struct {
		c      *corpus.Corpus
		format redactor.Format
	}{
		{corpus.CleanNDJSON(1, corpus.DefaultSize), redactor.FormatNDJSON},
		{corpus.DenseNDJSON(1, corpus.DefaultSize, lits), redactor.FormatNDJSON},
		{corpus.RunHistory(1, 2<<20, lits), redactor.FormatJSON},
	}
	for _, tt := range cases {
		t.Run(tt.c.Name, func(t *testing.T) {
			r, err := redactor.New(redactor.Config{Literals: literals(tt.c.Literals)})
			if err != nil {
				t.Fatal(err)
			}
			out, stats := r.Append(nil, tt.c.Data, tt.format)
			res := corpus.Verify(tt.c, out)
			t.Logf("%s: %d bytes, %d secrets planted, %d redactions; values kept %d/%d (%.3f%%)",
				tt.c.Name, len(tt.c.Data), len(tt.c.Secrets), stats.Redactions, res.ValuesKept, res.ValuesTotal, 100*res.KeptRatio())
			if len(res.Leaked) > 0 {
				t.Errorf("%d of %d planted secrets survived, by kind:%s", len(res.Leaked), len(tt.c.Secrets), leakSummary(res.Leaked))
			}
			if res.KeptRatio() < 0.995 {
				sort.Strings(res.Lost)
				t.Errorf("kept %d of %d ordinary values (%.3f%%), want >= 99.5%%; some lost: %q",
					res.ValuesKept, res.ValuesTotal, 100*res.KeptRatio(), res.Lost[:min(5, len(res.Lost))])
			}
			if len(tt.c.Secrets) > 0 && stats.Redactions < len(tt.c.Secrets)/2 {
				t.Errorf("only %d redactions for %d secrets", stats.Redactions, len(tt.c.Secrets))
			}
			if tt.format == redactor.FormatJSON && !json.Valid(out) {
				t.Error("redacted run history is not valid JSON")
			}
			if tt.format == redactor.FormatNDJSON {
				if got := bytes.Count(out, []byte("\n")); got != tt.c.Lines {
					t.Errorf("output has %d lines, input %d", got, tt.c.Lines)
				}
				for i, l := range bytes.Split(bytes.TrimSuffix(out, []byte("\n")), []byte("\n")) {
					if !json.Valid(l) {
						t.Fatalf("output line %d is not valid JSON", i+1)
					}
				}
			}
			if len(tt.c.Secrets) == 0 && !bytes.Equal(out, tt.c.Data) {
				t.Errorf("clean corpus changed: %d redactions, by rule %v", stats.Redactions, stats.ByRule)
			}
		})
	}
}
