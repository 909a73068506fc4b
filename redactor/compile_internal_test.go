package redactor

import (
	"math/rand/v2"
	"regexp/syntax"
	"strings"
	"testing"
)

// TestRelaxRepeats: large counted repeats become unbounded; escapes,
// character classes and small bounds are left alone.
func TestRelaxRepeats(t *testing.T) {
	for _, tt := range []struct{ give, want string }{
		{`a{1,100}b`, `a{1,}b`},
		{`a{1,32}b`, `a{1,32}b`},
		{`[{1,100}]x{2,40}`, `[{1,100}]x{2,}`},
		{`\{1,100}`, `\{1,100}`},
		{`(?P<s>[]a{]{0,999})`, `(?P<s>[]a{]{0,})`},
		{`x{5}`, `x{5}`},
	} {
		if got := relaxRepeats(tt.give); got != tt.want {
			t.Errorf("relaxRepeats(%q) = %q; want %q", tt.give, got, tt.want)
		}
	}
}

// TestCoresCoverEveryKeyword: the prefilter automaton holds cores, not
// keywords, so every keyword must contain one, or its rules would never run.
// The cores should also mostly start with bytes rarer than the letters
// that keywords start with, which is what makes the automaton faster.
func TestCoresCoverEveryKeyword(t *testing.T) {
	r, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	c := r.c
	for _, w := range c.words {
		found := false
		for _, k := range c.cores {
			if strings.Contains(string(w), string(k)) {
				found = true
				break
			}
		}
		if !found {
			t.Errorf("keyword %q holds no core", w)
		}
	}
	if len(c.cores) >= len(c.words) {
		t.Errorf("%d cores for %d keywords; want fewer", len(c.cores), len(c.words))
	}
	firsts := map[byte]bool{}
	wordFirsts := map[byte]bool{}
	for _, k := range c.cores {
		firsts[k[0]] = true
	}
	for _, w := range c.words {
		wordFirsts[w[0]] = true
	}
	var cw, ww float64
	for b := range firsts {
		cw += byteWeight(b)
	}
	for b := range wordFirsts {
		ww += byteWeight(b)
	}
	if cw >= ww {
		t.Errorf("cores start with bytes of weight %.2f, keywords with %.2f; want lower", cw, ww)
	}
}

// TestFoldASCII checks the eight-bytes-at-a-time fold against the bytewise
// definition for every byte value at every offset in a word.
func TestFoldASCII(t *testing.T) {
	var src []byte
	for a := range 256 {
		for k := range 9 {
			src = append(src, byte((a+k*37)%256))
		}
	}
	got := foldASCII(nil, src)
	for i, c := range src {
		want := c
		if c >= 'A' && c <= 'Z' {
			want = c + 'a' - 'A'
		}
		if got[i] != want {
			t.Fatalf("byte %d: %#x folds to %#x; want %#x", i, c, got[i], want)
		}
	}
}

// TestCutBoundary: a leading boundary group is cut only when every match
// must start with it.
func TestCutBoundary(t *testing.T) {
	for _, tt := range []struct{ give, rest, boundary string }{
		{`(?:\b|\\[nrt])00D[a-z]+`, `00D[a-z]+`, boundaryEscaped},
		{`\bAKIA[A-Z0-9]{16}`, `AKIA[A-Z0-9]{16}`, boundaryWord},
		{`(?:\b|\\[nrt])abc|def`, `(?:\b|\\[nrt])abc|def`, ""},
		{`\b(?:abc|def)[|]x`, `(?:abc|def)[|]x`, boundaryWord},
		{`\b[]|]x`, `[]|]x`, boundaryWord},
		{`\b\|x`, `\|x`, boundaryWord},
		{`\b*x`, `\b*x`, ""},
		{`abc\b`, `abc\b`, ""},
	} {
		rest, b := cutBoundary(tt.give)
		if rest != tt.rest || b != tt.boundary {
			t.Errorf("cutBoundary(%q) = %q, %q; want %q, %q", tt.give, rest, b, tt.rest, tt.boundary)
		}
	}
}

// TestRequiredBytes: the bytes every match must hold, folded to lower case.
func TestRequiredBytes(t *testing.T) {
	for _, tt := range []struct{ expr, want string }{
		{`:(?://|\\/\\/)[^:@/]*:(?P<secret>[^\s/]+)@[A-Za-z0-9]`, `/:@`},
		{`(?i)github[\w.-]{0,24}secret`, `bceghirstu`},
		{`abc|abd`, `ab`},
		{`a|b`, ``},
		{`x?y*z+w{0,3}v{2}`, `vz`},
		{`[Qq]~[0-9]`, `q~`},
		{`(?:\b|\\[nrt])00D[a-z]{12}!`, `!0d`},
	} {
		re, err := syntax.Parse(tt.expr, syntax.Perl)
		if err != nil {
			t.Fatal(err)
		}
		set := requiredBytes(re.Simplify())
		got := ""
		for c := range 128 {
			if set.has(byte(c)) {
				got += string(rune(c))
			}
		}
		if got != tt.want {
			t.Errorf("requiredBytes(%q) = %q; want %q", tt.expr, got, tt.want)
		}
	}
}

// TestContainsAgreesWithMatch: the prefilter gates each line with
// cloudflare's Contains, which stops at the first core. It must say yes
// exactly when Match would list a core, on lines made of keyword pieces,
// cores, overlapping cores and noise.
func TestContainsAgreesWithMatch(t *testing.T) {
	r, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	c := r.c
	rng := rand.New(rand.NewPCG(1, 2))
	var parts [][]byte
	for _, w := range c.words {
		parts = append(parts, w, w[:len(w)/2], w[len(w)/2:])
	}
	parts = append(parts, c.cores...)
	for _, k := range c.cores {
		parts = append(parts, k[:2], k[1:])
	}
	const noise = "abcdefghijklmnopqrstuvwxyz0123456789_-=:\"{} ./\\"
	yes := 0
	for range 20000 {
		var line []byte
		for range rng.IntN(8) {
			if rng.IntN(3) == 0 {
				line = append(line, noise[rng.IntN(len(noise))])
			} else {
				line = append(line, parts[rng.IntN(len(parts))]...)
			}
		}
		want := len(c.ac.MatchThreadSafe(line)) > 0
		if got := c.ac.Contains(line); got != want {
			t.Fatalf("Contains(%q) = %v; Match found %v", line, got, c.ac.MatchThreadSafe(line))
		}
		if want {
			yes++
		}
	}
	if yes < 5000 || yes > 15000 {
		t.Errorf("%d of 20000 lines hold a core; the test wants a mix", yes)
	}
}
