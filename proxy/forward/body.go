package forward

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strconv"
	"sync"

	"github.com/flowmask/flowmask/proxy"
	"github.com/flowmask/flowmask/proxy/httpbody"
	"github.com/flowmask/flowmask/redactor"
)

// Forward-proxy refusals about bodies.
func fwdTooLarge() *httpError {
	return &httpError{Status: http.StatusRequestEntityTooLarge, Code: "body_too_large", Msg: "the body must be redacted and exceeds max_body_bytes"}
}

func fwdDocTooLarge() *httpError {
	return &httpError{Status: http.StatusRequestEntityTooLarge, Code: "document_too_large", Msg: "an NDJSON line or CSV record of the body exceeds the maximum document size (16MiB)"}
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

// redactBody streams a body through Content-Encoding decoding and the
// redactor to its reader (identity encoded, in the charset it came in); the
// record gets a copy of the redacted output. An error part-way is returned
// from Read, so the reader (the client for a response, the destination for
// a request) sees an aborted body, never one cut short silently.
type redactBody struct {
	raw    io.ReadCloser
	pr     *io.PipeReader
	pw     *io.PipeWriter
	done   chan struct{}
	cap    capture
	wire   *countReader
	max    int64 // wire bytes allowed (0: no cap of its own)
	stats  redactor.Stats
	err    error
	once   sync.Once
	onDone func()
	onFail func()
}

// errBodyClosed ends a body's redaction when its reader is done with it
// (the destination answered, the client went away): not a failure.
var errBodyClosed = errors.New("the body's reader closed it")

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

// newRedactPipe returns a body reading the redacted text of raw (read
// through wire) once stream is started.
func newRedactPipe(raw io.ReadCloser, wire *countReader, limit int) *redactBody {
	pr, pw := io.Pipe()
	return &redactBody{raw: raw, wire: wire, pr: pr, pw: pw, done: make(chan struct{}), cap: capture{limit: limit}}
}

func newRedactBody(raw io.ReadCloser, cls *httpbody.Class, red *redactor.Redactor, limit int, lim httpbody.Limits) *redactBody {
	b := newRedactPipe(raw, &countReader{r: raw}, limit)
	go func() {
		rd, err := cls.NewReader(b.wire, lim)
		if err != nil {
			b.end(err)
			return
		}
		b.stream(rd, nil, red, cls.Format)
	}()
	return b
}

// stream redacts held (text already read from rd) and the rest of rd into
// the pipe; the charset is redone, the codings are not.
func (b *redactBody) stream(rd *httpbody.Reader, held []byte, red *redactor.Redactor, f redactor.Format) {
	var src io.Reader = rd
	if len(held) > 0 {
		src = io.MultiReader(bytes.NewReader(held), rd)
	}
	var dst io.Writer = io.MultiWriter(b.pw, &b.cap)
	var ew *httpbody.Writer
	var err error
	if rd.Transcoded() {
		// Back to the charset it came in (the Content-Type stays).
		ew, err = rd.NewWriter(b.pw, false)
		dst = io.MultiWriter(ew, &b.cap)
	}
	if err == nil {
		b.stats, err = redactCopy(red, dst, src, f)
	}
	if ew != nil {
		if e := ew.Close(); err == nil {
			err = e
		}
	}
	rd.Close()
	b.end(err)
}

// end settles the body's outcome and closes the pipe with it.
func (b *redactBody) end(err error) {
	defer close(b.done)
	if b.max > 0 && b.wire.n > b.max && !errors.Is(err, errBodyClosed) {
		err = fwdTooLarge()
	}
	if errors.Is(err, redactor.ErrTooLarge) {
		err = fwdDocTooLarge()
	}
	b.err = fromBody(err)
	b.pw.CloseWithError(b.err) //nolint:errcheck // always nil
}

// failure is why the body could not be redacted to its end, or nil (also
// when its reader closed it early).
func (b *redactBody) failure() *httpError {
	if b.err == nil || errors.Is(b.err, errBodyClosed) {
		return nil
	}
	return fwdBodyError(b.err)
}

func (b *redactBody) Read(p []byte) (int, error) {
	n, err := b.pr.Read(p)
	if err != nil && err != io.EOF && b.onFail != nil {
		b.onFail()
	}
	return n, err
}

// Close stops the redaction (a body not read to its end is cut, never
// finished unredacted), waits for it and calls onDone, once.
func (b *redactBody) Close() error {
	b.once.Do(func() {
		b.pr.CloseWithError(errBodyClosed) //nolint:errcheck
		b.raw.Close()
		<-b.done
		if b.onDone != nil {
			b.onDone()
		}
	})
	return nil
}

// heldRequest is how much of a redact-requests body (decoded) is read
// before anything is forwarded: a body that ends within it is redacted
// whole, sent with a Content-Length, or refused with nothing sent. A
// longer one streams to the destination chunked, and a failure part-way
// aborts the destination's request.
const heldRequest = 1 << 20

// heldWeight is what one decoded byte of a redact-requests body costs in
// memory while the engine works on it, and what the budget is charged per
// byte held: the text in a buffer that grows by doubling, the redacted
// copy, and the engine's own state, which grows with the number of
// findings. Measured with a secret on every 120-byte line (the worst case
// an attacker can send): a 60 MiB JSON body held whole took 650-670 MiB.
const heldWeight = 12

// holdsWhole reports the formats the engine reads as one document (a JSON
// value, a form body), and a body whose format is detected from its text:
// they are held whole, up to max_body_bytes.
func holdsWhole(f redactor.Format) bool {
	return f == redactor.FormatJSON || f == redactor.FormatForm || f == redactor.FormatAuto
}

// redactRequestBody redacts req's body and makes the result the body:
// identity coded, in the charset it came in. A JSON or form body (or one
// without a Content-Type) is held whole, decoded, up to max, its memory
// charged to the budget; so is any body that ends within heldRequest. Those
// get a Content-Length, and nothing is forwarded when they fail. A longer
// body of a streamed format (NDJSON, CSV, text) is returned as a
// *redactBody that redacts as the destination reads, holding at most
// heldRequest and the engine's window; the caller must Close it once the
// destination has answered and check its failure. br is filled now for a
// held body, by the caller (onDone) for a streamed one.
func redactRequestBody(req *http.Request, red *redactor.Redactor, max int64, limit int, lim httpbody.Limits, br *BodyRecord) (*redactBody, redactor.Stats, *httpError) {
	var none redactor.Stats
	cls, err := httpbody.Classify(req.Header, req.TransferEncoding)
	if err != nil {
		req.Body.Close()
		return nil, none, classify(fromBody(err))
	}
	if !cls.Scannable {
		req.Body.Close()
		return nil, none, unsupported("the request body (" + strconv.Quote(cls.MediaType) + ") must be redacted and cannot be scanned; send JSON, NDJSON, form, CSV or text")
	}
	whole := holdsWhole(cls.Format)
	lim.MaxDecoded, lim.Weight = max, heldWeight
	if whole {
		// Held whole, charged whole: one larger than a twelfth of the
		// budget never fits (503).
		lim.Hold = 0
	} else {
		// The held part, then the engine's window: one NDJSON line or CSV
		// record (up to the maximum document), or a text chunk.
		lim.Hold = heldRequest + 1 + streamWindow(cls.Format)/heldWeight
	}
	wire := &countReader{r: io.LimitReader(req.Body, max+1)}
	rd, err := cls.NewReader(wire, lim)
	if err != nil {
		req.Body.Close()
		return nil, none, fwdBodyError(err)
	}
	hold := int64(heldRequest + 1)
	if whole {
		hold = lim.MaxDecoded + 1
	}
	var dec bytes.Buffer
	if req.ContentLength > 0 && req.ContentLength < hold && !cls.Encoded() {
		dec.Grow(int(req.ContentLength) + bytes.MinRead)
	}
	_, err = dec.ReadFrom(io.LimitReader(rd, hold))
	if err == nil && !whole && int64(dec.Len()) >= hold {
		// Longer than what is held: stream the rest.
		b := newRedactPipe(req.Body, wire, limit)
		b.max = max
		go b.stream(rd, dec.Bytes(), red, cls.Format)
		br.Encoding = cls.CodingNames()
		req.Body = b
		req.ContentLength = -1
		req.GetBody = nil
		req.TransferEncoding = nil
		req.Header.Del("Content-Length")
		req.Header.Del("Content-Encoding")
		dropDigests(req.Header)
		return b, none, nil
	}
	defer req.Body.Close()
	defer rd.Close()
	if wire.n > max {
		return nil, none, fwdTooLarge()
	}
	if err != nil {
		return nil, none, fwdBodyError(err)
	}
	br.Bytes = wire.n
	br.Encoding = cls.CodingNames()
	out, st := redactHeld(red, make([]byte, 0, dec.Len()+dec.Len()/4+64), dec.Bytes(), cls.Format)
	br.Redacted = true
	br.Body = string(out[:min(len(out), limit)])
	br.Truncated = len(out) > limit
	if rd.Transcoded() {
		var err error
		if out, err = rd.Encode(out, false); err != nil {
			return nil, none, classify(fromBody(err))
		}
	}
	setBody(req, out)
	req.Header.Del("Content-Encoding")
	dropDigests(req.Header)
	req.TransferEncoding = nil
	return nil, st, nil
}

// redactHeld redacts a held body of format f. A body sent as JSON that is
// not one JSON value (NDJSON or concatenated events, as Fluent Bit's
// json_lines sends under application/json) is read by the engine as a
// sequence of records (its FormatJSON path), never by text rules alone.
func redactHeld(red *redactor.Redactor, dst, body []byte, f redactor.Format) ([]byte, redactor.Stats) {
	if f == redactor.FormatJSON {
		if doc, err := redactor.CheckJSON(body); err == nil {
			return red.AppendJSON(dst, doc)
		}
	}
	return red.Append(dst, body, f)
}

// streamWindow is what the engine holds of a streamed body of format f at
// most: a text chunk with its overlap, or one NDJSON line or CSV record.
func streamWindow(f redactor.Format) int64 {
	if f == redactor.FormatText {
		return 1 << 20
	}
	return proxy.DefaultMaxDocument
}

// fwdBodyError maps a failure reading a body that must be redacted.
func fwdBodyError(err error) *httpError {
	var he *httpError
	if errors.As(err, &he) {
		return he
	}
	if httpbody.AsError(err) != nil {
		return classify(fromBody(err))
	}
	return &httpError{Status: http.StatusBadRequest, Code: "client_aborted", Msg: "the request body ended early", Err: err}
}
