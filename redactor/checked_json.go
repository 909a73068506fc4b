package redactor

import (
	"bytes"
	"errors"

	"github.com/valyala/fastjson"
)

// CheckedJSON is a document that [CheckJSON] found to be exactly one
// strict JSON value. A front end that must refuse invalid JSON before
// redacting checks it once with CheckJSON and redacts it with
// [Redactor.AppendJSON], which does not validate it again.
type CheckedJSON struct{ b []byte }

// errEmptyJSON is CheckJSON's error for a document of whitespace only.
var errEmptyJSON = errors.New("redactor: empty JSON document")

// CheckJSON validates doc as exactly one strict JSON value (fastjson's
// validator, as the engine uses). doc must not change afterwards.
func CheckJSON(doc []byte) (CheckedJSON, error) {
	if len(bytes.TrimSpace(doc)) == 0 {
		return CheckedJSON{}, errEmptyJSON
	}
	if err := fastjson.ValidateBytes(doc); err != nil {
		return CheckedJSON{}, err
	}
	return CheckedJSON{doc}, nil
}

// Bytes returns the checked document.
func (c CheckedJSON) Bytes() []byte { return c.b }

// AppendJSON is Append(dst, doc.Bytes(), FormatJSON) for a document
// already checked: the JSON walk runs without validating it a second
// time. The zero CheckedJSON appends nothing.
func (r *Redactor) AppendJSON(dst []byte, doc CheckedJSON) ([]byte, Stats) {
	if doc.b == nil {
		return dst, Stats{}
	}
	w := &Writer{r: r, st: r.getState(), format: FormatJSON, line: 1, buf: doc.b, out: dst, checked: true}
	w.stats.Bytes = int64(len(doc.b))
	w.closed = true
	// Final processing never shifts buf, so doc is not modified.
	_ = w.processFinal()
	out := w.out
	w.release()
	return out, w.stats
}
