package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestMeasureTinyCorpus runs the measurement functions on tiny corpora:
// the real flowmask binary is built and timed, its output checked, and
// gitleaks' detector is timed in-process. gitleaks is never run on big data
// here, and nothing asserts on speed.
func TestMeasureTinyCorpus(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the flowmask binary")
	}
	ctx := context.Background()
	dir := t.TempDir()
	ins, secrets, err := writeCorpora(dir, 32<<10, 64<<10, 50)
	if err != nil {
		t.Fatal(err)
	}
	if len(ins) != 3 {
		t.Fatalf("got %d corpora, want 3", len(ins))
	}
	fm := filepath.Join(dir, "flowmask")
	if err := goBuild(ctx, "../../..", fm, "./cmd/flowmask"); err != nil {
		t.Fatal(err)
	}
	for _, in := range ins {
		ds, out, err := timeProcess(ctx, fm, []string{"redact", "--format", in.format, "--secrets-file", secrets}, in.path, dir, 2, true)
		if err != nil {
			t.Fatalf("%s: %v", in.c.Name, err)
		}
		if m := medians(ds); len(ds) != 2 || m.wall <= 0 || m.cpu <= 0 {
			t.Errorf("%s: durations %v", in.c.Name, ds)
		}
		if len(out) < len(in.c.Data)/2 {
			t.Errorf("%s: kept output has %d bytes for %d in", in.c.Name, len(out), len(in.c.Data))
		}
		if len(in.c.Secrets) == 0 && !bytes.Equal(out, in.c.Data) {
			t.Errorf("%s: clean corpus changed by flowmask redact", in.c.Name)
		}
		if len(in.c.Secrets) > 0 && bytes.Equal(out, in.c.Data) {
			t.Errorf("%s: output equals input, nothing redacted", in.c.Name)
		}
	}

	// A failing process is reported, with its exit status.
	if _, _, err := timeProcess(ctx, fm, []string{"redact", "--format", "nope"}, ins[0].path, dir, 1, false); err == nil {
		t.Error("timeProcess: no error for a failing process")
	} else if !strings.Contains(err.Error(), "exit status 2") {
		t.Errorf("timeProcess error = %v, want exit status 2", err)
	}

	// gitleaks in-process on a few KiB: the dense slice has more findings
	// (AWS, GitHub, Slack, Stripe keys...) than the clean one (where
	// gitleaks' generic-api-key rule flags idempotency_key_hash values).
	ds, nDense, err := timeGitleaksLib(slice(ins[1].c.Data, 8<<10), 1)
	if err != nil {
		t.Fatal(err)
	}
	_, nClean, err := timeGitleaksLib(slice(ins[0].c.Data, 8<<10), 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 1 || nDense <= nClean {
		t.Errorf("gitleaks: %d durations, %d findings on dense, %d on clean; want 1 and more on dense", len(ds), nDense, nClean)
	}
}

func TestHelpers(t *testing.T) {
	ds := []time.Duration{5, 1, 3, 4, 2}
	if got := median(ds); got != 3 {
		t.Errorf("median = %v, want 3", got)
	}
	if got := median(ds[:4]); got != 3 { // 1 3 4 5: lower middle
		t.Errorf("median of 4 = %v, want 3", got)
	}
	if got := checkShape([]byte("{}\n{}\n"), []byte("{}\n{\n}\n"), "ndjson"); got != "3 lines for 2" {
		t.Errorf("checkShape lines = %q", got)
	}
	if got := checkShape([]byte("{}\n{}\n"), []byte("{}\n{\n"), "ndjson"); got != "1 invalid lines" {
		t.Errorf("checkShape invalid = %q", got)
	}
	if got := checkShape([]byte(`{"a":"b"}`), []byte(`{"a":"[REDACTED:x]"}`), "json"); got != "" {
		t.Errorf("checkShape valid JSON = %q", got)
	}
	if got := checkShape([]byte(`{"a":"b"}`), []byte("{\"a\":\"x\ny\"}"), "json"); got != "invalid JSON" {
		t.Errorf("checkShape invalid JSON = %q", got)
	}
	if got := mbps(2e6, time.Second); got != 2 {
		t.Errorf("mbps = %v, want 2", got)
	}
	data := []byte("aaaa\nbbbb\ncccc\n")
	if got := string(slice(data, 12)); got != "aaaa\nbbbb\n" {
		t.Errorf("slice = %q", got)
	}
	if got := slice(data, 100); len(got) != len(data) {
		t.Errorf("slice beyond end = %q", got)
	}
	var buf bytes.Buffer
	report(&buf, options{literals: 5, runs: 1, glRuns: 1}, []row{{name: "dense-ndjson", size: 2e6, kept: 0.995,
		fm: sample{wall: time.Second / 100, cpu: time.Second / 50}, glSize: 1e6, glLib: sample{wall: time.Second, cpu: time.Second}}})
	if !strings.Contains(buf.String(), "| dense-ndjson | 2.0 | 200.0 (100.0) | 0 of 0 | 99.50% | ok |") || !strings.Contains(buf.String(), "| 200× (100×) | - | - |") {
		t.Errorf("report:\n%s", buf.String())
	}
}
