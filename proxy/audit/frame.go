package audit

import (
	"bytes"
	"encoding/json"
	"strconv"
	"time"

	"github.com/flowmask/flowmask/proxy/sink"
)

const (
	// postBatchBytes is the size of a post (and the amount waiting that
	// triggers one before the next tick).
	postBatchBytes = 1 << 20
	// postMaxBytes is how much may wait; beyond it new records are dropped.
	postMaxBytes = 16 << 20
	// azureMaxBytes caps an azure-logs-ingestion or azure-data-collector
	// post: the Logs Ingestion API takes "1 MB" per call, read as 10^6
	// bytes to be safe.
	azureMaxBytes = 1000 * 1000
)

// sourceType is the Splunk sourcetype of HEC events.
const sourceType = "flowmask:forward"

// lokiJob is the job label of the Loki stream.
const lokiJob = "flowmask-forward"

// batch is one framed post body and the number of records in it.
type batch struct {
	body    []byte
	records int
}

// framer frames record lines for a sink profile.
type framer struct{ profile string }

// contentType is the Content-Type of the profile's posts.
func (f framer) contentType() string {
	switch f.profile {
	case sink.LogsIngestion, sink.DataCollector, sink.LokiJSON, sink.SplunkHEC:
		return "application/json"
	}
	return "application/x-ndjson"
}

// frame turns NDJSON lines into the bodies to post, each at most
// postBatchBytes unless a single record is larger: such a record goes
// alone, or, for the Azure profiles (at most azureMaxBytes a post), is
// dropped and counted in tooBig.
func (f framer) frame(ndjson []byte) (batches []batch, tooBig int) {
	var cur []byte
	n := 0
	open := func() {
		switch f.profile {
		case sink.LogsIngestion, sink.DataCollector:
			cur = append(cur, '[')
		case sink.LokiJSON:
			cur = append(cur, `{"streams":[{"stream":{"job":"`+lokiJob+`"},"values":[`...)
		}
	}
	closing := func() string {
		switch f.profile {
		case sink.LogsIngestion, sink.DataCollector:
			return "]"
		case sink.LokiJSON:
			return "]}]}"
		}
		return ""
	}
	done := func() {
		if n > 0 {
			batches = append(batches, batch{body: append(cur, closing()...), records: n})
		}
		cur, n = nil, 0
	}
	limited := f.profile == sink.LogsIngestion || f.profile == sink.DataCollector
	limit := postBatchBytes
	if limited {
		limit = azureMaxBytes
	}
	var item []byte
	for line := range bytes.Lines(ndjson) {
		line = bytes.TrimSuffix(line, []byte("\n"))
		if len(line) == 0 {
			continue
		}
		item = f.item(item[:0], line)
		sep := 0
		if n > 0 && (limited || f.profile == sink.LokiJSON) {
			sep = 1 // the comma
		}
		if n > 0 && len(cur)+sep+len(item)+len(closing()) > limit {
			done()
			sep = 0
		}
		if n == 0 {
			open()
			if limited && len(cur)+len(item)+len(closing()) > limit {
				cur = nil
				tooBig++
				continue
			}
		}
		if sep == 1 {
			cur = append(cur, ',')
		}
		cur = append(cur, item...)
		n++
	}
	done()
	return batches, tooBig
}

// item frames one record line (without its newline) for the profile.
func (f framer) item(dst, line []byte) []byte {
	switch f.profile {
	case sink.SplunkHEC:
		dst = append(dst, `{"event":`...)
		dst = append(dst, line...)
		dst = append(dst, `,"sourcetype":"`+sourceType+`"`...)
		if t, ok := recordTime(line); ok {
			dst = append(dst, `,"time":`...)
			dst = strconv.AppendFloat(dst, float64(t.UnixMilli())/1000, 'f', 3, 64)
		}
		return append(dst, '}')
	case sink.ElasticBulk:
		dst = append(dst, "{\"index\":{}}\n"...)
		dst = append(dst, line...)
		return append(dst, '\n')
	case sink.LokiJSON:
		t, ok := recordTime(line)
		if !ok {
			t = time.Now()
		}
		dst = append(dst, `["`...)
		dst = strconv.AppendInt(dst, t.UnixNano(), 10)
		dst = append(dst, `",`...)
		q, _ := json.Marshal(string(line)) // a string always marshals
		dst = append(dst, q...)
		return append(dst, ']')
	case sink.LogsIngestion, sink.DataCollector:
		return append(dst, line...)
	}
	dst = append(dst, line...)
	return append(dst, '\n')
}

// recordTime reads the time of a record line whose first field is "time"
// (encoding/json writes the forward proxy's records that way).
func recordTime(line []byte) (time.Time, bool) {
	rest, ok := bytes.CutPrefix(line, []byte(`{"time":"`))
	if !ok {
		return time.Time{}, false
	}
	v, _, ok := bytes.Cut(rest, []byte(`"`))
	if !ok {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, string(v))
	return t, err == nil
}
