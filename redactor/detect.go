package redactor

import (
	"bytes"
	"encoding/binary"
	"regexp"
	"slices"
	"strings"

	"github.com/flowmask/flowmask/redactor/internal/literal"
)

// buffer is a detection context: bytes plus what the prefilter found in them.
// The top-level buffer is a chunk of input; nested buffers hold unescaped
// JSON strings or decoded base64.
type buffer struct {
	// foundFrom is where the found values of this nested window start in
	// state.foundVals: a nested window (decoded content, a JSON string
	// holding JSON) spreads only its own, so a document with many content
	// blocks does not rebuild the matcher over all the values found so far
	// in each of them.
	foundFrom int
	src       []byte
	hits      []kwHit
	lits      []literal.Match
	// words are the dictionary words that occur in src (from the automaton).
	words []int
	// names is true when a keyname word was hit, so JSON keys need checking.
	names bool
	// content is true when a content trigger ($content, inlinedContent)
	// was hit.
	content bool
	// disguised is true when src holds a \u escape that no JSON encoder
	// writes (see disguisedIn): the raw bytes may hide a keyword, so the
	// gates also pass strings that hold one (see mayHold).
	disguised bool
	// overEncoded is true when literals are set and src holds a
	// percent-escape of a letter or digit (see overEncodedIn).
	overEncoded bool
	// wrapped is true when literals are set and src holds a line of
	// base64 wrapped at 64 or 76 columns (see unwrapBase64).
	wrapped bool
	// hitCur and litCur are hasHits' cursors.
	hitCur, litCur int

	// jsonString marks a buffer holding a decoded JSON string: a mask
	// spliced back into it must not hold raw control characters.
	jsonString bool

	// Position of this buffer in the input, for findings.
	parent *buffer
	pmap   []int32 // unescape map: byte i of src came from parent byte pmap[i]
	ppos   int     // otherwise: the whole buffer sits at this parent offset
	base   int64   // top level only: stream offset of src[0]
	line   int     // top level only: line number of src[0], 1-based
	col0   int     // top level only: bytes of src[0]'s line before src[0]
	// cur is the position cursor of findings (see position).
	cur position
}

type kwHit struct {
	pos  int32
	word int32
}

type span struct {
	start, end int
	rule       int32
	high       bool
}

// edit replaces src[start:end] with repl[off:off+n] of the state's arena.
type edit struct {
	start, end int
	off, n     int
}

type pathElem struct {
	key    []byte
	idx    int
	arr    bool
	masked bool // the key itself held a secret: never rendered
}

// state is the per-call scratch space, pooled so the clean path allocates
// nothing.
type state struct {
	r      *Redactor
	top    buffer
	nested []*buffer
	depth  int

	spans    []span
	rawSpans [][]span // per nesting level (see jsonWalker.str)
	// probe holds the spans a text probe found in the current NDJSON line,
	// sorted; while it is non-empty the JSON walk reuses them.
	probe   []span
	windows []window
	edits   []edit
	repl    []byte
	counts  []int
	total   int
	// handled holds the content envelopes detectText decoded.
	handled []span
	// pairObjs holds the name/value pair objects detectText walked.
	pairObjs []span
	// seen and gen deduplicate keywords in setWords.
	seen    []uint32
	gen     uint32
	path    []pathElem
	scratch []byte
	// low holds the window of the input the keyword prefilter is
	// looking at, lower-cased (see findKeywords).
	low    []byte
	onFind func(Finding)
	block  blockState

	// found holds the values rules masked in the current window (see
	// propagate), back to back; foundVals indexes them.
	found     []byte
	foundVals []foundValue
	foundHits []literal.Match
	pieces    []span
	builder   literal.Builder
	foundList [][]byte
}

// foundValue is a value a rule masked: found[off:off+n], masked by rule.
type foundValue struct {
	off, n int
	rule   int32
}

type window struct {
	rule       int32
	start, end int
	hit        int // where the keyword that opened the window starts
}

func newState(r *Redactor) *state {
	return &state{r: r, counts: make([]int, len(r.c.rules))}
}

func (r *Redactor) getState() *state {
	st := r.pool.Get().(*state)
	return st
}

func (r *Redactor) putState(st *state) {
	if cap(st.repl) > 1<<20 {
		st.repl = nil
	}
	if cap(st.scratch) > 1<<20 {
		st.scratch = nil
	}
	st.onFind = nil
	st.found, st.foundVals = st.found[:0], st.foundVals[:0]
	if cap(st.found) > 1<<20 {
		st.found = nil
	}
	st.top = buffer{hits: st.top.hits[:0], lits: st.top.lits[:0]}
	r.pool.Put(st)
}

// stats converts the counters into Stats and resets them.
func (st *state) stats(n int64) Stats {
	s := Stats{Bytes: n, Redactions: st.total}
	if st.total > 0 {
		s.ByRule = make(map[string]int)
		for i, c := range st.counts {
			if c > 0 {
				s.ByRule[st.r.c.rules[i].id] += c
				st.counts[i] = 0
			}
		}
	}
	st.total = 0
	return s
}

