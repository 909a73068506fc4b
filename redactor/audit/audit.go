package audit

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"path"
	"path/filepath"
	"strings"

	"github.com/flowmask/flowmask/redactor"
	"github.com/flowmask/flowmask/redactor/solution"
)

// Finding is one problem found in a flow definition or solution. It never
// holds a secret: messages name rule IDs and lengths only.
type Finding struct {
	// Rule is the audit rule's ID (see Rules).
	Rule string `json:"rule"`
	// Severity is error, warning or note.
	Severity Severity `json:"severity"`
	// File is the file as given; for a zip entry, "archive.zip!/entry".
	File string `json:"file"`
	// Flow is the workflow's name (display name, ARM resource name, the
	// folder of a Standard workflow.json), else the file's base name.
	Flow string `json:"flow"`
	// Action is the action or trigger the finding is about; empty for
	// parameters, template values and environment variables.
	Action string `json:"action"`
	// Path locates the value in File: a JSON path such as
	// $.definition.actions.Call_ERP.inputs.headers['x-api-key'], or for an
	// environment variable definition (XML) an element path.
	Path string `json:"json_path"`
	// Message says what is wrong.
	Message string `json:"message"`
	// Hint says how to fix it.
	Hint string `json:"hint"`
	// Fixable is true when `flowmask audit --fix` fixes it by adding
	// runtimeConfiguration.secureData.
	Fixable bool `json:"fixable,omitempty"`
}

// Kind says what a file was recognised as.
type Kind uint8

// Kinds of input.
const (
	// KindNone: not a workflow definition, template, flow or solution.
	KindNone Kind = iota
	// KindWorkflow: a Logic Apps workflow ({"definition":...}, Standard
	// workflow.json or a Consumption code-view export) or a bare definition.
	KindWorkflow
	// KindARM: an ARM template with Microsoft.Logic/workflows resources.
	KindARM
	// KindFlow: a Power Automate flow or Logic App resource JSON
	// ({"properties":{"definition":...}}).
	KindFlow
	// KindSolution: a Power Platform solution zip.
	KindSolution
	// KindPackage: another zip holding flow definitions (a Power Automate
	// legacy export package).
	KindPackage
)

var kindNames = [...]string{"none", "workflow", "arm-template", "flow", "solution", "package"}

// String names the kind.
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", k)
}

// Report is the result of auditing one file.
type Report struct {
	// Kind is what the file was recognised as; KindNone means it was not
	// audited (not a definition).
	Kind Kind
	// Findings are in document order.
	Findings []Finding
	// Fixed is, when Options.Fix is set and something was fixed, the file
	// with secureData added: re-encoded JSON (two-space indent, key order
	// kept), or a zip with only the fixed entries rewritten. Nil otherwise.
	Fixed []byte
	// Changes lists what Fixed changed, one line per action.
	Changes []string
	// Skipped lists fixes not made, with the reason (such as
	// trackedProperties on the action).
	Skipped []string
}

// ErrInvalid is wrapped by Audit's error when a file named .json or .zip
// is not valid JSON or not a readable zip.
var ErrInvalid = errors.New("invalid input")

// Options adjusts an audit.
type Options struct {
	// Fix asks Audit to build Report.Fixed.
	Fix bool
}

// Auditor checks flow definitions. It is immutable and safe for
// concurrent use.
type Auditor struct {
	r *redactor.Redactor
}

// New returns an Auditor that detects hardcoded secrets with r, which must
// not be nil.
func New(r *redactor.Redactor) *Auditor {
	if r == nil {
		panic("audit: New with a nil Redactor")
	}
	return &Auditor{r: r}
}

// Audit checks one file's content. name is used in findings and to name
// the flow; the content decides what the file is: a zip (solution export
// or flow package) or JSON (workflow, template or flow). Content that is
// neither returns KindNone; content that looks like JSON or a zip but does
// not parse returns an error wrapping ErrInvalid.
func (a *Auditor) Audit(ctx context.Context, name string, data []byte, opt Options) (*Report, error) {
	if bytes.HasPrefix(data, []byte("PK\x03\x04")) || bytes.HasPrefix(data, []byte("PK\x05\x06")) {
		return a.auditZip(ctx, name, data, opt)
	}
	t := bytes.TrimLeft(data, " \t\r\n\xef\xbb\xbf")
	if len(t) == 0 || (t[0] != '{' && t[0] != '[') {
		return &Report{}, nil
	}
	root, err := parseJSON(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")))
	if err != nil {
		return nil, fmt.Errorf("%w: %s: parse JSON: %w", ErrInvalid, name, err)
	}
	return a.auditJSON(ctx, name, root, opt, "")
}

// auditJSON audits a parsed document; flowName overrides the flow name.
func (a *Auditor) auditJSON(ctx context.Context, name string, root *node, opt Options, flowName string) (*Report, error) {
	rep := &Report{}
	docs, kind := recognise(name, root, flowName)
	rep.Kind = kind
	if kind == KindNone {
		return rep, nil
	}
	changed := false
	for _, d := range docs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		d.a, d.ctx, d.file, d.fix = a, ctx, name, opt.Fix
		d.run()
		rep.Findings = append(rep.Findings, d.findings...)
		rep.Changes = append(rep.Changes, d.changes...)
		rep.Skipped = append(rep.Skipped, d.skipped...)
		changed = changed || len(d.changes) > 0
	}
	if err := ctx.Err(); err != nil {
		return nil, err // a cancelled scan may have missed secrets
	}
	if opt.Fix && changed {
		rep.Fixed = root.encode()
	}
	return rep, nil
}

