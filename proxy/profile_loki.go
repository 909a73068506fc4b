package proxy

import (
	"net/http"

	"github.com/flowmask/flowmask/redactor"
)

// lokiProfile handles Loki's JSON push API (/loki/api/v1/push): every
// string is scanned (log lines, label values, structured metadata and
// timestamps alike; a timestamp matches no rule, so it stays as it is).
type lokiProfile struct{}

func (lokiProfile) allow() []redactor.Allow { return nil }

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
