package redactor

import (
	"bytes"
)

// sepKind is how a name is joined to its value.
type sepKind uint8

const (
	sepNone   sepKind = iota
	sepAssign         // =, :=, ::=, ?=, .=, =>, name: type =
	sepEq             // a plain = (ODBC braces, templates, & ends a value)
	sepColon          // :
	sepXML            // <name>value
	sepQuery          // ?name=value, &name=value
	sepPct            // %22name%22%3A%22value%22
	sepSpaced         // --name value, -Name value
	sepQuoted         // ==, !=, ===, " - ", prose "is": the value must be quoted
	sepArg            // f("name", "value"): the value is the next quoted argument
)

// pair is what the parser learned about one name/value pair.
type pair struct {
	sep      sepKind
	q        []byte // the quote that opened the name, if any
	inString byte   // the quote of a string literal that encloses the name
	bare     bool   // the name is a whole word (not the tail of a longer name)
	plural   bool   // the name took a plural s (tokens, api_keys): a list only
	blankSep bool   // blanks alone may separate the value (mixpanel X)
	name     []byte // the name as written, with the words before a suffix
	quoted   bool   // the value was quoted
	solid    bool   // a call argument or directive: a value with blanks is prose
	word     bool   // the name is a whole word (password, .password), not a suffix
}

// maxList bounds the elements of one list value (api_keys: ["a", "b"]).
const maxList = 16

// keyValue checks whether the name hit at b.src[p:p+n] starts a name/value
// pair and, if so, records the value's span (or every element of a list
// value). The parser (pairValues) finds where the value is; the decision
// (secretValue) says whether it is a secret or a reference, placeholder,
// label or code.
func (st *state) keyValue(b *buffer, a, e, p, n int, ri int32, mode int) {
	rl := &st.r.c.rules[ri]
	var vals [maxList][2]int
	pr, k := st.pairValues(b, a, e, p, n, ri, mode, &vals)
	for _, v := range vals[:k] {
		vs, ve := v[0], v[1]
		if rl.keepScheme {
			vs = afterScheme(b.src, vs, ve)
		}
		if ve > vs && secretValue(rl, &pr, b.src[vs:ve], n) {
			st.spans = append(st.spans, span{start: vs, end: ve, rule: ri})
		}
	}
}

// nameContext reads what precedes the name hit at src[p:p+n]: a query
// string, a quote, a flag's dashes, an XML tag, or the word it ends.
func (st *state) nameContext(b *buffer, a, p, n int, rl *rule, mode int) (pr pair, ok bool) {
	src := b.src
	pr.bare = true
	if p > a {
		prev := src[p-1]
		switch {
		case prev == '?' || prev == '&' || prev == '#':
			pr.sep = sepQuery
		case p-3 >= a && (foldIs(src[p-3:p], "%3f") || string(src[p-3:p]) == "%26"):
			pr.sep = sepQuery
		case p-3 >= a && string(src[p-3:p]) == "%22":
			pr.q, pr.sep = src[p-3:p], sepPct // URL-encoded JSON
		case prev == '-' && (p-2 < a || flagStart(src[p-2]) ||
			(src[p-2] == '-' && (p-3 < a || flagStart(src[p-3])))):
			pr.sep = sepSpaced // --password value, -Password value, --password=value
		case prev == '"' || prev == '\'':
			pr.q = src[p-1 : p]
			if p-2 >= a && src[p-2] == '\\' {
				pr.q = src[p-2 : p]
			}
		case prev == '<':
			pr.sep = sepXML
		case prev == '/':
			// A URL path (/accounts/7/reset-password) holds no value,
			// unless the name is assigned one: tenant/api_key=X.
			if !assigned(src, p+n) {
				return pr, false
			}
		case prev == ':' && p-2 >= a && isAlnum(src[p-2]):
			return pr, false // a namespaced identifier: sts:GetSessionToken, arn:...:secret:name
		case isAlnum(prev):
			// Only a camelCase word boundary (dbPassword) of a suffix name.
			if !rl.suffix || !isUpper(src[p]) || isUpper(src[p-1]) {
				return pr, false
			}
			pr.bare = false
		case prev == '_' || prev == '-' || prev == '.':
			if !rl.suffix || inPath(src, a, p) && !assigned(src, p+n) {
				return pr, false
			}
			pr.bare = false
		}
	} else if mode&modeQuery != 0 {
		pr.sep = sepQuery
	}
	if !pr.bare && pr.sep == sepNone {
		// <genericToken>, <db_password>: the tag around a longer name,
		// closed further on (<YOUR_ACCOUNT_KEY> alone is a placeholder).
		if s := identStart(src, a, p); s > a && src[s-1] == '<' && p+n < len(src) && src[p+n] == '>' &&
			closesTag(src[p+n:min(len(src), p+n+maxValue)], src[s:p+n]) {
			pr.sep = sepXML
		}
	}
	if pr.sep == sepQuery {
		return pr, rl.inQuery
	}
	if !rl.inText || mode&modeText == 0 {
		return pr, false
	}
	if rl.suffix && !pr.bare && st.longerName(src, a, p, n) {
		return pr, false
	}
	if pr.q == nil {
		pr.inString = enclosingQuote(src, a, p)
	}
	pr.name = src[identStart(src, a, p):min(len(src), p+n)]
	return pr, true
}

// closesTag reports whether rest holds the end tag </name>.
func closesTag(rest, name []byte) bool {
	for {
		k := bytes.Index(rest, []byte("</"))
		if k < 0 {
			return false
		}
		rest = rest[k+2:]
		if bytes.HasPrefix(rest, name) && len(rest) > len(name) && rest[len(name)] == '>' {
			return true
		}
	}
}

