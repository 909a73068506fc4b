package proxy

import (
	"context"
	"errors"
	"log"
	"net"
	"net/http"

	"github.com/flowmask/flowmask/proxy/internal/refusal"
	"github.com/flowmask/flowmask/proxy/internal/zaplog"
	"github.com/flowmask/flowmask/proxy/sink"
	"go.uber.org/zap"
)

// StatusClientClosed is the status audited when the client went away
// before the response (nginx's 499). It is never sent.
const StatusClientClosed = refusal.StatusClientClosed

// httpError is a refusal with its status and a message safe to show: it
// never holds body bytes, header values or URLs. The sink profiles return
// the same type, so their refusals pass through unchanged.
type httpError = refusal.Error

var (
	errInvalidJSON     = sink.ErrInvalidJSON
	errNotArray        = &httpError{Status: http.StatusUnprocessableEntity, Code: "not_array", Msg: "the body must be a JSON array"}
	errDecodedTooLarge = &httpError{Status: http.StatusRequestEntityTooLarge, Code: "decoded_too_large", Msg: "the decoded body exceeds limits.max_decoded_bytes"}
	errNoRoute         = &httpError{Status: http.StatusNotFound, Code: "no_route", Msg: "no route matches this request"}
	errUnauthorized    = &httpError{Status: http.StatusUnauthorized, Code: "unauthorized", Msg: "a valid bearer token is required"}
	errBusy            = &httpError{Status: http.StatusServiceUnavailable, Code: "overloaded", Msg: "too many requests in flight; retry later"}
	// errMethodNotImplemented refuses a method that is not a standard HTTP
	// method; errMethodNotAllowed refuses CONNECT and TRACE.
	errMethodNotImplemented = &httpError{Status: http.StatusNotImplemented, Code: "method_not_implemented", Msg: "the request method is not a standard HTTP method"}
	errMethodNotAllowed     = &httpError{Status: http.StatusMethodNotAllowed, Code: "method_not_allowed", Msg: "CONNECT and TRACE are not forwarded"}
	errUpgrade              = &httpError{Status: http.StatusForbidden, Code: "upgrade_refused", Msg: "protocol upgrades (WebSocket, h2c) are not scanned and are refused"}
)

func unsupported(msg string) *httpError { return refusal.Unsupported(msg) }

// clientError wraps an error reading the client's body.
type clientError = refusal.ClientError

// classify maps a body-processing error to the refusal the client gets.
func classify(err error) *httpError { return refusal.Classify(err) }

// upstreamError maps a transport error: a timeout is 504, a client that
// went away is 499 (audited only), anything else is 502.
func upstreamError(r *http.Request, err error) *httpError {
	if he := classifyBodyCause(err); he != nil {
		return he
	}
	if errors.Is(r.Context().Err(), context.Canceled) {
		return &httpError{Status: StatusClientClosed, Code: "client_closed", Msg: "the client went away", Err: err}
	}
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout() {
		return &httpError{Status: http.StatusGatewayTimeout, Code: "upstream_timeout", Msg: "the upstream did not answer in time", Err: err}
	}
	return &httpError{Status: http.StatusBadGateway, Code: "upstream_error", Msg: "the upstream could not be reached or failed mid-response", Err: err}
}

func classifyBodyCause(err error) *httpError {
	var he *httpError
	var ce *clientError
	var mb *http.MaxBytesError
	if errors.As(err, &he) || errors.As(err, &ce) || errors.As(err, &mb) {
		return classify(err)
	}
	return nil
}

// writeError sends e as {"error":{"status":N,"code":"...","message":"..."}}.
func writeError(w http.ResponseWriter, e *httpError) { refusal.Write(w, e) }

func zapRoute(rt *route) zap.Field  { return zap.String("route", rt.cfg.Name) }
func zapErrCode(c string) zap.Field { return zaplog.ErrCode(c) }

// zapErrMsg logs a transport error; the logger's redacting layer masks any
// secret in it (such as a URL with a signature).
func zapErrMsg(err error) zap.Field { return zaplog.ErrMsg(err) }

// mustStdLog adapts the logger for net/http's ErrorLog, at warn level.
func mustStdLog(l *zap.Logger) *log.Logger { return zaplog.StdLog(l) }
