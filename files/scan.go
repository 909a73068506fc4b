package files

import (
	"archive/zip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/flowmask/flowmask/redactor"
)

// Finding is one finding of a scan, with the input it was found in. Every
// string in it has been masked (see Engine.Mask) by the time a report
// holds it.
type Finding struct {
	File string `json:"file"`
	redactor.Finding
}

// ScanFile scans the file name and calls fn for each finding. A compressed
// file is decompressed, text in UTF-16/32 decoded; the members of a zip
// archive are scanned one by one and named ARCHIVE!MEMBER. Offsets, lines
// and columns refer to the decoded UTF-8 text.
func (e *Engine) ScanFile(ctx context.Context, name string, fn func(Finding)) error {
	f, err := os.Open(name)
	if err != nil {
		return e.errorf(name, withoutPath(err))
	}
	defer f.Close()
	err = e.scan(ctx, f, name, fn)
	if errors.Is(err, errZip) {
		st, serr := f.Stat()
		if serr != nil || !st.Mode().IsRegular() {
			return e.errorf(name, fmt.Errorf("zip archive that is not a regular file: %w", ErrUnsupported))
		}
		err = e.scanZip(ctx, f, st.Size(), name, fn)
	}
	return e.wrap(name, err)
}

// ScanStream scans a stream (standard input), named name in findings.
func (e *Engine) ScanStream(ctx context.Context, src io.Reader, name string, fn func(Finding)) error {
	err := e.scan(ctx, src, name, fn)
	if errors.Is(err, errZip) {
		return fmt.Errorf("zip archive on a stream: name the file instead: %w", ErrUnsupported)
	}
	return err
}

func (e *Engine) scan(ctx context.Context, src io.Reader, name string, fn func(Finding)) error {
	d, err := decode(e.count(src))
	if err != nil {
		return err
	}
	defer d.close()
	if !d.plainText() && name != "-" {
		e.note("%s: read as %s", e.Mask(name), d.describe())
	}
	text := d.Reader
	if d.plainText() {
		text = withSize(text, fileSize(src))
	}
	return e.scanText(ctx, text, name, textName(name), fn)
}

// scanText runs the engine over decoded text, masking what a report shows.
func (e *Engine) scanText(ctx context.Context, src io.Reader, name, hintName string, fn func(Finding)) error {
	masked := e.Mask(name)
	// Paths and previews repeat (one per rule or per array element shape):
	// masking each distinct one once keeps a dense scan linear and cheap.
	seen := map[string]string{}
	mask := func(s string) string {
		if s == "" {
			return s
		}
		m, ok := seen[s]
		if !ok {
			m = e.Mask(s)
			if len(seen) < 4096 {
				seen[s] = m
			}
		}
		return m
	}
	_, err := e.Redactor.Scan(ctx, src, e.Format, redactor.FormatHint(hintName), func(f redactor.Finding) {
		f.Path = mask(f.Path)
		f.Preview = mask(f.Preview)
		fn(Finding{File: masked, Finding: f})
	})
	return err
}

func (e *Engine) scanZip(ctx context.Context, f io.ReaderAt, size int64, name string, fn func(Finding)) error {
	zr, err := zip.NewReader(f, size)
	if err != nil {
		return fmt.Errorf("zip: %w", err)
	}
	for _, m := range zr.File {
		if m.FileInfo().IsDir() {
			continue
		}
		if m.Flags&1 != 0 {
			return fmt.Errorf("zip member %s is encrypted: %w", e.Mask(m.Name), ErrUnsupported)
		}
		rc, err := m.Open()
		if err != nil {
			return fmt.Errorf("zip member %s: %w", e.Mask(m.Name), err)
		}
		err = func() error {
			defer rc.Close()
			d, err := decode(rc)
			if errors.Is(err, errZip) {
				return fmt.Errorf("zip inside zip: %w", ErrUnsupported)
			}
			if err != nil {
				return err
			}
			defer d.close()
			return e.scanText(ctx, d.Reader, name+"!"+m.Name, textName(m.Name), fn)
		}()
		if err != nil {
			return fmt.Errorf("zip member %s: %w", e.Mask(m.Name), err)
		}
	}
	return nil
}
