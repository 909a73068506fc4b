package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/flowmask/flowmask/patterns"
	"github.com/flowmask/flowmask/redactor"
	"github.com/spf13/cobra"
)

// scanFinding is one finding of `flowmask scan`, in every report format.
type scanFinding struct {
	File string `json:"file"`
	redactor.Finding
}

func newScanCmd() *cobra.Command {
	var ef engineFlags
	var report string
	cmd := &cobra.Command{
		Use:   "scan [flags] [FILE|DIR...]",
		Short: "Report secrets in files or standard input without changing them",
		Long: `Scan reports each secret found (rule, file, line, column, JSON path, a masked
preview) and never the secret itself. A directory is walked recursively
(hidden directories such as .git are skipped). Exit status: 0 when clean, 1
when something was found, 2 on errors.`,
		Example: `  flowmask scan run-history.json exports/
  flowmask scan --report sarif logs/*.ndjson > flowmask.sarif
  kubectl logs deploy/app | flowmask scan --report json`,
		RunE: func(cmd *cobra.Command, args []string) error {
			switch report {
			case "text", "json", "sarif":
			default:
				return &exitError{code: exitUsage, err: fmt.Errorf("--report: unknown format %q (want text, json or sarif)", report)}
			}
			logger := newLogger()
			r, format, err := ef.build(logger)
			if err != nil {
				return &exitError{code: exitUsage, err: err}
			}
			ctx := cmd.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			prog := newProgress(os.Stderr, "scan", true)
			var (
				mu       sync.Mutex
				findings []scanFinding
			)
			scanOne := func(name string, src io.Reader, hint redactor.Format) error {
				// A file name is data too (a token saved under its own
				// name): the report shows it redacted.
				shown := r.String(name)
				_, err := r.Scan(ctx, prog.reader(src), format, hint, func(f redactor.Finding) {
					mu.Lock()
					findings = append(findings, scanFinding{File: shown, Finding: f})
					mu.Unlock()
					prog.findings.Add(1)
				})
				return err
			}
			if len(args) == 0 {
				err = scanOne("-", os.Stdin, redactor.FormatAuto)
			}
			files, werr := expandDirs(args)
			if werr != nil {
				return &exitError{code: exitUsage, err: werr}
			}
			for _, name := range files {
				f, oerr := os.Open(name)
				if oerr != nil {
					err = oerr
					break
				}
				err = scanOne(name, f, redactor.FormatHint(name))
				f.Close()
				if err != nil {
					err = fmt.Errorf("%s: %w", r.String(name), err)
					break
				}
			}
			prog.stop()
			if err != nil {
				return &exitError{code: exitUsage, err: err}
			}
			if werr := writeScanReport(os.Stdout, report, findings); werr != nil {
				return &exitError{code: exitUsage, err: werr}
			}
			if len(findings) > 0 {
				return &exitError{code: exitFindings}
			}
			return nil
		},
	}
	ef.register(cmd)
	cmd.Flags().StringVar(&report, "report", "text", "report format: text, json or sarif (2.1.0)")
	return cmd
}

func writeScanReport(w io.Writer, format string, findings []scanFinding) error {
	switch format {
	case "json":
		if findings == nil {
			findings = []scanFinding{}
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(findings)
	case "sarif":
		desc := ruleDescriptions()
		used := map[string]string{}
		results := make([]sarifResult, 0, len(findings))
		for _, f := range findings {
			used[f.Rule] = desc[f.Rule]
			loc := sarifLocation{PhysicalLocation: sarifPhysical{
				ArtifactLocation: sarifArtifact{URI: f.File},
				Region:           &sarifRegion{StartLine: f.Line, StartColumn: f.Column},
			}}
			if f.Path != "" {
				loc.LogicalLocations = []sarifLogical{{FullyQualifiedName: f.Path}}
			}
			results = append(results, sarifResult{
				RuleID:     f.Rule,
				Level:      "error",
				Message:    sarifMessage{Text: fmt.Sprintf("%s secret (%d bytes): %s", f.Rule, f.Length, f.Preview)},
				Locations:  []sarifLocation{loc},
				Properties: map[string]any{"confidence": f.Confidence},
			})
		}
		return newSARIF(used, results).write(w)
	default:
		for _, f := range findings {
			path := ""
			if f.Path != "" {
				path = " at " + f.Path
			}
			if _, err := fmt.Fprintf(w, "%s:%d:%d: %s %s (%d bytes, %s confidence)%s\n", f.File, f.Line, f.Column, f.Rule, f.Preview, f.Length, f.Confidence, path); err != nil {
				return err
			}
		}
		if len(findings) == 0 {
			_, err := fmt.Fprintln(w, "no secrets found")
			return err
		}
		return nil
	}
}

// ruleDescriptions maps the embedded rules' IDs to their descriptions.
func ruleDescriptions() map[string]string {
	m := map[string]string{redactor.LiteralRuleID: "A known secret value (from --secrets-file, --secret-env or a secrets source)"}
	if set, err := patterns.DefaultWith(patterns.Packs()...); err == nil {
		for _, r := range set.Rules {
			m[r.ID] = r.Description
		}
	}
	return m
}

// expandDirs replaces each directory argument with the regular files below
// it, in lexical order, skipping hidden directories.
func expandDirs(args []string) ([]string, error) {
	var out []string
	for _, a := range args {
		st, err := os.Stat(a)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			out = append(out, a)
			continue
		}
		err = filepath.WalkDir(a, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && p != a && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			if d.Type().IsRegular() {
				out = append(out, p)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}
