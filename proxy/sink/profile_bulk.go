package sink

import (
	"bytes"
	"io"
	"net/http"

	"github.com/flowmask/flowmask/proxy/internal/refusal"
	"github.com/flowmask/flowmask/redactor"
	"github.com/valyala/fastjson"
)

// bulkProfile handles Elasticsearch/OpenSearch _bulk: every line is
// redacted on its own line, action lines (index, create, update or delete
// with a metadata object) included, and the framing (line count, pairing,
// \r\n, the trailing newline) is kept. A line where an action is expected
// that is not a valid action is scanned as a document line.
type bulkProfile struct{}

func (bulkProfile) Allow() []redactor.Allow { return nil }

func (bulkProfile) Plan(r *http.Request, rt Route) (Plan, error) {
	mt, _ := mediaType(r.Header)
	if isProtobuf(mt) {
		return Plan{}, refusal.Unsupported("_bulk takes NDJSON (Content-Type: application/x-ndjson)")
	}
	max := rt.MaxDocument
	return Plan{Writer: func(dst io.Writer, red *redactor.Redactor, text bool) BodyWriter {
		return &bulkWriter{dst: dst, red: red, text: text, max: max}
	}}, nil
}

type bulkWriter struct {
	dst        io.Writer
	red        *redactor.Redactor
	text       bool
	max        int
	line       []byte
	out        []byte
	wantSource bool
	stats      redactor.Stats
	err        error
	p          fastjson.Parser
}

func (w *bulkWriter) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			w.line = append(w.line, p...)
			if len(w.line) > w.max {
				w.err = ErrDocumentTooLarge
				return n - len(p), w.err
			}
			break
		}
		w.line = append(w.line, p[:i+1]...)
		p = p[i+1:]
		if err := w.doLine(); err != nil {
			return n - len(p), err
		}
	}
	return n, w.flush()
}

func (w *bulkWriter) flush() error {
	if len(w.out) > 0 && w.err == nil {
		_, w.err = w.dst.Write(w.out)
		w.out = w.out[:0]
	}
	return w.err
}

func (w *bulkWriter) doLine() error {
	line := w.line
	body := bytes.TrimRight(line, "\r\n")
	eol := line[len(body):]
	w.line = w.line[:0]
	if len(bytes.TrimSpace(body)) == 0 {
		w.out = append(w.out, line...)
		return nil
	}
	if !w.wantSource {
		if action, ok := w.action(body); ok {
			w.wantSource = action != "delete"
		}
	} else {
		w.wantSource = false
	}
	doc, err := redactor.CheckJSON(body)
	if err != nil && !w.text {
		w.err = ErrInvalidJSON
		return w.err
	}
	var st redactor.Stats
	if err == nil {
		w.out, st = w.red.AppendJSON(w.out, doc) // validated once
	} else {
		w.out, st = w.red.Append(w.out, body, redactor.FormatJSON) // the engine scans it as text
	}
	w.stats.Add(st)
	w.out = append(w.out, eol...)
	return nil
}

// action returns the action of a valid action line: one of index, create,
// update or delete, whose value is a metadata object.
func (w *bulkWriter) action(line []byte) (string, bool) {
	v, err := w.p.ParseBytes(line)
	if err != nil {
		return "", false
	}
	o, err := v.Object()
	if err != nil || o.Len() != 1 {
		return "", false
	}
	action, ok := "", false
	o.Visit(func(k []byte, meta *fastjson.Value) {
		switch string(k) {
		case "index", "create", "update", "delete":
			action, ok = string(k), meta.Type() == fastjson.TypeObject
		}
	})
	return action, ok
}

func (w *bulkWriter) Close() error {
	if w.err != nil {
		return w.err
	}
	if len(w.line) > 0 { // no trailing newline: Elasticsearch refuses it, we keep it as sent
		if err := w.doLine(); err != nil {
			return err
		}
	}
	return w.flush()
}

func (w *bulkWriter) Stats() redactor.Stats { return w.stats }
