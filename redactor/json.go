package redactor

import (
	"bytes"
	"crypto/md5"
	"encoding/base64"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/flowmask/flowmask/patterns"
	"github.com/valyala/fastjson"
)

// maxNest bounds how deep strings holding JSON or base64 are opened.
const maxNest = 6

// validJSON reports whether b is exactly one strict JSON value, except that
// raw control characters are tolerated: some loggers write them inside
// strings, the walker treats them as plain bytes (or blanks between
// tokens), and masking one would otherwise turn a document that was scanned
// as text into one walked as JSON on a second pass. fastjson validates at
// several hundred MB/s and rejects what its parser tolerates (NaN, leading
// zeros, ...).
func validJSON(b []byte) bool {
	if len(bytes.TrimSpace(b)) == 0 {
		return false
	}
	if fastjson.ValidateBytes(b) == nil {
		return true
	}
	if !hasControl(b) {
		return false // nothing to tolerate: no copy of a long record
	}
	if end := firstValueEnd(b); end >= 0 && slices.ContainsFunc(b[end:], func(c byte) bool { return c > ' ' }) {
		return false // more than one value (NDJSON taken for a document)
	}
	tmp, changed := bytes.Clone(b), false
	for i, c := range tmp {
		if c < 0x20 {
			tmp[i], changed = ' ', true
		}
	}
	return changed && fastjson.ValidateBytes(tmp) == nil
}

// hasControl reports whether b holds a byte below 0x20.
func hasControl(b []byte) bool {
	for _, c := range b {
		if c < 0x20 {
			return true
		}
	}
	return false
}

// jsonWalker walks one valid JSON value at token level. Only string values
// can change; everything else is copied byte for byte by apply.
type jsonWalker struct {
	st  *state
	b   *buffer
	out *[]edit
	// key is the start of the current value's key (its opening quote), or
	// -1: rules keyed on a name see "name": "value" together.
	key int
}

// walkJSON walks the valid JSON value in b.src[a:e] and appends edits.
func (st *state) walkJSON(b *buffer, a, e int, out *[]edit) {
	w := jsonWalker{st: st, b: b, out: out, key: -1}
	w.value(a, e, -1)
}

func (w *jsonWalker) ws(i, e int) int { return skipWS(w.b.src, i, e) }

// skipWS skips JSON blanks, and the raw control characters validJSON
// tolerates.
func skipWS(src []byte, i, e int) int {
	for i < e && (src[i] == ' ' || src[i] < 0x20) {
		i++
	}
	return i
}

// value walks the value at i; keyRule is the keyname rule of the key it sits
// under (-1 for none). It returns the index after the value.
func (w *jsonWalker) value(i, e int, keyRule int32) int {
	i = w.ws(i, e)
	if i >= e {
		return e
	}
	switch w.b.src[i] {
	case '{':
		return w.object(i+1, e, keyRule)
	case '[':
		return w.array(i+1, e, keyRule)
	case '"':
		end, esc := stringEnd(w.b.src, i+1, e)
		w.str(i+1, end, esc, keyRule, nil)
		return end + 1
	default:
		start := i
		for i < e {
			switch w.b.src[i] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				w.number(start, i, keyRule)
				return i
			}
			i++
		}
		w.number(start, i, keyRule)
		return i
	}
}

// number masks the number src[s:e] under a sensitive key
// ({"password":48291573610}, {"pwd":4829}): fail closed, a numeric secret
// is a secret. The mask replaces it as a JSON string, so the document stays
// valid but the value's type changes. true, false and null stay.
func (w *jsonWalker) number(s, e int, keyRule int32) {
	if keyRule < 0 || s >= e || w.st.r.c.rules[keyRule].random {
		return // rules gated by the randomness test ({"key":3}) keep numbers
	}
	if c := w.b.src[s]; c != '-' && (c < '0' || c > '9') {
		return
	}
	st := w.st
	n := len(*w.out)
	st.spans = append(st.spans, span{start: s, end: e, rule: keyRule})
	st.flushSpans(w.b, w.out)
	w.quoteEdits(n)
}

