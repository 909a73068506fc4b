package audit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// kind is a JSON value's type.
type kind uint8

const (
	kNull kind = iota
	kBool
	kNumber
	kString
	kObject
	kArray
)

// node is a JSON value that keeps its object keys in document order, so
// findings come out in the order a person reads the file and --fix output
// differs from the input only where something was added.
type node struct {
	kind kind
	str  string // string value, or a number's literal text
	b    bool
	keys []string // object keys, parallel to vals
	vals []*node  // object values or array elements
}

// maxDepth bounds nesting; encoding/json's own limit is 10000.
const maxDepth = 10000

// parseJSON parses one JSON document; trailing non-space data is an error.
func parseJSON(data []byte) (*node, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	n, err := parseValue(dec, 0)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("unexpected data after the JSON document")
	}
	return n, nil
}

func parseValue(dec *json.Decoder, depth int) (*node, error) {
	if depth > maxDepth {
		return nil, errors.New("JSON nested too deeply")
	}
	tok, err := dec.Token()
	if err != nil {
		if err == io.EOF {
			return nil, io.ErrUnexpectedEOF
		}
		return nil, err
	}
	switch t := tok.(type) {
	case nil:
		return &node{kind: kNull}, nil
	case bool:
		return &node{kind: kBool, b: t}, nil
	case json.Number:
		return &node{kind: kNumber, str: string(t)}, nil
	case string:
		return &node{kind: kString, str: t}, nil
	case json.Delim:
		switch t {
		case '{':
			n := &node{kind: kObject}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				k, ok := kt.(string)
				if !ok {
					return nil, fmt.Errorf("object key is %T, not a string", kt)
				}
				v, err := parseValue(dec, depth+1)
				if err != nil {
					return nil, err
				}
				n.keys = append(n.keys, k)
				n.vals = append(n.vals, v)
			}
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			return n, nil
		case '[':
			n := &node{kind: kArray}
			for dec.More() {
				v, err := parseValue(dec, depth+1)
				if err != nil {
					return nil, err
				}
				n.vals = append(n.vals, v)
			}
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			return n, nil
		}
	}
	return nil, fmt.Errorf("unexpected JSON token %v", tok)
}

// get returns the value of key in an object, matching case-insensitively as
// the Logic Apps runtime does; nil when n is not an object or lacks key.
func (n *node) get(key string) *node {
	if n == nil || n.kind != kObject {
		return nil
	}
	for i, k := range n.keys {
		if k == key {
			return n.vals[i]
		}
	}
	for i, k := range n.keys {
		if strings.EqualFold(k, key) {
			return n.vals[i]
		}
	}
	return nil
}

// path follows keys from n; nil when any step is missing.
func (n *node) path(keys ...string) *node {
	for _, k := range keys {
		n = n.get(k)
	}
	return n
}

// text returns a string node's value, "" for anything else.
func (n *node) text() string {
	if n == nil || n.kind != kString {
		return ""
	}
	return n.str
}

func (n *node) isObject() bool { return n != nil && n.kind == kObject }

// empty reports whether n is null, "", {} or [].
func (n *node) empty() bool {
	if n == nil {
		return true
	}
	switch n.kind {
	case kNull:
		return true
	case kString:
		return n.str == ""
	case kObject, kArray:
		return len(n.vals) == 0
	}
	return false
}

// set sets key in an object, replacing an existing (case-insensitive) key or
// appending a new one.
func (n *node) set(key string, v *node) {
	for i, k := range n.keys {
		if strings.EqualFold(k, key) {
			n.vals[i] = v
			return
		}
	}
	n.keys = append(n.keys, key)
	n.vals = append(n.vals, v)
}

// encode writes n as indented JSON (two spaces, like json.MarshalIndent,
// without HTML escaping) followed by a newline.
func (n *node) encode() []byte {
	var buf bytes.Buffer
	n.write(&buf, 0)
	buf.WriteByte('\n')
	return buf.Bytes()
}

func (n *node) write(buf *bytes.Buffer, depth int) {
	switch n.kind {
	case kNull:
		buf.WriteString("null")
	case kBool:
		buf.WriteString(strconv.FormatBool(n.b))
	case kNumber:
		buf.WriteString(n.str)
	case kString:
		writeString(buf, n.str)
	case kObject, kArray:
		open, closing := byte('{'), byte('}')
		if n.kind == kArray {
			open, closing = '[', ']'
		}
		buf.WriteByte(open)
		if len(n.vals) == 0 {
			buf.WriteByte(closing)
			return
		}
		for i, v := range n.vals {
			if i > 0 {
				buf.WriteByte(',')
			}
			buf.WriteByte('\n')
			indent(buf, depth+1)
			if n.kind == kObject {
				writeString(buf, n.keys[i])
				buf.WriteString(": ")
			}
			v.write(buf, depth+1)
		}
		buf.WriteByte('\n')
		indent(buf, depth)
		buf.WriteByte(closing)
	}
}

func indent(buf *bytes.Buffer, depth int) {
	for range depth {
		buf.WriteString("  ")
	}
}

func writeString(buf *bytes.Buffer, s string) {
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)           // a string always encodes
	buf.Truncate(buf.Len() - 1) // Encode's newline
}

// pathKey appends key to a JSON path: .key for identifiers, ['key'] else.
func pathKey(p, key string) string {
	if isIdent(key) {
		return p + "." + key
	}
	return p + "['" + strings.ReplaceAll(key, "'", `\'`) + "']"
}

// pathIndex appends [i] to a JSON path.
func pathIndex(p string, i int) string { return p + "[" + strconv.Itoa(i) + "]" }

// isIdent matches the engine's rule for dotted path segments.
func isIdent(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_' || c == '$' || (i > 0 && '0' <= c && c <= '9')) {
			return false
		}
	}
	return true
}
