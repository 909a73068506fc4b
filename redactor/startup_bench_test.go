package redactor_test

import (
	"testing"

	"github.com/flowmask/flowmask/patterns"
	"github.com/flowmask/flowmask/redactor"
)

// BenchmarkNewDefault measures building a Redactor on the embedded rules, the
// startup cost every command and test pays.
func BenchmarkNewDefault(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := redactor.New(redactor.Config{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLoadDefaultRules measures loading the embedded rule set alone.
func BenchmarkLoadDefaultRules(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := patterns.Default(); err != nil {
			b.Fatal(err)
		}
	}
}