// assigned reports whether an '=' follows the name ending at src[e]
// (after blanks): name=value, not a path segment.
func assigned(src []byte, e int) bool {
	for e < len(src) && (src[e] == ' ' || src[e] == '\t') {
		e++
	}
	return e < len(src) && src[e] == '='
}

// inPath reports whether the identifier ending at src[p] is a segment of a
// URL path or route (/forgot-password, :reset_password).
func inPath(src []byte, a, p int) bool {
	i := identStart(src, a, p)
	return i > a && src[i-1] == '/'
}

// identStart returns where the identifier (letters, digits, _ - .) that
// ends at src[p] starts, at most 64 bytes back. An escaped line break
// written as text (\n, \r, \t) ends it.
func identStart(src []byte, a, p int) int {
	i := p
	for i > a && p-i < 64 && (isAlnum(src[i-1]) || src[i-1] == '_' || src[i-1] == '-' || src[i-1] == '.') {
		if i-2 >= a && src[i-2] == '\\' && (src[i-1] == 'n' || src[i-1] == 'r' || src[i-1] == 't') {
			break
		}
		i--
	}
	return i
}

// enclosingQuote returns the quote (" or ') of a string literal that is
// still open at src[p] on its line, or 0: an odd count of unescaped quotes
// of one kind before the name. The value of a name inside a string
// ("Password: " + pw) cannot start with that string's closing quote.
func enclosingQuote(src []byte, a, p int) byte {
	lo := max(a, p-512)
	var dq, sq int
	for i := p - 1; i >= lo; i-- {
		c := src[i]
		if c == '\n' {
			break
		}
		if (c == '"' || c == '\'') && (i == 0 || src[i-1] != '\\') {
			if c == '"' {
				dq++
			} else {
				sq++
			}
		}
	}
	switch {
	case dq%2 == 1:
		return '"'
	case sq%2 == 1 && dq == 0:
		return '\''
	}
	return 0
}

// longerName reports whether the identifier that ends with the name hit at
// src[p:p+n] is a name of its own: on an exclude list (nextPageToken), or
// a longer name of some rule (api_key for the hit key), which that rule's
// own hit handles.
func (st *state) longerName(src []byte, a, p, n int) bool {
	c := st.r.c
	i := identStart(src, a, p)
	if i == p {
		return false
	}
	var buf [96]byte
	norm := buf[:0]
	for _, ch := range src[i : p+n] {
		switch {
		case ch == '_' || ch == '-' || ch == '.':
		case len(norm) < len(buf):
			norm = append(norm, lower(ch))
		}
	}
	if c.excluded[string(norm)] {
		return true
	}
	own := foldedLen(src[p : p+n])
	if _, ok := c.exactNames[string(norm)]; ok && len(norm) > own {
		return true
	}
	for _, l := range c.suffixLens {
		if l > own && l <= len(norm) {
			if _, ok := c.suffixNames[string(norm[len(norm)-l:])]; ok && !dotted(src[i:p+n], l) {
				return true
			}
		}
	}
	return false
}

// dotted reports whether the last l name bytes of w (separators not
// counted) are joined by a '.', which no spelling of a name uses: that
// longer name is never hit, so the shorter one must not defer to it.
func dotted(w []byte, l int) bool {
	k := len(w)
	for k > 0 && l > 0 {
		k--
		switch w[k] {
		case '.':
			return true
		case '_', '-':
		default:
			l--
		}
	}
	return false
}

// foldedLen is the length of a name hit without its separators.
func foldedLen(w []byte) int {
	n := 0
	for _, ch := range w {
		if ch != '_' && ch != '-' && ch != '.' {
			n++
		}
	}
	return n
}

// pairValues is the value-boundary parser: it finds the separator after
// the name hit at src[p:p+n] and the value's span (or the spans of every
// element of a list), writing them to vals and returning their count.
func (st *state) pairValues(b *buffer, a, e, p, n int, ri int32, mode int, vals *[maxList][2]int) (pair, int) {
	rl := &st.r.c.rules[ri]
	src := b.src
	if st.r.c.afterMask(src, p) {
		return pair{}, 0
	}
	pr, ok := st.nameContext(b, a, p, n, rl, mode)
	if !ok {
		return pr, 0
	}
	i := p + n
	// A trailing digit or two: access_token2, password_1.
	if j := skipDigits(src, i, min(e, i+2)); j > i && (j >= e || !isAlnum(src[j])) {
		i = j
	}
	// A plural (api_keys, tokens) names a list of values.
	if i < e && (src[i] == 's' || src[i] == 'S') && (i+1 >= e || !isAlnum(src[i+1])) {
		i++
		pr.plural = true
	}
	// Log Analytics column type suffix: trackedProperties_clientSecret_s.
	if i+2 <= e && src[i] == '_' && (i+2 == e || !isAlnum(src[i+2])) {
		switch src[i+1] {
		case 's', 'g', 'd', 'b', 't':
			i += 2
		}
	}
	pr.blankSep = rl.mixed
	q := pr.q
	switch {
	case len(q) > 0 && bytes.HasPrefix(src[i:e], q):
		i += len(q) // "name": value
		if j, ok := argOrSubscript(src, a, e, p-len(q), i, &pr); ok {
			i = j
		}
	case len(q) == 0 && i < e && (src[i] == '"' || src[i] == '\''):
		i++ // the tail of a quoted name: "smtpPassword": value
		pr.inString = 0
		if o := identStart(src, a, p) - 1; o >= a && src[o] == src[i-1] {
			if j, ok := argOrSubscript(src, a, e, o, i, &pr); ok {
				i = j
			}
		}
	case (len(q) == 0 || q[0] == '"') && i+1 < e && src[i] == '\\' && src[i+1] == '"':
		i += 2 // the tail of an escaped quoted name: "pwd\": value
		pr.inString = 0
	case len(q) > 0:
		// The name's quote does not close after it: the name is a label
		// inside a string ("Password: "), whose closing quote is no value.
		pr.inString = q[len(q)-1]
		pr.q = nil
	}
	ne := i
	pr.word = p == a || !(isAlnum(src[p-1]) || src[p-1] == '_' || src[p-1] == '-')
	i = st.separator(b, e, i, &pr)
	if i < 0 || i >= e {
		// if ("X" == password): the literal before the name, which ends
		// here (pass in password is not a name).
		if ne < e && (isAlnum(src[ne]) || src[ne] == '_') {
			return pr, 0
		}
		return pr, comparedBefore(src, a, identStart(src, a, p), &pr, vals)
	}
	return pr, valueSpans(b, e, i, rl, &pr, vals)
}

