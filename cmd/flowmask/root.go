package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

// version is stamped at build time: -ldflags "-X main.version=v1.2.3".
var version = "dev"

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "flowmask",
		Short: "Remove secrets from logs, run-history exports and HTTP traffic",
		Long: `flowmask removes secrets (API keys, passwords, bearer tokens, SAS signatures,
connection strings, known secret values) from logs, Logic Apps / Power Automate
run-history exports and HTTP traffic, keeping the data's structure intact.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(
		newRedactCmd(),
		newScanCmd(),
		newRulesCmd(),
		newVersionCmd(),
	)
	for _, add := range extraCommands {
		root.AddCommand(add())
	}
	return root
}

// extraCommands lets each front end register its subcommand from its own
// file (proxy.go, forward.go, audit.go, ...) with an init func.
var extraCommands []func() *cobra.Command

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintln(cmd.OutOrStdout(), "flowmask", version)
			return nil
		},
	}
}
