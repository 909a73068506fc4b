package proxy

import (
	"net/http"

	"github.com/flowmask/flowmask/redactor"
)

// lokiProfile handles Loki's JSON push API (/loki/api/v1/push): log lines,
// label values and structured metadata are redacted; timestamps are never
// touched.
type lokiProfile struct{}

func (lokiProfile) allow() []redactor.Allow {
	return []redactor.Allow{{Path: "$.streams[*].values[*][0]"}}
}

func (lokiProfile) plan(r *http.Request, _ *route) (plan, error) {
	mt, _ := mediaType(r.Header)
	switch {
	case isJSONType(mt):
		return plan{format: redactor.FormatJSON, needJSON: true}, nil
	case mt == "" || isProtobuf(mt):
		return plan{}, unsupported("Loki protobuf (snappy) pushes cannot be scanned; send JSON (Content-Type: application/json) to /loki/api/v1/push")
	}
	return plan{}, unsupported("Content-Type " + mt + " is not a Loki push; send JSON (Content-Type: application/json)")
}
