// Package charset turns text in any encoding flowmask can read into UTF-8 for
// the engine, and UTF-8 back into the encoding it came in. The proxy's body
// pipeline (from a Content-Type charset) and the file front end (from a byte
// order mark or the NUL pattern of UTF-16) share it, so both read the same
// encodings the same way.
//
// A byte order mark always wins over a declared label: a body labelled UTF-8
// that starts with a UTF-16 BOM is UTF-16, as the WHATWG encoding standard
// and every browser read it.
package charset

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/htmlindex"
	"golang.org/x/text/encoding/ianaindex"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/encoding/unicode/utf32"
	"golang.org/x/text/transform"
)

// Encoding is a text encoding flowmask can decode to UTF-8 and encode back.
// The zero value is UTF-8.
type Encoding struct {
	// Name is the canonical lower-case name ("utf-8", "utf-16le",
	// "windows-1252").
	Name string
	enc  encoding.Encoding // nil for UTF-8
}

// UTF8 is the engine's own encoding: nothing to decode.
var UTF8 = Encoding{Name: "utf-8"}

// The Unicode encodings with a fixed byte order, with no BOM handling of
// their own: a BOM is found by [Sniff] and written back by the caller.
var (
	UTF16LE = Encoding{Name: "utf-16le", enc: unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM)}
	UTF16BE = Encoding{Name: "utf-16be", enc: unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM)}
	UTF32LE = Encoding{Name: "utf-32le", enc: utf32.UTF32(utf32.LittleEndian, utf32.IgnoreBOM)}
	UTF32BE = Encoding{Name: "utf-32be", enc: utf32.UTF32(utf32.BigEndian, utf32.IgnoreBOM)}
)

// ErrUnknown is wrapped by [Lookup] for a label no decoder exists for.
var ErrUnknown = errors.New("unknown charset")

// IsUTF8 reports whether text in e is already UTF-8 (no decoding needed).
func (e Encoding) IsUTF8() bool { return e.enc == nil }

func (e Encoding) String() string {
	if e.Name == "" {
		return "utf-8"
	}
	return e.Name
}

// Lookup returns the encoding a charset label names (a Content-Type charset
// parameter, an XML declaration). Labels are matched as the WHATWG encoding
// standard and the IANA registry spell them, case-insensitively. "utf-16"
// and "utf-32" without a byte order are big-endian, as RFC 2781 says, unless
// a BOM says otherwise (see [Sniff]). An empty label is UTF-8. A label no
// decoder exists for is an error wrapping [ErrUnknown] that quotes it.
func Lookup(label string) (Encoding, error) {
	l := strings.ToLower(strings.TrimSpace(label))
	switch l {
	case "", "utf-8", "utf8", "unicode-1-1-utf-8", "us-ascii", "ascii", "ansi_x3.4-1968":
		// US-ASCII is a subset of UTF-8. (WHATWG maps it to windows-1252, but
		// a byte above 0x7f is then invalid either way and scanned as UTF-8.)
		return UTF8, nil
	case "utf-16", "utf16", "ucs-2", "iso-10646-ucs-2", "unicode", "csunicode":
		return UTF16BE, nil
	case "utf-16le", "utf16le", "unicodefeff":
		return UTF16LE, nil
	case "utf-16be", "utf16be", "unicodefffe":
		return UTF16BE, nil
	case "utf-32", "utf32", "ucs-4", "iso-10646-ucs-4", "csucs4":
		return UTF32BE, nil
	case "utf-32le", "utf32le":
		return UTF32LE, nil
	case "utf-32be", "utf32be":
		return UTF32BE, nil
	}
	enc, err := htmlindex.Get(l)
	if err != nil {
		enc, err = ianaindex.IANA.Encoding(l)
	}
	if err != nil || enc == nil {
		return Encoding{}, fmt.Errorf("charset %s: %w", strconv.Quote(label), ErrUnknown)
	}
	name, err := htmlindex.Name(enc)
	if err != nil {
		name = l
	}
	if name == "utf-8" {
		return UTF8, nil
	}
	return Encoding{Name: name, enc: enc}, nil
}

