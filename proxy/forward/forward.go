package forward

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/flowmask/flowmask/proxy/httpbody"
	"github.com/flowmask/flowmask/proxy/internal/admin"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/textproto"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/elazarl/goproxy"
	"github.com/flowmask/flowmask/proxy"
	"github.com/flowmask/flowmask/proxy/audit"
	"github.com/flowmask/flowmask/proxy/mitmca"
	"github.com/flowmask/flowmask/redactor"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// ForwardOptions are what the caller provides besides the config. The zero
// value is usable.
type ForwardOptions struct {
	// Literals are known secrets (--secrets-file, --secret-env, the
	// secrets: section); bearer tokens of the auth file and the audit
	// sink's token and workspace key are always added.
	Literals []redactor.Literal
	// Registry receives the metrics; nil means a new registry with the Go
	// and process collectors.
	Registry *prometheus.Registry
	// LogOutput receives the proxy's own logs, redacted; nil means stderr.
	LogOutput zapcore.WriteSyncer
	// Stdout and Stderr are the audit outputs "stdout" and "stderr"; nil
	// means os.Stdout and os.Stderr.
	Stdout, Stderr io.Writer
	// Ready is an extra readiness check, such as the secrets manager's:
	// while it returns an error, /readyz answers 503 with it. Nil means
	// none.
	Ready func() error
}

// Forward is `flowmask forward`: an HTTP forward proxy (HTTP_PROXY and
// HTTPS_PROXY) built on goproxy that writes a redacted run-history record
// of every exchange and can redact bodies inline. It is an http.Handler.
//
// goproxy's fail-open defaults are all replaced: CONNECT is handled by
// Forward itself, intercepted with the operator's CA (never goproxy's
// public key) and its requests served by a bounded net/http server, or
// tunnelled and recorded, or refused; WebSocket upgrades on inspected
// hosts are refused unless allowed; bodies to redact are decoded first,
// and a body that cannot be scanned is not passed on; destinations are
// dialled only through the policy. goproxy runs each inspected exchange
// (plain HTTP and inside tunnels alike) through onRequest and onResponse.
type Forward struct {
	// Lookup resolves destination names; nil means net.DefaultResolver.
	// Set it before serving.
	Lookup LookupFunc
	// Dial connects to a checked destination IP:port; nil means a
	// net.Dialer with a 10s timeout. Set it before serving.
	Dial DialFunc

	cfg                                    *ForwardConfig
	policy                                 destPolicy
	intercept, redactReq, redactResp, wsOK map[string]bool
	ca                                     *mitmca.CA
	auth                                   *proxyAuth
	base                                   *redactor.Redactor
	ownLits                                []redactor.Literal
	red                                    atomic.Pointer[redactor.Redactor]
	// fold is red with every known secret lower-cased, for names that
	// are case-insensitive (header names, hosts): see recordName.
	fold       atomic.Pointer[redactor.Redactor]
	gp         *goproxy.ProxyHttpServer
	transport  *http.Transport
	records    *recordWriter
	logger     *zap.Logger
	registry   *prometheus.Registry
	metrics    *proxy.Metrics
	ready      atomic.Bool
	readyCheck func() error
	bodies     *httpbody.Budget // decoded bodies in flight
	// tunnels serves the HTTP exchanges inside intercepted CONNECT
	// tunnels, fed through tunnelConns.
	tunnels     *http.Server
	tunnelConns *connQueue
	// slots caps the exchanges in flight (max_concurrent_exchanges).
	slots chan struct{}
}

