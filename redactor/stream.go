package redactor

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/flowmask/flowmask/patterns"
)

const (
	chunkSize  = 256 << 10
	detectSize = 64 << 10
)

// ErrTooLarge is wrapped by the error a Writer returns when a JSON document,
// a form body, an NDJSON line or a CSV record is longer than
// Config.MaxDocument: such input is refused, not redacted with a weaker rule
// set. Raise MaxDocument to redact it.
var ErrTooLarge = errors.New("input is larger than the maximum document size")

// Writer redacts what is written to it and writes the result to an
// underlying writer. Memory stays bounded: text is processed in chunks
// (keeping an overlap so that a secret split across writes is still seen
// whole), NDJSON line by line and CSV record by record, and what must be
// read whole (a JSON document, a form body, one NDJSON line or CSV record)
// is buffered up to Config.MaxDocument. Past that limit Write fails with an
// error wrapping ErrTooLarge rather than falling back to text rules, which
// would not know the structure (CSV header columns, JSON name/value pairs):
// what was already written is redacted, nothing after it is written.
//
// A Writer is not safe for concurrent use. Close flushes the remainder; it
// does not close the underlying writer.
type Writer struct {
	r      *Redactor
	st     *state
	dst    io.Writer
	format Format
	hint   Format
	buf    []byte
	out    []byte
	base   int64
	// size is how many bytes of input to expect in all (SetSizeHint), 0
	// when unknown.
	size int64
	line int
	col  int // bytes of the current line before base (for findings)
	// nlFree is how many leading bytes of buf hold no line break (NDJSON),
	// so that a long line is searched once, not once per chunk.
	nlFree int
	// firstScanned is how many bytes of buf auto-detection has searched for
	// the end of a first line that opens like JSON (firstLineOpen).
	firstScanned int
	// CSV: the delimiter, the keyname rule per column from the header row,
	// where the scan of the incomplete record stopped, and record ends.
	delim   byte
	header  []int32
	sawHead bool
	csvScan csvScan
	recEnds []int
	// inBlock is set while text input is inside a multi-line secret
	// (a private key) that an earlier chunk opened.
	inBlock bool
	stats   Stats
	err     error
	closed  bool
	// checked is set by AppendJSON: buf is valid JSON already.
	checked bool
}

// NewWriter returns a Writer that redacts input of format f into dst.
// FormatAuto decides from the first 64 KiB.
func (r *Redactor) NewWriter(dst io.Writer, f Format) *Writer {
	return &Writer{r: r, st: r.getState(), dst: dst, format: f, line: 1}
}

// SetHint gives auto-detection a hint, such as FormatHint(fileName).
func (w *Writer) SetHint(f Format) { w.hint = f }

// SetSizeHint tells the Writer how many bytes of input to expect in all,
// such as a file's size. A record longer than a read chunk (an NDJSON line,
// a CSV record, a JSON document) is then buffered in one allocation of
// about its size instead of one that grows as it arrives. A wrong hint
// costs memory, never correctness.
func (w *Writer) SetSizeHint(n int64) { w.size = n }

// SizeHinter is implemented by a reader that knows how many bytes it will
// deliver in all, such as a regular file of known size. Stream,
// StreamParallel and Scan pass it on as Writer.SetSizeHint does (and the
// Len of a bytes.Reader or strings.Reader).
type SizeHinter interface{ SizeHint() int64 }

// sizeOf returns what r says it holds, 0 when it does not say.
func sizeOf(r io.Reader) int64 {
	switch s := r.(type) {
	case SizeHinter:
		return max(s.SizeHint(), 0)
	case interface{ Len() int }:
		return int64(s.Len())
	}
	return 0
}

