package proxy

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/flowmask/flowmask/proxy/audit"
	"github.com/flowmask/flowmask/redactor"
	"github.com/valyala/fastjson"
)

// exchange is one request's bookkeeping, shared with the ReverseProxy hooks
// through the request context.
type exchange struct {
	rec      audit.Record
	start    time.Time
	wire     *wireReader
	decoded  int64
	bytesOut int64
	reqStats redactor.Stats
	status   int // forced status (499)
	// body is the request body under limits.request_timeout, or nil.
	body *deadlineBody
	// st and red are the configuration and redactor the exchange uses
	// from start to end.
	st  *state
	red *redactor.Redactor
	// metrics are the matched route's series; nil before a route matched.
	metrics *routeMetrics
	// streamDone, set for a streamed request body, stops it and reports
	// whether it failed.
	streamDone func() error

	mu        sync.Mutex
	bodyErr   error
	respStats redactor.Stats
}

func (ex *exchange) setBodyErr(err error) {
	ex.mu.Lock()
	ex.bodyErr = err
	ex.mu.Unlock()
}

func (ex *exchange) getBodyErr() error {
	ex.mu.Lock()
	defer ex.mu.Unlock()
	return ex.bodyErr
}

func (ex *exchange) addRespStats(st redactor.Stats) {
	ex.mu.Lock()
	ex.respStats.Add(st)
	ex.mu.Unlock()
}

type exchangeKey struct{}

func exchangeFrom(r *http.Request) *exchange {
	ex, _ := r.Context().Value(exchangeKey{}).(*exchange)
	return ex
}

// responseError marks a response flowmask could not scan: the client gets
// 502, never the unscanned body.
type responseError struct{ he *httpError }

func (e *responseError) Error() string { return "response: " + e.he.Msg }

// ServeHTTP checks, authenticates, routes, limits, redacts and forwards
// one request, then audits it. The exchange reads one configuration
// snapshot (and one redactor) from start to end, even across a reload.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	st := s.state.Load()
	ex := &exchange{start: time.Now(), st: st, red: s.logRed.Load()}
	// The audit line is built from counts, names and these masked values,
	// so it holds no secret by construction.
	ex.rec = audit.Record{Proxy: "reverse", Route: "none", Method: auditMethod(r.Method), Remote: remoteIP(r)}
	sw := &statusWriter{ResponseWriter: w}
	s.metrics.InFlight.Inc()
	defer s.finish(sw, ex)
	// describe masks the Host and the URL for the audit record, once, with
	// the route's redactor when there is a route.
	describe := func() { ex.rec.Host, ex.rec.Path = ex.red.String(r.Host), auditURI(ex.red, r.URL) }

	if he := checkMethod(r.Method); he != nil {
		describe()
		s.reject(sw, ex, he)
		return
	}
	// Authentication comes before routing: an unauthenticated client learns
	// nothing about the routes.
	if !st.authorized(r) {
		describe()
		s.reject(sw, ex, errUnauthorized)
		return
	}
	st.stripCredentials(r.Header)
	rt := st.match(r)
	if rt == nil {
		describe()
		s.reject(sw, ex, errNoRoute)
		return
	}
	ex.red = rt.red.Load()
	ex.rec.Route, ex.rec.Mode = rt.cfg.Name, rt.cfg.Mode
	ex.metrics = rt.metrics
	describe()
	upgrade := isUpgrade(r)
	if upgrade && (rt.cfg.WebSocket != WebSocketRedact || !isWebSocket(r)) {
		// Upgraded protocols are not scanned, unless the route redacts
		// WebSocket messages.
		s.reject(sw, ex, errUpgrade)
		return
	}
	select {
	case s.sem <- struct{}{}:
		defer func() { <-s.sem }()
	default:
		s.reject(sw, ex, errBusy)
		return
	}
	if upgrade {
		s.serveWebSocket(sw, r, rt, ex)
		return
	}
	ctx := r.Context()
	if d := st.cfg.Limits.RequestTimeout; d > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, ex.start.Add(d))
		defer cancel()
		stop := limitExchange(sw, r, ex)
		defer stop()
	}
	if rt.redactReq {
		done, err := s.requestBody(sw, r, rt, ex.red, ex)
		defer done()
		if err != nil {
			s.reject(sw, ex, classify(err))
			return
		}
	} else if r.Body != nil && r.Body != http.NoBody {
		ex.wire = &wireReader{r: http.MaxBytesReader(sw, r.Body, int64(rt.cfg.Limits.MaxBodyBytes)), rc: http.NewResponseController(sw), timeout: st.cfg.Limits.BodyReadTimeout}
		r.Body = io.NopCloser(ex.wire)
	}
	ctx = context.WithValue(ctx, exchangeKey{}, ex)
	ctx = context.WithValue(ctx, routeKey{}, rt)
	rt.rp.ServeHTTP(sw, r.WithContext(ctx))
}

