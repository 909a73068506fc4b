package patterns_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/flowmask/flowmask/patterns"
)

// TestPacks: the pii packs are embedded, off by default and added on
// request; an unknown pack is an error that lists the known ones.
func TestPacks(t *testing.T) {
	if got := patterns.Packs(); !slices.Equal(got, []string{"pii", "pii-ip"}) {
		t.Fatalf("Packs() = %v", got)
	}
	def, err := patterns.Default()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range def.Rules {
		if r.Pack != "" || strings.HasPrefix(r.ID, "pii-") {
			t.Errorf("Default() holds pack rule %s (%s)", r.ID, r.Pack)
		}
	}
	with, err := patterns.DefaultWith("pii")
	if err != nil {
		t.Fatal(err)
	}
	var pii []string
	for _, r := range with.Rules {
		if r.Pack == "pii" {
			pii = append(pii, r.ID)
		}
		if r.Pack == "pii-ip" {
			t.Errorf("pii-ip rule %s loaded without being asked for", r.ID)
		}
	}
	if len(pii) < 5 || len(with.Rules) != len(def.Rules)+len(pii) {
		t.Errorf("DefaultWith(pii) adds %v to %d rules, total %d", pii, len(def.Rules), len(with.Rules))
	}
	if _, err := patterns.DefaultWith("pii", "phi"); err == nil || !strings.Contains(err.Error(), `"phi"`) || !strings.Contains(err.Error(), "pii-ip") {
		t.Errorf("unknown pack: %v", err)
	}
	if _, err := patterns.Parse("x.yaml", []byte("pack: Bad Pack\nrules: []\n")); err == nil || !strings.Contains(err.Error(), "x.yaml:1: pack:") {
		t.Errorf("bad pack name: %v", err)
	}
}
