package proxy

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/flowmask/flowmask/proxy/httpbody"
	"github.com/flowmask/flowmask/proxy/internal/msgbody"
	"github.com/flowmask/flowmask/proxy/internal/refusal"
	"github.com/flowmask/flowmask/proxy/sink"
	"github.com/flowmask/flowmask/redactor"
)

// fromBody turns the body pipeline's refusal into the proxy's own.
func fromBody(err error) error { return refusal.FromBody(err) }

// wireReader reads the client's body: it extends a read deadline before
// each read (slow clients fail with 408), counts bytes and tags the
// client's errors.
type wireReader struct {
	r       io.Reader
	rc      *http.ResponseController
	timeout time.Duration
	n       int64
}

func (w *wireReader) Read(p []byte) (int, error) {
	if w.timeout > 0 && w.rc != nil {
		w.rc.SetReadDeadline(time.Now().Add(w.timeout)) //nolint:errcheck // not every conn supports deadlines
	}
	n, err := w.r.Read(p)
	w.n += int64(n)
	if err != nil && err != io.EOF {
		var mb *http.MaxBytesError
		if !errors.As(err, &mb) {
			err = &clientError{Err: err}
		}
	}
	return n, err
}

// spill collects output in memory until it is switched to a pipe.
type spill struct {
	buf bytes.Buffer
	w   io.Writer
}

func (s *spill) Write(p []byte) (int, error) {
	if s.w != nil {
		return s.w.Write(p)
	}
	return s.buf.Write(p)
}

func (s *spill) switchTo(w io.Writer) error {
	s.w = w
	if s.buf.Len() > 0 {
		_, err := w.Write(s.buf.Bytes())
		s.buf = bytes.Buffer{}
		return err
	}
	return nil
}

// chain is the writer side: a redacting writer over a charset encoder over
// a compressor over the output.
type chain struct {
	bw      sink.BodyWriter
	closers []io.Closer // innermost first
}

func (c *chain) close() error {
	err := c.bw.Close()
	for _, cl := range c.closers {
		if e := cl.Close(); err == nil {
			err = e
		}
	}
	return err
}