// NewForward compiles cfg (validated, as LoadForwardConfig returns it):
// it reads the CA, the auth file and the upstream CA file, and opens the
// audit output. Errors name the setting at fault.
func NewForward(cfg *ForwardConfig, opts ForwardOptions) (*Forward, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	c := *cfg
	c.SetDefaults() // a config built by hand gets the bounds too
	cfg = &c
	var networks []netip.Prefix
	for _, n := range cfg.AllowNetworks {
		p, _ := parseNetwork(n) // validated above
		networks = append(networks, p)
	}
	f := &Forward{
		cfg:        cfg,
		policy:     destPolicy{allow: hostSet(cfg.Allow), networks: networks},
		slots:      make(chan struct{}, cfg.MaxConcurrentExchanges),
		intercept:  hostSet(cfg.Intercept),
		redactReq:  hostSet(cfg.RedactRequests),
		redactResp: hostSet(cfg.RedactResponses),
		wsOK:       hostSet(cfg.AllowWebSocket),
		registry:   opts.Registry,
		readyCheck: opts.Ready,
		bodies:     httpbody.NewBudget(cfg.MaxConcurrentBodies, int64(cfg.MaxInflightDecoded)),
	}
	if f.registry == nil {
		f.registry = proxy.NewRegistry()
	}
	if cfg.CADir != "" {
		ca, err := mitmca.Load(cfg.CADir)
		if err != nil {
			return nil, err
		}
		f.ca = ca
	}
	if cfg.AuthFile != "" {
		a, lits, err := loadProxyAuth(cfg.AuthFile)
		if err != nil {
			return nil, err
		}
		f.auth, f.ownLits = a, lits
	}
	sink, sinkLits, err := loadAuditSink(cfg)
	if err != nil {
		return nil, err
	}
	f.ownLits = append(f.ownLits, sinkLits...)
	base, err := redactor.New(redactor.Config{MaxDocument: proxy.DefaultMaxDocument})
	if err != nil {
		return nil, err
	}
	f.base = base
	f.SetLiterals(opts.Literals)
	out := opts.LogOutput
	if out == nil {
		out = zapcore.Lock(os.Stderr)
	}
	level := zap.NewAtomicLevelAt(zap.InfoLevel)
	var lvl zapcore.Level
	if lvl.UnmarshalText([]byte(strings.ToLower(cfg.LogLevel))) == nil {
		level.SetLevel(lvl)
	}
	encCfg := zap.NewProductionEncoderConfig()
	encCfg.TimeKey = "time"
	encCfg.EncodeTime = zapcore.RFC3339NanoTimeEncoder
	f.logger = zap.New(zapcore.NewCore(zapcore.NewJSONEncoder(encCfg), audit.NewRedactingSyncer(out, f.red.Load), level)).With(zap.String("proxy", "forward"))
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	if cfg.UpstreamCA != "" {
		pem, err := os.ReadFile(cfg.UpstreamCA)
		if err != nil {
			return nil, fmt.Errorf("upstream_ca: %w", err)
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("upstream_ca: no PEM certificate in %s", cfg.UpstreamCA)
		}
	}
	f.transport = &http.Transport{
		Proxy:                 nil, // never chain to HTTP_PROXY: that may be us
		DialContext:           f.dialDest,
		TLSClientConfig:       &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
		DisableCompression:    true, // bodies pass as they are; we decode our own copy
		MaxIdleConns:          256,
		MaxIdleConnsPerHost:   64,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: cfg.UpstreamTimeout,
		ExpectContinueTimeout: time.Second,
	}
	stdout, stderr := opts.Stdout, opts.Stderr
	if stdout == nil {
		stdout = os.Stdout
	}
	if stderr == nil {
		stderr = os.Stderr
	}
	f.metrics = proxy.NewMetrics(f.registry)
	if sink != nil {
		sink.OnUndelivered = f.metrics.AuditUndelivered.Inc
	}
	if f.records, err = newRecordWriter(cfg.Audit, sink, stdout, stderr, f.logger); err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}

	gp := goproxy.NewProxyHttpServer()
	gp.Tr = f.transport
	gp.ConnectDial = nil // goproxy's default reads HTTPS_PROXY
	gp.ConnectDialWithReq = func(req *http.Request, network, addr string) (net.Conn, error) {
		return f.dialDest(req.Context(), network, addr)
	}
	gp.KeepAcceptEncoding = true
	gp.Logger = mustStdLog(f.logger)
	gp.OnRequest().HandleConnectFunc(f.handleConnect)
	gp.OnRequest().DoFunc(f.onRequest)
	gp.OnResponse().DoFunc(f.onResponse)
	f.gp = gp

	// Intercepted tunnels are served by a net/http server of their own, so
	// every request in them meets the listener's bounds: header size
	// (431, connection closed), header, read, idle and write timeouts,
	// and an aborted response aborts the connection.
	f.tunnelConns = newConnQueue()
	f.tunnels = f.httpServer(http.HandlerFunc(f.serveTunnelled))
	f.tunnels.ConnContext = func(ctx context.Context, c net.Conn) context.Context {
		if tc, ok := c.(*tunnelConn); ok {
			ctx = context.WithValue(ctx, fwdConnectKey{}, tc)
		}
		return ctx
	}
	go f.tunnels.Serve(f.tunnelConns) //nolint:errcheck // ends with Close
	return f, nil
}

// httpServer is an http.Server with the configured bounds.
func (f *Forward) httpServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: f.cfg.ReadHeaderTimeout,
		ReadTimeout:       f.cfg.ReadTimeout,
		WriteTimeout:      f.cfg.ExchangeTimeout,
		IdleTimeout:       f.cfg.IdleTimeout,
		MaxHeaderBytes:    int(f.cfg.MaxHeaderBytes),
		ErrorLog:          mustStdLog(f.logger),
	}
}

