package redactor

import (
	"bytes"
)

// keyValue checks whether the name hit at b.src[p:p+n] starts a name/value
// pair (name=value, name: value, "name": "value", <name>value</name>, a query
// parameter, a connection-string segment (with an ODBC {braced;value}), a
// command-line flag (--name value), or URL-encoded JSON:
// %22name%22%3A%22value%22) and, if so, records the value's span.
func (st *state) keyValue(b *buffer, a, e, p, n int, ri int32, mode int) {
	rl := &st.r.c.rules[ri]
	src, low := b.src, b.low
	query, xml, pct, flag := false, false, false, false
	eq := false     // the separator is =
	spaced := false // the separator is blanks (--name value)
	var q []byte    // the quote that opened the name, if any
	if st.r.c.afterMask(src, p) {
		return
	}
	if p > a {
		prev := low[p-1]
		switch {
		case prev == '?' || prev == '&' || prev == '#':
			query = true
		case p-3 >= a && (string(low[p-3:p]) == "%3f" || string(low[p-3:p]) == "%26"):
			query = true
		case p-3 >= a && string(low[p-3:p]) == "%22":
			q, pct = src[p-3:p], true // URL-encoded JSON
		case p-2 >= a && string(low[p-2:p]) == "--" && (p-3 < a || flagStart(low[p-3])):
			flag = true // --password value, --password=value
		case prev == '"' || prev == '\'':
			q = src[p-1 : p]
			if p-2 >= a && src[p-2] == '\\' {
				q = src[p-2 : p]
			}
		case prev == '<':
			xml = true
		case isAlnum(prev):
			// Only a camelCase word boundary (dbPassword) of a suffix name.
			if !rl.suffix || !isUpper(src[p]) || isUpper(src[p-1]) {
				return
			}
		case prev == '_' || prev == '-' || prev == '.':
			if !rl.suffix {
				return
			}
		}
	} else if mode&modeQuery != 0 {
		query = true
	}
	if query {
		if !rl.inQuery {
			return
		}
	} else if !rl.inText || mode&modeText == 0 {
		return
	}
	if len(st.r.c.excluded) > 0 && rl.suffix && st.excludedName(src, a, p, n) {
		return
	}
	i := p + n
	// Log Analytics column type suffix: trackedProperties_clientSecret_s.
	if i+2 <= e && src[i] == '_' && (i+2 == e || !isAlnum(src[i+2])) {
		switch src[i+1] {
		case 's', 'g', 'd', 'b', 't':
			i += 2
		}
	}
	switch {
	case len(q) > 0 && bytes.HasPrefix(src[i:e], q):
		i += len(q) // "name": value
	case len(q) == 0 && i < e && (src[i] == '"' || src[i] == '\''):
		i++ // the tail of a quoted name: "smtpPassword": value
	case (len(q) == 0 || q[0] == '"') && i+1 < e && src[i] == '\\' && src[i+1] == '"':
		i += 2 // the tail of an escaped quoted name: "pwd\": value
	}
	// Separator.
	if query {
		switch {
		case i < e && src[i] == '=':
			i++
		case i+3 <= e && string(low[i:i+3]) == "%3d":
			i += 3
		default:
			return
		}
	} else {
		blanks := i
		i = skipBlanks(src, i, e)
		switch {
		case xml:
			if i >= e || src[i] != '>' {
				return
			}
			i++
		case i+1 < e && (string(src[i:i+2]) == ":=" || string(src[i:i+2]) == "=>"):
			i += 2
		case i < e && (src[i] == '=' || src[i] == ':'):
			eq = src[i] == '='
			i++
		case pct && i+3 <= e && (string(low[i:i+3]) == "%3a" || string(low[i:i+3]) == "%3d"):
			i += 3
		case flag && i > blanks && i < e && src[i] != '-':
			// --name value: the blanks are the separator.
			spaced = true
		default:
			return
		}
		if !xml {
			i = skipBlanks(src, i, e)
		}
	}
	if i >= e {
		return
	}
	// Value.
	var vs, ve int
	switch {
	case pct:
		if bytes.HasPrefix(src[i:e], q) {
			i += len(q)
		}
		vs, ve = i, pctEnd(src, low, i, e)
	case eq && bytes.HasPrefix(src[i:e], []byte("{{")):
		// A template ({{secret}}) is a placeholder; anything else is
		// masked up to its first brace, as before.
		if k := bytes.Index(src[i:e], []byte("}}")); k >= 0 && isPlaceholder(src[i:i+k+2]) {
			return
		}
		vs = i
		ve = unquotedEnd(src, low, vs, e, query, xml, rl.keepScheme, rl.wholeLine)
	case eq && src[i] == '{':
		// An ODBC connection-string value in braces may hold ';' ("}}"
		// escapes a brace): mask what is inside them.
		end := bracedEnd(src, i+1, e)
		if end < 0 {
			vs = i
			ve = unquotedEnd(src, low, vs, e, query, xml, rl.keepScheme, rl.wholeLine)
			break
		}
		if isPlaceholder(src[i : end+1]) {
			return
		}
		vs, ve = i+1, end
	case !query && !xml && (src[i] == '"' || src[i] == '\''):
		vs, ve = quoted(src, i+1, e, src[i:i+1])
	case !query && !xml && src[i] == '\\' && i+1 < e && src[i+1] == '"':
		vs, ve = quoted(src, i+2, e, src[i:i+2])
	default:
		vs = i
		ve = unquotedEnd(src, low, vs, e, query, xml, rl.keepScheme, rl.wholeLine)
	}
	if ve <= vs {
		return
	}
	if rl.keepScheme {
		vs = afterScheme(src, vs, ve)
	}
	if ve <= vs || isPlaceholder(src[vs:ve]) || (spaced && !flagValue(src[vs:ve])) {
		return
	}
	st.spans = append(st.spans, span{start: vs, end: ve, rule: ri})
}

