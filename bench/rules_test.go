package bench

import (
	"testing"

	"github.com/flowmask/flowmask/patterns"
	"github.com/flowmask/flowmask/redactor"
)

// BenchmarkRules measures each rule of the embedded library alone (a
// Redactor with that one rule and no literals) on the clean and dense NDJSON
// corpora, plus rule=none, a Redactor with no rule at all. It ranks what
// rules cost; it is not part of the README table. Run it with
//
//	go test -run '^$' -bench Rules -benchtime 5x -cpu 1
func BenchmarkRules(b *testing.B) {
	set, err := patterns.Default()
	if err != nil {
		b.Fatal(err)
	}
	all := append([]patterns.Rule{{ID: "none"}}, set.Rules...)
	for _, rl := range all {
		one := &patterns.Set{}
		if rl.ID != "none" {
			one.Rules = []patterns.Rule{rl}
		}
		r, err := redactor.New(redactor.Config{Rules: one})
		if err != nil {
			b.Fatalf("rule %s: %v", rl.ID, err)
		}
		for _, bc := range cases()[:2] {
			b.Run("rule="+rl.ID+"/corpus="+bc.c.Name, func(b *testing.B) {
				dst := make([]byte, 0, len(bc.c.Data)+len(bc.c.Data)/4)
				b.SetBytes(int64(len(bc.c.Data)))
				m := startMeter()
				for b.Loop() {
					dst, _ = r.Append(dst[:0], bc.c.Data, bc.format)
					m.iters++
				}
				m.report(b, bc.c)
			})
		}
	}
}
