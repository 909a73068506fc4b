package secrets

import (
	"fmt"
	"strings"

	"github.com/flowmask/flowmask/redactor"
)

// loadDotenv reads a dotenv file. Each value's source is dotenv:FILE:NAME.
func loadDotenv(name string) ([]redactor.Literal, error) {
	data, err := readSmall(name)
	if err != nil {
		return nil, err
	}
	vars, err := ParseDotenv(data)
	if err != nil {
		return nil, fmt.Errorf("%s:%w", name, err)
	}
	lits := make([]redactor.Literal, 0, len(vars))
	for _, v := range vars {
		if v.Value == "" {
			continue
		}
		lits = append(lits, redactor.Literal{Source: "dotenv:" + name + ":" + v.Name, Value: v.Value})
	}
	return lits, nil
}

// DotenvVar is one assignment of a dotenv file.
type DotenvVar struct {
	Name  string
	Value string
	// Line is the 1-based line where the assignment starts.
	Line int
}

// ParseDotenv parses dotenv data:
//
//	# comment
//	NAME=value            # a comment after whitespace is dropped
//	export NAME=value
//	NAME='single quoted: taken as is, may span lines'
//	NAME="double quoted: \n \r \t \" \\ \$ are escapes, may span lines"
//	NAME=`backquoted: taken as is`
//
// Variables ($X, ${X}) are not expanded. Errors start with the line number
// ("3: ...") and never contain a value.
func ParseDotenv(data []byte) ([]DotenvVar, error) {
	s := strings.ReplaceAll(string(data), "\r\n", "\n")
	s = strings.TrimPrefix(s, "\ufeff")
	var vars []DotenvVar
	line := 1
	for len(s) > 0 {
		var raw string
		raw, s, _ = strings.Cut(s, "\n")
		start := line
		line++
		t := strings.TrimLeft(raw, " \t")
		if t == "" || t[0] == '#' {
			continue
		}
		if rest, ok := strings.CutPrefix(t, "export"); ok && len(rest) > 0 && (rest[0] == ' ' || rest[0] == '\t') {
			t = strings.TrimLeft(rest, " \t")
		}
		name, val, ok := strings.Cut(t, "=")
		name = strings.TrimRight(name, " \t")
		if !ok {
			return nil, fmt.Errorf("%d: expected NAME=value", start)
		}
		if !validEnvName(name) {
			return nil, fmt.Errorf("%d: invalid variable name", start)
		}
		val = strings.TrimLeft(val, " \t")
		if val != "" && (val[0] == '\'' || val[0] == '"' || val[0] == '`') {
			q := val[0]
			body := val[1:]
			// A quoted value may continue on the following lines.
			for {
				end := closingQuote(body, q)
				if end >= 0 {
					after := strings.TrimLeft(body[end+1:], " \t")
					if after != "" && after[0] != '#' {
						return nil, fmt.Errorf("%d: unexpected text after the closing quote of %s", start, name)
					}
					body = body[:end]
					break
				}
				if len(s) == 0 {
					return nil, fmt.Errorf("%d: %s: unterminated quoted value", start, name)
				}
				var next string
				next, s, _ = strings.Cut(s, "\n")
				line++
				body += "\n" + next
			}
			if q == '"' {
				body = unescapeDouble(body)
			}
			val = body
		} else {
			if i := strings.Index(val, " #"); i >= 0 {
				val = val[:i]
			}
			if i := strings.Index(val, "\t#"); i >= 0 {
				val = val[:i]
			}
			val = strings.TrimRight(val, " \t")
		}
		vars = append(vars, DotenvVar{Name: name, Value: val, Line: start})
	}
	return vars, nil
}

// closingQuote returns the index of the quote ending body, -1 if none.
// Inside double quotes a backslash escapes the next byte.
func closingQuote(body string, q byte) int {
	for i := 0; i < len(body); i++ {
		switch body[i] {
		case '\\':
			if q == '"' {
				i++
			}
		case q:
			return i
		}
	}
	return -1
}

func unescapeDouble(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 == len(s) {
			b.WriteByte(c)
			continue
		}
		i++
		switch s[i] {
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case '"', '\\', '$', '`', '\'':
			b.WriteByte(s[i])
		default:
			b.WriteByte('\\')
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

func validEnvName(n string) bool {
	if n == "" {
		return false
	}
	for i := 0; i < len(n); i++ {
		c := n[i]
		switch {
		case c == '_', c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z':
		case i > 0 && (c >= '0' && c <= '9' || c == '.' || c == '-'):
		default:
			return false
		}
	}
	return true
}
