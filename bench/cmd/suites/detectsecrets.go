package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"unicode"
)

// loadDetectSecrets reads the plugin tests of a detect-secrets checkout
// (tests/plugins/*_test.py): every two-element tuple whose first element
// is a string expression and whose second is True, False, None or a string
// (the `(line, should_flag)` and `(line, expected_secret)` cases of the
// parametrized tests). String expressions are literals (implicit
// concatenation, u/r/b prefixes), module-level constants, + and
// '...'.format(...) with positional {} fields; anything else is skipped.
//
// The secret of a positive is the expected string when the test names one,
// else the longest run of non-blank, non-quote characters of the line
// (most lines are the credential alone, or `name = "credential"`).
// A negative that holds a secret of one of the suite's positives is marked
// disputed (detect-secrets' keyword tests reject the same credential in
// one language's syntax that they accept in another's).
func loadDetectSecrets(dir string) (*suite, error) {
	names, err := filepath.Glob(filepath.Join(dir, "tests", "plugins", "*_test.py"))
	if err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("detect-secrets: no tests in %s", filepath.Join(dir, "tests", "plugins"))
	}
	sort.Strings(names)
	s := &suite{name: "detect-secrets"}
	for _, n := range names {
		src, err := os.ReadFile(n)
		if err != nil {
			return nil, fmt.Errorf("detect-secrets: %w", err)
		}
		toks := pyTokenize(string(src))
		p := &pyParser{toks: toks, consts: pyConstants(toks)}
		base := filepath.Base(n)
		for i := range toks {
			if toks[i].kind != pyOp || toks[i].text != "(" {
				continue
			}
			p.pos = i + 1
			text, err := p.expr()
			if p.pos >= len(toks) || toks[p.pos].text != "," {
				continue
			}
			p.pos++
			second := p.pos
			if second >= len(toks) {
				continue
			}
			p.pos++
			if p.pos < len(toks) && toks[p.pos].text == "," {
				p.pos++
			}
			if p.pos >= len(toks) || toks[p.pos].text != ")" {
				continue
			}
			t := toks[second]
			where := fmt.Sprintf("%s:%d", base, toks[i].line)
			var secret string
			positive := false
			switch {
			case t.kind == pyName && t.text == "True":
				positive = true
			case t.kind == pyName && (t.text == "False" || t.text == "None"):
			case t.kind == pyString:
				positive, secret = true, t.text
			case t.kind == pyName && p.consts[t.text] != "":
				positive, secret = true, p.consts[t.text]
			default:
				continue
			}
			if err != nil {
				s.skip(where, err)
				continue
			}
			if strings.Contains(text, "{secret}") || strings.Contains(text, "{non_secret}") {
				// A template the test fills with str.format(secret=...).
				s.skip(where, fmt.Errorf("%w: format template", errUnsupported))
				continue
			}
			if !positive {
				s.negatives = append(s.negatives, example{where: where, text: text})
				continue
			}
			if secret == "" {
				secret = longestField(text)
			}
			if secret == "" || !strings.Contains(text, secret) {
				s.skip(where, fmt.Errorf("no secret found in the line"))
				continue
			}
			s.positives = append(s.positives, example{where: where, text: text, secrets: []string{secret}})
		}
	}
	for i := range s.negatives {
		for _, p := range s.positives {
			if strings.Contains(s.negatives[i].text, p.secrets[0]) {
				s.negatives[i].disputed = true
				break
			}
		}
	}
	return s, nil
}

// longestField is the longest run of characters that are not blanks,
// quotes or brackets.
func longestField(line string) string {
	best := ""
	for _, f := range strings.FieldsFunc(line, func(r rune) bool {
		return unicode.IsSpace(r) || strings.ContainsRune("\"'`()[]{}<>,;", r)
	}) {
		if len(f) > len(best) {
			best = f
		}
	}
	return best
}

type pyKind int

const (
	pyOp pyKind = iota
	pyName
	pyString
	pyNumber
	pyFString
)

type pyToken struct {
	kind pyKind
	text string // the value for strings
	line int
	col  int
}

