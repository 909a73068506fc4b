package main

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/flowmask/flowmask/proxy"
	"github.com/flowmask/flowmask/proxy/forward"
)

// configDocs are the pages whose YAML examples document the config file.
var configDocs = []string{"configuration.md", "forward.md", "secrets.md", "shippers.md"}

var yamlBlock = regexp.MustCompile("(?ms)^```yaml\n(.*?)^```")

// docYAMLBlocks returns the YAML code blocks of the config pages that are
// whole config files (a mapping whose keys are all top-level config keys).
func docYAMLBlocks(t *testing.T) map[string][]byte {
	t.Helper()
	top := yamlKeys(reflect.TypeOf(proxy.Config{}))
	top["forward"] = reflect.TypeOf(forward.ForwardConfig{})
	out := map[string][]byte{}
	for _, page := range configDocs {
		data, err := os.ReadFile(filepath.Join("..", "..", "docs", page))
		if err != nil {
			t.Fatal(err)
		}
		for i, m := range yamlBlock.FindAllSubmatch(data, -1) {
			var doc map[string]any
			if yaml.Unmarshal(m[1], &doc) != nil || len(doc) == 0 {
				continue
			}
			whole := true
			for k := range doc {
				if _, ok := top[k]; !ok {
					whole = false
				}
			}
			if whole {
				out[fmt.Sprintf("%s (YAML block %d)", page, i+1)] = m[1]
			}
		}
	}
	return out
}

// yamlKeys maps the yaml keys of struct type t to their field types.
func yamlKeys(t reflect.Type) map[string]reflect.Type {
	keys := map[string]reflect.Type{}
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		keys[name] = f.Type
	}
	return keys
}

// keyPaths lists every key path a config of type t accepts, such as
// "routes[].limits.max_body_bytes". Maps and scalars are leaves.
func keyPaths(t reflect.Type, prefix string, out *[]string) {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
		if t.Kind() == reflect.Slice {
			e := t.Elem()
			for e.Kind() == reflect.Pointer {
				e = e.Elem()
			}
			if e.Kind() != reflect.Struct {
				break // a list of scalars is a leaf: "env: [A, B]"
			}
			prefix += "[]"
		}
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || t == reflect.TypeOf(time.Time{}) {
		*out = append(*out, prefix)
		return
	}
	for name, ft := range yamlKeys(t) {
		p := name
		if prefix != "" {
			p = prefix + "." + name
		}
		keyPaths(ft, p, out)
	}
}

// docKeyPaths lists the key paths written in a YAML document.
func docKeyPaths(n *yaml.Node, prefix string, out map[string]bool) {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			docKeyPaths(c, prefix, out)
		}
	case yaml.SequenceNode:
		for _, c := range n.Content {
			if c.Kind == yaml.MappingNode {
				docKeyPaths(c, prefix+"[]", out)
			}
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			p := n.Content[i].Value
			if prefix != "" {
				p = prefix + "." + p
			}
			out[p] = true
			docKeyPaths(n.Content[i+1], p, out)
		}
	}
}

// TestConfigReferenceMatchesCode keeps the configuration reference true: every
// whole config example in docs/configuration.md, forward.md and secrets.md
// loads with the proxy's strict loader (so a misspelt or removed key fails),
// and every key the loader accepts is written in one of them (so a new key
// cannot go undocumented).
func TestConfigReferenceMatchesCode(t *testing.T) {
	t.Parallel()
	blocks := docYAMLBlocks(t)
	if len(blocks) < 3 {
		t.Fatalf("found %d whole config examples in %v; want the reference's examples", len(blocks), configDocs)
	}
	documented := map[string]bool{}
	for name, data := range blocks {
		if _, err := proxy.ParseConfig(name, data); err != nil {
			t.Errorf("docs/%s does not load: %v", name, err)
		}
		var n yaml.Node
		if err := yaml.Unmarshal(data, &n); err != nil {
			t.Fatal(err)
		}
		docKeyPaths(&n, "", documented)
	}
	var want []string
	keyPaths(reflect.TypeOf(proxy.Config{}), "", &want)
	keyPaths(reflect.TypeOf(forward.ForwardConfig{}), "forward", &want)
	slices.Sort(want)
	for _, p := range want {
		if !documented[p] {
			t.Errorf("config key %s is in the code but in no example of docs/%s", p, strings.Join(configDocs, ", docs/"))
		}
	}
}
