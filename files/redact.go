package files

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/flowmask/flowmask/redactor"
)

// Engine runs the redactor over inputs as they come.
type Engine struct {
	// Redactor does the detection and masking.
	Redactor *redactor.Redactor
	// Format is the --format flag; FormatAuto decides per input.
	Format redactor.Format
	// Workers is the number of goroutines for NDJSON (0: one per CPU).
	Workers int
	// Decompress writes compressed input out plain.
	Decompress bool
	// Count, when set, wraps every input reader (progress counting).
	Count func(io.Reader) io.Reader
	// Notes receives one line per decoded input and per skip; nil discards.
	Notes io.Writer
}

// Mask returns s with every secret the engine finds in it masked: file
// names, JSON paths and previews go through it before any report, note or
// error shows them.
func (e *Engine) Mask(s string) string { return e.Redactor.String(s) }

func (e *Engine) count(r io.Reader) io.Reader {
	if e.Count == nil {
		return r
	}
	return e.Count(r)
}

func (e *Engine) note(format string, args ...any) {
	if e.Notes != nil {
		fmt.Fprintf(e.Notes, "flowmask: "+format+"\n", args...)
	}
}

// errorf wraps err with the input's name, masked.
func (e *Engine) errorf(name string, err error) error {
	return fmt.Errorf("%s: %w", e.Mask(name), err)
}

// RedactFile redacts the file name into dst, in the file's compression and
// charset (plain with Decompress). A zip archive is rewritten member by
// member.
func (e *Engine) RedactFile(ctx context.Context, name string, dst io.Writer) error {
	f, err := os.Open(name)
	if err != nil {
		return e.errorf(name, withoutPath(err))
	}
	defer f.Close()
	if err := e.redact(ctx, f, dst, name); err != nil {
		if errors.Is(err, errZip) {
			st, serr := f.Stat()
			if serr != nil || !st.Mode().IsRegular() {
				return e.errorf(name, fmt.Errorf("zip archive that is not a regular file: %w", ErrUnsupported))
			}
			return e.wrap(name, e.redactZip(ctx, f, st.Size(), dst, name))
		}
		return e.wrap(name, err)
	}
	return nil
}

func (e *Engine) wrap(name string, err error) error {
	if err == nil {
		return nil
	}
	return e.errorf(name, err)
}

// RedactStream redacts standard input (or any stream) into dst. Plain
// UTF-8 input with --format auto whose first line is a whole JSON value is
// NDJSON and is written line batch by line batch as it arrives, so that a
// live `tail -f | flowmask redact` shows each line at once.
func (e *Engine) RedactStream(ctx context.Context, src io.Reader, dst io.Writer) error {
	err := e.redact(ctx, src, dst, "")
	if errors.Is(err, errZip) {
		return fmt.Errorf("zip archive on a stream: name the file instead: %w", ErrUnsupported)
	}
	return err
}

// redact decodes src, redacts and re-encodes into dst.
func (e *Engine) redact(ctx context.Context, src io.Reader, dst io.Writer, name string) error {
	d, err := decode(e.count(src))
	if err != nil {
		return err
	}
	defer d.close()
	hint := redactor.FormatHint(textName(name))
	if d.plainText() {
		if name == "" && e.Format == redactor.FormatAuto && !regularFile(src) {
			return e.live(ctx, d.Reader, dst)
		}
		_, err := e.Redactor.StreamParallel(ctx, dst, withSize(d.Reader, fileSize(src)), e.Format, hint, e.Workers)
		return err
	}
	if name != "" {
		e.note("%s: read as %s", e.Mask(name), d.describe())
	}
	enc, err := newEncoder(dst, d.Layout, e.Decompress)
	if err != nil {
		return err
	}
	if _, err := e.Redactor.StreamParallel(ctx, enc, d.Reader, e.Format, hint, e.Workers); err != nil {
		enc.Close()
		return err
	}
	return enc.Close()
}

// liveMaxLine is the longest first line live() waits for before handing
// the stream to the engine's own detection.
const liveMaxLine = 1 << 20

