package main

import (
	"strings"
	"testing"
)

// TestRunReadsOnlyItsStreams: a command run through run sees the
// environment of its streams, not the process's, so that in-process tests
// (and any embedding) cannot leak into each other. Not parallel: it sets
// process variables that the command must not see.
func TestRunReadsOnlyItsStreams(t *testing.T) {
	const probe = "Gx7-isolation-probe-value-31"
	t.Setenv("FLOWMASK_ISOLATION_PROBE", probe)
	t.Setenv("FLOWMASK_HASH_KEY", "process-hash-key-not-for-commands")
	t.Setenv("FLOWMASK_PROBE_PREFIX_A", probe)

	in := "a " + probe + " b"
	if res := runBin(t, in, nil, "redact", "--format", "text", "--secret-env", "FLOWMASK_ISOLATION_PROBE"); res.code != exitUsage || !strings.Contains(res.stderr, "FLOWMASK_ISOLATION_PROBE") {
		t.Errorf("--secret-env of a process-only variable: exit %d stderr %q; want 2, not set", res.code, res.stderr)
	}
	if res := runBin(t, in, nil, "redact", "--format", "text", "--mask", "hash"); res.code != exitUsage || !strings.Contains(res.stderr, "FLOWMASK_HASH_KEY is not set") {
		t.Errorf("--mask hash with a process-only key: exit %d stderr %q; want 2, not set", res.code, res.stderr)
	}
	if res := runBin(t, in, nil, "redact", "--format", "text", "--secret-env-prefix", "FLOWMASK_PROBE_PREFIX_"); res.code != 0 || res.stdout != in {
		t.Errorf("--secret-env-prefix matched a process-only variable: exit %d stdout %q", res.code, res.stdout)
	}
	// The same variables given in the streams' environment are used.
	env := []string{"FLOWMASK_ISOLATION_PROBE=" + probe, "FLOWMASK_PROBE_PREFIX_A=" + probe}
	for _, flag := range []string{"--secret-env", "--secret-env-prefix"} {
		name := "FLOWMASK_ISOLATION_PROBE"
		if flag == "--secret-env-prefix" {
			name = "FLOWMASK_PROBE_PREFIX_"
		}
		if res := runBin(t, in, env, "redact", "--format", "text", flag, name); res.code != 0 || res.stdout != "a [REDACTED:known-secret] b" {
			t.Errorf("%s from the streams: exit %d stdout %q stderr %q", flag, res.code, res.stdout, res.stderr)
		}
	}
}
