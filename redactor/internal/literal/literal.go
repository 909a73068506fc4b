// Package literal finds known secret values, and their encoded forms, in byte
// buffers.
//
// A Set is built once from the values and is read-only afterwards, so it is
// safe for concurrent use. All the values and all their encoded forms are
// patterns of one matcher, searched in one pass. Matching hashes 8-byte
// windows of the input and tests two bits of one 64-bit word of a blocked
// Bloom filter per window; only when both are set does it look the window
// up in a bucketed index and verify the candidates. When every pattern is
// longer than 8 bytes it hashes only every step-th window (see Set.step),
// since each occurrence of a pattern then holds one of those windows at a
// known offset. Most windows are turned away by one multiplication and one
// bit test, whatever the number of values; with 10,000 values (about
// 130,000 patterns with their forms) the filter lets about 4% through,
// where a one-bit filter let a fifth through, and the whole matcher takes
// about 25 MiB, where an Aho-Corasick trie would take gigabytes.
package literal

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"hash/maphash"
	"math/bits"
	"slices"
	"unicode/utf16"
	"unicode/utf8"
)

// MinLen is the shortest value (and encoded variant) that is matched. Shorter
// values would mask ordinary words and numbers.
const MinLen = 8

const (
	mult  = 0x9E3779B97F4A7C15
	mult2 = 0xC2B2AE3D27D4EB4F
	// maxStep bounds the sampling step, and so the index entries per
	// pattern (one per offset below the step).
	maxStep  = 8
	stepBits = 3
	// The filter has about filterBits bits per index entry, from 2^16 to
	// 2^maxFilterLog bits: with two bits set per entry that lets about 4%
	// of the windows of text through when the filter is full, while a
	// filter of 1 MiB still mostly stays in the CPU's cache.
	filterBits   = 10
	maxFilterLog = 23
)

// Set is an immutable dictionary of literal patterns.
type Set struct {
	// filter is a blocked Bloom filter: word h1>>(64-filterLog) holds two
	// bits chosen by h2 for each indexed window.
	filter    []uint64
	filterLog int
	// The index of windows, bucketed by the top bucketBits bits of their
	// hash: bucket i holds entries[start[i]:start[i+1]]. Flat arrays build
	// in one counting sort, with none of a map's per-key allocations.
	start      []uint32
	entries    []entry
	bucketBits int
	// pats are the patterns, as spans of arena: offsets rather than
	// slices, so the garbage collector has no pointers to scan.
	pats  []span
	arena []byte
	// vals holds, per pattern, the index in Build's input of the value
	// it is a form of.
	vals   []int32
	values int
	// step is how far apart the hashed windows of the input are: the
	// shortest pattern less 7, so that every occurrence of every pattern
	// starts at most step-1 bytes before a hashed window that lies
	// inside it. At most maxStep.
	step int
}

// span is arena[start:end].
type span struct{ start, end uint32 }

func (s *Set) pat(id uint32) []byte {
	p := s.pats[id]
	return s.arena[p.start:p.end]
}

// entry is one indexed window: a fingerprint of its 8 bytes and the
// pattern holding it, packed as id<<stepBits | offset.
type entry struct {
	key uint32
	ref uint32
}

func fingerprint(k uint64) uint32 { return uint32(k) ^ uint32(k>>32) }

// The filter word of a window with hash h (k*mult) is h>>wordShift. Its
// first bit is chosen by the 6 bits of h below the word index, so that most
// windows are turned away with one multiplication; its second by a second
// hash, k*mult2, computed only for the windows the first bit lets through.
func firstBit(h uint64, wordShift int) uint64 { return 1 << (h >> (wordShift - 6) & 63) }
func secondBit(k uint64) uint64               { return 1 << (k * mult2 >> 58) }

// Match is one occurrence of a pattern in the input.
type Match struct {
	Start, End int
	// Value is the index, in the values given to Build, of the value
	// whose form occurs.
	Value int
}

// Build returns a Set that matches every value and its encoded variants:
// JSON-escaped (plain, HTML-safe, and with '/' as \/), URL query- and path-escaped with upper-
// and lower-case hex, standard and URL-safe base64 at all three alignments,
// and hex. Values shorter than MinLen are ignored; callers warn about them.
func Build(values [][]byte) *Set {
	var b Builder
	return b.Build(values)
}

// Builder builds Sets, reusing its memory from one build to the next: a
// caller that builds a small set per document allocates nothing once warm.
// The zero value is ready to use. Not safe for concurrent use.
type Builder struct {
	// Plain limits the forms to the value itself and its JSON- and
	// URL-escaped forms: no base64 or hex, whose forms are many and, for
	// short values, short (a smaller sampling step).
	Plain bool

	set   Set
	arena []byte
	forms []form
	// seen maps a hash of each pattern kept so far to its id: no
	// pointers in it either.
	seen    map[uint64]uint32
	fill    []uint32
	scratch []byte
	utf16   []byte // a value as UTF-16LE (see appendUTF16LE)
	seed    maphash.Seed
}