// requestBody redacts r's body per the route's profile and mode and
// replaces it. A held body is checked whole before anything is forwarded;
// a larger one is streamed chunked, and an error part-way aborts the
// upstream request. done must be called once the upstream exchange is over.
func (s *Server) requestBody(w http.ResponseWriter, r *http.Request, rt *route, red *redactor.Redactor, ex *exchange) (done func(), err error) {
	nop := func() {}
	pl, err := rt.profile.Plan(r, sink.Route{WorkspaceKey: rt.workspaceKey, MaxDocument: int(rt.cfg.Limits.MaxDocument)})
	if err != nil {
		return nop, err
	}
	if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
		return nop, nil
	}
	lim := rt.cfg.Limits
	wire := &wireReader{r: http.MaxBytesReader(w, r.Body, int64(lim.MaxBodyBytes)), rc: http.NewResponseController(w), timeout: ex.st.cfg.Limits.BodyReadTimeout}
	ex.wire = wire
	if pl.Skip {
		r.Body = io.NopCloser(wire)
		return nop, nil
	}
	cls, err := httpbody.Classify(r.Header, r.TransferEncoding)
	if err != nil {
		return nop, fromBody(err)
	}
	if cls.Encoded() && pl.NoEncoding {
		return nop, unsupported("this sink takes no Content-Encoding")
	}
	report := rt.report
	out := &spill{}
	var raw io.Reader = wire
	if report {
		raw = io.TeeReader(wire, out)
	}
	threshold := int64(lim.BufferBytes)
	if pl.Whole {
		threshold = int64(lim.MaxDecodedBytes)
	}
	rd, err := cls.NewReader(raw, httpbody.Limits{MaxDecoded: int64(lim.MaxDecodedBytes), Hold: threshold + 1, Budget: s.bodies})
	if err != nil {
		return nop, fromBody(err)
	}
	reencode := cls.Encoded() || rd.Transcoded()
	var src io.Reader = rd
	prefix := prefixBufs.Get().(*bytes.Buffer)
	prefix.Reset()
	defer func() {
		if prefix.Cap() <= 4<<20 {
			prefixBufs.Put(prefix)
		}
	}()
	if r.ContentLength > 0 && r.ContentLength < threshold && !reencode {
		prefix.Grow(int(r.ContentLength) + bytes.MinRead)
	}
	_, err = prefix.ReadFrom(io.LimitReader(src, threshold+1))
	closeDec := func() { rd.Close() }
	if err != nil {
		closeDec()
		return nop, fromBody(err)
	}
	small := int64(prefix.Len()) <= threshold
	if pl.Whole && !small {
		closeDec()
		return nop, errDecodedTooLarge
	}
	textFallback := rt.cfg.OnInvalidJSON == "text"
	format := pl.Format
	// doc is the held body once checked as JSON: the engine redacts it
	// without validating it again.
	var doc redactor.CheckedJSON
	if small && pl.NeedJSON {
		b := bytes.TrimLeft(prefix.Bytes(), " \t\r\n")
		var jerr error
		doc, jerr = redactor.CheckJSON(prefix.Bytes())
		switch {
		case jerr != nil:
			if rt.cfg.Profile == sink.Generic && jsonSequence(b) {
				// NDJSON or concatenated JSON values under application/json
				// (Fluent Bit's json_lines): each value is redacted as a record.
				format = redactor.FormatNDJSON
				break
			}
			if !textFallback {
				closeDec()
				return nop, errInvalidJSON
			}
			format = redactor.FormatText
		case pl.NeedArray && (len(b) == 0 || b[0] != '['):
			closeDec()
			return nop, errNotArray
		}
	}
	if small && !report && (pl.Writer == nil || format == redactor.FormatText) {
		// Fast path: the whole body is in memory; redact it in one call,
		// then redo the charset and the Content-Encoding.
		closeDec()
		ex.decoded = rd.Decoded()
		in := prefix.Bytes()
		if pl.Pre != nil && format == redactor.FormatJSON {
			var st redactor.Stats
			in, st = pl.Pre(red, in)
			ex.reqStats.Add(st)
			doc = redactor.CheckedJSON{} // Pre rewrote the body
		}
		var body []byte
		var st redactor.Stats
		if format == redactor.FormatJSON && doc.Bytes() != nil {
			body, st = red.AppendJSON(make([]byte, 0, len(in)+len(in)/4+64), doc)
		} else {
			body, st = red.Append(make([]byte, 0, len(in)+len(in)/4+64), in, format)
		}
		ex.reqStats.Add(st)
		if reencode {
			if body, err = rd.Encode(body, true); err != nil {
				return nop, fromBody(err)
			}
		}
		return nop, s.forwardHeld(r, pl, body, rd.Decoded(), ex)
	}
	// The writer side.
	c := &chain{}
	var dst io.Writer = out
	if report {
		dst = io.Discard
	} else if reencode {
		ew, err := rd.NewWriter(dst, true)
		if err != nil {
			closeDec()
			return nop, fromBody(err)
		}
		c.closers = append(c.closers, ew)
		dst = ew
	}
	if pl.Writer != nil && format != redactor.FormatText {
		c.bw = pl.Writer(dst, red, textFallback)
	} else {
		c.bw = red.NewWriter(dst, format)
	}
	finishChain := func() error {
		err := c.close()
		if err == nil && report {
			// Forward every wire byte: the decoder may stop before the end.
			_, err = io.Copy(io.Discard, raw)
		}
		closeDec()
		ex.reqStats.Add(c.bw.Stats())
		ex.decoded = rd.Decoded()
		return fromBody(err)
	}
	if small {
		if !report {
			out.buf.Grow(prefix.Len() + prefix.Len()/4 + 64)
		}
		if _, err := c.bw.Write(prefix.Bytes()); err != nil {
			finishChain() //nolint:errcheck // the write error is the one that matters
			return nop, err
		}
		if err := finishChain(); err != nil {
			return nop, err
		}
		if report {
			setBody(r, out.buf.Bytes())
			ex.bytesOut = int64(out.buf.Len())
			return nop, nil
		}
		return nop, s.forwardHeld(r, pl, out.buf.Bytes(), rd.Decoded(), ex)
	}
	// Stream: the first part is held; the rest flows through a pipe. The
	// goroutine owns the prefix buffer now.
	held := prefix
	prefix = &bytes.Buffer{}
	pr, pw := io.Pipe()
	cw := &countWriter{w: pw}
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		err := out.switchTo(cw)
		if err == nil {
			_, err = c.bw.Write(held.Bytes())
		}
		if err == nil {
			buf := copyBufs.Get().(*[]byte)
			_, err = io.CopyBuffer(c.bw, src, *buf)
			copyBufs.Put(buf)
		}
		if e := finishChain(); err == nil {
			err = e
		}
		if err != nil && !errors.Is(err, errExchangeOver) {
			ex.setBodyErr(fromBody(err))
		}
		ex.bytesOut = cw.n
		pw.CloseWithError(err) //nolint:errcheck // always nil
	}()
	r.Body = pr
	r.ContentLength = -1
	r.GetBody = nil
	r.Header.Del("Content-Length")
	if !report {
		dropDigests(r.Header)
	}
	stop := func() {
		pr.CloseWithError(errExchangeOver) //nolint:errcheck
		<-finished
	}
	// Once the upstream has answered, the body's fate is known: a body that
	// failed part-way must not turn into a 2xx for the client.
	ex.streamDone = func() error {
		stop()
		return ex.getBodyErr()
	}
	return stop, nil
}