// SetLiterals swaps the known secrets (on SIGHUP) while requests are in
// flight; the auth file's tokens stay.
func (f *Forward) SetLiterals(lits []redactor.Literal) {
	all := append(append([]redactor.Literal(nil), lits...), f.ownLits...)
	folded := make([]redactor.Literal, len(all))
	for i, l := range all {
		folded[i] = redactor.Literal{Source: l.Source, Value: strings.ToLower(l.Value)}
	}
	f.fold.Store(f.base.WithLiterals(folded))
	f.red.Store(f.base.WithLiterals(all))
}

// Logger returns the proxy's own (redacting) logger.
func (f *Forward) Logger() *zap.Logger { return f.logger }

// Reopen reopens a file audit output (call it on SIGHUP).
func (f *Forward) Reopen() error { return f.records.out.Reopen() }

// Close closes the audit output and idle upstream connections.
func (f *Forward) Close() error {
	f.tunnelConns.Close() //nolint:errcheck // no new tunnels, even if Serve never started
	f.tunnels.Close()     //nolint:errcheck // closes the intercepted tunnels
	f.transport.CloseIdleConnections()
	return f.records.close()
}

// AdminHandler serves /healthz, /readyz (serving, not shutting down, and
// ForwardOptions.Ready passing) and /metrics (this proxy's registry only).
func (f *Forward) AdminHandler() http.Handler {
	return adminHandler(f.registry, &f.ready, f.readyCheck)
}

// ListenAndServe listens on the configured addresses and serves until ctx
// is done.
func (f *Forward) ListenAndServe(ctx context.Context) error {
	ln, err := net.Listen("tcp", f.cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	var adminLn net.Listener
	if f.cfg.Admin != "off" {
		if adminLn, err = net.Listen("tcp", f.cfg.Admin); err != nil {
			ln.Close()
			return fmt.Errorf("admin: %w", err)
		}
	}
	return f.Serve(ctx, ln, adminLn)
}

// Serve serves the proxy on ln (and the admin endpoints on adminLn, if not
// nil) until ctx is done, then drains in-flight requests for up to 30s.
func (f *Forward) Serve(ctx context.Context, ln, adminLn net.Listener) error {
	return admin.Serve(ctx, admin.Serving{
		Server: f.httpServer(f), Listener: ln,
		Admin: f.AdminHandler(), AdminListener: adminLn,
		Ready:           &f.ready,
		Logger:          f.logger,
		Fields:          []zap.Field{zap.Strings("intercept", sortedHosts(f.intercept)), zap.Bool("auth", f.auth != nil)},
		ShutdownTimeout: 30 * time.Second,
		Shutdown: func(ctx context.Context) error {
			f.tunnelConns.Close() //nolint:errcheck // always nil
			return f.tunnels.Shutdown(ctx)
		},
	})
}

// fwdExchange is one request/response through the proxy.
type fwdExchange struct {
	ctx       context.Context // the exchange's own (timeout); nil before serveExchange
	start     time.Time
	rec       ForwardRecord
	connect   *connectInfo
	reqTap    *bodyTap
	reqBody   *redactBody    // a redact-requests body streamed to the destination
	reqStats  redactor.Stats // what reqBody redacted (set when it is closed)
	stats     redactor.Stats
	redactReq bool
	redactRes bool
	synthetic bool // the response is flowmask's own refusal
	aborted   atomic.Bool
	once      sync.Once
}

// connectInfo is an intercepted CONNECT, inherited by the requests in it.
type connectInfo struct {
	host, user, client string
}

type fwdExchangeKey struct{}
type fwdConnectKey struct{}

func (f *Forward) newExchange(r *http.Request, kind, user string, start time.Time) *fwdExchange {
	return &fwdExchange{start: start, rec: ForwardRecord{
		Time: start.UTC(), Kind: kind, Client: r.RemoteAddr, User: user, Method: r.Method,
	}}
}

// ServeHTTP authenticates the client, then serves CONNECT (intercepted
// through goproxy, or tunnelled here) or a plain-HTTP proxy request
// (through goproxy).
func (f *Forward) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	user := ""
	if f.auth != nil {
		u, ok := f.auth.check(r.Header.Get("Proxy-Authorization"))
		if !ok {
			ex := f.newExchange(r, "refused", "", start)
			ex.rec.URL, ex.rec.Host = f.red.Load().String(r.Host), r.Host
			if r.Method != http.MethodConnect && r.URL != nil {
				ex.rec.URL = recordURL(r.URL, f.red.Load())
			}
			w.Header()["Proxy-Authenticate"] = f.auth.challenge()
			f.reply(w, ex, &httpError{Status: http.StatusProxyAuthRequired, Code: "proxy_auth_required", Msg: "valid Proxy-Authorization is required (Basic or Bearer)"})
			return
		}
		user = u
	}
	r.Header.Del("Proxy-Authorization")
	if r.Method == http.MethodConnect {
		f.serveConnect(w, r, user, start)
		return
	}
	if !r.URL.IsAbs() || r.URL.Scheme != "http" {
		ex := f.newExchange(r, "refused", user, start)
		ex.rec.URL = recordURL(r.URL, f.red.Load())
		f.reply(w, ex, &httpError{Status: http.StatusBadRequest, Code: "not_proxy_request", Msg: "flowmask forward is a forward proxy: send http:// requests in absolute form and https:// through CONNECT (set HTTP_PROXY and HTTPS_PROXY)"})
		return
	}
	ex := f.newExchange(r, "http", user, start)
	f.serveExchange(w, r, ex)
}

