package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/flowmask/flowmask/internal/yamlconf"
	"github.com/flowmask/flowmask/redactor/secrets"
	"github.com/spf13/cobra"
)

func newSecretsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "secrets",
		Short: "Check the known-secret sources (env, files, Key Vault)",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newSecretsCheckCmd())
	return cmd
}

func newSecretsCheckCmd() *cobra.Command {
	var (
		sf     secretFlags
		config string
	)
	cmd := &cobra.Command{
		Use:   "check [--config FILE] [source flags]",
		Short: "Load every known-secret source once and report how many values each gave",
		Long: `Check loads the sources of the config file's secrets: section (other
top-level keys are ignored) and of the source flags, once, and prints per
source how many values loaded and how many were skipped as shorter than 8
bytes. It never prints a value. Exit status: 0 when every source loaded, 1
when any failed (optional ones included), 2 on a usage or config error.`,
		Example: `  flowmask secrets check --config flowmask.yaml
  flowmask secrets check --keyvault https://myvault.vault.azure.net --secret-env-prefix APP_SECRET_`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var cfg secrets.Config
			if config != "" {
				var err error
				if cfg, err = loadSecretsConfigFrom(cmd.Context(), config); err != nil {
					return &exitError{code: exitUsage, err: err}
				}
			}
			if sf.merge(cfg).Empty() && !slices.Contains(sf.files, stdinName) {
				return &exitError{code: exitUsage, err: errors.New("no secrets sources: pass --config with a secrets: section or source flags")}
			}
			static, err := sf.takeStdinFile(cmd.Context())
			if err != nil {
				return &exitError{code: exitUsage, err: err}
			}
			m, err := sf.manager(cfg, newLogger(cmd.ErrOrStderr()), nil, static)
			if err != nil {
				return &exitError{code: exitUsage, err: err}
			}
			ctx := cmd.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			_ = m.Load(ctx) // every failure is in Sources
			return reportSources(cmd, m)
		},
	}
	cmd.Flags().StringVar(&config, "config", "", "flowmask config `FILE`; only its secrets: section is read")
	sf.register(cmd)
	return cmd
}

// reportSources prints one line per source and fails when any failed.
func reportSources(cmd *cobra.Command, m *secrets.Manager) error {
	tw := tabwriter.NewWriter(cmd.OutOrStdout(), 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "SOURCE\tVALUES\tSKIPPED\tSTATUS")
	failed, total := 0, 0
	for _, s := range m.Sources() {
		total++
		status := "ok"
		if s.Err != nil {
			failed++
			status = "error: " + strings.ReplaceAll(s.Err.Error(), "\n", "; ")
			if s.Optional {
				status = "optional, " + status
			}
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\n", s.Name, s.Values, s.Skipped, status)
	}
	if err := tw.Flush(); err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	fmt.Fprintf(cmd.OutOrStdout(), "%d known values in the set\n", len(m.Literals()))
	if failed > 0 {
		return &exitError{code: exitFindings, err: fmt.Errorf("%d of %d secrets sources failed", failed, total)}
	}
	return nil
}

// loadSecretsConfig reads the top-level secrets: section of a flowmask
// config file. Other top-level keys belong to other features and are
// ignored; unknown keys inside secrets: are errors with their line.
func loadSecretsConfig(name string) (secrets.Config, error) {
	return loadSecretsConfigFrom(context.Background(), name)
}

// loadSecretsConfigFrom is loadSecretsConfig where "-" is standard input.
func loadSecretsConfigFrom(ctx context.Context, name string) (secrets.Config, error) {
	data, err := readInput(ctx, "--config", name)
	if err != nil {
		return secrets.Config{}, fmt.Errorf("config: %w", err)
	}
	return parseSecretsConfig(name, data)
}

// parseSecretsConfig is loadSecretsConfig on data already read.
func parseSecretsConfig(name string, data []byte) (secrets.Config, error) {
	return yamlconf.Load(name, data, func(doc *yamlconf.Doc) (secrets.Config, yamlconf.Errors) {
		var cfg secrets.Config
		decoded := doc.DecodeSection("secrets", &cfg)
		return cfg, yamlconf.Merge(decoded, doc.Place(yamlconf.Prefix("secrets", cfg.Validate())))
	})
}