// comparedBefore parses a quoted literal compared with the name that
// starts at src[s] ("X" == password, 'X' !== secret) and writes its span
// to vals.
func comparedBefore(src []byte, a, s int, pr *pair, vals *[maxList][2]int) int {
	j := s
	for j > a && (src[j-1] == ' ' || src[j-1] == '\t') {
		j--
	}
	switch {
	case j-3 >= a && (string(src[j-3:j]) == "===" || string(src[j-3:j]) == "!=="):
		j -= 3
	case j-2 >= a && (string(src[j-2:j]) == "==" || string(src[j-2:j]) == "!="):
		j -= 2
	default:
		return 0
	}
	for j > a && (src[j-1] == ' ' || src[j-1] == '\t') {
		j--
	}
	if j-1 <= a || (src[j-1] != '"' && src[j-1] != '\'') {
		return 0
	}
	qc, ve := src[j-1], j-1
	vs := ve
	for vs > a && ve-vs < maxValue && src[vs-1] != qc && src[vs-1] != '\n' {
		vs--
	}
	if vs <= a || vs == ve || src[vs-1] != qc || (vs-2 >= a && src[vs-2] == '\\') {
		return 0
	}
	pr.quoted, pr.sep = true, sepQuoted
	vals[0] = [2]int{vs, ve}
	return 1
}

// argOrSubscript handles a quoted name that is a call's first argument or
// a subscript: setProperty("X_TOKEN", "v"), headers.Set("X-Api-Key", "v"),
// os.environ["API_KEY"] = 'v', config["password"] = "v". o is the name's
// opening quote, i follows its closing quote. It returns where the
// separator starts; a call argument then needs a quoted value.
func argOrSubscript(src []byte, a, e, o, i int, pr *pair) (int, bool) {
	k := o - 1
	for k >= a && (src[k] == ' ' || src[k] == '\t') {
		k--
	}
	if k < a {
		return i, false
	}
	switch src[k] {
	case '(':
		if !setterCall(src, a, k) {
			return i, false // Buffer.from("accountKey", "base64")
		}
		j := skipBlanks(src, i, e)
		if j < e && src[j] == ',' {
			j = skipBlanks(src, j+1, e)
			if j < e && (src[j] == '"' || src[j] == '\'') {
				pr.sep = sepArg
				return j, true
			}
		}
	case '[':
		if i < e && src[i] == ']' {
			return i + 1, true
		}
	}
	return i, false
}

// setterSuffixes end the names of functions that store a value under a
// name (setProperty, headers.Set, putenv, AddHeader, setItem).
var setterSuffixes = []string{"set", "put", "add", "property", "env", "header", "item", "attribute", "secret", "credential", "store", "save", "param", "parameter", "field", "value", "setting", "config", "var", "variable", "default"}

// setterCall reports whether the function called at src[k] ('(') stores
// its arguments as a name and a value.
func setterCall(src []byte, a, k int) bool {
	i := k
	for i > a && k-i < 48 && (isAlnum(src[i-1]) || src[i-1] == '_') {
		i--
	}
	if i == k {
		return false
	}
	name := src[i:k]
	for _, suf := range setterSuffixes {
		if len(name) >= len(suf) && containsFold(name[len(name)-len(suf):], suf) {
			return true
		}
	}
	return false
}

func skipDigits(src []byte, i, e int) int {
	for i < e && src[i]-'0' < 10 {
		i++
	}
	return i
}

