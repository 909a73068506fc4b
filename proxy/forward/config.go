package forward

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/flowmask/flowmask/internal/yamlconf"
	"github.com/flowmask/flowmask/proxy"
	"github.com/flowmask/flowmask/proxy/sink"
)

// ForwardConfig is the `forward:` section of a flowmask config file, the
// configuration of `flowmask forward`. It is the wire form only:
// [NewForward] compiles it. Start from [DefaultForwardConfig]. Destinations
// are "host:port" strings, matched exactly (case-insensitive host).
type ForwardConfig struct {
	// Listen is the proxy's address (what HTTP_PROXY/HTTPS_PROXY point at).
	// Any address other than loopback requires AuthFile. Default
	// 127.0.0.1:3128.
	Listen string `yaml:"listen"`
	// Admin is the address of /healthz, /readyz and /metrics; "off" (the
	// default) disables it.
	Admin string `yaml:"admin"`
	// CADir holds ca.crt and ca.key (made by `flowmask ca init`), the CA
	// that signs the certificates of intercepted hosts. Required when
	// Intercept is not empty.
	CADir string `yaml:"ca_dir"`
	// Intercept lists the HTTPS hosts whose CONNECT tunnels are terminated
	// with a certificate of CADir, inspected and re-originated with
	// verification. Other CONNECT tunnels pass blind and are recorded as
	// tunnels (host, bytes, duration). Intercepting does not allow a host.
	Intercept []string `yaml:"intercept"`
	// Allow, when not empty, is the only set of destinations served; empty
	// allows every public address. Loopback, private, link-local,
	// unspecified and platform (metadata) addresses are refused after DNS,
	// for every name including those listed here, unless AllowNetworks
	// holds the address or this list names that IP literal and port.
	Allow []string `yaml:"allow"`
	// AllowWebSocket lists inspected hosts on which a WebSocket upgrade is
	// let through; its frames are not redacted. Elsewhere on inspected
	// hosts an upgrade is refused with 403.
	AllowWebSocket []string `yaml:"allow_websocket"`
	// RedactResponses lists hosts whose response bodies are redacted before
	// they reach the client. An HTTPS host must also be in Intercept.
	RedactResponses []string `yaml:"redact_responses"`
	// RedactRequests lists hosts whose request bodies are redacted before
	// they reach the destination. An HTTPS host must also be in Intercept.
	RedactRequests []string `yaml:"redact_requests"`
	// Audit is where run-history records go: "stderr" (default), "stdout",
	// "off", a file path (appended to, mode 0600, reopened on SIGHUP) or an
	// http(s) URL that gets batches at least once a second, framed as
	// AuditProfile says.
	Audit string `yaml:"audit"`
	// AuditProfile frames the batches posted to an http(s) Audit URL for a
	// log sink: generic (default: NDJSON, no credentials), splunk-hec,
	// elastic-bulk, azure-logs-ingestion, loki-json or
	// azure-data-collector. Any other value than generic needs a URL.
	AuditProfile string `yaml:"audit_profile"`
	// AuditTokenFile and AuditTokenEnv hold the sink's token (never the
	// config itself): the Splunk HEC token (required for splunk-hec), an
	// Elasticsearch API key, a bearer token for Loki or the Logs Ingestion
	// API. Without one, azure-logs-ingestion gets tokens from the default
	// Azure credential chain. The value is always masked as a known secret.
	AuditTokenFile string `yaml:"audit_token_file"`
	AuditTokenEnv  string `yaml:"audit_token_env"`
	// AuditWorkspaceID is the Log Analytics workspace ID (azure-data-collector).
	AuditWorkspaceID string `yaml:"audit_workspace_id"`
	// AuditWorkspaceKeyFile and AuditWorkspaceKeyEnv hold the workspace's
	// shared key (base64), with which azure-data-collector signs each post.
	// One is required for that profile; the key is always masked.
	AuditWorkspaceKeyFile string `yaml:"audit_workspace_key_file"`
	AuditWorkspaceKeyEnv  string `yaml:"audit_workspace_key_env"`
	// AuditLogType is the Log-Type of azure-data-collector posts (the table
	// is <AuditLogType>_CL): letters, digits and _, at most 100. Default
	// FlowmaskForward.
	AuditLogType string `yaml:"audit_log_type"`
	// AuthFile holds the proxy credentials, one per line: "user:<bcrypt
	// hash>" for Basic, anything else a bearer token. Lines starting with #
	// are comments. Required unless Listen is a loopback address.
	AuthFile string `yaml:"auth_file"`
	// UpstreamCA is a PEM file of extra CAs trusted for destinations, on top
	// of the system roots (which honour SSL_CERT_FILE).
	UpstreamCA string `yaml:"upstream_ca"`
	// RecordBodyLimit truncates the redacted bodies kept in a record.
	// Default 64KiB; 0 in YAML means the default.
	RecordBodyLimit yamlconf.Size `yaml:"record_body_limit"`
	// MaxBodyBytes caps a body that must be redacted: a request body is
	// held whole (up to this size, decoded) before it is forwarded, a
	// response body is cut off (and the response aborted) beyond it.
	// Beyond: 413. Default 64MiB.
	MaxBodyBytes yamlconf.Size `yaml:"max_body_bytes"`
	// MaxInflightDecoded caps the decoded body bytes all exchanges hold
	// in memory together (redact-requests holds whole bodies); beyond it
	// bodies get 503. Default 512MiB.
	MaxInflightDecoded yamlconf.Size `yaml:"max_inflight_decoded_bytes"`
	// MaxConcurrentBodies caps bodies decoded and scanned at once; beyond
	// it a body that must be redacted gets 503 and one only recorded is
	// recorded as omitted. Default 256.
	MaxConcurrentBodies int `yaml:"max_concurrent_bodies"`
	// UpstreamTimeout is how long to wait for a destination's response
	// headers; then 504. Default 60s.
	UpstreamTimeout time.Duration `yaml:"upstream_timeout"`
	// LogLevel is the level of the proxy's own logs: debug, info, warn or
	// error. Default info.
	LogLevel string `yaml:"log_level"`

	// AllowNetworks lists address prefixes (CIDR, or a bare IP) that
	// destinations may resolve to although they are loopback, private,
	// link-local, metadata or otherwise special. Every resolved address of
	// every destination is checked, allow-listed names included: a name in
	// Allow does not let it resolve to such an address; an IP literal
	// host:port in Allow does permit that address on that port.
	AllowNetworks []string `yaml:"allow_networks"`
	// MaxHeaderBytes caps the header of every request the proxy reads, on
	// its listener and inside intercepted tunnels. Beyond it the client gets
	// 431 and the connection is closed; nothing of the header is recorded.
	// Default 64KiB (as flowmask proxy).
	MaxHeaderBytes yamlconf.Size `yaml:"max_header_bytes"`
	// ReadHeaderTimeout is how long a client may take to send a request's
	// headers, and inside a CONNECT tunnel the TLS handshake. Default 10s.
	ReadHeaderTimeout time.Duration `yaml:"read_header_timeout"`
	// ReadTimeout is how long a client may take to send one whole request,
	// body included. Default 5m.
	ReadTimeout time.Duration `yaml:"read_timeout"`
	// IdleTimeout closes a keep-alive connection, or an intercepted tunnel,
	// that waits this long for its next request. Default 120s.
	IdleTimeout time.Duration `yaml:"idle_timeout"`
	// ExchangeTimeout bounds one exchange, from its request header to the
	// last byte of its response; then the exchange is aborted. Default 10m.
	ExchangeTimeout time.Duration `yaml:"exchange_timeout"`
	// ConnectionTimeout bounds the whole life of an intercepted CONNECT
	// tunnel, however busy; then it is closed. Default 1h.
	ConnectionTimeout time.Duration `yaml:"connection_timeout"`
	// MaxConcurrentExchanges caps the exchanges in flight at once (plain
	// HTTP and inside intercepted tunnels). Default 512.
	MaxConcurrentExchanges int `yaml:"max_concurrent_exchanges"`
	// QueueTimeout is how long an exchange waits for one of those slots;
	// then the client gets 503. Default 5s.
	QueueTimeout time.Duration `yaml:"queue_timeout"`
}

