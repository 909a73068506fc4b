package kafka

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/flowmask/flowmask/internal/yamlconf"
	"github.com/flowmask/flowmask/redactor"
	"github.com/flowmask/flowmask/redactor/secrets"
)

// Defaults of the settings a Config leaves zero.
const (
	DefaultMaxRecord      = 1 << 20
	DefaultSessionTimeout = 45 * time.Second
	DefaultDrainTimeout   = 30 * time.Second
	DefaultAdmin          = "127.0.0.1:9464"
	DefaultMaxPoll        = 500
	// MaxMaxRecord is the largest MaxRecord: the producer's batch limit,
	// a quarter more than it, is a 32-bit number.
	MaxMaxRecord = 1 << 30
)

// Config is the wire form of a pipeline: the `kafka:` section of a config
// file, or the flags of `flowmask kafka`.
type Config struct {
	// Brokers are the seed brokers, HOST:PORT. Azure Event Hubs:
	// NAMESPACE.servicebus.windows.net:9093.
	Brokers []string `yaml:"brokers"`
	// In is the topic read, Out the topic written. They must differ.
	In  string `yaml:"in"`
	Out string `yaml:"out"`
	// Group is the consumer group ID; instances with the same group share
	// the input partitions.
	Group string `yaml:"group"`
	// DeadLetter is the topic for records that cannot be redacted safely.
	// Empty: such a record stops the pipeline with an error naming it.
	DeadLetter string `yaml:"dead_letter"`
	// Format of record values: auto (JSON if the value parses as JSON,
	// else text), json, ndjson, text, csv or form.
	Format string `yaml:"format"`
	// MaxRecord is the largest record value (or key) redacted; a larger one
	// is dead-lettered. A size: 1048576, 512KiB, 2MiB. Default 1 MiB, at
	// most MaxMaxRecord.
	MaxRecord yamlconf.Size `yaml:"max_record"`
	// ExactlyOnce turns on Kafka transactions: output records and input
	// offsets commit together, input is read read_committed.
	ExactlyOnce bool `yaml:"exactly_once"`
	// TransactionalID of this instance with ExactlyOnce; default
	// "flowmask-GROUP-HOSTNAME-PID". Each instance needs its own.
	TransactionalID string `yaml:"transactional_id"`
	// SessionTimeout is how long the group waits for a silent member before
	// giving its partitions to the others. Default 45s.
	SessionTimeout time.Duration `yaml:"session_timeout"`
	// DrainTimeout bounds the shutdown: finish the batch in hand, commit,
	// leave the group. Default 30s.
	DrainTimeout time.Duration `yaml:"drain_timeout"`
	// Admin is the address of /healthz, /readyz and /metrics, or "off".
	Admin string `yaml:"admin"`
	SASL  SASL   `yaml:"sasl"`
	TLS   TLS    `yaml:"tls"`
}

// SASL authenticates to the brokers. The password is read from a file or
// an environment variable, never given as a value, so it is not in ps or in
// a config file.
type SASL struct {
	// Mechanism: plain, scram-sha-256, scram-sha-512 or oauth (Entra ID
	// through azidentity's DefaultAzureCredential, for Event Hubs). Empty:
	// no SASL.
	Mechanism string `yaml:"mechanism"`
	// Username; for Event Hubs with a connection string, "$ConnectionString".
	Username string `yaml:"username"`
	// PasswordFile or PasswordEnv hold the password (for Event Hubs, the
	// connection string).
	PasswordFile string `yaml:"password_file"`
	PasswordEnv  string `yaml:"password_env"`
	// Scope of the OAuth token; default https://BROKER-HOST/.default.
	Scope string `yaml:"scope"`
}

// TLS to the brokers. On by default when SASL is set.
type TLS struct {
	// Enabled turns TLS on; nil means "on when SASL is set".
	Enabled *bool `yaml:"enabled"`
	// CA is a PEM file of CA certificates to trust instead of the system's.
	CA string `yaml:"ca"`
	// ServerName overrides the name checked in the broker's certificate.
	ServerName string `yaml:"server_name"`
}

// UseTLS reports whether connections use TLS.
func (c *Config) UseTLS() bool {
	if c.TLS.Enabled != nil {
		return *c.TLS.Enabled
	}
	return c.SASL.Mechanism != ""
}

// SetDefaults fills the zero settings.
func (c *Config) SetDefaults() {
	if c.Format == "" {
		c.Format = "auto"
	}
	if c.MaxRecord == 0 {
		c.MaxRecord = DefaultMaxRecord
	}
	if c.SessionTimeout == 0 {
		c.SessionTimeout = DefaultSessionTimeout
	}
	if c.DrainTimeout == 0 {
		c.DrainTimeout = DefaultDrainTimeout
	}
	if c.Admin == "" {
		c.Admin = DefaultAdmin
	}
	if c.ExactlyOnce && c.TransactionalID == "" {
		host, _ := os.Hostname()
		c.TransactionalID = fmt.Sprintf("flowmask-%s-%s-%d", c.Group, host, os.Getpid())
	}
}

