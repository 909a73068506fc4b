package main

import (
	"cmp"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/flowmask/flowmask/kafka"
	"github.com/flowmask/flowmask/proxy"
	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"
)

func newConfigCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Work with flowmask config files",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "check FILE...",
		Short: "Validate config files and print every error with file, line and field",
		Long: `Check validates each config file ("-" is standard input) as flowmask proxy
and flowmask forward would load it: the proxy's keys and routes (profiles
included), the forward: section, the kafka: section (flowmask kafka) and the
secrets: section. It prints every
error, one a line, as FILE:LINE: FIELD: message, sorted by file and line.
It starts nothing, contacts no upstream and loads no secret.
Exit status: 0 when every file is valid, 1 when any has errors, 2 when a file
cannot be read.`,
		Example: `  flowmask config check flowmask.yaml
  kubectl get configmap flowmask -o jsonpath='{.data.config\.yaml}' | flowmask config check -`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			invalid := false
			for _, name := range args {
				data, err := readInput(cmd.Context(), "config check", name)
				if err != nil {
					return &exitError{code: exitUsage, err: err}
				}
				if name == stdinName {
					name = "<stdin>"
				}
				errs := checkConfig(name, data)
				if len(errs) == 0 {
					fmt.Fprintf(cmd.OutOrStdout(), "%s: ok\n", name)
					continue
				}
				invalid = true
				for _, e := range errs {
					fmt.Fprintln(cmd.OutOrStdout(), e)
				}
			}
			if invalid {
				return &exitError{code: exitFindings}
			}
			return nil
		},
	})
	return cmd
}

// configError is one problem of a config file.
type configError struct {
	line int // 0 when the loader gave none
	text string
	// blocking: the loader stopped there before checking values (an
	// unknown key, a value it could not decode).
	blocking bool
}

var (
	errLine = regexp.MustCompile(`^(.*?):(\d+): (.*)$`)
	// keyPathMsg is a message that starts with the field it is about,
	// "routes[0].upstream: ...", as the loaders' value checks write them.
	keyPathMsg = regexp.MustCompile(`^[a-z_]+(?:\[\d+\])?(?:\.[a-z_]+(?:\[\d+\])?)*: `)
)

// checkConfig runs the proxy's and the forward proxy's loaders on data and
// returns every error they report, sorted by line. A loader stops at its
// first kind of problem (YAML syntax, then unknown keys, then undecodable
// values, then the values' checks), so each is run again with the entries
// it stopped at blanked out (every line keeps its number) until it gets to
// the values' checks. The forward: section, which the proxy loader checks
// only after its own keys, is loaded on its own. Errors the decoder reports
// with a line but no field get the field from the YAML.
func checkConfig(name string, data []byte) []string {
	var all []configError
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil || len(root.Content) == 0 || root.Content[0].Kind != yaml.MappingNode {
		_, err := proxy.ParseConfig(name, data) // the syntax or shape error, with its line
		all = append(all, splitConfigErrors(name, err, nil)...)
		return sortConfigErrors(all)
	}
	doc := root.Content[0]
	forward := sectionLines(doc, "forward")
	all = append(all, loadAll(name, blankLines(data, forward...), doc, func(b []byte) error {
		_, err := proxy.ParseConfig(name, b)
		return err
	})...)
	// The kafka: section is flowmask kafka's; its loader reports every
	// error with file, line and field already.
	if len(sectionLines(doc, "kafka")) > 0 {
		if _, err := kafka.ParseConfig(name, data); err != nil {
			all = append(all, splitConfigErrors(name, err, doc)...)
		}
	}
	if len(forward) > 0 {
		all = append(all, loadAll(name, data, doc, func(b []byte) error {
			_, err := proxy.ParseForwardConfig(name, b)
			return err
		})...)
	}
	// The secrets: section's values are checked when its sources are built
	// (loadSecretsConfig); here with the line of each field.
	if _, err := parseSecretsConfig(name, data); err != nil {
		for _, ce := range splitConfigErrors(name, err, doc) {
			if rest, ok := strings.CutPrefix(ce.text, name+": "); ok && keyPathMsg.MatchString(rest) {
				path, _, _ := strings.Cut(rest, ": ")
				if ce.line = lineOfPath(doc, path); ce.line > 0 {
					ce.text = fmt.Sprintf("%s:%d: %s", name, ce.line, rest)
				}
			}
			all = append(all, ce)
		}
	}
	return sortConfigErrors(all)
}

var pathSegment = regexp.MustCompile(`([a-z_]+)((?:\[\d+\])*)`)

// lineOfPath returns the line of the key at path ("secrets.keyvaults[0].url")
// in doc, or 0.
func lineOfPath(doc *yaml.Node, path string) int {
	n, line := doc, 0
	for _, seg := range strings.Split(path, ".") {
		m := pathSegment.FindStringSubmatch(seg)
		if m == nil || n.Kind != yaml.MappingNode {
			return line
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == m[1] {
				line, next = n.Content[i].Line, n.Content[i+1]
			}
		}
		if next == nil {
			return line
		}
		for _, idx := range regexp.MustCompile(`\d+`).FindAllString(m[2], -1) {
			i, _ := strconv.Atoi(idx)
			if next.Kind != yaml.SequenceNode || i >= len(next.Content) {
				return line
			}
			next = next.Content[i]
			line = next.Line
		}
		n = next
	}
	return line
}