// errExchangeOver stops a streamed body once the upstream has answered.
var errExchangeOver = errors.New("upstream exchange over")

// forwardHeld runs the profile's last step on a held, redacted body and
// makes it the request's body.
func (s *Server) forwardHeld(r *http.Request, pl sink.Plan, body []byte, decoded int64, ex *exchange) error {
	if pl.Finish != nil {
		if err := pl.Finish(r, body, decoded); err != nil {
			return err
		}
	}
	dropDigests(r.Header)
	setBody(r, body)
	ex.bytesOut = int64(len(body))
	return nil
}

var prefixBufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

var copyBufs = &msgbody.CopyBufs

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

func dropDigests(h http.Header) { msgbody.DropDigests(h) }

func setBody(r *http.Request, body []byte) { msgbody.SetRequestBody(r, body) }

// responseBody redacts an upstream response as it streams to the client,
// decoding its coding chain and charset and encoding the redacted text back
// the same way (the client asked for that coding: see acceptEncoding). An
// error part-way aborts the response, so the client never mistakes a cut
// body for a whole one. An error status (4xx/5xx) whose body cannot be
// scanned keeps its status and loses its body.
func (s *Server) responseBody(resp *http.Response, rt *route, red *redactor.Redactor, ex *exchange) error {
	if resp.Body == nil || resp.Body == http.NoBody || resp.StatusCode == http.StatusNoContent ||
		resp.StatusCode == http.StatusNotModified || resp.Request.Method == http.MethodHead {
		return nil
	}
	cls, err := httpbody.Classify(resp.Header, resp.TransferEncoding)
	if err == nil && !cls.Scannable {
		err = unsupported("the upstream's response (" + strconv.Quote(cls.MediaType) + ") cannot be scanned")
	}
	if err != nil {
		if resp.StatusCode >= 400 {
			dropBody(resp)
			return nil
		}
		return fromBody(err)
	}
	body := resp.Body
	report := rt.report
	pr, pw := io.Pipe()
	lim := httpbody.Limits{MaxDecoded: int64(rt.cfg.Limits.MaxDecodedBytes), Hold: 64 << 10, Budget: s.bodies}
	keep := cls.Encoded() && accepts(resp.Request.Header, cls)
	go func() {
		var src io.Reader = body
		var dst io.Writer = pw
		if report {
			src = io.TeeReader(body, pw)
			dst = io.Discard
		}
		rd, err := cls.NewReader(src, lim)
		if err == nil {
			var ew *httpbody.Writer
			if !report && (rd.Transcoded() || keep) {
				ew, err = rd.NewWriter(dst, keep)
				dst = ew
			}
			if err == nil {
				var st redactor.Stats
				st, err = redactCopy(red, dst, rd, cls.Format)
				ex.addRespStats(st)
			}
			if ew != nil {
				if e := ew.Close(); err == nil {
					err = e
				}
			}
			if err == nil && report {
				_, err = io.Copy(io.Discard, src)
			}
			rd.Close()
		}
		body.Close()
		pw.CloseWithError(err) //nolint:errcheck
	}()
	resp.Body = pr
	if !report {
		if !keep {
			resp.Header.Del("Content-Encoding")
		}
		resp.Header.Del("Content-Length")
		dropDigests(resp.Header)
		resp.ContentLength = -1
	}
	return nil
}