// serveExchange runs one inspected exchange through goproxy (onRequest,
// roundTrip, onResponse) within a concurrency slot and the exchange
// timeout. A response that could not be finished (the destination reset,
// a body that failed redaction) aborts the client's connection, as
// httputil.ReverseProxy does, so the client never takes a cut body for a
// whole one.
func (f *Forward) serveExchange(w http.ResponseWriter, r *http.Request, ex *fwdExchange) {
	if !f.acquire(r.Context()) {
		w.Header().Set("Retry-After", "1")
		f.reply(w, ex, &httpError{Status: http.StatusServiceUnavailable, Code: "overloaded", Msg: "too many exchanges in flight (max_concurrent_exchanges); retry later"})
		return
	}
	defer func() { <-f.slots }()
	ctx, cancel := context.WithTimeout(r.Context(), f.cfg.ExchangeTimeout)
	defer cancel()
	ex.ctx = ctx
	f.gp.ServeHTTP(w, r.WithContext(context.WithValue(ctx, fwdExchangeKey{}, ex)))
	if ex.aborted.Load() {
		panic(http.ErrAbortHandler)
	}
}

// acquire takes an exchange slot, waiting up to queue_timeout.
func (f *Forward) acquire(ctx context.Context) bool {
	select {
	case f.slots <- struct{}{}:
		return true
	default:
	}
	t := time.NewTimer(f.cfg.QueueTimeout)
	defer t.Stop()
	select {
	case f.slots <- struct{}{}:
		return true
	case <-t.C:
	case <-ctx.Done():
	}
	return false
}

// reply answers with flowmask's own error and records the exchange.
func (f *Forward) reply(w http.ResponseWriter, ex *fwdExchange, he *httpError) {
	he = f.maskedError(he)
	ex.rec.Status, ex.rec.Reason, ex.rec.Message = he.Status, he.Code, he.Msg
	writeError(w, he)
	f.finish(ex)
}

// serveConnect handles CONNECT host:port.
func (f *Forward) serveConnect(w http.ResponseWriter, r *http.Request, user string, start time.Time) {
	hp, err := normHostPort(r.Host)
	kind := "tunnel"
	if err == nil && f.intercept[hp] {
		kind = "https"
	}
	ex := f.newExchange(r, kind, user, start)
	ex.rec.URL, ex.rec.Host = hp, hp
	switch {
	case err != nil:
		ex.rec.URL = ""
		f.reply(w, ex, &httpError{Status: http.StatusBadRequest, Code: "bad_destination", Msg: "CONNECT needs host:port"})
		return
	case !f.policy.permitted(hp):
		f.reply(w, ex, destRefusal(&destError{code: "destination_not_allowed", msg: "destination " + hp + " is not in the allow list"}))
		return
	case kind == "tunnel" && (f.redactReq[hp] || f.redactResp[hp]):
		f.reply(w, ex, &httpError{Status: http.StatusForbidden, Code: "not_intercepted", Msg: "bodies of " + hp + " must be redacted, so it must also be intercepted"})
		return
	}
	if kind == "https" {
		if _, _, err := f.checkDest(r.Context(), hp); err != nil {
			f.reply(w, ex, destRefusal(err))
			return
		}
		if f.ca == nil {
			f.reply(w, ex, &httpError{Status: http.StatusInternalServerError, Code: "no_ca", Msg: "interception needs ca_dir"})
			return
		}
		hj, ok := w.(http.Hijacker)
		if !ok {
			f.reply(w, ex, &httpError{Status: http.StatusInternalServerError, Code: "no_hijack", Msg: "this connection cannot carry a tunnel"})
			return
		}
		conn, brw, err := hj.Hijack()
		if err != nil {
			return
		}
		go f.terminateTunnel(conn, brw.Reader, &connectInfo{host: hp, user: user, client: r.RemoteAddr})
		return
	}
	up, err := f.dialDest(r.Context(), "tcp", hp)
	if err != nil {
		f.reply(w, ex, destRefusal(err))
		return
	}
	hj, ok := w.(http.Hijacker)
	if !ok {
		up.Close()
		f.reply(w, ex, &httpError{Status: http.StatusInternalServerError, Code: "no_hijack", Msg: "this connection cannot carry a tunnel"})
		return
	}
	conn, brw, err := hj.Hijack()
	if err != nil {
		up.Close()
		return
	}
	conn.SetDeadline(time.Time{}) //nolint:errcheck
	var clientR io.Reader = conn
	if n := brw.Reader.Buffered(); n > 0 {
		b, _ := brw.Reader.Peek(n)
		clientR = io.MultiReader(bytes.NewReader(append([]byte(nil), b...)), conn)
	}
	if _, err := io.WriteString(conn, "HTTP/1.1 200 Connection established\r\n\r\n"); err != nil {
		conn.Close()
		up.Close()
		return
	}
	ex.rec.Status = http.StatusOK
	go func() {
		upN, downN := splice(conn, clientR, up)
		ex.rec.Tunnel = &TunnelRecord{BytesUp: upN, BytesDown: downN}
		f.finish(ex)
	}()
}