func skipBlanks(src []byte, i, e int) int {
	for i < e && (src[i] == ' ' || src[i] == '\t') {
		i++
	}
	return i
}

const maxValue = 8 << 10

// quoted returns the value between an opening quote (ending at i) and the
// matching closing quote q, which must be on the same line.
func quoted(src []byte, i, e int, q []byte) (int, int) {
	lim := min(e, i+maxValue)
	for j := i; j < lim; j++ {
		c := src[j]
		if c == '\n' {
			return i, j
		}
		if len(q) == 2 { // \" inside a JSON string: ends at the next \", or at a bare " that ends the string
			if (c == '\\' && j+1 < lim && src[j+1] == '"') || c == '"' {
				return i, j
			}
			continue
		}
		if c == '\\' && q[0] == '"' {
			j++
			continue
		}
		if c == q[0] {
			return i, j
		}
	}
	return i, lim
}

// unquotedEnd finds where an unquoted value ends.
func unquotedEnd(src, low []byte, i, e int, query, xml, header, line bool) int {
	lim := min(e, i+maxValue)
	for j := i; j < lim; j++ {
		c := src[j]
		switch {
		case c == '\n' || c == '\r':
			return j
		case xml:
			if c == '<' {
				return j
			}
		case line:
			if c == '"' || c == '\'' || c == '\\' {
				return j
			}
		case header:
			if c == '"' || c == '\'' || c == '\\' || c == ',' {
				return j
			}
			if c == ' ' || c == '\t' {
				// "Bearer xyz": the first blank after the scheme is part
				// of the value; any later one ends it.
				if j > i && isSchemeWord(src[i:j]) && j+1 < lim && src[j+1] != ' ' {
					continue
				}
				return j
			}
		case query:
			if c == '&' || c == '#' || c == ' ' || c == '\t' || c == '"' || c == '\'' || c == '<' || c == '>' || c == '\\' {
				return j
			}
			if c == '%' && j+3 <= lim && string(low[j:j+3]) == "%26" {
				return j
			}
		default:
			switch c {
			case ' ', '\t', '"', '\'', ';', '&', ',', '<', '>', ')', ']', '}', '\\', '|':
				return j
			}
		}
	}
	return lim
}

