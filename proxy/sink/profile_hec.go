package sink

import (
	"io"
	"net/http"
	"strings"

	"github.com/flowmask/flowmask/proxy/internal/refusal"
	"github.com/flowmask/flowmask/redactor"
)

// hecProfile handles the Splunk HTTP Event Collector: /services/collector
// and /event take concatenated JSON event objects, each redacted on its own
// with the framing between them kept; /raw is text; the acknowledgement and
// health endpoints are scanned like events (an ack poll holds no secret
// and passes byte for byte, so indexer acknowledgement keeps working).
type hecProfile struct{}

func (hecProfile) Allow() []redactor.Allow { return nil }

func (hecProfile) Plan(r *http.Request, _ Route) (Plan, error) {
	p := strings.TrimSuffix(r.URL.Path, "/")
	// The ack and health endpoints are not exempt: their bodies (ack ids,
	// nothing) pass unchanged through the event writer, and anything else
	// POSTed there is redacted like an event.
	switch {
	case strings.HasSuffix(p, "/raw"), strings.HasSuffix(p, "/raw/1.0"):
		return Plan{Format: redactor.FormatText}, nil
	}
	mt, _ := mediaType(r.Header)
	if isProtobuf(mt) {
		return Plan{}, refusal.Unsupported("Splunk HEC takes JSON events")
	}
	return Plan{Writer: newHECWriter}, nil
}

// hecWriter redacts a stream of concatenated JSON objects, one object at a
// time, passing the whitespace between them through.
type hecWriter struct {
	dst   io.Writer
	red   *redactor.Redactor
	text  bool // on_invalid_json: text
	tw    *redactor.Writer
	obj   []byte
	out   []byte
	depth int
	inStr bool
	esc   bool
	stats redactor.Stats
	err   error
}

func newHECWriter(dst io.Writer, red *redactor.Redactor, text bool) BodyWriter {
	return &hecWriter{dst: dst, red: red, text: text}
}

func (w *hecWriter) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	if w.tw != nil {
		return w.tw.Write(p)
	}
	n := len(p)
	for i := 0; i < len(p); i++ {
		c := p[i]
		if w.depth == 0 {
			switch c {
			case ' ', '\t', '\r', '\n':
				w.out = append(w.out, c)
				continue
			case '{':
			default:
				// Not an event object: scan the rest as text, or refuse.
				if !w.text {
					w.err = ErrInvalidJSON
					return i, w.err
				}
				w.switchToText()
				if _, err := w.tw.Write(p[i:]); err != nil {
					return i, err
				}
				return n, nil
			}
		}
		w.obj = append(w.obj, c)
		switch {
		case w.inStr:
			switch {
			case w.esc:
				w.esc = false
			case c == '\\':
				w.esc = true
			case c == '"':
				w.inStr = false
			}
		case c == '"':
			w.inStr = true
		case c == '{' || c == '[':
			w.depth++
		case c == '}' || c == ']':
			w.depth--
			if w.depth == 0 {
				if err := w.event(); err != nil {
					return i, err
				}
			}
		}
	}
	if len(w.out) > 0 {
		if _, err := w.dst.Write(w.out); err != nil {
			w.err = err
			return n, err
		}
		w.out = w.out[:0]
	}
	return n, nil
}

// event redacts one complete object.
func (w *hecWriter) event() error {
	doc, err := redactor.CheckJSON(w.obj)
	if err != nil && !w.text {
		w.err = ErrInvalidJSON
		return w.err
	}
	var st redactor.Stats
	if err == nil {
		w.out, st = w.red.AppendJSON(w.out, doc) // validated once
	} else {
		w.out, st = w.red.Append(w.out, w.obj, redactor.FormatJSON) // the engine scans it as text
	}
	w.stats.Add(st)
	w.obj = w.obj[:0]
	return nil
}

func (w *hecWriter) switchToText() {
	if len(w.out) > 0 {
		w.dst.Write(w.out) //nolint:errcheck // the text writer reports write errors
		w.out = w.out[:0]
	}
	w.tw = w.red.NewWriter(w.dst, redactor.FormatText)
	w.tw.Write(w.obj) //nolint:errcheck
	w.obj = nil
}

func (w *hecWriter) Close() error {
	if w.tw != nil {
		err := w.tw.Close()
		w.stats.Add(w.tw.Stats())
		w.tw = nil
		return err
	}
	if w.err != nil {
		return w.err
	}
	if len(w.obj) > 0 { // an unterminated object
		if !w.text {
			w.err = ErrInvalidJSON
			return w.err
		}
		w.switchToText()
		return w.Close()
	}
	if len(w.out) > 0 {
		_, w.err = w.dst.Write(w.out)
	}
	return w.err
}

func (w *hecWriter) Stats() redactor.Stats { return w.stats }
