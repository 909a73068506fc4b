package forward

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap/zapcore"
)

// tlsHandshakeRecord is the first byte of a TLS ClientHello.
const tlsHandshakeRecord = 0x16

// terminateTunnel terminates an intercepted CONNECT tunnel: it answers 200,
// then speaks TLS with a leaf of our CA when the client starts TLS, or
// takes the bytes as cleartext HTTP otherwise, and hands the connection
// to f.tunnels. Either way every request on it is an exchange of its own,
// checked, scanned and recorded like a plain-HTTP one. The tunnel lives
// at most connection_timeout; the handshake gets read_header_timeout.
func (f *Forward) terminateTunnel(raw net.Conn, buffered *bufio.Reader, ci *connectInfo) {
	bc := &boundedConn{Conn: raw, hard: time.Now().Add(f.cfg.ConnectionTimeout)}
	var r io.Reader = raw
	if n := buffered.Buffered(); n > 0 {
		b, _ := buffered.Peek(n)
		r = io.MultiReader(bytes.NewReader(append([]byte(nil), b...)), raw)
	}
	br := bufio.NewReader(r)
	pc := &peekedConn{boundedConn: bc, r: br}
	bc.SetDeadline(time.Now().Add(f.cfg.ReadHeaderTimeout)) //nolint:errcheck
	if _, err := io.WriteString(raw, "HTTP/1.1 200 Connection established\r\n\r\n"); err != nil {
		raw.Close()
		return
	}
	first, err := br.Peek(1)
	if err != nil {
		raw.Close()
		return
	}
	tc := &tunnelConn{Conn: pc, info: ci}
	if first[0] == tlsHandshakeRecord {
		cfg, err := f.ca.TLSConfig(ci.host, nil)
		if err != nil {
			f.logger.Warn("interception certificate failed", zapErrMsg(err))
			raw.Close()
			return
		}
		ts := tls.Server(pc, cfg)
		if err := ts.Handshake(); err != nil {
			if ce := f.logger.Check(zapcore.DebugLevel, "client TLS handshake failed"); ce != nil {
				ce.Write(zapErrMsg(err))
			}
			ts.Close()
			return
		}
		tc.Conn, tc.tls = ts, true
	}
	bc.SetDeadline(time.Time{}) //nolint:errcheck // the server sets its own; the hard limit stays
	if !f.tunnelConns.push(tc) {
		tc.Close()
	}
}

// serveTunnelled is f.tunnels' handler: one request read from inside an
// intercepted tunnel. The URL is made absolute for the tunnel's host (a
// Host without a port means the tunnel's port); onRequest refuses any
// other host with 421.
func (f *Forward) serveTunnelled(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	tc, _ := r.Context().Value(fwdConnectKey{}).(*tunnelConn)
	if tc == nil {
		panic(http.ErrAbortHandler) // cannot happen: every conn is a tunnelConn
	}
	ci := tc.info
	ex := f.newExchange(r, "https", ci.user, start)
	ex.connect = ci
	ex.rec.Client = ci.client
	r.Header.Del("Proxy-Authorization")
	if r.Method == http.MethodConnect {
		ex.rec.URL, ex.rec.Host = f.red.Load().String(r.Host), ci.host
		f.reply(w, ex, &httpError{Status: http.StatusMethodNotAllowed, Code: "connect_in_tunnel", Msg: "CONNECT inside a tunnel is not served"})
		return
	}
	scheme := "http"
	if tc.tls {
		scheme = "https"
	}
	host := r.Host
	if r.URL.IsAbs() {
		host = r.URL.Host
	}
	if host == "" {
		host = ci.host
	}
	if _, _, err := net.SplitHostPort(host); err != nil {
		_, port, _ := net.SplitHostPort(ci.host)
		host = net.JoinHostPort(strings.Trim(host, "[]"), port)
	}
	r.URL.Scheme, r.URL.Host = scheme, host
	f.serveExchange(w, r, ex)
}

// tunnelConn is a connection inside an intercepted tunnel, after the TLS
// handshake if there was one.
type tunnelConn struct {
	net.Conn
	info *connectInfo
	tls  bool
}

// peekedConn reads through the reader that peeked at the first byte.
type peekedConn struct {
	*boundedConn
	r *bufio.Reader
}

func (c *peekedConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// boundedConn never lets a deadline go past hard: the tunnel's whole life
// is bounded whatever the server above sets.
type boundedConn struct {
	net.Conn
	hard time.Time
}

func (c *boundedConn) clamp(t time.Time) time.Time {
	if t.IsZero() || t.After(c.hard) {
		return c.hard
	}
	return t
}

func (c *boundedConn) SetDeadline(t time.Time) error { return c.Conn.SetDeadline(c.clamp(t)) }
func (c *boundedConn) SetReadDeadline(t time.Time) error {
	return c.Conn.SetReadDeadline(c.clamp(t))
}
func (c *boundedConn) SetWriteDeadline(t time.Time) error {
	return c.Conn.SetWriteDeadline(c.clamp(t))
}

// connQueue is a net.Listener whose connections are pushed to it.
type connQueue struct {
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

func newConnQueue() *connQueue {
	return &connQueue{conns: make(chan net.Conn), done: make(chan struct{})}
}

// push hands c to the server; false once the queue is closed.
func (q *connQueue) push(c net.Conn) bool {
	select {
	case q.conns <- c:
		return true
	case <-q.done:
		return false
	}
}

func (q *connQueue) Accept() (net.Conn, error) {
	select {
	case c := <-q.conns:
		return c, nil
	case <-q.done:
		return nil, net.ErrClosed
	}
}

func (q *connQueue) Close() error {
	q.once.Do(func() { close(q.done) })
	return nil
}

func (q *connQueue) Addr() net.Addr { return tunnelAddr{} }

type tunnelAddr struct{}

func (tunnelAddr) Network() string { return "tunnel" }
func (tunnelAddr) String() string  { return "intercepted-tunnels" }

// upstreamBody is the destination's response body. When it ends in an
// error (a reset, a cut connection, the exchange timeout) rather than
// EOF, it marks the exchange failed before the tap or the redactor sees
// the error: the record says so and the client's response is aborted.
type upstreamBody struct {
	io.ReadCloser
	ex *fwdExchange
}

func (b *upstreamBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && err != io.EOF {
		b.fail()
	}
	return n, err
}

func (b *upstreamBody) fail() {
	ex := b.ex
	if ex.aborted.Swap(true) {
		return
	}
	code, msg := "upstream_aborted", "the destination's response ended in an error part-way; the client's response was aborted"
	if ex.ctx != nil {
		switch {
		case errors.Is(ex.ctx.Err(), context.DeadlineExceeded):
			code, msg = "exchange_timeout", "the exchange exceeded exchange_timeout; the client's response was aborted"
		case ex.ctx.Err() != nil:
			code, msg = "client_closed", "the client went away"
		}
	}
	ex.rec.Reason, ex.rec.Message, ex.rec.Status = code, msg, 0
}
