package files

import (
	"bufio"
	"bytes"
	"compress/bzip2"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/flowmask/flowmask/redactor/charset"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

// Compression is the container an input came in, found by magic bytes.
type Compression uint8

// Compressions.
const (
	Plain Compression = iota
	Gzip
	Zstd
	Bzip2
	Xz
	Zip
)

func (c Compression) String() string {
	return [...]string{"plain", "gzip", "zstd", "bzip2", "xz", "zip"}[c]
}

// ErrUnsupported is wrapped by errors for input flowmask recognises but
// cannot read or write back (bzip2 output, encrypted zip members, nested
// compression).
var ErrUnsupported = errors.New("unsupported input")

// sniffCompression reads the magic bytes at the start of head.
func sniffCompression(head []byte) Compression {
	switch {
	case bytes.HasPrefix(head, []byte{0x1f, 0x8b}):
		return Gzip
	case bytes.HasPrefix(head, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		return Zstd
	case bytes.HasPrefix(head, []byte("BZh")) && len(head) >= 4 && head[3] >= '1' && head[3] <= '9':
		return Bzip2
	case bytes.HasPrefix(head, []byte{0xfd, '7', 'z', 'X', 'Z', 0}):
		return Xz
	case bytes.HasPrefix(head, []byte("PK\x03\x04")), bytes.HasPrefix(head, []byte("PK\x05\x06")):
		return Zip
	}
	return Plain
}

// Layout is how an input's text is stored: its compression, its charset
// and the byte order mark it started with. Output is written back in the
// same layout.
type Layout struct {
	Compression Compression
	Charset     charset.Encoding
	BOM         []byte
}

// plainText reports whether the layout is UTF-8 without compression or BOM,
// the engine's own form.
func (l Layout) plainText() bool {
	return l.Compression == Plain && l.Charset.IsUTF8() && len(l.BOM) == 0
}

// describe says what was decoded, for notes ("gzip, utf-16le with BOM").
func (l Layout) describe() string {
	var parts []string
	if l.Compression != Plain {
		parts = append(parts, l.Compression.String())
	}
	if !l.Charset.IsUTF8() || len(l.BOM) > 0 {
		s := l.Charset.String()
		if len(l.BOM) > 0 {
			s += " with BOM"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ", ")
}

// errZip is returned by decode for a zip archive, which needs random access
// (see the zip functions).
var errZip = errors.New("zip archive")

// decoded is an input opened for the engine: UTF-8 text and how it was
// stored.
type decoded struct {
	io.Reader
	Layout
	close func()
}

// decode looks at the start of r for a compression's magic bytes and then
// for a byte order mark or the NUL pattern of BOM-less UTF-16/32, and
// returns a reader of the UTF-8 text. A zip archive is errZip; xz is an
// error wrapping ErrUnsupported. A read or decompression error surfaces
// from Read, never as a short clean input.
func decode(r io.Reader) (*decoded, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	head, err := peekAvailable(br, 6)
	if err != nil && err != io.EOF {
		return nil, fmt.Errorf("read: %w", err)
	}
	d := &decoded{close: func() {}}
	d.Compression = sniffCompression(head)
	var text io.Reader = br
	switch d.Compression {
	case Gzip:
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		text = zr
	case Zstd:
		zr, err := zstd.NewReader(br, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(128<<20))
		if err != nil {
			return nil, fmt.Errorf("zstd: %w", err)
		}
		text, d.close = zr, zr.Close
	case Bzip2:
		text = bzip2.NewReader(br)
	case Xz:
		tail := &xzTail{r: br}
		xr, err := xz.NewReader(tail)
		if err != nil {
			return nil, fmt.Errorf("xz: %w", err)
		}
		text = &xzChecked{r: xr, tail: tail}
	case Zip:
		return nil, errZip
	}
	tb := bufio.NewReaderSize(text, 64<<10)
	head, err = peekAvailable(tb, 256)
	if err != nil && err != io.EOF {
		d.close()
		return nil, fmt.Errorf("%s: %w", d.Compression, err)
	}
	if enc, bomLen, ok := charset.Sniff(head); ok {
		d.Charset = enc
		d.BOM = bytes.Clone(head[:bomLen])
		_, _ = tb.Discard(bomLen)
	}
	if sniffCompression(head) != Plain && d.Compression != Plain {
		// A compressed file inside a compressed file (log.gz.gz): the
		// engine would see binary. Refuse rather than pass it through.
		d.close()
		return nil, fmt.Errorf("%s input holds %s-compressed data: decompress it first: %w", d.Compression, sniffCompression(head), ErrUnsupported)
	}
	d.Reader = d.Charset.NewDecoder(tb)
	return d, nil
}

// encoder writes UTF-8 text back in a layout: it encodes the charset (with
// the BOM the input had) and compresses. Close flushes every layer; it does
// not close the underlying writer.
type encoder struct {
	io.Writer
	closers []io.Closer
}

func (e *encoder) Close() error {
	var errs []error
	for i := len(e.closers) - 1; i >= 0; i-- {
		errs = append(errs, e.closers[i].Close())
	}
	return errors.Join(errs...)
}

// newEncoder returns a writer of UTF-8 text into dst in layout l; with
// plain, the output is not compressed. Compression that cannot be written
// back (bzip2) is an error wrapping ErrUnsupported.
func newEncoder(dst io.Writer, l Layout, plain bool) (*encoder, error) {
	e := &encoder{Writer: dst}
	if !plain {
		switch l.Compression {
		case Gzip:
			zw := gzip.NewWriter(dst)
			e.Writer = zw
			e.closers = append(e.closers, zw)
		case Zstd:
			zw, err := zstd.NewWriter(dst, zstd.WithEncoderConcurrency(1))
			if err != nil {
				return nil, err
			}
			e.Writer = zw
			e.closers = append(e.closers, zw)
		case Xz:
			xw, err := xz.NewWriter(dst)
			if err != nil {
				return nil, err
			}
			e.Writer = xw
			e.closers = append(e.closers, xw)
		case Bzip2:
			return nil, fmt.Errorf("bzip2 input can be read but not written back compressed (use --decompress to write it plain): %w", ErrUnsupported)
		}
	}
	if len(l.BOM) > 0 {
		if _, err := e.Writer.Write(l.BOM); err != nil {
			return nil, err
		}
	}
	if !l.Charset.IsUTF8() {
		cw := l.Charset.NewEncoder(e.Writer)
		e.Writer = cw
		e.closers = append(e.closers, cw)
	}
	return e, nil
}

// compressionExt is the file name extension of each compression.
var compressionExt = map[string]Compression{".gz": Gzip, ".gzip": Gzip, ".zst": Zstd, ".zstd": Zstd, ".bz2": Bzip2, ".xz": Xz}

// textName strips a compression extension: the name the text inside has
// (app.log.gz -> app.log), for format hints and for --decompress output.
func textName(name string) string {
	if _, ok := compressionExt[strings.ToLower(filepath.Ext(name))]; ok {
		return strings.TrimSuffix(name, filepath.Ext(name))
	}
	return name
}

// peekAvailable returns the first n bytes of br, or fewer when the input
// ends or when at least 4 bytes holding a line break have arrived: a live
// stream (tail -f) is not held back waiting for bytes that will come only
// with the next line.
func peekAvailable(br *bufio.Reader, n int) ([]byte, error) {
	for {
		k := br.Buffered()
		if k >= n {
			return br.Peek(n)
		}
		if b, _ := br.Peek(k); k >= 4 && bytes.IndexByte(b, '\n') >= 0 {
			return b, nil
		}
		if b, err := br.Peek(k + 1); err != nil {
			return b, err
		}
	}
}

// xzTail passes xz bytes through and remembers the last two bytes before
// any trailing zero padding: a complete xz file ends with its stream
// footer's magic "YZ". ulikunitz/xz reads a stream cut off before a block
// header as a clean end, so without this check a truncated file would
// read as short, clean text.
type xzTail struct {
	r          io.Reader
	prev, last byte
	zeros      int
}

func (t *xzTail) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	for _, c := range p[:n] {
		if c == 0 {
			t.zeros++
			continue
		}
		if t.zeros > 0 {
			t.prev = 0
		} else {
			t.prev = t.last
		}
		t.last, t.zeros = c, 0
	}
	return n, err
}

// xzChecked turns the end of an xz stream whose input did not end with a
// stream footer into io.ErrUnexpectedEOF.
type xzChecked struct {
	r    io.Reader
	tail *xzTail
}

func (x *xzChecked) Read(p []byte) (int, error) {
	n, err := x.r.Read(p)
	if err == io.EOF && (x.tail.prev != 'Y' || x.tail.last != 'Z' || x.tail.zeros%4 != 0) {
		err = fmt.Errorf("truncated xz stream: %w", io.ErrUnexpectedEOF)
	}
	return n, err
}
