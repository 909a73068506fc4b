// Package forward is `flowmask forward`: an HTTP forward proxy
// (HTTP_PROXY / HTTPS_PROXY) built on goproxy that writes a redacted
// run-history record of every exchange and can redact request and
// response bodies inline.
//
// Build one with [NewForward] from a validated [ForwardConfig] (the
// `forward:` section of the shared config file, read with
// [LoadForwardConfig], or with [DecodeForwardSection] by a caller that
// reads the rest of the file too) and serve it with
// [Forward.Serve] or [Forward.ListenAndServe]. Destinations are dialled
// only through its address policy; CONNECT is intercepted with the
// operator's CA (package proxy/mitmca), tunnelled blind, or refused; every
// inspected exchange goes through the body pipeline (package
// proxy/httpbody) and the engine, and bodies that must be redacted and
// cannot be scanned are never passed on. See docs/forward-security.md for
// what is scanned, refused and bounded.
package forward
