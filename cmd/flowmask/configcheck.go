package main

import (
	"fmt"

	"github.com/flowmask/flowmask/internal/yamlconf"
	"github.com/flowmask/flowmask/kafka"
	"github.com/flowmask/flowmask/proxy"
	"github.com/flowmask/flowmask/proxy/forward"
	"github.com/spf13/cobra"
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

// checkConfig loads data as each command would (the proxy's keys, routes,
// secrets: and forward: sections; the kafka: section when there is one) and
// returns every problem, one a line as FILE:LINE: FIELD: message, sorted by
// line, each once.
func checkConfig(name string, data []byte) []string {
	doc, err := yamlconf.Parse(name, data)
	if err != nil {
		return errorLines(yamlconf.Flatten(err))
	}
	_, all := proxy.DecodeConfig(doc)
	if doc.Has("forward") {
		_, errs := forward.DecodeForwardSection(doc)
		all = append(all, errs...)
	}
	if doc.Has("kafka") {
		_, errs := kafka.DecodeConfig(doc)
		all = append(all, errs...)
	}
	return errorLines(all.Sorted())
}

func errorLines(errs yamlconf.Errors) []string {
	out := make([]string, len(errs))
	for i, e := range errs {
		out[i] = e.Error()
	}
	return out
}
