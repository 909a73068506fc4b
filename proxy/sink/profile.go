package sink

import (
	"github.com/flowmask/flowmask/proxy/httpbody"
	"io"
	"mime"
	"net/http"
	"sort"
	"strings"

	"github.com/flowmask/flowmask/proxy/internal/refusal"
	"github.com/flowmask/flowmask/redactor"
)

// Profile names.
const (
	Generic       = "generic"
	SplunkHEC     = "splunk-hec"
	ElasticBulk   = "elastic-bulk"
	LogsIngestion = "azure-logs-ingestion"
	DataCollector = "azure-data-collector"
	LokiJSON      = "loki-json"
	OTLPJSON      = "otlp-json"
)

// Profile keeps one sink's protocol intact. Each lives in its own file.
type Profile interface {
	// Allow returns allowlist entries the profile adds to the route's
	// redactor (ids, timestamps and enums that must never change).
	Allow() []redactor.Allow
	// Plan decides how to redact a request body, or refuses it with a
	// *refusal.Error.
	Plan(r *http.Request, rt Route) (Plan, error)
}

// Route is what a profile needs to know of the route a body came in on.
type Route struct {
	// WorkspaceKey is the decoded Log Analytics workspace key
	// (azure-data-collector only).
	WorkspaceKey []byte
	// MaxDocument is limits.max_document: the longest line or event.
	MaxDocument int
}

// Plan is a profile's decision for one body.
type Plan struct {
	// Skip passes the body untouched (Splunk HEC ack polls, health checks).
	Skip bool
	// Format is the engine format for the default writer.
	Format redactor.Format
	// NeedJSON rejects a held body that is not valid JSON with 422 (or scans
	// it as text with on_invalid_json: text).
	NeedJSON bool
	// NeedArray additionally wants a top-level JSON array.
	NeedArray bool
	// Whole holds the entire body (up to max_decoded_bytes) instead of
	// streaming a large one.
	Whole bool
	// NoEncoding refuses any Content-Encoding.
	NoEncoding bool
	// Writer builds a profile-specific redacting writer; nil means
	// red.NewWriter(dst, format).
	Writer func(dst io.Writer, red *redactor.Redactor, textFallback bool) BodyWriter
	// Pre runs on a held body before the engine, for structure the engine
	// does not know (OTLP key/value attributes).
	Pre func(red *redactor.Redactor, body []byte) ([]byte, redactor.Stats)
	// Finish runs on the held, redacted (and re-encoded) body before it is
	// forwarded: size checks, re-signing.
	Finish func(out *http.Request, body []byte, decoded int64) error
}

// BodyWriter is a redacting writer; *redactor.Writer is one.
type BodyWriter interface {
	io.WriteCloser
	Stats() redactor.Stats
}

// Refusals the profiles' body writers return; the reverse proxy returns
// them too for a held body.
var (
	ErrInvalidJSON      = &refusal.Error{Status: http.StatusUnprocessableEntity, Code: "invalid_json", Msg: "the body is not valid JSON for this sink (set on_invalid_json: text to scan it as text)"}
	ErrDocumentTooLarge = &refusal.Error{Status: http.StatusRequestEntityTooLarge, Code: "document_too_large", Msg: "a line or event exceeds limits.max_document"}
)

var profiles = map[string]Profile{
	Generic:       genericProfile{},
	SplunkHEC:     hecProfile{},
	ElasticBulk:   bulkProfile{},
	LogsIngestion: logsIngestionProfile{},
	DataCollector: dataCollectorProfile{},
	LokiJSON:      lokiProfile{},
	OTLPJSON:      otlpProfile{},
}

// ByName returns the profile called n, nil for an unknown name.
func ByName(n string) Profile { return profiles[n] }

// Names lists the sink profiles, sorted.
func Names() []string {
	names := make([]string, 0, len(profiles))
	for n := range profiles {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// mediaType returns the lower-case media type and its parameters; an
// unparsable header yields "" and nil.
func mediaType(h http.Header) (string, map[string]string) {
	ct := h.Get("Content-Type")
	if ct == "" {
		return "", nil
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return strings.ToLower(strings.TrimSpace(strings.SplitN(ct, ";", 2)[0])), nil
	}
	return mt, params
}

func isProtobuf(mt string) bool {
	switch mt {
	case "application/x-protobuf", "application/protobuf", "application/vnd.google.protobuf", "application/x-google-protobuf":
		return true
	}
	return false
}

// genericProfile redacts by Content-Type.
type genericProfile struct{}

func (genericProfile) Allow() []redactor.Allow { return nil }

func (genericProfile) Plan(r *http.Request, _ Route) (Plan, error) {
	mt, _ := mediaType(r.Header)
	if isProtobuf(mt) {
		return Plan{}, refusal.Unsupported("protobuf bodies cannot be scanned; send JSON (Content-Type: application/json)")
	}
	f, needJSON, ok := httpbody.FormatFor(mt)
	if !ok {
		return Plan{}, refusal.Unsupported("Content-Type " + mt + " cannot be scanned; send JSON, NDJSON, text, CSV or a form")
	}
	return Plan{Format: f, NeedJSON: needJSON}, nil
}