// nestedBuf returns a reusable buffer for nesting level st.depth.
func (st *state) nestedBuf() *buffer {
	for len(st.nested) <= st.depth {
		st.nested = append(st.nested, &buffer{})
	}
	b := st.nested[st.depth]
	*b = buffer{src: b.src[:0], hits: b.hits[:0], lits: b.lits[:0], pmap: b.pmap[:0], foundFrom: len(st.foundVals)}
	return b
}

// prepareFrom prepares a nested buffer holding the unescaped content of a
// JSON string of parent, escaped only with \" \\ \/ \b \f \n \r \t (no \u):
// such escapes cannot hide a keyword from the parent's automaton, so its
// verdict stands for a second pass and only the keywords are placed again.
// The flags the parent's keywords set stay set.
func (st *state) prepareFrom(b, parent *buffer) {
	b.hits = b.hits[:0]
	b.hitCur, b.litCur = 0, 0
	if len(parent.words) > 0 {
		st.findKeywords(b, false)
	}
	st.setWords(b)
	b.names = b.names || parent.names
	b.content = b.content || parent.content
	b.lits = b.lits[:0]
	if st.r.lits != nil {
		b.lits = st.r.lits.Append(b.lits, b.src)
	}
}

// prepare runs the keyword prefilter (see findKeywords) and the literal
// filter over b.src.
func (st *state) prepare(b *buffer) {
	b.hits = b.hits[:0]
	b.hitCur, b.litCur = 0, 0
	st.findKeywords(b, true)
	st.setWords(b)
	b.disguised = disguisedIn(b.src)
	b.lits = b.lits[:0]
	b.overEncoded, b.wrapped = false, false
	if st.r.lits != nil {
		b.lits = st.r.lits.Append(b.lits, b.src)
		b.overEncoded = overEncodedIn(b.src)
		b.wrapped = wrappedIn(b.src)
	}
}

// overEncodedIn reports whether s holds a percent-escape of an ASCII letter
// or digit (%50%77, P%77): URL encoders never escape those, but decoders
// accept them, so a known secret may hide behind them. Only known secrets
// (literals) are looked for in such text (see undisguise).
func overEncodedIn(s []byte) bool {
	for {
		k := bytes.IndexByte(s, '%')
		if k < 0 || k+3 > len(s) {
			return false
		}
		if c := hex2(s[k+1], s[k+2]); c >= 0 && isAlnumASCII(byte(c)) {
			return true
		}
		s = s[k+1:]
	}
}

// hex2 decodes two hex digits, -1 if they are not.
func hex2(h, l byte) int {
	v := func(c byte) int {
		switch {
		case '0' <= c && c <= '9':
			return int(c - '0')
		case 'a' <= c && c <= 'f':
			return int(c-'a') + 10
		case 'A' <= c && c <= 'F':
			return int(c-'A') + 10
		}
		return -1
	}
	hi, lo := v(h), v(l)
	if hi < 0 || lo < 0 {
		return -1
	}
	return hi<<4 | lo
}