// bracedEnd returns the index of the brace that closes an ODBC braced value
// starting at i ("}}" inside it is an escaped brace), or -1 when it does not
// close on the same line.
func bracedEnd(src []byte, i, e int) int {
	lim := min(e, i+maxValue)
	for j := i; j < lim; j++ {
		switch src[j] {
		case '\n', '\r':
			return -1
		case '}':
			if j+1 < lim && src[j+1] == '}' {
				j++
				continue
			}
			return j
		}
	}
	return -1
}

// flagStart reports whether c may precede a command-line flag.
func flagStart(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '"' || c == '\''
}

// flagValue reports whether v, given after a blank to a flag named like a
// secret, is a value rather than prose ("use --password to set it"): a
// word of lower-case letters shorter than 12 bytes is taken for prose.
func flagValue(v []byte) bool {
	if len(v) >= 12 {
		return true
	}
	for _, c := range v {
		if c < 'a' || c > 'z' {
			return true
		}
	}
	return false
}

// pctEnd finds where a value in URL-encoded JSON ends: at an encoded quote,
// comma, brace or blank, or where the URL-encoded text itself ends.
func pctEnd(src, low []byte, i, e int) int {
	lim := min(e, i+maxValue)
	for j := i; j < lim; j++ {
		switch src[j] {
		case '\n', '\r', ' ', '\t', '"', '\'', '&', '#', '<', '>', '\\':
			return j
		case '%':
			if j+3 <= lim {
				switch string(low[j : j+3]) {
				case "%22", "%26", "%2c", "%7d", "%5d", "%20":
					return j
				}
			}
		}
	}
	return lim
}

// afterScheme skips an Authorization scheme ("Bearer ", "Basic ") at the
// start of a value, so that the scheme stays visible.
func afterScheme(src []byte, vs, ve int) int {
	sp := bytes.IndexByte(src[vs:ve], ' ')
	if sp <= 0 || !isSchemeWord(src[vs:vs+sp]) {
		return vs
	}
	j := vs + sp
	for j < ve && src[j] == ' ' {
		j++
	}
	if j >= ve {
		return vs
	}
	return j
}

func isSchemeWord(w []byte) bool {
	if len(w) == 0 || len(w) > 32 || !isAlpha(w[0]) {
		return false
	}
	for _, c := range w {
		if !isAlnum(lower(c)) && c != '-' && c != '_' {
			return false
		}
	}
	return true
}

// isPlaceholder reports values that are not secrets even under a secret
// name: empty, null-like, already masked, sanitized by the platform,
// templated, or a Logic Apps expression (a reference, not a value).
func isPlaceholder(v []byte) bool {
	v = bytes.TrimSpace(v)
	if len(v) == 0 {
		return true
	}
	if bytes.Contains(v, []byte("[REDACTED")) {
		return true // already masked (by an earlier pass or another rule)
	}
	switch string(bytes.ToLower(v)) {
	case "null", "nil", "none", "undefined", "true", "false", "-", "*sanitized*", "<redacted>", "redacted",
		"[redacted]", "***", "(none)", "n/a", "changeme", "<password>", "<secret>", "<token>":
		return true
	}
	if allSame(v) {
		return true
	}
	switch {
	case bytes.HasPrefix(v, []byte("${")) && bytes.HasSuffix(v, []byte("}")),
		bytes.HasPrefix(v, []byte("{{")) && bytes.HasSuffix(v, []byte("}}")),
		bytes.HasPrefix(v, []byte("@{")),
		bytes.HasPrefix(v, []byte("%(")),
		bytes.Equal(v, []byte("%s")):
		return true
	}
	if v[0] == '@' && len(v) > 2 && isAlpha(v[1]) {
		// @parameters('x'), @body('Get_secret')?['value'], @variables('v')
		for k := 1; k < len(v) && k < 64; k++ {
			if v[k] == '(' {
				return true
			}
			if !isAlnum(lower(v[k])) && v[k] != '_' {
				break
			}
		}
	}
	if v[0] == '$' && len(v) > 1 {
		// $ENV_VAR reference
		ref := true
		for _, c := range v[1:] {
			if !(isUpper(c) || c == '_' || (c >= '0' && c <= '9')) {
				ref = false
				break
			}
		}
		if ref {
			return true
		}
	}
	return false
}

