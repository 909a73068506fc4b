package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/flowmask/flowmask/bench/corpus"
	"github.com/zricethezav/gitleaks/v8/detect"
)

// input is one corpus written to disk.
type input struct {
	c      *corpus.Corpus
	path   string
	format string // flowmask --format
}

// writeCorpora generates the corpora into dir, plus secrets.txt holding the
// known values (the large set, which includes the planted ones). It returns
// the inputs and the secrets file's path.
func writeCorpora(dir string, ndjsonSize, runSize, literals int) ([]input, string, error) {
	lits := corpus.Literals(1, literals)
	cs := []input{
		{c: corpus.CleanNDJSON(1, ndjsonSize), format: "ndjson"},
		{c: corpus.DenseNDJSON(1, ndjsonSize, lits), format: "ndjson"},
		{c: corpus.RunHistory(1, runSize, lits), format: "json"},
	}
	for i := range cs {
		ext := ".ndjson"
		if cs[i].format == "json" {
			ext = ".json"
		}
		cs[i].path = filepath.Join(dir, cs[i].c.Name+ext)
		if err := os.WriteFile(cs[i].path, cs[i].c.Data, 0o600); err != nil {
			return nil, "", fmt.Errorf("write corpus: %w", err)
		}
	}
	secrets := filepath.Join(dir, "secrets.txt")
	if err := os.WriteFile(secrets, []byte(strings.Join(lits, "\n")+"\n"), 0o600); err != nil {
		return nil, "", fmt.Errorf("write secrets file: %w", err)
	}
	return cs, secrets, nil
}

// goBuild runs `go build -o out [flags] pkg` in dir.
func goBuild(ctx context.Context, dir, out, pkg string, flags ...string) error {
	args := append([]string{"build", "-o", out}, flags...)
	args = append(args, pkg)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build %s: %w: %s", pkg, err, strings.TrimSpace(stderr.String()))
	}
	return nil
}

// sample is one timed run: wall-clock time, and CPU time (user + system,
// all threads), which a busy machine inflates much less.
type sample struct {
	wall, cpu time.Duration
}

// medians returns the median wall and the median CPU time of ss.
func medians(ss []sample) sample {
	var w, c []time.Duration
	for _, s := range ss {
		w = append(w, s.wall)
		c = append(c, s.cpu)
	}
	return sample{wall: median(w), cpu: median(c)}
}

// timeProcess runs bin args with stdin from the file in and stdout to a file
// in scratch, runs times, and returns the wall-clock (process start to exit)
// and CPU times. With keep, the output of the first run is returned. A
// non-zero exit other than okExit fails.
func timeProcess(ctx context.Context, bin string, args []string, in, scratch string, runs int, keep bool, okExit ...int) ([]sample, []byte, error) {
	var ds []sample
	var kept []byte
	outPath := filepath.Join(scratch, "out")
	for i := range runs {
		stdin, err := os.Open(in)
		if err != nil {
			return nil, nil, err
		}
		stdout, err := os.Create(outPath)
		if err != nil {
			stdin.Close()
			return nil, nil, err
		}
		var stderr bytes.Buffer
		cmd := exec.CommandContext(ctx, bin, args...)
		cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, stdout, &stderr
		start := time.Now()
		err = cmd.Run()
		d := time.Since(start)
		stdin.Close()
		stdout.Close()
		if err != nil {
			var ee *exec.ExitError
			if !errors.As(err, &ee) || !slices.Contains(okExit, ee.ExitCode()) {
				return nil, nil, fmt.Errorf("%s: %w: %.300s", filepath.Base(bin), err, stderr.String())
			}
		}
		ds = append(ds, sample{wall: d, cpu: cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()})
		if keep && i == 0 {
			if kept, err = os.ReadFile(outPath); err != nil {
				return nil, nil, err
			}
		}
	}
	return ds, kept, nil
}

// timeGitleaksLib times gitleaks' default detector in this process:
// detect.NewDetectorDefaultConfig() (built outside the timing, a fresh one
// per run, since a Detector accumulates state) then DetectBytes(data). CPU
// time is this process's (getrusage), so nothing else may run meanwhile. It
// returns the samples and the findings of the last run.
func timeGitleaksLib(data []byte, runs int) ([]sample, int, error) {
	var ds []sample
	n := 0
	for range runs {
		d, err := detect.NewDetectorDefaultConfig()
		if err != nil {
			return nil, 0, fmt.Errorf("gitleaks detector: %w", err)
		}
		runtime.GC()
		c0 := cpuTime()
		start := time.Now()
		fs := d.DetectBytes(data)
		ds = append(ds, sample{wall: time.Since(start), cpu: cpuTime() - c0})
		n = len(fs)
	}
	return ds, n, nil
}

// cpuTime is this process's user + system time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// median returns the median duration (the lower middle for even counts).
func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[(len(s)-1)/2]
}

// mbps is bytes per microsecond: 10^6 bytes per second.
func mbps(n int, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds() / 1e6
}

// slice returns at most n bytes of data, cut after a newline so that no
// line is split.
func slice(data []byte, n int) []byte {
	if n <= 0 || n >= len(data) {
		return data
	}
	if i := bytes.LastIndexByte(data[:n], '\n'); i > 0 {
		return data[:i+1]
	}
	return data[:n]
}

// checkShape reports how out, the redaction of in, breaks in's structure:
// "" when NDJSON keeps its line count and every line stays valid JSON (or a
// JSON document stays valid), else a short description.
func checkShape(in, out []byte, format string) string {
	if format == "json" {
		if json.Valid(in) && !json.Valid(out) {
			return "invalid JSON"
		}
		return ""
	}
	if a, b := bytes.Count(in, []byte("\n")), bytes.Count(out, []byte("\n")); a != b {
		return fmt.Sprintf("%d lines for %d", b, a)
	}
	bad := 0
	for l := range bytes.SplitSeq(bytes.TrimSuffix(out, []byte("\n")), []byte("\n")) {
		if !json.Valid(l) {
			bad++
		}
	}
	if bad > 0 {
		return fmt.Sprintf("%d invalid lines", bad)
	}
	return ""
}