// splice copies both ways until both directions are done, half-closing
// each side as its peer finishes, and returns the byte counts.
func splice(client net.Conn, clientR io.Reader, up net.Conn) (upN, downN int64) {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var err error
		upN, err = io.Copy(up, clientR)
		if cw, ok := up.(interface{ CloseWrite() error }); ok && err == nil {
			cw.CloseWrite() //nolint:errcheck
		} else {
			up.Close()
			client.Close()
		}
	}()
	var err error
	downN, err = io.Copy(client, up)
	if cw, ok := client.(interface{ CloseWrite() error }); ok && err == nil {
		cw.CloseWrite() //nolint:errcheck
	} else {
		up.Close()
		client.Close()
	}
	wg.Wait()
	client.Close()
	up.Close()
	return upN, downN
}

// destRefusal maps a policy or dial error to the client's answer.
func destRefusal(err error) *httpError {
	var de *destError
	if errors.As(err, &de) {
		st := http.StatusForbidden
		if de.code == "resolve_failed" {
			st = http.StatusBadGateway
		}
		return &httpError{Status: st, Code: de.code, Msg: de.msg, Err: err}
	}
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout() {
		return &httpError{Status: http.StatusGatewayTimeout, Code: "upstream_timeout", Msg: "the destination did not answer in time", Err: err}
	}
	return &httpError{Status: http.StatusBadGateway, Code: "upstream_error", Msg: "the destination could not be reached or failed mid-response", Err: err}
}

// handleConnect is goproxy's CONNECT handler. Forward terminates CONNECT
// itself (serveConnect, intercept), so goproxy never gets one; should it,
// it is refused, so goproxy's defaults (a blind tunnel, or its own MITM
// loop without our bounds) can never happen.
func (f *Forward) handleConnect(host string, _ *goproxy.ProxyCtx) (*goproxy.ConnectAction, string) {
	return &goproxy.ConnectAction{Action: goproxy.ConnectReject}, host
}

// urlHostPort is the destination of an absolute URL as host:port.
func urlHostPort(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = "80"
		if u.Scheme == "https" {
			port = "443"
		}
	}
	hp, err := normHostPort(net.JoinHostPort(u.Hostname(), port))
	if err != nil {
		return ""
	}
	return hp
}

