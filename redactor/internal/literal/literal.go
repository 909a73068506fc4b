// Package literal finds known secret values, and their encoded forms, in byte
// buffers.
//
// A Set is built once from the values and is read-only afterwards, so it is
// safe for concurrent use. Matching hashes 8-byte windows of the input and
// tests a bitset of up to 32 bits per indexed window; only on a bitset
// hit does it look the window up in a bucketed index and verify the
// candidates. When every pattern is longer than 8 bytes it hashes only every
// step-th window (see Set.step), since each occurrence of a pattern then
// holds one of those windows at a known offset. That runs at a few hundred
// MB/s whatever the number of values, and 10,000 values with all their
// variants take about 16 MiB, where an Aho-Corasick trie would take
// gigabytes.
package literal

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"math/bits"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"
	"unsafe"
)

// MinLen is the shortest value (and encoded variant) that is matched. Shorter
// values would mask ordinary words and numbers.
const MinLen = 8

const (
	mult = 0x9E3779B97F4A7C15
	// maxStep bounds the sampling step, and so the index entries per
	// pattern (one per offset below the step).
	maxStep  = 8
	stepBits = 3
)

// Set is an immutable dictionary of literal patterns.
type Set struct {
	bits    []uint64
	bitsLog int
	// The index of windows, bucketed by the top bucketBits bits of their
	// hash: bucket i holds entries[start[i]:start[i+1]]. Flat arrays build
	// in one counting sort, with none of a map's per-key allocations.
	start      []uint32
	entries    []entry
	bucketBits int
	pats       [][]byte
	values     int
	// step is how far apart the hashed windows of the input are: the
	// shortest pattern less 7, so that every occurrence of every pattern
	// starts at most step-1 bytes before a hashed window that lies
	// inside it. At most maxStep.
	step int
}

// entry is one indexed window: the pattern holding it, packed as
// id<<stepBits | offset.
type entry struct {
	key uint64
	ref uint32
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
	s := &Set{step: maxStep}
	seen := make(map[string]struct{}, len(values)*8)
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
			// Patterns are never modified, so a string sharing their bytes
			// is a safe map key and saves a copy of each.
			key := unsafe.String(&p[0], len(p))
			if _, dup := seen[key]; dup {
				continue
			}
			seen[key] = struct{}{}
			s.pats = append(s.pats, p)
			s.step = min(s.step, len(p)-MinLen+1)
		}
	}
	n := len(s.pats) * s.step
	// About 1 bit in 32 set, for few false hits, up to 512 KiB: a larger
	// bitset misses the cache on every window, which costs more than the
	// false hits it saves. A few hundred values take 8 KiB.
	s.bitsLog = min(max(16, bits.Len(uint(n))+5), 22)
	s.bits = make([]uint64, 1<<s.bitsLog/64)
	s.bucketBits = max(4, bits.Len(uint(n)))
	s.start = make([]uint32, 1<<s.bucketBits+1)
	hashes := make([]uint64, 0, n)
	for _, p := range s.pats {
		for off := range s.step {
			k := binary.LittleEndian.Uint64(p[off:])
			h := k * mult
			b := h >> (64 - s.bitsLog)
			s.bits[b>>6] |= 1 << (b & 63)
			hashes = append(hashes, h)
			s.start[h>>(64-s.bucketBits)+1]++
		}
	}
	for i := 1; i < len(s.start); i++ {
		s.start[i] += s.start[i-1]
	}
	s.entries = make([]entry, n)
	fill := append([]uint32(nil), s.start[:len(s.start)-1]...)
	i := 0
	for id, p := range s.pats {
		for off := range s.step {
			bkt := hashes[i] >> (64 - s.bucketBits)
			s.entries[fill[bkt]] = entry{key: binary.LittleEndian.Uint64(p[off:]), ref: uint32(id)<<stepBits | uint32(off)}
			fill[bkt]++
			i++
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
		h := (k * mult) >> (64 - s.bitsLog)
		if bits[h>>6]&(1<<(h&63)) == 0 {
			continue
		}
		bkt := (k * mult) >> (64 - s.bucketBits)
		for _, e := range s.entries[s.start[bkt]:s.start[bkt+1]] {
			if e.key != k {
				continue
			}
			i := j - int(e.ref&(1<<stepBits-1))
			p := s.pats[e.ref>>stepBits]
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

// Variants appends v and its encoded forms to dst, each form once when it
// differs from v (most secrets need no JSON or URL escaping). The result may
// hold forms shorter than MinLen.
func Variants(dst [][]byte, v []byte) [][]byte {
	first := len(dst)
	dst = append(dst, v)
	add := func(b []byte) {
		for _, d := range dst[first:] {
			if bytes.Equal(d, b) {
				return
			}
		}
		dst = append(dst, b)
	}
	if needsJSONEscape(v) {
		add(jsonEscape(v, false))
		add(jsonEscape(v, true))
	}
	if bytes.IndexByte(v, '/') >= 0 { // PHP and others escape '/' as \/
		add(bytes.ReplaceAll(jsonEscape(v, false), []byte("/"), []byte(`\/`)))
	}
	if needsURLEscape(v) {
		q := url.QueryEscape(string(v))
		p := url.PathEscape(string(v))
		add([]byte(q))
		add([]byte(lowerHexEscapes(q)))
		add([]byte(p))
		add([]byte(lowerHexEscapes(p)))
	}
	scratch := make([]byte, len(v)+2)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding} {
		for shift := 0; shift < 3; shift++ {
			if b := base64Inner(enc, v, shift, scratch); b != nil {
				add(b)
			}
		}
	}
	h := make([]byte, 2*len(v))
	hex.Encode(h, v)
	add(h)
	add(bytes.ToUpper(h))
	return dst
}

// needsJSONEscape reports whether jsonEscape (plain or HTML-safe) would
// change v.
func needsJSONEscape(v []byte) bool {
	for _, c := range v {
		if c < 0x20 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' || c >= utf8.RuneSelf {
			return true
		}
	}
	return false
}

// needsURLEscape reports whether query or path escaping would change v:
// whether it holds a byte outside A-Z a-z 0-9 - _ . ~.
func needsURLEscape(v []byte) bool {
	for _, c := range v {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~') {
			return true
		}
	}
	return false
}

// base64Inner returns the part of the base64 encoding of v that does not
// depend on the bytes around it, when v starts at an offset ≡ shift (mod 3)
// inside a longer encoded message. scratch holds at least len(v)+2 bytes.
func base64Inner(enc *base64.Encoding, v []byte, shift int, scratch []byte) []byte {
	buf := scratch[:shift+len(v)]
	clear(buf[:shift])
	copy(buf[shift:], v)
	out := make([]byte, enc.EncodedLen(len(buf)))
	enc.Encode(out, buf)
	out = bytes.TrimRight(out, "=")
	// Leading characters that mix padding bits with v's bits.
	lead := [3]int{0, 2, 3}[shift]
	// Trailing characters that would mix v's last bits with what follows.
	if len(buf)%3 != 0 {
		out = out[:len(out)-1]
	}
	if lead >= len(out) {
		return nil
	}
	return out[lead:]
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
