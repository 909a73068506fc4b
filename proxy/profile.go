package proxy

import (
	"io"
	"mime"
	"net/http"
	"sort"
	"strings"

	"github.com/flowmask/flowmask/redactor"
)

// Profile names.
const (
	ProfileGeneric       = "generic"
	ProfileSplunkHEC     = "splunk-hec"
	ProfileElasticBulk   = "elastic-bulk"
	ProfileLogsIngestion = "azure-logs-ingestion"
	ProfileDataCollector = "azure-data-collector"
	ProfileLokiJSON      = "loki-json"
	ProfileOTLPJSON      = "otlp-json"
)

// profile keeps one sink's protocol intact. Each lives in its own file.
type profile interface {
	// allow returns allowlist entries the profile adds to the route's
	// redactor (ids, timestamps and enums that must never change).
	allow() []redactor.Allow
	// plan decides how to redact a request body, or refuses it with an
	// *httpError.
	plan(r *http.Request, rt *route) (plan, error)
}

// plan is a profile's decision for one body.
type plan struct {
	// skip passes the body untouched (Splunk HEC ack polls, health checks).
	skip bool
	// format is the engine format for the default writer.
	format redactor.Format
	// needJSON rejects a held body that is not valid JSON with 422 (or scans
	// it as text with on_invalid_json: text).
	needJSON bool
	// needArray additionally wants a top-level JSON array.
	needArray bool
	// whole holds the entire body (up to max_decoded_bytes) instead of
	// streaming a large one.
	whole bool
	// noEncoding refuses any Content-Encoding.
	noEncoding bool
	// writer builds a profile-specific redacting writer; nil means
	// red.NewWriter(dst, format).
	writer func(dst io.Writer, red *redactor.Redactor, textFallback bool) bodyWriter
	// pre runs on a held body before the engine, for structure the engine
	// does not know (OTLP key/value attributes).
	pre func(red *redactor.Redactor, body []byte) ([]byte, redactor.Stats)
	// finish runs on the held, redacted (and re-encoded) body before it is
	// forwarded: size checks, re-signing.
	finish func(out *http.Request, body []byte, decoded int64) error
}

// bodyWriter is a redacting writer; *redactor.Writer is one.
type bodyWriter interface {
	io.WriteCloser
	Stats() redactor.Stats
}

var profiles = map[string]profile{
	ProfileGeneric:       genericProfile{},
	ProfileSplunkHEC:     hecProfile{},
	ProfileElasticBulk:   bulkProfile{},
	ProfileLogsIngestion: logsIngestionProfile{},
	ProfileDataCollector: dataCollectorProfile{},
	ProfileLokiJSON:      lokiProfile{},
	ProfileOTLPJSON:      otlpProfile{},
}

func profileByName(n string) profile { return profiles[n] }

// ProfileNames lists the sink profiles, sorted.
func ProfileNames() []string {
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

func isJSONType(mt string) bool {
	return mt == "application/json" || mt == "text/json" || strings.HasSuffix(mt, "+json")
}

// formatFor maps a media type to an engine format; ok is false for a type
// flowmask cannot scan.
func formatFor(mt string) (f redactor.Format, needJSON, ok bool) {
	switch {
	case mt == "":
		return redactor.FormatAuto, false, true
	case isJSONType(mt):
		return redactor.FormatJSON, true, true
	case mt == "application/x-ndjson" || mt == "application/ndjson" || mt == "application/jsonl" ||
		mt == "application/x-jsonlines" || mt == "application/jsonlines" || mt == "application/json-seq" || mt == "application/stream+json":
		return redactor.FormatNDJSON, false, true
	case mt == "text/csv":
		return redactor.FormatCSV, false, true
	case mt == "application/x-www-form-urlencoded":
		return redactor.FormatForm, false, true
	case strings.HasPrefix(mt, "text/"), mt == "application/xml", strings.HasSuffix(mt, "+xml"),
		mt == "application/yaml", mt == "application/x-yaml", mt == "application/javascript":
		return redactor.FormatText, false, true
	}
	return 0, false, false
}

// genericProfile redacts by Content-Type.
type genericProfile struct{}

func (genericProfile) allow() []redactor.Allow { return nil }

func (genericProfile) plan(r *http.Request, _ *route) (plan, error) {
	mt, _ := mediaType(r.Header)
	if isProtobuf(mt) {
		return plan{}, unsupported("protobuf bodies cannot be scanned; send JSON (Content-Type: application/json)")
	}
	f, needJSON, ok := formatFor(mt)
	if !ok {
		return plan{}, unsupported("Content-Type " + mt + " cannot be scanned; send JSON, NDJSON, text, CSV or a form")
	}
	return plan{format: f, needJSON: needJSON}, nil
}
