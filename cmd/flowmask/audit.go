package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/flowmask/flowmask/redactor"
	"github.com/flowmask/flowmask/redactor/audit"
	"github.com/spf13/cobra"
)

// auditOptions are the flags of `flowmask audit`.
type auditOptions struct {
	ef          engineFlags
	report      string
	minSeverity string
	failOn      string
	fix         bool
	out         string
}

func newAuditCmd() *cobra.Command {
	var o auditOptions
	cmd := &cobra.Command{
		Use:   "audit [flags] PATH...",
		Short: "Check Logic Apps / Power Automate definitions and solution exports for secret handling",
		Long: `Audit reads Logic Apps workflow definitions (workflow.json, code-view exports,
ARM templates with Microsoft.Logic/workflows resources), Power Automate flow
JSON and Power Platform solution zips, and reports hardcoded secrets, actions
that handle secrets without secure inputs/outputs, variables holding secrets,
plain http:// endpoints, sig= URLs, secret environment variable values in
exports and securestring parameters with defaults.

Directories are walked recursively; every .json and .zip file is recognised by
its content, other files are skipped with a note on stderr. Exit status: 1
when a reported finding is at or above --fail-on, 0 otherwise, 2 on errors.

--fix --out DIR writes copies of the files that need secureData, with it
added, under DIR (the originals are never changed). Fixed JSON is re-encoded
with two-space indentation, keeping key order.`,
		Example: `  flowmask audit ./logicapps ./solutions/Contoso_1_0_0_1.zip
  flowmask audit --report sarif --min-severity note . > audit.sarif
  flowmask audit --fix --out fixed/ workflows/`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runAudit(cmd.Context(), &o, args, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.report, "report", "text", "report format: text (a table), json or sarif (2.1.0)")
	fl.StringVar(&o.minSeverity, "min-severity", "warning", "report findings at or above this severity: error, warning or note")
	fl.StringVar(&o.failOn, "fail-on", "warning", "exit 1 when a reported finding is at or above this severity: error, warning, note or none")
	fl.BoolVar(&o.fix, "fix", false, "write fixed copies (secureData added) under --out")
	fl.StringVar(&o.out, "out", "", "with --fix, the `DIR` to write fixed copies to (created if needed)")
	fl.StringArrayVar(&o.ef.rules, "rules", nil, "add the detection rules of this YAML `FILE` (repeatable)")
	fl.StringArrayVar(&o.ef.disable, "disable-rule", nil, "disable the detection rule with this `ID` (repeatable)")
	fl.StringVar(&o.ef.allowFile, "allowlist", "", "YAML `FILE` of allowlist entries ({rule, path, value}) for hardcoded-secret detection")
	o.ef.secrets.register(cmd)
	o.ef.cmd = cmd
	return cmd
}

// auditInput is one file to audit: its name as reported, its path on disk
// and, for a directory walk, its path relative to the walked root.
type auditInput struct {
	name, path, rel string
	explicit        bool
}

func runAudit(ctx context.Context, o *auditOptions, args []string, stdout, stderr io.Writer) error {
	if ctx == nil {
		ctx = context.Background()
	}
	usage := func(err error) error { return &exitError{code: exitUsage, err: err} }
	switch o.report {
	case "text", "json", "sarif":
	default:
		return usage(fmt.Errorf("--report: unknown format %q (want text, json or sarif)", o.report))
	}
	minSev, err := audit.ParseSeverity(o.minSeverity)
	if err != nil {
		return usage(fmt.Errorf("--min-severity: %w", err))
	}
	var failOn audit.Severity // zero: never fail
	if !strings.EqualFold(o.failOn, "none") {
		if failOn, err = audit.ParseSeverity(o.failOn); err != nil {
			return usage(fmt.Errorf("--fail-on: %w (or none)", err))
		}
	}
	if o.fix != (o.out != "") {
		return usage(errors.New("--fix and --out go together"))
	}
	o.ef.format, o.ef.mask, o.ef.maxDocument = "auto", "label", redactor.DefaultMaxDocument
	r, _, err := o.ef.build(newLogger(stderr))
	if err != nil {
		return usage(err)
	}
	a := audit.New(r)

	inputs, err := collectAuditInputs(args, o.out, stderr)
	if err != nil {
		return usage(err)
	}
	if o.fix {
		if err := checkOutDir(o.out, inputs); err != nil {
			return usage(err)
		}
	}
	var all []audit.Finding
	for _, in := range inputs {
		data, err := readAuditInputFrom(ctx, in.path)
		if errors.Is(err, errAuditTooLarge) && !in.explicit {
			fmt.Fprintf(stderr, "flowmask: audit: skipped %s: %v\n", in.name, err)
			continue
		}
		if err != nil {
			return usage(fmt.Errorf("%s: %w", in.name, err))
		}
		rep, err := a.Audit(ctx, in.name, data, audit.Options{Fix: o.fix})
		if err != nil {
			if errors.Is(err, audit.ErrInvalid) && !in.explicit {
				fmt.Fprintf(stderr, "flowmask: audit: skipped %s: %v\n", in.name, err)
				continue
			}
			return usage(err)
		}
		if rep.Kind == audit.KindNone {
			if in.explicit {
				return usage(fmt.Errorf("%s: not a workflow definition, flow or solution", in.name))
			}
			fmt.Fprintf(stderr, "flowmask: audit: skipped %s: not a workflow definition, flow or solution\n", in.name)
			continue
		}
		all = append(all, rep.Findings...)
		for _, s := range rep.Skipped {
			fmt.Fprintln(stderr, "flowmask: audit:", s)
		}
		if o.fix && rep.Fixed != nil {
			dst := filepath.Join(o.out, in.rel)
			if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
				return usage(err)
			}
			if err := os.WriteFile(dst, rep.Fixed, 0o644); err != nil {
				return usage(err)
			}
			fmt.Fprintf(stderr, "flowmask: audit: wrote %s (%d actions secured)\n", dst, len(rep.Changes))
		}
	}
	var reported []audit.Finding
	fail := false
	for _, f := range all {
		if f.Severity < minSev {
			continue
		}
		reported = append(reported, f)
		if failOn != 0 && f.Severity >= failOn {
			fail = true
		}
	}
	if err := writeAuditReport(stdout, o.report, reported); err != nil {
		return usage(err)
	}
	if fail {
		return &exitError{code: exitFindings}
	}
	return nil
}

