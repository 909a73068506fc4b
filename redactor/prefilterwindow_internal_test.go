package redactor

import (
	"cmp"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestFindKeywordsWindowsMatchWhole: the windowed prefilter finds exactly
// the keyword occurrences that one search over the whole lowered input
// finds, each once, in inputs of several windows with keywords in random
// case at random offsets (many of them across window borders) and lines of
// every length.
func TestFindKeywordsWindowsMatchWhole(t *testing.T) {
	r, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	c := r.c
	rng := rand.New(rand.NewPCG(17, 9))
	st := r.getState()
	defer r.putState(st)
	for round := range 5 {
		n := 2*lowWindow + rng.IntN(lowWindow)
		src := make([]byte, 0, n+64)
		for len(src) < n {
			switch k := rng.IntN(10); {
			case k < 3:
				w := c.words[rng.IntN(len(c.words))]
				for _, ch := range w {
					if rng.IntN(2) == 0 && ch-'a' < 26 {
						ch -= 'a' - 'A'
					}
					src = append(src, ch)
				}
			case k < 4:
				src = append(src, '\n')
			default:
				src = append(src, "abcdefghij =:\"_-."[rng.IntN(17)])
			}
		}
		// Put keywords right across every window border too.
		for ws := lowWindow; ws < len(src)-32; ws += lowWindow {
			w := c.words[rng.IntN(len(c.words))]
			copy(src[ws-rng.IntN(len(w)):], w)
		}
		b := &buffer{src: src}
		st.findKeywords(b, true)
		got := slices.Clone(b.hits)
		var want []kwHit
		for _, m := range c.pos.FindAllOverlapping(foldASCII(nil, src)) {
			want = append(want, kwHit{pos: int32(m.Start), word: int32(m.PatternID)})
		}
		order := func(x, y kwHit) int { return cmp.Or(cmp.Compare(x.pos, y.pos), cmp.Compare(x.word, y.word)) }
		slices.SortFunc(got, order)
		slices.SortFunc(want, order)
		if !slices.Equal(got, want) {
			t.Fatalf("round %d (%d bytes): windowed prefilter found %d hits, whole search %d", round, len(src), len(got), len(want))
		}
		if !slices.IsSortedFunc(b.hits, func(x, y kwHit) int { return cmp.Compare(x.pos, y.pos) }) {
			t.Fatalf("round %d: hits not in order", round)
		}
		b.hits = b.hits[:0]
		st.findKeywords(b, false)
		slices.SortFunc(b.hits, order)
		if !slices.Equal(b.hits, want) {
			t.Fatalf("round %d: ungated windowed prefilter found %d hits, whole search %d", round, len(b.hits), len(want))
		}
	}
}