// reserve makes room in w.buf for n more bytes. Only a record longer than
// a chunk (an NDJSON line, a CSV record, a JSON document) outgrows the
// chunk-sized buffer. It doubles, and once doubling would reach a
// sixteenth of what the size hint says is left of the input, it takes all
// of that at once: a file that is one long record is read into a buffer of
// its size, not re-allocated over and over as append would (about five
// times the record in all), and a record in a larger input gets at most 32
// times its length. It never grows past MaxDocument plus a chunk, where
// the record is refused.
func (w *Writer) reserve(n int) {
	need := len(w.buf) + n
	if need <= cap(w.buf) {
		return
	}
	c := max(need, 2*cap(w.buf), chunkSize)
	if rest := w.size - w.base; rest >= int64(need) && 16*int64(c) >= rest {
		c = int(min(rest, int64(w.r.maxDoc+chunkSize)))
	}
	c = max(min(c, w.r.maxDoc+chunkSize), need)
	buf := make([]byte, len(w.buf), c)
	copy(buf, w.buf)
	outgrown := cap(w.buf)
	w.buf = buf
	if outgrown >= GrowNotice && w.r.afterGrow != nil {
		w.r.afterGrow()
	}
}

// OnFinding registers fn to be called for each secret found. Call it before
// the first Write.
func (w *Writer) OnFinding(fn func(Finding)) { w.st.onFind = fn }

// Format returns the format in use: the detected one once auto-detection has
// decided, FormatAuto before.
func (w *Writer) Format() Format { return w.format }

// Stats returns the counts so far.
func (w *Writer) Stats() Stats { return w.stats }

// Write redacts p. Output may lag behind input until Close.
func (w *Writer) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	if w.closed {
		return 0, errors.New("redactor: write after close")
	}
	n := len(p)
	w.stats.Bytes += int64(n)
	for len(p) > 0 {
		room := chunkSize - len(w.buf)
		if room <= 0 {
			room = chunkSize
		}
		k := min(room, len(p))
		w.reserve(k)
		w.buf = append(w.buf, p[:k]...)
		p = p[k:]
		if len(w.buf) >= chunkSize {
			if err := w.process(false); err != nil {
				return n - len(p), err
			}
		}
	}
	return n, nil
}

// Close redacts and writes what is still buffered.
func (w *Writer) Close() error {
	if w.closed {
		return w.err
	}
	w.closed = true
	if w.err == nil {
		w.err = w.process(true)
	}
	w.release()
	return w.err
}

func (w *Writer) release() {
	if w.st != nil {
		w.mergeStats()
		w.r.putState(w.st)
		w.st = nil
	}
}

func (w *Writer) mergeStats() {
	s := w.st.stats(0)
	w.stats.Add(s)
}

func (w *Writer) flush() error {
	if len(w.out) == 0 {
		return nil
	}
	_, err := w.dst.Write(w.out)
	w.out = w.out[:0]
	if err != nil {
		w.err = fmt.Errorf("write: %w", err)
	}
	return w.err
}

// consume drops the first n bytes of the buffer after they were emitted.
func (w *Writer) consume(n int) {
	if w.st.onFind != nil {
		done := w.buf[:n]
		w.line += bytes.Count(done, []byte{'\n'})
		if nl := bytes.LastIndexByte(done, '\n'); nl >= 0 {
			w.col = n - nl - 1
		} else {
			w.col += n
		}
	}
	w.base += int64(n)
	if cap(w.buf) > 4*chunkSize && len(w.buf)-n <= chunkSize {
		// A long record is done: the rest of the stream does not keep
		// its buffer.
		if n == len(w.buf) {
			w.buf = nil
		} else {
			w.buf = append(make([]byte, 0, chunkSize), w.buf[n:]...)
		}
		return
	}
	k := copy(w.buf, w.buf[n:])
	w.buf = w.buf[:k]
}

func (w *Writer) process(final bool) error {
	if w.format == FormatAuto {
		if !final && len(w.buf) < detectSize {
			return nil
		}
		if !final {
			var open bool
			if open, w.firstScanned = firstLineOpen(w.buf, w.r.maxDoc, w.firstScanned); open {
				return nil
			}
		}
		w.format = sniff(w.buf, w.hint, final)
	}
	switch w.format {
	case FormatJSON, FormatForm:
		if !final {
			if len(w.buf) <= w.r.maxDoc {
				return nil
			}
			if w.format == FormatJSON && notOneValue(w.buf) {
				// Not a JSON document (text after a first JSON line, as
				// auto-detection may see in a log): a document that is
				// not valid JSON is scanned as text, and so is this.
				w.format = FormatText
				return w.text(false)
			}
			w.err = fmt.Errorf("redactor: %s document is longer than the maximum document size (%d bytes): %w", w.format, w.r.maxDoc, ErrTooLarge)
			return w.err
		}
		w.whole()
	case FormatNDJSON:
		if err := w.lines(final); err != nil {
			w.err = err
			return err
		}
	case FormatCSV:
		// Records before an over-long one are written, redacted.
		err := w.csv(final)
		if ferr := w.flush(); err == nil {
			err = ferr
		}
		if err != nil {
			w.err = err
		}
		return err
	default:
		return w.text(final)
	}
	return w.flush()
}

