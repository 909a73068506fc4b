package proxy

import (
	"bufio"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/flowmask/flowmask/redactor"
)

// WebSocket relay for routes with websocket: redact. flowmask completes
// the upgrade with the upstream itself (without compression extensions, so
// every frame is plain), then relays frame by frame: each text message is
// reassembled (up to limits.max_document), redacted and sent as one frame;
// binary messages close the connection (1003) unless websocket_binary:
// pass; a close frame's reason is redacted. Messages from the client are
// always redacted, messages from the upstream under redact: response or
// both.

// WebSocket route settings.
const (
	WebSocketRefuse = "refuse"
	WebSocketRedact = "redact"
	BinaryRefuse    = "refuse"
	BinaryPass      = "pass"
)

var errWSUpstream = &httpError{Status: http.StatusBadGateway, Code: "upstream_error", Msg: "the upstream did not accept the WebSocket upgrade"}

// isWebSocket reports whether the upgrade asked for is WebSocket.
func isWebSocket(r *http.Request) bool {
	for _, v := range r.Header.Values("Upgrade") {
		if !strings.EqualFold(strings.TrimSpace(v), "websocket") {
			return false
		}
	}
	return len(r.Header.Values("Upgrade")) == 1 && r.Method == http.MethodGet && r.ProtoAtLeast(1, 1) && !r.ProtoAtLeast(2, 0)
}

// serveWebSocket upgrades with the upstream, then with the client, and
// relays redacted frames until either side closes.
func (s *Server) serveWebSocket(w http.ResponseWriter, r *http.Request, rt *route, ex *exchange) {
	out := r.Clone(r.Context())
	out.URL.Scheme, out.URL.Host = rt.target.Scheme, rt.target.Host
	out.URL.Path = singleJoin(rt.target.Path, r.URL.Path)
	out.URL.RawPath = ""
	out.Host = ""
	out.RequestURI = ""
	out.Body = http.NoBody
	out.ContentLength = 0
	for _, h := range []string{"Sec-Websocket-Extensions", "Te", "Trailer", "Transfer-Encoding", "Keep-Alive", "Proxy-Connection"} {
		out.Header.Del(h)
	}
	out.Header.Set("Connection", "Upgrade")
	out.Header.Set("Upgrade", "websocket")
	if h := r.Host; h != "" {
		out.Header.Set("X-Forwarded-Host", ex.red.String(h))
	}
	resp, err := rt.transport.RoundTrip(out)
	if err != nil {
		s.reject(w, ex, upstreamError(r, err))
		return
	}
	ex.rec.UpstreamStatus = resp.StatusCode
	up, ok := resp.Body.(io.ReadWriteCloser)
	if resp.StatusCode != http.StatusSwitchingProtocols || !ok || resp.Header.Get("Sec-Websocket-Extensions") != "" {
		resp.Body.Close()
		s.reject(w, ex, errWSUpstream)
		return
	}
	defer up.Close()
	conn, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		s.reject(w, ex, errWSUpstream)
		return
	}
	defer conn.Close()
	maskHeaders(ex.red, resp.Header)
	brw.WriteString("HTTP/1.1 101 Switching Protocols\r\n") //nolint:errcheck // the flush reports it
	resp.Header.Write(brw)                                  //nolint:errcheck
	brw.WriteString("\r\n")                                 //nolint:errcheck
	if err := brw.Flush(); err != nil {
		return
	}
	if sw, ok := w.(*statusWriter); ok {
		sw.status = http.StatusSwitchingProtocols
	}
	conn.SetDeadline(time.Time{}) //nolint:errcheck // a WebSocket lives longer than one request
	max := int(rt.cfg.Limits.MaxDocument)
	pass := rt.cfg.WebSocketBinary == BinaryPass
	// Both directions may write to either connection (a refusal goes to
	// both sides).
	toClient, toUp := &lockedWriter{w: conn}, &lockedWriter{w: up}
	errc := make(chan error, 2)
	go func() {
		errc <- relayFrames(brw.Reader, toUp, toClient, ex.red, true, max, pass, ex)
	}()
	go func() {
		red := ex.red
		if !rt.redactResp {
			red = nil
		}
		errc <- relayFrames(bufio.NewReader(up), toClient, toUp, red, false, max, pass, ex)
	}()
	// When one direction ends, both connections close and the other
	// direction ends too.
	<-errc
	conn.Close()
	up.Close()
	<-errc
}

func singleJoin(a, b string) string {
	switch {
	case strings.HasSuffix(a, "/") && strings.HasPrefix(b, "/"):
		return a + b[1:]
	case !strings.HasSuffix(a, "/") && !strings.HasPrefix(b, "/") && a != "" && b != "":
		return a + "/" + b
	}
	return a + b
}

// WebSocket opcodes and close codes.
const (
	opCont   = 0x0
	opText   = 0x1
	opBinary = 0x2
	opClose  = 0x8

	closeProtocol    = 1002
	closeUnsupported = 1003
	closeInvalidData = 1007
	closeTooBig      = 1009
)

var errWSClosed = errors.New("websocket closed")

