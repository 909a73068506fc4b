package redactor

import (
	"bytes"
	"math"
	"sort"
	"strings"
)

// The prefilter automaton (cloudflare's) does not hold the keywords
// themselves but short cores of them: for each keyword a substring of
// coreLen bytes (or the whole keyword when it is shorter). A keyword can
// occur only where its core does, so on a line with no core no rule can match
// and nothing else runs; when some do, a position-reporting automaton
// places the whole keywords.
//
// The cores are chosen so that as few of them as possible start with bytes
// common in logs. cloudflare's matcher costs little per byte while it stays
// at the root of its trie, and much more once a byte starts a pattern (each
// node is 4 KiB and the walk misses the cache), so a dictionary whose
// patterns start with rare bytes runs about 1.5x faster on log text than
// one of whole keywords, which start with every common letter.

// coreLen is the length of a keyword's core. Longer cores match less often
// by chance but give fewer choices of a rare first byte.
const coreLen = 3

// byteWeight estimates how often byte c occurs in folded log text, from
// byteRank: each step down the ranking is about 10% rarer.
func byteWeight(c byte) float64 {
	r := strings.IndexByte(byteRank, c)
	if r < 0 {
		r = len(byteRank)
	}
	return math.Pow(0.9, float64(r))
}

// chooseCores picks the automaton's dictionary for words. It first chooses
// a set of first bytes, greedily by keywords covered per unit of
// frequency, so that every keyword has a core starting with one of them;
// then each keyword takes its core at its rarest such byte. A core that
// holds a shorter core is dropped: the shorter one stands for it.
func chooseCores(words [][]byte) (cores [][]byte) {
	// startsAt reports where in w a core may start with byte c, or -1.
	startsAt := func(w []byte, c byte) int {
		if len(w) <= coreLen {
			if w[0] == c {
				return 0
			}
			return -1
		}
		return bytes.IndexByte(w[:len(w)-coreLen+1], c)
	}
	var first []byte
	uncovered := make([]bool, len(words))
	left := len(words)
	for i := range uncovered {
		uncovered[i] = true
	}
	// starts[i] holds the bytes a core of words[i] may start with, each
	// once (startsAt, for every byte, without scanning the word 256 times
	// per round).
	starts := make([][]byte, len(words))
	for i, w := range words {
		var seen byteSet
		for k, c := range w {
			if (k == 0 || len(w) > coreLen && k+coreLen <= len(w)) && !seen.has(c) {
				seen.add(c)
				starts[i] = append(starts[i], c)
			}
		}
	}
	var counts [256]int
	for left > 0 {
		clear(counts[:])
		for i := range words {
			if uncovered[i] {
				for _, c := range starts[i] {
					counts[c]++
				}
			}
		}
		best, bestScore := -1, 0.0
		for c, n := range counts {
			if s := float64(n) / byteWeight(byte(c)); n > 0 && s > bestScore {
				best, bestScore = c, s
			}
		}
		first = append(first, byte(best))
		for i, w := range words {
			if uncovered[i] && startsAt(w, byte(best)) >= 0 {
				uncovered[i] = false
				left--
			}
		}
	}
	// Each word's core, at the rarest usable start.
	chosen := make([]string, len(words))
	for i, w := range words {
		if len(w) <= coreLen {
			chosen[i] = string(w)
			continue
		}
		bk, bw := -1, 0.0
		for k := 0; k+coreLen <= len(w); k++ {
			if bytes.IndexByte(first, w[k]) < 0 {
				continue
			}
			if wt := byteWeight(w[k]); bk < 0 || wt < bw {
				bk, bw = k, wt
			}
		}
		chosen[i] = string(w[bk : bk+coreLen])
	}
	// Distinct cores, shortest first, keeping only those that hold no
	// other core.
	uniq := map[string]bool{}
	for _, s := range chosen {
		uniq[s] = true
	}
	all := make([]string, 0, len(uniq))
	for s := range uniq {
		all = append(all, s)
	}
	sort.Slice(all, func(i, j int) bool {
		if len(all[i]) != len(all[j]) {
			return len(all[i]) < len(all[j])
		}
		return all[i] < all[j]
	})
	// A core holds a shorter one when one of its substrings is a core
	// kept so far (cores are a few bytes long: few substrings).
	kept := map[string]bool{}
	for _, s := range all {
		minimal := true
		for i := 0; i < len(s) && minimal; i++ {
			for j := i + 1; j <= len(s); j++ {
				if kept[s[i:j]] {
					minimal = false
					break
				}
			}
		}
		if minimal {
			kept[s] = true
			cores = append(cores, []byte(s))
		}
	}
	return cores
}
