// Package literal finds known secret values, and their encoded forms, in byte
// buffers.
//
// A Set is built once from the values and is read-only afterwards, so it is
// safe for concurrent use. Matching hashes 8-byte windows of the input and
// tests a 4-Mbit bitset; only on a bitset hit does it look the window up in
// a map and verify the candidates. When every pattern is longer than 8 bytes
// it hashes only every step-th window (see Set.step), since each occurrence
// of a pattern then holds one of those windows at a known offset. That runs at a few hundred MB/s whatever
// the number of values, and 10,000 values with all their variants take a few
// MiB, where an Aho-Corasick trie would take gigabytes.
package literal

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"
)

// MinLen is the shortest value (and encoded variant) that is matched. Shorter
// values would mask ordinary words and numbers.
const MinLen = 8

const (
	bitsLog = 22
	mult    = 0x9E3779B97F4A7C15
	// maxStep bounds the sampling step, and so the index entries per
	// pattern (one per offset below the step).
	maxStep  = 8
	stepBits = 3
)

// Set is an immutable dictionary of literal patterns.
type Set struct {
	bits []uint64
	// table maps an 8-byte window to the patterns holding it at an offset
	// below step, each entry packed as id<<stepBits | offset.
	table  map[uint64][]uint32
	pats   [][]byte
	values int
	// step is how far apart the hashed windows of the input are: the
	// shortest pattern less 7, so that every occurrence of every pattern
	// starts at most step-1 bytes before a hashed window that lies
	// inside it. At most maxStep.
	step int
}

// Match is one occurrence of a pattern in the input.
type Match struct {
	Start, End int
}

// Build returns a Set that matches every value and its encoded variants:
// JSON-escaped (plain, HTML-safe, and with '/' as \/), URL query- and path-escaped with upper-
// and lower-case hex, standard and URL-safe base64 at all three alignments,
// and hex. Values shorter than MinLen are ignored; callers warn about them.
func Build(values [][]byte) *Set {
	s := &Set{bits: make([]uint64, 1<<bitsLog/64), table: make(map[uint64][]uint32), step: maxStep}
	seen := make(map[string]struct{})
	var scratch [][]byte
	for _, v := range values {
		if len(v) < MinLen {
			continue
		}
		s.values++
		scratch = Variants(scratch[:0], v)
		for _, p := range scratch {
			if len(p) < MinLen {
				continue
			}
			if _, dup := seen[string(p)]; dup {
				continue
			}
			seen[string(p)] = struct{}{}
			s.pats = append(s.pats, p)
			s.step = min(s.step, len(p)-MinLen+1)
		}
	}
	for id, p := range s.pats {
		for off := range s.step {
			k := binary.LittleEndian.Uint64(p[off:])
			h := (k * mult) >> (64 - bitsLog)
			s.bits[h>>6] |= 1 << (h & 63)
			s.table[k] = append(s.table[k], uint32(id)<<stepBits|uint32(off))
		}
	}
	return s
}

// Len reports how many values (not variants) the set holds.
func (s *Set) Len() int {
	if s == nil {
		return 0
	}
	return s.values
}

// Patterns reports how many distinct patterns, variants included, the set
// matches.
func (s *Set) Patterns() int {
	if s == nil {
		return 0
	}
	return len(s.pats)
}

// Append appends every occurrence of every pattern in buf to dst, ordered by
// start. Overlapping occurrences are all reported.
func (s *Set) Append(dst []Match, buf []byte) []Match {
	if s == nil || len(s.pats) == 0 || len(buf) < MinLen {
		return dst
	}
	bits := s.bits
	first := len(dst)
	last := len(buf) - MinLen
	for j := 0; j <= last; j += s.step {
		k := binary.LittleEndian.Uint64(buf[j:])
		h := (k * mult) >> (64 - bitsLog)
		if bits[h>>6]&(1<<(h&63)) == 0 {
			continue
		}
		for _, e := range s.table[k] {
			i := j - int(e&(1<<stepBits-1))
			p := s.pats[e>>stepBits]
			if i >= 0 && len(p) <= len(buf)-i && bytes.Equal(buf[i:i+len(p)], p) {
				dst = append(dst, Match{Start: i, End: i + len(p)})
			}
		}
	}
	// One window finds the occurrences that start up to step-1 bytes
	// before it, in table order.
	if found := dst[first:]; !slices.IsSortedFunc(found, byStart) {
		slices.SortStableFunc(found, byStart)
	}
	return dst
}

