package forward

import "time"

// ForwardRecord is the run-history record of one exchange through
// `flowmask forward`, written as one JSON line. Everything in it has been
// through the redactor: the URL, header values (credential headers are
// masked whole) and bodies. See the README for the schema.
type ForwardRecord struct {
	Time time.Time `json:"time"`
	// Kind is http (plain HTTP, inspected), https (an intercepted CONNECT,
	// inspected), tunnel (a CONNECT passed blind) or refused (stopped
	// before any destination was chosen, such as a 407).
	Kind   string `json:"kind"`
	Client string `json:"client"`
	User   string `json:"user,omitempty"`
	Method string `json:"method"`
	// URL is the request URL with its query (and any password) redacted;
	// for a tunnel, the CONNECT target.
	URL  string `json:"url"`
	Host string `json:"host"` // destination host:port
	// Mode is record (traffic unchanged), or redact-requests,
	// redact-responses or both joined by "+" (those bodies were changed).
	Mode string `json:"mode,omitempty"`
	// Status is what the client got; 0 when the connection was aborted.
	Status         int `json:"status"`
	UpstreamStatus int `json:"upstream_status,omitempty"`
	// WebSocket is true for an upgrade let through by allow_websocket.
	WebSocket         bool          `json:"websocket,omitempty"`
	DurationMS        float64       `json:"duration_ms"`
	UpstreamLatencyMS float64       `json:"upstream_latency_ms,omitempty"`
	Request           *BodyRecord   `json:"request,omitempty"`
	Response          *BodyRecord   `json:"response,omitempty"`
	Tunnel            *TunnelRecord `json:"tunnel,omitempty"`
	// Redactions counts secrets found in both bodies (masked in the
	// record; also masked in the traffic in a redact mode).
	Redactions int            `json:"redactions"`
	Rules      map[string]int `json:"rules,omitempty"`
	// Reason is a stable code when flowmask refused or failed the
	// exchange; Message explains it.
	Reason  string `json:"reason,omitempty"`
	Message string `json:"message,omitempty"`
}

// BodyRecord is one direction of an exchange.
type BodyRecord struct {
	Headers map[string][]string `json:"headers,omitempty"`
	// Body is the redacted, decoded body, cut at record_body_limit.
	Body string `json:"body,omitempty"`
	// Bytes is the body's size on the wire as its sender sent it (before
	// any decoding or redaction); as much as was read when cut short.
	Bytes int64 `json:"bytes"`
	// Truncated is true when Body was cut at record_body_limit.
	Truncated bool `json:"truncated,omitempty"`
	// Encoding is the Content-Encoding that was decoded for the record.
	Encoding string `json:"encoding,omitempty"`
	// Omitted says why there is no Body: "unscannable content type",
	// "unsupported content encoding", "corrupt encoding", "websocket".
	Omitted string `json:"omitted,omitempty"`
	// Redacted is true when the body that passed was redacted.
	Redacted bool `json:"redacted,omitempty"`
}

// TunnelRecord is what is known of a blind tunnel.
type TunnelRecord struct {
	BytesUp   int64 `json:"bytes_up"`   // client to destination
	BytesDown int64 `json:"bytes_down"` // destination to client
}