// onRequest is goproxy's request handler for plain HTTP and for requests
// inside an intercepted tunnel: policy, WebSocket, hop-by-hop headers,
// request body.
func (f *Forward) onRequest(req *http.Request, ctx *goproxy.ProxyCtx) (*http.Request, *http.Response) {
	ex, _ := req.Context().Value(fwdExchangeKey{}).(*fwdExchange)
	if ex == nil {
		ci, _ := ctx.UserData.(*connectInfo)
		ex = f.newExchange(req, "https", "", time.Now())
		if ci == nil {
			ex.connect = &connectInfo{}
		} else {
			ex.connect = ci
			ex.rec.User, ex.rec.Client = ci.user, ci.client
		}
	}
	ctx.UserData = ex
	ctx.RoundTripper = goproxy.RoundTripperFunc(f.roundTrip)
	red := f.red.Load()
	ex.rec.URL = recordURL(req.URL, red)
	hp := urlHostPort(req.URL)
	ex.rec.Host = hp
	if ex.connect != nil && hp != ex.connect.host {
		return f.refuse(req, ex, &httpError{Status: http.StatusMisdirectedRequest, Code: "misdirected", Msg: "the request's host differs from the CONNECT target"})
	}
	if hp == "" || !f.policy.permitted(hp) {
		return f.refuse(req, ex, destRefusal(&destError{code: "destination_not_allowed", msg: "destination " + hp + " is not in the allow list"}))
	}
	ex.redactReq, ex.redactRes = f.redactReq[hp], f.redactResp[hp]
	ex.rec.Mode = modeName(ex.redactReq, ex.redactRes)
	if headerHasToken(req.Header, "Connection", "upgrade") && req.Header.Get("Upgrade") != "" {
		if !strings.EqualFold(req.Header.Get("Upgrade"), "websocket") || !f.wsOK[hp] {
			return f.refuse(req, ex, &httpError{Status: http.StatusForbidden, Code: "upgrade_refused", Msg: "protocol upgrades (WebSocket) on inspected hosts are refused: their frames would bypass redaction; list the host in allow_websocket to let them through unredacted"})
		}
		ex.rec.WebSocket = true
	}
	removeHopByHop(req.Header, ex.rec.WebSocket)
	if ex.redactRes {
		// Ask for identity so there is nothing to decode.
		req.Header.Del("Accept-Encoding")
	}
	ex.rec.Request = &BodyRecord{Headers: recordHeaders(req.Header, red, f.fold.Load())}
	if req.Body != nil && req.Body != http.NoBody {
		limit := int(f.cfg.RecordBodyLimit)
		if ex.redactReq {
			rb, st, he := redactRequestBody(req, red, int64(f.cfg.MaxBodyBytes), limit, f.bodyLimits(0), ex.rec.Request)
			if he != nil {
				return f.refuse(req, ex, he)
			}
			ex.stats.Add(st)
			if rb != nil {
				br := ex.rec.Request
				rb.onDone = func() {
					br.Bytes, br.Redacted = rb.wire.n, true
					if he := rb.failure(); he != nil {
						br.Omitted = "not passed on whole: " + he.Msg
					} else {
						br.Body, br.Truncated = string(rb.cap.buf), rb.cap.truncated()
					}
					ex.reqStats = rb.stats
				}
				ex.reqBody = rb
			}
		} else {
			ex.reqTap = newTap(req.Body, req.Header, req.TransferEncoding, red, limit, f.bodyLimits(tapHold))
			req.Body = ex.reqTap
		}
	}
	return req, nil
}

func modeName(req, res bool) string {
	switch {
	case req && res:
		return "redact-requests+redact-responses"
	case req:
		return "redact-requests"
	case res:
		return "redact-responses"
	}
	return "record"
}

// refuse answers a request with flowmask's own error instead of sending it.
func (f *Forward) refuse(req *http.Request, ex *fwdExchange, he *httpError) (*http.Request, *http.Response) {
	he = f.maskedError(he)
	ex.synthetic = true
	ex.rec.Reason, ex.rec.Message = he.Code, he.Msg
	return req, errorResponse(req, he)
}

// maskedError is he with its message through the redactor: a refusal may
// quote what the client or destination sent (a media type, a charset).
func (f *Forward) maskedError(he *httpError) *httpError {
	msg := maskText(f.red.Load(), he.Msg)
	if msg == he.Msg {
		return he
	}
	c := *he
	c.Msg = msg
	return &c
}

// maskText is s through the redactor as text ("" stays "").
func maskText(red *redactor.Redactor, s string) string {
	if s == "" || red == nil {
		return s
	}
	out, st := red.Append(nil, []byte(s), redactor.FormatText)
	if st.Redactions == 0 {
		return s
	}
	return string(out)
}

