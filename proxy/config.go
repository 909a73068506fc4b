package proxy

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/flowmask/flowmask/internal/yamlconf"
	"github.com/flowmask/flowmask/proxy/sink"
	"github.com/flowmask/flowmask/redactor"
	"github.com/flowmask/flowmask/redactor/secrets"
)

// Config is the YAML configuration of `flowmask proxy --config FILE`. It is
// the wire form only: [New] compiles it. Start from [DefaultConfig]; a zero
// field in a route means that field's documented default.
type Config struct {
	// Listen is the proxy's address. Default 127.0.0.1:8080.
	Listen string `yaml:"listen"`
	// Admin is the address of /healthz, /readyz and /metrics; "off"
	// disables it. Default 127.0.0.1:9090.
	Admin string `yaml:"admin"`
	// TLS enables TLS (and optionally mTLS) on Listen.
	TLS TLSConfig `yaml:"tls"`
	// Auth requires a bearer token from clients, so the proxy is no open
	// relay.
	Auth AuthConfig `yaml:"auth"`
	// Limits protect the proxy from slow and greedy clients.
	Limits ServerLimits `yaml:"limits"`
	// Audit says where the per-exchange audit records go.
	Audit AuditConfig `yaml:"audit"`
	// LogLevel is the level of the proxy's own logs: debug, info, warn or
	// error. Default info.
	LogLevel string `yaml:"log_level"`
	// HashKeyEnv names the environment variable holding the key of the hash
	// mask style. Default FLOWMASK_HASH_KEY.
	HashKeyEnv string `yaml:"hash_key_env"`
	// Secrets are known secret values to mask as literals.
	Secrets secrets.Config `yaml:"secrets"`
	// Routes map requests to upstreams, by host and path prefix, first match
	// wins. A request no route matches gets 404 and is never forwarded.
	Routes []RouteConfig `yaml:"routes"`
}

// TLSConfig is the listener's TLS. Both files are re-read when they change,
// so a renewed certificate needs no restart.
type TLSConfig struct {
	// CertFile and KeyFile are PEM files; set both or neither.
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
	// ClientCAFile, when set, requires clients to present a certificate
	// signed by one of its CAs (mTLS).
	ClientCAFile string `yaml:"client_ca_file"`
}

// AuthConfig is optional inbound bearer-token authentication. Tokens come
// from a file (one per line) or an environment variable, never from the
// config itself, and are masked as known secrets.
type AuthConfig struct {
	// TokensFile holds one accepted token per line.
	TokensFile string `yaml:"tokens_file"`
	// TokensEnv names an environment variable holding accepted tokens,
	// separated by commas.
	TokensEnv string `yaml:"tokens_env"`
	// Header carries "Bearer <token>". It is removed before forwarding, so
	// the client's own Authorization reaches the upstream untouched. Default
	// Proxy-Authorization.
	Header string `yaml:"header"`
}

// Enabled reports whether inbound token auth is configured.
func (a AuthConfig) Enabled() bool { return a.TokensFile != "" || a.TokensEnv != "" }

// ServerLimits bound what one client can make the proxy hold.
type ServerLimits struct {
	// MaxHeaderBytes caps request headers. Default 64KiB.
	MaxHeaderBytes ByteSize `yaml:"max_header_bytes"`
	// ReadHeaderTimeout is how long a client may take to send headers.
	// Default 10s.
	ReadHeaderTimeout time.Duration `yaml:"read_header_timeout"`
	// BodyReadTimeout is how long a client may stay silent while sending a
	// body; the request then fails with 408. Default 30s.
	BodyReadTimeout time.Duration `yaml:"body_read_timeout"`
	// RequestTimeout is the most one exchange may take, from the first
	// header byte read to the last response byte written: a client sending
	// or reading slowly gets 408 (or its connection cut) then. Default 5m.
	RequestTimeout time.Duration `yaml:"request_timeout"`
	// IdleTimeout closes idle keep-alive connections. Default 120s.
	IdleTimeout time.Duration `yaml:"idle_timeout"`
	// MaxConcurrent caps requests in flight; beyond it clients get 503 with
	// Retry-After. Default 512.
	MaxConcurrent int `yaml:"max_concurrent"`
	// MaxInflightDecoded caps the decoded body bytes all requests and
	// responses hold in memory together; beyond it bodies get 503. Default
	// 512MiB.
	MaxInflightDecoded ByteSize `yaml:"max_inflight_decoded_bytes"`
	// ShutdownTimeout is how long SIGTERM waits for in-flight requests.
	// Default 30s.
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
}