// top sets up the top-level buffer for src, the start of w.buf, and runs
// the prefilter with keyword positions.
func (w *Writer) top(src []byte) *buffer {
	return w.topAt(src, w.base, w.line)
}

// topAt is top for src at stream offset base and line number line.
func (w *Writer) topAt(src []byte, base int64, line int) *buffer {
	st := w.st
	b := &st.top
	b.src, b.parent, b.pmap, b.base, b.line = src, nil, nil, base, line
	b.col0 = 0
	if base == w.base {
		b.col0 = w.col
	}
	b.cur = position{}
	st.prepare(b)
	return b
}

// needsWalk reports whether b.src[ls:le] may hold what only the JSON walk
// sees, though text rules found nothing: a JSON key ending with a sensitive
// name ("smtppassword":, "sig":), a name/value pair object with a
// sensitive name ({"name":"DB_PASSWORD","value":"..."}), or a string that
// may be base64 of a JSON object ("eyJ...").
func (st *state) needsWalk(b *buffer, ls, le int) bool {
	c := st.r.c
	if bytes.Contains(b.src[ls:le], []byte(`"eyJ`)) {
		return true // base64 of a JSON object: the walk decodes it (jsonWalker.str)
	}
	// "value" also as \"value\" (a JSON string holding the pair).
	pairs := hasQuotedFold(b.src[ls:le], `"value`)
	for i := b.hitCur; i < len(b.hits) && int(b.hits[i].pos) < le; i++ {
		h := b.hits[i]
		if c.queriesKey[h.word] && int(h.pos) >= ls {
			return true // {"queries":{"code":...}}: masked by the walk only
		}
		end := int(h.pos) + len(c.words[h.word])
		// Key names are matched without separators ("token_", "token ").
		for end < le && patterns.IsNameSeparator(b.src[end]) {
			end++
		}
		if int(h.pos) < ls || end >= le {
			continue
		}
		q := end + 1 // after the closing quote, raw or escaped (\")
		if b.src[end] == '\\' && end+1 < le && b.src[end+1] == '"' {
			q++
		} else if b.src[end] != '"' {
			continue
		}
		for _, t := range c.targets[h.word] {
			if !t.name || !c.rules[t.rule].inJSON {
				continue
			}
			if pairs {
				return true
			}
			if j := skipBlanks(b.src, q, le); j < le && b.src[j] == ':' {
				return true // the name ends a key
			}
		}
	}
	return false
}

// hasQuotedFold reports whether s holds word, which starts with a quote
// and is otherwise lower-case ASCII, in any case.
func hasQuotedFold(s []byte, word string) bool {
	for {
		q := bytes.IndexByte(s, word[0])
		if q < 0 || q+len(word) > len(s) {
			return false
		}
		if foldIs(s[q:q+len(word)], word) {
			return true
		}
		s = s[q+1:]
	}
}

// line redacts one NDJSON line, b.src[ls:le]. A line none of whose keyword
// hits can start a secret (token_type, "auth token validated") is left as
// it is without a JSON walk: a text probe, a superset of what the walk would
// find for a line without base64 content whose escaped strings are inert,
// decides.
func (st *state) line(b *buffer, ls, le int) {
	if !b.mayHold(ls, le) {
		return
	}
	if !b.content && inertEscapes(b, ls, le) {
		// Text rules over the raw line find a superset of what a walk
		// would: if they find nothing, neither JSON nor text handling
		// would change the line, valid JSON or not.
		st.detectRange(b, ls, le, modeText)
		if len(st.spans) == 0 && !st.needsWalk(b, ls, le) {
			return
		}
		if !validJSON(b.src[ls:le]) {
			if len(st.spans) > 0 && !(b.names && hasQuotedFold(b.src[ls:le], `"value`)) {
				st.flushSpans(b, &st.edits)
				return
			}
			// Several records on one line (ended by a lone CR or
			// U+2028), or text around a pair object: text rules, and
			// the pair objects walked as JSON.
			st.spans = st.spans[:0]
			st.detectText(b, ls, le, le, modeText, &st.edits)
			return
		}
		// The walk takes the probe's spans instead of running the rules
		// again (see jsonWalker.fromProbe).
		st.probe = append(st.probe[:0], st.spans...)
		slices.SortFunc(st.probe, func(x, y span) int { return x.start - y.start })
		st.spans = st.spans[:0]
		st.walkJSON(b, ls, le, &st.edits)
		st.probe = st.probe[:0]
		return
	}
	if validJSON(b.src[ls:le]) {
		st.walkJSON(b, ls, le, &st.edits)
		return
	}
	st.detectText(b, ls, le, le, modeText, &st.edits)
}