// Forward proxy defaults.
const (
	DefaultForwardListen          = "127.0.0.1:3128"
	DefaultRecordBodyLimit        = 64 << 10
	DefaultForwardMaxHeaderBytes  = 64 << 10
	DefaultForwardReadHeader      = 10 * time.Second
	DefaultForwardReadTimeout     = 5 * time.Minute
	DefaultForwardIdleTimeout     = 120 * time.Second
	DefaultExchangeTimeout        = 10 * time.Minute
	DefaultConnectionTimeout      = time.Hour
	DefaultMaxConcurrentExchanges = 512
	DefaultQueueTimeout           = 5 * time.Second
)

// DefaultForwardConfig returns the defaults: listen on 127.0.0.1:3128, no
// admin listener, audit to stderr, record mode for every host, no
// interception.
func DefaultForwardConfig() *ForwardConfig {
	return &ForwardConfig{
		Listen:          DefaultForwardListen,
		Admin:           "off",
		Audit:           "stderr",
		AuditProfile:    sink.Generic,
		AuditLogType:    DefaultAuditLogType,
		RecordBodyLimit: DefaultRecordBodyLimit,
		MaxBodyBytes:    proxy.DefaultMaxBodyBytes,
		UpstreamTimeout: proxy.DefaultUpstreamTimeout,
		LogLevel:        "info",

		MaxHeaderBytes:         DefaultForwardMaxHeaderBytes,
		ReadHeaderTimeout:      DefaultForwardReadHeader,
		ReadTimeout:            DefaultForwardReadTimeout,
		IdleTimeout:            DefaultForwardIdleTimeout,
		ExchangeTimeout:        DefaultExchangeTimeout,
		ConnectionTimeout:      DefaultConnectionTimeout,
		MaxConcurrentExchanges: DefaultMaxConcurrentExchanges,
		QueueTimeout:           DefaultQueueTimeout,
	}
}