// separator parses what joins the name to its value, starting at src[i],
// and returns where the value starts (or -1).
func (st *state) separator(b *buffer, e, i int, pr *pair) int {
	src := b.src
	switch pr.sep {
	case sepArg:
		pr.sep = sepQuoted
		return i
	case sepQuery:
		switch {
		case i < e && src[i] == '=':
			return i + 1
		case i+3 <= e && foldIs(src[i:i+3], "%3d"):
			return i + 3
		}
		return -1
	case sepXML:
		if i < e && src[i] == '>' {
			return i + 1
		}
		return -1
	}
	blanks := i
	i = skipBlanks(src, i, e)
	spaced := i > blanks
	switch {
	case hasAt(src, i, e, "==="), hasAt(src, i, e, "!=="):
		pr.sep, i = sepQuoted, i+3
	case hasAt(src, i, e, "=="), hasAt(src, i, e, "!="):
		pr.sep, i = sepQuoted, i+2
	case hasAt(src, i, e, ":::="):
		pr.sep, i = sepAssign, i+4
	case hasAt(src, i, e, "::="):
		pr.sep, i = sepAssign, i+3
	case hasAt(src, i, e, ":="), hasAt(src, i, e, "=>"), hasAt(src, i, e, "?="), hasAt(src, i, e, ".="):
		pr.sep, i = sepAssign, i+2
	case i < e && src[i] == '=':
		if pr.sep == sepSpaced {
			pr.sep = sepAssign // --password=value
		} else {
			pr.sep = sepEq
		}
		i++
	case i < e && src[i] == ':':
		pr.sep = sepColon
		i++
		// const k: string = "X"
		if j := typeThenAssign(src, skipBlanks(src, i, e), e); j > 0 {
			pr.sep, i = sepAssign, j
		}
	case pr.sep == sepPct && i+3 <= e && (foldIs(src[i:i+3], "%3a") || foldIs(src[i:i+3], "%3d")):
		i += 3
	case pr.sep == sepSpaced && spaced && i < e && src[i] != '-':
		return i // --name value: the blanks are the separator.
	case pr.word && !spaced && i+1 < e && src[i] == '(' && (src[i+1] == '"' || src[i+1] == '\'') && quotedThen(src, i+1, e, ')'):
		// .password("X"), std::string secret("X"): the one argument of a
		// call named by the credential word alone (not checkPassword).
		pr.sep, pr.solid, i = sepQuoted, true, i+1
	case spaced && i < e && (src[i] == '"' || src[i] == '\'') && quotedThen(src, i, e, ';'):
		// password "X"; secret "base64=="; (BIND, nginx directives)
		pr.sep, pr.solid = sepQuoted, true
	case spaced && leaderEnd(src, i, e) > 0:
		// Ldap password ---- X, Password ........ X
		pr.sep, i = sepAssign, leaderEnd(src, i, e)
	case spaced && i+1 < e && src[i] == '-' && (src[i+1] == ' ' || src[i+1] == '\t'):
		// acme token - 'X'
		pr.sep, i = sepQuoted, i+1
	case spaced:
		// var acmeToken string = "X"; the password is 'X'.
		if j := typeThenAssign(src, i, e); j > 0 {
			pr.sep, i = sepAssign, j
		} else if j := proseIs(src, i, e); j > 0 {
			pr.sep, i = sepQuoted, j
		} else if pr.blankSep {
			pr.sep = sepSpaced
			return i
		} else {
			return -1
		}
	default:
		return -1
	}
	if pr.sep == sepSpaced {
		pr.sep = sepColon
	}
	return skipBlanks(src, i, e)
}

// quotedThen reports whether the string quoted at src[i] closes on its
// line and is followed, after blanks, by c.
func quotedThen(src []byte, i, e int, c byte) bool {
	q := src[i]
	lim := min(e, i+1+maxValue)
	k := i + 1
	for k < lim && src[k] != q && src[k] != '\n' {
		k++
	}
	if k >= lim || src[k] != q || k == i+1 {
		return false
	}
	j := skipBlanks(src, k+1, e)
	return j < e && src[j] == c
}

// leaderEnd returns the end of a run of three or more '-' or '.' at src[i]
// followed by a blank (an aligned label's leader), or 0.
func leaderEnd(src []byte, i, e int) int {
	j := i
	for j < e && j-i < 64 && (src[j] == '-' || src[j] == '.') && src[j] == src[i] {
		j++
	}
	if j-i < 3 || j >= e || (src[j] != ' ' && src[j] != '\t') {
		return 0
	}
	return j
}

func hasAt(src []byte, i, e int, s string) bool {
	return i+len(s) <= e && string(src[i:i+len(s)]) == s
}

// typeWords are type names that may stand between a name and its value
// (var token string = "X", val password: String = "X") and that are never
// a value themselves (fn(token: String)).
var typeWords = map[string]bool{
	"string": true, "String": true, "str": true, "&str": true, "[]byte": true, "SecureString": true,
	"CharSequence": true, "Text": true, "Secret": true, "SecretStr": true, "bytes": true, "char*": true,
	"int": true, "Int": true, "number": true, "any": true, "bool": true, "Boolean": true, "boolean": true,
	"Buffer": true, "object": true, "Object": true, "None": true, "Option<String>": true, "Optional[str]": true,
}

// typeThenAssign matches a type word then an assignment (string = , String
// :=) at src[i] and returns where the value starts, or 0.
func typeThenAssign(src []byte, i, e int) int {
	j := i
	for j < e && j-i < 16 && src[j] != ' ' && src[j] != '\t' && src[j] != '=' && src[j] != ':' {
		j++
	}
	if j == i || !typeWords[string(src[i:j])] {
		return 0
	}
	j = skipBlanks(src, j, e)
	switch {
	case hasAt(src, j, e, ":="):
		return j + 2
	case hasAt(src, j, e, "==") || hasAt(src, j, e, "=>"):
		return 0
	case j < e && src[j] == '=':
		return j + 1
	}
	return 0
}

