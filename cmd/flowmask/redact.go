package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/flowmask/flowmask/files"
	"github.com/spf13/cobra"
)

// fileFlags are the input flags redact and scan share.
type fileFlags struct {
	walk files.WalkOptions
}

func (f *fileFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.BoolVar(&f.walk.Hidden, "hidden", false, "include hidden files and directories (name starting with a dot) found in directories")
	fl.StringArrayVar(&f.walk.Include, "include", nil, "in directories, only read files whose name or relative path matches this `GLOB` (repeatable)")
	fl.StringArrayVar(&f.walk.Exclude, "exclude", nil, "in directories, skip files and directories whose name or relative path matches this `GLOB` (repeatable)")
	fl.BoolVar(&f.walk.FollowSymlinks, "follow-symlinks", false, "follow symlinks that point outside the given directories (links inside them are always followed)")
}

// reportSkips names every skipped entry on stderr and says whether one of
// them could hold data.
func reportSkips(w io.Writer, e *files.Engine, skips []files.Skip) (dataSkipped bool) {
	for _, s := range skips {
		fmt.Fprintf(w, "flowmask: skipped %s: %s\n", e.Mask(s.Path), s.Reason)
		dataSkipped = dataSkipped || s.MayHoldData
	}
	return dataSkipped
}

// maskedError is an error whose text went through the engine's masking, so
// that a file name or key holding a secret is not printed.
func maskedError(e *files.Engine, err error) error {
	if err == nil || e == nil {
		return err
	}
	return errors.New(e.Mask(err.Error()))
}

func newRedactCmd() *cobra.Command {
	var ef engineFlags
	var ff fileFlags
	var outDir string
	var workers int
	var force, decompress bool
	cmd := &cobra.Command{
		Use:   "redact [flags] [FILE|DIR...]",
		Short: "Remove secrets from files or standard input",
		Long: `Redact reads run-history exports, NDJSON or text logs, CSV or form bodies and
writes them with every secret replaced by [REDACTED:<rule>]. JSON keeps its
shape: only string values change. With no FILE it reads standard input and
writes standard output. NDJSON is redacted on all CPUs (see --workers), in
batches of whole lines written in input order.

Compressed input (gzip, zstd, bzip2, zip) is found by its magic bytes,
decoded, redacted and written back in the same compression (plain with
--decompress; bzip2 only plain). UTF-16/UTF-32 text (with a BOM, or BOM-less
UTF-16) is decoded and written back in its encoding. Directories need
--out-dir and keep their tree below it. Exit status: 0 done, 2 error, 3
incomplete (something that could hold data was skipped or unreadable).
See docs/files.md.`,
		Example: `  # stdin to stdout, format detected from the content
  flowmask redact < run-history.json > clean.json

  # several files into a directory (written atomically, paths kept)
  flowmask redact --out-dir clean/ runs/*.json a/app.log b/app.log

  # a directory tree, only the logs, compressed ones too
  flowmask redact --out-dir clean/ --include '*.log' --include '*.log.gz' /var/log/app

  # also mask the values of known secrets
  flowmask redact --secret-env DB_PASSWORD --secrets-file secrets.txt app.log`,
		RunE: func(cmd *cobra.Command, args []string) error {
			logger := newLogger(cmd.ErrOrStderr())
			r, format, err := ef.build(logger)
			if err != nil {
				return &exitError{code: exitUsage, err: err}
			}
			ctx := cmd.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			prog := newProgress(cmd.ErrOrStderr(), "redact", false)
			defer prog.stop()
			e := &files.Engine{Redactor: r, Format: format, Workers: workers, Decompress: decompress, Count: prog.reader, Notes: cmd.ErrOrStderr()}
			fail := func(code int, err error) error { return &exitError{code: code, err: maskedError(e, err)} }
			if len(args) == 0 {
				args = []string{stdinName}
			}
			if stdinArgs(args) > 1 {
				return &exitError{code: exitUsage, err: errors.New("standard input (-) is named more than once")}
			}
			if stdinArgs(args) > 0 && outDir != "" {
				return fail(exitUsage, errors.New("--out-dir: standard input (-) has no name to write it under; redirect standard output instead"))
			}
			incomplete := false
			if outDir == "" {
				// In argument order; "-" is standard input.
				for _, a := range args {
					if a == stdinName {
						stdin, err := openInput(ctx, stdinName)
						if err != nil {
							return fail(exitUsage, err)
						}
						if err := e.RedactStream(ctx, stdin, cmd.OutOrStdout()); err != nil {
							return fail(exitUsage, fmt.Errorf("stdin: %w", err))
						}
						continue
					}
					inputs, skips, err := files.Expand([]string{a}, ff.walk)
					if err != nil {
						return fail(exitUsage, err)
					}
					incomplete = reportSkips(cmd.ErrOrStderr(), e, skips) || incomplete
					for _, in := range inputs {
						if !in.Named {
							return fail(exitUsage, fmt.Errorf("%s is a directory: use --out-dir", in.Path))
						}
						if err := e.RedactFile(ctx, in.Path, cmd.OutOrStdout()); err != nil {
							return fail(exitUsage, err)
						}
					}
				}
			} else {
				inputs, skips, err := files.Expand(args, ff.walk)
				if err != nil {
					return fail(exitUsage, err)
				}
				incomplete = reportSkips(cmd.ErrOrStderr(), e, skips)
				targets, err := files.Place(inputs, outDir, decompress, force)
				if err != nil {
					return fail(exitUsage, err)
				}
				var failed []error
				for _, t := range targets {
					if err := e.RedactTo(ctx, t); err != nil {
						fmt.Fprintln(cmd.ErrOrStderr(), "flowmask:", maskedError(e, err))
						failed = append(failed, err)
					}
				}
				if len(failed) > 0 {
					return fail(exitIncomplete, fmt.Errorf("%d of %d inputs could not be redacted (see above); the others were written", len(failed), len(targets)))
				}
			}
			if incomplete {
				return fail(exitIncomplete, errors.New("something that could hold data was skipped (see above)"))
			}
			return nil
		},
	}
	ef.register(cmd)
	ff.register(cmd)
	cmd.Flags().IntVar(&workers, "workers", 0, "goroutines redacting NDJSON batches; 0 means one per CPU, 1 one in all")
	cmd.Flags().StringVar(&outDir, "out-dir", "", "write each input to `DIR` under its path relative to the inputs' common parent (atomically) instead of standard output")
	cmd.Flags().BoolVar(&force, "force", false, "with --out-dir, overwrite existing files (also an input, to redact in place)")
	cmd.Flags().BoolVar(&decompress, "decompress", false, "write compressed input out decompressed (dropping .gz/.zst/.bz2 from --out-dir names)")
	return cmd
}