// relayFrames copies messages from src to dst. fromClient says src frames
// are masked (and dst frames must be); red nil passes text unchanged.
//
// A refusal (a binary message, a message too large, a protocol error) is
// sent as a close frame to both sides: dst and back, src's own connection.
func relayFrames(src *bufio.Reader, dst, back io.Writer, red *redactor.Redactor, fromClient bool, max int, passBinary bool, ex *exchange) error {
	refuse := func(code int, reason string, err error) error {
		p := closePayload(code, reason)
		writeFrame(dst, true, opClose, p, fromClient)   //nolint:errcheck // the connection ends anyway
		writeFrame(back, true, opClose, p, !fromClient) //nolint:errcheck
		return err
	}
	var msg []byte
	msgOp := -1
	for {
		fin, op, payload, err := readFrame(src, fromClient, max)
		if err != nil {
			if errors.Is(err, errFrameTooBig) {
				return refuse(closeTooBig, "message too large", err)
			} else if errors.Is(err, errFrameProtocol) {
				return refuse(closeProtocol, "protocol error", err)
			}
			return err
		}
		switch {
		case op >= 0x8: // control frames, never fragmented
			if op == opClose && len(payload) > 2 && red != nil {
				reason := red.String(string(payload[2:]))
				payload = append(payload[:2:2], reason...)
				if len(payload) > 125 {
					payload = payload[:125]
				}
			}
			if err := writeFrame(dst, true, op, payload, fromClient); err != nil {
				return err
			}
			if op == opClose {
				return errWSClosed
			}
			continue
		case op == opCont && msgOp < 0, op != opCont && msgOp >= 0:
			return refuse(closeProtocol, "protocol error", errFrameProtocol)
		case op == opText || op == opBinary:
			msgOp = op
		}
		if msgOp == opBinary && !passBinary {
			// Binary data cannot be scanned: nothing of it is forwarded.
			return refuse(closeUnsupported, "binary messages are not scanned", errWSClosed)
		}
		if msgOp == opBinary {
			if err := writeFrame(dst, fin, op, payload, fromClient); err != nil {
				return err
			}
		} else {
			if len(msg)+len(payload) > max {
				return refuse(closeTooBig, "message too large", errFrameTooBig)
			}
			msg = append(msg, payload...)
			if fin {
				if !utf8.Valid(msg) {
					return refuse(closeInvalidData, "invalid UTF-8", errFrameProtocol)
				}
				out := msg
				if red != nil {
					var st redactor.Stats
					out, st = red.Append(nil, msg, redactor.FormatAuto)
					if fromClient {
						ex.mu.Lock()
						ex.reqStats.Add(st)
						ex.mu.Unlock()
					} else {
						ex.addRespStats(st)
					}
				}
				if err := writeFrame(dst, true, opText, out, fromClient); err != nil {
					return err
				}
				msg = msg[:0]
			}
		}
		if fin {
			msgOp = -1
		}
	}
}

var (
	errFrameTooBig   = errors.New("websocket frame too large")
	errFrameProtocol = errors.New("websocket protocol error")
)

// readFrame reads one frame; masked says the frame must be masked (from a
// client) or must not be (from a server).
func readFrame(r *bufio.Reader, masked bool, max int) (fin bool, op int, payload []byte, err error) {
	var h [2]byte
	if _, err = io.ReadFull(r, h[:]); err != nil {
		return
	}
	fin, op = h[0]&0x80 != 0, int(h[0]&0x0f)
	if h[0]&0x70 != 0 || (h[1]&0x80 != 0) != masked || op > 0xA || (op > 2 && op < 8) {
		return false, 0, nil, errFrameProtocol // extensions, masking or opcodes we do not speak
	}
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		var b [2]byte
		if _, err = io.ReadFull(r, b[:]); err != nil {
			return
		}
		n = uint64(binary.BigEndian.Uint16(b[:]))
	case 127:
		var b [8]byte
		if _, err = io.ReadFull(r, b[:]); err != nil {
			return
		}
		n = binary.BigEndian.Uint64(b[:])
	}
	if op >= 8 && (n > 125 || !fin) {
		return false, 0, nil, errFrameProtocol
	}
	if n > uint64(max) {
		return false, 0, nil, errFrameTooBig
	}
	var key [4]byte
	if masked {
		if _, err = io.ReadFull(r, key[:]); err != nil {
			return
		}
	}
	payload = make([]byte, n)
	if _, err = io.ReadFull(r, payload); err != nil {
		return
	}
	if masked {
		for i := range payload {
			payload[i] ^= key[i&3]
		}
	}
	return fin, op, payload, nil
}

// writeFrame writes one frame, masked with a random key when mask is set.
func writeFrame(w io.Writer, fin bool, op int, payload []byte, mask bool) error {
	hdr := make([]byte, 0, 14+len(payload))
	b0 := byte(op)
	if fin {
		b0 |= 0x80
	}
	hdr = append(hdr, b0)
	var mbit byte
	if mask {
		mbit = 0x80
	}
	switch n := len(payload); {
	case n < 126:
		hdr = append(hdr, mbit|byte(n))
	case n <= 0xffff:
		hdr = append(hdr, mbit|126, byte(n>>8), byte(n))
	default:
		hdr = append(hdr, mbit|127)
		hdr = binary.BigEndian.AppendUint64(hdr, uint64(n))
	}
	if mask {
		var key [4]byte
		rand.Read(key[:]) //nolint:errcheck // never fails
		hdr = append(hdr, key[:]...)
		start := len(hdr)
		hdr = append(hdr, payload...)
		for i := start; i < len(hdr); i++ {
			hdr[i] ^= key[(i-start)&3]
		}
	} else {
		hdr = append(hdr, payload...)
	}
	_, err := w.Write(hdr)
	return err
}

// lockedWriter serialises whole frames written by the two relay directions.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func closePayload(code int, reason string) []byte {
	return append([]byte{byte(code >> 8), byte(code)}, reason...)
}