// proseIs matches "<up to five words> is " at src[i], in any case (the
// password for user 'postgres' is 'admin') and returns where the value
// starts, or 0. The value must then be quoted.
func proseIs(src []byte, i, e int) int {
	lim := min(e, i+64)
	words := 0
	for j := i; j < lim; j++ {
		c := src[j]
		switch {
		case c == ' ' || c == '\t':
			continue
		case j+3 <= lim && foldIs(src[j:j+3], "is ") && (j == i || src[j-1] == ' '):
			return j + 3
		case isAlnum(c) || c == '\'' || c == '"' || c == '-' || c == '_':
			words++
			if words > 5 {
				return 0
			}
			for j+1 < lim && src[j+1] != ' ' && src[j+1] != '\t' {
				if !isAlnum(src[j+1]) && src[j+1] != '\'' && src[j+1] != '"' && src[j+1] != '-' && src[j+1] != '_' {
					return 0
				}
				j++
			}
		default:
			return 0
		}
	}
	return 0
}

// valueSpans parses the value that starts at src[i] and writes its span,
// or the spans of a list's elements, to vals.
func valueSpans(b *buffer, e, i int, rl *rule, pr *pair, vals *[maxList][2]int) int {
	src := b.src
	c := src[i]
	ampEnds := pr.sep == sepEq || pr.sep == sepQuery
	switch {
	case pr.sep == sepPct:
		if bytes.HasPrefix(src[i:e], pr.q) {
			i += len(pr.q)
		}
		vals[0] = [2]int{i, pctEnd(src, i, e)}
		return 1
	case pr.sep == sepEq && bytes.HasPrefix(src[i:e], []byte("{{")):
		// A template ({{secret}}) is a placeholder; anything else is
		// masked up to its first brace, as before.
		if k := bytes.Index(src[i:e], []byte("}}")); k >= 0 && isPlaceholder(src[i:i+k+2]) {
			return 0
		}
	case pr.sep == sepEq && c == '{':
		// An ODBC connection-string value in braces may hold ';' ("}}"
		// escapes a brace): mask what is inside them.
		if end := bracedEnd(src, i+1, e); end >= 0 {
			if isPlaceholder(src[i:end+1]) || isReference(src[i:end+1]) {
				return 0
			}
			vals[0] = [2]int{i + 1, end}
			return 1
		}
	case (c == '$' || c == '#') && i+1 < e && src[i+1] == '{':
		// ${VAR}, #{expr}: a reference, whole.
		if k := bytes.IndexByte(src[i:min(e, i+256)], '}'); k > 0 && (i+k+1 >= e || !isAlnum(src[i+k+1])) {
			vals[0] = [2]int{i, i + k + 1}
			return 1
		}
	case c == '@' && i+1 < e && src[i+1] >= 'a' && src[i+1] <= 'z' && logicAppsCall(src[i+1:min(e, i+maxValue)]):
		return 0 // @parameters('x'), @body('y')?['v']: an expression, not a value
	case pr.sep == sepXML && c == '{':
		// Jenkins keeps credentials encrypted in braces
		// (<secret>{AQAAABAAAAAQ…}</secret>): the element's text is the
		// value, whole, when the braces close right before its end tag.
		if k := bytes.IndexByte(src[i:min(e, i+maxValue)], '}'); k > 1 && hasAt(src, i+k+1, e, "</") &&
			!isPlaceholder(src[i:i+k+1]) && (!isReference(src[i:i+k+1]) || looksRandom(src[i+1:i+k])) {
			vals[0] = [2]int{i + 1, i + k}
			return 1
		}
		return 0
	case c == '{' || c == '(':
		return 0 // an object, a block or an expression, not a value
	case pr.sep == sepXML:
		// <apiToken>\n    X\n</apiToken>: the element's text, trimmed.
		if c == '\n' || c == '\r' || c == ' ' || c == '\t' {
			return xmlText(src, e, i, vals)
		}
	case pr.sep == sepQuery:
	case pr.sep == sepColon && (c == '>' || c == '|'):
		// password: >- then the value on the following lines.
		return blockScalar(src, e, i, vals)
	case c == '[':
		return listSpans(src, e, i, pr, vals)
	case c == '"' || c == '\'':
		return quotedSpans(src, e, i, pr, vals)
	case c == '@' && i+1 < e && src[i+1] == '"':
		// C# verbatim and Objective-C string literals: @"value".
		return quotedSpans(src, e, i+1, pr, vals)
	case c == '\\' && i+1 < e && src[i+1] == '"':
		if pr.plural {
			return 0
		}
		pr.quoted = true
		vs, ve := quoted(src, i+2, e, src[i:i+2])
		vals[0] = [2]int{vs, ve}
		return 1
	}
	if pr.sep == sepQuoted {
		return 0 // ==, " - " and prose take a quoted literal only
	}
	if pr.plural {
		return 0 // tokens: 1500 is a count; a plural name takes a list
	}
	query, xml := pr.sep == sepQuery, pr.sep == sepXML
	ve := unquotedEnd(src, i, e, query, xml, rl.keepScheme, rl.wholeLine, ampEnds)
	// A parenthesis opened inside the value does not end it at its
	// closing one: %(name)s-realpart, @Work(2023)#k.
	for k := 0; k < 4 && ve < e && src[ve] == ')' && bytes.Count(src[i:ve], []byte("(")) > bytes.Count(src[i:ve], []byte(")")); k++ {
		ve = unquotedEnd(src, ve+1, e, query, xml, rl.keepScheme, rl.wholeLine, ampEnds)
	}
	vals[0] = [2]int{i, ve}
	return 1
}

