package redactor

import (
	"bytes"
	"fmt"
	"slices"
)

// CSV is parsed the way spreadsheet exports are written, leniently (as
// encoding/csv's LazyQuotes does): a quote opens a quoted field only at the
// start of a field, a quote inside an unquoted field ("bob 5" tall") is a
// plain byte, and inside a quoted field a quote that is neither doubled nor
// followed by the delimiter or the line break is a plain byte too. A quoted
// field that never closes (at the end of the input) is read as plain text up
// to the end of its line, and parsing resumes at the next line: a stray
// quote costs at most one line's structure, never the header's masking of
// the rows after it. The delimiter (',', ';', tab or '|') is the one the
// header line uses most.

// csvDelims are the delimiters recognised in a header line, in order of
// preference on a tie.
const csvDelims = ",\t;|"

// utf8BOM starts many spreadsheet exports; it is not part of the first
// header cell.
var utf8BOM = []byte("\xef\xbb\xbf")

// csvScan is where the record scanner stopped in an incomplete record, so
// that the next call resumes there instead of rescanning the record.
type csvScan struct {
	pos     int  // next byte to look at
	inQuote bool // pos is inside a quoted field...
	quote   int  // ...opened at this byte
	atField bool // pos is at the start of a field
	started bool // the scan of this record has begun
}

// csvDelimiter returns the delimiter the header line uses most, ',' when it
// uses none.
func csvDelimiter(line []byte) byte {
	best, bestN := byte(','), 0
	for k := 0; k < len(csvDelims); k++ {
		if n := countDelims(line, csvDelims[k]); n > bestN {
			best, bestN = csvDelims[k], n
		}
	}
	return best
}

// countDelims counts the fields after the first in one line: the delimiter
// bytes outside quoted fields.
func countDelims(line []byte, delim byte) int {
	n := 0
	forCells(line, 0, len(line), delim, func(int, int, bool) { n++ })
	return n - 1
}

// scanRecord returns the end (after its line break) of the record that
// starts at rs, or -1 when it does not end within src; sc then says where to
// resume once more bytes are appended. With final, src is the whole rest of
// the input: the last record ends at its end, and a quoted field that never
// closed is resynchronised (its record ends at the line break after its
// opening quote).
func scanRecord(src []byte, rs int, delim byte, sc *csvScan, final bool) int {
	if !sc.started {
		*sc = csvScan{pos: rs, atField: true, started: true}
	}
	n := len(src)
	i := sc.pos
	for i < n {
		if sc.inQuote {
			k := bytes.IndexByte(src[i:], '"')
			if k < 0 {
				i = n
				break
			}
			q := i + k
			if q+1 >= n {
				if final {
					return n // a quote at the end closes its field
				}
				i = q // the next byte decides
				break
			}
			switch c := src[q+1]; c {
			case '"':
				i = q + 2
			case delim:
				sc.inQuote, sc.atField = false, true
				i = q + 2
			case '\n':
				sc.inQuote = false
				return q + 2
			case '\r':
				if q+2 >= n {
					if final {
						return n
					}
					i = q
					goto more
				}
				sc.inQuote = false
				if src[q+2] == '\n' {
					return q + 3
				}
				return q + 2 // a lone CR ends the record too
			default:
				i = q + 1 // a plain quote inside the field
			}
			continue
		}
		if sc.atField {
			if src[i] == '"' {
				sc.inQuote, sc.quote, sc.atField = true, i, false
				i++
				continue
			}
			// Fast path: a line without quotes (or a lone CR) ends the
			// record.
			if nl := bytes.IndexByte(src[i:], '\n'); nl >= 0 && bytes.IndexByte(src[i:i+nl], '"') < 0 {
				if cr := bytes.IndexByte(src[i:i+nl], '\r'); cr < 0 || cr == nl-1 {
					return i + nl + 1
				}
			}
		}
		sc.atField = false
		for i < n {
			c := src[i]
			i++
			if c == '\n' {
				return i
			}
			if c == '\r' {
				// CRLF, or a lone CR (classic Mac exports): both end the
				// record. A CR at the end of src waits for the next byte.
				if i < n {
					if src[i] == '\n' {
						return i + 1
					}
					return i
				}
				if final {
					return n
				}
				i--
				goto more
			}
			if c == delim {
				sc.atField = true
				break
			}
		}
	}
more:
	sc.pos = i
	if !final {
		return -1
	}
	if sc.inQuote {
		// Never closed: resynchronise at the next line.
		if k, w := lineBreak(src[sc.quote:]); k >= 0 {
			return sc.quote + k + w
		}
		return n
	}
	if n > rs {
		return n
	}
	return -1
}

