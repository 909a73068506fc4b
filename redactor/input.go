package redactor

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/flowmask/flowmask/redactor/charset"
)

// ErrCompressed is returned by Stream, StreamParallel and Scan for input
// that starts with the magic number of a compressed or archive format
// (gzip, zstd, bzip2, xz, zip, 7z). Its bytes hide their text from every
// rule, and writing them through unchanged would pass every secret inside
// on, so such input is refused: decompress it first.
var ErrCompressed = errors.New("input is compressed and cannot be scanned; decompress it first")

// sniffLen is how much of an input is looked at for its encoding.
const sniffLen = 256

var compressedMagic = []struct {
	name  string
	magic []byte
}{
	{"gzip", []byte{0x1f, 0x8b}},
	{"zstd", []byte{0x28, 0xb5, 0x2f, 0xfd}},
	{"bzip2", []byte("BZh")},
	{"xz", []byte{0xfd, '7', 'z', 'X', 'Z', 0}},
	{"zip", []byte("PK\x03\x04")},
	{"7z", []byte{'7', 'z', 0xbc, 0xaf, 0x27, 0x1c}},
}

// textInput prepares a whole input (a file, standard input) for the engine,
// which reads UTF-8: UTF-16 or UTF-32 text, found by its byte order mark or
// by the NUL pattern of BOM-less text, is decoded, and the redacted output
// is encoded back (with the BOM it came with). Compressed input is refused
// with ErrCompressed. done flushes the encoder; call it after the engine has
// written everything. size is how many bytes in is expected to deliver in
// all (see SizeHinter), 0 when unknown or decoded.
func textInput(src io.Reader, dst io.Writer) (in io.Reader, out io.Writer, done func() error, size int64, err error) {
	size = sizeOf(src)
	br := bufio.NewReaderSize(src, 4096)
	head, perr := br.Peek(sniffLen)
	if perr != nil && !errors.Is(perr, io.EOF) && !errors.Is(perr, bufio.ErrBufferFull) {
		return nil, nil, nil, 0, fmt.Errorf("read: %w", perr)
	}
	nop := func() error { return nil }
	for _, m := range compressedMagic {
		if bytes.HasPrefix(head, m.magic) && (m.name != "bzip2" || (len(head) > 3 && head[3] >= '1' && head[3] <= '9')) {
			return nil, nil, nil, 0, fmt.Errorf("%w (%s)", ErrCompressed, m.name)
		}
	}
	enc, bomLen, ok := charset.Sniff(head)
	if !ok || enc.IsUTF8() {
		return br, dst, nop, size, nil
	}
	if _, err := br.Discard(bomLen); err != nil {
		return nil, nil, nil, 0, fmt.Errorf("read: %w", err)
	}
	if bomLen > 0 {
		if _, err := dst.Write(enc.BOM()); err != nil {
			return nil, nil, nil, 0, fmt.Errorf("write: %w", err)
		}
	}
	ew := enc.NewEncoder(dst)
	done = func() error {
		if err := ew.Close(); err != nil {
			return fmt.Errorf("write %s: %w", enc, err)
		}
		return nil
	}
	return enc.NewDecoder(br), ew, done, 0, nil
}
