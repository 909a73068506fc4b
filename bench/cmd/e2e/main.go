// Command e2e compares the whole `flowmask redact` process with gitleaks'
// default detector on the same generated corpora.
//
// It generates the corpora (package corpus) into a temporary directory,
// builds the flowmask binary from the main module, and times
// `flowmask redact --format F --secrets-file secrets.txt --workers N < corpus > out`
// from process start to exit (startup included), several runs, reporting
// the median. With -workers 0 (the default, as `flowmask redact` runs)
// NDJSON is redacted on every CPU; -workers 1 measures one goroutine. It checks the first run's output: no planted secret may
// survive. gitleaks v8.30.1 runs on a slice of the same data (it is linear,
// and slow): in-process (detect.NewDetectorDefaultConfig().DetectBytes,
// detector construction not timed) and as the `gitleaks stdin` process
// built from the module with `go build` (stdlib regexp, the library
// default) and, with -re2, with `-tags gore2regex` as gitleaks' releases
// are built. It prints a Markdown table of MB/s (10^6 bytes per second)
// and the ratios.
//
// Run it from the bench module:
//
//	cd bench && go run ./cmd/e2e
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"

	"github.com/flowmask/flowmask/bench/corpus"
)

type options struct {
	repo        string
	ndjsonSize  int
	runSize     int
	literals    int
	runs        int
	glClean     int
	glDense     int
	glRuns      int
	gitleaksCLI bool
	re2         bool
	keep        bool
	workers     int
}

func main() {
	var o options
	flag.StringVar(&o.repo, "repo", "..", "root of the flowmask main module (holds cmd/flowmask)")
	flag.IntVar(&o.ndjsonSize, "size", 32<<20, "size in bytes of the clean and dense NDJSON corpora")
	flag.IntVar(&o.runSize, "runhistory-size", 16<<20, "size in bytes of the run-history document")
	flag.IntVar(&o.literals, "literals", 5000, "known values in the --secrets-file given to flowmask")
	flag.IntVar(&o.workers, "workers", 0, "flowmask redact --workers: 0 for one per CPU (the default), 1 for one goroutine")
	flag.IntVar(&o.runs, "runs", 5, "timed runs of each flowmask process")
	flag.IntVar(&o.glClean, "gitleaks-clean", 4<<20, "bytes of the clean and run-history corpora given to gitleaks")
	flag.IntVar(&o.glDense, "gitleaks-dense", 1<<20, "bytes of the dense corpus given to gitleaks")
	flag.IntVar(&o.glRuns, "gitleaks-runs", 3, "timed runs of each gitleaks measurement")
	flag.BoolVar(&o.gitleaksCLI, "cli", true, "also time the gitleaks CLI process (`gitleaks stdin`)")
	flag.BoolVar(&o.re2, "re2", true, "also time the gitleaks CLI built with -tags gore2regex (as its releases are)")
	flag.BoolVar(&o.keep, "keep", false, "keep the temporary directory")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, o, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		os.Exit(1)
	}
}

// row is one corpus's measurements.
type row struct {
	name               string
	size               int
	fm                 sample
	leaked, secrets    int
	shape              string
	kept               float64
	glSize             int
	glLib, glCLI, glRE sample
	glFindings         int
}