// spreadRecord walks a pretty-printed JSON record that starts on the NDJSON
// line b.src[ls:le] and ends on a later line of the batch (the line opens
// an object or array that it does not close: `{`, `"items": [`), and
// returns where it ends, or 0 when the line is not such a start, the record
// does not end in the batch, is not valid JSON, or has bytes after it on
// its last line. Line by line, its name/value pairs would be split apart.
// Only lines that end with an opening bracket or a comma are looked at.
func (st *state) spreadRecord(b *buffer, ls, le int) int {
	src := b.src
	t := bytes.TrimRight(src[ls:le], " \t")
	if len(t) == 0 || (t[0] != '{' && t[0] != '[') {
		return 0
	}
	if last := t[len(t)-1]; last != '{' && last != '[' && last != ',' {
		return 0
	}
	n := firstValueEnd(src[ls:])
	if n < 0 || ls+n <= le {
		return 0
	}
	re := ls + n
	rest := src[re : re+indexOr(src[re:], '\n', len(src)-re)]
	if len(bytes.TrimSpace(rest)) > 0 || !b.mayHold(ls, re) || !validJSON(src[ls:re]) {
		return 0
	}
	st.walkJSON(b, ls, re, &st.edits)
	return re
}

// inertEscapes reports whether every JSON string in b.src[ls:le] that holds
// an escape is inert: all its escapes are \" (see onlyQuoteEscapes), or it
// has no \u escape (which could spell a keyword) and no keyword or literal
// hit in it or in the string before it (its key, whose rule would apply to
// the decoded value). Decoding such strings cannot change what the rules
// find, so a text probe over the raw line still finds a superset of what a
// JSON walk would (FuzzNDJSONLine checks it). Etags ("\"0x8DC...\"") and
// quoted names in messages are the common case.
func inertEscapes(b *buffer, ls, le int) bool {
	src := b.src
	if bytes.IndexByte(src[ls:le], '\\') < 0 {
		return true
	}
	prev := ls
	for i := ls; i < le; {
		q := bytes.IndexByte(src[i:le], '"')
		if q < 0 {
			return true
		}
		s := i + q + 1
		e, esc := stringEnd(src, s, le)
		if esc && !onlyQuoteEscapes(src[s:e]) && (bytes.Contains(src[s:e], []byte(`\u`)) || b.anyHit(prev, e+1)) {
			return false
		}
		prev = s - 1
		i = e + 1
	}
	return true
}

// onlyQuoteEscapes reports whether every escape in the raw JSON string s is
// \": decoded, such a string differs from its raw bytes only in dropping
// backslashes before quotes, which no rule reads differently.
func onlyQuoteEscapes(s []byte) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' {
			if i+1 >= len(s) || s[i+1] != '"' {
				return false
			}
			i++
		}
	}
	return true
}

