package proxy

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strconv"
	"sync"

	"github.com/flowmask/flowmask/redactor"
)

// Forward-proxy refusals about bodies.
func fwdTooLarge() *httpError {
	return &httpError{status: http.StatusRequestEntityTooLarge, code: "body_too_large", msg: "the body must be redacted and exceeds max_body_bytes"}
}

// bodyTap scans a body that passes unchanged (record mode): every byte read
// is also fed to a redacting writer whose output, cut at the record limit,
// goes into the record. A compressed body is decoded in a goroutine fed by
// a pipe. A body that cannot be scanned is counted, not recorded.
type bodyTap struct {
	rc       io.ReadCloser
	mu       sync.Mutex
	w        io.Writer // nil when not scanning
	bw       *redactor.Writer
	pw       *io.PipeWriter
	done     chan struct{}
	cap      capture
	n        int64
	stats    redactor.Stats
	encoding string
	omitted  string
	finished bool
	once     sync.Once
	onDone   func()
}

func newTap(rc io.ReadCloser, h http.Header, red *redactor.Redactor, limit int, maxDecoded int64) *bodyTap {
	t := &bodyTap{rc: rc, cap: capture{limit: limit}}
	mt, params := mediaType(h)
	format, _, ok := formatFor(mt)
	if !ok {
		t.omitted = "unscannable content type"
		return t
	}
	if cs, err := charsetFor(params); err != nil || cs != nil {
		t.omitted = "unscannable charset"
		return t
	}
	cod, err := codecFor(h.Get("Content-Encoding"))
	if err != nil {
		t.omitted = "unsupported content encoding"
		return t
	}
	if cod == nil {
		t.bw = red.NewWriter(&t.cap, format)
		t.w = t.bw
		return t
	}
	t.encoding = cod.name
	pr, pw := io.Pipe()
	t.pw, t.w, t.done = pw, pw, make(chan struct{})
	go func() {
		defer close(t.done)
		zr, err := cod.decode(pr)
		if err == nil {
			bw := red.NewWriter(&t.cap, format)
			_, err = io.Copy(bw, &decodeReader{r: zr, name: cod.name, max: maxDecoded})
			if e := bw.Close(); err == nil {
				err = e
			}
			t.stats = bw.Stats()
			zr.Close()
		}
		if err != nil {
			if errors.Is(err, errDecodedTooLarge) {
				t.omitted = "decoded body too large to scan"
			} else {
				t.omitted = "corrupt encoding"
			}
		}
		io.Copy(io.Discard, pr) //nolint:errcheck // drain so the traffic never waits on us
	}()
	return t
}

func (t *bodyTap) Read(p []byte) (int, error) {
	n, err := t.rc.Read(p)
	if n > 0 {
		t.mu.Lock()
		t.n += int64(n)
		if !t.finished && t.w != nil {
			if _, werr := t.w.Write(p[:n]); werr != nil {
				t.w = nil
			}
		}
		t.mu.Unlock()
	}
	if err != nil {
		t.finish()
	}
	return n, err
}

func (t *bodyTap) Close() error {
	err := t.rc.Close()
	t.finish()
	return err
}

// finish stops scanning (once) and calls onDone.
func (t *bodyTap) finish() {
	t.once.Do(func() {
		t.mu.Lock()
		t.finished = true
		if t.pw != nil {
			t.pw.Close()
		} else if t.bw != nil {
			t.bw.Close() //nolint:errcheck // the capture never fails
			t.stats = t.bw.Stats()
		}
		t.mu.Unlock()
		if t.done != nil {
			<-t.done
		}
		if t.onDone != nil {
			t.onDone()
		}
	})
}

// record describes the tapped body.
func (t *bodyTap) record(br *BodyRecord) {
	t.mu.Lock()
	defer t.mu.Unlock()
	br.Bytes = t.n
	br.Encoding = t.encoding
	br.Omitted = t.omitted
	if t.omitted == "" || len(t.cap.buf) > 0 {
		br.Body = string(t.cap.buf)
		br.Truncated = t.cap.truncated()
	}
}

