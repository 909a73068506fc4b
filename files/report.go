package files

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strconv"

	"github.com/flowmask/flowmask/patterns"
	"github.com/flowmask/flowmask/redactor"
	"github.com/flowmask/flowmask/sarif"
)

// ReportFormats are the --report values WriteReport takes.
var ReportFormats = []string{"text", "json", "sarif"}

// WriteReport writes findings as text, json or sarif (2.1.0). The findings'
// strings must already be masked (ScanFile and ScanStream do it); version
// is the tool version SARIF names. incomplete says that some input could
// not be read, so a text report never says plainly "no secrets found".
func WriteReport(w io.Writer, format, version string, findings []Finding, incomplete bool) error {
	switch format {
	case "json":
		if findings == nil {
			findings = []Finding{}
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(findings)
	case "sarif":
		desc := ruleDescriptions()
		used := map[string]string{}
		results := make([]sarif.Result, 0, len(findings))
		for _, f := range findings {
			used[f.Rule] = desc[f.Rule]
			loc := sarif.Location{PhysicalLocation: sarif.Physical{
				ArtifactLocation: sarif.Artifact{URI: f.File},
				Region:           &sarif.Region{StartLine: f.Line, StartColumn: f.Column},
			}}
			if f.Path != "" {
				loc.LogicalLocations = []sarif.Logical{{FullyQualifiedName: f.Path}}
			}
			results = append(results, sarif.Result{
				RuleID:     f.Rule,
				Level:      "error",
				Message:    sarif.Message{Text: fmt.Sprintf("%s secret (%d bytes): %s", f.Rule, f.Length, f.Preview)},
				Locations:  []sarif.Location{loc},
				Properties: map[string]any{"confidence": f.Confidence, "offset": f.Offset},
			})
		}
		return sarif.New(version, used, results).Write(w)
	case "text":
		bw := bufio.NewWriterSize(w, 64<<10)
		defer bw.Flush()
		w := bw
		var line []byte
		for _, f := range findings {
			// FILE:LINE:COL: RULE PREVIEW (N bytes, C confidence, offset O)[ at PATH]
			line = append(line[:0], f.File...)
			line = append(line, ':')
			line = strconv.AppendInt(line, int64(f.Line), 10)
			line = append(line, ':')
			line = strconv.AppendInt(line, int64(f.Column), 10)
			line = append(line, ": "...)
			line = append(line, f.Rule...)
			line = append(line, ' ')
			line = append(line, f.Preview...)
			line = append(line, " ("...)
			line = strconv.AppendInt(line, int64(f.Length), 10)
			line = append(line, " bytes, "...)
			line = append(line, f.Confidence...)
			line = append(line, " confidence, offset "...)
			line = strconv.AppendInt(line, f.Offset, 10)
			line = append(line, ')')
			if f.Path != "" {
				line = append(line, " at "...)
				line = append(line, f.Path...)
			}
			line = append(line, '\n')
			if _, err := w.Write(line); err != nil {
				return err
			}
		}
		if len(findings) == 0 {
			msg := "no secrets found"
			if incomplete {
				msg = "no secrets found in the input that could be read (some could not: see standard error)"
			}
			if _, err := fmt.Fprintln(w, msg); err != nil {
				return err
			}
		}
		return bw.Flush()
	}
	return fmt.Errorf("unknown report format %q (want text, json or sarif)", format)
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
