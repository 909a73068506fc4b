package proxy

import (
	"github.com/flowmask/flowmask/proxy/audit"
	"github.com/flowmask/flowmask/redactor"
)

// The forward proxy (proxy/forward) reads its audit sink settings through
// these until ForwardConfig moves there too.

// LoadAuditSink reads cfg's audit sink settings and credentials (validated)
// and returns the poster configuration for an http(s) audit output (nil for
// a file or stream output) and the sink's own secrets, for the redactor.
func LoadAuditSink(cfg *ForwardConfig) (*audit.PosterConfig, []redactor.Literal, error) {
	return loadAuditSink(cfg)
}
