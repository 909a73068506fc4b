package deploy

import (
	"context"
	"os"
	"os/exec"
	"regexp"
	"testing"
	"time"
)

// TestSmoke runs smoke.sh: the image's binary, built as the Dockerfile
// builds it, started, probed, sent one request with secrets, and stopped
// with SIGTERM.
func TestSmoke(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl not found")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "smoke.sh")
	cmd.Env = append(os.Environ(), "VERSION=v0.0.0-gotest")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("smoke.sh: %v\n%s", err, out)
	}
	if !regexp.MustCompile(`(?m)^smoke: flowmask v0\.0\.0-gotest \(commit (?:[0-9a-f]{12}|unknown), go1\.`).Match(out) || !regexp.MustCompile(`(?m)^smoke: PASS$`).Match(out) {
		t.Fatalf("smoke.sh output lacks the version or PASS line:\n%s", out)
	}
}

var goBuild = regexp.MustCompile(`go build (-trimpath -ldflags "[^"]*") -o \S+ (\./cmd/flowmask)`)

// TestSmokeBuildMatchesDockerfile: smoke.sh tests the binary the image
// ships only while both build it the same way.
func TestSmokeBuildMatchesDockerfile(t *testing.T) {
	var builds [2][]string
	for i, f := range []string{"Dockerfile", "smoke.sh"} {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		all := goBuild.FindAllStringSubmatch(string(data), -1)
		if len(all) != 1 {
			t.Fatalf("%s: %d go build lines, want 1", f, len(all))
		}
		builds[i] = all[0][1:]
		for _, env := range []string{"CGO_ENABLED=0", "GOFLAGS=-mod=readonly"} {
			if !regexp.MustCompile(`\b` + regexp.QuoteMeta(env) + `\b`).Match(data) {
				t.Errorf("%s does not set %s", f, env)
			}
		}
	}
	if builds[0][0] != builds[1][0] || builds[0][1] != builds[1][1] {
		t.Errorf("Dockerfile builds with %q, smoke.sh with %q", builds[0], builds[1])
	}
}

// TestDockerfile checks what cannot be built here (no container engine):
// pinned bases, a numeric non-root USER, no HEALTHCHECK, the entrypoint.
func TestDockerfile(t *testing.T) {
	data, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	for _, want := range []string{
		`(?m)^ARG GO_IMAGE=golang:1\.26\.\d+`,
		`(?m)^ARG BASE_IMAGE=gcr\.io/distroless/static-debian12:nonroot$`,
		`(?m)^FROM \$\{GO_IMAGE\} AS build$`,
		`(?m)^FROM \$\{BASE_IMAGE\}$`,
		`(?m)^USER 65532:65532$`,
		`(?m)^ENTRYPOINT \["/flowmask"\]$`,
		`(?m)^CMD \["proxy", "--config", "/etc/flowmask/config\.yaml"\]$`,
		`-X main\.version=\$\{VERSION\}`,
		`-X main\.commit=\$\{COMMIT\}`,
	} {
		if !regexp.MustCompile(want).MatchString(s) {
			t.Errorf("Dockerfile lacks %s", want)
		}
	}
	for _, bad := range []string{`(?mi)^HEALTHCHECK`, `(?m)^FROM \S+:latest`, `(?m)^USER [a-z]`} {
		if regexp.MustCompile(bad).MatchString(s) {
			t.Errorf("Dockerfile has %s", bad)
		}
	}
}