// whole redacts a JSON document or a form body held whole.
func (w *Writer) whole() {
	st := w.st
	src := w.buf
	b := w.top(src)
	st.edits = st.edits[:0]
	st.repl = st.repl[:0]
	switch {
	case len(b.hits) == 0 && len(b.lits) == 0 && !b.disguised && !b.overEncoded && !b.wrapped:
	case w.format == FormatJSON && (w.checked || validJSON(src)):
		st.walkJSON(b, 0, len(src), &st.edits)
	case w.format == FormatForm:
		st.detectText(b, 0, len(src), len(src), modeQuery|modeText, &st.edits)
	case w.format == FormatJSON && jsonSequence(src):
		// Not one JSON value but a sequence of them (NDJSON, or records
		// pretty-printed one after another, under a JSON media type):
		// read as records, each walked as JSON, as FormatNDJSON does.
		w.format = FormatNDJSON
		_ = w.lines(true)
		w.format = FormatJSON
		return
	default: // invalid JSON is scanned as text, never passed unscanned
		st.detectText(b, 0, len(src), len(src), modeText, &st.edits)
	}
	if w.dst == nil {
		w.out = slices.Grow(w.out, len(src)+len(src)/8)
	}
	w.emitEdits(src, st.edits)
	w.consume(len(src))
}

// text redacts free text in chunks, keeping an overlap for secrets that
// straddle a chunk boundary: it commits up to the last line break before
// the overlap and leaves the rest for the next chunk.
func (w *Writer) text(final bool) error {
	n := len(w.buf)
	if n == 0 || (!final && n < chunkSize) {
		return w.flush()
	}
	if w.inBlock {
		w.maskBlockRest(final)
		if n = len(w.buf); w.inBlock || n == 0 {
			return w.flush()
		}
	}
	commit := n
	if !final {
		commit = n - min(w.st.r.c.overlap, n/2)
		if nl := bytes.LastIndexByte(w.buf[:commit], '\n'); nl > 0 {
			commit = nl + 1
		}
	}
	w.textSlice(commit, final)
	return w.flush()
}

// lines redacts NDJSON: each line as JSON, a malformed line as text. The
// prefilter runs once over a batch of lines; lines it does not flag are
// copied untouched. A line longer than MaxDocument is refused.
func (w *Writer) lines(final bool) error {
	st := w.st
	end := len(w.buf)
	if !final {
		// Only the bytes after nlFree can hold a line break.
		nl := bytes.LastIndexByte(w.buf[min(w.nlFree, len(w.buf)):], '\n')
		if nl < 0 {
			w.nlFree = len(w.buf)
			if len(w.buf) > w.r.maxDoc {
				return fmt.Errorf("redactor: ndjson line at byte %d is longer than the maximum document size (%d bytes): %w", w.base, w.r.maxDoc, ErrTooLarge)
			}
			return nil
		}
		end = w.nlFree + nl + 1
	}
	w.nlFree = 0
	if end == 0 {
		return nil
	}
	// Batches of whole lines of about chunkSize keep the prefilter's
	// scratch buffers small and reused, however much is buffered.
	line := w.line
	for off := 0; off < end; {
		be := end
		if be-off > chunkSize {
			if nl := bytes.LastIndexByte(w.buf[off:off+chunkSize], '\n'); nl >= 0 {
				be = off + nl + 1
			} else if nl := bytes.IndexByte(w.buf[off+chunkSize:end], '\n'); nl >= 0 {
				be = off + chunkSize + nl + 1
			}
		}
		src := w.buf[off:be]
		b := w.topAt(src, w.base+int64(off), line)
		st.edits = st.edits[:0]
		st.repl = st.repl[:0]
		if len(b.words) > 0 || len(b.lits) > 0 || b.disguised {
			for ls := 0; ls < len(src); {
				le := ls + indexOr(src[ls:], '\n', len(src)-ls)
				next := le + 1
				if le > ls && src[le-1] == '\r' {
					le--
				}
				if re := st.spreadRecord(b, ls, le); re > 0 {
					// A pretty-printed record: walked whole, on to the
					// line after it.
					next = re + indexOr(src[re:], '\n', len(src)-re) + 1
				} else {
					st.line(b, ls, le)
				}
				ls = next
			}
		}
		w.emitEdits(src, st.edits)
		if st.onFind != nil {
			line += bytes.Count(src, []byte{'\n'})
		}
		off = be
	}
	w.consume(end)
	return nil
}

