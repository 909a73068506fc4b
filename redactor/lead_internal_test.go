package redactor

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/flowmask/flowmask/patterns"
)

// TestLeadAnchoringAgreesWithWindowSearch checks the anchored attempts of
// rules whose matches start a few bytes before their keyword (a quote
// before "bearer") against the window search they replace: on the rules'
// examples and negative examples, repeated, glued, quoted, padded and with
// their case changed, both find the same secrets.
func TestLeadAnchoringAgreesWithWindowSearch(t *testing.T) {
	set, err := patterns.Default()
	if err != nil {
		t.Fatal(err)
	}
	fast, err := New(Config{Rules: set})
	if err != nil {
		t.Fatal(err)
	}
	slow := fast.WithLiterals(nil)
	c := *fast.c
	c.rules = slices.Clone(c.rules)
	var lead []string
	for i := range c.rules {
		if rl := &c.rules[i]; rl.anchors && rl.leadMax > 0 {
			lead = append(lead, rl.id)
			rl.anchors, rl.leadMin, rl.leadMax = false, 0, 0
			if rl.boundary != "" {
				t.Fatalf("rule %s: a lead rule with a boundary needs its bare regex here", rl.id)
			}
		}
	}
	slow.c = &c
	if !slices.Contains(lead, "bearer-value") {
		t.Fatalf("bearer-value is not anchored by its lead (lead rules: %v)", lead)
	}
	rng := rand.New(rand.NewPCG(14, 1))
	pads := []string{"", " ", "  ", "   ", "\t", `"`, `'`, `\"`, "x", "=", ": ", "\\n", "&", "?"}
	checked := 0
	for _, pr := range set.Rules {
		if !slices.Contains(lead, pr.ID) {
			continue
		}
		texts := append(slices.Clone(pr.Examples), pr.NegativeExamples...)
		for _, ex := range texts {
			variants := []string{ex, strings.ToUpper(ex), strings.ToLower(ex), ex + ex, ex + " " + ex}
			for range 40 {
				// Cut the example at a random place and glue padding
				// around and inside it, so that quotes, blanks and other
				// keyword occurrences land at every offset from a hit.
				k := rng.IntN(len(ex) + 1)
				p := pads[rng.IntN(len(pads))]
				q := pads[rng.IntN(len(pads))]
				variants = append(variants, q+ex[:k]+p+ex[k:]+q, ex[:k]+p+ex+q+ex[k:])
			}
			for _, v := range variants {
				for _, f := range []Format{FormatText, FormatJSON} {
					want, _ := slow.Append(nil, []byte(v), f)
					got, _ := fast.Append(nil, []byte(v), f)
					checked++
					if string(got) != string(want) {
						t.Errorf("rule %s, format %v, input %q:\nanchored: %q\nwindow:   %q", pr.ID, f, v, got, want)
					}
				}
			}
		}
	}
	t.Logf("%d inputs agree for lead rules %v", checked, lead)
}

// TestRandomGatedNamesAreNotSplit checks that the names of
// randomness-gated rules (service words, key, session) are keywords only
// as written, with their separators or none: their split spellings
// (mix_panel, se-ssion) would triple the keyword automata, and so the cost
// of every line that holds a keyword, for names no one splits. Credential
// names (Pass_Word) are still split.
func TestRandomGatedNamesAreNotSplit(t *testing.T) {
	set, err := patterns.Default()
	if err != nil {
		t.Fatal(err)
	}
	c, err := compile(set, nil)
	if err != nil {
		t.Fatal(err)
	}
	split := map[string]bool{}
	for i, w := range c.words {
		for _, tg := range c.targets[i] {
			rl := c.rules[tg.rule]
			if !tg.name {
				continue
			}
			if rl.random && (string(w) == "mix_panel" || string(w) == "se-ssion") {
				t.Errorf("rule %s: split name %q is a keyword", rl.id, w)
			}
			split[string(w)] = true
		}
	}
	if !split["pass_word"] {
		t.Error("the split spelling pass_word of password is no longer a keyword")
	}
}