// loadAll runs load on data, and again with the entries of blocking errors
// (unknown keys, undecodable values) blanked, until no new blocking error
// appears, and returns every error seen.
func loadAll(name string, data []byte, doc *yaml.Node, load func([]byte) error) []configError {
	var all []configError
	seen := map[int]bool{}
	for range 8 {
		errs := splitConfigErrors(name, load(data), doc)
		all = append(all, errs...)
		var blank [][2]int
		for _, e := range errs {
			if e.line == 0 || !e.blocking || seen[e.line] {
				continue
			}
			seen[e.line] = true
			if span, ok := keySpan(doc, e.line); ok {
				blank = append(blank, span)
			}
		}
		if len(blank) == 0 {
			break
		}
		data = blankLines(data, blank...)
	}
	return all
}

// splitConfigErrors splits a loader's joined error into lines, naming the
// file where the loader did not, and the field where a decoder message has
// only a line.
func splitConfigErrors(name string, err error, doc *yaml.Node) []configError {
	if err == nil {
		return nil
	}
	var out []configError
	for line := range strings.Lines(err.Error()) {
		line = strings.TrimRight(line, "\n")
		if line == "" {
			continue
		}
		ce := configError{text: line}
		if m := errLine.FindStringSubmatch(line); m != nil && m[1] == name {
			ce.line, _ = strconv.Atoi(m[2])
			ce.blocking = strings.Contains(m[3], ": unknown key") || !keyPathMsg.MatchString(m[3])
			if doc != nil && !keyPathMsg.MatchString(m[3]) {
				if p := keyPathAt(doc, ce.line, ""); p != "" {
					ce.text = fmt.Sprintf("%s:%d: %s: %s", name, ce.line, p, m[3])
				}
			}
		} else if !strings.HasPrefix(line, name+": ") {
			ce.text = name + ": " + line
		}
		out = append(out, ce)
	}
	return out
}

func sortConfigErrors(all []configError) []string {
	slices.SortStableFunc(all, func(a, b configError) int {
		return cmp.Or(cmp.Compare(a.line, b.line), cmp.Compare(a.text, b.text))
	})
	out := make([]string, 0, len(all))
	for _, e := range all {
		if len(out) == 0 || out[len(out)-1] != e.text {
			out = append(out, e.text)
		}
	}
	return out
}

// keyPathAt returns the path ("routes[1].limits.max_body_bytes") of the
// mapping key on line, or "".
func keyPathAt(n *yaml.Node, line int, prefix string) string {
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			p := n.Content[i].Value
			if prefix != "" {
				p = prefix + "." + p
			}
			if n.Content[i].Line == line && n.Content[i+1].Kind == yaml.ScalarNode {
				return p
			}
			if r := keyPathAt(n.Content[i+1], line, p); r != "" {
				return r
			}
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			if r := keyPathAt(c, line, prefix+"["+strconv.Itoa(i)+"]"); r != "" {
				return r
			}
		}
	}
	return ""
}

// sectionLines returns the lines [first, last] of the top-level key's entry
// (its key and value), or nil when the key is absent.
func sectionLines(doc *yaml.Node, key string) [][2]int {
	for i := 0; i+1 < len(doc.Content); i += 2 {
		if doc.Content[i].Value == key {
			return [][2]int{{doc.Content[i].Line, lastLine(doc.Content[i+1])}}
		}
	}
	return nil
}

// keySpan finds the mapping key on line and returns the lines of its entry.
func keySpan(n *yaml.Node, line int) ([2]int, bool) {
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Line == line {
				return [2]int{line, lastLine(n.Content[i+1])}, true
			}
		}
	}
	for _, c := range n.Content {
		if s, ok := keySpan(c, line); ok {
			return s, true
		}
	}
	return [2]int{}, false
}

// lastLine is the last line a node's scalars start on.
func lastLine(n *yaml.Node) int {
	l := n.Line
	for _, c := range n.Content {
		l = max(l, lastLine(c))
	}
	return l
}

// blankLines empties the given 1-based line ranges of data, keeping every
// line's number, so errors in the rest still point at the right line. A
// range that shares its lines with other entries (flow style) is left alone.
func blankLines(data []byte, spans ...[2]int) []byte {
	if len(spans) == 0 {
		return data
	}
	lines := strings.SplitAfter(string(data), "\n")
	for _, s := range spans {
		for l := s[0]; l <= s[1] && l <= len(lines); l++ {
			if strings.HasSuffix(lines[l-1], "\n") {
				lines[l-1] = "\n"
			} else {
				lines[l-1] = ""
			}
		}
	}
	return []byte(strings.Join(lines, ""))
}
