// Package sink holds flowmask's sink protocol profiles, one file each
// (generic, Splunk HEC, Elastic _bulk, Azure Logs Ingestion and Data
// Collector, Loki JSON, OTLP/HTTP JSON): for a request body a [Profile]
// decides how it is redacted without breaking the sink's protocol ([Plan]:
// engine format, held or streamed, a framing-aware [BodyWriter], re-signing
// and size checks before it is forwarded), or refuses it with a
// *refusal.Error. The reverse proxy picks a profile per route with [ByName].
package sink