// AuditConfig says where audit records go.
type AuditConfig struct {
	// Output is "stderr", "stdout", "off" or a file path (reopened on
	// SIGHUP, for log rotation). Default stderr.
	Output string `yaml:"output"`
}

// RouteConfig is one route.
type RouteConfig struct {
	// Name labels the route in metrics and audit records. Default route<N>.
	Name string `yaml:"name"`
	// Match selects requests. Empty matches everything.
	Match MatchConfig `yaml:"match"`
	// Upstream is the base URL requests are sent to (its path is prefixed to
	// the request path). Empty means the built-in sink, which prints one JSON
	// line per request to stdout.
	Upstream string `yaml:"upstream"`
	// Profile keeps a sink's protocol intact: generic, splunk-hec,
	// elastic-bulk, azure-logs-ingestion, azure-data-collector, loki-json or
	// otlp-json. Default generic.
	Profile string `yaml:"profile"`
	// Mode is "redact" (default) or "report": bodies pass unchanged and
	// findings are only counted and audited.
	Mode string `yaml:"mode"`
	// Redact says which bodies are redacted: request (default), response or
	// both.
	Redact string `yaml:"redact"`
	// Mask is the mask style: label (default) or hash (needs the hash key).
	Mask string `yaml:"mask"`
	// Rules are extra rule files, added to the embedded rules.
	Rules []string `yaml:"rules"`
	// DisableRules are rule IDs to turn off on this route.
	DisableRules []string `yaml:"disable_rules"`
	// Packs are opt-in rule packs to turn on for this route (pii, pii-ip).
	Packs []string `yaml:"packs"`
	// Allow silences matches, as in the allowlist file of `redact`.
	Allow []redactor.Allow `yaml:"allow"`
	// OnInvalidJSON is what happens to a body that must be JSON and is not:
	// reject (422, the default) or text (scan it with text rules and
	// forward).
	OnInvalidJSON string `yaml:"on_invalid_json"`
	// WorkspaceKeyFile and WorkspaceKeyEnv hold the Log Analytics workspace
	// key (base64) with which azure-data-collector re-signs requests. One is
	// required for that profile.
	WorkspaceKeyFile string `yaml:"workspace_key_file"`
	WorkspaceKeyEnv  string `yaml:"workspace_key_env"`
	// UpstreamTLS verifies the upstream's certificate.
	UpstreamTLS UpstreamTLSConfig `yaml:"upstream_tls"`
	// WebSocket is what happens to a request asking for a protocol upgrade:
	// refuse (403, the default) or redact (WebSocket only: text messages are
	// redacted frame by frame, see WebSocketBinary). Other upgrades (h2c)
	// are always refused.
	WebSocket string `yaml:"websocket"`
	// WebSocketBinary is what happens to a binary WebSocket message on a
	// websocket: redact route: refuse (close the connection with 1003, the
	// default) or pass (forward it unscanned).
	WebSocketBinary string `yaml:"websocket_binary"`
	// Limits bound bodies and waits on this route.
	Limits RouteLimits `yaml:"limits"`
}

// MatchConfig selects requests for a route.
type MatchConfig struct {
	// Host is the request's host, without port; "*.example.com" matches
	// subdomains. Empty matches any host.
	Host string `yaml:"host"`
	// PathPrefix is matched on segment boundaries ("/api" matches /api and
	// /api/x, not /apix). Empty matches any path.
	PathPrefix string `yaml:"path_prefix"`
}

// UpstreamTLSConfig verifies the upstream.
type UpstreamTLSConfig struct {
	// CAFile adds PEM CA certificates to trust (the system roots stay).
	CAFile string `yaml:"ca_file"`
	// ServerName overrides the name verified in the certificate.
	ServerName string `yaml:"server_name"`
}