// errorResponse is writeError as an *http.Response.
func errorResponse(req *http.Request, he *httpError) *http.Response {
	var e struct {
		Error struct {
			Status  int    `json:"status"`
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	e.Error.Status, e.Error.Code, e.Error.Message = he.Status, he.Code, he.Msg
	body, _ := json.Marshal(e)
	body = append(body, '\n')
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("X-Content-Type-Options", "nosniff")
	return &http.Response{
		Status: strconv.Itoa(he.Status) + " " + http.StatusText(he.Status), StatusCode: he.Status,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: h, Body: io.NopCloser(bytes.NewReader(body)), ContentLength: int64(len(body)), Request: req,
		// Inside an intercepted tunnel an unread request body would be
		// parsed as the next request: end the connection instead.
		Close: true,
	}
}

// roundTrip sends the request through the policy-checked transport. It
// never returns an error: failures become flowmask's own 403/502/504, whose
// text holds no URL.
func (f *Forward) roundTrip(req *http.Request, ctx *goproxy.ProxyCtx) (*http.Response, error) {
	ex, _ := ctx.UserData.(*fwdExchange)
	start := time.Now()
	resp, err := f.transport.RoundTrip(req)
	if ex == nil {
		ex = &fwdExchange{}
		ctx.UserData = ex
	}
	ex.rec.UpstreamLatencyMS = ms(time.Since(start))
	if rb := ex.reqBody; rb != nil {
		// The destination has answered (or failed): the streamed request
		// body's fate is known. One that failed part-way was aborted on the
		// destination's side and must not become its answer for the client.
		rb.Close()
		if he := rb.failure(); he != nil {
			if resp != nil {
				resp.Body.Close()
			}
			_, resp = f.refuse(req, ex, he)
			return resp, nil
		}
	}
	if err != nil {
		he := destRefusal(err)
		if errors.Is(req.Context().Err(), context.Canceled) {
			he = &httpError{Status: StatusClientClosed, Code: "client_closed", Msg: "the client went away", Err: err}
		}
		if ce := f.logger.Check(zapcore.DebugLevel, "destination failed"); ce != nil {
			ce.Write(zap.String("host", recordName(ex.rec.Host, f.red.Load(), f.fold.Load())), zapErrCode(he.Code), zapErrMsg(err))
		}
		_, resp = f.refuse(req, ex, he)
	}
	return resp, nil
}

// onResponse is goproxy's response handler: it records, and redacts the
// body of a redact-responses host.
func (f *Forward) onResponse(resp *http.Response, ctx *goproxy.ProxyCtx) *http.Response {
	ex, _ := ctx.UserData.(*fwdExchange)
	if ex == nil {
		// Not ours (cannot happen): refuse rather than pass anything.
		if resp != nil && resp.Body != nil {
			resp.Body.Close()
		}
		return errorResponse(ctx.Req, &httpError{Status: http.StatusBadGateway, Code: "internal", Msg: "unexpected response"})
	}
	if resp == nil {
		_, resp = f.refuse(ctx.Req, ex, &httpError{Status: http.StatusBadGateway, Code: "upstream_error", Msg: "the destination could not be reached or failed mid-response"})
	}
	ex.rec.Status = resp.StatusCode
	if ex.synthetic {
		f.finish(ex)
		return resp
	}
	ex.rec.UpstreamStatus = resp.StatusCode
	red := f.red.Load()
	if resp.StatusCode == http.StatusSwitchingProtocols && !ex.rec.WebSocket {
		// A switch the client did not ask for (or was refused) would carry
		// unscanned bytes both ways.
		if resp.Body != nil {
			resp.Body.Close()
		}
		_, r := f.refuse(ctx.Req, ex, &httpError{Status: http.StatusBadGateway, Code: "unexpected_upgrade", Msg: "the destination switched protocols unasked; refused"})
		ex.rec.Status = http.StatusBadGateway
		f.finish(ex)
		return r
	}
	if resp.StatusCode == http.StatusSwitchingProtocols {
		ex.rec.Response = &BodyRecord{Headers: recordHeaders(resp.Header, red, f.fold.Load()), Omitted: "websocket"}
		f.finish(ex)
		return resp
	}
	removeHopByHop(resp.Header, false)
	br := &BodyRecord{Headers: recordHeaders(resp.Header, red, f.fold.Load())}
	ex.rec.Response = br
	if resp.Body == nil || resp.Body == http.NoBody || resp.StatusCode == http.StatusNoContent ||
		resp.StatusCode == http.StatusNotModified || ctx.Req.Method == http.MethodHead {
		f.finish(ex)
		return resp
	}
	resp.Body = &upstreamBody{ReadCloser: resp.Body, ex: ex}
	limit := int(f.cfg.RecordBodyLimit)
	if !ex.redactRes {
		tap := newTap(resp.Body, resp.Header, resp.TransferEncoding, red, limit, f.bodyLimits(tapHold))
		tap.onDone = func() {
			tap.record(br)
			ex.stats.Add(tap.stats)
			f.finish(ex)
		}
		resp.Body = tap
		return resp
	}
	fail := func(he *httpError) *http.Response {
		resp.Body.Close()
		ex.rec.Response.Omitted = "unscannable"
		_, r := f.refuse(ctx.Req, ex, he)
		ex.rec.Status = he.Status
		f.finish(ex)
		return r
	}
	cls, err := httpbody.Classify(resp.Header, resp.TransferEncoding)
	if err == nil && !cls.Scannable {
		err = &httpError{Status: http.StatusBadGateway, Code: "unscannable_response", Msg: "the response (" + strconv.Quote(cls.MediaType) + ") must be redacted and cannot be scanned, so it was not passed on"}
	}
	if err != nil {
		if resp.StatusCode >= 400 {
			// Keep the destination's error status; drop the body.
			br.Omitted = "not scanned, dropped: " + classify(fromBody(err)).Msg
			dropBody(resp)
			f.finish(ex)
			return resp
		}
		he := classify(fromBody(err))
		return fail(&httpError{Status: http.StatusBadGateway, Code: "unscannable_response", Msg: he.Msg + " (the response was not passed on)"})
	}
	rb := newRedactBody(resp.Body, cls, red, limit, f.bodyLimits(64<<10))
	br.Encoding = cls.CodingNames()
	rb.onFail = func() { ex.aborted.Store(true) }
	rb.onDone = func() {
		br.Bytes, br.Redacted = rb.wire.n, true
		br.Body, br.Truncated = string(rb.cap.buf), rb.cap.truncated()
		ex.stats.Add(rb.stats)
		if rb.err != nil {
			if ex.rec.Reason == "" {
				he := classify(rb.err)
				ex.rec.Reason, ex.rec.Message = he.Code, he.Msg
			}
			ex.rec.Status = 0
			ex.aborted.Store(true)
		}
		f.finish(ex)
	}
	resp.Body = rb
	resp.ContentLength = -1
	resp.Header.Del("Content-Length")
	resp.Header.Del("Content-Encoding")
	return resp
}

// finish writes the exchange's record and metrics, once.
func (f *Forward) finish(ex *fwdExchange) {
	ex.once.Do(func() {
		if ex.reqBody != nil {
			ex.reqBody.Close()
			ex.stats.Add(ex.reqStats)
		}
		if ex.reqTap != nil {
			ex.reqTap.finish()
			ex.reqTap.record(ex.rec.Request)
			ex.stats.Add(ex.reqTap.stats)
		}
		// Records are not redacted again as a whole: the texts that can
		// quote a header (a refusal's message, why a body was not
		// scanned) go through the redactor here.
		red, fold := f.red.Load(), f.fold.Load()
		ex.rec.Message = recordName(ex.rec.Message, red, fold)
		// Host, method and user are echoed from the client: a secret
		// there, in any case, is masked too.
		ex.rec.Host = recordName(ex.rec.Host, red, fold)
		ex.rec.Method = recordName(ex.rec.Method, red, fold)
		ex.rec.User = recordName(ex.rec.User, red, fold)
		for _, b := range []*BodyRecord{ex.rec.Request, ex.rec.Response} {
			if b != nil {
				b.Omitted = maskText(red, b.Omitted)
				b.Encoding = recordName(b.Encoding, red, fold)
			}
		}
		d := time.Since(ex.start)
		ex.rec.DurationMS = ms(d)
		ex.rec.Redactions = ex.stats.Redactions
		ex.rec.Rules = ex.stats.ByRule
		if err := f.records.write(&ex.rec); err != nil {
			f.logger.Error("audit write failed", zap.Error(err))
		}
		m := &audit.Record{Route: ex.rec.Kind, Status: ex.rec.Status, Duration: d, ByRule: ex.stats.ByRule, Reason: ex.rec.Reason,
			UpstreamLatency: time.Duration(ex.rec.UpstreamLatencyMS * float64(time.Millisecond))}
		if b := ex.rec.Request; b != nil {
			m.BytesIn = b.Bytes
		}
		if b := ex.rec.Response; b != nil {
			m.ResponseBytes = b.Bytes
		}
		if t := ex.rec.Tunnel; t != nil {
			m.BytesIn, m.ResponseBytes = t.BytesUp, t.BytesDown
		}
		f.metrics.Observe(m)
	})
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// hopHeaders are removed before forwarding, in both directions (RFC 9110
// 7.6.1), as in net/http/httputil.
var hopHeaders = []string{
	"Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization",
	"Te", "Trailer", "Transfer-Encoding", "Upgrade",
}

// removeHopByHop deletes hop-by-hop headers and those the Connection
// header names. keepUpgrade keeps an allowed WebSocket handshake intact.
func removeHopByHop(h http.Header, keepUpgrade bool) {
	for _, v := range h["Connection"] {
		for _, tok := range strings.Split(v, ",") {
			if tok = textproto.TrimString(tok); tok != "" && !(keepUpgrade && strings.EqualFold(tok, "upgrade")) {
				h.Del(tok)
			}
		}
	}
	te := h.Values("Te")
	for _, k := range hopHeaders {
		h.Del(k)
	}
	for _, v := range te {
		if strings.EqualFold(strings.TrimSpace(v), "trailers") {
			h.Set("Te", "trailers")
		}
	}
	if keepUpgrade {
		h.Set("Connection", "Upgrade")
		h.Set("Upgrade", "websocket")
	}
}

func headerHasToken(h http.Header, name, tok string) bool {
	for _, v := range h.Values(name) {
		for _, t := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), tok) {
				return true
			}
		}
	}
	return false
}

// sortedHosts lists a host set, for logs.
func sortedHosts(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
