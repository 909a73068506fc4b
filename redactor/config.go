package redactor

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/flowmask/flowmask/patterns"
	"go.uber.org/zap"
)

// Format says how input is framed and which structure is preserved.
type Format uint8

// Formats. FormatAuto decides from the content.
const (
	FormatAuto Format = iota
	FormatJSON
	FormatNDJSON
	FormatText
	FormatCSV
	FormatForm
)

var formatNames = [...]string{"auto", "json", "ndjson", "text", "csv", "form"}

func (f Format) String() string {
	if int(f) < len(formatNames) {
		return formatNames[f]
	}
	return fmt.Sprintf("format(%d)", f)
}

// ParseFormat parses a --format value: auto, json, ndjson, text, csv or form.
func ParseFormat(s string) (Format, error) {
	for i, n := range formatNames {
		if strings.EqualFold(s, n) {
			return Format(i), nil
		}
	}
	return 0, fmt.Errorf("unknown format %q (want one of %s)", s, strings.Join(formatNames[:], ", "))
}

// FormatHint maps a file name's extension to a format, FormatAuto when the
// extension says nothing. Auto-detection treats it as a hint only.
func FormatHint(name string) Format {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".json":
		return FormatJSON
	case ".ndjson", ".jsonl":
		return FormatNDJSON
	case ".csv", ".tsv":
		return FormatCSV
	case ".log", ".txt":
		return FormatText
	}
	return FormatAuto
}

// MaskStyle selects the replacement text.
type MaskStyle uint8

// Mask styles.
const (
	// MaskLabel replaces a secret with [REDACTED:<rule-id>].
	MaskLabel MaskStyle = iota
	// MaskHash replaces a secret with [REDACTED:<rule-id>:<8 hex>], the first
	// four bytes of HMAC-SHA256(HashKey, secret), so equal secrets correlate
	// across records without being recoverable.
	MaskHash
)

// ParseMaskStyle parses a --mask value: label or hash.
func ParseMaskStyle(s string) (MaskStyle, error) {
	switch strings.ToLower(s) {
	case "label", "":
		return MaskLabel, nil
	case "hash":
		return MaskHash, nil
	}
	return 0, fmt.Errorf("unknown mask style %q (want label or hash)", s)
}

// Literal is a known secret value, masked wherever it occurs and in its
// encoded forms.
type Literal struct {
	// Source names where the value came from (an env variable, a file), for
	// warnings; it never holds the value.
	Source string
	// Value is the secret itself.
	Value string
}

// Allow silences matches. Every non-empty field must match for an entry to
// apply, so {Rule: "password", Path: "$.sample.password"} silences one rule
// at one place without disabling it elsewhere.
type Allow struct {
	// Rule is a rule ID; empty means any rule.
	Rule string `yaml:"rule"`
	// Path is a JSON path such as $.definition.parameters.example.defaultValue;
	// '*' matches one path segment or part of one. Empty means anywhere.
	Path string `yaml:"path"`
	// Value is an RE2 expression matched against the whole secret span. Empty
	// means any value.
	Value string `yaml:"value"`
}

// DefaultMaxDocument is the default limit for a format that must be read
// whole (a JSON document, a form body, one CSV record or NDJSON line).
const DefaultMaxDocument = 64 << 20

// Config configures a Redactor. The zero value is usable: the embedded rule
// library, label masks, no literals.
type Config struct {
	// Rules is the rule set; nil means patterns.Default().
	Rules *patterns.Set
	// Mask selects the replacement text.
	Mask MaskStyle
	// HashKey keys the HMAC of MaskHash. It is required with MaskHash.
	HashKey []byte
	// Literals are known secret values. Values shorter than 8 bytes are
	// skipped with a warning naming their source, never the value.
	Literals []Literal
	// Allow lists matches to leave alone.
	Allow []Allow
	// MaxDocument caps what a Writer reads whole (a JSON document, a form
	// body, one NDJSON line or CSV record); a larger one is refused with an
	// error wrapping ErrTooLarge. Zero means DefaultMaxDocument.
	MaxDocument int
	// Logger receives warnings about the configuration. Nil means no logs.
	Logger *zap.Logger
	// AfterRecordGrow, if set, is called each time a Writer replaced a
	// record buffer of GrowNotice bytes or more by a larger one and dropped
	// the old one: a record of unknown length (a long line on a pipe) grows
	// by doubling. A one-shot command passes debug.FreeOSMemory, so the
	// process holds about the record, not also every smaller buffer it
	// outgrew and the runtime has not yet given back.
	AfterRecordGrow func()
}

// GrowNotice is the smallest outgrown record buffer that
// Config.AfterRecordGrow hears of.
const GrowNotice = 8 << 20

// Stats counts what a call redacted. It holds rule IDs and counts, never
// secret bytes.
type Stats struct {
	// Bytes is the number of input bytes read.
	Bytes int64
	// Redactions is the number of spans replaced.
	Redactions int
	// ByRule counts replaced spans per rule ID; nil when nothing was replaced.
	ByRule map[string]int
}

// Add adds o's counts to s.
func (s *Stats) Add(o Stats) {
	s.Bytes += o.Bytes
	s.Redactions += o.Redactions
	if len(o.ByRule) > 0 && s.ByRule == nil {
		s.ByRule = make(map[string]int, len(o.ByRule))
	}
	for k, v := range o.ByRule {
		s.ByRule[k] += v
	}
}

// Finding describes one detected secret without revealing it.
type Finding struct {
	// Rule is the ID of the rule that matched.
	Rule string `json:"rule"`
	// Offset is the byte offset of the secret in the input (for a secret
	// inside encoded content, such as base64, the offset of that content).
	Offset int64 `json:"offset"`
	// Line and Column are 1-based; Column counts bytes.
	Line   int `json:"line"`
	Column int `json:"column"`
	// Length is the secret's length in bytes as found.
	Length int `json:"length"`
	// Path is the JSON path of the value holding the secret, when known.
	Path string `json:"json_path,omitempty"`
	// Preview is a masked preview: the rule's public prefix, if any, then
	// asterisks. It never holds secret bytes beyond that prefix.
	Preview string `json:"preview"`
	// Confidence is "high" when a validator confirmed the match, else
	// "medium".
	Confidence string `json:"confidence"`
}