// pyTokenize splits Python source into the tokens the tuple reader needs.
// Strings are unquoted; escapes follow Python's (\n, \t, \\, \', \", \xNN,
// \uNNNN), raw strings keep backslashes.
func pyTokenize(src string) []pyToken {
	var toks []pyToken
	line, col := 1, 0
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case c == '\n':
			line++
			col = 0
			i++
			continue
		case c == ' ' || c == '\t' || c == '\r' || c == '\\':
			i++
			col++
			continue
		case c == '#':
			for i < len(src) && src[i] != '\n' {
				i++
			}
			continue
		}
		startCol := col
		if isPyNameStart(c) {
			j := i
			for j < len(src) && (isPyNameStart(src[j]) || (src[j] >= '0' && src[j] <= '9')) {
				j++
			}
			word := src[i:j]
			if j < len(src) && (src[j] == '\'' || src[j] == '"') && len(word) <= 2 && strings.Trim(strings.ToLower(word), "urbf") == "" {
				raw := strings.ContainsAny(word, "rR")
				f := strings.ContainsAny(word, "fF")
				s, n, nl := readPyString(src[j:], raw)
				kind := pyString
				if f {
					kind = pyFString
				}
				toks = append(toks, pyToken{kind: kind, text: s, line: line, col: startCol})
				line += nl
				col += j - i + n
				i = j + n
				continue
			}
			toks = append(toks, pyToken{kind: pyName, text: word, line: line, col: startCol})
			col += j - i
			i = j
			continue
		}
		if c == '\'' || c == '"' {
			s, n, nl := readPyString(src[i:], false)
			toks = append(toks, pyToken{kind: pyString, text: s, line: line, col: startCol})
			line += nl
			col += n
			i += n
			continue
		}
		if c >= '0' && c <= '9' {
			j := i
			for j < len(src) && (isPyNameStart(src[j]) || (src[j] >= '0' && src[j] <= '9') || src[j] == '.') {
				j++
			}
			toks = append(toks, pyToken{kind: pyNumber, text: src[i:j], line: line, col: startCol})
			col += j - i
			i = j
			continue
		}
		toks = append(toks, pyToken{kind: pyOp, text: string(c), line: line, col: startCol})
		i++
		col++
	}
	return toks
}