// redactBody streams a response body through Content-Encoding decoding and
// the redactor to the client (identity encoded); the record gets a copy of
// the redacted output. An error part-way is returned from Read, so the
// client's response is aborted, never cut short silently.
type redactBody struct {
	raw    io.ReadCloser
	pr     *io.PipeReader
	done   chan struct{}
	cap    capture
	wire   countReader
	stats  redactor.Stats
	err    error
	once   sync.Once
	onDone func()
	onFail func()
}

// countReader counts the bytes read through it.
type countReader struct {
	r io.Reader
	n int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func newRedactBody(raw io.ReadCloser, cod *codec, format redactor.Format, red *redactor.Redactor, limit int, maxDecoded int64) *redactBody {
	pr, pw := io.Pipe()
	b := &redactBody{raw: raw, pr: pr, done: make(chan struct{}), cap: capture{limit: limit}}
	b.wire.r = raw
	go func() {
		defer close(b.done)
		var src io.Reader = &decodeReader{r: &b.wire, max: maxDecoded}
		var zr io.ReadCloser
		var err error
		if cod != nil {
			if zr, err = cod.decode(&b.wire); err != nil {
				err = badEncoding(cod.name, err)
			} else {
				src = &decodeReader{r: zr, name: cod.name, max: maxDecoded}
			}
		}
		if err == nil {
			bw := red.NewWriter(io.MultiWriter(pw, &b.cap), format)
			buf := copyBufs.Get().(*[]byte)
			_, err = io.CopyBuffer(bw, src, *buf)
			copyBufs.Put(buf)
			if e := bw.Close(); err == nil {
				err = e
			}
			b.stats = bw.Stats()
		}
		if zr != nil {
			zr.Close()
		}
		b.err = err
		pw.CloseWithError(err) //nolint:errcheck // always nil
	}()
	return b
}

func (b *redactBody) Read(p []byte) (int, error) {
	n, err := b.pr.Read(p)
	if err != nil && err != io.EOF && b.onFail != nil {
		b.onFail()
	}
	return n, err
}

func (b *redactBody) Close() error {
	b.once.Do(func() {
		b.pr.CloseWithError(errors.New("client side closed")) //nolint:errcheck
		b.raw.Close()
		<-b.done
		if b.onDone != nil {
			b.onDone()
		}
	})
	return nil
}

// redactRequestBody holds req's body whole (up to max, decoded), redacts
// it and makes the result the body, identity encoded with a
// Content-Length. Nothing is forwarded when it fails.
func redactRequestBody(req *http.Request, red *redactor.Redactor, max int64, limit int, br *BodyRecord) (redactor.Stats, *httpError) {
	var none redactor.Stats
	mt, params := mediaType(req.Header)
	format, _, ok := formatFor(mt)
	if !ok {
		return none, unsupported("the request body (" + strconv.Quote(mt) + ") must be redacted and cannot be scanned; send JSON, NDJSON, form, CSV or text")
	}
	if cs, err := charsetFor(params); err != nil || cs != nil {
		return none, unsupported("the request body must be redacted and is not UTF-8; send UTF-8")
	}
	cod, err := codecFor(req.Header.Get("Content-Encoding"))
	if err != nil {
		var he *httpError
		errors.As(err, &he)
		return none, he
	}
	raw, err := io.ReadAll(io.LimitReader(req.Body, max+1))
	req.Body.Close()
	if err != nil {
		return none, &httpError{status: http.StatusBadRequest, code: "client_aborted", msg: "the request body ended early", err: err}
	}
	if int64(len(raw)) > max {
		return none, fwdTooLarge()
	}
	br.Bytes = int64(len(raw))
	dec := raw
	if cod != nil {
		br.Encoding = cod.name
		zr, err := cod.decode(bytes.NewReader(raw))
		if err != nil {
			return none, badEncoding(cod.name, err)
		}
		dec, err = io.ReadAll(io.LimitReader(zr, max+1))
		zr.Close()
		if err != nil {
			return none, badEncoding(cod.name, err)
		}
		if int64(len(dec)) > max {
			return none, fwdTooLarge()
		}
	}
	out, st := red.Append(make([]byte, 0, len(dec)+len(dec)/4+64), dec, format)
	setBody(req, out)
	req.Header.Del("Content-Encoding")
	req.TransferEncoding = nil
	br.Redacted = true
	br.Body = string(out[:min(len(out), limit)])
	br.Truncated = len(out) > limit
	return st, nil
}
