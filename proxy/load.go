package proxy

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// LoadConfig reads a YAML config file over [DefaultConfig], fills route
// defaults and validates it. Every error names the file, the line and the
// key path: "proxy.yaml:12: routes[0].upstream: must be an absolute http or
// https URL". Unknown keys are errors.
func LoadConfig(name string) (*Config, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return ParseConfig(name, data)
}

// ParseConfig is LoadConfig on data already read; name is used in errors.
func ParseConfig(name string, data []byte) (*Config, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, yamlError(name, err)
	}
	cfg := DefaultConfig()
	if len(doc.Content) == 0 {
		return nil, fmt.Errorf("%s: empty config", name)
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s:%d: the config must be a mapping", name, root.Line)
	}
	// A forward: section belongs to the forward proxy, which checks it; a
	// kafka: section to flowmask kafka (kafka.ParseConfig), which the proxy
	// ignores so that one file can configure both.
	checked := *root
	checked.Content = nil
	hasForward := false
	for i := 0; i+1 < len(root.Content); i += 2 {
		switch root.Content[i].Value {
		case "forward":
			hasForward = true
			continue
		case "kafka":
			continue
		}
		checked.Content = append(checked.Content, root.Content[i], root.Content[i+1])
	}
	// Every problem is reported at once, in the order of the file.
	errs := unknownKeys(name, &checked, reflect.TypeOf(*cfg), "")
	if hasForward {
		fwd, err := ParseForwardConfig(name, data)
		if err != nil {
			errs = append(errs, err)
		}
		cfg.Forward = fwd
	}
	// The default route is for the argument-less start only.
	if hasKey(root, "routes") {
		cfg.Routes = nil
	}
	if err := root.Decode(cfg); err != nil {
		errs = append(errs, withKeyPaths(root, yamlError(name, err)))
		var te *yaml.TypeError
		if !errors.As(err, &te) {
			return nil, sortedErrors(errs)
		}
		// A TypeError leaves the other fields decoded: check them too.
	}
	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil {
		errs = append(errs, withLines(name, root, err))
	}
	if len(errs) > 0 {
		return nil, sortedErrors(errs)
	}
	return cfg, nil
}

// sortedErrors joins errs, flattened, ordered by their "file:line:" prefix
// (then by text), so the same file always gives the same message.
func sortedErrors(errs []error) error {
	var flat []error
	for _, e := range errs {
		if e != nil {
			flat = append(flat, flattenErrors(e)...)
		}
	}
	sort.SliceStable(flat, func(i, j int) bool {
		li, lj := errLine(flat[i].Error()), errLine(flat[j].Error())
		if li != lj {
			return li < lj
		}
		return flat[i].Error() < flat[j].Error()
	})
	return errors.Join(flat...)
}

var errLinePrefix = regexp.MustCompile(`^[^:\n]*:(\d+):`)

// errLine is the line number in "file:12: ...", 0 without one.
func errLine(msg string) int {
	if m := errLinePrefix.FindStringSubmatch(msg); m != nil {
		n, _ := strconv.Atoi(m[1])
		return n
	}
	return 0
}

var yamlLine = regexp.MustCompile(`^(?:yaml: )?line (\d+): `)

// yamlError turns "yaml: line 4: msg" into "file:4: msg", for each of the
// decoder's messages.
func yamlError(name string, err error) error {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		errs := make([]error, 0, len(te.Errors))
		for _, e := range te.Errors {
			errs = append(errs, errors.New(lineMsg(name, e)))
		}
		return errors.Join(errs...)
	}
	return errors.New(lineMsg(name, err.Error()))
}

// withKeyPaths adds the key path to each "file:line: msg" error that names
// none (the decoder's type errors): "file:line: routes[0].limits.x: msg".
func withKeyPaths(root *yaml.Node, err error) error {
	var out []error
	for _, e := range flattenErrors(err) {
		msg := e.Error()
		m := errLinePrefix.FindStringSubmatch(msg)
		if m == nil {
			out = append(out, e)
			continue
		}
		line, _ := strconv.Atoi(m[1])
		if p := pathAtLine(root, line, ""); p != "" {
			msg = m[0] + " " + p + ":" + msg[len(m[0]):]
		}
		out = append(out, errors.New(msg))
	}
	return errors.Join(out...)
}