// quoteEdits writes the masks of (*w.out)[n:], which replace numbers, as
// JSON strings. In a JSON document held in a JSON string ("{\"pin\":1}")
// the quotes are escaped once per level, so every enclosing document stays
// valid; in other nested text (a quoted CSV cell, a decoded text line) the
// mask is written bare rather than risk a quote that ends the enclosing
// field.
func (w *jsonWalker) quoteEdits(n int) {
	st := w.st
	q := []byte{'"'}
	for b := w.b; b != nil && b.parent != nil; b = b.parent {
		if !b.jsonString {
			return
		}
		var e []byte
		for _, c := range q {
			if c == '"' || c == '\\' {
				e = append(e, '\\')
			}
			e = append(e, c)
		}
		q = e
	}
	for k := n; k < len(*w.out); k++ {
		ed := &(*w.out)[k]
		off := len(st.repl)
		st.repl = append(st.repl, q...)
		st.repl = append(st.repl, st.repl[ed.off:ed.off+ed.n]...)
		st.repl = append(st.repl, q...)
		ed.off, ed.n = off, len(st.repl)-off
	}
}

// object walks the object whose members start at i. keyRule is the keyname
// rule of the key the object sits under (-1 for none): an ARM or Logic Apps
// parameter ({"adminPassword": {"type": "securestring", "value": "..."}})
// holds its secret in a value member, which is masked under that rule.
func (w *jsonWalker) object(i, e int, keyRule int32) int {
	src := w.b.src
	st := w.st
	var contentType []byte
	var link contentLink
	pair := namedPair{rule: -1, vs: -1}
	first := len(*w.out)
	for {
		i = w.ws(i, e)
		if i >= e {
			return e
		}
		if src[i] == '}' {
			if link.newContent != nil {
				w.fixLink(&link, first)
			}
			if pair.rule >= 0 && pair.vs >= 0 {
				w.maskPair(&pair, first)
			}
			return i + 1
		}
		if src[i] == ',' {
			i++
			continue
		}
		// Key.
		ks := i + 1
		ke, kesc := stringEnd(src, ks, e)
		key := src[ks:ke]
		if kesc {
			key = unescapeSimple(key)
		}
		keyMasked := false
		if b := w.b; b.mayHold(ks, ke) {
			// A key is data too: one that holds a secret is masked.
			n := len(*w.out)
			w.str(ks, ke, kesc, -1, nil)
			keyMasked = len(*w.out) > n
		}
		i = w.ws(ke+1, e)
		if i < e && src[i] == ':' {
			i++
		}
		rl := int32(-1)
		if w.b.names || (kesc && w.b.disguised) {
			rl = st.r.c.keyRule(key)
		}
		if rl < 0 && keyRule >= 0 && isParameterValueKey(key) {
			rl = keyRule
		}
		if rl < 0 && len(st.path) > 0 && isQueriesKey(st.path[len(st.path)-1]) {
			rl = st.r.c.queryKeyRule(key)
		}
		st.path = append(st.path, pathElem{key: key, masked: keyMasked})
		vi := w.ws(i, e)
		if vi < e && src[vi] == '"' && (w.b.content || st.depth > 0 || w.b.disguised) && rl < 0 {
			switch string(key) {
			case "$content-type":
				end, esc := stringEnd(src, vi+1, e)
				contentType = src[vi+1 : end]
				w.str(vi+1, end, esc, -1, nil) // data like any other
				i = end + 1
				st.path = st.path[:len(st.path)-1]
				continue
			case "$content":
				end, esc := stringEnd(src, vi+1, e)
				w.str(vi+1, end, esc, -1, contentTypeOrSniff(contentType))
				i = end + 1
				st.path = st.path[:len(st.path)-1]
				continue
			}
		}
		if vi < e && rl < 0 && src[vi] != '"' && isValueKey(key) && (src[vi] == '-' || src[vi] >= '0' && src[vi] <= '9') {
			// {"name": "DB_PIN", "value": 7382910475}: a number is a value too.
			pair.vs, pair.ve, pair.esc, pair.num = vi, numberEnd(src, vi, e), false, true
		}
		if vi < e && src[vi] == '"' && rl < 0 {
			// {"name": "DB_PASSWORD", "value": "..."}: remember both sides.
			switch string(key) {
			case "name", "Name", "key", "Key":
				if st.r.c.hasNames {
					end, esc := stringEnd(src, vi+1, e)
					name := src[vi+1 : end]
					if esc {
						name = unescapeSimple(name)
					}
					pair.rule = st.r.c.keyRule(name)
				}
			case "value", "Value":
				end, esc := stringEnd(src, vi+1, e)
				pair.vs, pair.ve, pair.esc, pair.num = vi+1, end, esc, false
			}
		}
		if rl < 0 && vi < e && st.depth < maxNest {
			if handled, next := w.linkField(&link, key, vi, e); handled {
				i = next
				st.path = st.path[:len(st.path)-1]
				continue
			}
		}
		w.key = ks - 1
		i = w.value(i, e, rl)
		w.key = -1
		st.path = st.path[:len(st.path)-1]
	}
}

