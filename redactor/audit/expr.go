package audit

import (
	"regexp"
	"strings"
)

// segment is a run of a definition string: literal text, or the text of a
// workflow expression (without its @ or @{ }).
type segment struct {
	text string
	expr bool
}

// segments splits a workflow definition string into literal text and
// expressions. "@x" is one whole expression, "@{x}" interpolates inside
// text, "@@" is an escaped "@". With arm set, "[x]" (but not "[[x]") is an
// ARM template expression, evaluated at deployment.
func segments(s string, arm bool) []segment {
	if arm && len(s) >= 2 && s[0] == '[' && s[1] != '[' && s[len(s)-1] == ']' {
		return []segment{{text: s[1 : len(s)-1], expr: true}}
	}
	if strings.HasPrefix(s, "@") && !strings.HasPrefix(s, "@@") && !strings.HasPrefix(s, "@{") {
		return []segment{{text: s[1:], expr: true}}
	}
	var out []segment
	var lit strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '@' || i+1 >= len(s) {
			lit.WriteByte(s[i])
			continue
		}
		switch s[i+1] {
		case '@':
			lit.WriteByte('@')
			i++
		case '{':
			end := exprEnd(s, i+2)
			if end < 0 { // unterminated: the runtime rejects it; treat as text
				lit.WriteString(s[i:])
				i = len(s)
				continue
			}
			if lit.Len() > 0 {
				out = append(out, segment{text: lit.String()})
				lit.Reset()
			}
			out = append(out, segment{text: s[i+2 : end], expr: true})
			i = end
		default:
			lit.WriteByte('@')
		}
	}
	if lit.Len() > 0 {
		out = append(out, segment{text: lit.String()})
	}
	return out
}

// exprEnd returns the index of the '}' closing an interpolation whose body
// starts at i, skipping quoted strings and nested braces; -1 if none.
func exprEnd(s string, i int) int {
	depth := 0
	for ; i < len(s); i++ {
		switch s[i] {
		case '\'':
			for i++; i < len(s); i++ {
				if s[i] == '\'' {
					if i+1 < len(s) && s[i+1] == '\'' {
						i++
						continue
					}
					break
				}
			}
		case '{':
			depth++
		case '}':
			if depth == 0 {
				return i
			}
			depth--
		}
	}
	return -1
}

// hasExpr reports whether s holds any expression.
func hasExpr(s string, arm bool) bool {
	for _, sg := range segments(s, arm) {
		if sg.expr {
			return true
		}
	}
	return false
}

// quoted returns the single-quoted string literals of an expression.
func quoted(expr string) []string {
	var out []string
	for i := 0; i < len(expr); i++ {
		if expr[i] != '\'' {
			continue
		}
		var sb strings.Builder
		for i++; i < len(expr); i++ {
			if expr[i] == '\'' {
				if i+1 < len(expr) && expr[i+1] == '\'' {
					sb.WriteByte('\'')
					i++
					continue
				}
				break
			}
			sb.WriteByte(expr[i])
		}
		out = append(out, sb.String())
	}
	return out
}

// ref is a reference made by an expression: fn is the lower-cased function
// (body, outputs, actions, result, parameters, variables) and name its
// first argument.
type ref struct {
	fn, name string
}

var refRE = regexp.MustCompile(`(?i)\b(body|outputs|actions|result|parameters|variables)\s*\(\s*'((?:[^']|'')*)'`)

// refs returns the references made by the expressions in s.
func refs(s string, arm bool) []ref {
	var out []ref
	for _, sg := range segments(s, arm) {
		if !sg.expr {
			continue
		}
		for _, m := range refRE.FindAllStringSubmatch(sg.text, -1) {
			out = append(out, ref{fn: strings.ToLower(m[1]), name: strings.ReplaceAll(m[2], "''", "'")})
		}
	}
	return out
}
