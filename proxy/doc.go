// Package proxy is flowmask's redacting reverse proxy and its routing (the
// forward MITM proxy, with its `forward:` config section and records, is
// package proxy/forward; the audit poster is package proxy/audit):
// request bodies on their way to a log or SIEM ingestion endpoint are
// decoded (package proxy/httpbody), redacted by the engine per the route's
// sink profile (package proxy/sink), re-encoded and forwarded, and a body
// that cannot be scanned is never forwarded.
//
// Load a configuration with [LoadConfig] (or start from [DefaultConfig]),
// compile it with [New] and run it with [Server.Serve] or
// [Server.ListenAndServe]. A [Server] is an http.Handler built on
// httputil.ReverseProxy: Rewrite sets the upstream, ModifyResponse redacts
// responses, ErrorHandler maps failures to 502, 504 and 499.
//
// Concurrency: a Server is safe for concurrent use. [Server.Reload] and
// [Server.SetLiterals] swap the compiled configuration and known secrets
// atomically; requests in flight finish with what they started with.
//
// Reusable parts: [Metrics] registers the Prometheus metrics on a registry
// the caller owns; [FieldError] and the config loader give file:line:
// key.path errors. Exchange records and their delivery (the audit logger,
// the log-redacting WriteSyncer) live in package proxy/audit.
package proxy