// quotedSpans parses a quoted value at src[i], or a list of them joined by
// '|' (tokens = 'a' | 'b'), and writes their spans to vals.
func quotedSpans(src []byte, e, i int, pr *pair, vals *[maxList][2]int) int {
	c := src[i]
	pr.quoted = true
	n := 0
	for n < maxList {
		vs, ve := quoted(src, i+1, e, src[i:i+1])
		if c == pr.inString || (pr.inString != 0 && bytes.IndexByte(src[vs:ve], pr.inString) >= 0) {
			return 0 // the closing quote of the string around the name
		}
		vals[n] = [2]int{vs, ve}
		n++
		j := skipBlanks(src, min(ve+1, e), e)
		if j >= e || src[j] != '|' {
			break
		}
		j = skipBlanks(src, j+1, e)
		if j >= e || src[j] != c {
			break
		}
		i = j
	}
	if pr.plural && n < 2 {
		return 0
	}
	return n
}

// xmlText returns the trimmed text of an element that starts with blanks
// or line breaks at src[i] and ends at the next '<', which must close it.
func xmlText(src []byte, e, i int, vals *[maxList][2]int) int {
	lim := min(e, i+maxValue)
	vs := i
	for vs < lim && (src[vs] == ' ' || src[vs] == '\t' || src[vs] == '\r' || src[vs] == '\n') {
		vs++
	}
	k := bytes.IndexByte(src[vs:lim], '<')
	if k <= 0 || !hasAt(src, vs+k, e, "</") {
		return 0
	}
	ve := vs + k
	for ve > vs && (src[ve-1] == ' ' || src[ve-1] == '\t' || src[ve-1] == '\r' || src[ve-1] == '\n') {
		ve--
	}
	vals[0] = [2]int{vs, ve}
	return 1
}

// blockScalar parses a YAML block scalar indicator (>, |, >-, |+, >2) at
// src[i] and returns the span of its indented lines, masked whole.
func blockScalar(src []byte, e, i int, vals *[maxList][2]int) int {
	j := i + 1
	for j < e && j-i < 3 && (src[j] == '-' || src[j] == '+' || src[j]-'0' < 10) {
		j++
	}
	j = skipBlanks(src, j, e)
	if j < e && src[j] == '\r' {
		j++
	}
	if j >= e || src[j] != '\n' {
		return 0
	}
	// The indentation of the name's line.
	ls := i
	for ls > 0 && src[ls-1] != '\n' {
		ls--
	}
	indent := skipBlanks(src, ls, i) - ls
	lim := min(e, j+maxValue)
	vs, ve := -1, -1
	for k := j + 1; k < lim; {
		end := bytes.IndexByte(src[k:lim], '\n')
		if end < 0 {
			end = lim
		} else {
			end += k
		}
		text := skipBlanks(src, k, end)
		switch {
		case text >= end || (text == end-1 && src[text] == '\r'):
			// a blank line inside the block
		case text-k <= indent:
			k = lim
			continue
		default:
			if vs < 0 {
				vs = text
			}
			ve = end
			if ve > vs && src[ve-1] == '\r' {
				ve--
			}
		}
		k = end + 1
	}
	if vs < 0 {
		return 0
	}
	vals[0] = [2]int{vs, ve}
	return 1
}

// listSpans parses ["a", "b"] at src[i]: every quoted element is a value.
// A bracket that holds no quoted element ([storage key here]) is a
// placeholder.
func listSpans(src []byte, e, i int, pr *pair, vals *[maxList][2]int) int {
	n := 0
	j := i + 1
	for n < maxList {
		j = skipBlanks(src, j, e)
		if j >= e || (src[j] != '"' && src[j] != '\'') {
			break
		}
		vs, ve := quoted(src, j+1, e, src[j:j+1])
		if ve >= e || src[ve] != src[j] {
			break
		}
		vals[n] = [2]int{vs, ve}
		n++
		j = skipBlanks(src, ve+1, e)
		if j >= e || src[j] != ',' {
			break
		}
		j++
	}
	if n > 0 {
		pr.quoted = true
	}
	return n
}

// secretValue is the decision: whether the value v found under a name of
// rule rl is a secret, rather than a placeholder, a reference, code, a
// label or a dummy. n is the length of the name hit.
func secretValue(rl *rule, pr *pair, v []byte, n int) bool {
	if isPlaceholder(v) || isDummy(v) {
		return false
	}
	if !pr.quoted && notLiteral(v) {
		return false
	}
	if pr.solid && bytes.ContainsAny(v, " \t") {
		return false // password("Enter your password: ")
	}
	if isReference(v) || bytes.HasPrefix(v, []byte("arn:")) || sameName(v, pr.name) {
		return false
	}
	if pr.sep == sepSpaced && !rl.mixed && !flagValue(v) {
		return false
	}
	// A short name (pass, pw, key) holding a number or a word of three
	// bytes is a counter or a flag: first_pass = 1.
	if n <= 4 && (len(v) < 4 || (len(v) < 6 && isDigits(string(v)))) {
		return false
	}
	// A random-gated name (key, auth), or a short bare name joined by a
	// colon to an unquoted word (PASS: TestLogin), needs a random value.
	if rl.mixed {
		return looksRandom(v) && mixedClasses(v)
	}
	if rl.random || (pr.bare && n <= 4 && pr.sep == sepColon && !pr.quoted) {
		return looksRandom(v)
	}
	return true
}

// notLiteral reports an unquoted value that is code rather than a literal:
// a call (Buffer.from(), a type (String), a dotted reference to a
// variable or setting (env.DB_PASSWORD, process.env.X, self.password).
func notLiteral(v []byte) bool {
	if typeWords[string(v)] || cmdlet(v) {
		return true
	}
	if k := bytes.IndexByte(v, '('); k >= 0 {
		// f(, obj.method(
		id := true
		for _, c := range v[:k] {
			if !isAlnum(c) && c != '_' && c != '.' && c != '$' {
				id = false
				break
			}
		}
		if id {
			return true
		}
	}
	return dottedReference(v)
}