// baseName is a file's name without directory and extension.
func baseName(name string) string {
	b := path.Base(filepath.ToSlash(name))
	return strings.TrimSuffix(b, path.Ext(b))
}

// recognise finds the definitions in a JSON document.
func recognise(name string, root *node, flowName string) ([]*doc, Kind) {
	if !root.isObject() {
		return nil, KindNone
	}
	fallback := baseName(name)
	if flowName != "" {
		fallback = flowName
	}
	// ARM template.
	if res := root.get("resources"); res != nil && res.kind == kArray {
		var docs []*doc
		tmpl := &doc{arm: true, root: root, flow: fallback, template: true}
		var walk func(res *node, p string, at []seg)
		walk = func(res *node, p string, at []seg) {
			for i, r := range res.vals {
				rp, rat := pathIndex(p, i), with(at, seg{idx: i, arr: true})
				if strings.EqualFold(r.get("type").text(), "Microsoft.Logic/workflows") && r.path("properties", "definition").isObject() {
					props := with(rat, keySeg("properties"))
					d := &doc{arm: true, root: root, def: r.path("properties", "definition"),
						defPath: rp + ".properties.definition", defSegs: with(props, keySeg("definition")),
						values: r.path("properties", "parameters"), valuesPath: rp + ".properties.parameters",
						valuesSegs: with(props, keySeg("parameters")),
						flow:       armName(root, r.get("name").text(), fallback)}
					docs = append(docs, d)
				}
				if sub := r.get("resources"); sub != nil && sub.kind == kArray {
					walk(sub, rp+".resources", with(rat, keySeg("resources")))
				}
			}
		}
		walk(res, "$.resources", []seg{keySeg("resources")})
		if len(docs) > 0 {
			if len(docs) == 1 {
				tmpl.flow = docs[0].flow
			}
			return append([]*doc{tmpl}, docs...), KindARM
		}
		return nil, KindNone
	}
	// Power Automate flow / Logic App resource: {"properties":{"definition":...}}.
	if def := root.path("properties", "definition"); isDefinition(def) {
		fl := flowName
		if fl == "" {
			fl = root.path("properties", "displayName").text()
		}
		if fl == "" {
			fl = root.get("name").text()
		}
		if fl == "" {
			fl = fallback
		}
		return []*doc{{root: root, def: def, defPath: "$.properties.definition", defSegs: []seg{keySeg("properties"), keySeg("definition")}, flow: fl,
			values: root.path("properties", "parameters"), valuesPath: "$.properties.parameters", valuesSegs: []seg{keySeg("properties"), keySeg("parameters")}}}, KindFlow
	}
	// Logic Apps workflow.json / code view: {"definition":...}.
	if def := root.get("definition"); isDefinition(def) {
		fl := flowName
		if fl == "" && strings.EqualFold(path.Base(filepath.ToSlash(name)), "workflow.json") {
			if dir := path.Base(path.Dir(filepath.ToSlash(name))); dir != "." && dir != "/" {
				fl = dir
			}
		}
		if fl == "" {
			fl = fallback
		}
		return []*doc{{root: root, def: def, defPath: "$.definition", defSegs: []seg{keySeg("definition")}, flow: fl,
			values: root.get("parameters"), valuesPath: "$.parameters", valuesSegs: []seg{keySeg("parameters")}}}, KindWorkflow
	}
	// A bare definition.
	if isDefinition(root) && (strings.Contains(strings.ToLower(root.get("$schema").text()), "workflowdefinition") || root.get("contentVersion") != nil) {
		return []*doc{{root: root, def: root, defPath: "$", flow: fallback}}, KindWorkflow
	}
	return nil, KindNone
}

// isDefinition reports whether n looks like a workflow definition: an
// object with an actions or triggers object.
func isDefinition(n *node) bool {
	if !n.isObject() {
		return false
	}
	return n.get("actions").isObject() || n.get("triggers").isObject()
}

// armName resolves a workflow resource's name: a literal, or
// [parameters('p')] with p's default value; else fallback.
func armName(root *node, name, fallback string) string {
	sg := segments(name, true)
	if len(sg) == 1 && !sg[0].expr && name != "" {
		return name
	}
	if len(sg) == 1 && sg[0].expr {
		if rs := refs("@"+sg[0].text, false); len(rs) == 1 && rs[0].fn == "parameters" {
			if v := root.path("parameters", rs[0].name, "defaultValue").text(); v != "" && !hasExpr(v, true) {
				return v
			}
		}
	}
	return fallback
}

// auditZip audits a solution export or another zip of flow JSON files.
func (a *Auditor) auditZip(ctx context.Context, name string, data []byte, opt Options) (*Report, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, fmt.Errorf("%w: %s: open zip: %w", ErrInvalid, name, err)
	}
	if solution.IsSolution(zr) {
		return a.auditSolution(ctx, name, zr, opt)
	}
	return a.auditPackage(ctx, name, zr, opt)
}
