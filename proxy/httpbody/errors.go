// Package httpbody owns an HTTP body's way through flowmask: it classifies a
// body from all of its header lines (Content-Type, Content-Encoding,
// Transfer-Encoding), decodes it (coding chain, then charset) into the UTF-8
// text the engine scans, bounds it (decoded size per body, decoded bytes in
// flight per process, concurrent bodies, time), and encodes the redacted text
// back the way it came. Whatever it cannot read it refuses with one error
// type, [Error], that carries the HTTP status and a reason safe to show.
//
// The reverse proxy (requests and responses) and the forward proxy (both
// directions, record and redact modes) call it; none of them reads
// Content-Encoding or Content-Type itself.
package httpbody

import (
	"errors"
	"net/http"
)

// Error is a refusal: the status a client gets, a stable code (a metric
// label) and a message that names what was wrong but never holds body bytes.
type Error struct {
	Status int
	Code   string
	Msg    string
	Err    error // the cause, for errors.Is/As; never shown
}

func (e *Error) Error() string { return e.Msg }

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

func unsupported(code, msg string) *Error {
	return &Error{Status: http.StatusUnsupportedMediaType, Code: code, Msg: msg}
}

// Refusals shared by every path.
var (
	// ErrDecodedTooLarge: the decoded body is larger than the per-body cap.
	ErrDecodedTooLarge = &Error{Status: http.StatusRequestEntityTooLarge, Code: "decoded_too_large", Msg: "the decoded body exceeds the decoded-size limit (max_decoded_bytes)"}
	// ErrBudget: the process holds too many decoded bytes already.
	ErrBudget = &Error{Status: http.StatusServiceUnavailable, Code: "decode_budget", Msg: "too many decoded body bytes in flight; retry later"}
	// ErrBusy: too many bodies are being decoded at once.
	ErrBusy = &Error{Status: http.StatusServiceUnavailable, Code: "bodies_busy", Msg: "too many bodies being scanned at once; retry later"}
	// ErrTimeout: the body took longer than its time bound.
	ErrTimeout = &Error{Status: http.StatusRequestTimeout, Code: "body_timeout", Msg: "the body was not read within its time limit"}
)

// BadEncoding is the refusal for a body whose coding is corrupt or
// truncated.
func BadEncoding(coding string, err error) *Error {
	return &Error{Status: http.StatusBadRequest, Code: "bad_encoding", Msg: "the body is not valid " + coding + " (truncated or corrupt)", Err: err}
}

// AsError returns err's *Error, or nil.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return nil
}
