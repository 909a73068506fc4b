package proxy

import (
	"fmt"
	"os"

	"github.com/flowmask/flowmask/internal/yamlconf"
)

// LoadConfig reads a YAML config file over [DefaultConfig], fills route
// defaults and validates it. Every error names the file, the line and the
// key path: "proxy.yaml:12: routes[0].upstream: must be an absolute http or
// https URL". Unknown keys, values of the wrong type and duplicate keys are
// errors; every problem is reported, sorted by line.
func LoadConfig(name string) (*Config, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return ParseConfig(name, data)
}

// ParseConfig is LoadConfig on data already read; name is used in errors.
func ParseConfig(name string, data []byte) (*Config, error) {
	return yamlconf.Load(name, data, DecodeConfig)
}

// DecodeConfig decodes a parsed config file as ParseConfig does and returns
// every problem; the config is only usable when there are none.
func DecodeConfig(doc *yamlconf.Doc) (*Config, yamlconf.Errors) {
	if doc.Empty() {
		return nil, yamlconf.Errors{doc.Errorf("", "empty config")}
	}
	cfg := DefaultConfig()
	// A forward: section belongs to the forward proxy
	// (forward.DecodeForwardSection), a kafka: section to flowmask kafka
	// (kafka.DecodeConfig); the proxy ignores both so that one file can
	// configure all three, and its callers decode them.
	errs := doc.Decode(cfg, "forward", "kafka")
	cfg.SetDefaults()
	return cfg, yamlconf.Merge(errs, doc.Place(cfg.Validate()))
}