// SetDefaults fills zero fields with their defaults.
func (c *ForwardConfig) SetDefaults() {
	d := DefaultForwardConfig()
	if c.Listen == "" {
		c.Listen = d.Listen
	}
	if c.Admin == "" {
		c.Admin = d.Admin
	}
	if c.Audit == "" {
		c.Audit = d.Audit
	}
	if c.AuditProfile == "" {
		c.AuditProfile = d.AuditProfile
	}
	if c.AuditLogType == "" {
		c.AuditLogType = d.AuditLogType
	}
	setDefault(&c.RecordBodyLimit, d.RecordBodyLimit)
	setDefault(&c.MaxBodyBytes, d.MaxBodyBytes)
	if c.UpstreamTimeout == 0 {
		c.UpstreamTimeout = d.UpstreamTimeout
	}
	if c.LogLevel == "" {
		c.LogLevel = d.LogLevel
	}
	setDefault(&c.MaxHeaderBytes, d.MaxHeaderBytes)
	for _, t := range []struct{ v, d *time.Duration }{
		{&c.ReadHeaderTimeout, &d.ReadHeaderTimeout}, {&c.ReadTimeout, &d.ReadTimeout},
		{&c.IdleTimeout, &d.IdleTimeout}, {&c.ExchangeTimeout, &d.ExchangeTimeout},
		{&c.ConnectionTimeout, &d.ConnectionTimeout}, {&c.QueueTimeout, &d.QueueTimeout},
	} {
		if *t.v == 0 {
			*t.v = *t.d
		}
	}
	if c.MaxConcurrentExchanges == 0 {
		c.MaxConcurrentExchanges = d.MaxConcurrentExchanges
	}
}

