package redactor

import (
	"bytes"
)

// csv redacts CSV records in place: each cell as text, a cell holding JSON as
// JSON, and every cell of a column whose header is a sensitive name. Quoting
// and every byte outside a changed span are preserved.
func (w *Writer) csv(final bool) {
	st := w.st
	if w.longLine {
		// Inside an over-long record: text rules until the record ends.
		w.lines(final) // streams text until the next newline
		if w.longLine {
			return
		}
	}
	end := len(w.buf)
	if !final {
		end = lastRecordEnd(w.buf)
		if end == 0 {
			if len(w.buf) > w.r.maxDoc {
				w.longLine = true
				w.streamLongLine()
			}
			return
		}
	}
	src := w.buf[:end]
	b := w.top(src)
	st.edits = st.edits[:0]
	st.repl = st.repl[:0]
	for rs := 0; rs < end; {
		re := recordEnd(src, rs)
		if !w.sawHead {
			w.sawHead = true
			w.readHeader(b, rs, re)
			if b.hasHits(rs, re) {
				w.record(b, rs, re, false) // header cells are data too
			}
		} else if w.header != nil || b.mayHold(rs, re) {
			w.record(b, rs, re, true)
		}
		rs = re
	}
	w.out = st.apply(w.out, src, st.edits)
	w.consume(end)
}

// readHeader notes which columns are named like secrets.
func (w *Writer) readHeader(b *buffer, rs, re int) {
	any := false
	cols := []int32{}
	forCells(b.src, rs, re, func(s, e int, q, cont bool) {
		if cont {
			return
		}
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
	col := 0
	forCells(b.src, rs, re, func(s, e int, q, cont bool) {
		kr := int32(-1)
		if cont {
			col-- // the same cell again
		}
		if byHeader && col < len(w.header) {
			kr = w.header[col]
		}
		col++
		if kr >= 0 && !isPlaceholder(b.src[s:e]) {
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
	st.detectRange(b, s, e, modeText)
	st.flushSpans(b, out)
}

// forCells calls fn with the content span of each cell of the record
// src[rs:re] (quotes excluded) and whether the cell was quoted; cont marks
// stray bytes after a closing quote, which belong to the previous cell.
func forCells(src []byte, rs, re int, fn func(s, e int, quoted, cont bool)) {
	end := re
	for end > rs && (src[end-1] == '\n' || src[end-1] == '\r') {
		end--
	}
	i := rs
	for {
		if i < end && src[i] == '"' {
			j := i + 1
			for j < end {
				if src[j] == '"' {
					if j+1 < end && src[j+1] == '"' {
						j += 2
						continue
					}
					break
				}
				j++
			}
			fn(i+1, j, true, false)
			i = j + 1
			// Malformed: bytes between the closing quote and the comma
			// are still scanned, as part of the same cell.
			junk := i
			for i < end && src[i] != ',' {
				i++
			}
			if i > junk {
				fn(junk, i, false, true)
			}
		} else {
			j := i + indexOr(src[i:end], ',', end-i)
			fn(i, j, false, false)
			i = j
		}
		if i >= end {
			return
		}
		i++ // the comma
	}
}

// recordEnd returns the end (after the newline) of the record starting at i.
func recordEnd(src []byte, i int) int {
	inQ := false
	for j := i; j < len(src); j++ {
		switch src[j] {
		case '"':
			inQ = !inQ
		case '\n':
			if !inQ {
				return j + 1
			}
		}
	}
	return len(src)
}

// lastRecordEnd returns the end of the last complete record in src, 0 if
// none is complete.
func lastRecordEnd(src []byte) int {
	inQ := false
	last := 0
	for j, c := range src {
		switch c {
		case '"':
			inQ = !inQ
		case '\n':
			if !inQ {
				last = j + 1
			}
		}
	}
	return last
}
