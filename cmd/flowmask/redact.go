package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"

	"github.com/flowmask/flowmask/redactor"
	"github.com/spf13/cobra"
)

func newRedactCmd() *cobra.Command {
	var ef engineFlags
	var outDir string
	var workers int
	cmd := &cobra.Command{
		Use:   "redact [flags] [FILE...]",
		Short: "Remove secrets from files or standard input",
		Long: `Redact reads run-history exports, NDJSON or text logs, CSV or form bodies and
writes them with every secret replaced by [REDACTED:<rule>]. JSON keeps its
shape: only string values change. With no FILE it reads standard input and
writes standard output. NDJSON is redacted on all CPUs (see --workers), in
batches of whole lines written in input order.`,
		Example: `  # stdin to stdout, format detected from the content
  flowmask redact < run-history.json > clean.json

  # several files into a directory (written atomically)
  flowmask redact --out-dir clean/ runs/*.json app.log

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
			prog := newProgress(os.Stderr, "redact", false)
			defer prog.stop()
			if len(args) == 0 {
				if outDir != "" {
					return &exitError{code: exitUsage, err: errors.New("--out-dir needs FILE arguments")}
				}
				stdin, err := openInput(ctx, stdinName)
				if err != nil {
					return &exitError{code: exitUsage, err: err}
				}
				_, err = r.StreamParallel(ctx, cmd.OutOrStdout(), prog.reader(stdin), format, redactor.FormatAuto, workers)
				if err != nil {
					return &exitError{code: exitUsage, err: fmt.Errorf("stdin: %w", err)}
				}
				return nil
			}
			if outDir == "" && len(args) > 0 {
				for _, name := range args {
					if err := redactFile(ctx, r, format, workers, name, cmd.OutOrStdout(), prog); err != nil {
						return &exitError{code: exitUsage, err: err}
					}
				}
				return nil
			}
			if slices.Contains(args, stdinName) {
				return &exitError{code: exitUsage, err: errors.New("--out-dir: standard input (-) has no name to write it under; redirect standard output instead")}
			}
			if err := os.MkdirAll(outDir, 0o755); err != nil {
				return &exitError{code: exitUsage, err: fmt.Errorf("--out-dir: %w", err)}
			}
			for _, name := range args {
				if err := redactToDir(ctx, r, format, workers, name, outDir, prog); err != nil {
					return &exitError{code: exitUsage, err: err}
				}
			}
			return nil
		},
	}
	ef.register(cmd)
	cmd.Flags().IntVar(&workers, "workers", 0, "goroutines redacting NDJSON batches; 0 means one per CPU, 1 one in all")
	cmd.Flags().StringVar(&outDir, "out-dir", "", "write each FILE to `DIR` under its base name (atomically) instead of standard output")
	return cmd
}

func redactFile(ctx context.Context, r *redactor.Redactor, format redactor.Format, workers int, name string, dst io.Writer, prog *progress) error {
	f, err := openInput(ctx, name)
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := r.StreamParallel(ctx, dst, prog.reader(f), format, redactor.FormatHint(name), workers); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// redactToDir writes name's redacted copy to dir/base(name) through a
// temporary file and a rename, so a reader never sees half a file. An output
// that would overwrite its own input is refused.
func redactToDir(ctx context.Context, r *redactor.Redactor, format redactor.Format, workers int, name, dir string, prog *progress) error {
	target := filepath.Join(dir, filepath.Base(name))
	if same, err := sameFile(name, target); err != nil {
		return err
	} else if same {
		return fmt.Errorf("%s: the output %s would overwrite the input", name, target)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(name)+".*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := redactFile(ctx, r, format, workers, name, tmp, prog); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("%s: %w", target, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("%s: %w", target, err)
	}
	if st, err := os.Stat(name); err == nil {
		_ = os.Chmod(tmp.Name(), st.Mode().Perm())
	}
	if err := os.Rename(tmp.Name(), target); err != nil {
		return fmt.Errorf("%s: %w", target, err)
	}
	return nil
}

func sameFile(a, b string) (bool, error) {
	sa, err := os.Stat(a)
	if err != nil {
		return false, err
	}
	sb, err := os.Stat(b)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return os.SameFile(sa, sb), nil
}
