package redactor

import (
	"os"
	"sort"
	"testing"
)

func TestZZKeywordStats(t *testing.T) {
	data, err := os.ReadFile("/tmp/clean.ndjson")
	if err != nil {
		t.Skip()
	}
	r, _ := New(Config{})
	st := newState(r)
	b := &buffer{src: data}
	st.prepare(b)
	cnt := map[string]int{}
	for _, h := range b.hits {
		cnt[string(r.c.words[h.word])]++
	}
	type kv struct {
		k string
		v int
	}
	var xs []kv
	for k, v := range cnt {
		xs = append(xs, kv{k, v})
	}
	sort.Slice(xs, func(i, j int) bool { return xs[i].v > xs[j].v })
	for i, x := range xs {
		if i > 25 {
			break
		}
		rules := ""
		for w, word := range r.c.words {
			if string(word) == x.k {
				for _, tg := range r.c.targets[w] {
					rules += r.c.rules[tg.rule].id + " "
				}
			}
		}
		t.Logf("%-24q %6d  %s", x.k, x.v, rules)
	}
	t.Logf("words=%d hits=%d bytes=%d", len(r.c.words), len(b.hits), len(data))
}
