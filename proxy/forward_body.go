package proxy

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strconv"
	"sync"

	"github.com/flowmask/flowmask/proxy/httpbody"
	"github.com/flowmask/flowmask/redactor"
)

// Forward-proxy refusals about bodies.
func fwdTooLarge() *httpError {
	return &httpError{Status: http.StatusRequestEntityTooLarge, Code: "body_too_large", Msg: "the body must be redacted and exceeds max_body_bytes"}
}

// tapHold is what a recorded body's scan holds in memory at most.
const tapHold = 64 << 10

// bodyLimits bounds one body of the forward proxy: decoded size, the
// process budget, and hold (0: the whole body is held).
func (f *Forward) bodyLimits(hold int64) httpbody.Limits {
	return httpbody.Limits{MaxDecoded: int64(f.cfg.MaxBodyBytes), Hold: hold, Budget: f.bodies}
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

func newTap(rc io.ReadCloser, h http.Header, te []string, red *redactor.Redactor, limit int, lim httpbody.Limits) *bodyTap {
	t := &bodyTap{rc: rc, cap: capture{limit: limit}}
	cls, err := httpbody.Classify(h, te)
	if err != nil {
		t.omitted = "not scanned: " + httpbody.AsError(err).Msg
		return t
	}
	if !cls.Scannable {
		t.omitted = "not scanned: content type " + strconv.Quote(cls.MediaType) + " cannot be scanned"
		return t
	}
	t.encoding = cls.CodingNames()
	pr, pw := io.Pipe()
	t.pw, t.w, t.done = pw, pw, make(chan struct{})
	go func() {
		defer close(t.done)
		rd, err := cls.NewReader(pr, lim)
		if err == nil {
			t.stats, err = redactCopy(red, &t.cap, rd, cls.Format)
			rd.Close()
		}
		if err != nil {
			t.omitted = "not scanned: " + bodyReason(err)
		}
		buf := copyBufs.Get().(*[]byte)
		io.CopyBuffer(io.Discard, pr, *buf) //nolint:errcheck // drain so the traffic never waits on us
		copyBufs.Put(buf)
	}()
	return t
}

// bodyReason is a refusal's message, safe for a record.
func bodyReason(err error) string {
	if e := httpbody.AsError(err); e != nil {
		return e.Msg
	}
	return "the body could not be read to its end"
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
	if t.omitted == "" {
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

func newRedactBody(raw io.ReadCloser, cls *httpbody.Class, red *redactor.Redactor, limit int, lim httpbody.Limits) *redactBody {
	pr, pw := io.Pipe()
	b := &redactBody{raw: raw, pr: pr, done: make(chan struct{}), cap: capture{limit: limit}}
	b.wire.r = raw
	go func() {
		defer close(b.done)
		rd, err := cls.NewReader(&b.wire, lim)
		if err == nil {
			var dst io.Writer = io.MultiWriter(pw, &b.cap)
			var ew *httpbody.Writer
			if rd.Transcoded() {
				// Back to the charset it came in (the Content-Type stays).
				ew, err = rd.NewWriter(pw, false)
				dst = io.MultiWriter(ew, &b.cap)
			}
			if err == nil {
				b.stats, err = redactCopy(red, dst, rd, cls.Format)
			}
			if ew != nil {
				if e := ew.Close(); err == nil {
					err = e
				}
			}
			rd.Close()
		}
		b.err = fromBody(err)
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
// it and makes the result the body: identity coded with a Content-Length,
// in the charset it came in. Nothing is forwarded when it fails.
func redactRequestBody(req *http.Request, red *redactor.Redactor, max int64, limit int, lim httpbody.Limits, br *BodyRecord) (redactor.Stats, *httpError) {
	var none redactor.Stats
	defer req.Body.Close()
	cls, err := httpbody.Classify(req.Header, req.TransferEncoding)
	if err != nil {
		return none, classify(fromBody(err))
	}
	if !cls.Scannable {
		return none, unsupported("the request body (" + strconv.Quote(cls.MediaType) + ") must be redacted and cannot be scanned; send JSON, NDJSON, form, CSV or text")
	}
	wire := &countReader{r: io.LimitReader(req.Body, max+1)}
	lim.MaxDecoded = max
	rd, err := cls.NewReader(wire, lim)
	if err != nil {
		return none, fwdBodyError(err)
	}
	defer rd.Close()
	var dec bytes.Buffer
	if req.ContentLength > 0 && req.ContentLength <= max && !cls.Encoded() {
		dec.Grow(int(req.ContentLength) + bytes.MinRead)
	}
	_, err = dec.ReadFrom(rd)
	if wire.n > max {
		return none, fwdTooLarge()
	}
	if err != nil {
		return none, fwdBodyError(err)
	}
	br.Bytes = wire.n
	br.Encoding = cls.CodingNames()
	out, st := red.Append(make([]byte, 0, dec.Len()+dec.Len()/4+64), dec.Bytes(), cls.Format)
	br.Redacted = true
	br.Body = string(out[:min(len(out), limit)])
	br.Truncated = len(out) > limit
	if rd.Transcoded() {
		var err error
		if out, err = rd.Encode(out, false); err != nil {
			return none, classify(fromBody(err))
		}
	}
	setBody(req, out)
	req.Header.Del("Content-Encoding")
	dropDigests(req.Header)
	req.TransferEncoding = nil
	return st, nil
}

// fwdBodyError maps a failure reading a body that must be redacted.
func fwdBodyError(err error) *httpError {
	if httpbody.AsError(err) != nil {
		return classify(fromBody(err))
	}
	return &httpError{Status: http.StatusBadRequest, Code: "client_aborted", Msg: "the request body ended early", Err: err}
}
