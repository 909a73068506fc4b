package redactor

import "bytes"

// Multi-line secrets (PEM and OpenSSH private keys, PGP private key blocks,
// the keys of certificate bundles) are masked from their BEGIN armor line to
// their END line whatever their length: a rule's regex only runs on a window
// of Rule.After bytes around its keyword, so a match that opens with an
// armor line is extended here to the END line. A block with no END line is
// masked to the end of what is being scanned (a JSON string, a CSV cell, an
// NDJSON line, or the rest of a text input: see Writer.text).

var (
	armorBegin = []byte("-----BEGIN ")
	armorEnd   = []byte("-----END")
)

// blockState is the detection state for multi-line blocks.
type blockState struct {
	// limit is the end of the range being scanned (detectValue's e): a
	// block never extends past it.
	limit int
	// stop, when positive, is where a block with no END line stops in the
	// top-level buffer, which is not the end of the input (a streamed text
	// chunk); open is then set.
	stop int
	open bool
}

// extendBlock returns where the secret of a match that opens with an armor
// line ends: before the END line (and the line break before it), or at the
// end of the range when there is none.
func (st *state) extendBlock(b *buffer, secretEnd int) int {
	limit := min(st.block.limit, len(b.src))
	if secretEnd >= limit {
		return secretEnd
	}
	if p := bytes.Index(b.src[secretEnd:limit], armorEnd); p >= 0 {
		return max(secretEnd, trimBreaks(b.src, secretEnd, secretEnd+p))
	}
	if b.parent == nil && st.block.stop > 0 && st.block.stop < limit {
		st.block.open = true
		return max(secretEnd, st.block.stop)
	}
	return limit
}

// trimBreaks moves end back over the blanks and line breaks, raw or escaped
// (\n, \r, \\n), that precede it, down to from.
func trimBreaks(src []byte, from, end int) int {
	for end > from {
		switch c := src[end-1]; {
		case c == '\n' || c == '\r' || c == ' ' || c == '\t':
			end--
		case (c == 'n' || c == 'r') && end-2 >= from && src[end-2] == '\\':
			end -= 2
			for end > from && src[end-1] == '\\' {
				end--
			}
		default:
			return end
		}
	}
	return end
}

// maskBlockRest masks the start of w.buf while inside a block that an
// earlier chunk opened: up to its END line, or all of the buffer but a tail
// that may hold the start of a split END line (all of it when final). The
// replacement is the masked bytes' line breaks, so that line numbers stay
// true; the block's label was written when it opened.
func (w *Writer) maskBlockRest(final bool) {
	end := len(w.buf)
	if p := bytes.Index(w.buf, armorEnd); p >= 0 {
		end = trimBreaks(w.buf, 0, p)
		w.inBlock = false
	} else if !final {
		end = max(0, end-len(armorEnd))
	}
	for _, c := range w.buf[:end] {
		if c == '\n' {
			w.out = append(w.out, '\n')
		}
	}
	w.consume(end)
}
