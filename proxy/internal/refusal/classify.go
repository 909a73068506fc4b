package refusal

import (
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"strconv"

	"github.com/flowmask/flowmask/proxy/httpbody"
)

// StatusClientClosed is the status audited when the client went away
// before the response (nginx's 499). It is never sent.
const StatusClientClosed = 499

// ErrBodyTooLarge refuses a body over its wire-size limit (an
// *http.MaxBytesError).
var ErrBodyTooLarge = &Error{Status: http.StatusRequestEntityTooLarge, Code: "body_too_large", Msg: "the body exceeds limits.max_body_bytes"}

// ClientError wraps an error reading the client's body.
type ClientError struct{ Err error }

func (e *ClientError) Error() string { return "read body: " + e.Err.Error() }

// Unwrap returns the read error.
func (e *ClientError) Unwrap() error { return e.Err }

// FromBody turns the body pipeline's refusal (an *httpbody.Error) into an
// *Error; any other error is returned as it is.
func FromBody(err error) error {
	if e := httpbody.AsError(err); e != nil {
		var he *Error
		if errors.As(err, &he) {
			return he
		}
		return &Error{Status: e.Status, Code: e.Code, Msg: e.Msg, Err: e.Err}
	}
	return err
}

// Classify maps a body-processing error to the refusal the client gets.
func Classify(err error) *Error {
	var he *Error
	if errors.As(err, &he) {
		return he
	}
	var mb *http.MaxBytesError
	if errors.As(err, &mb) {
		return ErrBodyTooLarge
	}
	var ce *ClientError
	if errors.As(err, &ce) {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return &Error{Status: http.StatusRequestTimeout, Code: "client_timeout", Msg: "the client sent the body too slowly", Err: err}
		}
		return &Error{Status: http.StatusBadRequest, Code: "client_aborted", Msg: "the body ended early", Err: err}
	}
	return &Error{Status: http.StatusBadRequest, Code: "bad_body", Msg: "the body cannot be scanned", Err: err}
}

// Write sends e as {"error":{"status":N,"code":"...","message":"..."}}
// (nothing for StatusClientClosed).
func Write(w http.ResponseWriter, e *Error) {
	if e.Status == StatusClientClosed {
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
	}{e.Status, e.Code, e.Msg}})
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)+1))
	h.Set("X-Content-Type-Options", "nosniff")
	switch e.Status {
	case http.StatusServiceUnavailable:
		h.Set("Retry-After", "1")
	case http.StatusMethodNotAllowed:
		h.Set("Allow", "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS")
	}
	w.WriteHeader(e.Status)
	w.Write(append(body, '\n')) //nolint:errcheck // the client may be gone
}