// cmdletVerbs start PowerShell commands whose output a name is assigned
// ($pw = Read-Host, $key = Get-Content key.txt).
var cmdletVerbs = []string{"Get-", "Set-", "New-", "Read-", "ConvertTo-", "ConvertFrom-", "Import-", "Export-", "Invoke-", "Select-", "Join-", "Out-", "Write-", "Test-", "Find-", "Resolve-", "Protect-", "Unprotect-"}

// cmdlet reports a PowerShell Verb-Noun command word (Read-Host).
func cmdlet(v []byte) bool {
	for _, verb := range cmdletVerbs {
		if len(v) > len(verb)+1 && string(v[:len(verb)]) == verb && isUpper(v[len(verb)]) && identRun(v[len(verb):]) == len(v)-len(verb) {
			return true
		}
	}
	return false
}

// referenceRoots are the first words of a dotted path that names a
// variable or setting rather than holding a value.
var referenceRoots = map[string]bool{
	"env": true, "process": true, "os": true, "config": true, "settings": true, "self": true, "this": true,
	"params": true, "request": true, "req": true, "args": true, "opts": true, "options": true, "props": true,
	"ctx": true, "context": true, "system": true, "environment": true, "secrets": true, "vars": true,
	"inputs": true, "cfg": true, "conf": true, "app": true, "credentials": true, "creds": true, "user": true,
	"data": true, "form": true, "values": true, "var": true, "local": true, "module": true,
}

// dottedReference reports a dotted identifier path (a.b.C) whose root is a
// well-known object (env, process, self, config), or whose last segment is
// an UPPER_CASE setting name.
func dottedReference(v []byte) bool {
	dot := bytes.IndexByte(v, '.')
	if dot <= 0 || dot == len(v)-1 {
		return false
	}
	start := 0
	var last []byte
	for k := 0; k <= len(v); k++ {
		if k < len(v) && v[k] != '.' {
			c := v[k]
			if !isAlnum(c) && c != '_' && c != '$' {
				return false
			}
			continue
		}
		seg := v[start:k]
		if len(seg) == 0 || seg[0]-'0' < 10 {
			return false
		}
		last = seg
		start = k + 1
	}
	var buf [16]byte
	if dot <= len(buf) {
		root := buf[:dot]
		for k, c := range v[:dot] {
			root[k] = lower(c)
		}
		if referenceRoots[string(root)] {
			return true
		}
	}
	upper := len(last) >= 3
	for _, c := range last {
		if !isUpper(c) && c != '_' && c-'0' >= 10 {
			upper = false
		}
	}
	return upper
}

// logicAppsCall reports whether v starts with a function call of a
// Logic Apps / ARM expression (name(...) ending at the value's end, or
// followed by ?, [ or .): parameters('x'), body('y')?['value'].
func logicAppsCall(v []byte) bool {
	k := identRun(v)
	if k == 0 || k >= len(v) || v[k] != '(' {
		return false
	}
	depth := 0
	for j := k; j < len(v); j++ {
		switch v[j] {
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				if j+1 == len(v) {
					return true
				}
				switch v[j+1] {
				case ' ', '\t', '\r', '\n', '"', '\'', '?', '[', '.', ',', ';', '}', ')', ']':
					return true
				}
				return false
			}
		case '\n':
			return false
		}
	}
	return false
}

// isReference reports a value that names a variable or an expression
// rather than holding one: $var, $(command), ${VAR}, #{expr}, %VAR%,
// {0}, and an identifier made of the credential word itself
// (#add-password, forgot_password).
func isReference(v []byte) bool {
	if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
		v = v[1 : len(v)-1] // '$VAR' inside quotes
	}
	if len(v) < 2 {
		return false
	}
	switch {
	case v[0] == '$' && (v[1] == '(' || v[1] == '{'):
		return v[len(v)-1] == ')' || v[len(v)-1] == '}' || !bytes.ContainsAny(v, " \t")
	case v[0] == '$':
		// $var, $VAR/path, $HOST:port
		k := 1 + identRun(v[1:])
		return k > 1 && (k == len(v) || v[k] == '/' || v[k] == ':')
	case v[0] == '#' && v[1] == '{' && v[len(v)-1] == '}':
		return true
	case v[0] == '%' && v[len(v)-1] == '%' && len(v) > 2 && identRun(v[1:len(v)-1]) == len(v)-2:
		return true
	case v[0] == '{' && v[len(v)-1] == '}' && len(v) > 2 && identRun(v[1:len(v)-1]) == len(v)-2:
		return true
	}
	return selfLabel(v)
}

// sameName reports a value that spells the name itself (API_KEY = api_key):
// a variable of that name, not a secret.
func sameName(v, name []byte) bool {
	i, j := 0, 0
	for {
		for i < len(v) && (v[i] == '_' || v[i] == '-' || v[i] == '.') {
			i++
		}
		for j < len(name) && (name[j] == '_' || name[j] == '-' || name[j] == '.') {
			j++
		}
		if i == len(v) || j == len(name) {
			return i == len(v) && j == len(name) && len(name) > 0
		}
		if lower(v[i]) != lower(name[j]) {
			return false
		}
		i++
		j++
	}
}

// identRun returns the length of the identifier ([A-Za-z0-9_.]) at v's start.
func identRun(v []byte) int {
	k := 0
	for k < len(v) && (isAlnum(v[k]) || v[k] == '_' || v[k] == '.') {
		k++
	}
	return k
}