// textSlice redacts w.buf[:end] as text and emits it. A span that crosses
// end extends it. Unless final, the buffer is not the end of the input: a
// multi-line block with no END line in it is masked to near the buffer's
// end and the next chunk continues it (see maskBlockRest).
func (w *Writer) textSlice(end int, final bool) {
	st := w.st
	n := len(w.buf)
	b := w.top(w.buf)
	st.edits = st.edits[:0]
	st.repl = st.repl[:0]
	if len(b.hits) > 0 || len(b.lits) > 0 || b.disguised || b.overEncoded || b.wrapped {
		st.block.open = false
		if !final {
			st.block.stop = n - len(armorEnd)
		}
		st.detectText(b, 0, n, end, modeText, &st.edits)
		st.block.stop = 0
		for _, e := range st.edits {
			end = max(end, e.end)
		}
		if st.block.open && !final && end >= n-len(armorEnd) {
			w.inBlock = true
		}
		st.block.open = false
	}
	w.emitEdits(w.buf[:end], st.edits)
	w.consume(end)
}

// emitEdits appends src with edits applied to the output. A Writer writes a
// long record out in pieces as it goes, so that the record is not held a
// second time as output; one writing to io.Discard (a scan) builds no
// output at all.
func (w *Writer) emitEdits(src []byte, edits []edit) {
	// Every path spreads found values: a scan reports their other
	// occurrences, and a long record masks them.
	edits = w.st.spread(src, edits)
	if w.dst == io.Discard {
		return
	}
	if w.dst == nil || len(src) <= 2*chunkSize {
		w.out = w.st.applyEdits(w.out, src, edits)
		return
	}
	prev := 0
	for _, e := range edits {
		w.emitFlushing(src[prev:e.start])
		w.out = append(w.out, w.st.repl[e.off:e.off+e.n]...)
		prev = e.end
	}
	w.emitFlushing(src[prev:])
}

// emitFlushing appends p to the output, writing the output out each time it
// reaches chunkSize.
func (w *Writer) emitFlushing(p []byte) {
	for len(p) > 0 && w.err == nil {
		k := min(len(p), chunkSize)
		w.out = append(w.out, p[:k]...)
		p = p[k:]
		if len(w.out) >= chunkSize {
			_ = w.flush()
		}
	}
}

func indexOr(b []byte, c byte, def int) int {
	if i := bytes.IndexByte(b, c); i >= 0 {
		return i
	}
	return def
}

// Append redacts src, a whole input of format f, and appends the result to
// dst. It never reads beyond src and never retains it.
func (r *Redactor) Append(dst, src []byte, f Format) ([]byte, Stats) {
	w := &Writer{r: r, st: r.getState(), format: f, line: 1, buf: src, out: dst}
	w.stats.Bytes = int64(len(src))
	w.closed = true
	// Final processing never shifts buf, so src is not modified.
	_ = w.processFinal()
	out := w.out
	w.release()
	return out, w.stats
}

// processFinal runs the last processing step without writing anywhere.
func (w *Writer) processFinal() error {
	if w.format == FormatAuto {
		w.format = sniff(w.buf, w.hint, true)
	}
	// The input is held whole already: MaxDocument, a bound on what a
	// Writer buffers, does not apply.
	switch w.format {
	case FormatJSON, FormatForm:
		w.whole()
	case FormatNDJSON:
		_ = w.lines(true)
	case FormatCSV:
		_ = w.csv(true)
	default:
		w.textAll()
	}
	return nil
}

// textAll redacts the whole buffer as text in one pass.
func (w *Writer) textAll() {
	if len(w.buf) > 0 {
		w.textSlice(len(w.buf), true)
	}
}

// String redacts s as text.
func (r *Redactor) String(s string) string {
	out, st := r.Append(nil, []byte(s), FormatText)
	if st.Redactions == 0 {
		return s
	}
	return string(out)
}

// Stream copies src to dst, redacting input of format f (FormatAuto uses
// hint). It stops at the first error, or when ctx is done.
//
// UTF-16 and UTF-32 input (with a byte order mark, or BOM-less ASCII-range
// text) is decoded, redacted and written back in its encoding; compressed
// input is refused with ErrCompressed.
func (r *Redactor) Stream(ctx context.Context, dst io.Writer, src io.Reader, f Format, hint Format) (Stats, error) {
	src, dst, done, size, err := textInput(src, dst)
	if err != nil {
		return Stats{}, err
	}
	st, err := r.stream(ctx, dst, src, f, hint, size)
	if err != nil {
		return st, err
	}
	return st, done()
}