// isParameterValueKey reports whether key is the member of an ARM or Logic
// Apps parameter object that holds the parameter's value.
func isParameterValueKey(key []byte) bool {
	switch string(key) {
	case "value", "Value", "defaultValue", "DefaultValue":
		return true
	}
	return false
}

// isQueriesKey reports whether p is the queries member of a Logic Apps HTTP
// action's inputs, an object of URL query parameters.
func isQueriesKey(p pathElem) bool {
	return !p.arr && string(p.key) == "queries"
}

// queryKeyRule returns the rule that masks the URL query parameter key when
// it is held in a queries object ({"queries":{"code":"<function key>"}}):
// code and sig are masked by the rules that mask them in a URL; -1 for
// other keys, or when that rule is disabled.
func (c *compiled) queryKeyRule(key []byte) int32 {
	var id string
	switch strings.ToLower(string(key)) {
	case "code":
		id = "azure-functions-code-param"
	case "sig":
		id = "azure-sas-url-signature"
	default:
		return -1
	}
	for i := range c.rules {
		if c.rules[i].id == id {
			return int32(i)
		}
	}
	return -1
}

// namedPair is an object naming a setting in one field and holding its value
// in another: Logic Apps variables, App Service settings, Kubernetes env.
type namedPair struct {
	rule   int32 // keyname rule of the name, -1 if not sensitive
	vs, ve int   // the value string's content (or the number), vs -1 if none
	esc    bool
	num    bool // the value is a JSON number: its mask is written as a string
}

// isValueKey reports whether key is the value member of a name/value pair.
func isValueKey(key []byte) bool {
	return string(key) == "value" || string(key) == "Value"
}

// numberEnd is the end of the bare JSON value (a number) starting at i.
func numberEnd(src []byte, i, e int) int {
	for i < e {
		switch src[i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return i
		}
		i++
	}
	return i
}

// maskPair masks the value of a pair whose name is sensitive, replacing any
// edits already made inside it. Edits made in the object since index first
// are re-sorted.
func (w *jsonWalker) maskPair(p *namedPair, first int) {
	st, b := w.st, w.b
	val := b.src[p.vs:p.ve]
	if p.esc {
		val = unescapeSimple(val)
	}
	if p.num && st.r.c.rules[p.rule].random {
		return // rules gated by the randomness test keep numbers, as under a key
	}
	if !p.num && isPlaceholder(val) {
		return
	}
	tail := (*w.out)[first:]
	k := 0
	for _, ed := range tail {
		if ed.start >= p.vs && ed.end <= p.ve {
			continue // superseded by the whole-value mask
		}
		tail[k] = ed
		k++
	}
	*w.out = (*w.out)[:first+k]
	n := len(*w.out)
	st.spans = append(st.spans, span{start: p.vs, end: p.ve, rule: p.rule})
	st.flushSpans(b, w.out)
	if p.num {
		w.quoteEdits(n) // the mask replaces the number as a JSON string
	}
	tail = (*w.out)[first:]
	slices.SortFunc(tail, func(a, b edit) int { return a.start - b.start })
}

