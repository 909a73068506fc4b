package proxy

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/flowmask/flowmask/redactor"
	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zlib"
	"github.com/klauspost/compress/zstd"
	"github.com/valyala/fastjson"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/ianaindex"
	"golang.org/x/text/transform"
)

// codec undoes and redoes one Content-Encoding.
type codec struct {
	name   string
	decode func(io.Reader) (io.ReadCloser, error)
	encode func(io.Writer) io.WriteCloser
}

var codecs = map[string]*codec{
	"gzip": {
		name: "gzip",
		decode: func(r io.Reader) (io.ReadCloser, error) {
			zr, err := gzip.NewReader(r)
			if err != nil {
				return nil, err
			}
			return zr, nil
		},
		encode: func(w io.Writer) io.WriteCloser {
			zw, _ := gzip.NewWriterLevel(w, gzip.BestSpeed)
			return zw
		},
	},
	"deflate": {
		name: "deflate",
		// HTTP deflate is zlib-wrapped, but some clients send raw deflate.
		decode: func(r io.Reader) (io.ReadCloser, error) {
			br := bufio.NewReader(r)
			h, err := br.Peek(2)
			if err == nil && h[0]&0x0f == 8 && (uint16(h[0])<<8|uint16(h[1]))%31 == 0 {
				return zlib.NewReader(br)
			}
			return flate.NewReader(br), nil
		},
		encode: func(w io.Writer) io.WriteCloser {
			zw, _ := zlib.NewWriterLevel(w, zlib.BestSpeed)
			return zw
		},
	},
	"zstd": {
		name: "zstd",
		decode: func(r io.Reader) (io.ReadCloser, error) {
			d, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(64<<20))
			if err != nil {
				return nil, err
			}
			return d.IOReadCloser(), nil
		},
		encode: func(w io.Writer) io.WriteCloser {
			zw, _ := zstd.NewWriter(w, zstd.WithEncoderConcurrency(1), zstd.WithEncoderLevel(zstd.SpeedFastest))
			return zw
		},
	},
}

func init() { codecs["x-gzip"] = codecs["gzip"] }

// codecFor returns the codec of a Content-Encoding header: nil for none, an
// *httpError (415) for one flowmask cannot decode.
func codecFor(h string) (*codec, error) {
	h = strings.ToLower(strings.TrimSpace(h))
	if h == "" || h == "identity" {
		return nil, nil
	}
	if c := codecs[h]; c != nil {
		return c, nil
	}
	return nil, unsupported("Content-Encoding " + strconv.Quote(h) + " cannot be decoded; send identity, gzip, deflate or zstd")
}

// charsetFor returns the encoding of a non-UTF-8 charset parameter, nil for
// UTF-8 or ASCII, or a 415 for an unknown one.
func charsetFor(params map[string]string) (encoding.Encoding, error) {
	cs := strings.ToLower(strings.TrimSpace(params["charset"]))
	switch cs {
	case "", "utf-8", "utf8", "us-ascii", "ascii":
		return nil, nil
	}
	enc, err := ianaindex.MIME.Encoding(cs)
	if err != nil || enc == nil {
		enc, err = ianaindex.IANA.Encoding(cs)
	}
	if err != nil || enc == nil {
		return nil, unsupported("charset " + strconv.Quote(cs) + " cannot be decoded; send UTF-8")
	}
	return enc, nil
}

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
			err = &clientError{err}
		}
	}
	return n, err
}

// decodeReader maps a decoder's errors (other than the client's) to 400.
type decodeReader struct {
	r    io.Reader
	name string
	n    int64
	max  int64
}