func (r *Redactor) stream(ctx context.Context, dst io.Writer, src io.Reader, f Format, hint Format, size int64) (Stats, error) {
	w := r.NewWriter(dst, f)
	w.SetHint(hint)
	w.SetSizeHint(size)
	return w.copyFrom(ctx, src)
}

// Scan reads src and calls fn for each secret found; nothing is written.
// UTF-16 and UTF-32 input is decoded first (findings' offsets are then in
// the decoded UTF-8 text); compressed input is refused with ErrCompressed.
func (r *Redactor) Scan(ctx context.Context, src io.Reader, f Format, hint Format, fn func(Finding)) (Stats, error) {
	src, _, _, size, err := textInput(src, io.Discard)
	if err != nil {
		return Stats{}, err
	}
	w := r.NewWriter(io.Discard, f)
	w.SetHint(hint)
	w.SetSizeHint(size)
	w.OnFinding(fn)
	return w.copyFrom(ctx, src)
}

func (w *Writer) copyFrom(ctx context.Context, src io.Reader) (Stats, error) {
	buf := make([]byte, 64<<10)
	for {
		if err := ctx.Err(); err != nil {
			w.release()
			return w.stats, err
		}
		n, err := src.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				w.release()
				return w.stats, werr
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			w.release()
			return w.stats, fmt.Errorf("read: %w", err)
		}
	}
	err := w.Close()
	return w.stats, err
}

// jsonSequence reports whether b, which is not one JSON value, is a
// sequence of JSON objects or arrays, one or more per line or spread over
// lines: it starts with one, something follows it, and every line starts
// (after blanks) with a bracket or a quote.
// Text between records (a PEM block, a log line) makes it text, whose rules
// see across lines.
func jsonSequence(b []byte) bool {
	b = bytes.TrimPrefix(b, utf8BOM)
	if !notOneValue(b) {
		return false
	}
	for len(b) > 0 {
		line := b[:indexOr(b, '\n', len(b))]
		b = b[len(line):]
		if len(b) > 0 {
			b = b[1:]
		}
		t := bytes.TrimLeft(line, " \t\r")
		if len(t) == 0 {
			continue
		}
		switch c := t[0]; {
		case c == '{', c == '}', c == '[', c == ']', c == '"':
		default:
			return false
		}
	}
	return true
}

// notOneValue reports whether b cannot be the start of one JSON document:
// its first value (found by counting brackets outside strings) ends, and
// something other than blanks follows it.
func notOneValue(b []byte) bool {
	b = bytes.TrimPrefix(b, utf8BOM)
	end := firstValueEnd(b)
	return end >= 0 && len(bytes.TrimLeft(b[end:], " \t\r\n")) > 0
}

// firstValueEnd returns where the first JSON object, array or string in b
// ends (found by counting brackets outside strings), or -1 if it does not
// end in b.
func firstValueEnd(b []byte) int {
	depth, started := 0, false
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch c {
		case '"':
			e, _ := stringEnd(b, i+1, len(b))
			if e >= len(b) {
				return -1 // unterminated string: no first value
			}
			i = e
			started = true
		case '{', '[':
			depth++
			started = true
		case '}', ']':
			depth--
		case ' ', '\t', '\r', '\n':
		default:
			started = true
		}
		if started && depth <= 0 && (c == '}' || c == ']' || c == '"') {
			return i + 1
		}
	}
	return -1
}

// firstLineOpen reports whether b, the start of an input that opens like
// JSON, does not yet show what follows its first line: sniff tells NDJSON
// from one document by the first complete line and the start of the next,
// so a first line longer than the detection window is read to its end (up
// to limit bytes) before deciding. The search for the line's end starts at
// scanned, what an earlier call on a shorter b searched; the returned
// scanned is where the next call on a longer b may start, so a long first
// line arriving chunk by chunk is searched once.
func firstLineOpen(b []byte, limit, scanned int) (open bool, next int) {
	if len(b) > limit {
		return false, scanned
	}
	t := bytes.TrimLeft(bytes.TrimPrefix(b, utf8BOM), " \t\r\n")
	if len(t) == 0 || (t[0] != '{' && t[0] != '[') {
		return false, scanned
	}
	off := len(b) - len(t)
	from := max(scanned-off, 0)
	nl := bytes.IndexByte(t[from:], '\n')
	if nl < 0 {
		return true, len(b)
	}
	nl += from
	return len(bytes.TrimLeft(t[nl+1:], " \t\r\n")) == 0, off + nl
}