// csv redacts CSV records in place: each cell as text, a cell holding JSON as
// JSON, and every cell of a column whose header is a sensitive name. Quoting
// and every byte outside a changed span are preserved. A record longer than
// MaxDocument is refused with ErrTooLarge.
func (w *Writer) csv(final bool) error {
	if w.delim == 0 {
		nl, _ := lineBreak(w.buf)
		if nl < 0 && !final {
			return w.checkRecord()
		}
		if nl < 0 {
			nl = len(w.buf)
		}
		w.delim = csvDelimiter(bytes.TrimPrefix(w.buf[:nl], utf8BOM))
	}
	st := w.st
	ends := w.recEnds[:0]
	rs := 0
	if !w.csvScan.started && w.base == 0 && bytes.HasPrefix(w.buf, utf8BOM) {
		w.csvScan = csvScan{pos: len(utf8BOM), atField: true, started: true}
	}
	for rs < len(w.buf) {
		re := scanRecord(w.buf, rs, w.delim, &w.csvScan, final)
		if re < 0 {
			break
		}
		ends = append(ends, re)
		rs = re
		w.csvScan = csvScan{}
	}
	w.recEnds = ends
	end := rs
	if end > 0 {
		src := w.buf[:end]
		b := w.top(src)
		st.edits = st.edits[:0]
		st.repl = st.repl[:0]
		rs := 0
		for _, re := range ends {
			cs := rs
			if w.base == 0 && rs == 0 && bytes.HasPrefix(src, utf8BOM) {
				cs = len(utf8BOM)
			}
			if !w.sawHead {
				w.sawHead = true
				w.readHeader(b, cs, re)
				if b.hasHits(rs, re) {
					w.record(b, cs, re, false) // header cells are data too
				}
			} else if w.header != nil || b.mayHold(rs, re) {
				w.record(b, cs, re, true)
			}
			rs = re
		}
		w.emitEdits(src, st.edits)
		w.consume(end)
		if w.csvScan.started {
			w.csvScan.pos -= end
			w.csvScan.quote -= end
		}
	}
	if !final {
		return w.checkRecord()
	}
	return nil
}

// checkRecord refuses a CSV record that has grown past MaxDocument.
func (w *Writer) checkRecord() error {
	if len(w.buf) <= w.r.maxDoc {
		return nil
	}
	hint := ""
	if w.csvScan.inQuote {
		hint = fmt.Sprintf(" (a quoted field opened at byte %d has not closed)", w.base+int64(w.csvScan.quote))
	}
	return fmt.Errorf("redactor: csv record at byte %d is longer than the maximum document size (%d bytes)%s: %w", w.base, w.r.maxDoc, hint, ErrTooLarge)
}

// readHeader notes which columns are named like secrets.
func (w *Writer) readHeader(b *buffer, rs, re int) {
	any := false
	cols := []int32{}
	forCells(b.src, rs, re, w.delim, func(s, e int, q bool) {
		name := b.src[s:e]
		if q {
			name = bytes.ReplaceAll(name, []byte(`""`), []byte(`"`))
		}
		r := w.st.r.c.keyRule(bytes.TrimSpace(name))
		cols = append(cols, r)
		any = any || r >= 0
	})
	if any {
		w.header = cols
	}
}

func (w *Writer) record(b *buffer, rs, re int, byHeader bool) {
	st := w.st
	// A name/value pair object written unquoted in a record
	// ({"name":"DB_PASSWORD","value":"..."}) is cut apart by the
	// delimiter: it is walked whole first, and the cells' edits are merged
	// with its edits.
	first, pairs := len(st.edits), false
	if b.names && st.depth < maxNest && b.hasHits(rs, re) && hasQuotedFold(b.src[rs:re], `"value`) {
		st.pairObjs = st.pairObjs[:0]
		st.walkPairObjects(b, rs, re, re, &st.edits)
		pairs = len(st.pairObjs) > 0
	}
	if pairs {
		defer func() {
			tail := st.edits[first:]
			slices.SortFunc(tail, func(x, y edit) int { return x.start - y.start })
			st.edits = append(st.edits[:first], trimOverlaps(tail)...)
		}()
	}
	col := 0
	forCells(b.src, rs, re, w.delim, func(s, e int, q bool) {
		kr := int32(-1)
		if byHeader && col < len(w.header) {
			kr = w.header[col]
		}
		col++
		if kr >= 0 && s < e && !isPlaceholder(b.src[s:e]) {
			st.spans = append(st.spans, span{start: s, end: e, rule: kr})
			st.flushSpans(b, &st.edits)
			return
		}
		if !b.mayHold(s, e) {
			return
		}
		if !q || !bytes.Contains(b.src[s:e], []byte(`""`)) {
			st.cell(b, s, e, &st.edits)
			return
		}
		// Quoted cell with "" escapes: unescape, redact, map back.
		st.depth++
		nb := st.nestedBuf()
		nb.parent = b
		for i := s; i < e; i++ {
			nb.src = append(nb.src, b.src[i])
			nb.pmap = append(nb.pmap, int32(i))
			if b.src[i] == '"' && i+1 < e && b.src[i+1] == '"' {
				i++
			}
		}
		st.prepare(nb)
		var inner []edit
		st.cell(nb, 0, len(nb.src), &inner)
		for _, ed := range inner {
			ed.start = int(nb.pmap[ed.start])
			if ed.end < len(nb.pmap) {
				ed.end = int(nb.pmap[ed.end])
			} else {
				ed.end = e
			}
			st.edits = append(st.edits, ed)
		}
		st.depth--
	})
}

