package secrets

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/flowmask/flowmask/internal/yamlconf"
)

// Defaults for the zero values of Config.
const (
	DefaultRefresh     = 5 * time.Minute
	DefaultGrace       = 24 * time.Hour
	DefaultMaxFailures = 3
)

// Config is the `secrets:` section of a flowmask config file. The zero value
// loads nothing.
type Config struct {
	// Env lists environment variable names whose values are secrets. A name
	// that is not set is an error at load.
	Env []string `yaml:"env"`
	// EnvPrefix lists name prefixes: every variable starting with one is a
	// secret (APP_SECRET_).
	EnvPrefix []string `yaml:"env_prefix"`
	// Files are files of one value per line. Empty lines are ignored; a
	// trailing \r is removed.
	Files []string `yaml:"files"`
	// Dotenv are dotenv files (NAME=value lines, optional `export `, single
	// or double quotes, # comments). Variables are not expanded.
	Dotenv []string `yaml:"dotenv"`
	// Dirs are directories holding one value per file, as Kubernetes mounts
	// secrets. Kubelet's ..data links and timestamped directories are
	// skipped, as are other dotfiles that are not kubelet keys; one trailing
	// newline is trimmed from each value.
	Dirs []string `yaml:"dirs"`
	// Solutions are Power Platform solution zips. The values of Secret-type
	// environment variables (unless they are Key Vault references) and of
	// Text variables whose name looks secret (secret, password, key, token,
	// credential) are loaded, from environmentvariablevalues.json and from
	// the definitions' default values.
	Solutions []string `yaml:"solutions"`
	// KeyVaults are Azure Key Vaults to load secrets from.
	KeyVaults []KeyVault `yaml:"keyvaults"`
	// Refresh is how often every source is re-read (±10% jitter). Files are
	// also re-read as soon as they change. Zero means 5m.
	Refresh time.Duration `yaml:"refresh"`
	// Grace keeps a rotated-out value masked for this long, since logs
	// written before a rotation keep arriving. Zero means 24h; a negative
	// value drops rotated-out values at once.
	Grace time.Duration `yaml:"grace"`
	// MaxFailures is how many refreshes of a non-optional source may fail in
	// a row before Ready (and /readyz) reports not ready. Zero means 3.
	MaxFailures int `yaml:"max_failures"`
}

// KeyVault is one Azure Key Vault source.
type KeyVault struct {
	// URL is the vault URL, https://NAME.vault.azure.net.
	URL string `yaml:"url"`
	// Prefix keeps only secrets whose names start with it. Empty keeps all.
	Prefix string `yaml:"prefix"`
	// Tags keeps only secrets carrying all these tag values. Empty keeps all.
	Tags map[string]string `yaml:"tags"`
	// Optional lets startup continue when the vault is unreachable; its
	// failures never make Ready report an error, but are logged and counted.
	Optional bool `yaml:"optional"`
}

// DefaultConfig returns a Config with every default filled in and no
// sources.
func DefaultConfig() Config {
	return Config{Refresh: DefaultRefresh, Grace: DefaultGrace, MaxFailures: DefaultMaxFailures}
}

// Empty reports whether c names no source at all.
func (c Config) Empty() bool {
	return len(c.Env) == 0 && len(c.EnvPrefix) == 0 && len(c.Files) == 0 && len(c.Dotenv) == 0 &&
		len(c.Dirs) == 0 && len(c.Solutions) == 0 && len(c.KeyVaults) == 0
}

// withDefaults returns c with zero values replaced by the defaults.
func (c Config) withDefaults() Config {
	if c.Refresh == 0 {
		c.Refresh = DefaultRefresh
	}
	if c.Grace == 0 {
		c.Grace = DefaultGrace
	}
	if c.MaxFailures == 0 {
		c.MaxFailures = DefaultMaxFailures
	}
	return c
}

// Validate reports every problem in c, each a *yamlconf.Error naming its key
// path below secrets: (keyvaults[1].url: ...). It has no side effects.
func (c *Config) Validate() error {
	var errs []error
	bad := func(path, format string, a ...any) {
		errs = append(errs, yamlconf.Errorf(path, format, a...))
	}
	for i, n := range c.Env {
		if n == "" || strings.ContainsAny(n, "=\x00") {
			bad(fmt.Sprintf("env[%d]", i), "%q is not a variable name", n)
		}
	}
	for i, p := range c.EnvPrefix {
		if p == "" {
			bad(fmt.Sprintf("env_prefix[%d]", i), "empty prefix would load every variable")
		}
	}
	for _, l := range []struct {
		key   string
		names []string
	}{{"files", c.Files}, {"dotenv", c.Dotenv}, {"dirs", c.Dirs}, {"solutions", c.Solutions}} {
		for i, n := range l.names {
			if n == "" {
				bad(fmt.Sprintf("%s[%d]", l.key, i), "empty path")
			}
		}
	}
	seen := map[string]int{}
	for i, kv := range c.KeyVaults {
		path := fmt.Sprintf("keyvaults[%d]", i)
		u, err := url.Parse(kv.URL)
		switch {
		case kv.URL == "":
			bad(path+".url", "required")
		case err != nil || u.Scheme != "https" || u.Host == "":
			bad(path+".url", "must be an https URL such as https://NAME.vault.azure.net")
		case u.User != nil || u.RawQuery != "" || u.Fragment != "" || strings.Trim(u.Path, "/") != "":
			bad(path+".url", "must be the vault's base URL, without path, query or user info")
		}
		key := strings.TrimRight(strings.ToLower(kv.URL), "/") + "\x00" + kv.Prefix
		if j, dup := seen[key]; dup && kv.URL != "" {
			bad(path, "same vault and prefix as keyvaults[%d]", j)
		} else {
			seen[key] = i
		}
		for k := range kv.Tags {
			if k == "" {
				bad(path+".tags", "empty tag name")
			}
		}
	}
	if c.Refresh < 0 {
		bad("refresh", "must not be negative")
	}
	if c.MaxFailures < 0 {
		bad("max_failures", "must not be negative")
	}
	return errors.Join(errs...)
}