// RouteLimits bound one route's bodies and upstream waits.
type RouteLimits struct {
	// MaxBodyBytes caps the body as sent on the wire. Beyond: 413, never
	// forwarded. Default 64MiB.
	MaxBodyBytes ByteSize `yaml:"max_body_bytes"`
	// MaxDecodedBytes caps the body after Content-Encoding is undone (a gzip
	// bomb stops here). Beyond: 413. Default 256MiB.
	MaxDecodedBytes ByteSize `yaml:"max_decoded_bytes"`
	// BufferBytes is how much of a body is held to send it with a correct
	// Content-Length and to reject it whole when it is invalid; a larger body
	// is streamed chunked. Default 1MiB.
	BufferBytes ByteSize `yaml:"buffer_bytes"`
	// MaxDocument is the largest JSON document redacted structurally; larger
	// ones are redacted with streaming text rules. Default 16MiB.
	MaxDocument ByteSize `yaml:"max_document"`
	// UpstreamTimeout is how long to wait for the upstream's response
	// headers; then 504. Default 60s.
	UpstreamTimeout time.Duration `yaml:"upstream_timeout"`
	// MaxIdleConnsPerHost is the upstream keep-alive pool size. Keep it at
	// least the number of concurrent clients. Default 512.
	MaxIdleConnsPerHost int `yaml:"max_idle_conns_per_host"`
}

// Defaults.
const (
	DefaultListen              = "127.0.0.1:8080"
	DefaultAdmin               = "127.0.0.1:9090"
	DefaultMaxBodyBytes        = 64 << 20
	DefaultMaxDecodedBytes     = 256 << 20
	DefaultBufferBytes         = 1 << 20
	DefaultMaxDocument         = 16 << 20
	DefaultUpstreamTimeout     = 60 * time.Second
	DefaultMaxIdleConnsPerHost = 512
	DefaultAuthHeader          = "Proxy-Authorization"
	DefaultRequestTimeout      = 5 * time.Minute
)

// DefaultConfig returns the embedded default: listen on 127.0.0.1:8080,
// admin on 127.0.0.1:9090, one generic route to the built-in stdout sink.
func DefaultConfig() *Config {
	return &Config{
		Listen:     DefaultListen,
		Admin:      DefaultAdmin,
		Auth:       AuthConfig{Header: DefaultAuthHeader},
		LogLevel:   "info",
		HashKeyEnv: "FLOWMASK_HASH_KEY",
		Audit:      AuditConfig{Output: "stderr"},
		Limits: ServerLimits{
			MaxHeaderBytes:    64 << 10,
			ReadHeaderTimeout: 10 * time.Second,
			BodyReadTimeout:   30 * time.Second,
			RequestTimeout:    DefaultRequestTimeout,
			IdleTimeout:       120 * time.Second,
			MaxConcurrent:     512,
			ShutdownTimeout:   30 * time.Second,
		},
		Routes: []RouteConfig{{Name: "default"}},
	}
}

// SetDefaults fills zero fields (auth header, route names, profiles, modes,
// limits) with their defaults; LoadConfig calls it before Validate.
func (c *Config) SetDefaults() {
	if c.Auth.Header == "" {
		c.Auth.Header = DefaultAuthHeader
	}
	for i := range c.Routes {
		rt := &c.Routes[i]
		if rt.Name == "" {
			rt.Name = "route" + strconv.Itoa(i)
		}
		if rt.Profile == "" {
			rt.Profile = sink.Generic
		}
		if rt.Mode == "" {
			rt.Mode = ModeRedact
		}
		if rt.Redact == "" {
			rt.Redact = "request"
		}
		if rt.Mask == "" {
			rt.Mask = "label"
		}
		if rt.OnInvalidJSON == "" {
			rt.OnInvalidJSON = "reject"
		}
		if rt.WebSocket == "" {
			rt.WebSocket = WebSocketRefuse
		}
		if rt.WebSocketBinary == "" {
			rt.WebSocketBinary = BinaryRefuse
		}
		l := &rt.Limits
		setDefault(&l.MaxBodyBytes, DefaultMaxBodyBytes)
		setDefault(&l.MaxDecodedBytes, DefaultMaxDecodedBytes)
		setDefault(&l.BufferBytes, DefaultBufferBytes)
		setDefault(&l.MaxDocument, DefaultMaxDocument)
		if l.UpstreamTimeout == 0 {
			l.UpstreamTimeout = DefaultUpstreamTimeout
		}
		if l.MaxIdleConnsPerHost == 0 {
			l.MaxIdleConnsPerHost = DefaultMaxIdleConnsPerHost
		}
	}
}