// limitExchange enforces the exchange's total deadline on a slow client:
// the response write deadline, and reads of the request body, which fail
// as a client timeout (408) once the deadline has passed, even while a
// read is blocked. stop releases the timer.
func limitExchange(w http.ResponseWriter, r *http.Request, ex *exchange) (stop func()) {
	deadline := ex.start.Add(ex.st.cfg.Limits.RequestTimeout)
	rc := http.NewResponseController(w)
	rc.SetWriteDeadline(deadline) //nolint:errcheck // not every conn supports deadlines
	// The next request on a keep-alive connection gets its own deadline.
	clear := func() { rc.SetWriteDeadline(time.Time{}) } //nolint:errcheck
	if r.Body == nil || r.Body == http.NoBody {
		return clear
	}
	ex.body = &deadlineBody{ReadCloser: r.Body, deadline: deadline}
	r.Body = ex.body
	t := time.AfterFunc(time.Until(deadline), func() {
		rc.SetReadDeadline(time.Now()) //nolint:errcheck // interrupts a blocked body read
	})
	return func() {
		t.Stop()
		clear()
	}
}

// deadlineBody fails every read after the deadline.
type deadlineBody struct {
	io.ReadCloser
	deadline time.Time
	eof      atomic.Bool
}

// cut reports whether the deadline passed before the whole body was read.
func (b *deadlineBody) cut() bool {
	return b != nil && !b.eof.Load() && !time.Now().Before(b.deadline)
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	if !time.Now().Before(b.deadline) {
		return 0, os.ErrDeadlineExceeded
	}
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF {
		b.eof.Store(true)
	}
	if err != nil && err != io.EOF && !time.Now().Before(b.deadline) {
		// A read cut by the deadline fails as a timeout (408), whatever
		// the connection made of it.
		err = os.ErrDeadlineExceeded
	}
	return n, err
}

// stripCredentials removes the client's credentials for flowmask before
// forwarding: the auth header, Proxy-Authorization (meant for a proxy,
// never for the upstream) and any header carrying an accepted token.
func (st *state) stripCredentials(h http.Header) {
	h.Del(st.cfg.Auth.Header)
	h.Del("Proxy-Authorization")
	if len(st.tokens) == 0 {
		return
	}
	for k, vs := range h {
		for _, v := range vs {
			if containsToken(v, st.tokens) {
				delete(h, k)
				break
			}
		}
	}
}

func containsToken(v string, toks [][]byte) bool {
	for _, t := range toks {
		if strings.Contains(v, string(t)) {
			return true
		}
	}
	return false
}

type routeKey struct{}

func (st *state) match(r *http.Request) *route {
	for _, rt := range st.routes {
		if rt.matches(r) {
			return rt
		}
	}
	return nil
}

func (s *Server) reject(w http.ResponseWriter, ex *exchange, he *httpError) {
	ex.rec.Reason = he.Code
	if he.Status == StatusClientClosed {
		ex.status = StatusClientClosed
	}
	if (he.Code == "client_aborted" || he.Code == "client_timeout") && ex.wire != nil {
		// The client is gone or stalled: do not wait for the rest.
		w.Header().Set("Connection", "close")
	}
	if ex.red != nil && he.Msg != "" {
		// A refusal may quote what the client sent (a media type, a
		// charset): the shipper logs error bodies.
		if out, st := ex.red.Append(nil, []byte(he.Msg), redactor.FormatText); st.Redactions > 0 {
			c := *he
			c.Msg = string(out)
			he = &c
		}
	}
	writeError(w, he)
}