// contentLink collects the fields of a Logic Apps content link
// ({uri, contentVersion, contentSize, contentHash, inlinedContent}) so that
// size and hash can be fixed when the inlined content was redacted.
type contentLink struct {
	sizeS, sizeE       int
	versionS, versionE int
	hashS, hashE       int
	md5                bool
	newContent         []byte
}

// linkField handles the content-link fields; it reports whether it consumed
// the value (and where the value ends).
func (w *jsonWalker) linkField(link *contentLink, key []byte, vi, e int) (bool, int) {
	src := w.b.src
	switch string(key) {
	case "contentSize":
		n := len(*w.out)
		end := w.value(vi, e, -1)
		if len(*w.out) == n {
			link.sizeS, link.sizeE = vi, end
		}
		return true, end
	case "contentVersion":
		if src[vi] != '"' {
			return false, 0
		}
		end, esc := stringEnd(src, vi+1, e)
		// Scanned like any string; a version that had to be masked is not
		// rewritten from the content's new hash.
		n := len(*w.out)
		w.str(vi+1, end, esc, -1, nil)
		if len(*w.out) == n {
			link.versionS, link.versionE = vi+1, end
		}
		return true, end + 1
	case "contentHash":
		if src[vi] != '{' {
			return false, 0
		}
		n := len(*w.out)
		end := w.value(vi, e, -1)
		if len(*w.out) > n {
			return true, end // masked inside: leave the hash as masked
		}
		v, err := fastjson.ParseBytes(src[vi:end])
		if err != nil {
			return true, end
		}
		link.md5 = strings.EqualFold(string(v.GetStringBytes("algorithm")), "md5")
		// Locate the raw "value" string inside the object.
		if k := bytes.Index(src[vi:end], []byte(`"value"`)); k >= 0 {
			j := w.ws(vi+k+7, end)
			if j < end && src[j] == ':' {
				j = w.ws(j+1, end)
				if j < end && src[j] == '"' {
					ve, _ := stringEnd(src, j+1, end)
					link.hashS, link.hashE = j+1, ve
				}
			}
		}
		return true, end
	case "inlinedContent":
		if src[vi] != '"' {
			return false, 0
		}
		end, esc := stringEnd(src, vi+1, e)
		if plain, ok := w.base64Content(vi+1, end, contentSniff); ok {
			link.newContent = plain
		} else if !ok {
			w.str(vi+1, end, esc, -1, nil)
		}
		return true, end + 1
	}
	return false, 0
}

// fixLink rewrites contentSize, an md5 contentHash and a contentVersion that
// equals the hash, to match redacted inlined content. Edits made inside the
// object since index first are re-sorted, since the fields may come before
// the content.
func (w *jsonWalker) fixLink(link *contentLink, first int) {
	st, src := w.st, w.b.src
	if link.sizeE > link.sizeS {
		*w.out = append(*w.out, st.addRepl(link.sizeS, link.sizeE, strconv.AppendInt(nil, int64(len(link.newContent)), 10)))
	}
	if link.hashE > link.hashS && link.md5 {
		sum := md5.Sum(link.newContent)
		h := []byte(base64.StdEncoding.EncodeToString(sum[:]))
		if link.versionE > link.versionS && bytes.Equal(src[link.versionS:link.versionE], src[link.hashS:link.hashE]) {
			*w.out = append(*w.out, st.addRepl(link.versionS, link.versionE, h))
		}
		*w.out = append(*w.out, st.addRepl(link.hashS, link.hashE, h))
	}
	tail := (*w.out)[first:]
	slices.SortFunc(tail, func(a, b edit) int { return a.start - b.start })
}

