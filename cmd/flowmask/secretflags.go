package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/flowmask/flowmask/redactor"
	"github.com/flowmask/flowmask/redactor/secrets"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"
	"go.uber.org/zap"
)

// secretFlags name known secret values to mask as literals: the common case
// of the config file's `secrets:` section, on the command line.
type secretFlags struct {
	files       []string
	envs        []string
	envPrefixes []string
	dotenvs     []string
	dirs        []string
	solutions   []string
	keyvaults   []string
	refresh     time.Duration
	cmd         *cobra.Command // for its context: the environment
}

func (f *secretFlags) register(cmd *cobra.Command) {
	f.cmd = cmd
	fl := cmd.Flags()
	fl.StringArrayVar(&f.files, "secrets-file", nil, "mask every value in this `FILE` (one per line) wherever it occurs, also base64-, URL-, JSON- and hex-encoded (repeatable)")
	fl.StringArrayVar(&f.envs, "secret-env", nil, "mask the value of environment variable `NAME` (repeatable)")
	fl.StringArrayVar(&f.envPrefixes, "secret-env-prefix", nil, "mask the value of every environment variable whose name starts with `PREFIX` (repeatable)")
	fl.StringArrayVar(&f.dotenvs, "secrets-dotenv", nil, "mask every value of this dotenv `FILE` (NAME=value lines; repeatable)")
	fl.StringArrayVar(&f.dirs, "secrets-dir", nil, "mask the content of every file in `DIR`, such as a mounted Kubernetes secret (repeatable)")
	fl.StringArrayVar(&f.solutions, "secrets-solution", nil, "mask the secret environment variable values of this Power Platform solution `ZIP` (repeatable)")
	fl.StringArrayVar(&f.keyvaults, "keyvault", nil, "mask every enabled secret of the Azure Key Vault at `URL` (https://NAME.vault.azure.net; repeatable). Auth: FLOWMASK_KEYVAULT_TOKEN, else azidentity's DefaultAzureCredential")
	fl.DurationVar(&f.refresh, "keyvault-refresh", 0, "re-read every secrets source this often, ±10% jitter (long-running commands; default 5m)")
}

// merge returns cfg with the flags' sources appended; --keyvault-refresh
// overrides cfg.Refresh.
func (f *secretFlags) merge(cfg secrets.Config) secrets.Config {
	cfg.Env = append(cfg.Env[:len(cfg.Env):len(cfg.Env)], f.envs...)
	cfg.EnvPrefix = append(cfg.EnvPrefix[:len(cfg.EnvPrefix):len(cfg.EnvPrefix)], f.envPrefixes...)
	cfg.Files = append(cfg.Files[:len(cfg.Files):len(cfg.Files)], f.files...)
	cfg.Dotenv = append(cfg.Dotenv[:len(cfg.Dotenv):len(cfg.Dotenv)], f.dotenvs...)
	cfg.Dirs = append(cfg.Dirs[:len(cfg.Dirs):len(cfg.Dirs)], f.dirs...)
	cfg.Solutions = append(cfg.Solutions[:len(cfg.Solutions):len(cfg.Solutions)], f.solutions...)
	kvs := cfg.KeyVaults[:len(cfg.KeyVaults):len(cfg.KeyVaults)]
	for _, u := range f.keyvaults {
		kvs = append(kvs, secrets.KeyVault{URL: u})
	}
	cfg.KeyVaults = kvs
	if f.refresh != 0 {
		cfg.Refresh = f.refresh
	}
	return cfg
}

// validate checks the flags alone, so errors name the flag rather than a
// config key.
func (f *secretFlags) validate() error {
	var errs []error
	for _, u := range f.keyvaults {
		c := secrets.Config{KeyVaults: []secrets.KeyVault{{URL: u}}}
		if err := c.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("--keyvault %s: %s", u, strings.TrimPrefix(err.Error(), "keyvaults[0].url: ")))
		}
	}
	for _, p := range f.envPrefixes {
		if p == "" {
			errs = append(errs, errors.New("--secret-env-prefix: empty prefix would load every variable"))
		}
	}
	if f.refresh < 0 {
		errs = append(errs, errors.New("--keyvault-refresh: must not be negative"))
	}
	return errors.Join(errs...)
}

// manager builds (without loading) the secrets Manager of cfg plus the
// flags. Long-running commands (proxy, forward) call Load, Track and Run on
// it; reg may be nil.
func (f *secretFlags) manager(cfg secrets.Config, logger *zap.Logger, reg prometheus.Registerer, static []redactor.Literal) (*secrets.Manager, error) {
	if err := f.validate(); err != nil {
		return nil, err
	}
	cfg = f.merge(cfg)
	var s streams
	if f.cmd != nil {
		s = streamsFrom(f.cmd.Context())
	} else {
		s = osStreams()
	}
	return secrets.New(cfg, secrets.Options{Logger: logger, Registry: reg, Static: static, LookupEnv: s.lookupEnv, Environ: s.environ})
}

// literalsFrom loads the values the flags name, once; `--secrets-file -`
// reads them from the standard input in ctx (one-shot commands only: see
// refuseStdin). It never logs a value.
func (f *secretFlags) literalsFrom(ctx context.Context, logger *zap.Logger) ([]redactor.Literal, error) {
	g := *f
	static, err := g.takeStdinFile(ctx)
	if err != nil {
		return nil, err
	}
	cfg := g.merge(secrets.Config{})
	if cfg.Empty() && len(static) == 0 {
		return nil, nil
	}
	if cfg.Empty() {
		return static, nil
	}
	m, err := g.manager(secrets.Config{}, logger, nil, static)
	if err != nil {
		return nil, err
	}
	if err := m.Load(context.Background()); err != nil {
		return nil, err
	}
	return m.Literals(), nil
}

// takeStdinFile removes "-" from --secrets-file and returns the values read
// from standard input, one per line (blank lines skipped), as the file
// source does.
func (f *secretFlags) takeStdinFile(ctx context.Context) ([]redactor.Literal, error) {
	if !slices.Contains(f.files, stdinName) {
		return nil, nil
	}
	data, err := readInput(ctx, "--secrets-file", stdinName)
	if err != nil {
		return nil, err
	}
	f.files = slices.DeleteFunc(slices.Clone(f.files), func(s string) bool { return s == stdinName })
	var out []redactor.Literal
	for line := range strings.Lines(string(data)) {
		if v := strings.TrimRight(line, "\r\n"); strings.TrimSpace(v) != "" {
			out = append(out, redactor.Literal{Source: "--secrets-file -", Value: v})
		}
	}
	return out, nil
}

// refuseStdin is for long-running commands, which re-read their files on
// reload and refresh: "-" cannot be read twice.
func (f *secretFlags) refuseStdin() error {
	for _, list := range [][]string{f.files, f.dotenvs, f.solutions} {
		if slices.Contains(list, stdinName) {
			return errStdinLongRunning("--secrets-file")
		}
	}
	return nil
}