func isAlnumASCII(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// disguisedIn reports whether s holds a \u escape of a printable ASCII
// character that JSON encoders do not escape ("\u0070assword"). Encoders
// escape quotes, the backslash, control characters, non-ASCII and, to be
// HTML-safe, some of & ' + < > ` and /; never a letter, digit, blank or
// the other punctuation that keywords are made of. Such an escape is rare
// and suspicious, so its string is decoded and scanned, though its raw
// bytes show no keyword.
func disguisedIn(s []byte) bool {
	for {
		k := bytes.Index(s, []byte(`\u00`))
		if k < 0 || k+6 > len(s) {
			return false
		}
		if c := hex4(s, k+2); c >= 0x20 && c < 0x7f && !strings.ContainsRune("\"&'+<>\\`/", c) {
			return true
		}
		s = s[k+2:]
	}
}

// mayHold reports whether b.src[a:e] may hold a secret: a keyword or
// literal hit starts in it (hasHits) or it holds a disguised escape.
func (b *buffer) mayHold(a, e int) bool {
	return b.hasHits(a, e) || (b.disguised && disguisedIn(b.src[a:e]))
}

// placeGap is how many bytes of unflagged lines place may search through
// to join two runs of flagged lines: each search allocates its result, and
// searching a few hundred bytes costs less than that.
const placeGap = 512

// lowWindow is how much of the input findKeywords lowers at a time: the
// chunk size, so that text chunks and NDJSON batches take one window and
// only a long record is split (each window costs a search call).
const lowWindow = chunkSize

// findKeywords appends to b.hits every keyword occurrence in b.src, in
// order. Keywords are lower case; the input is lowered a window of
// lowWindow bytes at a time into one reused buffer, each window extended by
// the longest keyword's length so that a keyword that starts in it is seen
// whole, and a hit belongs to the window it starts in. No lower-cased copy
// of the whole input is made: a long record is held once, not twice.
//
// With gate set, the cores automaton gates each line first: only lines
// that hold a keyword core can hold a keyword, and only those are searched
// for keyword positions (runs of nearby flagged lines in one search; see
// place). Checking a line stops at its first core, which costs less than
// listing every core of the buffer, and the lines of clean text that hold
// none skip the position search altogether.
func (st *state) findKeywords(b *buffer, gate bool) {
	c := st.r.c
	src := b.src
	for ws := 0; ws < len(src); ws += lowWindow {
		limit := min(lowWindow, len(src)-ws) // hits start in low[:limit]
		st.low = foldASCII(st.low[:0], src[ws:min(ws+limit+c.maxWord, len(src))])
		low := st.low
		if !gate {
			st.place(b, ws, limit, 0, len(low))
			continue
		}
		runStart, runEnd := -1, 0
		for ls := 0; ls < limit; {
			le := len(low) // a keyword with a line break: the window is one line
			if !c.multiLine {
				le = ls + indexOr(low[ls:], '\n', len(low)-ls)
			}
			if c.ac.Contains(low[ls:le]) {
				if runStart >= 0 && ls-runEnd > placeGap {
					st.place(b, ws, limit, runStart, runEnd)
					runStart = -1
				}
				if runStart < 0 {
					runStart = ls
				}
				runEnd = le
			}
			ls = le + 1
		}
		if runStart >= 0 {
			st.place(b, ws, limit, runStart, runEnd)
		}
	}
}

// place appends to b.hits every keyword occurrence in st.low[a:e] that
// starts before st.low[limit], sorted, from a position-reporting automaton
// over whole keywords: one table lookup per byte. st.low is the input
// lowered from b.src[ws] on. Keywords hold no line break (unless
// c.multiLine), so each occurrence lies within one line.
func (st *state) place(b *buffer, ws, limit, a, e int) {
	n := len(b.hits)
	for _, m := range st.r.c.pos.FindAllOverlapping(st.low[a:e]) {
		if p := a + m.Start; p < limit {
			b.hits = append(b.hits, kwHit{pos: int32(ws + p), word: int32(m.PatternID)})
		}
	}
	if len(b.hits)-n > 1 {
		slices.SortFunc(b.hits[n:], func(x, y kwHit) int { return int(x.pos - y.pos) })
	}
}

// hasByteFold reports whether s holds c, an ASCII-folded byte, in either
// case.
func hasByteFold(s []byte, c byte) bool {
	return bytes.IndexByte(s, c) >= 0 || (c-'a' < 26 && bytes.IndexByte(s, c-('a'-'A')) >= 0)
}

// foldIs reports whether s, lowered, is lowered (lower-case ASCII).
func foldIs(s []byte, lowered string) bool {
	if len(s) != len(lowered) {
		return false
	}
	for i := range len(s) {
		if lower(s[i]) != lowered[i] {
			return false
		}
	}
	return true
}

// setWords sets b.words to the distinct keywords of b.hits, and the flags
// they imply.
func (st *state) setWords(b *buffer) {
	c := st.r.c
	b.words = b.words[:0]
	b.names, b.content = false, false
	if len(b.hits) == 0 {
		return
	}
	st.gen++
	if len(st.seen) < len(c.words) || st.gen == 0 {
		// New, or the generation wrapped (after 2^32 calls in a
		// long-running proxy): start from a clean slate.
		st.seen = make([]uint32, len(c.words))
		st.gen = 1
	}
	for _, h := range b.hits {
		if st.seen[h.word] == st.gen {
			continue
		}
		st.seen[h.word] = st.gen
		b.words = append(b.words, int(h.word))
		if c.trigger[h.word] {
			b.content = true
		}
		if !b.names {
			for _, t := range c.targets[h.word] {
				if t.name {
					b.names = true
					break
				}
			}
		}
	}
}

// hasHits reports whether any keyword or literal hit starts in [a,e).
// Callers mostly ask about increasing ranges, so it keeps cursors and only
// falls back to a binary search when a range starts before the last one.
func (b *buffer) hasHits(a, e int) bool {
	if len(b.hits) > 0 {
		i := b.hitCur
		if i > len(b.hits) || (i > 0 && int(b.hits[i-1].pos) >= a) {
			i, _ = slices.BinarySearchFunc(b.hits, int32(a), func(h kwHit, p int32) int { return int(h.pos - p) })
		}
		for i < len(b.hits) && int(b.hits[i].pos) < a {
			i++
		}
		b.hitCur = i
		if i < len(b.hits) && int(b.hits[i].pos) < e {
			return true
		}
	}
	if len(b.lits) > 0 {
		j := b.litCur
		if j > len(b.lits) || (j > 0 && b.lits[j-1].Start >= a) {
			j, _ = slices.BinarySearchFunc(b.lits, a, func(m literal.Match, p int) int { return m.Start - p })
		}
		for j < len(b.lits) && b.lits[j].Start < a {
			j++
		}
		b.litCur = j
		return j < len(b.lits) && b.lits[j].Start < e
	}
	return false
}

// anyHit reports whether a keyword or literal hit starts in [a,e), like
// hasHits but without moving its cursors, which later calls rely on.
func (b *buffer) anyHit(a, e int) bool {
	i, _ := slices.BinarySearchFunc(b.hits, int32(a), func(h kwHit, p int32) int { return int(h.pos - p) })
	return (i < len(b.hits) && int(b.hits[i].pos) < e) || b.anyLiteral(a, e)
}

// anyLiteral reports whether a known value's match starts in [a,e).
func (b *buffer) anyLiteral(a, e int) bool {
	j, _ := slices.BinarySearchFunc(b.lits, a, func(m literal.Match, p int) int { return m.Start - p })
	return j < len(b.lits) && b.lits[j].Start < e
}

// foldASCII writes src to dst with ASCII upper-case letters lowered, eight
// bytes at a time: for each byte, bit 7 of (b+0x3f) & ^(b+0x25) & ^b is set
// exactly when 'A' <= b <= 'Z', and that bit shifted to 0x20 is what to add.
func foldASCII(dst, src []byte) []byte {
	n := len(src)
	if cap(dst) < n {
		dst = make([]byte, n, n+n/4)
	}
	dst = dst[:n]
	const ones, high = 0x0101010101010101, 0x8080808080808080
	i := 0
	for ; i+8 <= n; i += 8 {
		x := binary.LittleEndian.Uint64(src[i:])
		// Adding 0x3f (0x80-'A') or 0x25 (0x80-'Z'-1) to a byte below
		// 0x80 never carries into the next byte; bytes with bit 7 set
		// are excluded by the ^x term before their carries matter.
		lo := x &^ high
		upper := (lo + ones*0x3f) &^ (lo + ones*0x25) &^ x & high
		binary.LittleEndian.PutUint64(dst[i:], x|upper>>2)
	}
	for ; i < n; i++ {
		c := src[i]
		if c-'A' < 26 {
			c += 'a' - 'A'
		}
		dst[i] = c
	}
	return dst
}

// quoteAt returns the JSON quote that src[i:e] starts with: ", or one
// escaped for a JSON string (\" or \u0022), as often as strings nest
// (\\\"), or nil.
func quoteAt(src []byte, i, e int) []byte {
	j := i
	for j < e && src[j] == '\\' {
		j++
	}
	switch {
	case j < e && src[j] == '"':
		return src[i : j+1]
	case j > i && bytes.HasPrefix(src[j:e], []byte("u0022")):
		return src[i : j+5]
	}
	return nil
}

// Detection modes for detectRange.
const (
	modeText  = 1 << iota // name=value pairs in text
	modeQuery             // the range starts with a query parameter (a form body)
)

// detectText redacts b.src[a:e] as text into out: what detectRange finds,
// less spans that start at or after limit (the caller keeps those for its
// next chunk). Logic Apps content envelopes in it ("$content": "<base64>",
// "inlinedContent": "<base64>", also with quotes escaped as inside a JSON
// string) are decoded and redacted as the JSON walk does, so a malformed
// document or line does not hide what its base64 holds; text spans inside
// an envelope are dropped, since the envelope's raw text was checked too.
func (st *state) detectText(b *buffer, a, e, limit, mode int, out *[]edit) {
	first := len(*out)
	st.handled = st.handled[:0]
	if b.content && st.depth < maxNest {
		c := st.r.c
		w := jsonWalker{st: st, b: b, out: out, key: -1}
		i, _ := slices.BinarySearchFunc(b.hits, int32(a), func(h kwHit, p int32) int { return int(h.pos - p) })
		for ; i < len(b.hits) && int(b.hits[i].pos) < limit; i++ {
			h := b.hits[i]
			if !c.trigger[h.word] {
				continue
			}
			// The key is quoted with ", or with \" or \u0022 inside
			// a JSON string, and its value with the same quote.
			ks, ke := int(h.pos), int(h.pos)+len(c.words[h.word])
			q := quoteAt(b.src, ke, e)
			if q == nil || ks < len(q) || !bytes.Equal(b.src[ks-len(q):ks], q) {
				continue
			}
			j := skipWS(b.src, ke+len(q), e)
			if j >= e || b.src[j] != ':' {
				continue
			}
			j = skipWS(b.src, j+1, e)
			if !bytes.HasPrefix(b.src[j:e], q) {
				continue
			}
			j += len(q)
			end := e
			if len(q) == 1 {
				end, _ = stringEnd(b.src, j, e)
			} else if k := bytes.Index(b.src[j:e], q); k >= 0 {
				end = j + k
			}
			if end >= e {
				continue // unterminated here: text rules see it
			}
			if _, ok := w.base64Content(j, end, contentSniff); ok {
				st.handled = append(st.handled, span{start: j, end: end})
			}
		}
	}
	st.pairObjs = st.pairObjs[:0]
	if b.names && st.depth < maxNest {
		st.walkPairObjects(b, a, e, limit, out)
	}
	pairs := len(st.pairObjs) > 0
	st.detectRange(b, a, e, mode)
	k := 0
	for _, sp := range st.spans {
		if sp.start < limit && !overlapsAny(sp, st.handled) && !(pairs && insideAny(sp, st.pairObjs)) {
			st.spans[k] = sp
			k++
		}
	}
	st.spans = st.spans[:k]
	st.flushSpans(b, out)
	sorted := len(st.handled) == 0 && !pairs
	if (b.disguised || b.overEncoded) && st.depth < maxNest {
		for ls := a; ls < limit; {
			le := ls + indexOr(b.src[ls:e], '\n', e-ls)
			line := b.src[ls:le]
			if ((b.disguised && disguisedIn(line)) || (b.overEncoded && overEncodedIn(line))) && st.undisguise(b, ls, le, out, first) {
				sorted = false
			}
			ls = le + 1
		}
	}
	if b.wrapped && st.depth < maxNest && st.unwrapBase64(b, a, limit, e, out, first) {
		sorted = false
	}
	if !sorted {
		slices.SortFunc((*out)[first:], func(x, y edit) int { return x.start - y.start })
	}
	if pairs {
		// A text span that crosses a pair object's bounds may overlap
		// the walk's edits.
		*out = append((*out)[:first], trimOverlaps((*out)[first:])...)
	}
}

// unwrapBase64 looks for base64 wrapped at 64 or 76 columns (MIME, PEM,
// the base64 tool) in the text lines starting in b.src[a:limit] and matches
// the known secrets (literals) against each block with its line breaks
// removed: a secret whose encoding straddles a break is masked, the break
// inside the mask. It reports whether it appended an edit to out.
func (st *state) unwrapBase64(b *buffer, a, limit, e int, out *[]edit, first int) bool {
	added := false
	for ls := a; ls < limit; {
		le := ls + indexOr(b.src[ls:e], '\n', e-ls)
		w := wrappedWidth(b.src[ls:le])
		if w == 0 {
			ls = le + 1
			continue
		}
		// The block: lines of width w, then one shorter base64 line.
		be := le
		for be+1 < e {
			ne := be + 1 + indexOr(b.src[be+1:e], '\n', e-be-1)
			line := bytes.TrimSuffix(b.src[be+1:ne], []byte("\r"))
			if len(line) == 0 || len(line) > w || !isBase64Run(line) {
				break
			}
			be = ne
			if len(line) < w {
				break
			}
		}
		if be > le && st.literalsAcross(b, ls, be, out, first) {
			added = true
		}
		ls = be + 1
	}
	return added
}

// wrappedIn reports whether s holds a line of base64 wrapped at 64 or 76
// columns.
func wrappedIn(s []byte) bool {
	for ls := 0; ls < len(s); {
		le := ls + indexOr(s[ls:], '\n', len(s)-ls)
		if n := le - ls; (n >= 64 && n <= 77) && wrappedWidth(s[ls:le]) > 0 {
			return true
		}
		ls = le + 1
	}
	return false
}

// wrappedWidth returns 64 or 76 when line (without its \r) is a full line
// of wrapped base64 of that width, else 0.
func wrappedWidth(line []byte) int {
	line = bytes.TrimSuffix(line, []byte("\r"))
	if (len(line) == 64 || len(line) == 76) && isBase64Run(line) {
		return len(line)
	}
	return 0
}

func isBase64Run(s []byte) bool {
	for _, c := range s {
		if !isAlnum(c) && c != '+' && c != '/' && c != '=' {
			return false
		}
	}
	return true
}

// literalsAcross matches the literals in b.src[bs:be] with its line breaks
// removed and appends, mapped back, the matches that cross a break.
func (st *state) literalsAcross(b *buffer, bs, be int, out *[]edit, first int) bool {
	st.depth++
	defer func() { st.depth-- }()
	nb := st.nestedBuf()
	nb.parent = b
	for i := bs; i < be; i++ {
		if c := b.src[i]; c != '\n' && c != '\r' {
			nb.src = append(nb.src, c)
			nb.pmap = append(nb.pmap, int32(i))
		}
	}
	nb.lits = st.r.lits.Append(nb.lits[:0], nb.src)
	added := false
	for _, m := range nb.lits {
		start, end := int(nb.pmap[m.Start]), int(nb.pmap[m.End-1])+1
		if end-start == m.End-m.Start {
			continue // on one line: the text scan masked it
		}
		clash := false
		for _, o := range (*out)[first:] {
			if start < o.end && o.start < end {
				clash = true
				break
			}
		}
		if clash {
			continue
		}
		st.spans = append(st.spans[:0], span{start: start, end: end, rule: int32(st.r.litRule), high: true})
		st.flushSpans(b, out)
		added = true
	}
	return added
}

// undisguise scans the text line b.src[ls:le] again with its \u00XX
// escapes of printable ASCII decoded (text="{\"\u0070assword\":...}", a
// JSON fragment in a log line whose key letters are escaped: the raw bytes
// show no keyword), and, when it holds an over-encoded percent-escape
// (overEncodedIn), its %XX escapes of printable ASCII too. Masks found there are mapped back onto the raw bytes,
// each escape masked whole, and appended to out unless they overlap an edit
// already made (out[first:]). It reports whether it appended any.
func (st *state) undisguise(b *buffer, ls, le int, out *[]edit, first int) bool {
	st.depth++
	defer func() { st.depth-- }()
	nb := st.nestedBuf()
	nb.parent = b
	pct := b.overEncoded && overEncodedIn(b.src[ls:le])
	for i := ls; i < le; i++ {
		if pct && b.src[i] == '%' && i+3 <= le {
			if c := hex2(b.src[i+1], b.src[i+2]); c >= 0x20 && c < 0x7f {
				nb.src = append(nb.src, byte(c))
				nb.pmap = append(nb.pmap, int32(i))
				i += 2
				continue
			}
		}
		if b.src[i] == '\\' && i+6 <= le && b.src[i+1] == 'u' {
			if c := hex4(b.src, i+2); c >= 0x20 && c < 0x7f {
				nb.src = append(nb.src, byte(c))
				nb.pmap = append(nb.pmap, int32(i))
				i += 5
				continue
			}
		}
		nb.src = append(nb.src, b.src[i])
		nb.pmap = append(nb.pmap, int32(i))
	}
	st.prepare(nb)
	nb.disguised, nb.overEncoded, nb.wrapped = false, false, false // decoded: no second round
	var inner []edit
	st.detectRange(nb, 0, len(nb.src), modeText)
	st.flushSpans(nb, &inner)
	added := false
	for _, ed := range inner {
		ed.start = int(nb.pmap[ed.start])
		if ed.end < len(nb.pmap) {
			ed.end = int(nb.pmap[ed.end])
		} else {
			ed.end = le
		}
		clash := false
		for _, o := range (*out)[first:] {
			if ed.start < o.end && o.start < ed.end {
				clash = true
				break
			}
		}
		if !clash {
			*out = append(*out, ed)
			added = true
		}
	}
	return added
}

func overlapsAny(sp span, ranges []span) bool {
	for _, r := range ranges {
		if sp.start < r.end && r.start < sp.end {
			return true
		}
	}
	return false
}

// detectRange appends the spans of secrets found in b.src[a:e] to st.spans.
func (st *state) detectRange(b *buffer, a, e int, mode int) {
	st.detectValue(b, a, a, e, e, mode)
}

// detectValue is detectRange for a value with context around it: keyword
// hits and regex windows may use b.src[ctx:ctxEnd] (a JSON value's key and
// quotes), but only spans inside b.src[a:e] are kept.
func (st *state) detectValue(b *buffer, ctx, a, e, ctxEnd int, mode int) {
	c := st.r.c
	if a >= e {
		return
	}
	first := len(st.spans)
	st.block.limit = e
	i, _ := slices.BinarySearchFunc(b.hits, int32(ctx), func(h kwHit, p int32) int { return int(h.pos - p) })
	st.windows = st.windows[:0]
	for ; i < len(b.hits) && int(b.hits[i].pos) < e; i++ {
		h := b.hits[i]
		for _, t := range c.targets[h.word] {
			rl := &c.rules[t.rule]
			if t.name {
				st.keyValue(b, ctx, ctxEnd, int(h.pos), len(c.words[h.word]), t.rule, mode)
				continue
			}
			if rl.anchors && rl.leadMax == 0 {
				st.runAnchored(b, t.rule, int(h.pos), int(h.pos), min(ctxEnd, int(h.pos)+rl.after))
				continue
			}
			w0 := max(ctx, int(h.pos)-rl.before)
			w1 := min(ctxEnd, int(h.pos)+rl.after)
			if rl.yamlBlock {
				w1 = yamlBlockEnd(b.src, int(h.pos), w1)
			}
			st.windows = append(st.windows, window{rule: t.rule, start: w0, end: w1, hit: int(h.pos)})
		}
	}
	if len(st.windows) > 0 {
		st.runWindows(b)
	}
	if ctx < a || ctxEnd > e {
		k := first
		for _, sp := range st.spans[first:] {
			if sp.start >= a && sp.end <= e {
				st.spans[k] = sp
				k++
			}
		}
		st.spans = st.spans[:k]
	}
	if len(b.lits) > 0 {
		j, _ := slices.BinarySearchFunc(b.lits, a, func(m literal.Match, p int) int { return m.Start - p })
		for ; j < len(b.lits) && b.lits[j].Start < e; j++ {
			if m := b.lits[j]; m.End <= e {
				st.spans = append(st.spans, span{start: m.Start, end: m.End, rule: int32(st.r.litRule), high: true})
			}
		}
	}
}

// yamlBlockEnd returns where the indented YAML block under the line
// holding src[p] ends, at most at limit: the start of the first later
// non-blank line indented no deeper than that line.
func yamlBlockEnd(src []byte, p, limit int) int {
	ls := p
	for ls > 0 && src[ls-1] != '\n' {
		ls--
	}
	indent := skipBlanks(src, ls, p) - ls
	i := bytes.IndexByte(src[p:limit], '\n')
	if i < 0 {
		return limit
	}
	for i += p + 1; i < limit; {
		j := skipBlanks(src, i, limit)
		if j < limit && src[j] != '\n' && src[j] != '\r' && j-i <= indent {
			return i
		}
		k := bytes.IndexByte(src[i:limit], '\n')
		if k < 0 {
			return limit
		}
		i += k + 1
	}
	return limit
}

// runWindows merges the windows of each rule and runs its regex on them;
// a rule whose matches start a few bytes before its keyword (leadMax)
// instead tries its anchored regex at those starts of each window.
func (st *state) runWindows(b *buffer) {
	ws := st.windows
	if len(ws) > 1 {
		slices.SortFunc(ws, func(x, y window) int {
			if x.rule != y.rule {
				return int(x.rule - y.rule)
			}
			return x.start - y.start
		})
	}
	for i := 0; i < len(ws); {
		w := ws[i]
		if rl := &st.r.c.rules[w.rule]; rl.anchors {
			st.runAnchored(b, w.rule, max(w.start, w.hit-rl.leadMax), w.hit-rl.leadMin, w.end)
			i++
			continue
		}
		j := i + 1
		for ; j < len(ws) && ws[j].rule == w.rule && ws[j].start <= w.end; j++ {
			w.end = max(w.end, ws[j].end)
		}
		i = j
		st.runRegex(b, w)
	}
}

// runAnchored tries the rule's anchored regex at one keyword hit: at each
// start from first to last (the hit itself when the regex starts with the
// keyword), up to end, keeping the first match, as a search from first
// would find it.
func (st *state) runAnchored(b *buffer, ri int32, first, last, end int) {
	rl := &st.r.c.rules[ri]
	if first > last || first >= end || (rl.hasNeed && !hasByteFold(b.src[first:end], rl.need)) {
		return
	}
	for start := first; start <= last; start++ {
		if !boundaryOK(rl.boundary, b.src, start) {
			continue
		}
		if m := rl.rx.compiled().anchoredRe.FindSubmatchIndex(b.src[start:end]); m != nil {
			st.addMatch(b, rl, ri, start, b.src[start:end], m)
			return
		}
	}
}

func (st *state) runRegex(b *buffer, w window) {
	rl := &st.r.c.rules[w.rule]
	src := b.src[w.start:w.end]
	if rl.hasNeed && !hasByteFold(src, rl.need) {
		return
	}
	rx := rl.rx.compiled()
	if rx.bareRe == nil {
		for _, m := range findAll(rx.re, src) {
			st.addMatch(b, rl, w.rule, w.start, src, m)
		}
		return
	}
	// The boundary is checked in the whole buffer, and a match that fails
	// it is retried one byte on, as the full regex would be.
	for off := 0; off < len(src); {
		m := rx.bareRe.FindSubmatchIndex(src[off:])
		if m == nil {
			return
		}
		for k := range m {
			if m[k] >= 0 {
				m[k] += off
			}
		}
		if !boundaryOK(rl.boundary, b.src, w.start+m[0]) {
			off = m[0] + 1
			continue
		}
		st.addMatch(b, rl, w.rule, w.start, src, m)
		off = max(m[1], m[0]+1)
	}
}

// addMatch checks one regex match found in src (which starts at base in b)
// and records its secret span.
func (st *state) addMatch(b *buffer, rl *rule, ri int32, base int, src []byte, m []int) {
	{
		s, e := m[0], m[1]
		if rl.group > 0 && 2*rl.group+1 < len(m) {
			s, e = m[2*rl.group], m[2*rl.group+1]
		}
		if s < 0 || s >= e {
			return
		}
		if st.r.c.afterMask(b.src, base+m[0]) {
			return
		}
		secret := src[s:e]
		if rl.minEntropy > 0 && entropy(secret) < rl.minEntropy {
			return
		}
		if hasStopword(secret, rl.stopwords) {
			return
		}
		high := false
		if len(rl.validators) > 0 {
			high = validate(rl.validators, secret)
			if !high && rl.strict {
				return
			}
		}
		end := base + e
		if bytes.HasPrefix(src[m[0]:], armorBegin) {
			end = st.extendBlock(b, end) // whatever the window's length
		}
		st.spans = append(st.spans, span{start: base + s, end: end, rule: ri, high: high})
	}
}

func findAll(re *regexp.Regexp, src []byte) [][]int {
	return re.FindAllSubmatchIndex(src, -1)
}

func hasStopword(secret []byte, stop [][]byte) bool {
	if len(stop) == 0 {
		return false
	}
	var buf [256]byte
	low := foldASCII(buf[:0], secret)
	for _, s := range stop {
		if bytes.Contains(low, s) {
			return true
		}
	}
	return false
}

// flushSpans sorts and merges st.spans found in buffer b, applies the
// allowlist, and turns them into edits appended to *out. Overlapping spans
// become one span labelled with the highest-priority rule.
func (st *state) flushSpans(b *buffer, out *[]edit) {
	sp := st.spans
	if len(sp) == 0 {
		return
	}
	// A span that starts inside an earlier pass's mask is part of it.
	k := 0
	for _, x := range sp {
		if !st.r.c.inMask(b.src, x.start) {
			sp[k] = x
			k++
		}
	}
	sp = sp[:k]
	if len(sp) == 0 {
		st.spans = st.spans[:0]
		return
	}
	if len(sp) > 1 {
		slices.SortFunc(sp, func(x, y span) int {
			if x.start != y.start {
				return x.start - y.start
			}
			return y.end - x.end
		})
	}
	c := st.r.c
	for i := 0; i < len(sp); {
		cur := sp[i]
		j := i + 1
		for ; j < len(sp) && sp[j].start < cur.end; j++ {
			if sp[j].end > cur.end {
				cur.end = sp[j].end
			}
			if c.rules[sp[j].rule].prio > c.rules[cur.rule].prio {
				cur.rule = sp[j].rule
			}
			cur.high = cur.high || sp[j].high
		}
		i = j
		if len(c.allow) > 0 && st.allowed(b, cur) {
			continue
		}
		st.emit(b, cur, out)
	}
	st.spans = st.spans[:0]
}

// emit records one masked span as an edit and counts it.
func (st *state) emit(b *buffer, sp span, out *[]edit) {
	rl := &st.r.c.rules[sp.rule]
	secret := b.src[sp.start:sp.end]
	off := len(st.repl)
	keep := 0
	if rl.keepPrefix > 0 && rl.keepPrefix < len(secret) {
		keep = rl.keepPrefix
		st.repl = append(st.repl, secret[:keep]...)
	}
	st.repl = st.r.label(st.repl, rl, secret)
	// A multi-line secret's replacement keeps its line count; inside a
	// JSON string the line breaks stay escaped.
	for _, ch := range secret {
		if ch == '\n' {
			if b.jsonString {
				st.repl = append(st.repl, '\\', 'n')
			} else {
				st.repl = append(st.repl, '\n')
			}
		}
	}
	*out = append(*out, edit{start: sp.start, end: sp.end, off: off, n: len(st.repl) - off})
	if int(sp.rule) != st.r.litRule && len(secret) >= literal.MinLen && len(st.foundVals) < maxFound && spreadable(secret) {
		// Known values are masked everywhere already.
		st.foundVals = append(st.foundVals, foundValue{off: len(st.found), n: len(secret), rule: sp.rule})
		st.found = append(st.found, secret...)
	}
	st.counts[sp.rule]++
	st.total++
	if st.onFind != nil {
		st.find(b, sp, rl, keep)
	}
}

// apply appends src with edits applied to dst, after masking every other
// occurrence of the values the edits' rules found (see propagate). At the
// top level it ends the window: the found values are forgotten.
func (st *state) apply(dst, src []byte, edits []edit) []byte {
	return st.applyEdits(dst, src, st.spread(src, edits))
}

// spread returns edits plus the edits that mask every other occurrence of
// the values the edits' rules found (see propagate). At the top level it
// ends the window: the found values are forgotten.
func (st *state) spread(src []byte, edits []edit) []edit {
	if len(st.foundVals) > 0 {
		edits = st.propagate(src, edits)
		if st.depth == 0 {
			st.found, st.foundVals = st.found[:0], st.foundVals[:0]
		}
	}
	return edits
}

// applyEdits appends src with edits applied to dst.
func (st *state) applyEdits(dst, src []byte, edits []edit) []byte {
	prev := 0
	for _, e := range edits {
		dst = append(dst, src[prev:e.start]...)
		dst = append(dst, st.repl[e.off:e.off+e.n]...)
		prev = e.end
	}
	return append(dst, src[prev:]...)
}

// addRepl stores explicit replacement bytes and returns the edit.
func (st *state) addRepl(start, end int, repl []byte) edit {
	off := len(st.repl)
	st.repl = append(st.repl, repl...)
	return edit{start: start, end: end, off: off, n: len(repl)}
}
