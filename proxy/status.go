package proxy

import (
	"context"
	"encoding/json"
	"errors"
	"log"
	"net"
	"net/http"
	"strconv"

	"go.uber.org/zap"
)

// StatusClientClosed is the status audited when the client went away
// before the response (nginx's 499). It is never sent.
const StatusClientClosed = 499

// httpError is a refusal with its status and a message safe to show: it
// never holds body bytes, header values or URLs.
type httpError struct {
	status int
	code   string // a stable reason, used as the rejections metric label
	msg    string
	err    error // the cause, for errors.Is; never shown
}

func (e *httpError) Error() string { return e.msg }
func (e *httpError) Unwrap() error { return e.err }

var (
	errInvalidJSON      = &httpError{status: http.StatusUnprocessableEntity, code: "invalid_json", msg: "the body is not valid JSON for this sink (set on_invalid_json: text to scan it as text)"}
	errNotArray         = &httpError{status: http.StatusUnprocessableEntity, code: "not_array", msg: "the body must be a JSON array"}
	errDocumentTooLarge = &httpError{status: http.StatusRequestEntityTooLarge, code: "document_too_large", msg: "a line or event exceeds limits.max_document"}
	errDecodedTooLarge  = &httpError{status: http.StatusRequestEntityTooLarge, code: "decoded_too_large", msg: "the decoded body exceeds limits.max_decoded_bytes"}
	errBodyTooLarge     = &httpError{status: http.StatusRequestEntityTooLarge, code: "body_too_large", msg: "the body exceeds limits.max_body_bytes"}
	errNoRoute          = &httpError{status: http.StatusNotFound, code: "no_route", msg: "no route matches this request"}
	errUnauthorized     = &httpError{status: http.StatusUnauthorized, code: "unauthorized", msg: "a valid bearer token is required"}
	errBusy             = &httpError{status: http.StatusServiceUnavailable, code: "overloaded", msg: "too many requests in flight; retry later"}
	// errMethodNotImplemented refuses a method that is not a standard HTTP
	// method; errMethodNotAllowed refuses CONNECT and TRACE.
	errMethodNotImplemented = &httpError{status: http.StatusNotImplemented, code: "method_not_implemented", msg: "the request method is not a standard HTTP method"}
	errMethodNotAllowed     = &httpError{status: http.StatusMethodNotAllowed, code: "method_not_allowed", msg: "CONNECT and TRACE are not forwarded"}
	errUpgrade              = &httpError{status: http.StatusForbidden, code: "upgrade_refused", msg: "protocol upgrades (WebSocket, h2c) are not scanned and are refused"}
)

func unsupported(msg string) *httpError {
	return &httpError{status: http.StatusUnsupportedMediaType, code: "unsupported_media_type", msg: msg}
}

func badEncoding(what string, err error) *httpError {
	return &httpError{status: http.StatusBadRequest, code: "bad_encoding", msg: "the body is not valid " + what + " (truncated or corrupt)", err: err}
}

// clientError wraps an error reading the client's body.
type clientError struct{ err error }

func (e *clientError) Error() string { return "read body: " + e.err.Error() }
func (e *clientError) Unwrap() error { return e.err }

// classify maps a body-processing error to the refusal the client gets.
func classify(err error) *httpError {
	var he *httpError
	if errors.As(err, &he) {
		return he
	}
	var mb *http.MaxBytesError
	if errors.As(err, &mb) {
		return errBodyTooLarge
	}
	var ce *clientError
	if errors.As(err, &ce) {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return &httpError{status: http.StatusRequestTimeout, code: "client_timeout", msg: "the client sent the body too slowly", err: err}
		}
		return &httpError{status: http.StatusBadRequest, code: "client_aborted", msg: "the body ended early", err: err}
	}
	return &httpError{status: http.StatusBadRequest, code: "bad_body", msg: "the body cannot be scanned", err: err}
}

// upstreamError maps a transport error: a timeout is 504, a client that
// went away is 499 (audited only), anything else is 502.
func upstreamError(r *http.Request, err error) *httpError {
	if he := classifyBodyCause(err); he != nil {
		return he
	}
	if errors.Is(r.Context().Err(), context.Canceled) {
		return &httpError{status: StatusClientClosed, code: "client_closed", msg: "the client went away", err: err}
	}
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout() {
		return &httpError{status: http.StatusGatewayTimeout, code: "upstream_timeout", msg: "the upstream did not answer in time", err: err}
	}
	return &httpError{status: http.StatusBadGateway, code: "upstream_error", msg: "the upstream could not be reached or failed mid-response", err: err}
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
func writeError(w http.ResponseWriter, e *httpError) {
	if e.status == StatusClientClosed {
		return
	}
	body, _ := json.Marshal(struct {
		Error struct {
			Status  int    `json:"status"`
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}{Error: struct {
		Status  int    `json:"status"`
		Code    string `json:"code"`
		Message string `json:"message"`
	}{e.status, e.code, e.msg}})
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)+1))
	h.Set("X-Content-Type-Options", "nosniff")
	switch e.status {
	case http.StatusServiceUnavailable:
		h.Set("Retry-After", "1")
	case http.StatusMethodNotAllowed:
		h.Set("Allow", "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS")
	}
	w.WriteHeader(e.status)
	w.Write(append(body, '\n')) //nolint:errcheck // the client may be gone
}

func zapRoute(rt *route) zap.Field  { return zap.String("route", rt.cfg.Name) }
func zapErrCode(c string) zap.Field { return zap.String("reason", c) }

// zapErrMsg logs a transport error; the logger's redacting layer masks any
// secret in it (such as a URL with a signature).
func zapErrMsg(err error) zap.Field { return zap.Error(err) }

// mustStdLog adapts the logger for net/http's ErrorLog, at warn level.
func mustStdLog(l *zap.Logger) *log.Logger {
	sl, err := zap.NewStdLogAt(l, zap.WarnLevel)
	if err != nil {
		return zap.NewStdLog(l)
	}
	return sl
}
