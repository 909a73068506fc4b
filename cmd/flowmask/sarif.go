package main

import (
	"io"

	"github.com/flowmask/flowmask/sarif"
)

// SARIF types for audit's report (package sarif holds them).
type (
	sarifResult   = sarif.Result
	sarifLocation = sarif.Location
	sarifPhysical = sarif.Physical
	sarifArtifact = sarif.Artifact
	sarifLogical  = sarif.Logical
	sarifMessage  = sarif.Message
)

type sarifLog struct{ *sarif.Log }

// newSARIF returns a log with one run of flowmask listing the rules used.
func newSARIF(rules map[string]string, results []sarifResult) *sarifLog {
	return &sarifLog{sarif.New(version, rules, results)}
}

func (l *sarifLog) write(w io.Writer) error { return l.Log.Write(w) }
