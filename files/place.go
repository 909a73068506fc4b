package files

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Target is where one input's redacted copy is written.
type Target struct {
	Input
	// Out is the output path below the output directory.
	Out string
}

// Place maps inputs to paths below dir, keeping each input's relative path
// (Input.Rel) so that files with the same base name from different folders
// stay apart. With decompress, a compression extension is dropped
// (app.log.gz -> app.log). Before anything is written it refuses an output
// that would overwrite an input or an existing file (unless force), or that
// two inputs would share.
func Place(inputs []Input, dir string, decompress, force bool) ([]Target, error) {
	out := make([]Target, 0, len(inputs))
	taken := map[string]string{}
	var errs []error
	for _, in := range inputs {
		rel := in.Rel
		if decompress {
			rel = textName(rel)
		}
		t := Target{Input: in, Out: filepath.Join(dir, rel)}
		if prev, ok := taken[t.Out]; ok {
			errs = append(errs, fmt.Errorf("%s and %s would both be written to %s", prev, in.Path, t.Out))
			continue
		}
		taken[t.Out] = in.Path
		same, exists, err := sameFile(in.Path, t.Out)
		switch {
		case err != nil:
			errs = append(errs, err)
		case same && !force:
			errs = append(errs, fmt.Errorf("%s: the output %s would overwrite the input (use --force to redact in place)", in.Path, t.Out))
		case exists && !force:
			errs = append(errs, fmt.Errorf("%s: the output %s exists (use --force to overwrite it)", in.Path, t.Out))
		}
		out = append(out, t)
	}
	return out, errors.Join(errs...)
}

func sameFile(a, b string) (same, exists bool, err error) {
	sa, err := os.Stat(a)
	if err != nil {
		return false, false, err
	}
	sb, err := os.Stat(b)
	if errors.Is(err, os.ErrNotExist) {
		return false, false, nil
	}
	if err != nil {
		return false, false, err
	}
	return os.SameFile(sa, sb), true, nil
}

// WriteAtomic writes path through a temporary file in its directory and a
// rename, so that a reader never sees half a file and a failed write leaves
// nothing behind. The file gets mode's permissions.
func WriteAtomic(path string, mode os.FileMode, write func(io.Writer) error) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := write(tmp); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	_ = os.Chmod(tmp.Name(), mode.Perm())
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// RedactTo writes the redacted copy of t's input to t.Out, atomically.
func (e *Engine) RedactTo(ctx context.Context, t Target) error {
	mode := os.FileMode(0o644)
	if st, err := os.Stat(t.Path); err == nil {
		mode = st.Mode()
	}
	return WriteAtomic(t.Out, mode, func(w io.Writer) error {
		return e.RedactFile(ctx, t.Path, w)
	})
}