// credentialWords are the words a label or route holds when it names a
// credential field rather than holding one.
var credentialWords = [][]byte{[]byte("password"), []byte("passwd"), []byte("secret"), []byte("token"), []byte("apikey"), []byte("api-key"), []byte("api_key")}

// selfLabel reports a value of lower-case words joined by '-', '_', '#',
// '/' or '.' that holds a credential word: an element ID, route or setting
// name (#add-password, forgot_password), not a secret.
func selfLabel(v []byte) bool {
	sep := false
	for _, c := range v {
		switch {
		case c-'a' < 26 || c == '_' || c == '.':
		case c == '-' || c == '#' || c == '/':
			sep = true
		default:
			return false
		}
	}
	if !sep {
		return false
	}
	for _, w := range credentialWords {
		if bytes.Contains(v, w) {
			return true
		}
	}
	return false
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
// In text, & ends a value only after = (a form body: a=1&b=2), not after
// a colon (password: Correct&Horse9).
func unquotedEnd(src []byte, i, e int, query, xml, header, line, ampEnds bool) int {
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
			if c == '%' && j+3 <= lim && string(src[j:j+3]) == "%26" {
				return j
			}
		default:
			switch c {
			case ' ', '\t', '"', '\'', ';', ',', '<', '>', ')', ']', '}', '\\', '|':
				return j
			case '&':
				if ampEnds {
					return j
				}
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
func pctEnd(src []byte, i, e int) int {
	lim := min(e, i+maxValue)
	for j := i; j < lim; j++ {
		switch src[j] {
		case '\n', '\r', ' ', '\t', '"', '\'', '&', '#', '<', '>', '\\':
			return j
		case '%':
			if j+3 <= lim {
				switch k := [3]byte{'%', src[j+1], lower(src[j+2])}; string(k[:]) {
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
		if knownSchemes[string(bytes.ToLower(src[vs:vs+sp]))] {
			// "Bearer " + token: the scheme alone, the credential is
			// concatenated after it; nothing to mask here.
			return ve
		}
		return vs
	}
	return j
}

// knownSchemes are HTTP authentication schemes that, alone before blanks
// ("Bearer " + token), hold no credential.
var knownSchemes = map[string]bool{
	"bearer": true, "basic": true, "token": true, "digest": true, "oauth": true,
	"negotiate": true, "ntlm": true, "sharedkey": true, "ssws": true, "splunk": true,
	"apikey": true, "api-key": true, "key": true, "jwt": true, "hmac": true,
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
	// The words below are short: fold at most 16 bytes on the stack
	// rather than allocating a lower-cased copy of every value.
	var fold [16]byte
	low := fold[:0]
	if len(v) <= len(fold) {
		low = foldASCII(fold[:0], v)
	}
	switch string(low) {
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
		bytes.HasPrefix(v, []byte("@{")) && bytes.HasSuffix(v, []byte("}")),
		bytes.Equal(v, []byte("%s")):
		return true
	}
	if len(v) > 3 && v[0] == '%' && v[1] == '(' {
		// %(name)s, whole: %(name)s-realpart is a secret.
		k := 2 + identRun(v[2:])
		if k+2 == len(v) && v[k] == ')' && isAlpha(v[k+1]) {
			return true
		}
	}
	if v[0] == '@' && len(v) > 2 && isAlpha(v[1]) && logicAppsExpr(v[1:]) {
		return true // @parameters('x'), @body('Get_secret')?['value']
	}
	if keyVaultRef(v) {
		return true
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

// keyVaultRef reports whether v is a whole App Service / Functions Key
// Vault reference, @Microsoft.KeyVault(SecretUri=...) or
// @Microsoft.KeyVault(VaultName=...;SecretName=...): it names where the
// secret is, not the secret. Anything after its closing parenthesis makes
// it a value.
func keyVaultRef(v []byte) bool {
	const prefix = "@microsoft.keyvault("
	if len(v) <= len(prefix) || !bytes.EqualFold(v[:len(prefix)], []byte(prefix)) {
		return false
	}
	end := closeParen(v, len(prefix)-1)
	return end == len(v)-1 && end > len(prefix)
}

// logicAppsExpr reports whether v (after its '@') is a whole Logic Apps
// expression: a function call, then only ?['x'], ['x'] and .name
// accessors. @Work(2023)#k is not one.
func logicAppsExpr(v []byte) bool {
	k := 0
	for k < len(v) && k < 64 && (isAlnum(v[k]) || v[k] == '_') {
		k++
	}
	if k == 0 || k >= len(v) || v[k] != '(' {
		return false
	}
	end := closeParen(v, k)
	if end < 0 {
		return false
	}
	for i := end + 1; i < len(v); {
		switch {
		case v[i] == '?':
			i++
		case v[i] == '[':
			j := bytes.IndexByte(v[i:], ']')
			if j < 0 {
				return false
			}
			i += j + 1
		case v[i] == '.':
			i++
			n := identRun(v[i:])
			if n == 0 {
				return false
			}
			i += n
		default:
			return false
		}
	}
	return true
}

// closeParen returns the index of the parenthesis that closes v[k] ('('),
// skipping quoted strings, or -1.
func closeParen(v []byte, k int) int {
	depth := 0
	var q byte
	for i := k; i < len(v); i++ {
		c := v[i]
		switch {
		case q != 0:
			if c == q {
				q = 0
			}
		case c == '\'' || c == '"':
			q = c
		case c == '(':
			depth++
		case c == ')':
			depth--
			if depth == 0 {
				return i
			}
		}
	}
	return -1
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