// dropBody keeps an error response's status and headers but not its body,
// which flowmask cannot scan.
func dropBody(resp *http.Response) { msgbody.DropBody(resp) }

// acceptEncoding rewrites the Accept-Encoding of a request whose response
// will be redacted: only the codings the client accepts and flowmask can
// decode stay (with their q-values), else identity. The upstream's answer
// can then be decoded, scanned and sent back in a coding the client asked
// for.
func acceptEncoding(h http.Header) {
	vals := h.Values("Accept-Encoding")
	if len(vals) == 0 {
		return
	}
	var keep []string
	for _, v := range vals {
		for _, item := range strings.Split(v, ",") {
			name, _, _ := strings.Cut(strings.TrimSpace(item), ";")
			name = strings.ToLower(strings.TrimSpace(name))
			for _, c := range httpbody.Decodable {
				if name == string(c) || (name == "x-gzip" && c == httpbody.Gzip) {
					keep = append(keep, strings.TrimSpace(item))
				}
			}
		}
	}
	if len(keep) == 0 {
		h.Set("Accept-Encoding", "identity")
		return
	}
	h.Set("Accept-Encoding", strings.Join(keep, ", "))
}

// accepts reports whether the (rewritten) Accept-Encoding of the request
// lists every coding of cls, so the response may keep them.
func accepts(h http.Header, cls *httpbody.Class) bool {
	ae := strings.ToLower(strings.Join(h.Values("Accept-Encoding"), ","))
	if ae == "" {
		return false
	}
	for _, c := range cls.Codings {
		ok := false
		for _, item := range strings.Split(ae, ",") {
			name, params, _ := strings.Cut(strings.TrimSpace(item), ";")
			name = strings.TrimSpace(name)
			if (name == string(c) || name == "*" || (name == "x-gzip" && c == httpbody.Gzip)) && !strings.Contains(strings.ReplaceAll(params, " ", ""), "q=0") {
				ok = true
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// jsonSequence reports whether b is two or more JSON values one after the
// other (NDJSON, or values separated by white space only), each valid.
func jsonSequence(b []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(b))
	n := 0
	for {
		var v json.RawMessage
		err := dec.Decode(&v)
		if err == io.EOF {
			return n > 1
		}
		if err != nil {
			return false
		}
		n++
	}
}

// redactCopy redacts the decoded text of src, of format f, into dst through
// a pooled copy buffer, and returns what was redacted.
func redactCopy(red *redactor.Redactor, dst io.Writer, src io.Reader, f redactor.Format) (redactor.Stats, error) {
	return msgbody.RedactCopy(red, dst, src, f)
}
