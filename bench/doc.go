// Package bench holds flowmask's benchmarks and its comparison with gitleaks.
//
// It is its own module (github.com/flowmask/flowmask/bench, replacing the
// main module with ../) so that gitleaks and the benchmark tools stay out of
// the main go.mod. The corpora come from package corpus; cmd/e2e measures
// the whole `flowmask redact` process against gitleaks.
//
// Run the engine benchmarks on one core:
//
//	go test -run '^$' -bench . -benchmem -count 5 -cpu 1 | tee new.txt
//	benchstat new.txt
package bench