// Validate checks c quickly and without side effects (files are read in
// [NewForward]), returning every problem joined, each a *FieldError whose
// path starts with "forward.".
func (c *ForwardConfig) Validate() error {
	var errs []error
	if err := checkAddr(c.Listen); err != nil {
		errs = append(errs, ferr("forward.listen", "%v", err))
	} else if !loopbackListen(c.Listen) && c.AuthFile == "" {
		errs = append(errs, ferr("forward.listen", "%s is not a loopback address, so auth_file is required: flowmask is not an open proxy", c.Listen))
	}
	if c.Admin != "off" {
		if err := checkAddr(c.Admin); err != nil {
			errs = append(errs, ferr("forward.admin", "%v", err))
		}
	}
	lists := []struct {
		key  string
		list []string
	}{
		{"intercept", c.Intercept}, {"allow", c.Allow}, {"allow_websocket", c.AllowWebSocket},
		{"redact_responses", c.RedactResponses}, {"redact_requests", c.RedactRequests},
	}
	for _, l := range lists {
		for i, hp := range l.list {
			if _, err := normHostPort(hp); err != nil {
				errs = append(errs, ferr(fmt.Sprintf("forward.%s[%d]", l.key, i), "%v", err))
			}
		}
	}
	if len(c.Intercept) > 0 && c.CADir == "" {
		errs = append(errs, ferr("forward.ca_dir", "required to intercept hosts (create one with `flowmask ca init --out DIR`)"))
	}
	intercepted := hostSet(c.Intercept)
	for _, l := range lists[3:] {
		for i, hp := range l.list {
			n, err := normHostPort(hp)
			if err == nil && strings.HasSuffix(n, ":443") && !intercepted[n] {
				errs = append(errs, ferr(fmt.Sprintf("forward.%s[%d]", l.key, i), "%s is HTTPS but not in intercept: its bodies could not be redacted", n))
			}
		}
	}
	switch {
	case c.Audit == "":
		errs = append(errs, ferr("forward.audit", "empty (want stderr, stdout, off, a file path or an http(s) URL)"))
	case isAuditURL(c.Audit):
		if u, err := url.Parse(c.Audit); err != nil || u.Host == "" {
			errs = append(errs, ferr("forward.audit", "not a valid URL"))
		}
	}
	errs = append(errs, c.validateAuditSink()...)
	if c.RecordBodyLimit < 0 {
		errs = append(errs, ferr("forward.record_body_limit", "must not be negative"))
	}
	if c.MaxBodyBytes <= 0 {
		errs = append(errs, ferr("forward.max_body_bytes", "must be positive"))
	}
	if c.UpstreamTimeout < 0 {
		errs = append(errs, ferr("forward.upstream_timeout", "must not be negative"))
	}
	for i, n := range c.AllowNetworks {
		if _, err := parseNetwork(n); err != nil {
			errs = append(errs, ferr(fmt.Sprintf("forward.allow_networks[%d]", i), "%v", err))
		}
	}
	if c.MaxHeaderBytes < 0 || c.MaxHeaderBytes > 1<<30 {
		errs = append(errs, ferr("forward.max_header_bytes", "must be between 0 (the default) and 1GiB"))
	}
	// In key order, so the same file gives the same message.
	for _, t := range []struct {
		key string
		d   time.Duration
	}{
		{"connection_timeout", c.ConnectionTimeout}, {"exchange_timeout", c.ExchangeTimeout},
		{"idle_timeout", c.IdleTimeout}, {"queue_timeout", c.QueueTimeout},
		{"read_header_timeout", c.ReadHeaderTimeout}, {"read_timeout", c.ReadTimeout},
	} {
		if t.d < 0 {
			errs = append(errs, ferr("forward."+t.key, "must not be negative"))
		}
	}
	if c.MaxConcurrentExchanges < 0 {
		errs = append(errs, ferr("forward.max_concurrent_exchanges", "must not be negative"))
	}
	switch strings.ToLower(c.LogLevel) {
	case "", "debug", "info", "warn", "error":
	default:
		errs = append(errs, ferr("forward.log_level", "unknown level %q (want debug, info, warn or error)", c.LogLevel))
	}
	return errors.Join(errs...)
}

// LoadForwardConfig reads the top-level `forward:` section of a flowmask
// config file over [DefaultForwardConfig] and validates it; other top-level
// keys belong to other commands and are ignored. Unknown keys inside
// forward: are errors. Every error names the file and line:
// "flowmask.yaml:7: forward.intercept[1]: want host:port".
func LoadForwardConfig(name string) (*ForwardConfig, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return ParseForwardConfig(name, data)
}

// ParseForwardConfig is LoadForwardConfig on data already read; name is
// used in errors.
func ParseForwardConfig(name string, data []byte) (*ForwardConfig, error) {
	return yamlconf.Load(name, data, func(doc *yamlconf.Doc) (*ForwardConfig, yamlconf.Errors) {
		if !doc.Has("forward") {
			return nil, yamlconf.Errors{doc.Errorf("", "no forward: section")}
		}
		return DecodeForwardSection(doc)
	})
}

// DecodeForwardSection decodes the forward: section of doc over
// [DefaultForwardConfig] (an empty section keeps the defaults), fills the
// defaults and validates it. It returns every problem, each with file, line
// and key path; the config is only usable when there are none.
func DecodeForwardSection(doc *yamlconf.Doc) (*ForwardConfig, yamlconf.Errors) {
	cfg := DefaultForwardConfig()
	errs := doc.DecodeSection("forward", cfg)
	cfg.SetDefaults()
	return cfg, yamlconf.Merge(errs, doc.Place(cfg.Validate()))
}

// loopbackListen reports whether a listen address only accepts local
// connections.
func loopbackListen(addr string) bool {
	h, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// ferr is a problem at a key path; the loader adds the file and the line.
func ferr(path, format string, args ...any) error {
	return yamlconf.Errorf(path, format, args...)
}

func setDefault(b *yamlconf.Size, d yamlconf.Size) {
	if *b == 0 {
		*b = d
	}
}

// checkAddr checks a listen address (host:port).
func checkAddr(a string) error {
	if a == "" {
		return errors.New("empty address")
	}
	if _, _, err := net.SplitHostPort(a); err != nil {
		return fmt.Errorf("want host:port: %v", strings.TrimPrefix(err.Error(), "address "+a+": "))
	}
	return nil
}
