package proxy

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/flowmask/flowmask/proxy/audit"
	"github.com/flowmask/flowmask/redactor"
	"go.uber.org/zap"
)

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

// recordWriter writes records as JSON lines, each with one Write call on
// an unbuffered file, so it is on disk as soon as the exchange ends. Every
// value in a record has been through the redactor already (URL, header
// values, bodies), so lines are not redacted again: that cost a quarter of
// the proxy's CPU per exchange.
type recordWriter struct {
	out  *audit.Output
	post *audit.Poster // for an http(s) URL output
	mu   sync.Mutex
	buf  bytes.Buffer
	null bool
}

func newRecordWriter(output string, sink *audit.PosterConfig, stdout, stderr io.Writer, logger *zap.Logger) (*recordWriter, error) {
	if sink != nil {
		pc := *sink
		pc.Logger = logger
		p, err := audit.NewPoster(pc)
		if err != nil {
			return nil, err
		}
		return &recordWriter{out: &audit.Output{}, post: p}, nil
	}
	rs, off, err := audit.OpenOutput(output, stdout, stderr)
	if err != nil {
		return nil, err
	}
	return &recordWriter{out: rs, null: off}, nil
}

func (w *recordWriter) write(rec *ForwardRecord) error {
	if w.null {
		return nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Reset()
	enc := json.NewEncoder(&w.buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(rec); err != nil { // one line, '\n'-terminated
		return err
	}
	if w.post != nil {
		w.post.Add(w.buf.Bytes())
		return nil
	}
	_, err := w.out.Write(w.buf.Bytes())
	return err
}

// credentialHeaders are masked whole in records; any header whose name
// mentions a token, key, secret, password, signature or cookie is too.
var credentialHeaders = map[string]bool{
	"Authorization": true, "Proxy-Authorization": true, "Cookie": true, "Set-Cookie": true,
	"Www-Authenticate": false, "X-Api-Key": true, "Api-Key": true, "X-Auth-Token": true,
	"X-Functions-Key": true, "Ocp-Apim-Subscription-Key": true, "X-Amz-Security-Token": true,
	"X-Goog-Api-Key": true, "X-Vault-Token": true, "Private-Token": true, "X-Ms-Token-Aad-Access-Token": true,
}

var credentialWords = []string{"token", "secret", "password", "passwd", "apikey", "api-key", "signature", "cookie", "credential", "session"}

func isCredentialHeader(name string) bool {
	if v, ok := credentialHeaders[name]; ok {
		return v
	}
	l := strings.ToLower(name)
	for _, w := range credentialWords {
		if strings.Contains(l, w) {
			return true
		}
	}
	return strings.HasSuffix(l, "-key") || strings.HasSuffix(l, "-auth")
}

const maskedHeader = "[REDACTED:credential-header]"

// recordHeaders copies h for a record: credential headers masked (keeping
// an auth scheme such as "Bearer"), other values through the redactor.
func recordHeaders(h http.Header, red *redactor.Redactor) map[string][]string {
	if len(h) == 0 {
		return nil
	}
	out := make(map[string][]string, len(h))
	for k, vs := range h {
		cp := make([]string, len(vs))
		for i, v := range vs {
			if isCredentialHeader(k) {
				if s, _, ok := strings.Cut(v, " "); ok && isScheme(s) {
					cp[i] = s + " " + maskedHeader
				} else {
					cp[i] = maskedHeader
				}
				continue
			}
			cp[i] = red.String(v)
		}
		out[k] = cp
	}
	return out
}

func isScheme(s string) bool {
	if s == "" || len(s) > 16 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-') {
			return false
		}
	}
	return true
}

// recordURL is u with any password dropped and the rest through the
// redactor (which masks secrets in the query).
func recordURL(u *url.URL, red *redactor.Redactor) string {
	if u == nil {
		return ""
	}
	c := *u
	if c.User != nil {
		if _, has := c.User.Password(); has {
			c.User = url.UserPassword(c.User.Username(), "REDACTED")
		}
	}
	return red.String(c.String())
}

// capture keeps the first limit bytes written to it and counts the rest.
type capture struct {
	limit int
	buf   []byte
	n     int64
}

func (c *capture) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	if room := c.limit - len(c.buf); room > 0 {
		c.buf = append(c.buf, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

func (c *capture) truncated() bool { return c.n > int64(len(c.buf)) }

// auditCloseTimeout is how long closing waits for an audit sink to take
// the records still waiting (retries included) before it gives up and
// counts them as undelivered.
const auditCloseTimeout = 10 * time.Second

// close flushes and closes the output.
func (w *recordWriter) close() error {
	if w.post != nil {
		ctx, cancel := context.WithTimeout(context.Background(), auditCloseTimeout)
		defer cancel()
		return w.post.Close(ctx)
	}
	return w.out.Close()
}
