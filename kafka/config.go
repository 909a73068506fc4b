package kafka

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/flowmask/flowmask/redactor"
	"github.com/flowmask/flowmask/redactor/secrets"
	"go.yaml.in/yaml/v3"
)

// Defaults of the settings a Config leaves zero.
const (
	DefaultMaxRecord      = 1 << 20
	DefaultSessionTimeout = 45 * time.Second
	DefaultDrainTimeout   = 30 * time.Second
	DefaultAdmin          = "127.0.0.1:9464"
	DefaultMaxPoll        = 500
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
	// MaxRecord is the largest record value redacted, in bytes; a larger one
	// is dead-lettered. Default 1 MiB.
	MaxRecord int `yaml:"max_record"`
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
		errs = append(errs, &FieldError{Field: field, Msg: fmt.Sprintf(format, a...)})
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
	if c.MaxRecord < 0 {
		bad("max_record", "must not be negative")
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

// FieldError is a problem with one setting. Its Field is the path below
// the kafka: section ("sasl.username"); Line, when known, is the line of the
// config file.
type FieldError struct {
	File  string
	Line  int
	Field string
	Msg   string
}

func (e *FieldError) Error() string {
	switch {
	case e.File != "" && e.Line > 0:
		return fmt.Sprintf("%s:%d: kafka.%s: %s", e.File, e.Line, e.Field, e.Msg)
	case e.File != "":
		return fmt.Sprintf("%s: kafka.%s: %s", e.File, e.Field, e.Msg)
	}
	return fmt.Sprintf("kafka.%s: %s", e.Field, e.Msg)
}

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
	var doc struct {
		Kafka   *Config        `yaml:"kafka"`
		Secrets secrets.Config `yaml:"secrets"`
		Other   map[string]any `yaml:",inline"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&doc); err != nil && !errors.Is(err, io.EOF) {
		var te *yaml.TypeError
		if errors.As(err, &te) {
			errs := make([]error, len(te.Errors))
			for i, e := range te.Errors {
				// "line 3: field topic not found in type kafka.Config"
				if l, msg, ok := strings.Cut(strings.TrimPrefix(e, "line "), ": "); ok {
					e = l + ": " + msg
				}
				errs[i] = fmt.Errorf("%s:%s", name, e)
			}
			return nil, errors.Join(errs...)
		}
		return nil, fmt.Errorf("%s: %s", name, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if doc.Kafka == nil {
		return nil, fmt.Errorf("%s: no kafka: section", name)
	}
	var root yaml.Node
	_ = yaml.Unmarshal(data, &root) // decoded above; only for line numbers
	cfg := &FileConfig{Kafka: *doc.Kafka, Secrets: doc.Secrets}
	cfg.Kafka.SetDefaults()
	var errs []error
	if err := cfg.Kafka.Validate(); err != nil {
		for _, e := range unjoin(err) {
			var fe *FieldError
			if errors.As(e, &fe) {
				fe.File, fe.Line = name, lineOf(&root, "kafka."+fe.Field)
			}
			errs = append(errs, e)
		}
	}
	if err := cfg.Secrets.Validate(); err != nil {
		for _, e := range unjoin(err) {
			errs = append(errs, fmt.Errorf("%s: secrets.%w", name, e))
		}
	}
	slices.SortStableFunc(errs, func(a, b error) int { return lineOfErr(a) - lineOfErr(b) })
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return cfg, nil
}

func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

func lineOfErr(err error) int {
	var fe *FieldError
	if errors.As(err, &fe) && fe.Line > 0 {
		return fe.Line
	}
	return 1 << 30
}

// lineOf finds the line of a dotted key path ("kafka.sasl.username",
// "kafka.brokers[1]") in a parsed document; for a key that is absent, the
// line of its nearest present parent.
func lineOf(root *yaml.Node, path string) int {
	n := root
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	line := 0
	for _, part := range strings.Split(path, ".") {
		key, idx := part, -1
		if i := strings.IndexByte(part, '['); i > 0 {
			key = part[:i]
			fmt.Sscanf(part[i:], "[%d]", &idx) //nolint:errcheck // malformed index: stay at the key
		}
		if n.Kind != yaml.MappingNode {
			return line
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == key {
				line, next = n.Content[i].Line, n.Content[i+1]
				break
			}
		}
		if next == nil {
			return line
		}
		n = next
		if idx >= 0 && n.Kind == yaml.SequenceNode && idx < len(n.Content) {
			n = n.Content[idx]
			line = n.Line
		}
	}
	return line
}