func (w *jsonWalker) array(i, e int, keyRule int32) int {
	src := w.b.src
	st := w.st
	idx := 0
	for {
		i = w.ws(i, e)
		if i >= e {
			return e
		}
		switch src[i] {
		case ']':
			return i + 1
		case ',':
			i++
			continue
		}
		st.path = append(st.path, pathElem{idx: idx, arr: true})
		w.key = -1
		i = w.value(i, e, keyRule)
		st.path = st.path[:len(st.path)-1]
		idx++
	}
}

// stringEnd returns the index of the closing quote of the string whose
// content starts at i, and whether the content holds escapes.
func stringEnd(src []byte, i, e int) (int, bool) {
	esc := false
	for j := i; j < e; {
		k := bytes.IndexByte(src[j:e], '"')
		if k < 0 {
			return e, esc
		}
		q := j + k
		if bytes.IndexByte(src[j:q], '\\') >= 0 {
			esc = true
		}
		// Count the backslashes right before the quote.
		n := 0
		for p := q - 1; p >= i && src[p] == '\\'; p-- {
			n++
		}
		if n%2 == 0 {
			return q, esc
		}
		j = q + 1
	}
	return e, esc
}

// contentKind says how the base64 of a $content envelope is decoded.
type contentKind uint8

const (
	contentSniff contentKind = iota + 1
	contentJSON
	contentForm
	contentText
)

func contentTypeOrSniff(ct []byte) *contentKind {
	k := contentSniff
	s := strings.ToLower(string(ct))
	switch {
	case strings.Contains(s, "json"):
		k = contentJSON
	case strings.Contains(s, "x-www-form-urlencoded"):
		k = contentForm
	case s != "":
		k = contentText
	}
	return &k
}

// str handles the string value whose raw content is src[s:e].
func (w *jsonWalker) str(s, e int, esc bool, keyRule int32, content *contentKind) {
	st, b := w.st, w.b
	if keyRule >= 0 && w.keyed(s, e, esc, keyRule) {
		return
	}
	if content != nil && st.depth < maxNest {
		if _, ok := w.base64Content(s, e, *content); ok {
			return
		}
	}
	// Base64 of a JSON object ("eyJ" is the encoding of {") in an ordinary
	// field: opened like $content. A JWT has dots and is left to its rule.
	if content == nil && !esc && e-s >= 16 && st.depth < maxNest && hasAt(b.src, s, e, "eyJ") && bytes.IndexByte(b.src[s:e], '.') < 0 {
		if _, ok := w.base64Content(s, e, contentJSON); ok {
			return
		}
	}
	ctx := s
	if w.key >= 0 {
		ctx = w.key
	}
	if !b.mayHold(ctx, e) {
		return
	}
	if !esc {
		// The probe's spans are positions in the line, not in a nested
		// buffer.
		if len(st.probe) == 0 || st.depth > 0 || !w.fromProbe(ctx, s, e) {
			st.detectValue(b, ctx, s, e, min(e+1, len(b.src)), modeText)
		}
		st.flushSpans(b, w.out)
		return
	}
	if st.depth >= maxNest {
		// Too deep to open: mask what the raw bytes show.
		st.detectRange(b, s, e, modeText)
		st.flushSpans(b, w.out)
		return
	}
	// Rules also see the raw, escaped form ("private_key":"-----BEGIN...\n").
	st.detectValue(b, ctx, s, e, min(e+1, len(b.src)), modeText)
	// Each nesting level keeps its own raw spans: the walk below reaches
	// this code again one level down while raw is still in use.
	for len(st.rawSpans) <= st.depth {
		st.rawSpans = append(st.rawSpans, nil)
	}
	raw := append(st.rawSpans[st.depth][:0], st.spans...)
	st.rawSpans[st.depth] = raw
	st.spans = st.spans[:0]
	// Unescape into a nested buffer, detect there, map edits back.
	st.depth++
	nb := st.nestedBuf()
	nb.src, nb.pmap = unescapeMap(nb.src[:0], nb.pmap[:0], b.src[s:e], s)
	nb.parent, nb.jsonString = b, true
	if bytes.Contains(b.src[s:e], []byte(`\u`)) {
		st.prepare(nb)
	} else {
		st.prepareFrom(nb, b)
	}
	var inner []edit
	if t := bytes.TrimLeft(nb.src, " \t\r\n"); len(t) > 0 && (t[0] == '{' || t[0] == '[') && validJSON(nb.src) {
		st.walkJSON(nb, 0, len(nb.src), &inner)
	} else {
		st.detectRange(nb, 0, len(nb.src), modeText)
		st.flushSpans(nb, &inner)
	}
	for k := range inner {
		ed := &inner[k]
		ed.start = int(nb.pmap[ed.start])
		if ed.end < len(nb.pmap) {
			ed.end = int(nb.pmap[ed.end])
		} else {
			ed.end = e
		}
	}
	st.depth--
	pmap := nb.pmap
	uncovered := int32(-1)
	for _, sp := range raw {
		sp.start, sp.end = snapStart(pmap, sp.start), snapEnd(pmap, sp.end, e)
		if !covered(inner, sp.start, sp.end) {
			uncovered = sp.rule
			break
		}
	}
	if uncovered < 0 && rawLiteralUncovered(b, s, e, inner) {
		uncovered = int32(st.r.litRule)
	}
	if uncovered >= 0 {
		// The raw bytes show a secret that the decoded string's edits do
		// not cover (a rule written for escaped JSON, or an escape that
		// swallowed part of a known value): mask the whole value.
		st.spans = append(st.spans, span{start: s, end: e, rule: uncovered, high: true})
		st.flushSpans(b, w.out)
		return
	}
	*w.out = append(*w.out, inner...)
}

