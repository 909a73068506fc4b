package kafka_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowmask/flowmask/kafka"
)

func writeFile(t *testing.T, body string) string {
	t.Helper()
	name := filepath.Join(t.TempDir(), "flowmask.yaml")
	if err := os.WriteFile(name, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return name
}

func TestLoadConfig(t *testing.T) {
	name := writeFile(t, `listen: 127.0.0.1:8080   # the proxy's settings may share the file
routes: []
kafka:
  brokers: [ns.servicebus.windows.net:9093]
  in: diagnostics
  out: diagnostics-clean
  group: flowmask
  dead_letter: diagnostics-dlq
  exactly_once: true
  sasl:
    mechanism: plain
    username: $ConnectionString
    password_env: EVENTHUB_CONNECTION_STRING
secrets:
  env: [DB_PASSWORD]
`)
	cfg, err := kafka.LoadConfig(name)
	if err != nil {
		t.Fatal(err)
	}
	k := cfg.Kafka
	if k.In != "diagnostics" || k.DeadLetter != "diagnostics-dlq" || !k.ExactlyOnce || k.TransactionalID == "" || !k.UseTLS() ||
		k.MaxRecord != kafka.DefaultMaxRecord || len(cfg.Secrets.Env) != 1 {
		t.Fatalf("loaded %+v", cfg)
	}
}

func TestLoadConfigErrorsNameFileLineField(t *testing.T) {
	name := writeFile(t, `kafka:
  brokers: [localhost]
  in: logs
  out: logs
  format: xml
  sasl:
    mechanism: plain
`)
	_, err := kafka.LoadConfig(name)
	if err == nil {
		t.Fatal("no error")
	}
	// Sorted by line; a missing key is reported at its parent's line.
	want := []string{
		name + ":1: kafka.group: the consumer group ID is required",
		name + ":2: kafka.brokers[0]: ",
		name + ":4: kafka.out: must differ from in",
		name + ":5: kafka.format: ",
		name + ":6: kafka.sasl.username: required for plain",
		name + ":6: kafka.sasl.password_file: set exactly one",
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != len(want) {
		t.Fatalf("got %d errors, want %d:\n%v", len(lines), len(want), err)
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("error %d = %q; want prefix %q", i, lines[i], w)
		}
	}
	// The same file gives the same message every time.
	for range 5 {
		if _, again := kafka.LoadConfig(name); again.Error() != err.Error() {
			t.Fatalf("errors changed order:\n%v\n---\n%v", err, again)
		}
	}
}

func TestLoadConfigUnknownKey(t *testing.T) {
	name := writeFile(t, "kafka:\n  brokers: [a:1]\n  topic: x\n")
	_, err := kafka.LoadConfig(name)
	if err == nil || !strings.Contains(err.Error(), name+":3: kafka.topic: unknown key") {
		t.Fatalf("err = %v", err)
	}
}

// TestLoadConfigCollectsEveryProblem: unknown keys, values of the wrong
// type, duplicate keys and invalid settings are reported together, each
// with file, line and key path, in line order (the old loader stopped at the
// first unknown key, gave type errors without the key, took the last of two
// duplicate keys and sorted the secrets: section's errors last).
func TestLoadConfigCollectsEveryProblem(t *testing.T) {
	name := writeFile(t, `secrets:
  keyvaults:
    - url: http://kv.example
kafka:
  brokers: [a:1]
  in: logs
  out: clean
  group: g
  max_record: lots
  sasl:
    mechanism: plain
    usernme: x
  in: other
`)
	_, err := kafka.LoadConfig(name)
	if err == nil {
		t.Fatal("no error")
	}
	want := []string{
		name + ":3: secrets.keyvaults[0].url: must be an https URL",
		name + ":9: kafka.max_record: want a size such as 1048576, 512KiB or 64MiB",
		name + ":10: kafka.sasl.username: required for plain",
		name + ":10: kafka.sasl.password_file: set exactly one",
		name + `:12: kafka.sasl.usernme: unknown key (did you mean "username"?)`,
		name + ":13: kafka.in: duplicate key (first at line 6)",
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != len(want) {
		t.Fatalf("got %d errors, want %d:\n%v", len(lines), len(want), err)
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("error %d = %q; want prefix %q", i, lines[i], w)
		}
	}
}

// TestLoadConfigMaxRecordSize: max_record is a size with units; one past
// what the producer's 32-bit batch limit can hold, or one that overflows,
// is an error at its line (the limit used to wrap around: 2GiB made it
// negative, 4GiB made it 1GiB).
func TestLoadConfigMaxRecordSize(t *testing.T) {
	base := "kafka:\n  brokers: [a:1]\n  in: i\n  out: o\n  group: g\n  max_record: "
	cfg, err := kafka.ParseConfig("k.yaml", []byte(base+"2MiB\n"))
	if err != nil || cfg.Kafka.MaxRecord != 2<<20 {
		t.Fatalf("2MiB: %v %v", cfg, err)
	}
	for v, want := range map[string]string{
		"4GiB":           "k.yaml:6: kafka.max_record: 4294967296 bytes is out of range 0..1GiB",
		"4294967296":     "k.yaml:6: kafka.max_record: 4294967296 bytes is out of range 0..1GiB",
		"20000000000GiB": "k.yaml:6: kafka.max_record: size too large",
		"-1":             "k.yaml:6: kafka.max_record: a size must not be negative",
	} {
		if _, err := kafka.ParseConfig("k.yaml", []byte(base+v+"\n")); err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%s: %v; want %q", v, err, want)
		}
	}
}