// sniff decides the format of the first bytes of an input; complete says b
// is the whole input.
func sniff(b []byte, hint Format, complete bool) Format {
	t := bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	t = bytes.TrimLeft(t, " \t\r\n")
	if len(t) == 0 {
		return FormatText
	}
	if t[0] == '{' || t[0] == '[' {
		if nl := bytes.IndexByte(t, '\n'); nl > 0 && validJSON(t[:nl]) {
			rest := bytes.TrimLeft(t[nl+1:], " \t\r\n")
			if len(rest) > 0 && (rest[0] == '{' || rest[0] == '[') {
				return FormatNDJSON
			}
		}
		if hint == FormatNDJSON {
			return FormatNDJSON
		}
		return FormatJSON
	}
	if hint == FormatCSV || looksCSV(t, complete) {
		return FormatCSV
	}
	if looksForm(t) {
		return FormatForm
	}
	return FormatText
}

var formRE = regexp.MustCompile(`^[A-Za-z0-9_.%+\-\[\]]+=[^&\s]*(?:&[A-Za-z0-9_.%+\-\[\]]+=[^&\s]*)+\s*$`)

func looksForm(t []byte) bool {
	if len(t) > 1<<20 {
		return false
	}
	return bytes.IndexByte(bytes.TrimRight(t, "\r\n"), '\n') < 0 && formRE.Match(t)
}

// find reports a finding for span sp of buffer b.
func (st *state) find(b *buffer, sp span, rl *rule, keep int) {
	pos := sp.start
	for b.parent != nil {
		if b.pmap != nil && pos < len(b.pmap) {
			pos = int(b.pmap[pos])
		} else {
			pos = b.ppos
		}
		b = b.parent
	}
	line, col := b.position(pos)
	conf := "medium"
	if sp.high {
		conf = "high"
	}
	preview := ""
	if keep > 0 {
		preview = string(b.src[pos : pos+min(keep, len(b.src)-pos)])
		if sp.end-sp.start < keep {
			preview = ""
		}
	}
	st.onFind(Finding{
		Rule:       rl.id,
		Offset:     b.base + int64(pos),
		Line:       line,
		Column:     col,
		Length:     sp.end - sp.start,
		Path:       st.jsonPath(),
		Preview:    preview + "********",
		Confidence: conf,
	})
}

// jsonPath renders the current JSON path ($.a.b[0]['x-api-key']), or "" when
// not inside JSON. A key that held a secret is rendered as ['[REDACTED]'].
func (st *state) jsonPath() string {
	if len(st.path) == 0 {
		return ""
	}
	var sb strings.Builder
	sb.WriteByte('$')
	for _, p := range st.path {
		if p.arr {
			sb.WriteByte('[')
			sb.WriteString(strconv.Itoa(p.idx))
			sb.WriteByte(']')
			continue
		}
		if p.masked {
			// A finding never holds secret bytes, not even in its path.
			sb.WriteString("['[REDACTED]']")
		} else if isIdent(p.key) {
			sb.WriteByte('.')
			sb.Write(p.key)
		} else {
			sb.WriteString("['")
			sb.WriteString(strings.ReplaceAll(string(p.key), "'", `\'`))
			sb.WriteString("']")
		}
	}
	return sb.String()
}

func isIdent(k []byte) bool {
	if len(k) == 0 {
		return false
	}
	for i, c := range k {
		if !(isAlpha(c) || c == '_' || c == '$' || (i > 0 && c-'0' < 10)) {
			return false
		}
	}
	return true
}

// allowed reports whether an allowlist entry silences span sp.
func (st *state) allowed(b *buffer, sp span) bool {
	id := st.r.c.rules[sp.rule].id
	var path string
	pathDone := false
	for _, a := range st.r.c.allow {
		if a.rule != "" && a.rule != id {
			continue
		}
		if a.path != nil {
			if !pathDone {
				path, pathDone = st.jsonPath(), true
			}
			if !a.path.MatchString(path) {
				continue
			}
		}
		if a.value != nil && !a.value.Match(b.src[sp.start:sp.end]) {
			continue
		}
		return true
	}
	return false
}