// Validate reports every problem, each naming its field, in field order.
func (c *Config) Validate() error {
	var errs []error
	bad := func(field, format string, a ...any) {
		errs = append(errs, yamlconf.Errorf("kafka."+field, format, a...))
	}
	if len(c.Brokers) == 0 {
		bad("brokers", "at least one HOST:PORT is required")
	}
	for i, b := range c.Brokers {
		if h, p, ok := strings.Cut(b, ":"); !ok || h == "" || p == "" {
			bad(fmt.Sprintf("brokers[%d]", i), "%q is not HOST:PORT", b)
		}
	}
	if c.In == "" {
		bad("in", "the input topic is required")
	}
	if c.Out == "" {
		bad("out", "the output topic is required")
	}
	if c.In != "" && c.In == c.Out {
		bad("out", "must differ from in (%q): a pipeline would read its own output", c.In)
	}
	if c.DeadLetter != "" && (c.DeadLetter == c.In || c.DeadLetter == c.Out) {
		bad("dead_letter", "must differ from in and out")
	}
	if c.Group == "" {
		bad("group", "the consumer group ID is required")
	}
	if _, err := redactor.ParseFormat(c.Format); err != nil {
		bad("format", "%v", err)
	}
	if c.MaxRecord < 0 || c.MaxRecord > MaxMaxRecord {
		bad("max_record", "%d bytes is out of range 0..1GiB", int64(c.MaxRecord))
	}
	if c.SessionTimeout < 0 {
		bad("session_timeout", "must not be negative")
	}
	if c.DrainTimeout < 0 {
		bad("drain_timeout", "must not be negative")
	}
	switch c.SASL.Mechanism {
	case "":
		if c.SASL.Username != "" || c.SASL.PasswordFile != "" || c.SASL.PasswordEnv != "" {
			bad("sasl.mechanism", "required when a username or password is set")
		}
	case "plain", "scram-sha-256", "scram-sha-512":
		if c.SASL.Username == "" {
			bad("sasl.username", "required for %s", c.SASL.Mechanism)
		}
		if (c.SASL.PasswordFile == "") == (c.SASL.PasswordEnv == "") {
			bad("sasl.password_file", "set exactly one of password_file and password_env")
		}
	case "oauth":
	default:
		bad("sasl.mechanism", "%q is not plain, scram-sha-256, scram-sha-512 or oauth", c.SASL.Mechanism)
	}
	return errors.Join(errs...)
}

// FieldError is a problem with one setting. Its Path is the key path from
// the top of the config file ("kafka.sasl.username"); the loader adds the
// file and line.
type FieldError = yamlconf.Error

// password returns the SASL password from its file or environment variable.
func (s *SASL) password() (string, error) {
	if s.PasswordEnv != "" {
		v, ok := os.LookupEnv(s.PasswordEnv)
		if !ok || v == "" {
			return "", fmt.Errorf("kafka.sasl.password_env: environment variable %s is not set", s.PasswordEnv)
		}
		return v, nil
	}
	b, err := os.ReadFile(s.PasswordFile)
	if err != nil {
		return "", fmt.Errorf("kafka.sasl.password_file: %w", err)
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}

// FileConfig is what `flowmask kafka --config FILE` reads from a config
// file: the kafka: section and the known-secret sources (secrets:). Other
// sections (the proxy's routes, forward:) may stand in the same file.
type FileConfig struct {
	Kafka   Config
	Secrets secrets.Config
}

// LoadConfig reads the kafka: and secrets: sections of a YAML file. Unknown
// keys inside them, type errors and invalid settings are errors naming the
// file, line and field, all of them, sorted by line.
func LoadConfig(name string) (*FileConfig, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("kafka config: %w", err)
	}
	return ParseConfig(name, data)
}

// ParseConfig is LoadConfig of data read from the file name.
func ParseConfig(name string, data []byte) (*FileConfig, error) {
	return yamlconf.Load(name, data, DecodeConfig)
}

// DecodeConfig decodes the kafka: and secrets: sections of a parsed config
// file, fills the defaults and validates them, returning every problem; the
// config is only usable when there are none.
func DecodeConfig(doc *yamlconf.Doc) (*FileConfig, yamlconf.Errors) {
	if !doc.Has("kafka") {
		return nil, yamlconf.Errors{doc.Errorf("", "no kafka: section")}
	}
	cfg := &FileConfig{}
	errs := doc.DecodeSection("kafka", &cfg.Kafka)
	errs = append(errs, doc.DecodeSection("secrets", &cfg.Secrets)...)
	cfg.Kafka.SetDefaults()
	valid := doc.Place(cfg.Kafka.Validate())
	valid = append(valid, doc.Place(yamlconf.Prefix("secrets", cfg.Secrets.Validate()))...)
	return cfg, yamlconf.Merge(errs, valid)
}
