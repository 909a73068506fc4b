// Package refusal holds the error every part of flowmask's proxies uses to
// refuse an exchange: the reverse proxy, the forward proxy and the sink
// profiles all return an *Error, so a refusal raised deep inside a profile's
// body writer still reaches the client with its own status and reason.
package refusal

import "net/http"

// Error is a refusal with its status and a message safe to show: it never
// holds body bytes, header values or URLs.
type Error struct {
	Status int
	Code   string // a stable reason, used as the rejections metric label
	Msg    string
	Err    error // the cause, for errors.Is; never shown
}

func (e *Error) Error() string { return e.Msg }

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Unsupported refuses a body flowmask cannot scan with 415.
func Unsupported(msg string) *Error {
	return &Error{Status: http.StatusUnsupportedMediaType, Code: "unsupported_media_type", Msg: msg}
}