// covered reports whether [s,e) lies wholly inside one edit.
func covered(edits []edit, s, e int) bool {
	for _, ed := range edits {
		if ed.start <= s && e <= ed.end {
			return true
		}
	}
	return false
}

// snapStart moves a raw position back to the start of the escape sequence
// it falls in; pmap holds the raw start of each decoded byte.
func snapStart(pmap []int32, p int) int {
	i, found := slices.BinarySearch(pmap, int32(p))
	if found || i == 0 {
		return p
	}
	return int(pmap[i-1])
}

// snapEnd moves a raw end position forward to the end of the escape
// sequence it falls in (e is the end of the raw string).
func snapEnd(pmap []int32, p, e int) int {
	i, _ := slices.BinarySearch(pmap, int32(p))
	if i >= len(pmap) {
		return e
	}
	return int(pmap[i])
}

// rawLiteralUncovered reports whether a literal hit inside b.src[s:e] is not
// wholly inside one of the edits.
func rawLiteralUncovered(b *buffer, s, e int, edits []edit) bool {
	for _, m := range b.lits {
		if m.Start < s || m.End > e {
			continue
		}
		covered := false
		for _, ed := range edits {
			if ed.start <= m.Start && m.End <= ed.end {
				covered = true
				break
			}
		}
		if !covered {
			return true
		}
	}
	return false
}

// fromProbe takes the probe spans that lie in the value b.src[s:e] (whose
// key starts at ctx). It reports false, taking nothing, when a probe span
// crosses the value's bounds: the value is then scanned on its own.
func (w *jsonWalker) fromProbe(ctx, s, e int) bool {
	st := w.st
	first := len(st.spans)
	// A line holds few spans, and they may overlap: scan them all.
	for _, sp := range st.probe {
		if sp.end <= ctx || sp.start >= e+1 {
			continue
		}
		if sp.start < s || sp.end > e {
			st.spans = st.spans[:first]
			return false
		}
		st.spans = append(st.spans, sp)
	}
	return true
}

