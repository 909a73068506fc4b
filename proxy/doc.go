// Package proxy is flowmask's redacting reverse proxy (and the shared
// machinery of its forward proxy): request bodies on their way to a log or
// SIEM ingestion endpoint are decoded, redacted by the engine, re-encoded
// and forwarded, and a body that cannot be scanned is never forwarded.
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
// Reusable parts: [AuditLogger] writes one JSON record ([Record]) per
// exchange and reopens its file on demand; [Metrics] registers the
// Prometheus metrics on a registry the caller owns; [RedactingSyncer] is the
// zap WriteSyncer that runs the engine over every log entry; [FieldError]
// and the config loader give file:line: key.path errors.
package proxy