func byStart(a, b Match) int { return a.Start - b.Start }

// Variants appends v and its encoded forms to dst. The result may hold
// duplicates and forms shorter than MinLen.
func Variants(dst [][]byte, v []byte) [][]byte {
	dst = append(dst, v)
	dst = append(dst, jsonEscape(v, false), jsonEscape(v, true))
	if bytes.IndexByte(v, '/') >= 0 { // PHP and others escape '/' as \/
		dst = append(dst, bytes.ReplaceAll(jsonEscape(v, false), []byte("/"), []byte(`\/`)))
	}
	q := url.QueryEscape(string(v))
	p := url.PathEscape(string(v))
	dst = append(dst, []byte(q), []byte(lowerHexEscapes(q)), []byte(p), []byte(lowerHexEscapes(p)))
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding} {
		for shift := 0; shift < 3; shift++ {
			dst = append(dst, base64Inner(enc, v, shift))
		}
	}
	dst = append(dst, []byte(hex.EncodeToString(v)), []byte(strings.ToUpper(hex.EncodeToString(v))))
	return dst
}

// base64Inner returns the part of the base64 encoding of v that does not
// depend on the bytes around it, when v starts at an offset ≡ shift (mod 3)
// inside a longer encoded message.
func base64Inner(enc *base64.Encoding, v []byte, shift int) []byte {
	buf := make([]byte, shift+len(v))
	copy(buf[shift:], v)
	s := enc.EncodeToString(buf)
	s = strings.TrimRight(s, "=")
	// Leading characters that mix padding bits with v's bits.
	lead := [3]int{0, 2, 3}[shift]
	// Trailing characters that would mix v's last bits with what follows.
	total := shift + len(v)
	if total%3 != 0 {
		s = s[:len(s)-1]
	}
	if lead >= len(s) {
		return nil
	}
	return []byte(s[lead:])
}

func lowerHexEscapes(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	b := []byte(s)
	for i := 0; i+2 < len(b); i++ {
		if b[i] == '%' {
			b[i+1] = toLowerHex(b[i+1])
			b[i+2] = toLowerHex(b[i+2])
			i += 2
		}
	}
	return string(b)
}

func toLowerHex(c byte) byte {
	if c >= 'A' && c <= 'F' {
		return c + 'a' - 'A'
	}
	return c
}

// jsonEscape escapes v for the inside of a JSON string; html also escapes
// <, > and & as encoding/json does by default.
func jsonEscape(v []byte, html bool) []byte {
	const hexd = "0123456789abcdef"
	out := make([]byte, 0, len(v)+8)
	for i := 0; i < len(v); {
		c := v[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				out = append(out, '\\', c)
			case c == '\n':
				out = append(out, '\\', 'n')
			case c == '\r':
				out = append(out, '\\', 'r')
			case c == '\t':
				out = append(out, '\\', 't')
			case c < 0x20 || (html && (c == '<' || c == '>' || c == '&')):
				out = append(out, '\\', 'u', '0', '0', hexd[c>>4], hexd[c&0xF])
			default:
				out = append(out, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(v[i:])
		if html && (r == '\u2028' || r == '\u2029') {
			out = append(out, '\\', 'u', '2', '0', '2', hexd[r&0xF])
		} else {
			out = append(out, v[i:i+size]...)
		}
		i += size
	}
	return out
}