// finish audits the exchange and updates the metrics. It re-raises a panic
// (http.ErrAbortHandler aborts a response cut part-way).
func (s *Server) finish(sw *statusWriter, ex *exchange) {
	p := recover()
	s.metrics.InFlight.Dec()
	rec := &ex.rec
	rec.Time = ex.start
	rec.Duration = time.Since(ex.start)
	rec.Aborted = p != nil
	switch {
	case ex.status != 0:
		rec.Status = ex.status
	case p != nil && sw.status != 0:
		rec.Status = sw.status
		if rec.Reason == "" {
			rec.Reason = "aborted"
		}
	case p != nil:
		rec.Status = http.StatusBadGateway
		rec.Reason = "aborted"
	case sw.status == 0:
		rec.Status = http.StatusOK
	default:
		rec.Status = sw.status
	}
	if ex.wire != nil {
		rec.BytesIn = ex.wire.n
	}
	rec.BytesOut = ex.bytesOut
	if rec.BytesOut == 0 && rec.Reason == "" && ex.wire != nil && ex.reqStats.Bytes == 0 {
		rec.BytesOut = ex.wire.n // forwarded untouched
	}
	if rec.Reason != "" && rec.UpstreamStatus == 0 {
		rec.BytesOut = 0
	}
	rec.ResponseBytes = sw.n
	stats := ex.reqStats
	ex.mu.Lock()
	stats.Add(ex.respStats)
	ex.mu.Unlock()
	rec.Redactions, rec.ByRule = stats.Redactions, stats.ByRule
	s.audit.Log(rec)
	if ex.metrics != nil {
		ex.metrics.observe(rec)
	} else {
		s.metrics.none.observe(rec)
	}
	if p != nil {
		panic(p)
	}
}

// newReverseProxy builds the route's httputil.ReverseProxy: Rewrite sets the
// upstream, ModifyResponse redacts responses and records the upstream's
// answer, ErrorHandler maps failures to 502/504 (499 when the client left).
func (s *Server) newReverseProxy(rt *route) *httputil.ReverseProxy {
	return &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(rt.target)
			pr.SetXForwarded()
			red := rt.red.Load()
			if ex := exchangeFrom(pr.In); ex != nil {
				red = ex.red
			}
			if rt.redactResp {
				acceptEncoding(pr.Out.Header)
			}
			// The client's Host goes through the header rules (its name is
			// flowmask's, so only the text rules apply).
			if h := pr.Out.Header.Get("X-Forwarded-Host"); h != "" {
				pr.Out.Header.Set("X-Forwarded-Host", red.String(h))
			}
			// Trailers are not scanned: they are dropped.
			pr.Out.Trailer = nil
		},
		Transport:  rt.transport,
		BufferPool: bufferPool{},
		ErrorLog:   mustStdLog(s.logger),
		ModifyResponse: func(resp *http.Response) error {
			ex := exchangeFrom(resp.Request)
			// Response trailers are not scanned: they are dropped.
			defer dropTrailers(resp)
			if ex != nil {
				ex.rec.UpstreamStatus = resp.StatusCode
				ex.rec.UpstreamLatency = time.Since(ex.start)
				if ex.streamDone != nil && resp.StatusCode < 300 {
					if err := ex.streamDone(); err != nil {
						resp.Body.Close()
						return err // ErrorHandler answers with the body's error
					}
				}
			}
			if !rt.redactResp || ex == nil {
				return nil
			}
			maskHeaders(ex.red, resp.Header)
			if err := s.responseBody(resp, rt, ex.red, ex); err != nil {
				var he *httpError
				if errors.As(err, &he) {
					return &responseError{he}
				}
				return err
			}
			return nil
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			ex := exchangeFrom(r)
			var he *httpError
			var re *responseError
			switch {
			case ex != nil && ex.getBodyErr() != nil:
				he = classify(ex.getBodyErr())
			case errors.As(err, &re):
				he = &httpError{Status: http.StatusBadGateway, Code: "unscannable_response", Msg: re.he.Msg}
			case ex != nil && ex.body.cut():
				// limits.request_timeout ran out while the client was still
				// sending its body.
				he = classify(&clientError{Err: os.ErrDeadlineExceeded})
			default:
				he = upstreamError(r, err)
			}
			if he.Status >= 500 {
				s.logger.Warn("upstream failed", zapRoute(rt), zapErrCode(he.Code), zapErrMsg(err))
			}
			if ex != nil {
				s.reject(w, ex, he)
			} else {
				writeError(w, he)
			}
		},
	}
}

