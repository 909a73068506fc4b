package redactor

import (
	"bytes"
	"os"
	"testing"
)

func TestZZRare(t *testing.T) {
	data, err := os.ReadFile("/tmp/clean.ndjson")
	if err != nil {
		t.Skip()
	}
	r, _ := New(Config{})
	low := foldASCII(nil, data)
	idxs := r.c.ac.MatchThreadSafe(low)
	for _, w := range idxs {
		word := r.c.words[w]
		rb := word[r.c.rare[w]]
		t.Logf("%-20q rare=%q occurrences=%d hits=%d", word, rb, bytes.Count(low, []byte{rb}), bytes.Count(low, word))
	}
}
