package yamlconf

import (
	"bytes"
	"errors"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// Doc is one parsed config file: a YAML document whose top level is a
// mapping of sections.
type Doc struct {
	// File names the file in errors.
	File string
	// root is the top-level mapping; nil for an empty document.
	root *yaml.Node
}

// Parse parses data, the contents of the config file file. A syntax error,
// a top level that is not a mapping, or a second YAML document is an error
// (as [Errors]). An empty or comment-only file gives an empty Doc.
func Parse(file string, data []byte) (*Doc, error) {
	d := &Doc{File: file}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return d, nil
		}
		return nil, Errors{syntaxError(file, data, err)}
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case errors.Is(err, io.EOF):
	case err != nil:
		return nil, Errors{syntaxError(file, data, err)}
	case len(next.Content) > 0 && !isNull(next.Content[0]):
		return nil, Errors{{File: file, Line: next.Line, Column: next.Column,
			Msg: "a second YAML document (after ---): a config file holds one"}}
	}
	if len(doc.Content) == 0 || isNull(doc.Content[0]) {
		return d, nil
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, Errors{{File: file, Line: root.Line, Column: root.Column, Msg: "the config must be a mapping of keys, got " + describe(root)}}
	}
	d.root = root
	return d, nil
}

// syntaxError turns yaml.v3's "yaml: line 4: msg" into an *Error. The parser
// gives a line only as text, and none on the first line.
func syntaxError(file string, data []byte, err error) *Error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 0
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if n, m, ok := strings.Cut(rest, ": "); ok {
			if l, err := strconv.Atoi(n); err == nil && l > 0 {
				line, msg = l, m
			}
		}
	}
	if line == 0 {
		line = badByteLine(data)
	}
	return &Error{File: file, Line: line, Msg: msg}
}

// badByteLine is the line of the first byte the YAML reader refuses
// (invalid UTF-8, a control character), or 1: the parser names no line for
// those, nor for a problem on line 1.
func badByteLine(data []byte) int {
	line := 1
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && size <= 1 || r < 0x20 && r != '\t' && r != '\n' && r != '\r' || r == 0x7f {
			return line
		}
		if r == '\n' {
			line++
		}
		i += size
	}
	return 1
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// Empty reports whether the document has no keys.
func (d *Doc) Empty() bool { return d.root == nil || len(d.root.Content) == 0 }

// Has reports whether the top level has key.
func (d *Doc) Has(key string) bool { return d.Section(key) != nil }

// Section returns the value of the top-level key, or nil when it is absent.
func (d *Doc) Section(key string) *yaml.Node {
	if d.root == nil {
		return nil
	}
	for i := 0; i+1 < len(d.root.Content); i += 2 {
		if d.root.Content[i].Value == key {
			return d.root.Content[i+1]
		}
	}
	return nil
}

// Decode decodes the whole document into the struct v points to, strictly:
// every top-level key must be a field of v, except the skipped ones (sections
// that belong to other commands). Fields the document does not set keep
// their value, so v may hold defaults. Every problem is returned, unsorted.
func (d *Doc) Decode(v any, skip ...string) Errors {
	if d.root == nil {
		return nil
	}
	dec := newDecoder(d.File)
	dec.skip = skip
	dec.decodeInto(d.root, v, "")
	return dec.errs
}

// DecodeSection decodes the value of the top-level key into v, as Decode
// does, with key as the first element of every path. An absent or empty
// section leaves v as it is.
func (d *Doc) DecodeSection(key string, v any) Errors {
	n := d.Section(key)
	if n == nil {
		return nil
	}
	dec := newDecoder(d.File)
	dec.decodeInto(n, v, key)
	return dec.errs
}

// Place gives every error in err (as returned by a Validate method, errors
// made with [Errorf]) the file and the position of its path in the document,
// or of the nearest written parent of its path. Errors that already have a
// line keep it.
func (d *Doc) Place(err error) Errors {
	es := Flatten(err)
	out := make(Errors, len(es))
	for i, e := range es {
		c := *e
		if c.Line == 0 {
			c.File = d.File
			c.Line, c.Column = d.Locate(c.Path)
		}
		out[i] = &c
	}
	return out
}

// Errorf returns an *Error at path, placed in the document.
func (d *Doc) Errorf(path, format string, args ...any) *Error {
	return d.Place(Errorf(path, format, args...))[0]
}

// Locate returns the line and column of the key path ("routes[1].limits",
// "forward.allow[0]") in the document: of the value where it is a scalar or
// a list item, of the key where the value is a mapping or a list; for a path
// that is not written, of its nearest written parent. It is 1, 1 for an
// empty path or an empty document.
func (d *Doc) Locate(path string) (line, col int) {
	if d.root == nil {
		return 1, 1
	}
	n := d.root
	line, col = n.Line, n.Column
	for path != "" {
		var key string
		idx := -1
		if path[0] == '[' {
			end := strings.IndexByte(path, ']')
			if end < 0 {
				return line, col
			}
			i, err := strconv.Atoi(path[1:end])
			if err != nil {
				return line, col
			}
			idx, path = i, path[end+1:]
		} else {
			end := strings.IndexAny(path, ".[")
			if end < 0 {
				end = len(path)
			}
			key, path = path[:end], path[end:]
		}
		path = strings.TrimPrefix(path, ".")
		n = resolveAlias(n)
		var next *yaml.Node
		switch {
		case idx >= 0 && n.Kind == yaml.SequenceNode && idx < len(n.Content):
			next = resolveAlias(n.Content[idx])
			line, col = next.Line, next.Column
		case idx < 0 && n.Kind == yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == key {
					next = resolveAlias(n.Content[i+1])
					line, col = n.Content[i].Line, n.Content[i].Column
					if next.Kind == yaml.ScalarNode {
						line, col = next.Line, next.Column
					}
					break
				}
			}
		}
		if next == nil {
			return line, col
		}
		n = next
	}
	return line, col
}

// resolveAlias follows an alias to its anchored node.
func resolveAlias(n *yaml.Node) *yaml.Node {
	for i := 0; n.Kind == yaml.AliasNode && n.Alias != nil && i < 100; i++ {
		n = n.Alias
	}
	return n
}

// Load parses data, read from file, and decodes it with decode, which
// reports every problem; the value is returned only when there are none.
func Load[T any](file string, data []byte, decode func(*Doc) (T, Errors)) (T, error) {
	var zero T
	doc, err := Parse(file, data)
	if err != nil {
		return zero, err
	}
	v, errs := decode(doc)
	if err := errs.Err(); err != nil {
		return zero, err
	}
	return v, nil
}