func (d *decodeReader) Read(p []byte) (int, error) {
	n, err := d.r.Read(p)
	d.n += int64(n)
	if d.max > 0 && d.n > d.max {
		return n, errDecodedTooLarge
	}
	if err != nil && err != io.EOF && d.name != "" {
		var ce *clientError
		var mb *http.MaxBytesError
		var he *httpError
		if !errors.As(err, &ce) && !errors.As(err, &mb) && !errors.As(err, &he) {
			err = badEncoding(d.name, err)
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
	bw      bodyWriter
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
	pl, err := rt.profile.plan(r, rt)
	if err != nil {
		return nop, err
	}
	if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
		return nop, nil
	}
	lim := rt.cfg.Limits
	wire := &wireReader{r: http.MaxBytesReader(w, r.Body, int64(lim.MaxBodyBytes)), rc: http.NewResponseController(w), timeout: s.cfg().Limits.BodyReadTimeout}
	ex.wire = wire
	if pl.skip {
		r.Body = io.NopCloser(wire)
		return nop, nil
	}
	cod, err := codecFor(r.Header.Get("Content-Encoding"))
	if err != nil {
		return nop, err
	}
	if cod != nil && pl.noEncoding {
		return nop, unsupported("this sink takes no Content-Encoding")
	}
	_, params := mediaType(r.Header)
	cs, err := charsetFor(params)
	if err != nil {
		return nop, err
	}
	report := rt.report
	out := &spill{}
	var raw io.Reader = wire
	if report {
		raw = io.TeeReader(wire, out)
	}
	dec := &decodeReader{r: raw, max: int64(lim.MaxDecodedBytes)}
	var decCloser io.Closer
	if cod != nil {
		zr, err := cod.decode(raw)
		if err != nil {
			if ce := classifyBodyCause(err); ce != nil {
				return nop, ce
			}
			return nop, badEncoding(cod.name, err)
		}
		decCloser = zr
		dec.r, dec.name = zr, cod.name
	}
	var src io.Reader = dec
	if cs != nil {
		src = transform.NewReader(dec, cs.NewDecoder())
	}
	threshold := int64(lim.BufferBytes)
	if pl.whole {
		threshold = int64(lim.MaxDecodedBytes)
	}
	prefix := prefixBufs.Get().(*bytes.Buffer)
	prefix.Reset()
	defer func() {
		if prefix.Cap() <= 4<<20 {
			prefixBufs.Put(prefix)
		}
	}()
	if r.ContentLength > 0 && r.ContentLength < threshold && cod == nil {
		prefix.Grow(int(r.ContentLength) + bytes.MinRead)
	}
	_, err = prefix.ReadFrom(io.LimitReader(src, threshold+1))
	closeDec := func() {
		if decCloser != nil {
			decCloser.Close()
		}
	}
	if err != nil {
		closeDec()
		return nop, err
	}
	small := int64(prefix.Len()) <= threshold
	if pl.whole && !small {
		closeDec()
		return nop, errDecodedTooLarge
	}
	textFallback := rt.cfg.OnInvalidJSON == "text"
	format := pl.format
	if small && pl.needJSON {
		b := bytes.TrimLeft(prefix.Bytes(), " \t\r\n")
		switch {
		case fastjson.ValidateBytes(b) != nil:
			if !textFallback {
				closeDec()
				return nop, errInvalidJSON
			}
			format = redactor.FormatText
		case pl.needArray && (len(b) == 0 || b[0] != '['):
			closeDec()
			return nop, errNotArray
		}
	}
	if small && !report && (pl.writer == nil || format == redactor.FormatText) {
		// Fast path: the whole body is in memory; redact it in one call,
		// then redo the charset and the Content-Encoding.
		closeDec()
		ex.decoded = dec.n
		in := prefix.Bytes()
		if pl.pre != nil && format == redactor.FormatJSON {
			var st redactor.Stats
			in, st = pl.pre(red, in)
			ex.reqStats.Add(st)
		}
		body, st := red.Append(make([]byte, 0, len(in)+len(in)/4+64), in, format)
		ex.reqStats.Add(st)
		if cs != nil {
			if body, err = cs.NewEncoder().Bytes(body); err != nil {
				return nop, unsupported("the redacted body cannot be encoded back to its charset")
			}
		}
		if cod != nil {
			var zb bytes.Buffer
			zb.Grow(len(body)/2 + 64)
			zw := cod.encode(&zb)
			if _, err := zw.Write(body); err != nil {
				return nop, err
			}
			if err := zw.Close(); err != nil {
				return nop, err
			}
			body = zb.Bytes()
		}
		return nop, s.forwardHeld(r, pl, body, dec.n, ex)
	}
	// The writer side.
	c := &chain{}
	var dst io.Writer = out
	if report {
		dst = io.Discard
	} else {
		if cod != nil {
			zw := cod.encode(dst)
			c.closers = append([]io.Closer{zw}, c.closers...)
			dst = zw
		}
		if cs != nil {
			tw := transform.NewWriter(dst, cs.NewEncoder())
			c.closers = append([]io.Closer{tw}, c.closers...)
			dst = tw
		}
	}
	if pl.writer != nil && format != redactor.FormatText {
		c.bw = pl.writer(dst, red, textFallback)
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
		ex.decoded = dec.n
		return err
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
		return nop, s.forwardHeld(r, pl, out.buf.Bytes(), dec.n, ex)
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
			ex.setBodyErr(err)
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
func (s *Server) forwardHeld(r *http.Request, pl plan, body []byte, decoded int64, ex *exchange) error {
	if pl.finish != nil {
		if err := pl.finish(r, body, decoded); err != nil {
			return err
		}
	}
	dropDigests(r.Header)
	setBody(r, body)
	ex.bytesOut = int64(len(body))
	return nil
}

var prefixBufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

var copyBufs = sync.Pool{New: func() any { b := make([]byte, 64<<10); return &b }}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// bodyDigests are headers that describe the original body and would be
// wrong after redaction.
var bodyDigests = []string{"Content-Md5", "Digest", "Content-Digest", "Repr-Digest"}

func dropDigests(h http.Header) {
	for _, k := range bodyDigests {
		h.Del(k)
	}
}

func setBody(r *http.Request, body []byte) {
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	r.TransferEncoding = nil
	r.Header.Set("Content-Length", strconv.Itoa(len(body)))
}

// responseBody redacts an upstream response as it streams to the client.
// An error part-way aborts the response, so the client never mistakes a
// cut body for a whole one.
func (s *Server) responseBody(resp *http.Response, rt *route, red *redactor.Redactor, ex *exchange) error {
	if resp.Body == nil || resp.Body == http.NoBody || resp.StatusCode == http.StatusNoContent ||
		resp.StatusCode == http.StatusNotModified || resp.Request.Method == http.MethodHead {
		return nil
	}
	mt, params := mediaType(resp.Header)
	format, _, ok := formatFor(mt)
	if !ok {
		return unsupported("the upstream's response (" + mt + ") cannot be scanned")
	}
	cod, err := codecFor(resp.Header.Get("Content-Encoding"))
	if err != nil {
		return err
	}
	cs, err := charsetFor(params)
	if err != nil {
		return err
	}
	body := resp.Body
	var src io.Reader = body
	var zr io.ReadCloser
	report := rt.report
	pr, pw := io.Pipe()
	var dst io.Writer = pw
	if report {
		src = io.TeeReader(body, pw)
		dst = io.Discard
	}
	if cod != nil {
		if zr, err = cod.decode(src); err != nil {
			return badEncoding(cod.name, err)
		}
		src = zr
	}
	var tw io.Closer
	if cs != nil {
		src = transform.NewReader(src, cs.NewDecoder())
		if !report {
			t := transform.NewWriter(dst, cs.NewEncoder())
			dst, tw = t, t
		}
	}
	bw := red.NewWriter(dst, format)
	go func() {
		buf := copyBufs.Get().(*[]byte)
		_, err := io.CopyBuffer(bw, src, *buf)
		copyBufs.Put(buf)
		if e := bw.Close(); err == nil {
			err = e
		}
		if tw != nil {
			if e := tw.Close(); err == nil {
				err = e
			}
		}
		if err == nil && report {
			_, err = io.Copy(io.Discard, src)
		}
		if zr != nil {
			zr.Close()
		}
		ex.addRespStats(bw.Stats())
		body.Close()
		pw.CloseWithError(err) //nolint:errcheck
	}()
	resp.Body = pr
	if !report {
		resp.Header.Del("Content-Encoding")
		resp.Header.Del("Content-Length")
		resp.ContentLength = -1
	}
	return nil
}
