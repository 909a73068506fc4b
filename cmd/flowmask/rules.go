package main

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/flowmask/flowmask/patterns"
	"github.com/flowmask/flowmask/redactor"
	"github.com/spf13/cobra"
)

func newRulesCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "rules",
		Short: "List detection rules or test rule files",
	}
	var extra []string
	list := &cobra.Command{
		Use:   "list",
		Short: "List the detection rules",
		Example: `  flowmask rules list
  flowmask rules list --rules my-rules.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			set, err := loadRulesFrom(cmd.Context(), extra, nil)
			if err != nil {
				return &exitError{code: exitUsage, err: err}
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tKIND\tKEYWORDS / NAMES\tDESCRIPTION")
			for _, r := range set.Rules {
				words := r.Keywords
				if r.Kind == patterns.KindKeyName {
					words = r.Names
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.ID, r.Kind, clipWords(words), r.Description)
			}
			fmt.Fprintf(tw, "%s\tliteral\t\tKnown secret values (--secrets-file, --secret-env, secrets sources)\n", redactor.LiteralRuleID)
			return tw.Flush()
		},
	}
	list.Flags().StringArrayVar(&extra, "rules", nil, "also list the rules of this YAML `FILE` (repeatable)")
	test := &cobra.Command{
		Use:   "test [FILE...]",
		Short: "Run every rule's examples and negative examples",
		Long: `Test checks that each rule finds a secret in every one of its examples and that
no rule changes any negative example. With FILE arguments it tests the rules of
those files (together with the built-in rules); without, the built-in rules.
Exit status 1 when an example fails.`,
		Example: `  flowmask rules test
  flowmask rules test my-rules.yaml`,
		RunE: func(cmd *cobra.Command, args []string) error {
			// The opt-in packs' examples are tested with the packs on.
			set, err := loadRules(nil, nil, patterns.Packs()...)
			if err != nil {
				return &exitError{code: exitUsage, err: err}
			}
			check := set.Rules
			if len(args) > 0 {
				check = nil
				for _, name := range args {
					rules, err := loadRuleFile(cmd.Context(), name) // "-": standard input
					if err != nil {
						return &exitError{code: exitUsage, err: err}
					}
					if err := set.Add(rules...); err != nil {
						return &exitError{code: exitUsage, err: err}
					}
					check = append(check, rules...)
				}
			}
			errs := redactor.CheckExamples(set, check)
			out := cmd.OutOrStdout()
			for _, e := range errs {
				fmt.Fprintln(out, "FAIL", e)
			}
			examples := 0
			for _, r := range check {
				examples += len(r.Examples) + len(r.NegativeExamples)
			}
			fmt.Fprintf(out, "%d rules, %d examples: %d passed, %d failed\n", len(check), examples, examples-len(errs), len(errs))
			if len(errs) > 0 {
				return &exitError{code: exitFindings}
			}
			return nil
		},
	}
	cmd.AddCommand(list, test)
	return cmd
}

func clipWords(w []string) string {
	s := strings.Join(w, ",")
	if len(s) > 40 {
		s = s[:37] + "..."
	}
	return s
}
