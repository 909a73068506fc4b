package proxy

import (
	"go.uber.org/zap"

	"github.com/flowmask/flowmask/redactor"
)

// The forward proxy (proxy/forward) delivers its records through the audit
// poster that still lives here (forward_post.go). These are the few names
// it needs; they go when the poster moves to proxy/audit.

// AuditSink is a compiled audit sink profile (framing, credentials) of a
// ForwardConfig whose audit output is an http(s) URL.
type AuditSink struct{ s *auditSink }

// LoadAuditSink reads cfg's audit sink settings and credentials; the
// literals are the sink's own secrets, for the redactor. A nil *AuditSink
// means generic NDJSON.
func LoadAuditSink(cfg *ForwardConfig) (*AuditSink, []redactor.Literal, error) {
	s, lits, err := loadAuditSink(cfg)
	if err != nil || s == nil {
		return nil, lits, err
	}
	return &AuditSink{s: s}, lits, nil
}

// IsAuditURL reports an audit output that is an http(s) URL.
func IsAuditURL(s string) bool { return isAuditURL(s) }

// AuditPoster posts record lines to an http(s) audit output in batches.
type AuditPoster struct{ p *recordPoster }

// NewAuditPoster starts posting to u, framed for sink (nil: generic
// NDJSON).
func NewAuditPoster(u string, sink *AuditSink, logger *zap.Logger) *AuditPoster {
	var s *auditSink
	if sink != nil {
		s = sink.s
	}
	return &AuditPoster{p: newRecordPoster(u, s, logger)}
}

// Add queues one record line.
func (p *AuditPoster) Add(line []byte) { p.p.add(line) }

// Close sends what is waiting and stops.
func (p *AuditPoster) Close() { p.p.close() }
