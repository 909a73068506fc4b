// Package sarif writes SARIF 2.1.0 logs, the subset code-scanning UIs read,
// for flowmask's scan and audit reports.
package sarif

import (
	"encoding/json"
	"io"
	"sort"
)

// Log is a SARIF log object.
type Log struct {
	Schema  string `json:"$schema"`
	Version string `json:"version"`
	Runs    []Run  `json:"runs"`
}

// Run is a SARIF run object.
type Run struct {
	Tool    Tool     `json:"tool"`
	Results []Result `json:"results"`
}

// Tool is a SARIF tool object.
type Tool struct {
	Driver Driver `json:"driver"`
}

// Driver is a SARIF driver object.
type Driver struct {
	Name           string `json:"name"`
	Version        string `json:"version"`
	InformationURI string `json:"informationUri"`
	Rules          []Rule `json:"rules"`
}

// Rule is a SARIF rule object.
type Rule struct {
	ID               string   `json:"id"`
	ShortDescription Message  `json:"shortDescription"`
	Help             *Message `json:"help,omitempty"`
}

// Message is a SARIF message object.
type Message struct {
	Text string `json:"text"`
}

// Result is a SARIF result object.
type Result struct {
	RuleID     string         `json:"ruleId"`
	Level      string         `json:"level"`
	Message    Message        `json:"message"`
	Locations  []Location     `json:"locations"`
	Properties map[string]any `json:"properties,omitempty"`
}

// Location is a SARIF location object.
type Location struct {
	PhysicalLocation Physical  `json:"physicalLocation"`
	LogicalLocations []Logical `json:"logicalLocations,omitempty"`
}

// Physical is a SARIF physical object.
type Physical struct {
	ArtifactLocation Artifact `json:"artifactLocation"`
	Region           *Region  `json:"region,omitempty"`
}

// Artifact is a SARIF artifact object.
type Artifact struct {
	URI string `json:"uri"`
}

// Region is a SARIF region object.
type Region struct {
	StartLine   int `json:"startLine,omitempty"`
	StartColumn int `json:"startColumn,omitempty"`
}

// Logical is a SARIF logical object.
type Logical struct {
	FullyQualifiedName string `json:"fullyQualifiedName"`
}

// New returns a log with one run of flowmask, listing the rules used
// (id -> description) in ID order.
func New(toolVersion string, rules map[string]string, results []Result) *Log {
	ids := make([]string, 0, len(rules))
	for id := range rules {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	drv := Driver{Name: "flowmask", Version: toolVersion, InformationURI: "https://github.com/flowmask/flowmask", Rules: []Rule{}}
	for _, id := range ids {
		drv.Rules = append(drv.Rules, Rule{ID: id, ShortDescription: Message{Text: rules[id]}})
	}
	if results == nil {
		results = []Result{}
	}
	return &Log{
		Schema:  "https://json.schemastore.org/sarif-2.1.0.json",
		Version: "2.1.0",
		Runs:    []Run{{Tool: Tool{Driver: drv}, Results: results}},
	}
}

// Write writes the log as indented JSON.
func (l *Log) Write(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(l)
}
