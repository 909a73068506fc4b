package main

import (
	"context"
	"fmt"
	"io"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/flowmask/flowmask/internal/yamlconf"
	"github.com/flowmask/flowmask/patterns"
	"github.com/flowmask/flowmask/redactor"
	"github.com/spf13/cobra"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// engineFlags are the flags every command that builds a Redactor shares.
type engineFlags struct {
	format      string
	rules       []string
	disable     []string
	packs       []string
	mask        string
	allowFile   string
	maxDocument int
	secrets     secretFlags
	cmd         *cobra.Command // for its context: standard input for "-"
}

func (f *engineFlags) register(cmd *cobra.Command) {
	f.cmd = cmd
	fl := cmd.Flags()
	fl.StringVar(&f.format, "format", "auto", "input format: auto, json, ndjson, text, csv or form")
	fl.StringArrayVar(&f.rules, "rules", nil, "add the rules of this YAML `FILE` (repeatable)")
	fl.StringArrayVar(&f.disable, "disable-rule", nil, "disable the rule with this `ID` (repeatable)")
	fl.StringSliceVar(&f.packs, "packs", nil, "turn on opt-in rule `PACKS` (comma-separated or repeated): "+strings.Join(patterns.Packs(), ", "))
	fl.StringVar(&f.mask, "mask", "label", "replacement: label ([REDACTED:rule]) or hash ([REDACTED:rule:hmac8], needs FLOWMASK_HASH_KEY)")
	fl.StringVar(&f.allowFile, "allowlist", "", "YAML `FILE` of allowlist entries ({rule, path, value}) that silence false positives")
	fl.Var(newSizeValue(&f.maxDocument, redactor.DefaultMaxDocument), "max-document", "largest JSON document, NDJSON line, CSV record or form body read whole (`SIZE`: 16MiB, 1048576, ...); a larger one is refused with an error (exit 2)")
	f.secrets.register(cmd)
}

// newLogger returns the CLI's logger: warnings and errors to stderr (the
// command's standard error).
func newLogger(stderr io.Writer) *zap.Logger {
	enc := zap.NewDevelopmentEncoderConfig()
	enc.TimeKey = ""
	core := zapcore.NewCore(zapcore.NewConsoleEncoder(enc), zapcore.Lock(zapcore.AddSync(stderr)), zap.WarnLevel)
	return zap.New(core)
}

// newJSONLogger returns a long-running command's logger: JSON lines at info
// level to stderr (the command's standard error), as zap.NewProduction.
func newJSONLogger(stderr io.Writer) *zap.Logger {
	core := zapcore.NewCore(zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig()), zapcore.Lock(zapcore.AddSync(stderr)), zap.InfoLevel)
	core = zapcore.NewSamplerWithOptions(core, time.Second, 100, 100)
	return zap.New(core, zap.AddCaller(), zap.AddStacktrace(zap.ErrorLevel))
}

// build compiles the Redactor the flags describe, with the known secrets
// of the secret flags loaded once.
func (f *engineFlags) build(logger *zap.Logger) (*redactor.Redactor, redactor.Format, error) {
	return f.buildWith(logger, true)
}