// maxAuditJSON caps a JSON file read for auditing: definitions are far
// smaller, and a large .json in a walked tree is most likely a log export.
const maxAuditJSON = redactor.DefaultMaxDocument

var errAuditTooLarge = fmt.Errorf("JSON file larger than %d MiB, too large for a definition", maxAuditJSON>>20)

// readAuditInputFrom reads a file to audit: a zip whole, other content up
// to maxAuditJSON bytes; "-" is standard input from ctx: a zip or JSON,
// held whole up to the largest zip we read.
func readAuditInputFrom(ctx context.Context, name string) ([]byte, error) {
	if name == stdinName {
		return readInput(ctx, "audit", name)
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.Size() > maxAuditJSON {
		magic := make([]byte, 4)
		if _, err := io.ReadFull(f, magic); err != nil || string(magic) != "PK\x03\x04" {
			return nil, errAuditTooLarge
		}
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return nil, err
		}
	}
	return io.ReadAll(f)
}

// collectAuditInputs expands directories (recursively, .json and .zip files
// only; others are skipped with a note) and keeps named files as given. The
// --out directory, if inside a walked one, and hidden directories (.git)
// are not walked.
func collectAuditInputs(args []string, out string, stderr io.Writer) ([]auditInput, error) {
	var absOut string
	if out != "" {
		var err error
		if absOut, err = filepath.Abs(out); err != nil {
			return nil, err
		}
	}
	var inputs []auditInput
	for _, arg := range args {
		if arg == stdinName {
			if out != "" {
				return nil, errors.New("--fix: standard input (-) has no name to write a fixed copy under; give a file")
			}
			inputs = append(inputs, auditInput{name: arg, path: arg, rel: arg, explicit: true})
			continue
		}
		st, err := os.Stat(arg)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			inputs = append(inputs, auditInput{name: arg, path: arg, rel: outRel(arg), explicit: true})
			continue
		}
		root := outRel(arg)
		err = filepath.WalkDir(arg, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				if p != arg && strings.HasPrefix(d.Name(), ".") {
					return filepath.SkipDir
				}
				if absOut != "" {
					if ap, err := filepath.Abs(p); err == nil && ap == absOut {
						return filepath.SkipDir
					}
				}
				return nil
			}
			ext := strings.ToLower(filepath.Ext(p))
			if ext != ".json" && ext != ".zip" {
				fmt.Fprintf(stderr, "flowmask: audit: skipped %s: not a .json or .zip file\n", p)
				return nil
			}
			rel, err := filepath.Rel(arg, p)
			if err != nil {
				return err
			}
			inputs = append(inputs, auditInput{name: p, path: p, rel: filepath.Join(root, rel)})
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return inputs, nil
}