func run(ctx context.Context, o options, out, log io.Writer) error {
	dir, err := os.MkdirTemp("", "flowmask-e2e-")
	if err != nil {
		return err
	}
	if o.keep {
		fmt.Fprintln(log, "keeping", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	fmt.Fprintln(log, "generating corpora in", dir)
	ins, secrets, err := writeCorpora(dir, o.ndjsonSize, o.runSize, o.literals)
	if err != nil {
		return err
	}
	fm := filepath.Join(dir, "flowmask")
	fmt.Fprintln(log, "building flowmask")
	repo, err := filepath.Abs(o.repo)
	if err != nil {
		return err
	}
	if err := goBuild(ctx, repo, fm, "./cmd/flowmask"); err != nil {
		return err
	}
	var glBin, glRE string
	if o.gitleaksCLI {
		fmt.Fprintln(log, "building gitleaks")
		glBin = filepath.Join(dir, "gitleaks")
		if err := goBuild(ctx, ".", glBin, "github.com/zricethezav/gitleaks/v8"); err != nil {
			return err
		}
		if o.re2 {
			glRE = filepath.Join(dir, "gitleaks-re2")
			if err := goBuild(ctx, ".", glRE, "github.com/zricethezav/gitleaks/v8", "-tags", "gore2regex"); err != nil {
				return err
			}
		}
	}
	var rows []row
	for _, in := range ins {
		r := row{name: in.c.Name, size: len(in.c.Data), secrets: len(in.c.Secrets)}
		fmt.Fprintf(log, "%s: flowmask x%d\n", in.c.Name, o.runs)
		ds, kept, err := timeProcess(ctx, fm, []string{"redact", "--format", in.format, "--secrets-file", secrets, "--workers", strconv.Itoa(o.workers)}, in.path, dir, o.runs, true)
		if err != nil {
			return err
		}
		r.fm = medians(ds)
		res := corpus.Verify(in.c, kept)
		r.leaked, r.kept = len(res.Leaked), res.KeptRatio()
		r.shape = checkShape(in.c.Data, kept, in.format)

		n := o.glClean
		if in.c.Name == "dense-ndjson" {
			n = o.glDense
		}
		part := slice(in.c.Data, n)
		r.glSize = len(part)
		fmt.Fprintf(log, "%s: gitleaks library on %d bytes x%d\n", in.c.Name, len(part), o.glRuns)
		gds, nf, err := timeGitleaksLib(part, o.glRuns)
		if err != nil {
			return err
		}
		r.glLib, r.glFindings = medians(gds), nf
		if glBin != "" {
			partPath := filepath.Join(dir, "gitleaks-input")
			if err := os.WriteFile(partPath, part, 0o600); err != nil {
				return err
			}
			glArgs := []string{"stdin", "--no-banner", "--exit-code", "0", "--log-level", "error"}
			fmt.Fprintf(log, "%s: gitleaks stdin x%d\n", in.c.Name, o.glRuns)
			if gds, _, err = timeProcess(ctx, glBin, glArgs, partPath, dir, o.glRuns, false); err != nil {
				return err
			}
			r.glCLI = medians(gds)
			if glRE != "" {
				fmt.Fprintf(log, "%s: gitleaks stdin (gore2regex) x%d\n", in.c.Name, o.glRuns)
				if gds, _, err = timeProcess(ctx, glRE, glArgs, partPath, dir, o.glRuns, false); err != nil {
					return err
				}
				r.glRE = medians(gds)
			}
		}
		rows = append(rows, r)
	}
	report(out, o, rows)
	return nil
}

func report(w io.Writer, o options, rows []row) {
	workers := "one per CPU"
	if o.workers > 0 {
		workers = strconv.Itoa(o.workers)
	}
	fmt.Fprintf(w, "flowmask: whole `flowmask redact --workers %d` process (NDJSON workers: %s of %d CPUs), stdin to stdout (a file), startup and --secrets-file with %d values included; median of %d runs.\n", o.workers, workers, runtime.NumCPU(), o.literals, o.runs)
	fmt.Fprintf(w, "gitleaks v8.30.1 default config on a prefix of the same corpus (it is linear); median of %d runs. lib = in-process DetectBytes (detector built outside the timing); cli = `gitleaks stdin` process (stdlib regexp); re2 = cli built with -tags gore2regex, as gitleaks releases are.\n", o.glRuns)
	fmt.Fprintln(w, "MB/s is 10^6 bytes per second of wall-clock time, and in parentheses per second of CPU time (user+system), which a busy machine distorts less. Ratios are flowmask over gitleaks, wall (CPU).")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| corpus | flowmask MB | flowmask MB/s | secrets left | values kept | output shape | gitleaks MB | gitleaks findings | lib MB/s | cli MB/s | re2 MB/s | × lib | × cli | × re2 |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
	for _, r := range rows {
		shape := r.shape
		if shape == "" {
			shape = "ok"
		}
		fmt.Fprintf(w, "| %s | %.1f | %s | %d of %d | %.2f%% | %s | %.1f | %d | %s | %s | %s | %s | %s | %s |\n",
			r.name, float64(r.size)/1e6, rate(r.size, r.fm, "%.1f"), r.leaked, r.secrets, 100*r.kept, shape, float64(r.glSize)/1e6, r.glFindings,
			rate(r.glSize, r.glLib, "%.2f"), rate(r.glSize, r.glCLI, "%.2f"), rate(r.glSize, r.glRE, "%.2f"),
			ratio(r.size, r.fm, r.glSize, r.glLib), ratio(r.size, r.fm, r.glSize, r.glCLI), ratio(r.size, r.fm, r.glSize, r.glRE))
	}
}

// rate formats wall (CPU) MB/s, "-" when not measured.
func rate(n int, s sample, format string) string {
	if s.wall == 0 {
		return "-"
	}
	return fmt.Sprintf(format+" ("+format+")", mbps(n, s.wall), mbps(n, s.cpu))
}

// ratio formats flowmask's speed over gitleaks', wall (CPU).
func ratio(n int, fm sample, gn int, gl sample) string {
	if gl.wall == 0 || gl.cpu == 0 || fm.cpu == 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f× (%.0f×)", mbps(n, fm.wall)/mbps(gn, gl.wall), mbps(n, fm.cpu)/mbps(gn, gl.cpu))
}
