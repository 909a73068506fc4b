package redactor

import "slices"

// maxFound caps the values remembered per window for propagate: a window
// with more secrets than that is masked rule by rule only beyond it.
const maxFound = 4096

// propagate masks, in src (the window's input, or decoded content one
// level down), every occurrence of a value that a rule masked somewhere in
// the window and that edits leave visible: a token logged twice, the
// second time without its key name (acme token = 'X' | 'X'). Occurrences
// are found with the matcher of known values, limited to the value and its
// JSON- and URL-escaped forms (base64 and hex forms would cost a sampling
// step of one byte for short values, on every window that holds a secret). Each occurrence
// is masked with the label of the rule that found the value; the parts of
// it that an edit already covers stay as they are. It returns edits with
// the new ones merged in, sorted.
//
// It costs nothing in a window where no rule masked anything, and one
// matcher build and pass over src where one did.
func (st *state) propagate(src []byte, edits []edit) []edit {
	from := 0
	if st.depth > 0 && st.depth < len(st.nested) {
		from = st.nested[st.depth].foundFrom
	}
	if from >= len(st.foundVals) {
		return edits
	}
	vals := st.foundList[:0]
	for _, f := range st.foundVals[from:] {
		vals = append(vals, st.found[f.off:f.off+f.n])
	}
	st.foundList = vals
	st.builder.Plain = true
	set := st.builder.Build(vals)
	st.foundHits = set.Append(st.foundHits[:0], src)
	if len(st.foundHits) == 0 {
		return edits
	}
	// Edits are sorted and disjoint: find the parts of each occurrence
	// they leave visible.
	pieces := st.pieces[:0]
	for _, m := range st.foundHits {
		p := m.Start
		i, _ := slices.BinarySearchFunc(edits, m.Start, func(e edit, s int) int { return e.end - s - 1 })
		for ; i < len(edits) && edits[i].start < m.End; i++ {
			if edits[i].end <= p {
				continue
			}
			if edits[i].start > p {
				pieces = append(pieces, span{start: p, end: edits[i].start, rule: int32(m.Value)})
			}
			p = max(p, edits[i].end)
		}
		if p < m.End {
			pieces = append(pieces, span{start: p, end: m.End, rule: int32(m.Value)})
		}
	}
	st.pieces = pieces
	if len(pieces) == 0 {
		return edits
	}
	slices.SortFunc(pieces, func(x, y span) int { return x.start - y.start })
	b := &st.top
	if st.depth > 0 {
		b = st.nested[st.depth]
	}
	first := len(edits)
	for i := 0; i < len(pieces); {
		cur := pieces[i]
		j := i + 1
		for ; j < len(pieces) && pieces[j].start <= cur.end; j++ {
			cur.end = max(cur.end, pieces[j].end)
		}
		i = j
		fv := st.foundVals[from+int(cur.rule)]
		rl := &st.r.c.rules[fv.rule]
		off := len(st.repl)
		// The label is the one the value got where it was found (a hash
		// mask is computed from the value, not from its encoded form).
		st.repl = st.r.label(st.repl, rl, st.found[fv.off:fv.off+fv.n])
		for _, ch := range src[cur.start:cur.end] {
			if ch == '\n' {
				st.repl = append(st.repl, '\n')
			}
		}
		edits = append(edits, edit{start: cur.start, end: cur.end, off: off, n: len(st.repl) - off})
		st.counts[fv.rule]++
		st.total++
		if st.onFind != nil {
			st.find(b, span{start: cur.start, end: cur.end, rule: fv.rule}, rl, 0)
		}
	}
	if first > 0 {
		slices.SortFunc(edits, func(x, y edit) int { return x.start - y.start })
	}
	return edits
}

// spreadable reports whether a masked value is distinctive enough to mask
// wherever else it occurs: it mixes character classes as tokens and
// passwords do (letters with digits or symbols, or upper-case letters
// inside a word). A plain word or phrase ("disabled", "Not configured") or
// a run of digits ("20240101") that a key-name rule masked is a secret
// where it was found, but the same word elsewhere is most likely prose or
// a date, so it is not spread.
func spreadable(v []byte) bool {
	var digit, letter, sym, innerUpper bool
	for i, c := range v {
		switch {
		case c-'0' < 10:
			digit = true
		case c-'a' < 26:
			letter = true
		case c-'A' < 26:
			letter = true
			innerUpper = innerUpper || (i > 0 && isAlpha(v[i-1]))
		case c == ' ' || c == '-' || c == '_' || c == '.':
		default:
			sym = true
		}
	}
	return (letter && (digit || sym || innerUpper)) || (digit && sym)
}
