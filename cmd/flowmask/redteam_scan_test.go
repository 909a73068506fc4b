package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Red-team: scan printed each finding's file name as given, so a file named
// after the token it holds (as tools that save one token per file do) put the
// token into every report format.
func TestRedteamScanReportMasksSecretFileName(t *testing.T) {
	t.Parallel()
	const pat = "ghp_" + "Z4kW8mQ2xN7vB3cT9rL5yH1jF6dS0gP8aE2u" // generated, fake
	dir := t.TempDir()
	name := filepath.Join(dir, pat+".log")
	if err := os.WriteFile(name, []byte("token "+pat+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, report := range []string{"text", "json", "sarif"} {
		res := runBin(t, "", nil, "scan", "--report", report, name)
		if res.code != 1 {
			t.Fatalf("%s: exit %d, want 1 (findings); stderr %s", report, res.code, res.stderr)
		}
		if strings.Contains(res.stdout, "Z4kW8mQ2") || strings.Contains(res.stderr, "Z4kW8mQ2") {
			t.Errorf("%s report holds the token from the file name:\n%s", report, res.stdout)
		}
		if report == "json" && !json.Valid([]byte(res.stdout)) {
			t.Errorf("json report is not JSON: %s", res.stdout)
		}
	}
}
