package redactor

import (
	"slices"

	"github.com/flowmask/flowmask/patterns"
)

// pairWindow bounds how far from a credential name the search for a
// name/value pair object goes: back to its opening brace and on to the
// "value" member.
const pairWindow = 512

// pairObjectMax bounds the length of a name/value pair object found in
// text: a pair is a few members, not a document.
const pairObjectMax = 64 << 10

// escapedPairMax bounds a pair object whose quotes are escaped (\"), which
// is unescaped before its end is known.
const escapedPairMax = 8 << 10

// walkPairObjects finds name/value pair objects ({"name":"DB_PASSWORD",
// "value":"..."}, the shape of Logic Apps and ARM parameters and app
// settings) in the text b.src[a:e], whose quotes may be raw or escaped once
// (\" inside a JSON string), and walks each as JSON so that the JSON rules
// mask its value; text rules alone do not know the pair. Only objects
// around a credential-name keyword hit with a "value" member near it are
// looked at, so clean text costs nothing more. Each object walked is added
// to st.pairObjs.
func (st *state) walkPairObjects(b *buffer, a, e, limit int, out *[]edit) {
	c := st.r.c
	src := b.src
	done := a // objects end before done; later hits start after it
	// A try scans for the object's end, up to pairObjectMax bytes when
	// the object never closes; the bytes all tries scan are bounded by a
	// multiple of the range, so that many unclosed braces near credential
	// names cannot make the pass quadratic. Past the budget, text rules
	// alone apply (and a closed pair costs only its length).
	budget := 4*(e-a) + pairObjectMax
	lastTry := -1
	i, _ := slices.BinarySearchFunc(b.hits, int32(a), func(h kwHit, p int32) int { return int(h.pos - p) })
	for ; i < len(b.hits) && int(b.hits[i].pos) < limit; i++ {
		h := b.hits[i]
		hs := int(h.pos)
		if hs < done || !c.pairName[h.word] {
			continue
		}
		end := hs + len(c.words[h.word])
		for end < e && patterns.IsNameSeparator(src[end]) {
			end++
		}
		if end >= e || (src[end] != '"' && !(src[end] == '\\' && end+1 < e && src[end+1] == '"')) {
			continue // not the end of a quoted string
		}
		if !hasQuotedFold(src[max(a, hs-pairWindow):min(e, end+pairWindow)], `"value`) {
			continue
		}
		os := objectStart(src, max(a, hs-pairWindow), hs)
		if os < 0 || os >= limit || os == lastTry {
			continue
		}
		lastTry = os
		if budget < 0 {
			return
		}
		oe, scanned := st.walkPairObject(b, os, min(e, os+pairObjectMax), out)
		budget -= scanned
		if oe > 0 {
			st.pairObjs = append(st.pairObjs, span{start: os, end: oe})
			done = oe
		}
	}
}

// objectStart returns the last '{' in src[lo:hi] with no '}' after it, or
// -1.
func objectStart(src []byte, lo, hi int) int {
	for j := hi - 1; j >= lo; j-- {
		switch src[j] {
		case '{':
			return j
		case '}':
			return -1
		}
	}
	return -1
}

// walkPairObject walks the JSON object that starts at b.src[os] and ends
// before e, its quotes raw or escaped as \", and returns where it ends in
// b.src, or 0 when it is not a valid JSON object, and how many bytes it
// scanned.
func (st *state) walkPairObject(b *buffer, os, e int, out *[]edit) (end, scanned int) {
	src := b.src
	j := skipWS(src, os+1, e)
	if j < e && src[j] != '\\' {
		oe := firstValueEnd(src[os:e])
		if oe < 0 {
			return 0, e - os
		}
		if !validJSON(src[os : os+oe]) {
			return 0, oe
		}
		st.walkJSON(b, os, os+oe, out)
		return os + oe, oe
	}
	// Escaped quotes (a pair in a log line's JSON string, short):
	// unescape, find the object's end in the decoded bytes, walk it in a
	// nested buffer and map the edits back.
	e = min(e, os+escapedPairMax)
	scanned = e - os
	st.depth++
	defer func() { st.depth-- }()
	nb := st.nestedBuf()
	nb.src, nb.pmap = unescapeMap(nb.src[:0], nb.pmap[:0], src[os:e], os)
	oe := firstValueEnd(nb.src)
	if oe < 0 || !validJSON(nb.src[:oe]) {
		return 0, scanned
	}
	rawEnd := e
	if oe < len(nb.pmap) {
		rawEnd = int(nb.pmap[oe])
	}
	nb.src, nb.pmap = nb.src[:oe], nb.pmap[:oe]
	nb.parent, nb.jsonString = b, true
	st.prepare(nb)
	var inner []edit
	st.walkJSON(nb, 0, len(nb.src), &inner)
	for _, ed := range inner {
		ed.start = int(nb.pmap[ed.start])
		if ed.end < len(nb.pmap) {
			ed.end = int(nb.pmap[ed.end])
		} else {
			ed.end = rawEnd
		}
		*out = append(*out, ed)
	}
	return rawEnd, scanned
}

// insideAny reports whether sp lies wholly inside one of ranges.
func insideAny(sp span, ranges []span) bool {
	for _, r := range ranges {
		if r.start <= sp.start && sp.end <= r.end {
			return true
		}
	}
	return false
}

// trimOverlaps makes sorted edits disjoint: an edit inside the one before
// it is dropped, and one that starts inside it starts where it ends (both
// masks are written, so every byte of the union stays replaced).
func trimOverlaps(edits []edit) []edit {
	k := 0
	for _, ed := range edits {
		if k > 0 {
			prev := edits[k-1]
			if ed.end <= prev.end {
				continue
			}
			if ed.start < prev.end {
				ed.start = prev.end
			}
		}
		edits[k] = ed
		k++
	}
	return edits[:k]
}