// outRel is where a named path goes under --out: a relative path that stays
// below the working directory keeps its shape; anything else (absolute,
// ../x) keeps its base name only.
func outRel(p string) string {
	c := filepath.Clean(p)
	if c == "." {
		return ""
	}
	if filepath.IsAbs(c) || c == ".." || strings.HasPrefix(c, ".."+string(filepath.Separator)) {
		return filepath.Base(c)
	}
	return c
}

// checkOutDir refuses an --out directory where a fixed copy would
// overwrite an input, or two inputs would be written to the same place.
func checkOutDir(out string, inputs []auditInput) error {
	seen := map[string]string{}
	for _, in := range inputs {
		dst, err := filepath.Abs(filepath.Join(out, in.rel))
		if err != nil {
			return err
		}
		src, err := filepath.Abs(in.path)
		if err != nil {
			return err
		}
		same := dst == src
		if s1, err1 := os.Stat(dst); err1 == nil {
			if s2, err2 := os.Stat(src); err2 == nil && os.SameFile(s1, s2) {
				same = true
			}
		}
		if same {
			return fmt.Errorf("--out %s: writing there would overwrite %s; choose another directory", out, in.path)
		}
		if prev, ok := seen[dst]; ok {
			return fmt.Errorf("--out %s: %s and %s would both be written to %s; audit them separately", out, prev, in.path, dst)
		}
		seen[dst] = in.path
	}
	return nil
}

func writeAuditReport(w io.Writer, format string, findings []audit.Finding) error {
	switch format {
	case "json":
		if findings == nil {
			findings = []audit.Finding{}
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(findings)
	case "sarif":
		return auditSARIF(findings).write(w)
	}
	if len(findings) == 0 {
		_, err := fmt.Fprintln(w, "no findings")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SEVERITY\tRULE\tFILE\tFLOW\tACTION\tJSON PATH\tMESSAGE")
	used := map[string]bool{}
	for _, f := range findings {
		act := f.Action
		if act == "" {
			act = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", f.Severity, f.Rule, f.File, f.Flow, act, f.Path, f.Message)
		used[f.Rule] = true
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\n%d finding(s). How to fix:\n", len(findings))
	for _, r := range audit.Rules() {
		if used[r.ID] {
			if _, err := fmt.Fprintf(w, "  %s: %s\n", r.ID, r.Hint); err != nil {
				return err
			}
		}
	}
	return nil
}

// auditSARIF converts findings to SARIF 2.1.0: one result per finding, the
// JSON path as a logical location, every audit rule in the driver.
func auditSARIF(findings []audit.Finding) *sarifLog {
	rules := map[string]string{}
	help := map[string]string{}
	for _, r := range audit.Rules() {
		rules[r.ID] = r.Description
		help[r.ID] = r.Hint
	}
	results := make([]sarifResult, 0, len(findings))
	for _, f := range findings {
		loc := sarifLocation{PhysicalLocation: sarifPhysical{ArtifactLocation: sarifArtifact{URI: filepath.ToSlash(f.File)}}}
		fq := f.Path
		if f.Flow != "" {
			fq = f.Flow + "/" + f.Path
		}
		loc.LogicalLocations = []sarifLogical{{FullyQualifiedName: fq}}
		props := map[string]any{"flow": f.Flow, "json_path": f.Path, "hint": f.Hint}
		if f.Action != "" {
			props["action"] = f.Action
		}
		results = append(results, sarifResult{
			RuleID:     f.Rule,
			Level:      f.Severity.String(), // error, warning and note are SARIF levels too
			Message:    sarifMessage{Text: f.Message},
			Locations:  []sarifLocation{loc},
			Properties: props,
		})
	}
	log := newSARIF(rules, results)
	for i := range log.Runs[0].Tool.Driver.Rules {
		rl := &log.Runs[0].Tool.Driver.Rules[i]
		rl.Help = &sarifMessage{Text: help[rl.ID]}
	}
	return log
}