func isPyNameStart(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

// readPyString reads a quoted string at the start of s and returns its value,
// the bytes consumed and the newlines crossed.
func readPyString(s string, raw bool) (string, int, int) {
	q := s[:1]
	if strings.HasPrefix(s, q+q+q) {
		q = q + q + q
	}
	var b strings.Builder
	i := len(q)
	nl := 0
	for i < len(s) {
		if strings.HasPrefix(s[i:], q) {
			return b.String(), i + len(q), nl
		}
		c := s[i]
		if c == '\n' {
			nl++
		}
		if c == '\\' && i+1 < len(s) {
			if raw {
				b.WriteByte(c)
				b.WriteByte(s[i+1])
				i += 2
				continue
			}
			e := s[i+1]
			i += 2
			switch e {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			case '0':
				b.WriteByte(0)
			case '\n':
				nl++
			case 'x', 'u', 'U':
				n := map[byte]int{'x': 2, 'u': 4, 'U': 8}[e]
				if i+n <= len(s) {
					if v, err := strconv.ParseUint(s[i:i+n], 16, 32); err == nil {
						b.WriteRune(rune(v))
						i += n
						continue
					}
				}
				b.WriteByte('\\')
				b.WriteByte(e)
			case '\\', '\'', '"':
				b.WriteByte(e)
			default:
				b.WriteByte('\\')
				b.WriteByte(e)
			}
			continue
		}
		b.WriteByte(c)
		i++
	}
	return b.String(), len(s), nl
}

// pyConstants evaluates module-level `NAME = <string expression>` lines.
func pyConstants(toks []pyToken) map[string]string {
	consts := map[string]string{}
	p := &pyParser{toks: toks, consts: consts}
	for i := 0; i+2 < len(toks); i++ {
		if toks[i].kind != pyName || toks[i].col != 0 || toks[i+1].text != "=" || toks[i+2].text == "=" {
			continue
		}
		p.pos = i + 2
		if s, err := p.expr(); err == nil {
			consts[toks[i].text] = s
		}
	}
	return consts
}

type pyParser struct {
	toks   []pyToken
	pos    int
	consts map[string]string
}

var errPyUnsupported = fmt.Errorf("%w: python expression", errUnsupported)

// expr parses string terms joined by +; on an unsupported term it skips
// to the end of the expression (the next , or closing bracket at depth 0)
// and reports the error.
func (p *pyParser) expr() (string, error) {
	s, err := p.term()
	for err == nil && p.pos < len(p.toks) && p.toks[p.pos].text == "+" {
		p.pos++
		var t string
		t, err = p.term()
		s += t
	}
	if err != nil {
		p.skipExpr()
	}
	return s, err
}

func (p *pyParser) skipExpr() {
	depth := 0
	for ; p.pos < len(p.toks); p.pos++ {
		switch p.toks[p.pos].text {
		case "(", "[", "{":
			depth++
		case ")", "]", "}":
			if depth == 0 {
				return
			}
			depth--
		case ",":
			if depth == 0 {
				return
			}
		}
	}
}

// term is a string literal run (implicit concatenation) or a constant,
// optionally followed by .format(...), [a:b] slices left out, or * n.
func (p *pyParser) term() (string, error) {
	if p.pos >= len(p.toks) {
		return "", errPyUnsupported
	}
	t := p.toks[p.pos]
	var s string
	switch {
	case t.kind == pyString:
		for p.pos < len(p.toks) && p.toks[p.pos].kind == pyString {
			s += p.toks[p.pos].text
			p.pos++
		}
	case t.kind == pyName && p.consts[t.text] != "":
		s = p.consts[t.text]
		p.pos++
	case t.text == "(":
		p.pos++
		v, err := p.expr()
		if err != nil || p.pos >= len(p.toks) || p.toks[p.pos].text != ")" {
			return "", errPyUnsupported
		}
		p.pos++
		s = v
	default:
		return "", errPyUnsupported
	}
	for p.pos+1 < len(p.toks) {
		switch {
		case p.toks[p.pos].text == "." && p.toks[p.pos+1].text == "format":
			p.pos += 2
			if p.pos >= len(p.toks) || p.toks[p.pos].text != "(" {
				return "", errPyUnsupported
			}
			p.pos++
			var args []string
			for p.pos < len(p.toks) && p.toks[p.pos].text != ")" {
				a, err := p.expr()
				if err != nil {
					return "", err
				}
				args = append(args, a)
				if p.pos < len(p.toks) && p.toks[p.pos].text == "," {
					p.pos++
				}
			}
			p.pos++
			f, err := pyFormat(s, args)
			if err != nil {
				return "", err
			}
			s = f
		case p.toks[p.pos].text == "*" && p.toks[p.pos+1].kind == pyNumber:
			n, err := strconv.Atoi(p.toks[p.pos+1].text)
			if err != nil || n < 0 || n > 1<<16 {
				return "", errPyUnsupported
			}
			s = strings.Repeat(s, n)
			p.pos += 2
		default:
			return s, nil
		}
	}
	return s, nil
}

// pyFormat applies str.format with positional fields ({} and {0}) and
// {{ }} escapes; named fields and format specs are not supported.
func pyFormat(f string, args []string) (string, error) {
	var b strings.Builder
	next := 0
	for i := 0; i < len(f); i++ {
		c := f[i]
		switch {
		case c == '{' && i+1 < len(f) && f[i+1] == '{':
			b.WriteByte('{')
			i++
		case c == '}' && i+1 < len(f) && f[i+1] == '}':
			b.WriteByte('}')
			i++
		case c == '{':
			j := strings.IndexByte(f[i:], '}')
			if j < 0 {
				return "", errPyUnsupported
			}
			field := f[i+1 : i+j]
			idx := next
			if field != "" {
				n, err := strconv.Atoi(field)
				if err != nil {
					return "", errPyUnsupported
				}
				idx = n
			} else {
				next++
			}
			if idx >= len(args) {
				return "", errPyUnsupported
			}
			b.WriteString(args[idx])
			i += j
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}
