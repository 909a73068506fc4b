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
// cannot read or write back (xz, bzip2 output, encrypted zip members).
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
		return nil, fmt.Errorf("xz-compressed input cannot be read (decompress it first, e.g. xz -dc FILE | flowmask ...): %w", ErrUnsupported)
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