// dropTrailers makes sure resp's trailers never reach the client: the
// transport fills resp.Trailer when the body ends, and ReverseProxy copies
// what it finds there after closing the body.
func dropTrailers(resp *http.Response) {
	resp.Header.Del("Trailer")
	resp.Trailer = nil
	if resp.Body != nil && resp.Body != http.NoBody {
		resp.Body = &trailerDropper{ReadCloser: resp.Body, resp: resp}
	}
}

type trailerDropper struct {
	io.ReadCloser
	resp *http.Response
}

func (t *trailerDropper) Close() error {
	err := t.ReadCloser.Close()
	t.resp.Trailer = nil
	return err
}

// bufferPool lends ReverseProxy its copy buffers.
type bufferPool struct{}

var proxyBufs = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

func (bufferPool) Get() []byte  { return *(proxyBufs.Get().(*[]byte)) }
func (bufferPool) Put(b []byte) { proxyBufs.Put(&b) }

// statusWriter records the status and the bytes written.
type statusWriter struct {
	http.ResponseWriter
	status int
	n      int64
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 && code >= 200 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(p)
	w.n += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the connection.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func remoteIP(r *http.Request) string {
	h, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return h
}

// sinkTransport is the built-in sink: it prints one JSON line per request
// (method, path, route, the redacted body) and answers 200.
type sinkTransport struct {
	w  io.Writer
	mu *sync.Mutex
}

func (t *sinkTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	var body []byte
	if r.Body != nil {
		var err error
		body, err = io.ReadAll(r.Body)
		r.Body.Close()
		if err != nil {
			return nil, err
		}
	}
	rec := struct {
		Time        string          `json:"time"`
		Route       string          `json:"route,omitempty"`
		Method      string          `json:"method"`
		Path        string          `json:"path"`
		ContentType string          `json:"content_type,omitempty"`
		Encoding    string          `json:"content_encoding,omitempty"`
		Body        json.RawMessage `json:"body"`
	}{Time: time.Now().UTC().Format(time.RFC3339Nano), Method: r.Method, ContentType: r.Header.Get("Content-Type"), Encoding: r.Header.Get("Content-Encoding")}
	if ex := exchangeFrom(r); ex != nil {
		rec.Route, rec.Path = ex.rec.Route, ex.rec.Path
	}
	var compact bytes.Buffer
	if rec.Encoding == "" && fastjson.ValidateBytes(body) == nil && json.Compact(&compact, body) == nil {
		rec.Body = compact.Bytes()
	} else {
		q, _ := json.Marshal(string(body))
		rec.Body = q
	}
	line, err := json.Marshal(rec)
	if err != nil {
		return nil, err
	}
	t.mu.Lock()
	_, err = t.w.Write(append(line, '\n'))
	t.mu.Unlock()
	if err != nil {
		return nil, err
	}
	resp := `{"status":"accepted","bytes":` + strconv.Itoa(len(body)) + "}\n"
	return &http.Response{
		StatusCode:    http.StatusOK,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        http.Header{"Content-Type": {"application/json"}},
		Body:          io.NopCloser(bytes.NewReader([]byte(resp))),
		ContentLength: int64(len(resp)),
		Request:       r,
	}, nil
}