func setDefault(b *ByteSize, d ByteSize) {
	if *b == 0 {
		*b = d
	}
}

// Modes.
const (
	ModeRedact = "redact"
	ModeReport = "report"
)

// FieldError is a configuration problem at a key path such as
// routes[2].upstream; the loader adds the file and the line.
type FieldError = yamlconf.Error

func ferr(path, format string, args ...any) error {
	return yamlconf.Errorf(path, format, args...)
}

// Validate checks c quickly and without side effects, returning every
// problem joined, each as a *FieldError naming its key path.
func (c *Config) Validate() error {
	var errs []error
	if err := checkAddr(c.Listen); err != nil {
		errs = append(errs, ferr("listen", "%v", err))
	}
	if c.Admin != "off" {
		if err := checkAddr(c.Admin); err != nil {
			errs = append(errs, ferr("admin", "%v", err))
		}
	}
	if (c.TLS.CertFile == "") != (c.TLS.KeyFile == "") {
		errs = append(errs, ferr("tls", "set both cert_file and key_file, or neither"))
	}
	if c.TLS.ClientCAFile != "" && c.TLS.CertFile == "" {
		errs = append(errs, ferr("tls.client_ca_file", "mTLS needs cert_file and key_file"))
	}
	if c.TLS.ClientCAFile != "" && c.Auth.Enabled() {
		errs = append(errs, ferr("auth", "use either bearer tokens or mTLS (tls.client_ca_file), not both"))
	}
	switch strings.ToLower(c.LogLevel) {
	case "", "debug", "info", "warn", "error":
	default:
		errs = append(errs, ferr("log_level", "unknown level %q (want debug, info, warn or error)", c.LogLevel))
	}
	l := c.Limits
	if l.MaxHeaderBytes < 0 {
		errs = append(errs, ferr("limits.max_header_bytes", "must not be negative"))
	}
	if l.MaxConcurrent < 0 {
		errs = append(errs, ferr("limits.max_concurrent", "must not be negative"))
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"read_header_timeout", l.ReadHeaderTimeout}, {"body_read_timeout", l.BodyReadTimeout}, {"request_timeout", l.RequestTimeout}, {"idle_timeout", l.IdleTimeout}, {"shutdown_timeout", l.ShutdownTimeout}} {
		if d.v < 0 {
			errs = append(errs, ferr("limits."+d.name, "must not be negative"))
		}
	}
	// The secrets: section is checked with the rest of the file.
	if err := c.Secrets.Validate(); err != nil {
		errs = append(errs, yamlconf.Prefix("secrets", err))
	}
	if len(c.Routes) == 0 {
		errs = append(errs, ferr("routes", "at least one route is required"))
	}
	names := map[string]int{}
	for i, rt := range c.Routes {
		p := fmt.Sprintf("routes[%d]", i)
		if j, dup := names[rt.Name]; dup && rt.Name != "" {
			errs = append(errs, ferr(p+".name", "%q is also the name of routes[%d]", rt.Name, j))
		}
		names[rt.Name] = i
		errs = append(errs, rt.validate(p)...)
	}
	return errors.Join(errs...)
}