func allSame(v []byte) bool {
	if len(v) < 3 {
		return false
	}
	for _, c := range v[1:] {
		if c != v[0] {
			return false
		}
	}
	return true
}

func lower(c byte) byte {
	if c-'A' < 26 {
		return c + 'a' - 'A'
	}
	return c
}

func isUpper(c byte) bool { return c-'A' < 26 }
func isAlpha(c byte) bool { return c-'A' < 26 || c-'a' < 26 }
func isAlnum(c byte) bool { return c-'a' < 26 || c-'0' < 10 || c-'A' < 26 }

// excludedName reports whether the identifier ending with the name hit at
// src[p:p+n] is on an exclude list (nextPageToken).
func (st *state) excludedName(src []byte, a, p, n int) bool {
	i := p
	for i > a && (isAlnum(src[i-1]) || src[i-1] == '_' || src[i-1] == '-' || src[i-1] == '.') && p-i < 64 {
		i--
	}
	if i == p {
		return false
	}
	var buf [96]byte
	norm := buf[:0]
	for _, c := range src[i : p+n] {
		switch {
		case c == '_' || c == '-' || c == '.':
		case len(norm) < len(buf):
			norm = append(norm, lower(c))
		}
	}
	return st.r.c.excluded[string(norm)]
}

// maskPrefix starts every mask this package writes.
const maskPrefix = "[REDACTED:"

// maskEnd returns the end of the mask that starts at src[k], or -1 if none
// does. Only a mask this Redactor could have written counts: a rule ID of
// its own, optionally with the 8 hex digits of a hash mask, then "]". Text
// that merely starts like a mask ("[REDACTED:" and a secret) is data.
func (c *compiled) maskEnd(src []byte, k int) int {
	if !bytes.HasPrefix(src[k:], []byte(maskPrefix)) {
		return -1
	}
	i := k + len(maskPrefix)
	j := i
	for j < len(src) && j-i <= c.maxID && (isAlnum(src[j]) || src[j] == '-') {
		j++
	}
	if !c.ids[string(src[i:j])] {
		return -1
	}
	if j+9 < len(src) && src[j] == ':' && isHex8(src[j+1:j+9]) {
		j += 9
	}
	if j < len(src) && src[j] == ']' {
		return j + 1
	}
	return -1
}

func isHex8(b []byte) bool {
	for _, c := range b {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// inMask reports whether src[p] starts or lies inside a mask written by an
// earlier pass (see maskEnd). A rule whose character class admits a mask's
// letters could otherwise take the mask, or part of it, for a secret, and
// redacting twice would change the output.
func (c *compiled) inMask(src []byte, p int) bool {
	if c.maskEnd(src, p) > 0 {
		return true
	}
	lo := max(0, p-c.maxMask)
	k := bytes.LastIndex(src[lo:p], []byte(maskPrefix))
	return k >= 0 && p < c.maskEnd(src, lo+k)
}

// afterMask reports whether src[p] directly follows a mask written by an
// earlier pass (see maskEnd). Masking creates a word boundary that was not
// in the input, so a match there is left alone: redacting twice changes
// nothing.
func (c *compiled) afterMask(src []byte, p int) bool {
	if p <= 0 || src[p-1] != ']' {
		return false
	}
	// The mask may lie before the range being scanned (a rule's window
	// starts a few bytes before its keyword).
	lo := max(0, p-c.maxMask)
	k := bytes.LastIndex(src[lo:p], []byte(maskPrefix))
	return k >= 0 && c.maskEnd(src, lo+k) == p
}