// keyed masks a string stored under a sensitive name. It reports false for
// a placeholder value, which is then scanned like any other string.
func (w *jsonWalker) keyed(s, e int, esc bool, ri int32) bool {
	st, b := w.st, w.b
	val := b.src[s:e]
	if esc {
		val = unescapeSimple(val)
	}
	if isPlaceholder(val) {
		return false
	}
	rl := &st.r.c.rules[ri]
	vs := s
	if rl.keepScheme {
		vs = afterScheme(b.src, s, e)
		if vs >= e {
			return false // "Bearer ": the scheme alone
		}
	}
	st.spans = append(st.spans, span{start: vs, end: e, rule: ri})
	st.flushSpans(b, w.out)
	return true
}

// base64Content decodes base64 content ($content envelopes, inlinedContent),
// redacts the decoded body and re-encodes it. It returns the redacted plain
// content when something changed, and reports false when the string is not
// base64 (it is then scanned as an ordinary string).
func (w *jsonWalker) base64Content(s, e int, kind contentKind) ([]byte, bool) {
	st, b := w.st, w.b
	raw := b.src[s:e]
	if len(raw) == 0 {
		return nil, true
	}
	// The encoded text can itself spell a known value (one made only of
	// base64 characters), which re-encoding the decoded content would
	// keep: then the whole value is masked. (Rules are not run on the
	// encoded text: base64 of JSON starts with "eyJ", and running the JWT
	// rule over every envelope cost 15% on run history for nothing.)
	if b.anyLiteral(s, e) {
		st.spans = append(st.spans, span{start: s, end: e, rule: int32(st.r.litRule), high: true})
		st.flushSpans(b, w.out)
		return nil, true
	}
	enc := base64.StdEncoding
	if bytes.ContainsAny(raw, "-_") {
		enc = base64.URLEncoding
	}
	if bytes.IndexByte(raw, '\\') >= 0 {
		raw = unescapeSimple(raw) // \/ is a legal escape of '/'
	}
	st.depth++
	defer func() { st.depth-- }()
	nb := st.nestedBuf()
	n := enc.DecodedLen(len(raw))
	if cap(nb.src) < n {
		nb.src = make([]byte, n)
	}
	m, err := enc.Decode(nb.src[:n], raw)
	if err != nil {
		return nil, false
	}
	nb.src = nb.src[:m]
	nb.parent, nb.ppos = b, s
	st.prepare(nb)
	var inner []edit
	if kind == contentSniff {
		kind = sniffKind(nb.src)
	}
	switch {
	case kind == contentJSON && validJSON(nb.src):
		st.walkJSON(nb, 0, len(nb.src), &inner)
	case kind == contentForm:
		st.detectRange(nb, 0, len(nb.src), modeQuery|modeText)
		st.flushSpans(nb, &inner)
	default:
		st.detectRange(nb, 0, len(nb.src), modeText)
		st.flushSpans(nb, &inner)
	}
	if len(inner) == 0 {
		return nil, true
	}
	plain := st.apply(nil, nb.src, inner)
	encd := make([]byte, enc.EncodedLen(len(plain)))
	enc.Encode(encd, plain)
	*w.out = append(*w.out, st.addRepl(s, e, encd))
	return plain, true
}

func sniffKind(b []byte) contentKind {
	t := bytes.TrimLeft(b, " \t\r\n")
	if len(t) > 0 && (t[0] == '{' || t[0] == '[') {
		return contentJSON
	}
	return contentText
}

// keyRule returns the keyname rule that a JSON key falls under, or -1. The
// key matches a name whole after normalization, or (for suffix rules) its
// trailing words do: db_password, smtpPassword, but not passwordPolicy.
func (c *compiled) keyRule(key []byte) int32 { return c.nameRule(key, false) }

// paramRule is keyRule for a URL query or path parameter: the rules whose
// contexts include query.
func (c *compiled) paramRule(key []byte) int32 { return c.nameRule(key, true) }

// nameRule finds the key-name rule for a name, among the rules that apply
// to JSON keys or, with query, to URL parameters.
func (c *compiled) nameRule(key []byte, query bool) int32 {
	var nb [96]byte
	var starts [16]int
	norm, ns := nb[:0], starts[:0]
	prevLower := false
	for _, ch := range key {
		if len(norm) >= len(nb) {
			return -1
		}
		switch {
		case patterns.IsNameSeparator(ch):
			if len(ns) < len(starts) {
				ns = append(ns, len(norm))
			}
			prevLower = false
			continue
		case isUpper(ch):
			if prevLower && len(ns) < len(starts) {
				ns = append(ns, len(norm))
			}
			ch += 'a' - 'A'
			prevLower = false
		default:
			prevLower = ch-'a' < 26 || ch-'0' < 10
		}
		norm = append(norm, ch)
	}
	// Log Analytics types custom columns with a suffix:
	// trackedProperties_clientSecret_s. Drop it.
	if n := len(ns); n > 0 && ns[n-1] == len(norm)-1 && len(key) > 2 && key[len(key)-2] == '_' {
		switch norm[len(norm)-1] {
		case 's', 'g', 'd', 'b', 't':
			norm, ns = norm[:len(norm)-1], ns[:n-1]
		}
	}
	if c.excluded[string(norm)] {
		return -1
	}
	if r, ok := c.exactNames[string(norm)]; ok {
		if c.rules[r].named(query) {
			return r
		}
	}
	for _, p := range ns {
		if p <= 0 || p >= len(norm) {
			continue
		}
		if r, ok := c.suffixNames[string(norm[p:])]; ok && c.rules[r].named(query) {
			return r
		}
	}
	// Joined lower-case names have no word boundary to find
	// (admin_auditlogsclientsecret, smtppassword): try each suffix length.
	for _, n := range c.suffixLens {
		if n >= len(norm) {
			continue
		}
		if r, ok := c.suffixNames[string(norm[len(norm)-n:])]; ok && c.rules[r].named(query) {
			return r
		}
	}
	return -1
}

// named reports whether the rule applies to a JSON key or, with query, to
// a URL parameter.
func (rl *rule) named(query bool) bool {
	if query {
		return rl.inQuery
	}
	return rl.inJSON
}

// unescapeMap appends the unescaped JSON string content raw to dst and, for
// each output byte, the offset (plus base) of the raw byte it came from.
func unescapeMap(dst []byte, m []int32, raw []byte, base int) ([]byte, []int32) {
	for i := 0; i < len(raw); {
		c := raw[i]
		if c != '\\' || i+1 >= len(raw) {
			dst = append(dst, c)
			m = append(m, int32(base+i))
			i++
			continue
		}
		start := i
		var r rune = -1
		switch raw[i+1] {
		case '"', '\\', '/':
			dst = append(dst, raw[i+1])
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r = hex4(raw, i+2)
			n := 6
			if r >= 0xD800 && r < 0xDC00 && i+12 <= len(raw) && raw[i+6] == '\\' && raw[i+7] == 'u' {
				if lo := hex4(raw, i+8); lo >= 0xDC00 && lo < 0xE000 {
					r = 0x10000 + (r-0xD800)<<10 + (lo - 0xDC00)
					n = 12
				}
			}
			if r < 0 || (r >= 0xD800 && r < 0xE000) {
				r = utf8.RuneError
			}
			before := len(dst)
			dst = utf8.AppendRune(dst, r)
			for k := before; k < len(dst); k++ {
				m = append(m, int32(base+start))
			}
			i += n
			continue
		default:
			dst = append(dst, raw[i+1])
		}
		m = append(m, int32(base+start))
		i += 2
	}
	return dst, m
}

func hex4(b []byte, i int) rune {
	if i+4 > len(b) {
		return -1
	}
	var r rune
	for _, c := range b[i : i+4] {
		r <<= 4
		switch {
		case c-'0' < 10:
			r |= rune(c - '0')
		case c-'a' < 6:
			r |= rune(c-'a') + 10
		case c-'A' < 6:
			r |= rune(c-'A') + 10
		default:
			return -1
		}
	}
	return r
}

func unescapeSimple(raw []byte) []byte {
	out, _ := unescapeMap(make([]byte, 0, len(raw)), nil, raw, 0)
	return out
}