// live redacts a stream with --format auto. It reads the first complete
// line: when that is a whole JSON object or array, the stream is NDJSON and
// each batch of complete lines available is redacted and written at once;
// otherwise (a pretty-printed document, text, CSV) the engine decides as
// usual.
func (e *Engine) live(ctx context.Context, src io.Reader, dst io.Writer) error {
	br := bufio.NewReaderSize(src, 64<<10)
	var first []byte
	for {
		chunk, err := br.ReadSlice('\n')
		first = append(first, chunk...)
		if errors.Is(err, bufio.ErrBufferFull) && len(first) < liveMaxLine {
			continue
		}
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) && err != io.EOF {
			return fmt.Errorf("read: %w", err)
		}
		break
	}
	line := bytes.TrimSpace(first)
	ndjson := bytes.HasSuffix(first, []byte("\n")) && len(line) > 0 && (line[0] == '{' || line[0] == '[') && json.Valid(line)
	rest := io.MultiReader(bytes.NewReader(first), br)
	if !ndjson {
		_, err := e.Redactor.StreamParallel(ctx, dst, rest, redactor.FormatAuto, redactor.FormatAuto, e.Workers)
		return err
	}
	flusher, _ := dst.(interface{ Flush() error })
	var batch, out []byte
	batch = append(batch, first...)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		// Take every complete line already buffered, up to a batch size,
		// without waiting for more input.
		for len(batch) < 1<<20 {
			avail, _ := br.Peek(br.Buffered())
			if bytes.IndexByte(avail, '\n') < 0 {
				break
			}
			chunk, _ := br.ReadSlice('\n')
			batch = append(batch, chunk...)
		}
		if n := bytes.LastIndexByte(batch, '\n'); n >= 0 {
			out, _ = e.Redactor.Append(out[:0], batch[:n+1], redactor.FormatNDJSON)
			if _, err := dst.Write(out); err != nil {
				return fmt.Errorf("write: %w", err)
			}
			if flusher != nil {
				if err := flusher.Flush(); err != nil {
					return fmt.Errorf("write: %w", err)
				}
			}
			batch = append(batch[:0], batch[n+1:]...)
		}
		if len(batch) > liveMaxLine {
			// One very long line: the engine streams (or refuses) it with
			// its own limits.
			_, err := e.Redactor.Stream(ctx, dst, io.MultiReader(bytes.NewReader(batch), br), redactor.FormatNDJSON, redactor.FormatNDJSON)
			return err
		}
		chunk, err := br.ReadSlice('\n') // blocks until more input
		batch = append(batch, chunk...)
		if err == io.EOF {
			if len(batch) > 0 {
				out, _ = e.Redactor.Append(out[:0], batch, redactor.FormatNDJSON)
				if _, err := dst.Write(out); err != nil {
					return fmt.Errorf("write: %w", err)
				}
			}
			return nil
		}
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			return fmt.Errorf("read: %w", err)
		}
	}
}

// redactZip rewrites a zip archive with every member redacted (in the
// member's own compression inside and charset), keeping names, times and
// modes.
func (e *Engine) redactZip(ctx context.Context, f io.ReaderAt, size int64, dst io.Writer, name string) error {
	zr, err := zip.NewReader(f, size)
	if err != nil {
		return fmt.Errorf("zip: %w", err)
	}
	zw := zip.NewWriter(dst)
	for _, m := range zr.File {
		if m.Flags&1 != 0 {
			return fmt.Errorf("zip member %s is encrypted: %w", e.Mask(m.Name), ErrUnsupported)
		}
		h := m.FileHeader
		h.CompressedSize64, h.UncompressedSize64, h.CRC32 = 0, 0, 0
		h.Name = m.Name
		if h.Method != zip.Store {
			h.Method = zip.Deflate
		}
		w, err := zw.CreateHeader(&h)
		if err != nil {
			return fmt.Errorf("zip member %s: %w", e.Mask(m.Name), err)
		}
		if m.FileInfo().IsDir() {
			continue
		}
		rc, err := m.Open()
		if err != nil {
			return fmt.Errorf("zip member %s: %w", e.Mask(m.Name), err)
		}
		err = e.redactMember(ctx, rc, w, m.Name)
		rc.Close()
		if err != nil {
			return fmt.Errorf("zip member %s: %w", e.Mask(m.Name), err)
		}
	}
	return zw.Close()
}

func (e *Engine) redactMember(ctx context.Context, src io.Reader, dst io.Writer, name string) error {
	d, err := decode(src)
	if errors.Is(err, errZip) {
		return fmt.Errorf("zip inside zip: %w", ErrUnsupported)
	}
	if err != nil {
		return err
	}
	defer d.close()
	enc, err := newEncoder(dst, d.Layout, false)
	if err != nil {
		return err
	}
	if _, err := e.Redactor.StreamParallel(ctx, enc, d.Reader, e.Format, redactor.FormatHint(textName(name)), e.Workers); err != nil {
		enc.Close()
		return err
	}
	return enc.Close()
}

// withoutPath drops the path from an *fs.PathError (the caller names the file,
// masked).
func withoutPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// regularFile reports whether r is an *os.File on a regular file (stdin
// redirected from a file), which needs no line-by-line liveness.
// sizedReader is a reader that says how many bytes it holds (see
// redactor.SizeHinter).
type sizedReader struct {
	io.Reader
	size int64
}

func (s sizedReader) SizeHint() int64 { return s.size }

// withSize tells the engine that r holds size bytes (0: unknown), so that
// a file that is one long record is buffered in one allocation of its size.
func withSize(r io.Reader, size int64) io.Reader {
	if size <= 0 {
		return r
	}
	return sizedReader{Reader: r, size: size}
}

// statter is a reader that can say what it reads from: an *os.File, or a
// wrapper of one (standard input that must not be closed).
type statter interface {
	Stat() (os.FileInfo, error)
}

// fileSize returns the size of r if it is a regular file, else 0.
func fileSize(r io.Reader) int64 {
	f, ok := r.(statter)
	if !ok {
		return 0
	}
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		return 0
	}
	return st.Size()
}

func regularFile(r io.Reader) bool {
	f, ok := r.(statter)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode().IsRegular()
}