// Sniff looks at the start of a text for a byte order mark, and failing that
// for the NUL pattern of BOM-less UTF-16 or UTF-32 (ASCII text in those
// encodings has a zero byte beside every letter). It returns the encoding,
// the length of the BOM (0 when found by pattern) and whether it found one.
// At least 4 bytes, better 64 or more, make the pattern reliable; with
// fewer Sniff only reports BOMs.
func Sniff(b []byte) (e Encoding, bomLen int, ok bool) {
	switch {
	case bytes.HasPrefix(b, []byte{0xEF, 0xBB, 0xBF}):
		return UTF8, 3, true
	case bytes.HasPrefix(b, []byte{0xFF, 0xFE, 0, 0}):
		return UTF32LE, 4, true
	case bytes.HasPrefix(b, []byte{0, 0, 0xFE, 0xFF}):
		return UTF32BE, 4, true
	case bytes.HasPrefix(b, []byte{0xFF, 0xFE}):
		return UTF16LE, 2, true
	case bytes.HasPrefix(b, []byte{0xFE, 0xFF}):
		return UTF16BE, 2, true
	}
	if e, ok := nulPattern(b); ok {
		return e, 0, true
	}
	return Encoding{}, 0, false
}

// nulPattern reports BOM-less UTF-16/32 by where zero bytes stand in the
// first 256 bytes: text that is mostly ASCII has a zero in every second
// (UTF-16) or three of every four (UTF-32) bytes, on one side. Three in four
// of those places must hold a zero and at most one in ten of the others.
func nulPattern(b []byte) (Encoding, bool) {
	if len(b) > 256 {
		b = b[:256]
	}
	if len(b) < 4 {
		return Encoding{}, false
	}
	var zero [4]int
	n := len(b) &^ 3
	for i := 0; i < n; i++ {
		if b[i] == 0 {
			zero[i&3]++
		}
	}
	quarter := n / 4
	most := func(c int) bool { return c*4 >= quarter*3 }
	none := func(c int) bool { return c*10 <= quarter }
	switch {
	case most(zero[1]) && most(zero[2]) && most(zero[3]) && none(zero[0]):
		return UTF32LE, true
	case most(zero[0]) && most(zero[1]) && most(zero[2]) && none(zero[3]):
		return UTF32BE, true
	case most(zero[1]) && most(zero[3]) && none(zero[0]) && none(zero[2]):
		return UTF16LE, true
	case most(zero[0]) && most(zero[2]) && none(zero[1]) && none(zero[3]):
		return UTF16BE, true
	}
	return Encoding{}, false
}

// BOM returns the byte order mark of e (nil for UTF-8 and for encodings
// that have none), for writing back text that came with one.
func (e Encoding) BOM() []byte {
	switch e.Name {
	case UTF16LE.Name:
		return []byte{0xFF, 0xFE}
	case UTF16BE.Name:
		return []byte{0xFE, 0xFF}
	case UTF32LE.Name:
		return []byte{0xFF, 0xFE, 0, 0}
	case UTF32BE.Name:
		return []byte{0, 0, 0xFE, 0xFF}
	}
	return nil
}

// NewDecoder returns a reader of r's text as UTF-8. Bytes that are not
// valid in e become U+FFFD, so what the engine scans never holds raw bytes
// of another encoding. A BOM must already be skipped.
func (e Encoding) NewDecoder(r io.Reader) io.Reader {
	if e.enc == nil {
		return r
	}
	return transform.NewReader(r, e.enc.NewDecoder())
}

// NewEncoder returns a writer that encodes the UTF-8 written to it into e
// and writes that to w. Close flushes it (it does not close w). A rune e
// cannot represent is an error, not a silent substitution.
func (e Encoding) NewEncoder(w io.Writer) io.WriteCloser {
	if e.enc == nil {
		return nopCloser{w}
	}
	return transform.NewWriter(w, e.enc.NewEncoder())
}

// Decode returns b as UTF-8 (b itself for UTF-8).
func (e Encoding) Decode(b []byte) ([]byte, error) {
	if e.enc == nil {
		return b, nil
	}
	out, _, err := transform.Bytes(e.enc.NewDecoder(), b)
	if err != nil {
		return nil, fmt.Errorf("decode %s: %w", e, err)
	}
	return out, nil
}

// Encode returns UTF-8 text b in e (b itself for UTF-8).
func (e Encoding) Encode(b []byte) ([]byte, error) {
	if e.enc == nil {
		return b, nil
	}
	out, _, err := transform.Bytes(e.enc.NewEncoder(), b)
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", e, err)
	}
	return out, nil
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }
