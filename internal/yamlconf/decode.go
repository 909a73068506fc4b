package yamlconf

import (
	"encoding"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// maxNodes bounds the nodes one decode visits, aliases expanded: a small
// file of nested aliases ("billion laughs") would otherwise expand without
// end.
const maxNodes = 1 << 18

// Decode decodes node (a value of a config file named file) into v, a
// pointer, strictly, every path starting with path. It is [Doc.Decode] for a
// node found by other means.
func Decode(file string, node *yaml.Node, path string, v any) Errors {
	dec := newDecoder(file)
	dec.decodeInto(node, v, path)
	return dec.errs
}

type decoder struct {
	file string
	errs Errors
	// skip lists top-level keys left for other commands.
	skip []string
	// nodes counts the nodes visited; expanding lists aliases being followed,
	// so that one that contains itself is an error, not a loop.
	nodes     int
	expanding map[*yaml.Node]bool
}

func newDecoder(file string) *decoder {
	return &decoder{file: file, expanding: map[*yaml.Node]bool{}}
}

func (d *decoder) errorf(n *yaml.Node, path, format string, args ...any) {
	d.errs = append(d.errs, &Error{File: d.file, Line: max(n.Line, 1), Column: n.Column, Path: path, Msg: fmt.Sprintf(format, args...)})
}

func (d *decoder) decodeInto(n *yaml.Node, v any, path string) {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		panic("yamlconf: Decode needs a non-nil pointer")
	}
	d.decode(n, rv.Elem(), path, true)
}

var (
	durationType    = reflect.TypeFor[time.Duration]()
	nodeType        = reflect.TypeFor[yaml.Node]()
	unmarshalerType = reflect.TypeFor[yaml.Unmarshaler]()
	textType        = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// decode sets v (addressable) from n. top is true for the document's
// top-level mapping, where d.skip applies.
func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string, top bool) {
	if d.nodes++; d.nodes > maxNodes {
		if d.nodes == maxNodes+1 {
			d.errorf(n, path, "the document is too large once its aliases are expanded (more than %d nodes)", maxNodes)
		}
		return
	}
	if n.Kind == yaml.AliasNode {
		if n.Alias == nil || d.expanding[n] {
			d.errorf(n, path, "alias *%s refers to itself", n.Value)
			return
		}
		d.expanding[n] = true
		d.decode(n.Alias, v, path, top)
		delete(d.expanding, n)
		return
	}
	t := v.Type()
	switch {
	case t == nodeType:
		v.Set(reflect.ValueOf(*n))
		return
	case t.Kind() == reflect.Pointer:
		if isNull(n) {
			v.SetZero()
			return
		}
		if v.IsNil() {
			v.Set(reflect.New(t.Elem()))
		}
		d.decode(n, v.Elem(), path, top)
		return
	case isNull(n):
		// As yaml.v3: null empties a map, list or interface and leaves
		// anything else as it is (a default stays).
		switch t.Kind() {
		case reflect.Map, reflect.Slice, reflect.Interface:
			v.SetZero()
		}
		return
	case reflect.PointerTo(t).Implements(unmarshalerType):
		if err := v.Addr().Interface().(yaml.Unmarshaler).UnmarshalYAML(n); err != nil {
			d.errorf(n, path, "%s", unmarshalMessage(err))
		}
		return
	case t == durationType:
		d.duration(n, v, path)
		return
	case n.Kind == yaml.ScalarNode && reflect.PointerTo(t).Implements(textType):
		if err := v.Addr().Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(n.Value)); err != nil {
			d.errorf(n, path, "%v", err)
		}
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		d.mapping(n, path, wantOf(t), top, mapTarget{
			field: func(key string) (reflect.Value, bool) { return fieldByKey(v, key) },
			keys:  func() []string { return fieldKeys(t) },
		})
	case reflect.Map:
		if t.Key().Kind() != reflect.String {
			d.errorf(n, path, "unsupported map key type %s", t.Key())
			return
		}
		if n.Kind == yaml.MappingNode && v.IsNil() {
			v.Set(reflect.MakeMap(t))
		}
		d.mapping(n, path, wantOf(t), false, mapTarget{
			field: func(key string) (reflect.Value, bool) {
				e := reflect.New(t.Elem()).Elem()
				if old := v.MapIndex(reflect.ValueOf(key).Convert(t.Key())); old.IsValid() {
					e.Set(old)
				}
				return e, true
			},
			set: func(key string, e reflect.Value) { v.SetMapIndex(reflect.ValueOf(key).Convert(t.Key()), e) },
		})
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			d.errorf(n, path, "want %s, got %s", wantOf(t), describe(n))
			return
		}
		s := reflect.MakeSlice(t, len(n.Content), len(n.Content))
		for i, c := range n.Content {
			d.decode(c, s.Index(i), path+"["+strconv.Itoa(i)+"]", false)
		}
		v.Set(s)
	case reflect.Interface:
		if t.NumMethod() > 0 {
			d.errorf(n, path, "unsupported type %s", t)
			return
		}
		var x any
		if err := n.Decode(&x); err != nil {
			d.errorf(n, path, "%s", unmarshalMessage(err))
			return
		}
		v.Set(reflect.ValueOf(x))
	case reflect.String, reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
		if n.Kind != yaml.ScalarNode {
			d.errorf(n, path, "want %s, got %s", wantOf(t), describe(n))
			return
		}
		// yaml.v3 resolves the scalar (0x10, 1_000, true) into a fresh
		// value, so that v is only set when it fits.
		x := reflect.New(t)
		if err := n.Decode(x.Interface()); err != nil {
			d.errorf(n, path, "want %s, got %s", wantOf(t), describe(n))
			return
		}
		v.Set(x.Elem())
	default:
		d.errorf(n, path, "unsupported type %s", t)
	}
}

// mapTarget is where the entries of a mapping go: field gives the value to
// decode a key's value into (false: an unknown key); keys, for a struct,
// lists the known keys for suggestions; set, for a map, stores the value.
type mapTarget struct {
	field func(key string) (reflect.Value, bool)
	keys  func() []string
	set   func(key string, v reflect.Value)
}

// mapping decodes the entries of a mapping node into to.
func (d *decoder) mapping(n *yaml.Node, path, want string, top bool, to mapTarget) {
	if isNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		d.errorf(n, path, "want %s, got %s", want, describe(n))
		return
	}
	for _, e := range d.entries(n, path) {
		k, val := e[0], e[1]
		key := k.Value
		p := JoinPath(path, key)
		if top && slices.Contains(d.skip, key) {
			continue
		}
		f, ok := to.field(key)
		if !ok {
			msg := "unknown key"
			if to.keys != nil {
				msg += suggest(key, to.keys())
			}
			d.errorf(k, p, "%s", msg)
			continue
		}
		d.decode(val, f, p, false)
		if to.set != nil {
			to.set(key, f)
		}
	}
}

// entries returns the key/value pairs of a mapping, with those of merged
// mappings (<<: *defaults) first and overridden by the mapping's own keys.
// A key written twice, or a key that is not a string, is an error.
func (d *decoder) entries(n *yaml.Node, path string) [][2]*yaml.Node {
	var own, merged [][2]*yaml.Node
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.Value == "<<" && (k.Tag == "" || k.Tag == "!" || k.ShortTag() == "!!merge") {
			merged = append(merged, d.mergeSources(v, path)...)
			continue
		}
		if k.Kind != yaml.ScalarNode {
			d.errorf(k, path, "a key must be a string, got %s", describe(k))
			continue
		}
		if first, dup := seen[k.Value]; dup {
			d.errorf(k, JoinPath(path, k.Value), "duplicate key (first at line %d)", first.Line)
			continue
		}
		seen[k.Value] = k
		own = append(own, [2]*yaml.Node{k, v})
	}
	out := make([][2]*yaml.Node, 0, len(merged)+len(own))
	mseen := map[string]bool{}
	for _, e := range merged {
		if seen[e[0].Value] == nil && !mseen[e[0].Value] {
			mseen[e[0].Value] = true
			out = append(out, e)
		}
	}
	return append(out, own...)
}

// mergeSources returns the entries of the mapping (or list of mappings) a
// merge key names.
func (d *decoder) mergeSources(v *yaml.Node, path string) [][2]*yaml.Node {
	if d.nodes++; d.nodes > maxNodes {
		return nil
	}
	v = resolveAlias(v)
	switch v.Kind {
	case yaml.MappingNode:
		return d.entries(v, path)
	case yaml.SequenceNode:
		var out [][2]*yaml.Node
		for _, c := range v.Content {
			if c = resolveAlias(c); c.Kind == yaml.MappingNode {
				out = append(out, d.entries(c, path)...)
			} else {
				d.errorf(c, path, "<< merges mappings, got %s", describe(c))
			}
		}
		return out
	}
	d.errorf(v, path, "<< merges mappings, got %s", describe(v))
	return nil
}

// duration decodes "30s", "5m", "1h30m" (and "0").
func (d *decoder) duration(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.ScalarNode {
		d.errorf(n, path, "want a duration such as 30s, 5m or 1h30m, got %s", describe(n))
		return
	}
	x, err := time.ParseDuration(strings.TrimSpace(n.Value))
	if err != nil {
		msg := "want a duration such as 30s, 5m or 1h30m, got " + describe(n)
		if strings.Contains(err.Error(), "missing unit") {
			msg += " (a number needs a unit)"
		}
		d.errorf(n, path, "%s", msg)
		return
	}
	v.SetInt(int64(x))
}

func isDigits(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}

// unmarshalMessage is the message of an error from an UnmarshalYAML method.
func unmarshalMessage(err error) string {
	if te, ok := err.(*yaml.TypeError); ok {
		msgs := make([]string, len(te.Errors))
		for i, m := range te.Errors {
			msgs[i] = m
			if rest, ok := strings.CutPrefix(m, "line "); ok {
				if _, after, ok := strings.Cut(rest, ": "); ok {
					msgs[i] = after
				}
			}
		}
		return strings.Join(msgs, "; ")
	}
	return strings.TrimPrefix(err.Error(), "yaml: ")
}

// describe names a node in a type error: "a mapping", "a list", or its tag
// and (at most ten bytes of) its value, as yaml.v3 does, so that a secret
// written in the wrong place is not copied into logs whole.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	}
	if isNull(n) {
		return "null"
	}
	v := n.Value
	if len(v) > 10 {
		v = v[:7] + "..."
	}
	return n.ShortTag() + " `" + strings.ToValidUTF8(v, "?") + "`"
}

// wantOf says what a value of type t is written as.
func wantOf(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Struct, reflect.Map:
		return "a mapping of keys"
	case reflect.Slice:
		return "a list"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "an integer"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a non-negative integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	}
	return t.String()
}

// yamlName is the key of a struct field: its yaml tag's name, else its name
// in lower case (as yaml.v3); "" for a field that is not decoded.
func yamlName(f reflect.StructField) (name string, inline bool) {
	if !f.IsExported() {
		return "", false
	}
	tag := f.Tag.Get("yaml")
	name, opts, _ := strings.Cut(tag, ",")
	if name == "-" {
		return "", false
	}
	if slices.Contains(strings.Split(opts, ","), "inline") {
		return "", true
	}
	if name == "" {
		name = strings.ToLower(f.Name)
	}
	return name, false
}

// fieldByKey finds the field of struct v for key, looking into inline
// structs.
func fieldByKey(v reflect.Value, key string) (reflect.Value, bool) {
	t := v.Type()
	for i := range t.NumField() {
		name, inline := yamlName(t.Field(i))
		switch {
		case inline && t.Field(i).Type.Kind() == reflect.Struct:
			if f, ok := fieldByKey(v.Field(i), key); ok {
				return f, true
			}
		case name != "" && name == key:
			return v.Field(i), true
		}
	}
	return reflect.Value{}, false
}

// fieldKeys lists the keys of struct type t.
func fieldKeys(t reflect.Type) []string {
	var keys []string
	for i := range t.NumField() {
		name, inline := yamlName(t.Field(i))
		if inline && t.Field(i).Type.Kind() == reflect.Struct {
			keys = append(keys, fieldKeys(t.Field(i).Type)...)
		} else if name != "" {
			keys = append(keys, name)
		}
	}
	return keys
}

// suggest returns ` (did you mean "x"?)` for the known key closest to key,
// if one is within two edits (case and - vs _ ignored).
func suggest(key string, keys []string) string {
	nk := strings.ReplaceAll(strings.ToLower(key), "-", "_")
	best, bestD := "", 3
	for _, f := range keys {
		if d := editDistance(nk, f); d < bestD || d == bestD && f < best {
			best, bestD = f, d
		}
	}
	if best != "" {
		return fmt.Sprintf(" (did you mean %q?)", best)
	}
	return ""
}

// editDistance is the optimal string alignment distance of a and b: the
// edits (insert, delete, replace, swap two neighbours) that make one the
// other.
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 1 << 20 // no suggestion for long keys; keeps this cheap
	}
	pp, prev, cur := make([]int, len(b)+1), make([]int, len(b)+1), make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], pp[j-2]+1)
			}
		}
		pp, prev, cur = prev, cur, pp
	}
	return prev[len(b)]
}
