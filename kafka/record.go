package kafka

import (
	"encoding/json"
	"fmt"
	"unicode/utf8"

	"github.com/flowmask/flowmask/redactor"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/valyala/fastjson"
)

// poison is why a record cannot be redacted safely. Its text names sizes
// and formats, never content.
type poison struct{ reason string }

func (p *poison) Error() string { return p.reason }

// transform returns the redacted copy of in for the output topic, or a
// *poison. Key and header values are redacted as text, the value by the
// configured format; timestamp and headers' order are kept, and the key
// decides the partition as it did upstream.
func (p *Pipeline) transform(red *redactor.Redactor, in *kgo.Record) (*kgo.Record, redactor.Stats, error) {
	var st redactor.Stats
	if int64(len(in.Value)) > int64(p.cfg.MaxRecord) {
		return nil, st, &poison{fmt.Sprintf("value of %d bytes is larger than max_record (%d bytes)", len(in.Value), int64(p.cfg.MaxRecord))}
	}
	if int64(len(in.Key)) > int64(p.cfg.MaxRecord) {
		return nil, st, &poison{fmt.Sprintf("key of %d bytes is larger than max_record (%d bytes)", len(in.Key), int64(p.cfg.MaxRecord))}
	}
	format := p.format
	switch format {
	case redactor.FormatAuto:
		format = redactor.FormatText
		if len(in.Value) > 0 && fastjson.ValidateBytes(in.Value) == nil {
			format = redactor.FormatJSON
		}
	case redactor.FormatJSON:
		if !utf8.Valid(in.Value) {
			return nil, st, &poison{"value is not valid UTF-8 (format json)"}
		}
		if err := fastjson.ValidateBytes(in.Value); err != nil {
			return nil, st, &poison{"value is not valid JSON (format json)"}
		}
	case redactor.FormatNDJSON:
		if !utf8.Valid(in.Value) {
			return nil, st, &poison{"value is not valid UTF-8 (format ndjson)"}
		}
	}
	out := &kgo.Record{
		Topic:     p.cfg.Out,
		Timestamp: in.Timestamp,
	}
	var s redactor.Stats
	if in.Value != nil {
		out.Value, s = red.Append(make([]byte, 0, len(in.Value)+64), in.Value, format)
		st.Add(s)
	}
	if in.Key != nil {
		out.Key, s = red.Append(make([]byte, 0, len(in.Key)), in.Key, redactor.FormatText)
		st.Add(s)
	}
	if len(in.Headers) > 0 {
		out.Headers = make([]kgo.RecordHeader, len(in.Headers))
		for i, h := range in.Headers {
			v, s := redactHeader(red, h.Key, h.Value)
			st.Add(s)
			out.Headers[i] = kgo.RecordHeader{Key: h.Key, Value: v}
		}
	}
	return out, st, nil
}

// redactHeader redacts a header value as the value of a field named by the
// header: name rules (Authorization, X-Api-Key, *-Token ...) mask it whole,
// other values are scanned.
func redactHeader(red *redactor.Redactor, name string, value []byte) ([]byte, redactor.Stats) {
	return red.AppendValue(make([]byte, 0, len(value)+16), name, value)
}

// deadLetter is what replaces a poison record: the reason and where the
// record was, and none of its key, value or headers.
func (p *Pipeline) deadLetter(in *kgo.Record, reason string) *kgo.Record {
	body, _ := json.Marshal(struct {
		Reason    string `json:"reason"`
		Topic     string `json:"topic"`
		Partition int32  `json:"partition"`
		Offset    int64  `json:"offset"`
		Timestamp string `json:"timestamp"`
		ValueSize int    `json:"value_bytes"`
	}{reason, in.Topic, in.Partition, in.Offset, in.Timestamp.UTC().Format("2006-01-02T15:04:05.000Z07:00"), len(in.Value)})
	return &kgo.Record{
		Topic:     p.cfg.DeadLetter,
		Value:     body,
		Timestamp: in.Timestamp,
		Headers: []kgo.RecordHeader{
			{Key: "flowmask-reason", Value: []byte(reason)},
			{Key: "flowmask-source", Value: fmt.Appendf(nil, "%s/%d/%d", in.Topic, in.Partition, in.Offset)},
		},
	}
}