// form is one encoded form of values[value], arena[start:end].
type form struct {
	start, end int
	value      int32
}

// Build is the package's Build. The Set it returns is valid until the next
// call: it shares the Builder's memory.
func (b *Builder) Build(values [][]byte) *Set {
	s := &b.set
	*s = Set{filter: s.filter, start: s.start, entries: s.entries, pats: s.pats[:0], vals: s.vals[:0], step: maxStep}
	if b.seed == (maphash.Seed{}) {
		b.seed = maphash.MakeSeed()
	}
	b.arena, b.forms = b.arena[:0], b.forms[:0]
	total := 0
	for _, v := range values {
		total += len(v)
	}
	// The forms of a value take about 20 times its length (nine base64
	// forms, two hex forms, escapes), and there are up to 18 of them.
	b.arena = slices.Grow(b.arena, 20*total)
	b.forms = slices.Grow(b.forms, 18*len(values))
	for vi, v := range values {
		if len(v) < MinLen {
			continue
		}
		s.values++
		b.addForms(v, int32(vi))
	}
	if b.seen == nil {
		b.seen = make(map[uint64]uint32, len(b.forms))
	}
	clear(b.seen)
	s.arena = b.arena
	s.pats = slices.Grow(s.pats, len(b.forms))
	s.vals = slices.Grow(s.vals, len(b.forms))
	for _, f := range b.forms {
		p := b.arena[f.start:f.end]
		if len(p) < MinLen {
			continue
		}
		h := maphash.Bytes(b.seed, p)
		if id, dup := b.seen[h]; dup && bytes.Equal(s.pat(id), p) {
			continue
		}
		b.seen[h] = uint32(len(s.pats))
		s.pats = append(s.pats, span{uint32(f.start), uint32(f.end)})
		s.vals = append(s.vals, f.value)
		s.step = min(s.step, len(p)-MinLen+1)
	}
	n := len(s.pats) * s.step
	s.filterLog = min(max(16, bits.Len(uint(n*filterBits))), maxFilterLog)
	s.filter = resize(s.filter, 1<<s.filterLog/64)
	s.bucketBits = max(4, bits.Len(uint(n)))
	s.start = resize(s.start, 1<<s.bucketBits+1)
	wordShift := 64 - (s.filterLog - 6)
	for id := range s.pats {
		p := s.pat(uint32(id))
		for off := range s.step {
			k := binary.LittleEndian.Uint64(p[off:])
			h := k * mult
			s.filter[h>>wordShift] |= firstBit(h, wordShift) | secondBit(k)
			s.start[h>>(64-s.bucketBits)+1]++
		}
	}
	for i := 1; i < len(s.start); i++ {
		s.start[i] += s.start[i-1]
	}
	s.entries = slices.Grow(s.entries[:0], n)[:n]
	b.fill = append(b.fill[:0], s.start[:len(s.start)-1]...)
	for id := range s.pats {
		p := s.pat(uint32(id))
		for off := range s.step {
			k := binary.LittleEndian.Uint64(p[off:])
			bkt := k * mult >> (64 - s.bucketBits)
			s.entries[b.fill[bkt]] = entry{key: fingerprint(k), ref: uint32(id)<<stepBits | uint32(off)}
			b.fill[bkt]++
		}
	}
	return s
}