// cell redacts one cell's content, as JSON when it holds JSON.
func (st *state) cell(b *buffer, s, e int, out *[]edit) {
	t := bytes.TrimLeft(b.src[s:e], " \t")
	if len(t) > 0 && (t[0] == '{' || t[0] == '[') && validJSON(b.src[s:e]) {
		st.walkJSON(b, s, e, out)
		return
	}
	st.detectText(b, s, e, e, modeText, out)
}

// forCells calls fn with the content span of each cell of the record
// src[rs:re] (quotes excluded) and whether the cell was quoted, parsing as
// scanRecord does: a quoted field ends at a quote followed by the delimiter
// or the end of the record; one that does not end there (a record
// resynchronised after a quote that never closed) is a plain field that
// starts at its quote.
func forCells(src []byte, rs, re int, delim byte, fn func(s, e int, quoted bool)) {
	end := re
	if end > rs && src[end-1] == '\n' {
		end--
	}
	if end > rs && src[end-1] == '\r' {
		end--
	}
	i := rs
	for {
		closed := -1
		if i < end && src[i] == '"' {
			for j := i + 1; j < end; {
				k := bytes.IndexByte(src[j:end], '"')
				if k < 0 {
					break
				}
				q := j + k
				if q+1 < end && src[q+1] == '"' {
					j = q + 2
					continue
				}
				if q+1 == end || src[q+1] == delim {
					closed = q
					break
				}
				j = q + 1
			}
		}
		if closed >= 0 {
			fn(i+1, closed, true)
			i = closed + 1
		} else {
			j := i + indexOr(src[i:end], delim, end-i)
			fn(i, j, false)
			i = j
		}
		if i >= end {
			return
		}
		i++ // the delimiter
	}
}

// looksCSV reports whether t starts like a delimited file: a header line and
// at least one more line (the last one may lack its line break when complete
// says t is the whole input) with the same number (two or more) of fields
// under the header's delimiter. With a delimiter other than a comma, the
// header's cells must look like column names, since logs also use '|' and
// tabs between columns.
func looksCSV(t []byte, complete bool) bool {
	t = bytes.TrimPrefix(t, utf8BOM)
	nl, _ := lineBreak(t)
	if nl < 0 {
		nl = len(t)
	}
	delim := csvDelimiter(t[:nl])
	if delim != ',' && !csvHeaderNames(t[:nl], delim) {
		return false
	}
	fields, lines := -1, 0
	for len(t) > 0 && lines < 5 {
		var sc csvScan
		re := scanRecord(t, 0, delim, &sc, complete)
		if re < 0 {
			if lines > 0 && sc.inQuote {
				return true // a quoted field spans lines: typical of CSV
			}
			break
		}
		n := 0
		forCells(t, 0, re, delim, func(int, int, bool) { n++ })
		if n < 2 || (fields >= 0 && n != fields) {
			return false
		}
		fields = n
		lines++
		t = t[re:]
	}
	return lines >= 2
}

// csvHeaderNames reports whether every cell of a header line is a short
// column name: letters, digits, blanks and _ - . ( ) / #, not starting with
// a digit (a log line starts with a timestamp).
func csvHeaderNames(line []byte, delim byte) bool {
	ok := true
	forCells(line, 0, len(line), delim, func(s, e int, _ bool) {
		name := bytes.TrimSpace(line[s:e])
		if len(name) == 0 || len(name) > 64 || name[0]-'0' < 10 {
			ok = false
			return
		}
		for _, c := range name {
			if !(isAlpha(c) || c-'0' < 10 || c >= 0x80 || bytes.IndexByte([]byte(" _-.()/#"), c) >= 0) {
				ok = false
				return
			}
		}
	})
	return ok
}

// lineBreak returns the index of the first line break in b (LF, CRLF or a
// lone CR) and its width, or -1, 0. A CR at the end of b counts as a lone CR.
func lineBreak(b []byte) (int, int) {
	k := bytes.IndexAny(b, "\r\n")
	if k < 0 {
		return -1, 0
	}
	if b[k] == '\r' && k+1 < len(b) && b[k+1] == '\n' {
		return k, 2
	}
	return k, 1
}
