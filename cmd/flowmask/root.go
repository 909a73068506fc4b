package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
)

// newRootCmd builds the command tree afresh (no state is shared between
// two trees, so tests run several at a time); run executes it.
func newRootCmd() *cobra.Command {
	info := readBuildInfo()
	root := &cobra.Command{
		Use:   "flowmask",
		Short: "Remove secrets from logs, run-history exports and HTTP traffic",
		Long: `flowmask removes secrets (API keys, passwords, bearer tokens, SAS signatures,
connection strings, known secret values) from logs, Logic Apps / Power Automate
run-history exports and HTTP traffic, keeping the data's structure intact.

Wherever a command reads a file, "-" means standard input. Sizes take units:
1048576, 512KiB, 64MiB, 1GiB (or KB, MB, GB).`,
		Version:       info.Version,
		SilenceUsage:  true,
		SilenceErrors: true,
		// Every subcommand reads standard input through its context, so
		// that "-" is handed to one reader only and tests can run commands
		// in process.
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			if err := checkStdinOnce(cmd, args); err != nil {
				return &exitError{code: exitUsage, err: err}
			}
			ctx := cmd.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			cmd.SetContext(withStdin(ctx, cmd.InOrStdin()))
			return nil
		},
	}
	root.SetVersionTemplate(info.String() + "\n")
	root.AddCommand(
		newRedactCmd(),
		newScanCmd(),
		newRulesCmd(),
		newVersionCmd(info),
		newConfigCmd(),
		newAuditCmd(),
		newCACmd(),
		newForwardCmd(),
		newKafkaCmd(),
		newProxyCmd(),
		newSecretsCmd(),
	)
	return root
}

func newVersionCmd(info buildInfo) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version, commit and Go version",
		Long: `Print the version, the commit it was built from and the Go version, as
"flowmask v1.2.3 (commit 0123456789ab, go1.26.8 linux/amd64)". The version and
commit come from -ldflags "-X main.version=... -X main.commit=..." when set,
else from what Go records in the binary (module version, VCS revision; a
"-dirty" commit was built with uncommitted changes).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintln(cmd.OutOrStdout(), info.String())
			return nil
		},
	}
}