// resize returns s with n zeroed elements, reusing its memory.
func resize[T any](s []T, n int) []T {
	if cap(s) >= n {
		s = s[:n]
		clear(s)
		return s
	}
	return make([]T, n)
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
	filter := s.filter
	wordShift := 64 - (s.filterLog - 6)
	first := len(dst)
	last := len(buf) - MinLen
	for j := 0; j <= last; j += s.step {
		k := binary.LittleEndian.Uint64(buf[j:])
		h := k * mult
		w := filter[h>>wordShift]
		if w&firstBit(h, wordShift) == 0 || w&secondBit(k) == 0 {
			continue
		}
		bkt := h >> (64 - s.bucketBits)
		fp := fingerprint(k)
		for _, e := range s.entries[s.start[bkt]:s.start[bkt+1]] {
			if e.key != fp {
				continue
			}
			i := j - int(e.ref&(1<<stepBits-1))
			id := e.ref >> stepBits
			p := s.pat(id)
			if i >= 0 && len(p) <= len(buf)-i && bytes.Equal(buf[i:i+len(p)], p) {
				dst = append(dst, Match{Start: i, End: i + len(p), Value: int(s.vals[id])})
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
	var b Builder
	b.addForms(v, 0)
	for _, f := range b.forms {
		dst = append(dst, b.arena[f.start:f.end:f.end])
	}
	return dst
}

// addForms appends v and its encoded forms to the arena, each once.
func (b *Builder) addForms(v []byte, vi int32) {
	first := len(b.forms)
	mark := len(b.arena)
	// add records arena[mark:] as a form unless an earlier form of v
	// has the same bytes, then starts the next form.
	add := func() {
		p := b.arena[mark:]
		for _, f := range b.forms[first:] {
			if bytes.Equal(b.arena[f.start:f.end], p) {
				b.arena = b.arena[:mark]
				return
			}
		}
		b.forms = append(b.forms, form{start: mark, end: len(b.arena), value: vi})
		mark = len(b.arena)
	}
	b.arena = append(b.arena, v...)
	add()
	if needsJSONEscape(v) {
		b.arena = jsonEscape(b.arena, v, false, false)
		add()
		b.arena = jsonEscape(b.arena, v, true, false)
		add()
	}
	if bytes.IndexByte(v, '/') >= 0 { // PHP and others escape '/' as \/
		b.arena = jsonEscape(b.arena, v, false, true)
		add()
	}
	if needsURLEscape(v) {
		for _, path := range []bool{false, true} {
			for _, lowerHex := range []bool{false, true} {
				b.arena = urlEscape(b.arena, v, path, lowerHex)
				add()
			}
		}
	}
	if b.Plain {
		return
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding} {
		for shift := 0; shift < 3; shift++ {
			if b.base64Inner(enc, v, shift) {
				add()
			}
		}
	}
	// Base64 of the value as UTF-16LE: PowerShell's -EncodedCommand and
	// .NET's Convert.ToBase64String(Encoding.Unicode.GetBytes(...)).
	b.utf16 = appendUTF16LE(b.utf16[:0], v)
	if u := b.utf16; len(u) > 0 {
		for shift := 0; shift < 3; shift++ {
			if b.base64Inner(base64.StdEncoding, u, shift) {
				add()
			}
		}
	}
	b.arena = hex.AppendEncode(b.arena, v)
	add()
	k := len(b.arena)
	b.arena = hex.AppendEncode(b.arena, v)
	for i := k; i < len(b.arena); i++ {
		if c := b.arena[i]; c >= 'a' && c <= 'f' {
			b.arena[i] = c - 'a' + 'A'
		}
	}
	add()
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

// base64Inner appends to the arena the part of the base64 encoding of v
// that does not depend on the bytes around it, when v starts at an offset
// ≡ shift (mod 3) inside a longer encoded message. It reports false, and
// appends nothing, when no character is independent.
func (b *Builder) base64Inner(enc *base64.Encoding, v []byte, shift int) bool {
	b.scratch = append(append(b.scratch[:0], 0, 0, 0)[:shift], v...)
	buf := b.scratch
	mark := len(b.arena)
	b.arena = enc.AppendEncode(b.arena, buf)
	out := bytes.TrimRight(b.arena[mark:], "=")
	// Leading characters that mix padding bits with v's bits.
	lead := [3]int{0, 2, 3}[shift]
	// Trailing characters that would mix v's last bits with what follows.
	if len(buf)%3 != 0 {
		out = out[:len(out)-1]
	}
	if lead >= len(out) {
		b.arena = b.arena[:mark]
		return false
	}
	n := copy(b.arena[mark:], out[lead:])
	b.arena = b.arena[:mark+n]
	return true
}

// urlEscape appends v escaped as url.QueryEscape (path false) or
// url.PathEscape (path true) would, with lower-case hex digits if lowerHex.
func urlEscape(dst, v []byte, path, lowerHex bool) []byte {
	digits := "0123456789ABCDEF"
	if lowerHex {
		digits = "0123456789abcdef"
	}
	for _, c := range v {
		switch {
		case 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~':
			dst = append(dst, c)
		case path && (c == '$' || c == '&' || c == '+' || c == ':' || c == '=' || c == '@'):
			dst = append(dst, c)
		case !path && c == ' ':
			dst = append(dst, '+')
		default:
			dst = append(dst, '%', digits[c>>4], digits[c&0xF])
		}
	}
	return dst
}

// jsonEscape appends v escaped for the inside of a JSON string; html also
// escapes <, > and & as encoding/json does by default, and slash escapes
// '/' as \/ as PHP does.
func jsonEscape(out, v []byte, html, slash bool) []byte {
	const hexd = "0123456789abcdef"
	for i := 0; i < len(v); {
		c := v[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				out = append(out, '\\', c)
			case c == '/' && slash:
				out = append(out, '\\', '/')
			case c == '\b':
				out = append(out, '\\', 'b')
			case c == '\f':
				out = append(out, '\\', 'f')
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

// appendUTF16LE appends v (UTF-8) encoded as UTF-16LE to dst; invalid
// UTF-8 becomes U+FFFD, as .NET's encoder would have read it. It allocates
// only to grow dst (a Builder reuses one buffer for every value).
func appendUTF16LE(dst, v []byte) []byte {
	for _, r := range string(v) {
		if r < 0x10000 {
			// Ranging over a string never yields a surrogate: invalid
			// UTF-8, surrogates included, comes out as U+FFFD.
			dst = append(dst, byte(r), byte(r>>8))
			continue
		}
		hi, lo := utf16.EncodeRune(r)
		dst = append(dst, byte(hi), byte(hi>>8), byte(lo), byte(lo>>8))
	}
	return dst
}
