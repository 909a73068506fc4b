package redactor

import "bytes"

// position is a cursor over a top-level buffer that turns byte offsets into
// line and column numbers. Findings arrive in input order, so counting from
// the previous finding instead of from the start of the buffer keeps a scan
// linear however many findings a line holds (issue 17.8). The zero value
// is at the start of the buffer.
type position struct {
	ok        bool
	pos       int // the cursor's offset in src
	line      int // line number at pos
	lineStart int // offset in src where that line starts; negative when it started in an earlier chunk
}

// position returns the 1-based line and byte column of src[pos] of the top
// buffer b. The column counts from the start of the line in the input, also
// when the line started in an earlier chunk (issue 17.10).
func (b *buffer) position(pos int) (line, col int) {
	c := &b.cur
	if !c.ok || pos < c.pos {
		*c = position{ok: true, line: b.line, lineStart: -b.col0}
	}
	seg := b.src[c.pos:pos]
	if n := bytes.Count(seg, []byte{'\n'}); n > 0 {
		c.line += n
		c.lineStart = c.pos + bytes.LastIndexByte(seg, '\n') + 1
	}
	c.pos = pos
	return c.line, pos - c.lineStart + 1
}
