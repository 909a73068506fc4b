package sink

import (
	"github.com/flowmask/flowmask/proxy/httpbody"
	"net/http"

	"github.com/flowmask/flowmask/proxy/internal/refusal"
	"github.com/flowmask/flowmask/redactor"
)

// lokiProfile handles Loki's JSON push API (/loki/api/v1/push): every
// string is scanned (log lines, label values, structured metadata and
// timestamps alike; a timestamp matches no rule, so it stays as it is).
type lokiProfile struct{}

func (lokiProfile) Allow() []redactor.Allow { return nil }

func (lokiProfile) Plan(r *http.Request, _ Route) (Plan, error) {
	mt, _ := mediaType(r.Header)
	switch {
	case httpbody.IsJSON(mt):
		return Plan{Format: redactor.FormatJSON, NeedJSON: true}, nil
	case mt == "" || isProtobuf(mt):
		return Plan{}, refusal.Unsupported("Loki protobuf (snappy) pushes cannot be scanned; send JSON (Content-Type: application/json) to /loki/api/v1/push")
	}
	return Plan{}, refusal.Unsupported("Content-Type " + mt + " is not a Loki push; send JSON (Content-Type: application/json)")
}
