package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"

	"github.com/flowmask/flowmask/files"
	"github.com/spf13/cobra"
)

func newScanCmd() *cobra.Command {
	var ef engineFlags
	var ff fileFlags
	var report string
	cmd := &cobra.Command{
		Use:   "scan [flags] [FILE|DIR...]",
		Short: "Report secrets in files or standard input without changing them",
		Long: `Scan reports each secret found (rule, file, line, column, byte offset, JSON
path, a masked preview) and never the secret itself: file names, JSON paths
and keys in the report are masked like the data. A directory is walked
recursively (hidden files and directories need --hidden); compressed and
UTF-16/32 input is decoded as redact does. Everything skipped is named on
standard error.

Exit status: 0 clean, 1 secrets found, 2 usage or fatal error (no report),
3 incomplete: some input could not be read, or something skipped could hold
data; the report covers everything that was read.`,
		Example: `  flowmask scan run-history.json exports/
  flowmask scan --report sarif logs/*.ndjson > flowmask.sarif
  kubectl logs deploy/app | flowmask scan --report json`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if !slices.Contains(files.ReportFormats, report) {
				return &exitError{code: exitUsage, err: fmt.Errorf("--report: unknown format %q (want text, json or sarif)", report)}
			}
			logger := newLogger(cmd.ErrOrStderr())
			r, format, err := ef.build(logger)
			if err != nil {
				return &exitError{code: exitUsage, err: err}
			}
			ctx := cmd.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			prog := newProgress(cmd.ErrOrStderr(), "scan", true)
			e := &files.Engine{Redactor: r, Format: format, Count: prog.reader, Notes: cmd.ErrOrStderr()}
			fail := func(code int, err error) error { return &exitError{code: code, err: maskedError(e, err)} }
			var (
				mu       sync.Mutex
				findings []files.Finding
			)
			add := func(f files.Finding) {
				mu.Lock()
				findings = append(findings, f)
				mu.Unlock()
				prog.findings.Add(1)
			}
			incomplete := false
			// No argument, or "-", is standard input.
			if stdinArgs(args) > 1 {
				return &exitError{code: exitUsage, err: errors.New("standard input (-) is named more than once")}
			}
			dashes := stdinArgs(args)
			if len(args) == 0 || dashes > 0 {
				stdin, err := openInput(ctx, stdinName)
				if err != nil {
					prog.stop()
					return fail(exitUsage, err)
				}
				if err := e.ScanStream(ctx, stdin, stdinName, add); err != nil {
					prog.stop()
					return fail(exitUsage, fmt.Errorf("stdin: %w", err))
				}
			}
			// A named input that cannot be found is named, not fatal: the
			// report covers the others (exit 3).
			var present []string
			for _, a := range args {
				if a == stdinName {
					continue
				}
				if _, err := os.Stat(a); err != nil {
					fmt.Fprintln(cmd.ErrOrStderr(), "flowmask: not scanned:", maskedError(e, err))
					incomplete = true
					continue
				}
				present = append(present, a)
			}
			if len(args) > dashes && len(present) == 0 {
				prog.stop()
				return fail(exitUsage, fmt.Errorf("none of the %d inputs could be found", len(args)))
			}
			inputs, skips, err := files.Expand(present, ff.walk)
			if err != nil {
				prog.stop()
				return fail(exitUsage, err)
			}
			if reportSkips(cmd.ErrOrStderr(), e, skips) {
				incomplete = true
			}
			for _, in := range inputs {
				if err := e.ScanFile(ctx, in.Path, add); err != nil {
					// Report every readable file; name the others.
					fmt.Fprintln(cmd.ErrOrStderr(), "flowmask: not scanned:", maskedError(e, err))
					incomplete = true
				}
			}
			prog.stop()
			if err := files.WriteReport(cmd.OutOrStdout(), report, version, findings, incomplete); err != nil {
				return fail(exitUsage, err)
			}
			switch {
			case incomplete:
				return &exitError{code: exitIncomplete}
			case len(findings) > 0:
				return &exitError{code: exitFindings}
			}
			return nil
		},
	}
	ef.register(cmd)
	ff.register(cmd)
	cmd.Flags().StringVar(&report, "report", "text", "report format: text, json or sarif (2.1.0)")
	return cmd
}