// pathAtLine is the key path of the scalar value written at line, or "".
func pathAtLine(n *yaml.Node, line int, path string) string {
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			p := joinPath(path, k.Value)
			if v.Kind == yaml.ScalarNode && v.Line == line {
				return p
			}
			if found := pathAtLine(v, line, p); found != "" {
				return found
			}
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			p := path + "[" + strconv.Itoa(i) + "]"
			if c.Kind == yaml.ScalarNode && c.Line == line {
				return p
			}
			if found := pathAtLine(c, line, p); found != "" {
				return found
			}
		}
	}
	return ""
}

func lineMsg(name, msg string) string {
	msg = strings.TrimPrefix(msg, "yaml: ")
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		rest := msg[len(m[0]):]
		// A nested "line N:" from a custom unmarshaler is more precise.
		if m2 := yamlLine.FindStringSubmatch(rest); m2 != nil {
			return name + ":" + m2[1] + ": " + rest[len(m2[0]):]
		}
		return name + ":" + m[1] + ": " + rest
	}
	return name + ": " + msg
}

var scalarTypes = map[reflect.Type]bool{
	reflect.TypeOf(time.Duration(0)): true,
	reflect.TypeOf(ByteSize(0)):      true,
}

// unknownKeys walks n against t and reports each key no yaml tag names.
func unknownKeys(name string, n *yaml.Node, t reflect.Type, path string) []error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if scalarTypes[t] {
		return nil
	}
	var errs []error
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			return nil // the decoder reports the type mismatch
		}
		fields := map[string]reflect.Type{}
		for i := range t.NumField() {
			f := t.Field(i)
			tag := strings.Split(f.Tag.Get("yaml"), ",")[0]
			if tag == "" || tag == "-" {
				continue
			}
			fields[tag] = f.Type
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			p := joinPath(path, k.Value)
			ft, ok := fields[k.Value]
			if !ok {
				errs = append(errs, fmt.Errorf("%s:%d: %s: unknown key%s", name, k.Line, p, suggest(k.Value, fields)))
				continue
			}
			errs = append(errs, unknownKeys(name, v, ft, p)...)
		}
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			return nil
		}
		for i, c := range n.Content {
			errs = append(errs, unknownKeys(name, c, t.Elem(), path+"["+strconv.Itoa(i)+"]")...)
		}
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			return nil
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			errs = append(errs, unknownKeys(name, n.Content[i+1], t.Elem(), joinPath(path, n.Content[i].Value))...)
		}
	}
	return errs
}

func suggest(key string, fields map[string]reflect.Type) string {
	nk := strings.ReplaceAll(strings.ToLower(key), "-", "_")
	best, bestD := "", 3
	for f := range fields {
		if d := editDistance(nk, f); d < bestD || d == bestD && f < best {
			best, bestD = f, d
		}
	}
	if best != "" && bestD <= 2 {
		return fmt.Sprintf(" (did you mean %q?)", best)
	}
	return ""
}

// editDistance is the Levenshtein distance of a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
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
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func hasKey(n *yaml.Node, key string) bool {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return true
		}
	}
	return false
}

// withLines prefixes each *FieldError in err with "file:line: ", finding the
// line of its key path in the YAML tree (or of its nearest written parent).
func withLines(name string, root *yaml.Node, err error) error {
	var list []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		list = j.Unwrap()
	} else {
		list = []error{err}
	}
	out := make([]error, 0, len(list))
	for _, e := range list {
		var fe *FieldError
		if errors.As(e, &fe) {
			out = append(out, fmt.Errorf("%s:%d: %w", name, lineOf(root, fe.Path), e))
		} else {
			out = append(out, fmt.Errorf("%s: %w", name, e))
		}
	}
	return errors.Join(out...)
}

var pathSeg = regexp.MustCompile(`([^.\[\]]+)|\[(\d+)\]`)

func lineOf(root *yaml.Node, path string) int {
	n, line := root, root.Line
	for _, m := range pathSeg.FindAllStringSubmatch(path, -1) {
		var next *yaml.Node
		switch {
		case m[2] != "" && n.Kind == yaml.SequenceNode:
			i, _ := strconv.Atoi(m[2])
			if i < len(n.Content) {
				next = n.Content[i]
			}
		case m[1] != "" && n.Kind == yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == m[1] {
					line = n.Content[i].Line
					next = n.Content[i+1]
					break
				}
			}
		}
		if next == nil {
			return line
		}
		n = next
		if n.Kind != yaml.MappingNode || m[2] != "" {
			line = n.Line
		}
	}
	return line
}