// buildWith compiles the Redactor the flags describe; without loadSecrets
// it masks no known secrets (a long-running command tracks them with a
// secrets.Manager instead).
func (f *engineFlags) buildWith(logger *zap.Logger, loadSecrets bool) (*redactor.Redactor, redactor.Format, error) {
	format, err := redactor.ParseFormat(f.format)
	if err != nil {
		return nil, 0, fmt.Errorf("--format: %w", err)
	}
	mask, err := redactor.ParseMaskStyle(f.mask)
	if err != nil {
		return nil, 0, fmt.Errorf("--mask: %w", err)
	}
	ctx := f.context()
	cfg := redactor.Config{Mask: mask, MaxDocument: f.maxDocument, Logger: logger,
		// A file command holds one long record of unknown size (a pipe)
		// once: the buffers it outgrew go back to the system at once.
		AfterRecordGrow: debug.FreeOSMemory}
	// The default rules are compiled once per process and shared by every
	// Redactor built on them; other rules are compiled for this build.
	useDefault := len(f.rules) == 0 && len(f.disable) == 0 && len(f.packs) == 0 && f.allowFile == ""
	if !useDefault {
		if cfg.Rules, err = loadRulesFrom(ctx, f.rules, f.disable, f.packs...); err != nil {
			return nil, 0, err
		}
	}
	if mask == redactor.MaskHash {
		key := streamsFrom(ctx).getenv("FLOWMASK_HASH_KEY")
		if key == "" {
			return nil, 0, fmt.Errorf("--mask hash: FLOWMASK_HASH_KEY is not set")
		}
		cfg.HashKey = []byte(key)
	}
	if f.allowFile != "" {
		if cfg.Allow, err = loadAllowlist(ctx, f.allowFile); err != nil {
			return nil, 0, err
		}
	}
	if loadSecrets {
		if cfg.Literals, err = f.secrets.literalsFrom(ctx, logger); err != nil {
			return nil, 0, err
		}
	}
	var r *redactor.Redactor
	if useDefault {
		var c *redactor.Compiled
		if c, err = defaultCompiled(); err == nil {
			r, err = redactor.NewFromCompiled(c, cfg)
		}
	} else {
		r, err = redactor.New(cfg)
	}
	if err != nil {
		return nil, 0, err
	}
	return r, format, nil
}

// defaultCompiled compiles the embedded rules, without packs or allowlist,
// once per process. The result is immutable and shared by the commands
// that run in this process.
var defaultCompiled = sync.OnceValues(func() (*redactor.Compiled, error) {
	return redactor.Compile(nil, nil)
})

// loadRules returns the embedded rules with the opt-in packs asked for,
// plus the user's files, minus the disabled ones.
func loadRules(files, disable []string, packs ...string) (*patterns.Set, error) {
	return loadRulesFrom(context.Background(), files, disable, packs...)
}

// loadRulesFrom is loadRules where "-" reads standard input from ctx.
func loadRulesFrom(ctx context.Context, files, disable []string, packs ...string) (*patterns.Set, error) {
	set, err := patterns.DefaultWith(packs...)
	if err != nil {
		return nil, fmt.Errorf("--packs: %w", err)
	}
	for _, name := range files {
		rules, err := loadRuleFile(ctx, name)
		if err != nil {
			return nil, err
		}
		if err := set.Add(rules...); err != nil {
			return nil, err
		}
	}
	if len(disable) > 0 {
		return set.Without(disable...)
	}
	return set, nil
}

// loadAllowlist reads a YAML list of allowlist entries.
func loadAllowlist(ctx context.Context, name string) ([]redactor.Allow, error) {
	data, err := readInput(ctx, "--allowlist", name)
	if err != nil {
		return nil, fmt.Errorf("allowlist: %w", err)
	}
	doc, err := yamlconf.Parse(name, data)
	if err != nil {
		return nil, err
	}
	var list struct {
		Allow []redactor.Allow `yaml:"allow"`
	}
	if err := doc.Decode(&list).Err(); err != nil {
		return nil, err
	}
	return list.Allow, nil
}

// context returns the command's context (standard input for "-"), or
// Background before the command runs.
func (f *engineFlags) context() context.Context {
	if f.cmd != nil && f.cmd.Context() != nil {
		return f.cmd.Context()
	}
	return context.Background()
}

// loadRuleFile parses one user rules file, or standard input for "-".
func loadRuleFile(ctx context.Context, name string) ([]patterns.Rule, error) {
	if name != stdinName {
		return patterns.LoadFile(name)
	}
	data, err := readInput(ctx, "--rules", name)
	if err != nil {
		return nil, err
	}
	return patterns.Parse("<stdin>", data)
}