func (rt *RouteConfig) validate(p string) []error {
	var errs []error
	if rt.Upstream != "" {
		u, err := url.Parse(rt.Upstream)
		switch {
		case err != nil:
			errs = append(errs, ferr(p+".upstream", "not a URL"))
		case u.Scheme != "http" && u.Scheme != "https" || u.Host == "":
			errs = append(errs, ferr(p+".upstream", "must be an absolute http or https URL"))
		case u.User != nil:
			errs = append(errs, ferr(p+".upstream", "must not hold credentials; clients send their own"))
		case u.RawQuery != "" || u.Fragment != "":
			errs = append(errs, ferr(p+".upstream", "must not have a query or fragment"))
		}
	}
	if rt.Match.PathPrefix != "" && !strings.HasPrefix(rt.Match.PathPrefix, "/") {
		errs = append(errs, ferr(p+".match.path_prefix", "must start with /"))
	}
	if sink.ByName(rt.Profile) == nil {
		errs = append(errs, ferr(p+".profile", "unknown profile %q (want one of %s)", rt.Profile, strings.Join(sink.Names(), ", ")))
	}
	if rt.Mode != ModeRedact && rt.Mode != ModeReport {
		errs = append(errs, ferr(p+".mode", "unknown mode %q (want redact or report)", rt.Mode))
	}
	switch rt.Redact {
	case "request", "response", "both":
	default:
		errs = append(errs, ferr(p+".redact", "unknown value %q (want request, response or both)", rt.Redact))
	}
	if _, err := redactor.ParseMaskStyle(rt.Mask); err != nil {
		errs = append(errs, ferr(p+".mask", "%v", err))
	}
	if rt.OnInvalidJSON != "reject" && rt.OnInvalidJSON != "text" {
		errs = append(errs, ferr(p+".on_invalid_json", "unknown value %q (want reject or text)", rt.OnInvalidJSON))
	}
	switch {
	case rt.WebSocket != WebSocketRefuse && rt.WebSocket != WebSocketRedact:
		errs = append(errs, ferr(p+".websocket", "unknown value %q (want refuse or redact)", rt.WebSocket))
	case rt.WebSocket == WebSocketRedact && rt.Upstream == "":
		errs = append(errs, ferr(p+".websocket", "redact needs an upstream (the built-in sink takes no WebSocket)"))
	case rt.WebSocket == WebSocketRedact && rt.Mode == ModeReport:
		errs = append(errs, ferr(p+".websocket", "redact is not available in report mode"))
	}
	if rt.WebSocketBinary != BinaryRefuse && rt.WebSocketBinary != BinaryPass {
		errs = append(errs, ferr(p+".websocket_binary", "unknown value %q (want refuse or pass)", rt.WebSocketBinary))
	}
	if rt.Profile == sink.DataCollector {
		if rt.WorkspaceKeyFile == "" && rt.WorkspaceKeyEnv == "" {
			errs = append(errs, ferr(p+".workspace_key_file", "azure-data-collector re-signs requests and needs the workspace key (workspace_key_file or workspace_key_env)"))
		}
		if rt.Mode == ModeRedact && rt.Upstream == "" {
			errs = append(errs, ferr(p+".upstream", "azure-data-collector needs an upstream"))
		}
	}
	if rt.WorkspaceKeyFile != "" && rt.WorkspaceKeyEnv != "" {
		errs = append(errs, ferr(p+".workspace_key_env", "set workspace_key_file or workspace_key_env, not both"))
	}
	if rt.UpstreamTLS != (UpstreamTLSConfig{}) && strings.HasPrefix(rt.Upstream, "http:") {
		errs = append(errs, ferr(p+".upstream_tls", "the upstream is plain http"))
	}
	l := rt.Limits
	for _, b := range []struct {
		name string
		v    ByteSize
	}{{"max_body_bytes", l.MaxBodyBytes}, {"max_decoded_bytes", l.MaxDecodedBytes}, {"buffer_bytes", l.BufferBytes}, {"max_document", l.MaxDocument}} {
		if b.v < 0 {
			errs = append(errs, ferr(p+".limits."+b.name, "must not be negative"))
		}
	}
	if l.BufferBytes > l.MaxDecodedBytes && l.MaxDecodedBytes > 0 {
		errs = append(errs, ferr(p+".limits.buffer_bytes", "must not exceed max_decoded_bytes"))
	}
	if l.UpstreamTimeout < 0 {
		errs = append(errs, ferr(p+".limits.upstream_timeout", "must not be negative"))
	}
	if l.MaxIdleConnsPerHost < 0 {
		errs = append(errs, ferr(p+".limits.max_idle_conns_per_host", "must not be negative"))
	}
	return errs
}

func checkAddr(a string) error {
	if a == "" {
		return errors.New("empty address")
	}
	if _, _, err := net.SplitHostPort(a); err != nil {
		return fmt.Errorf("want host:port: %v", strings.TrimPrefix(err.Error(), "address "+a+": "))
	}
	return nil
}

// ByteSize is a size in bytes. In YAML it is an integer or a number with a
// unit: 512KiB, 64MiB, 1GiB, 1TiB (or KB, MB, GB, TB, powers of 1000). A
// negative size or one beyond 2^63-1 bytes is an error naming its key.
type ByteSize = yamlconf.Size

// ParseByteSize parses "64MiB", "512KB" or "1048576".
func ParseByteSize(s string) (ByteSize, error) { return yamlconf.ParseSize(s) }
